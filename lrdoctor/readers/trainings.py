"""Separate trainings written into one place: tell a new training from a resume, and split.

Several processes (optuna trials, HF ``Trainer``s in one notebook, repeated Keras ``fit()`` calls,
a ``CSVLogger(append=True)``) often write into one directory or one file.  Merged as if one job
had resumed, the join looks like a blow-up.  A *unit of writing* -- an event file (one writer), or
a CSV row -- that goes back in steps is:

* a **new training** when it starts again from scratch: for some tag it logs again at a step no
  later than that tag's first step in the current training, or at a step no later than its own
  first logging interval (``500`` for a log every 500 steps: counting began at 0);
* a **new training** too when it logs another LR at a step the current training already logged
  (an event file only: a resume continues the same LR schedule);
* a **resume** otherwise (it continues from a checkpoint: later steps, same counters), merged as
  before (merge.py keeps the later value of a step logged twice and records a ``Restart``).

Only tags the unit logs twice or more decide, when it has any: Lightning writes ``hp_metric`` at
step 0 in every file, resumed or not.  A unit that goes forward, or shares no tag with the current
training (Keras' ``validation/`` file after its ``train/`` file), continues it.

The first training keeps the run's name -- the name it had before anything else was written
there, so a name never changes meaning when another training is appended -- and the later ones
are ``NAME#2``, ``NAME#3``... in the order they were written.  Every part says so in its notes,
and the first carries a Problem naming the original path, so the split is visible in
``lrdoctor diagnose`` (and on stderr) as well as ``lrdoctor runs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..model import Problem, Run

PART_SEPARATOR = "#"


@dataclass
class Segmenter:
    """Walks units of writing in order; ``add`` says whether a unit starts a new training."""

    first_last: dict[str, tuple[int, int]] = field(default_factory=dict)  # per tag, current training
    lr_points: dict[str, dict[int, float]] = field(default_factory=dict)  # LR tags: step -> value

    def add(self, steps_by_tag: Mapping[str, np.ndarray],
            values_by_tag: Mapping[str, np.ndarray] | None = None) -> str | None:
        """Record one unit (steps per tag, in writing order; values when known); return why it
        starts a new training (and start one), or None when it continues the current one."""
        why = self._why_new(steps_by_tag) or self._other_lr(steps_by_tag, values_by_tag or {})
        if why is not None:
            self.first_last, self.lr_points = {}, {}
        for tag, steps in steps_by_tag.items():
            if len(steps):
                first, last = self.first_last.get(tag, (int(steps[0]), int(steps[0])))
                self.first_last[tag] = (min(first, int(steps.min())), max(last, int(steps.max())))
            if values_by_tag and tag in values_by_tag and _is_lr(tag):
                self.lr_points.setdefault(tag, {}).update(zip(steps.tolist(), values_by_tag[tag].tolist()))
        return why

    def _other_lr(self, steps_by_tag: Mapping[str, np.ndarray], values_by_tag: Mapping[str, np.ndarray]) -> str | None:
        """A resume goes on with the same LR schedule: another LR at a step already logged is another setup."""
        for tag in sorted(values_by_tag):
            known = self.lr_points.get(tag)
            if not known:
                continue
            for step, value in zip(steps_by_tag[tag].tolist(), values_by_tag[tag].tolist()):
                before = known.get(step)
                if before is not None and np.isfinite(before) and np.isfinite(value) and \
                        abs(value - before) > LR_RTOL * max(abs(before), abs(value)):
                    return f"{tag} at step {step:,} is {value:.3g}, not {before:.3g} as before"
        return None

    def _why_new(self, steps_by_tag: Mapping[str, np.ndarray]) -> str | None:
        deciding = {t: s for t, s in steps_by_tag.items() if len(s) > 1} or steps_by_tag
        for tag in sorted(deciding):
            steps = deciding[tag]
            if not len(steps) or tag not in self.first_last:
                continue
            first, last = self.first_last[tag]
            start = int(steps[0])
            if last == 0 and not steps.any():
                continue  # no step counter at all (TF1 summaries without global_step): merge.py orders by clock
            if start > last:
                continue  # goes forward
            interval = int(steps[1] - steps[0]) if len(steps) > 1 else 0
            if start <= first or (interval > 0 and start <= interval):
                return f"{tag} starts again at step {start:,} after reaching step {last:,}"
        return None


LR_RTOL = 0.01  # float32 LR values of one schedule agree far better than this


def _is_lr(tag: str) -> bool:
    from ..tags import classify

    found = classify(tag)
    return found is not None and found[0] == "lr"


def part_name(name: str, index: int) -> str:
    """The first training keeps ``name``; the k-th (1-based) is ``name#k``."""
    return name if index == 0 else f"{name}{PART_SEPARATOR}{index + 1}"


def label_parts(parts: list[Run], original: str, source: str, whys: list[str], unit: str) -> list[Run]:
    """Notes on every part, and on the first a Problem naming the original path (see module doc)."""
    if len(parts) < 2:
        return parts
    names = ", ".join(p.name for p in parts)
    for k, (part, why) in enumerate(zip(parts, whys)):
        started = "" if k == 0 else f" (a new {unit} where {why})"
        part.notes.append(f"training {k + 1} of {len(parts)} written into {original}{started}; "
                          f"the trainings there are diagnosed apart: {names}")
    parts[0].problems.append(Problem(
        source, f"{len(parts)} separate trainings were written here (a new {unit} where {whys[1]}); "
                f"each is diagnosed on its own: {names}"))
    return parts


def csv_training_starts(index: np.ndarray, present: np.ndarray, *, one_row_per_index: bool = False
                        ) -> list[tuple[int, str]]:
    """Rows (0-based) of a CSV log where a new training starts, with why.

    ``one_row_per_index``: the writer logs a metric once per index value (Keras' CSVLogger, one row
    per epoch), so a row that repeats the index is a new ``fit()`` -- unless most rows repeat the one
    before (a per-batch log with an ``epoch`` column, which the header alone does not tell apart).
    Elsewhere a repeated index is several rows of one step or epoch: only an index that goes strictly
    back can start a new training.

    ``index`` is the step (or epoch) of each row, ``present`` a (rows, columns) bool array of the
    metric cells each row holds.  A row goes back when one of its metrics was already logged at
    that step or a later one in the current training (Keras' ``CSVLogger(append=True)`` after a
    second ``fit()``: epochs 0, 1, 0, 1, 2).  Lightning writes several rows per step, each with
    other columns, in any order: that is not going back.  The test for a new training is
    Segmenter's, column by column.
    """
    candidates: dict[int, list[int]] = {}
    for col in range(present.shape[1]):
        rows = np.flatnonzero(present[:, col])
        idx = index[rows]
        ties = idx[1:] == idx[:-1]
        # Mostly distinct values: one row per epoch, a tie is a new fit; one value only (epoch 0 three
        # times): one-epoch fits, each kept apart; ties in most rows across epochs: per-batch rows.
        ties_restart = one_row_per_index and len(ties) > 0 and (ties.mean() < 0.5 or bool(ties.all()))
        back = (idx[1:] < idx[:-1]) | (ties & ties_restart)
        for r in rows[np.flatnonzero(back) + 1][:MAX_CANDIDATES].tolist():
            candidates.setdefault(r, []).append(col)
    starts: list[tuple[int, str]] = []
    segment_start = 0
    for row in sorted(candidates)[:MAX_CANDIDATES]:
        for col in candidates[row]:
            if _starts_again(index, present[:, col], segment_start, row):
                starts.append((row, f"the step/epoch column starts again at {index[row]:g} "
                                    f"after reaching {index[segment_start:row].max():g}"))
                segment_start = row
                break
    return starts


MAX_CANDIDATES = 1000  # rows that go back, looked at; a log that goes back more often is merged as before


def _starts_again(index: np.ndarray, has: np.ndarray, segment_start: int, row: int) -> bool:
    """Does ``row`` log this column again from scratch, within the training that began at ``segment_start``?"""
    before = index[segment_start:row][has[segment_start:row]]
    start = index[row]
    if not len(before) or start > before.max():
        return False
    later = index[row + 1:][has[row + 1:]]
    later = later[later > start][:1]
    interval = later[0] - start if len(later) else 0
    return bool(start <= before.min() or (interval > 0 and start <= interval))
