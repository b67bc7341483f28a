"""A CSV log holding several trainings one after the other (``CSVLogger(append=True)``, a script
re-run into one file) -> one Run per training; trainings.csv_training_starts says where they begin.

Each part is read by csvlog.read_csv_text from the file's text with the other parts' rows blanked,
so every line number in a message is still the file's.
"""
from __future__ import annotations

import numpy as np

from ..model import Run
from .csvtable import _lines, parse_table
from .trainings import csv_training_starts, label_parts, part_name

_WIDE_FORMATS = ("keras_csv", "lightning_csv", "csv")


def _index_column(table) -> str | None:
    from .csvlog import EPOCH_COLUMNS, STEP_COLUMNS, _find

    col = _find(table, STEP_COLUMNS) or _find(table, EPOCH_COLUMNS)
    if col is None or not table.present[col].all():
        return None
    values = table.values[col]
    # Beyond 2**53 a float step no longer tells consecutive steps apart (csvlog numbers such rows itself).
    exact = np.all(np.isfinite(values)) and np.all(np.abs(values) < 2.0 ** 53)
    return col if exact and np.all(values == np.round(values)) else None


def _starts(table, fmt: str) -> list[tuple[int, str]]:
    from .csvlog import CLOCK_COLUMNS, EPOCH_COLUMNS, STEP_COLUMNS

    col = _index_column(table)
    if col is None or table.n_rows < 2:
        return []
    not_metrics = {c.lower() for c in (*STEP_COLUMNS, *EPOCH_COLUMNS, *CLOCK_COLUMNS)}
    metrics = [c for c in table.values if c.lower() not in not_metrics]
    if not metrics:
        return []
    present = np.column_stack([table.present[c] for c in metrics])
    return csv_training_starts(table.values[col], present, one_row_per_index=fmt == "keras_csv")


def split_csv_run(run: Run, path: str, text: str, tag_roles=None) -> list[Run]:
    """``run`` (read from ``path``, whose ``text`` the caller already read) as it is, or one Run per
    training when the file holds several."""
    from .csvlog import read_csv_text

    if run.format not in _WIDE_FORMATS or not run.series:
        return [run]
    longest = max(len(series) for series in run.series.values())
    if not run.restarts and text.strip().count("\n") <= longest:
        return [run]  # one row per step, never going back: nothing to split (the common case, no second parse)
    table = parse_table(path, text)
    starts = _starts(table, run.format)
    if not starts:
        return [run]
    lines, _ = _lines(text)
    bounds = [0, *(i for i, _ in starts), table.n_rows]
    parts = []
    for k in range(len(bounds) - 1):
        keep = set(table.lines[bounds[k]:bounds[k + 1]].tolist())
        first_row = int(table.lines[0])
        text_k = "".join((line if n < first_row or n in keep else "") + "\n" for n, line in enumerate(lines, 1))
        part = read_csv_text(path, text_k, part_name(run.name, k), tag_roles)
        part.hparams = run.hparams if k == len(bounds) - 2 else {}
        parts.append(part)
    return label_parts(parts, run.name, path, ["", *(why for _, why in starts)], "block of rows")
