"""HuggingFace ``trainer_state.json`` and JSONL logs (one JSON object per line) -> Run.

``log_history`` mixes three kinds of entries that share ``step``: train entries (``loss``,
``learning_rate``, ``grad_norm``), eval entries (``eval_*``) and, when training finished, one
summary entry (``train_loss``, ``train_runtime``, ...).  The summary is a single averaged value,
not a curve, so its numbers are kept under ``summary/<key>`` where no role will pick them.
Python's json writes NaN/Infinity literals, which ``json.loads`` accepts.  An entry whose step
is no whole int64 (NaN, Infinity, 1e300, 2.5) is skipped and reported; the others are kept.
"""
from __future__ import annotations

import os

from ..model import Problem, Run
from .jsonvalues import array_objects, error_message, loads, number, whole_step
from .merge import Chunk, merge_tags
from .textfile import split_lines

_SUMMARY_KEYS = ("train_runtime", "total_flos", "train_samples_per_second")
STEP_KEYS = ("step", "global_step", "_step", "iteration", "iter", "trainer/global_step", "epoch")
_STATE_HPARAMS = ("logging_steps", "eval_steps", "save_steps", "max_steps", "num_train_epochs",
                  "train_batch_size", "global_step", "best_metric", "best_model_checkpoint", "trial_params")


def _add_entry(points: dict, entry: dict, step: int, prefix: str, skip: tuple[str, ...]) -> None:
    epoch = number(entry.get("epoch"))
    for key, value in entry.items():
        x = number(value)
        if key in skip or x is None:
            continue
        points.setdefault(prefix + key, []).append((step, x, epoch))


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
    return array_objects(text, start) if start > 0 else []


def _skipped(path: str, what: str, bad: list[tuple[int, str]], line: bool = False) -> Problem:
    """One problem for every skipped entry or line of a file: how many, and the first few with why."""
    first = "; ".join(f"{what} {i}: {why}" for i, why in bad[:3])
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return Problem(path, f"{len(bad)} {what}(s) skipped ({first}{more})", partial=True,
                   line=bad[0][0] if line else None)


def _history_points(history: list, path: str, problems: list[Problem]) -> dict:
    points: dict = {}
    bad: list[tuple[int, str]] = []
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            bad.append((i, f"a JSON {type(entry).__name__}, not an object"))
            continue
        step, why = whole_step(entry.get("step"))
        if step is None:
            bad.append((i, "no numeric 'step'" if why == "no number" else why))
            continue
        if any(k in entry for k in _SUMMARY_KEYS):
            _add_entry(points, entry, step, "summary/", ("step", "epoch"))
        else:
            _add_entry(points, entry, step, "", ("step",))
    if bad:
        problems.append(_skipped(path, "log_history entry", bad))
    return points


def read_trainer_state(path: str, text: str, name: str) -> Run:
    problems: list[Problem] = []
    hparams: dict = {}
    try:
        state = loads(text)
        history = state.get("log_history", []) if isinstance(state, dict) else []
        if isinstance(state, dict):
            hparams = {k: state[k] for k in _STATE_HPARAMS if k in state}
    except ValueError as exc:
        history = _salvage_log_history(text)
        problems.append(Problem(path, f"invalid JSON ({error_message(exc)}); {len(history)} complete log_history "
                                      f"entries before the damage kept", partial=bool(history),
                                line=getattr(exc, "lineno", None)))
    if not isinstance(history, list):
        problems.append(Problem(path, "'log_history' is not a list"))
        history = []
    series, restarts, notes = merge_tags(_chunks(_history_points(history, path, problems)))
    return Run(name=name, source=os.path.abspath(path), format="hf_trainer_state", series=series,
               problems=problems, restarts=restarts, notes=notes, hparams=hparams)


def _jsonl_object(line: str) -> tuple[dict | None, str]:
    try:
        entry = loads(line)
    except ValueError as exc:
        return None, error_message(exc)
    return (entry, "") if isinstance(entry, dict) else (None, f"a JSON {type(entry).__name__}, not an object")


def _line_step(entry: dict) -> tuple[str | None, int | None, str]:
    """(the step key, its step, why the line is bad): the first of STEP_KEYS holding a number.
    (None, None, "") when there is none."""
    key = next((k for k in STEP_KEYS if number(entry.get(k)) is not None), None)
    if key is None:
        return None, None, ""
    step, why = whole_step(entry[key])
    if step is None and key == "epoch":
        return None, None, ""  # a fractional (or NaN) epoch is no step: numbered by line, the epoch kept
    return key, step, why


def _jsonl_points(entries: list[tuple[int, dict]], bad: list[tuple[int, str]], notes: list[str]) -> dict:
    keyed = [(lineno, entry, *_line_step(entry)) for lineno, entry in entries]
    by_line = any(key is None for _, _, key, _, _ in keyed)
    epoch_steps = any(key == "epoch" for _, _, key, _, _ in keyed)
    if by_line and epoch_steps:  # a whole epoch on some lines, a fraction on others: one numbering only
        keyed = [(n, e, None, None, "") if key == "epoch" else (n, e, key, step, why) for n, e, key, step, why in keyed]
    if any(key is None for _, _, key, _, _ in keyed):
        notes.append("lines without a step (step, global_step, _step, iteration or whole epoch) numbered by "
                     "line (0, 1, ...)")
    points: dict = {}
    for lineno, entry, key, step, why in keyed:
        if why:
            bad.append((lineno, why))
            continue
        _add_entry(points, entry, lineno - 1 if key is None else step, "", (key,) if key else ())
    return points


def read_jsonl(path: str, text: str, name: str) -> Run:
    """One object per line; the step is the first of STEP_KEYS present, else the line's index.
    Lines that are not JSON objects, or whose step is no whole int64, are skipped and reported
    once (count, the first lines and why).  Lines are split at line ends only, not at U+2028."""
    entries: list[tuple[int, dict]] = []
    bad: list[tuple[int, str]] = []
    notes: list[str] = []
    for lineno, line in enumerate(split_lines(text.lstrip("\ufeff")), start=1):
        if not line.strip():
            continue
        entry, why = _jsonl_object(line)
        if entry is None:
            bad.append((lineno, why))
        else:
            entries.append((lineno, entry))
    points = _jsonl_points(entries, bad, notes)
    problems = [_skipped(path, "line", sorted(bad), line=True)] if bad else []
    if bad and not points:
        problems = [Problem(path, problems[0].message, line=problems[0].line)]
    series, restarts, merge_notes = merge_tags(_chunks(points))
    return Run(name=name, source=os.path.abspath(path), format="jsonl", series=series,
               problems=problems, restarts=restarts, notes=notes + merge_notes)
