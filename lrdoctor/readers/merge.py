"""Merge raw chunks of one tag (several files, repeated fit() calls) into one sorted ``Series``.

Readers hand over points in the order they were written.  This module decides what a user
would expect to see:

* chunks are concatenated in the order given (discover.py orders event files by the
  timestamp in their name, then by their first wall time);
* a step that goes *backwards* is a restart (a resumed job): all data is kept and, for
  steps logged more than once, the later value wins; each restart becomes a ``Restart``;
* a repeated step that does not go backwards (HF writing ``train/epoch`` twice) is not a
  restart, the later value simply wins;
* when every step of a multi-point tag is 0 (TF1 summaries without ``global_step``) and the
  format has a clock, the points are ordered by wall time and numbered 0..n-1, and a note
  says so.

Separate trainings written into one place never get here together: trainings.py splits them
into runs of their own first, so a restart here is a resume.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Restart, Series


class Chunk(Series):
    """Points of one tag in file order -- a Series' arrays, not yet sorted by step nor one per
    step; ``Chunk.from_lists(steps, values, wall_times=None, epochs=None)`` builds one."""


@dataclass(frozen=True)
class Merged:
    series: Series
    restarts: list[Restart]
    renumbered: bool = False  # every step was 0: ordered by wall time and numbered 0..n-1
    replaced: int = 0  # points whose step was logged again with another value (the later one kept)


def _concat(chunks: list[Chunk], attr: str) -> np.ndarray | None:
    parts = [getattr(c, attr) for c in chunks]
    if all(p is None for p in parts):
        return None
    filled = [p if p is not None else np.full(len(c.steps), np.nan) for p, c in zip(parts, chunks)]
    return _joined(filled, np.float64)


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The parts end to end as ``dtype``, without a copy when there is one part of that dtype already
    (a 10M-point event file: each copy is 80 MB)."""
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)).astype(dtype, copy=False)


def _find_restarts(tag: str, steps: np.ndarray) -> list[Restart]:
    """One Restart per place where the step decreases; counts earlier points later data replaces."""
    back = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    restarts = []
    for i in back:
        earlier, later = steps[:i], steps[i:]
        replaced = np.isin(earlier[earlier >= steps[i]], later)
        restarts.append(Restart(tag, int(steps[i - 1]), int(steps[i]), int(replaced.sum())))
    return restarts


def _replaced_values(steps: np.ndarray, values: np.ndarray) -> int:
    """How many points a later point at the same step replaces with a different value (an identical
    repeat, such as HF writing ``train/epoch`` twice, loses nothing)."""
    order = np.argsort(steps, kind="stable")
    s, v = steps[order], values[order]
    same_step = s[1:] == s[:-1]
    differ = ~((v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1])))
    return int(np.count_nonzero(same_step & differ))


def _last_per_step(steps: np.ndarray) -> np.ndarray:
    """Indices that sort by step and keep the last-written point of each step."""
    order = np.argsort(steps, kind="stable")
    sorted_steps = steps[order]
    is_last = np.ones(len(order), dtype=bool)
    is_last[:-1] = sorted_steps[1:] != sorted_steps[:-1]
    return order[is_last]


def merge_chunks(tag: str, chunks: list[Chunk]) -> Merged:
    """Concatenate ``chunks`` (in the given order) into one Series, one value per step."""
    chunks = [c for c in chunks if len(c.steps)]
    if not chunks:
        return Merged(Series.from_lists([], []), [])
    steps = _joined([c.steps for c in chunks], np.int64)
    values = _joined([c.values for c in chunks], np.float64)
    walls = _concat(chunks, "wall_times")
    epochs = _concat(chunks, "epochs")
    if len(steps) > 1 and not steps.any() and walls is not None:
        order = np.argsort(walls, kind="stable")
        series = Series(np.arange(len(steps), dtype=np.int64), values[order], walls[order],
                        None if epochs is None else epochs[order])
        return Merged(series, [], renumbered=True)
    if len(steps) < 2 or bool(np.all(steps[1:] > steps[:-1])):  # already one point per step, in order
        return Merged(Series(steps, values, walls, epochs), [])
    restarts = _find_restarts(tag, steps)
    keep = _last_per_step(steps)
    series = Series(
        steps[keep], values[keep],
        None if walls is None else walls[keep],
        None if epochs is None else epochs[keep],
    )
    return Merged(series, restarts, replaced=_replaced_values(steps, values))


def first_few(names: list[str], limit: int = 3) -> str:
    """'a, b, c and 4 more': the first ``limit`` names, for a message."""
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def merge_tags(tag_chunks: dict[str, list[Chunk]]) -> tuple[dict[str, Series], list[Restart], list[str]]:
    """merge_chunks for every tag; returns series by tag, all restarts, all notes."""
    series: dict[str, Series] = {}
    restarts: list[Restart] = []
    renumbered: list[str] = []
    replaced: dict[str, int] = {}
    for tag in sorted(tag_chunks):
        merged = merge_chunks(tag, tag_chunks[tag])
        if len(merged.series):
            series[tag] = merged.series
        restarts.extend(merged.restarts)
        if merged.renumbered:
            renumbered.append(tag)
        if merged.replaced:
            replaced[tag] = merged.replaced
    notes = []
    if replaced:  # nothing is dropped without a word: a step logged twice keeps its later value
        notes.append(f"{sum(replaced.values())} point(s) logged again at a step already logged, with another value, "
                     f"were replaced by the later one ({first_few(sorted(replaced))}); one value per step is kept")
    if renumbered:
        notes.append(f"every step is 0 in {len(renumbered)} tag(s) ({first_few(renumbered)}): points ordered by wall time "
                     f"and numbered 0, 1, ...")
    return series, restarts, notes
