"""Chainer's ``LogReport`` file (``result/log``, no extension) -> Run.

The extension rewrites one JSON array of objects at each report: ``[{"main/loss": 0.31,
"validation/main/loss": 0.42, "epoch": 1, "iteration": 600, "elapsed_time": 12.3}, ...]``.  The
step is ``iteration`` (Chainer counts it over the whole training), else ``epoch``; ``epoch`` is kept
as the points' epoch.  Every other number is a metric (``main/loss``, ``loss_dis``, ``lr``) except
the clock (``elapsed_time``).  Anything that is not such an array -- another JSON file, an object,
a list without counters -- is left alone (None).
"""
from __future__ import annotations

import os

from ..model import Problem, Run
from .jsonvalues import array_objects, loads, number, whole_step
from .merge import Chunk, merge_tags

MIN_ENTRIES = 3
_COUNTERS = ("iteration", "epoch")
_NOT_METRICS = {"iteration", "epoch", "elapsed_time"}


def _entries(text: str) -> tuple[list[dict] | None, bool]:
    """(the array's objects, whether the array was cut), or (None, False) when the text is no JSON array
    of objects.  A LogReport is rewritten at each report, so a copy taken mid-write ends inside an
    entry: the complete entries before the cut are kept (found in review: such a log vanished)."""
    if not text.lstrip("\ufeff \t\r\n").startswith("[") or not any(f'"{c}"' in text[:65536] for c in _COUNTERS):
        return None, False  # no array, or none with counters: not parsed
    try:
        parsed, cut = loads(text), False
    except ValueError:
        parsed, cut = array_objects(text, text.index("[") + 1), True
    if not isinstance(parsed, list) or not parsed or not all(isinstance(e, dict) for e in parsed):
        return None, False
    return parsed, cut


def _counter(entry: dict) -> tuple[int | None, float]:
    """(step, epoch) of one entry: step from the first counter that is a whole number."""
    epoch = number(entry.get("epoch"))
    for key in _COUNTERS:
        step, _ = whole_step(entry.get(key))
        if step is not None:
            return step, float("nan") if epoch is None else epoch
    return None, float("nan")


def read(path: str, text: str, name: str) -> Run | None:
    """A Run when ``text`` is a LogReport array (module docstring), else None."""
    entries, cut = _entries(text)
    if entries is None:
        return None
    points: dict[str, list[tuple[int, float, float]]] = {}
    counted = 0
    for entry in entries:
        step, epoch = _counter(entry)
        if step is None:
            continue
        counted += 1
        for key, raw in entry.items():
            value = number(raw)
            if key not in _NOT_METRICS and value is not None:
                points.setdefault(key, []).append((step, value, epoch))
    if counted < MIN_ENTRIES or not points:
        return None
    chunks = {k: [Chunk.from_lists([p[0] for p in v], [p[1] for p in v], None, [p[2] for p in v])]
              for k, v in points.items()}
    series, restarts, notes = merge_tags(chunks)
    axis = "iteration" if any(whole_step(e.get("iteration"))[0] is not None for e in entries) else "epoch"
    notes.append(f"read as a Chainer LogReport: {counted} report(s), step = {axis}")
    problems = []
    if cut:
        problems.append(Problem(path, f"the JSON array ends inside a report (cut while being written): the "
                                      f"{len(entries)} complete report(s) before it were read", partial=True))
    if counted < len(entries):
        problems.append(Problem(path, f"{len(entries) - counted} report(s) without an iteration or epoch "
                                      f"were skipped", partial=True))
    return Run(name=name, source=os.path.abspath(path), format="chainer_json", series=series,
               problems=problems, restarts=restarts, notes=notes)
