"""HuggingFace ``trainer_state.json`` and JSONL logs (one JSON object per line) -> Run.

``log_history`` mixes three kinds of entries that share ``step``: train entries (``loss``,
``learning_rate``, ``grad_norm``), eval entries (``eval_*``) and, when training finished, one
summary entry (``train_loss``, ``train_runtime``, ...).  The summary is a single averaged value,
not a curve, so its numbers are kept under ``summary/<key>`` where no role will pick them.
Python's json writes NaN/Infinity literals, which ``json.loads`` accepts.
"""
from __future__ import annotations

import json
import os

from ..model import Problem, Run
from .merge import Chunk, merge_tags

_SUMMARY_KEYS = ("train_runtime", "total_flos", "train_samples_per_second")
STEP_KEYS = ("step", "global_step", "_step", "iteration", "iter", "trainer/global_step", "epoch")
_STATE_HPARAMS = ("logging_steps", "eval_steps", "save_steps", "max_steps", "num_train_epochs",
                  "train_batch_size", "global_step", "best_metric", "best_model_checkpoint", "trial_params")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _add_entry(points: dict, entry: dict, step: int, prefix: str, skip: tuple[str, ...]) -> None:
    epoch = _number(entry.get("epoch"))
    for key, value in entry.items():
        number = _number(value)
        if key in skip or number is None:
            continue
        points.setdefault(prefix + key, []).append((step, number, epoch))


def _chunks(points: dict) -> dict[str, list[Chunk]]:
    out = {}
    for tag, rows in points.items():
        steps, values, epochs = zip(*rows)
        has_epochs = any(e is not None for e in epochs)
        out[tag] = [Chunk.from_lists(steps, values, None,
                                     [float("nan") if e is None else e for e in epochs] if has_epochs else None)]
    return out


def _salvage_log_history(text: str) -> list[dict]:
    """Entries of a truncated file's log_history, decoded one by one until the damage."""
    start = text.find('"log_history"')
    start = text.find("[", start) + 1 if start >= 0 else 0
    if start <= 0:
        return []
    decoder, entries, pos = json.JSONDecoder(), [], start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            entry, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return entries
        if isinstance(entry, dict):
            entries.append(entry)


def _history_points(history: list, path: str, problems: list[Problem]) -> dict:
    points: dict = {}
    for i, entry in enumerate(history):
        if not isinstance(entry, dict) or _number(entry.get("step")) is None:
            problems.append(Problem(path, f"log_history entry {i} has no numeric 'step'; skipped", partial=True))
            continue
        step = int(entry["step"])
        if any(k in entry for k in _SUMMARY_KEYS):
            _add_entry(points, entry, step, "summary/", ("step", "epoch"))
        else:
            _add_entry(points, entry, step, "", ("step",))
    return points


def read_trainer_state(path: str, text: str, name: str) -> Run:
    problems: list[Problem] = []
    hparams: dict = {}
    try:
        state = json.loads(text)
        history = state.get("log_history", []) if isinstance(state, dict) else []
        if isinstance(state, dict):
            hparams = {k: state[k] for k in _STATE_HPARAMS if k in state}
    except ValueError as exc:
        history = _salvage_log_history(text)
        problems.append(Problem(path, f"invalid JSON ({exc.msg}); {len(history)} complete log_history entries kept",
                                partial=bool(history), line=getattr(exc, "lineno", None)))
    if not isinstance(history, list):
        problems.append(Problem(path, "'log_history' is not a list"))
        history = []
    series, restarts, notes = merge_tags(_chunks(_history_points(history, path, problems)))
    return Run(name=name, source=os.path.abspath(path), format="hf_trainer_state", series=series,
               problems=problems, restarts=restarts, notes=notes, hparams=hparams)


def _jsonl_object(line: str) -> tuple[dict | None, str]:
    try:
        entry = json.loads(line)
    except ValueError as exc:
        return None, exc.msg
    return (entry, "") if isinstance(entry, dict) else (None, f"a JSON {type(entry).__name__}")


def read_jsonl(path: str, text: str, name: str) -> Run:
    """One object per line; the step is the first of STEP_KEYS present, else the line's index.
    Lines that are not JSON objects are skipped and reported once (count and first line)."""
    points: dict = {}
    bad: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        entry, why = _jsonl_object(line)
        if entry is None:
            bad.append((lineno, why))
            continue
        step_key = next((k for k in STEP_KEYS if _number(entry.get(k)) is not None), None)
        step = int(entry[step_key]) if step_key else lineno - 1
        _add_entry(points, entry, step, "", (step_key,) if step_key else ())
    problems = []
    if bad:
        problems.append(Problem(path, f"{len(bad)} line(s) are not JSON objects ({bad[0][1]}) and were skipped",
                                partial=bool(points), line=bad[0][0]))
    series, restarts, notes = merge_tags(_chunks(points))
    return Run(name=name, source=os.path.abspath(path), format="jsonl", series=series,
               problems=problems, restarts=restarts, notes=notes)
