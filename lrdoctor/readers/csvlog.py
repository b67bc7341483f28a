"""CSV training logs -> Run: Lightning metrics.csv, Keras CSVLogger, generic wide CSV,
long CSV (tag,step,value) and TensorBoard's "Download CSV" export (Wall time,Step,Value).

Parsing the text is csvtable.py's job; this module works out which column is the step,
which is the epoch, which is a clock, and turns every other numeric column into a Series.
"""
from __future__ import annotations

import os
import re

import numpy as np

from ..model import Problem, Run
from .csvtable import Table, parse_table
from .merge import Chunk, merge_tags

STEP_COLUMNS = ("step", "global_step", "iteration", "iter", "steps", "training_iteration", "timesteps_total", "it",
                "time/total_timesteps")  # stable-baselines3 progress.csv
EPOCH_COLUMNS = ("epoch", "epoch#", "epochs")
CLOCK_COLUMNS = ("wall time", "wall_time", "walltime", "timestamp", "time", "created_at")
_TAG_COLUMNS = ("tag", "name", "metric", "key")
NOT_A_LOG = "not a training log: no numeric metric columns"


class NotATrainingLog(Exception):
    """A CSV table that holds no training curve (a manifest, a results table): it forms no run."""


def _find(table: Table, candidates) -> str | None:
    by_lower = {name.lower(): name for name in table.values}
    return next((by_lower[c] for c in candidates if c in by_lower), None)


def classify(path: str, table: Table) -> str:
    """Which CSV dialect this is (Run.format)."""
    lower = [h.lower() for h in table.header]
    numeric = {h.lower() for h in table.values}
    if lower == ["wall time", "step", "value"] and {"step", "value"} <= numeric:
        return "tb_csv_export"
    if {"step", "value"} <= numeric and any(h.lower() in _TAG_COLUMNS for h in table.texts):
        return "long_csv"
    if ("step" in lower and os.path.basename(path) == "metrics.csv") or "created_at" in lower \
            or any(h.startswith("lr-") for h in lower):
        return "lightning_csv"
    # CSVLogger writes ``epoch`` then sorted(logs) - a case-sensitive sort.
    if lower and lower[0] == "epoch" and "step" not in lower and table.header[1:] == sorted(table.header[1:]):
        epochs = table.values.get(table.header[0])
        if epochs is not None and len(epochs) and epochs[0] == 0:
            return "keras_csv"
    return "csv"


_EXACT = 2.0 ** 53  # a float64 holds every whole number up to here, and not all beyond


def _step_problem(values: np.ndarray) -> str | None:
    """Why a column cannot number the points (None when it can: whole numbers a float holds exactly)."""
    if not np.isfinite(values).all() or not np.all(values == np.round(values)):
        return "is not a whole number on every row"
    if len(values) and np.abs(values).max() > _EXACT:
        return "has values beyond 2^53, which cannot be told apart exactly"
    return None


def _fill_epochs(steps: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Lightning's LR rows have no epoch: take it from other rows at the same or nearby steps."""
    known = np.isfinite(epochs)
    if known.all() or not known.any():
        return epochs
    order = np.argsort(steps[known], kind="stable")
    return np.where(known, epochs, np.interp(steps, steps[known][order], epochs[known][order]))


def _index(table: Table, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, set[str]]:
    """(steps per row, epochs per row or None, wall times per row or None,
    columns that are index/clock rather than metrics)."""
    step_col, epoch_col = _find(table, STEP_COLUMNS), _find(table, EPOCH_COLUMNS)
    clock_col = _find(table, CLOCK_COLUMNS)
    used = {c for c in (step_col, epoch_col, clock_col) if c}
    epochs = table.values[epoch_col] if epoch_col else None
    walls = table.values[clock_col] if clock_col else None
    index_col = step_col or epoch_col
    rows = np.arange(table.n_rows, dtype=np.int64)
    why = _step_problem(table.values[index_col]) if index_col and table.present[index_col].all() else "missing"
    if why is None and not step_col and _per_batch_epochs(table.values[index_col]):
        why = "repeats on most rows (several rows per epoch)"
    if index_col and why is None:
        steps = table.values[index_col].astype(np.int64)
    else:
        if index_col:
            why = "is empty on some rows" if why == "missing" else why
            notes.append(f"column {index_col!r} {why}; points numbered by row instead")
        else:
            notes.append("no step/epoch/iteration column; points numbered by row (0, 1, ...)")
        steps = rows
    if epochs is not None:
        epochs = _fill_epochs(steps, epochs)
    return steps, epochs, walls, used


def _per_batch_epochs(epochs: np.ndarray) -> bool:
    """An epoch column that stays the same on most consecutive rows while growing: a per-batch log, whose
    rows would collapse to one point per epoch if the epoch were their step."""
    ties = epochs[1:] == epochs[:-1]
    return len(ties) > 0 and ties.mean() >= 0.5 and bool(np.all(epochs[1:] >= epochs[:-1])) \
        and len(np.unique(epochs)) > 1


def _wide_chunks(table: Table, notes: list[str]) -> dict[str, list[Chunk]]:
    steps, epochs, walls, used = _index(table, notes)
    chunks = {}
    for name, values in table.values.items():
        if name in used:
            continue
        mask = table.present[name]
        if mask.any():
            chunks[name] = [Chunk.from_lists(steps[mask], values[mask],
                                             None if walls is None else walls[mask],
                                             None if epochs is None else epochs[mask])]
    return chunks


def _step_value(table: Table) -> tuple[dict[str, str], np.ndarray, np.ndarray, np.ndarray]:
    """For the step,value dialects: (header name by lower case, steps, values, rows holding both)."""
    lower = {h.lower(): h for h in table.header}
    ok = table.present[lower["step"]] & table.present[lower["value"]]
    return lower, table.values[lower["step"]], table.values[lower["value"]], ok


def _export_chunks(table: Table, path: str) -> dict[str, list[Chunk]]:
    lower, steps, values, ok = _step_value(table)
    walls = table.values.get(lower["wall time"])  # None when the clock is not numeric
    return {_export_tag(path): [Chunk.from_lists(steps[ok], values[ok], None if walls is None else walls[ok])]}


def _long_chunks(table: Table, problems: list[Problem], path: str) -> dict[str, list[Chunk]]:
    lower, steps, values, ok = _step_value(table)
    tag_col = next(lower[t] for t in _TAG_COLUMNS if t in lower and lower[t] in table.texts)
    tags = np.asarray(table.texts[tag_col])
    if (~ok).any():
        first = int(table.lines[np.flatnonzero(~ok)[0]])
        problems.append(Problem(path, f"{int((~ok).sum())} row(s) without a numeric step and value skipped", True, line=first))
    clock = next((lower[c] for c in CLOCK_COLUMNS if c in lower and lower[c] in table.values), None)
    chunks = {}
    for tag in dict.fromkeys(tags[ok].tolist()):
        m = ok & (tags == tag)
        chunks[tag] = [Chunk.from_lists(steps[m], values[m], None if clock is None else table.values[clock][m])]
    return chunks


def _export_tag(path: str) -> str:
    """TensorBoard names exports ``run-<run>-tag-<tag>.csv``; otherwise the file name is the tag."""
    stem = os.path.splitext(os.path.basename(path))[0]
    match = re.search(r"-tag-(.+)$", stem)
    return match.group(1) if match else stem


def _check_is_a_log(table: Table, series: dict, tag_roles) -> None:
    """A generic CSV whose columns are mostly text and none of whose numeric columns is a loss,
    metric or LR (by name, or by the user's --tag overrides) is some other table."""
    if len(table.text_columns) <= len(series):
        return
    from ..tags import assign_roles

    probe = Run(name="", source="", format="csv", series=series)
    assign_roles(probe, tag_roles)
    if not probe.roles:
        raise NotATrainingLog(f"{NOT_A_LOG} ({len(table.text_columns)} of {len(table.header)} columns are text; "
                              f"no loss, accuracy or LR among the rest)")


def read_csv_text(path: str, text: str, name: str, tag_roles=None) -> Run:
    """Raises NotATrainingLog for a CSV that is no training log (see _check_is_a_log)."""
    table = parse_table(path, text)
    problems, notes = list(table.problems), list(table.notes)
    fmt = classify(path, table) if table.header else "csv"
    if fmt == "tb_csv_export":
        chunks = _export_chunks(table, path)
    elif fmt == "long_csv":
        chunks = _long_chunks(table, problems, path)
    elif table.header:
        chunks = _wide_chunks(table, notes)
        if table.text_columns:
            notes.append("non-numeric columns not read: " + ", ".join(table.text_columns))
    else:
        chunks = {}
    series, restarts, merge_notes = merge_tags(chunks)
    if fmt == "csv":
        _check_is_a_log(table, series, tag_roles)
    if table.header and not table.n_rows:
        problems.append(Problem(path, "header but no data rows"))
    return Run(name=name, source=os.path.abspath(path), format=fmt, series=series,
               problems=problems, restarts=restarts, notes=notes + merge_notes)
