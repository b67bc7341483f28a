"""JSON-per-line logs whose iteration counter restarts every epoch (mmcv/mmdetection ``*.log.json``
and trainers like it) -> Run on a global step axis.

hf.read_jsonl takes ``iter`` as the step: where it counts within an epoch (``{"mode": "train",
"epoch": 2, "iter": 50, ...}``) every epoch would overwrite the last.  Here the step is
``(epoch - first epoch) * iterations per epoch + iter``, the iterations per epoch being the largest
``iter`` logged in any epoch (mmdet's validation entry carries the epoch's last iteration).
Entries with ``"mode": "val"`` (or ``"eval"``, ``"test"``) have their keys prefixed ``val/``
(``val/bbox_mAP``, ``val/loss``); a list of numbers (``"lr": [0.02, 0.002]``, one per parameter
group) gives ``lr``, ``lr/pg1``, ...  Counters and timings (``time``, ``data_time``, ``memory``,
``eta``) are not metrics.  Any other JSON-lines file is left to hf.read_jsonl (``read`` returns None).
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..model import Problem, Run
from .merge import Chunk, merge_tags

_NOT_METRICS = {"epoch", "iter", "mode", "time", "data_time", "memory", "eta", "step"}
_VAL_MODES = {"val", "eval", "valid", "validation", "test"}
MIN_ENTRIES = 3


def _objects(text: str) -> tuple[list[tuple[int, dict]], list[int]]:
    """(line, object) for each line holding a JSON object, and the lines that do not."""
    found, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        (found.append((number, entry)) if isinstance(entry, dict) else bad.append(number))
    return found, bad


def _counter(entry: dict, key: str) -> int | None:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer() \
            or not 0 <= value < 1e12:
        return None
    return int(value)


def _restarts_each_epoch(rows: list[tuple[int, int, dict]]) -> bool:
    epochs = np.array([e for e, _, _ in rows])
    iters = np.array([i for _, i, _ in rows])
    back = np.diff(iters) < 0
    return bool(back.any()) and bool(np.all(np.diff(epochs)[back] > 0))


def _metrics(entry: dict) -> dict[str, float]:
    prefix = "val/" if str(entry.get("mode", "")).lower() in _VAL_MODES else ""
    out = {}
    for key, value in entry.items():
        if key in _NOT_METRICS:
            continue
        values = value if isinstance(value, list) else [value]
        for k, v in enumerate(values):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[prefix + key + (f"/pg{k}" if k else "")] = float(v)
    return out


def read(path: str, text: str, name: str) -> Run | None:
    """A Run when ``text`` is JSON lines with an ``epoch`` and an ``iter`` that restarts each epoch."""
    found, bad = _objects(text)
    rows = [(_counter(e, "epoch"), _counter(e, "iter"), e) for _, e in found]
    rows = [(ep, it, e) for ep, it, e in rows if ep is not None and it is not None]
    if len(rows) < MIN_ENTRIES or not _restarts_each_epoch(rows):
        return None
    first = min(ep for ep, _, _ in rows)
    per_epoch = max(it for _, it, _ in rows)
    points: dict[str, list[tuple[int, float, float]]] = {}
    for ep, it, entry in rows:
        for key, value in _metrics(entry).items():
            points.setdefault(key, []).append(((ep - first) * per_epoch + it, value, ep - first + it / per_epoch))
    chunks = {k: [Chunk.from_lists([p[0] for p in v], [p[1] for p in v], None, [p[2] for p in v])]
              for k, v in points.items()}
    series, restarts, notes = merge_tags(chunks)
    notes.append(f"JSON lines with an iteration counter that restarts each epoch: step = (epoch - {first}) * "
                 f"{per_epoch} + iter")
    skipped = len(found) - len(rows)
    if skipped:
        notes.append(f"{skipped} JSON line(s) without an epoch and an iteration (run metadata, say) not read")
    problems = [Problem(path, f"{len(bad)} line(s) are not JSON objects and were skipped", partial=True,
                        line=bad[0])] if bad else []
    return Run(name=name, source=os.path.abspath(path), format="jsonl", series=series, problems=problems,
               restarts=restarts, notes=notes)
