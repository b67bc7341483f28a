"""``<step> <name> <value>`` lines -> Run: the log file of Karpathy's build-nanogpt (``log/log.txt``:
``0 val 10.9310``, ``0 hella 0.2413``, ``0 train 10.934416``) and scripts like it.

Read only when nearly every non-blank line (``MIN_SHARE``) has exactly that shape and at least
``MIN_POINTS`` do, so prose, tables and other text are left alone (None), as is a dataset's split
file (``<id> <split> <label>``: whole numbers under phase names).  A name that is only a
phase word (``train``, ``val``, ``valid``, ``eval``, ``test``) stands for that phase's loss -- the
one number such a script writes per phase -- and is keyed ``<phase>_loss`` (a note says so); other
names (``hella``, ``acc``) are kept as written.
"""
from __future__ import annotations

import os
import re

from ..model import Run
from .merge import Chunk, merge_tags

MIN_POINTS = 3
MIN_SHARE = 0.9
_LINE = re.compile(r"^\s*(?P<step>\d{1,15})\s+(?P<name>[A-Za-z][\w./-]*)\s+"
                   r"(?P<val>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf))\s*$", re.IGNORECASE)
_PHASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
           "eval": "val", "test": "test"}


def _points(text: str) -> dict[str, list[tuple[int, float]]] | None:
    points: dict[str, list[tuple[int, float]]] = {}
    lines = matched = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        lines += 1
        m = _LINE.match(line)
        if m is not None:
            matched += 1
            points.setdefault(m.group("name"), []).append((int(m.group("step")), float(m.group("val"))))
    if matched < MIN_POINTS or matched < MIN_SHARE * lines:
        return None
    return points


def _split_table(points: dict[str, list[tuple[int, float]]]) -> bool:
    """``<id> <split> <label>`` lines -- a dataset's split file (``splits.txt``: ``17 train 3``) --
    have this shape too, but hold whole numbers only, under phase names: no loss is logged so
    (found in review: a ``splits.txt`` read as a run and told "keep")."""
    return all(raw.lower() in _PHASES for raw in points) and all(
        float(v).is_integer() for pts in points.values() for _, v in pts)


def read(path: str, text: str, name: str) -> Run | None:
    """A Run when ``text`` is ``<step> <name> <value>`` lines (module docstring), else None."""
    points = _points(text)
    if points is None or _split_table(points):
        return None
    chunks, renamed = {}, []
    for raw, pts in points.items():
        key = f"{_PHASES[raw.lower()]}_loss" if raw.lower() in _PHASES else raw
        if key != raw:
            renamed.append(f"{raw} -> {key}")
        chunks[key] = [Chunk.from_lists([p[0] for p in pts], [p[1] for p in pts], None, None)]
    series, restarts, notes = merge_tags(chunks)
    notes.append(f"read as '<step> <name> <value>' lines ({sum(len(p) for p in points.values())} points)")
    if renamed:
        notes.append("values named only by a phase are that phase's loss: " + ", ".join(sorted(renamed)))
    return Run(name=name, source=os.path.abspath(path), format="console", series=series,
               restarts=restarts, notes=notes)
