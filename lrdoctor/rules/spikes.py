"""Spike family (SP): transient jumps far outside the local noise band."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run
from ..signal.jumps import upward_jump_blocks
from ._view import Curve, View, measured, progress_curve, smoothing_window, view_of
from .base import Rule


def phase_of(view: View, step: int) -> str:
    """Where ``step`` sits in the LR schedule: warmup, peak, decay or unknown."""
    s = view.schedule
    if s is None:
        return "unknown"
    if s.warmup_end_step is not None and step < s.warmup_end_step:
        return "warmup"
    lr = view.lr_at_step(step)
    # Within 10 % of the peak: a cosine's or a plateau's top, where the step size is at its largest.
    return "peak" if lr is not None and lr >= 0.9 * s.peak_lr else "decay"


class LossSpikes(Rule):
    """Transient jumps of the train loss far outside its local noise band.

    What it detects
        Points that rise above both the local trend (rolling median) and the level of the points
        just before them by more than ``min_z`` local noise sigmas, ``min_rel`` of the local level
        *and* ``min_undo`` of the progress made so far (start level - local level), so that the
        noise, the scale of the loss and the progress all say it is a jump.  The noise is measured
        within a few smoothing windows of each point and on the upper side of the trend
        (``signal.jumps``): a loss's noise shrinks with its level and minibatch losses are
        right-skewed.  A point on the flank of a steep early fall is below the points before it,
        so it is not a jump.  Counted with the step of the first and largest, and the phase of
        the LR schedule they sit in.

    Why it matters
        An isolated spike that recovers is usually harmless (a hard batch): reported as info.
        Several (``min_count_warning``), or spikes at the end of warmup / at the peak LR, mean the
        step size is at the edge of stability: a warning.

    Evidence
        ``count``, ``first_step``, ``largest_step``, ``largest_rel`` (jump / local level),
        ``largest_z``, ``share_at_peak`` (of spikes at >= 90 % of the peak LR), ``lr_at_first``,
        ``early_share`` and ``early_count`` (spikes in the first 10 % of the run), ``has_warmup``
        (1 when the LR ramps up).

    Options
        ``min_z`` = 6 (a 1-in-10^9 event for Gaussian noise); ``min_rel`` = 0.5 (half the level);
        ``min_undo`` = 0.25 (a quarter of the progress undone); ``min_count`` = 1;
        ``min_count_warning`` = 2 (a repeated event, not one hard batch); ``min_points`` = 20.
    """

    code = "SP01"
    name = "loss-spikes"
    kind = "spike"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_z: float = 6.0
        min_rel: float = 0.5
        min_undo: float = 0.25
        min_count: int = 1
        min_count_warning: int = 2
        min_points: int = 20

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        # The progress-undone test reads progress from the start level: not on a reinforcement-learning
        # run, whose loss jumps whenever the agent finds new returns (DQ06).
        c = progress_curve(view, min_points=options.min_points)
        if c is None or c.noise <= 0:
            return
        hits, rel, z = _spikes(c, options)  # rel and z of each hit
        if hits.size < options.min_count:
            return
        largest = int(np.argmax(rel))
        big = int(hits[largest])
        phases = [phase_of(view, int(c.steps[i])) for i in hits]
        first = int(c.steps[hits[0]])
        early = c.steps[hits] <= c.steps[0] + 0.1 * (c.steps[-1] - c.steps[0])
        severity = Severity.WARNING if hits.size >= options.min_count_warning else Severity.INFO
        yield self.finding(
            run,
            f"{hits.size} loss spike(s) in {c.tag}; largest {rel[largest]:.1f}x the local level at step {int(c.steps[big]):,} "
            f"({phases[int(np.argmax(hits == big))]} of the schedule)",
            severity=severity, tag=c.tag, start_step=first, end_step=int(c.steps[hits[-1]]),
            evidence=measured(count=int(hits.size), first_step=first, largest_step=int(c.steps[big]),
                              largest_rel=round(float(rel[largest]), 3), largest_z=round(float(z[largest]), 2),
                              share_at_peak=round(phases.count("peak") / len(phases), 3), lr_at_first=view.lr_at_step(first),
                              early_share=round(float(np.mean(early)), 3), early_count=int(np.sum(early)),
                              has_warmup=int(view.schedule is not None and view.schedule.warmup_end_step is not None)),
        )


def _spikes(c: Curve, options: LossSpikes.Options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the spikes, and their rise relative to the local level and in local sigmas (computed a
    block of points at a time: only the spikes' own numbers are kept)."""
    w = smoothing_window(c.n)
    head = c.head()
    hits, rels, zs = [], [], []
    # The noise band spans a few smoothing windows (>= 21 points, enough for a stable median),
    # so a burst of spikes does not set its own noise level.
    for block in upward_jump_blocks(c.values, c.smooth, window=w, noise_window=max(4 * w + 1, 21)):
        lo, resid, z = block.start, block.height, block.z
        smooth = c.smooth[lo:lo + resid.size]
        # Share of the progress made so far that the jump undid: near a loss of ~0 a jump can be
        # many times the local level and still be harmless.
        gained = head - smooth
        np.maximum(gained, 1e-12, out=gained)
        undo = np.divide(resid, gained, out=gained)
        hit = (z > options.min_z) & (undo > options.min_undo)
        level = np.abs(smooth)
        np.maximum(level, 1e-12, out=level)
        rel = np.divide(resid, level, out=resid)
        found = np.flatnonzero(hit & (rel > options.min_rel))
        hits.append(found + lo)
        rels.append(rel[found])
        zs.append(z[found])
    if not hits:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    hits, rel, z = np.concatenate(hits), np.concatenate(rels), np.concatenate(zs)
    later = hits > 0  # the very first point is the initial loss, not a spike
    return hits[later], rel[later], z[later]
