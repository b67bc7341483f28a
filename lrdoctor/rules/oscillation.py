"""Oscillation family (OS): fluctuation beyond what sampling noise explains."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..findings import Finding, Severity
import numpy as np

from ..model import LR, TRAIN_LOSS, VAL_LOSS, Run
from ..signal.noise import diff_noise, scatter_by_lr
from ..signal.spectra import roughness
from ._view import progress_curve, view_of
from .base import Rule


class ErraticValidation(Rule):
    """The validation loss zig-zags by a large share of what training gained.

    What it detects
        The point-to-point scatter of the validation loss (second-difference sigma) exceeds
        ``min_ratio`` of its improvement (first value - best value), and the scatter is a zig-zag
        (lag-1 autocorrelation of the differences at most ``max_lag1``; white noise gives -0.5 after
        differencing, a drifting curve > 0) with most energy at high frequencies.

    Why it matters
        Validation is computed on a fixed set, so it scatters only because the weights jump from
        one evaluation to the next.  Jumps that are large next to the progress made mean the steps
        are too large to settle into the minimum (or the batch too small for the rate).  But a small
        validation set or a noisy task scatters that much at a well-tuned rate too: on the labelled
        benchmark this fired on as many well-tuned runs as on too-high ones, and where it was the
        only finding, 7 of 8 runs were well tuned.  So it is a note (info) that single evaluations
        (the best epoch, a rise) should be read with care, not an LR verdict, and advice ignores it.

    Evidence
        ``scatter``, ``improvement``, ``ratio``, ``lag1`` (autocorrelation of the differences),
        ``high_freq_share``.

    Options
        ``min_ratio`` = 0.25; ``max_lag1`` = -0.2; ``min_high_freq`` = 0.5; ``min_points`` = 8.
    """

    code = "OS01"
    name = "erratic-validation"
    kind = "oscillation"
    severity = Severity.INFO
    requires = (VAL_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_ratio: float = 0.25
        max_lag1: float = -0.2
        min_high_freq: float = 0.5
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        v = view_of(run).val
        if v is None or v.n < options.min_points:
            return
        y = v.values
        improvement = float(y[0] - y.min())
        scatter = diff_noise(y)
        if improvement <= 0 or scatter < options.min_ratio * improvement:
            return
        rough = roughness(y)
        if rough.lag1 > options.max_lag1 or rough.high_freq_share < options.min_high_freq:
            return
        yield self.finding(
            run,
            f"{v.tag} zig-zags by about {scatter:.3g} per evaluation, {scatter / improvement:.0%} of its total improvement "
            f"({y[0]:.3g} -> best {y.min():.3g})",
            tag=v.tag, start_step=int(v.steps[0]), end_step=int(v.steps[-1]),
            evidence={"scatter": scatter, "improvement": improvement, "ratio": round(scatter / improvement, 4),
                      "lag1": rough.lag1, "high_freq_share": rough.high_freq_share},
        )


class SwingsShrinkWithLr(Rule):
    """The train loss swings far more at the peak LR than after the schedule lowered it.

    What it detects
        With a logged LR that spends at least ``min_points`` train-loss points at >= 90 % of its peak and
        as many at <= 30 % of it (after the first tenth of the run, where the running median still lags
        the initial fall): the train loss's scatter around its trend, relative to the trend's level
        (``signal.noise.scatter_by_lr``), is at least ``min_ratio`` times larger at the peak than after
        the decay.

    Why it matters
        Minibatch noise scales with the loss's level, and the batches do not change when the schedule
        lowers the LR; what does change is the step size.  Swings that shrink by several times once
        the LR is lower were the optimiser bouncing across the valley, not sampling noise: the peak LR
        was above what the loss surface could settle at, and the time spent there was mostly wasted.
        A well-tuned cosine or step schedule also calms the loss a little as it decays (on the three
        labelled suites the ratio of well-tuned runs stayed below 2.8).

    Evidence
        ``scatter_at_peak``, ``scatter_after_decay`` (median |loss - trend| / trend), ``ratio``,
        ``lr_peak``, ``lr_settled`` (the median LR of the lowered phase), ``points_at_peak``,
        ``points_after_decay``.

    Options
        ``min_ratio`` = 4; ``min_points`` = 10 (per phase).
    """

    code = "OS02"
    name = "swings-shrink-with-lr"
    kind = "oscillation"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS, LR)

    @dataclass(frozen=True)
    class Options:
        min_ratio: float = 4.0
        min_points: int = 10

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = progress_curve(view, min_points=4 * options.min_points, finite=True)
        if c is None or view.lr_source != "log" or not view.has_lr_curve:
            return
        k = c.n // 10
        lr = view.lr_at_steps(c.steps[k:])
        s = scatter_by_lr(c.values[k:], c.smooth[k:], lr, min_points=options.min_points)
        if s is None or s.ratio < options.min_ratio:
            return
        peak = float(np.nanmax(lr))
        settled = float(np.median(lr[lr <= 0.3 * peak]))
        yield self.finding(
            run, f"{c.tag} swung by {s.at_peak:.1%} of its level at the peak LR {peak:.3g} but by only {s.after_decay:.1%} "
                 f"once the schedule lowered it (to ≈{settled:.3g}): {s.ratio:.1f}x, the step size, not minibatch noise",
            tag=c.tag, start_step=int(c.steps[k]), end_step=int(c.steps[-1]), suggested_lr=settled,
            evidence={"scatter_at_peak": round(s.at_peak, 6), "scatter_after_decay": round(s.after_decay, 6),
                      "ratio": round(min(s.ratio, 1e9), 3), "lr_peak": peak, "lr_settled": settled,
                      "points_at_peak": s.n_peak, "points_after_decay": s.n_low})
