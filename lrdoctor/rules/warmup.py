"""Warmup (DV07): the loss turned up while the warmup was still raising the LR towards its peak."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import LR, TRAIN_LOSS, Run
from ._view import measured, progress_curve, smoothing_window, view_of
from .base import Rule


class RoseAsWarmupPeaked(Rule):
    """The train loss turned up as the warmup raised the LR to its peak.

    What it detects
        A logged LR schedule with a warmup (``signal.schedule``: the LR rises from below half its peak).
        The smoothed train loss (running median) reached its lowest level while the LR was still rising,
        then climbed, before the end of the warmup plus ``after`` of the run, by more than ``min_rise``
        of that level and ``min_z`` noise sigmas of a smoothed point (the noise measured around the climb,
        or the run's if larger), over at least a smoothing window
        of points, while the LR kept rising (higher at the top of the climb than at its bottom).

    Why it matters
        A warmup sweeps the LR upwards like a range test: while the rate is below the edge of stability
        the loss falls; where it starts to rise, the rate has crossed it.  A peak LR above that point
        makes the run spend its peak phase undoing what the warmup learned (or blow up later).  The LR
        where the loss turned is the measured ceiling: advice decreases to it.

    Evidence
        ``low``, ``high`` (smoothed levels), ``rise`` (relative), ``low_step``, ``high_step``,
        ``lr_at_low`` (the LR where the loss turned up), ``lr_at_high``, ``warmup_end_step``.

    Options
        ``min_rise`` = 0.1 (a tenth of the level: SP01's and DV02's scale, not a wobble);
        ``min_z`` = 4; ``after`` = 0.05 (the first steps at the peak still show the warmup's effect);
        ``min_points`` = 20.
    """

    code = "DV07"
    name = "rose-as-warmup-peaked"
    kind = "divergence"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS, LR)

    @dataclass(frozen=True)
    class Options:
        min_rise: float = 0.1
        min_z: float = 4.0
        after: float = 0.05
        min_points: int = 20

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = progress_curve(view, min_points=options.min_points, finite=True)
        s = view.schedule
        if c is None or s is None or s.warmup_end_step is None or view.lr_source != "log":
            return
        w = smoothing_window(c.n)
        i_warm = int(np.searchsorted(c.steps, s.warmup_end_step, side="right")) - 1
        i_end = min(c.n - 1, i_warm + max(w, int(options.after * c.n)))
        if i_warm < 2 * w:
            return  # too few points in the warmup to tell its turn from the running median's edge
        sm = c.smooth
        i_low = w // 2 + int(np.argmin(sm[w // 2: i_warm + 1]))
        i_high = i_low + int(np.argmax(sm[i_low: i_end + 1]))
        low, high = float(sm[i_low]), float(sm[i_high])
        # The noise where it happened (a loss's noise scales with its level: the run's overall sigma comes
        # mostly from its calmer, lower end); a running median scatters by ~1.25 sigma / sqrt(window).
        a, b = max(0, i_low - w), min(c.n, i_high + w + 1)
        local = 1.4826 * float(np.median(np.abs(c.values[a:b] - sm[a:b])))
        sigma = 1.25 * max(local, c.noise) / math.sqrt(w)
        lr_low, lr_high = view.lr_at_step(float(c.steps[i_low])), view.lr_at_step(float(c.steps[i_high]))
        if (i_high - i_low < w or high - low <= options.min_rise * low or high - low <= options.min_z * sigma
                or not (lr_low and lr_high and lr_high > lr_low)):
            return
        low_step, high_step = int(c.steps[i_low]), int(c.steps[i_high])
        yield self.finding(
            run, f"{c.tag} fell to {low:.3g} at step {low_step:,} (lr {lr_low:.3g}) and rose {high / low - 1:.0%} to {high:.3g} "
                 f"by step {high_step:,} as the warmup raised the LR to {lr_high:.3g}",
            tag=c.tag, start_step=low_step, end_step=high_step, suggested_lr=lr_low,
            evidence=measured(low=low, high=high, rise=round(high / low - 1, 4), low_step=low_step, high_step=high_step,
                              lr_at_low=lr_low, lr_at_high=lr_high, warmup_end_step=int(s.warmup_end_step)))
