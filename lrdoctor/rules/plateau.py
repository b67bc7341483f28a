"""Plateau family (PL): the loss never left its starting level, or stopped improving late."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run
from ..signal.changepoints import phase_halves
from ..signal.noise import diff_noise
from ..signal.trend import late_share, mann_kendall
from ._view import Curve, View, measured, progress_curve, start_level, usable_val, view_of
from .base import Rule


# A slow learner's deterministic validation curve scatters by < 3 % of its fall (docs/rules.md, PL01).
MAX_SCATTER = 0.03
NUMERIC_FLOOR = 1e-5  # relative scatter that float32 evaluation noise alone produces (~100 ulps)


def relative_scatter(c: Curve) -> float:
    """Point-to-point scatter (second-difference sigma) over the curve's smoothed range.

    Evaluations of a fixed validation set scatter only because the weights jump; a slow learner's
    curve is smooth (scatter < 3 % of its fall), a rate too high gives an erratic one.  Minibatch
    train losses scatter by sampling, so their trend (rolling median) is used instead.  Scatter below
    ``NUMERIC_FLOOR`` of the level counts as smooth (0).
    """
    whole = float(c.smooth.max() - c.smooth.min())
    y = c.values if c.n < 40 else c.smooth
    scatter = diff_noise(y)
    # Scatter at the arithmetic's own noise floor is not "erratic" however small the fall: an
    # evaluation summed in float32 over thousands of examples wobbles by ~1e-6 of the level.  A
    # nearly frozen model (a rate far too small) falls by 1e-4 of its level with such wobbles.
    if scatter <= NUMERIC_FLOOR * float(np.median(np.abs(y))):
        return 0.0
    return scatter / whole if whole > 0 else 0.0


# The fewest points whose order can be significant: 1 of the 5! = 120 orders of five points is a strict
# fall (exact p = 0.0083 < 0.01); four points never can be.
MIN_TREND_POINTS = 5


def judged_curve(view: View, *, min_val_points: int = MIN_TREND_POINTS) -> Curve | None:
    """The curve whose trend is judged: validation when it has enough points for a trend test (it is a
    deterministic evaluation, smoother than minibatch losses, and what matters), else the train loss."""
    return view.val if view.val is not None and view.val.n >= min_val_points else view.train


def still_decreasing(c: Curve | None, *, min_tau: float, part: float = 0.5, min_share: float = 0.1,
                     max_rough: float = MAX_SCATTER) -> tuple[bool, float]:
    """Is the last ``part`` of a curve a steady, material fall?

    The part is measured on the curve's progress axis (cumulative LR when logged).
    Steady: Mann-Kendall tau at most -``min_tau`` with a one-sided p < 0.01 for a decrease (a
    strongly ordered fall), and a smooth curve (``relative_scatter`` at most ``max_rough``).  The p-value
    is exact for short curves: with the normal approximation the five points of a ten-epoch log's
    last half could never be significant, however cleanly they fall.
    Material: the smoothed fall over that part is at least ``min_share`` of the curve's whole
    smoothed range, so a curve that settled after a big early change does not count.
    """
    if c is None or c.n < MIN_TREND_POINTS:
        return False, 0.0
    # "Last part" in LR-time: after an LR decay the steps count for less (see signal.schedule.lr_time).
    k = max(MIN_TREND_POINTS, int(np.count_nonzero(c.t >= 1.0 - part)))
    mk = mann_kendall(c.values[-k:])
    seg = c.smooth[-k:]
    whole = float(c.smooth.max() - c.smooth.min())
    material = whole > 0 and float(seg[0] - seg[-1]) >= min_share * whole
    return (mk.tau <= -min_tau and mk.p_down < 0.01 and material and relative_scatter(c) <= max_rough), mk.tau


def slow_learner(view: View, *, min_late_share: float = 0.2, steady_tau: float = 0.6,
                 min_val_points: int = MIN_TREND_POINTS) -> bool:
    """SC01's picture of a too-small rate: the judged curve (validation when it has enough points, else
    the smoothed train loss) falls steadily at the end *and* a fifth or more of its improvement came in
    the last third of LR-time (it has not settled).  A share above 1 means the curve stood above its
    start two thirds of the way in: it is recovering from a rise, which is not slowness."""
    c = judged_curve(view, min_val_points=min_val_points)
    if c is None or c.n < MIN_TREND_POINTS:
        return False
    share = late_share(c.smooth if c is view.train else c.values, x=c.t)
    return min_late_share <= share <= 1.0 and still_decreasing(c, min_tau=steady_tau)[0]


class StuckAtStart(Rule):
    """The loss never got meaningfully below its starting level and is not steadily falling.

    What it detects
        The best level reached (end of the smoothed train loss, best validation loss) is less than
        ``min_improvement`` (relative) below the starting level, and neither curve is still falling
        steadily (Mann-Kendall tau over the last half above -``steady_tau``).  An epoch-level log with
        no validation whose first epoch's mean stands ``FIRST_EPOCH_FALL`` (10) times above the epochs
        after it fell in that epoch and levelled off: not stuck at its start.

    Why it matters
        A network that sits at its initial / chance-level loss from the start while the optimiser
        keeps taking steps has usually been pushed into a dead or saturated state by updates that are
        too large (dead ReLUs, collapsed outputs).  A steady, slow fall instead is a too-small rate
        (rule SC01).

    Evidence
        ``start``, ``end``, ``best_val``, ``improvement`` (relative), ``train_tau``, ``val_tau``.

    Options
        ``min_improvement`` = 0.1 (10 % of the starting loss); ``steady_tau`` = 0.6 (a strongly
        monotone fall: 80 % of point pairs in order).
    """

    code = "PL01"
    name = "stuck-at-start"
    kind = "plateau"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_improvement: float = 0.1
        steady_tau: float = 0.6
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        stuck = stuck_at_start(view, min_improvement=options.min_improvement, steady_tau=options.steady_tau,
                               min_points=options.min_points)
        if stuck is None or small_rate_crawl(view) is not None:
            return  # a crawl at a small rate is SC02's too-small rate, not a stall
        c = view.train
        yield self.finding(
            run,
            f"{c.tag} stayed at its starting level ({stuck['start']:.3g} -> {stuck['end']:.3g}, "
            f"{stuck['improvement']:+.0%} at best) "
            f"and is not falling: the rate is likely so high that units died or the optimiser saturated",
            tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]), evidence=stuck,
        )


def stuck_at_start(view: View, *, min_improvement: float = 0.1, steady_tau: float = 0.6,
                   min_points: int = 8) -> dict | None:
    """PL01's measurement: the evidence when the loss never got ``min_improvement`` below its start and is
    not falling steadily (train or validation over the last half, or the judged curve over the whole
    run); else None."""
    c = progress_curve(view, min_points=min_points, finite=True)
    if c is None:
        return None
    start = start_level(view)
    if view.train_is_epoch_level and not usable_val(view) and float(c.values[0]) > FIRST_EPOCH_FALL * start:
        # The first epoch's mean stands ten times above the epochs after it: the run learned most of what
        # it learned in that epoch and then levelled off -- a floor, not a start it never left (found on
        # blind-labelled real logs: a weather model's epoch losses 3415, 2.2, 2.4, ... 2.5 for 500
        # epochs were told "stayed at its starting level: divide the LR by 32").
        return None
    end = c.tail()
    best_val = float(view.val.values.min()) if usable_val(view) else np.inf
    reached = min(end, best_val)
    if start <= 0 or start - reached > min_improvement * start:
        return None
    train_falls, train_tau = still_decreasing(c, min_tau=steady_tau)
    val_falls, val_tau = still_decreasing(view.val, min_tau=steady_tau)
    # A small but steady fall over the whole run (fine-tuning from a good start) is not "stuck".
    # Judged on validation when logged: a deterministic evaluation shows a real fall as smooth.
    whole_falls, _ = still_decreasing(judged_curve(view), min_tau=steady_tau, part=1.0)
    if train_falls or val_falls or (whole_falls and end < start):
        return None
    return measured(start=start, end=end, best_val=best_val if np.isfinite(best_val) else None,
                    improvement=round(1 - reached / start, 4), train_tau=round(train_tau, 3), val_tau=round(val_tau, 3))


FIRST_EPOCH_FALL = 10.0  # first epoch mean / the level after it: the run fell in its first epoch


# Adam moves each weight by about the LR per step.  At or below a tenth of its default (1e-3) -- the top of
# the usual fine-tuning range -- no common optimiser pushes a network into dead units; a stuck loss that
# still falls in order there is crawling.  At or below 1e-6, two decades under fine-tuning rates, a run
# cannot move its weights enough to stall at all: the rate is simply too small (docs/rules.md, SC02).
SMALL_LR = 1e-4
TINY_LR = 1e-6
# A fall "in order": Mann-Kendall tau <= -0.5 (three quarters of the point pairs in order), p < 0.01.
CRAWL_TAU = 0.5
# SC01's "has not settled": a fifth or more of the gain in the last third of LR-time (run < ~1.2 tau).
SETTLED_LATE_SHARE = 0.2


def small_rate_crawl(view: View) -> dict | None:
    """Why a loss that stayed near its start reads as a too-small rate, or None.

    Either the peak LR is at most ``TINY_LR``, or it is at most ``SMALL_LR`` and the train loss (or the
    validation loss, with five points or more) falls over the whole run with a significant monotone
    trend (Mann-Kendall tau <= -``CRAWL_TAU``, one-sided p < 0.01) -- however rough the curve, since the
    trend test weighs order, not smoothness.  Without a known LR, None: the synthetic suites' stuck
    too-high runs also drift down in order (a dead network's biases still learn), only their LR tells.
    ``settled`` (1) marks an ordered fall that made less than SC01's fifth of its gain in the last third of
    LR-time: a fine-tune from a good start that had little left to gain -- neither too high nor too low."""
    lr = view.current_lr
    if lr is None or not lr > 0 or lr > SMALL_LR:
        return None
    if lr <= TINY_LR:
        return {"lr": lr, "tiny": 1}
    weak = None
    for c in (view.train, view.val):
        if c is not None and c.n >= MIN_TREND_POINTS:
            mk = mann_kendall(c.values)
            if mk.tau <= -CRAWL_TAU and mk.p_down < 0.01 and _gained(view) >= MIN_CRAWL_GAIN:
                share = late_share(c.smooth if c is view.train else c.values, x=c.t)
                return {"lr": lr, "tiny": 0, "tau": round(mk.tau, 3), "p_down": float(f"{mk.p_down:.3g}"),
                        "on_val": int(c is view.val), "late_share": round(share, 3),
                        "settled": int(share < SETTLED_LATE_SHARE)}
            if weak is None and mk.tau < 0 and mk.p_down < AMBIGUOUS_P and _gained(view) >= MIN_DRIFT_GAIN:
                weak = {"lr": lr, "tiny": 0, "tau": round(mk.tau, 3), "p_down": float(f"{mk.p_down:.3g}"),
                        "on_val": int(c is view.val), "ambiguous": 1}
    # A downward drift short of an ordered crawl (or too small to be one) at a small rate: the same run
    # reads as 'stuck, too high' or 'crawling, too low' depending on its minibatch noise (found in
    # review: one straight 0.40 -> 0.37 fine-tune got keep, increase or decrease by noise level alone).
    # Neither direction is supported, so the rules say so instead of guessing.
    return weak


# Below this share of its start, an ordered fall is not evidence of a crawl: a loss at chance level
# drifts that much as its output biases learn the class prior, at any rate.
MIN_CRAWL_GAIN = 0.02
# A downward trend this significant at a small rate, on a loss that ended this far below its start,
# makes PL01's "stuck, too high" unsafe too (a loss that rose and came back to its start is no drift).
AMBIGUOUS_P = 0.05
MIN_DRIFT_GAIN = 0.005


def _gained(view: View) -> float:
    c = progress_curve(view, min_points=2, finite=True)
    start = start_level(view)
    return 0.0 if c is None or not start > 0 else max(0.0, 1.0 - c.tail() / start)


class LearnsOnlyAfterDecay(Rule):
    """The loss made almost no progress while the LR was at its peak and fell only once the schedule lowered it.

    What it detects
        With a logged, decaying schedule: the share of the total improvement of the smoothed train
        loss made while the LR was at least ``peak_fraction`` of its peak is below
        ``max_peak_share``, while the total improvement is at least ``min_improvement`` of the start.
        The LR at the step where the loss began to fall is reported.

    Why it matters
        Progress that starts only when the LR decays means the peak LR was too high to make
        progress (the optimiser bounced); the LR where learning began is a good upper bound for the
        rate.  A healthy schedule shows most of the progress at the peak and a smaller extra drop at
        each decay.

    Evidence
        ``peak_share`` (share of the improvement made at >= ``peak_fraction`` of the peak LR),
        ``improvement``, ``onset_step`` and ``lr_at_onset`` (where the loss first fell by a quarter
        of its total improvement).

    Options
        ``peak_fraction`` = 0.5; ``max_peak_share`` = 0.2; ``min_improvement`` = 0.1.
    """

    code = "PL02"
    name = "learns-only-after-decay"
    kind = "plateau"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        peak_fraction: float = 0.5
        max_peak_share: float = 0.2
        min_improvement: float = 0.1
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c, sched = progress_curve(view, min_points=options.min_points, finite=True), view.schedule
        if c is None or sched is None or sched.kind not in ("step", "smooth-decay"):
            return
        lr = view.lr_at_steps(c.steps)
        at_peak = lr >= options.peak_fraction * sched.peak_lr
        start, end = c.head(), float(c.smooth[-1])
        total = start - end
        if not at_peak.any() or at_peak.all() or start <= 0 or total <= 0 or total < options.min_improvement * start:
            return
        last_peak = int(np.flatnonzero(at_peak)[-1])
        peak_share = (start - float(c.smooth[: last_peak + 1].min())) / total
        if peak_share > options.max_peak_share:
            return
        onset_i = int(np.argmax(c.smooth <= start - 0.25 * total))
        onset = int(c.steps[onset_i])
        lr_onset = float(lr[onset_i])
        yield self.finding(
            run,
            f"{c.tag} made only {max(peak_share, 0):.0%} of its progress at the peak LR {sched.peak_lr:.3g}; "
            f"it began to fall at step {onset:,} when the schedule had lowered the LR to {lr_onset:.3g}",
            tag=c.tag, start_step=int(c.steps[0]), end_step=onset,
            evidence={"peak_share": round(peak_share, 4), "improvement": round(total / start, 4),
                      "onset_step": onset, "lr_at_onset": lr_onset, "peak_lr": sched.peak_lr},
        )


class DropAfterDecay(Rule):
    """The loss fell by half or more right after a step decay of the LR.

    What it detects
        With a step schedule: the median train loss over the first half of the phase after a decay
        step is below ``1 - min_drop`` of its median over the second half of the phase before it (where
        that phase had settled), and the drop is at least ``min_z`` noise sigmas of those medians, on
        a log scale (the level and the scatter of a loss near 0 are multiplicative: a memorised loss
        jumping between 1e-4 and 0.3 halves by chance between two handfuls of points).

    Why it matters
        With too large a step the optimiser bounces around the minimum at a distance set by the
        step size (the SGD "noise ball" scales with the LR).  Cutting the LR then lets the loss fall
        at once to a much lower level: the rate before the decay was holding the loss up.  That is
        also what a step schedule is designed to do, so it is **info**, evidence to read next to the
        other findings, and moves no LR by itself: measured over both labelled suites, the loss halved
        at a decay as often at a well-tuned peak LR (the upper half of the sweep's good band) as at a
        too-high one (docs/scores.md).

    Evidence
        ``decay_step``, ``before``, ``after``, ``drop`` (relative), ``lr_before``, ``lr_after``.

    Options
        ``min_drop`` = 0.5 (the loss halves); ``min_z`` = 4.
    """

    code = "PL03"
    name = "drop-after-decay"
    kind = "plateau"
    severity = Severity.INFO
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_drop: float = 0.5
        min_z: float = 4.0
        min_points: int = 20

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c, sched = progress_curve(view, min_points=options.min_points), view.schedule
        if c is None or sched is None or not sched.decay_steps:
            return
        # The noise-ball picture is multiplicative (the loss level scales with the LR), and so is the
        # scatter of a loss near 0 (1e-4 next to 0.3): the drop is weighed on log(loss), against the
        # point-to-point scatter of log(loss), for the median of each side.
        logs = np.log(np.maximum(c.values, np.finfo(float).tiny))
        sigma = diff_noise(logs) * np.sqrt(np.pi / 2)  # a median's noise is sqrt(pi / 2) times a mean's
        bounds = [float(c.steps[0]), *map(float, sched.decay_steps), float(c.steps[-1]) + 1]
        for start, decay, end in zip(bounds, bounds[1:], bounds[2:]):
            drop = _drop_at(c, logs, sigma, start, decay, end, options)
            if drop is None:
                continue
            before, after = drop
            step = int(decay)
            lr_b, lr_a = view.lr_at_step(step - 1), view.lr_at_step(step)
            yield self.finding(
                run,
                f"{c.tag} fell from {before:.3g} to {after:.3g} right after the LR decay at step {step:,} "
                f"({lr_b:.3g} -> {lr_a:.3g}): the rate before it was holding the loss up",
                tag=c.tag, start_step=step, end_step=step,
                evidence={"decay_step": step, "before": before, "after": after,
                          "drop": round(1 - after / before, 4), "lr_before": lr_b, "lr_after": lr_a},
            )
            return


def _drop_at(c: Curve, logs: np.ndarray, sigma: float, start: float, decay: float, end: float,
             options: DropAfterDecay.Options) -> tuple[float, float] | None:
    """(before, after) medians around ``decay`` when the loss fell by ``min_drop`` and ``min_z`` sigmas of
    log(loss) from the settled half of the phase before to the first half of the phase after; else None."""
    b_logs, a_logs = phase_halves(c.steps, logs, decay, start=start, end=end)
    if b_logs.size < 3 or a_logs.size < 3:
        return None
    log_drop = float(np.median(b_logs) - np.median(a_logs))
    b_raw, a_raw = phase_halves(c.steps, c.values, decay, start=start, end=end)
    before, after = float(np.median(b_raw)), float(np.median(a_raw))
    noise = sigma * np.sqrt(1.0 / b_logs.size + 1.0 / a_logs.size)
    if after < (1 - options.min_drop) * before and log_drop > options.min_z * noise:
        return before, after
    return None
