"""Divergence family (DV): the loss became non-finite, blew up above its start, or exploded."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run
from ..signal.changepoints import halfway_index
from ..signal.jumps import first_burst
from ._view import (Curve, View, measured, progress_curve, ratio_curve, smoothing_window, start_level, usable_val,
                    view_of)
from .base import Rule


def _fmt_lr(lr: float | None) -> str:
    return "an unlogged LR" if lr is None else f"lr {lr:.3g}"


class NonFiniteLoss(Rule):
    """The training or validation loss became NaN or infinite.

    What it detects
        The first logged NaN/inf in the train loss (or, failing that, in the validation loss once it
        had been finite: a validation loss that is NaN from its first point while training is finite
        is a data problem, not divergence, DQ07).  A train loss that is NaN/inf from its first logged
        point, or whose only finite value is an absurd first one (above 1e15), is reported as broken
        from the start (``broken_from_start``).

    Why it matters
        A non-finite loss means the weights overflowed: the step size was too large for the
        curvature the model met (or the warmup too short).  Nothing after it is usable.  But a loss
        that is NaN before any update had run is a code or data bug, not a step size: advice abstains.

    Evidence
        ``onset_step``, ``lr_at_onset`` (the logged LR at that step), ``onset_fraction`` (how
        far into the logged run it happened, 0..1), ``lr_onset_over_peak``; for a loss broken
        from the start ``broken_from_start`` = 1 and ``first_value`` (the one finite value, if any).

    Options
        none.
    """

    code = "DV01"
    name = "non-finite-loss"
    kind = "divergence"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        view = view_of(run)
        for curve in (view.train, view.val):
            if curve is None or curve.first_bad_step is None:
                continue
            if curve is view.val and curve.n == 0 and view.train is not None and view.train.first_bad_step is None:
                continue  # validation NaN from its first point while training is finite: a data problem
            step = curve.first_bad_step
            if curve is view.train and not view.train_is_epoch_level and _broken_from_start(curve, run.get(TRAIN_LOSS)):
                yield self._broken_from_start(run, view, curve)
                return
            lr = view.lr_at_step(step)
            last = float(view.train.steps[-1]) if view.train is not None and view.train.n else 0.0
            total = max(float(run.get(TRAIN_LOSS).steps.max(initial=0)), 1.0)
            peak = view.current_lr
            yield self.finding(
                run,
                f"{curve.tag} became NaN/inf at step {step:,} ({_fmt_lr(lr)})",
                tag=curve.tag, start_step=step, end_step=step,
                evidence=measured(
                    onset_step=step,
                    lr_at_onset=lr,
                    onset_fraction=round(min(last, step) / total, 4),
                    lr_onset_over_peak=None if (lr is None or not peak) else round(lr / peak, 4),
                ),
            )
            return


    def _broken_from_start(self, run: Run, view: View, curve: Curve) -> Finding:
        first = f"its first logged value {curve.values[0]:.3g} and " if curve.n else ""
        return self.finding(
            run, f"{curve.tag} is NaN/inf from its first logged points ({first}NaN/inf from step {curve.first_bad_step:,}): "
                 f"broken before training could diverge, a code or data bug",
            tag=curve.tag, start_step=curve.first_bad_step, end_step=curve.first_bad_step,
            evidence=measured(onset_step=curve.first_bad_step, onset_fraction=0.0, broken_from_start=1,
                              first_value=float(curve.values[0]) if curve.n else None))


# A finite loss above this at the first logged point is no training signal: a squared error of
# float32 targets as large as 1e7 (unnormalised prices, raw pixel sums) stays below it.
ABSURD_LOSS = 1e15


def _broken_from_start(curve: Curve, series) -> bool:
    """Logged at step 0 (step-level log), and no finite value before the first NaN/inf, or only one and
    that one absurd (``ABSURD_LOSS``).

    A step-level loss at step 0 was computed before the first update: NaN there, or a value like 1e24,
    comes from the data, the loss code or the initialisation -- no step size has acted yet.  A first
    point logged after some updates, or an epoch mean, can already hold a divergence; a loss that was
    sane and then broke is divergence."""
    if series is None or len(series) == 0 or int(series.steps[0]) != 0:
        return False
    return curve.n == 0 or (curve.n == 1 and abs(float(curve.values[0])) > ABSURD_LOSS)


class LossBlowUp(Rule):
    """The training loss ended well above where it started, or gave back most of its progress.

    What it detects
        (a) the median loss over the last 10 % of the run is more than ``rise_over_start``
        (relative) above the median of the first points, or (b) it climbed back from its best
        (smoothed) level by more than ``giveback`` of the improvement made, and stayed there --
        unless the validation loss (5+ evaluations, logged past the give-back's onset) was still at its
        best in its last tenth of evaluations (the model was still improving on held-out data; the
        smoothed minimum of a minibatch curve is an extreme of its noise).  Both must exceed ``min_z`` times the noise of those medians, so minibatch noise alone
        cannot trigger it.  (c) more than ``bounce_share`` of the points in the last half lie
        ``bounce_rel`` (relative) and 3 noise sigmas above the start: the loss keeps bouncing out.
        (d) the smoothed loss stayed above the start by the margins of (a) for at least
        ``min_excursion`` of the run, even if it came back later (a transient blow-up).

    Why it matters
        A loss that ends above its start, or that gives back what it learned, is the slow form of
        divergence: updates too large for the loss surface, often after a warmup or a spike.

    Evidence
        ``start``, ``best``, ``end`` levels, ``rise_over_start``, ``giveback`` (share of the
        improvement lost), ``share_above_start``, ``excursion``, ``onset_step`` (where the smoothed loss left its best level) and its LR.

    Options
        ``rise_over_start`` = 0.2 (the benchmark's "final > 1.2 x initial" margin);
        ``giveback`` = 0.5 (half of the gains lost); ``min_progress`` = 0.05 (for (b) the gains must
        be at least 5 % of the start); ``min_z`` = 4; ``bounce_rel`` = 0.5;
        ``bounce_share`` = 0.25; ``min_excursion`` = 0.1 (a tenth of the run: sustained, not a spike).
    """

    code = "DV02"
    name = "loss-blew-up"
    kind = "divergence"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        rise_over_start: float = 0.2
        giveback: float = 0.5
        min_progress: float = 0.05
        min_z: float = 4.0
        bounce_rel: float = 0.5
        bounce_share: float = 0.25
        min_excursion: float = 0.1
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = progress_curve(view, min_points=options.min_points)
        if c is None:
            return
        m = _measure_blow_up(c, options)
        if m.lost and _val_best_at_end(view, _departure_step(c, m.i_best, m.best, m.end)):
            # The model was still getting better on held-out data when the run ended: the train curve's
            # give-back is the noise of its smoothed minimum (an extreme over many windows), not a blow-up.
            m = dataclasses.replace(m, lost=False)
        if not (m.rose or m.lost or m.bouncing or m.climbed):
            return
        if m.lost and not m.rose:
            onset = _departure_step(c, m.i_best, m.best, m.end)
        else:  # where the smoothed loss first went above the start by the margins of (a)
            above = np.flatnonzero(c.smooth > m.ceiling)
            onset = int(c.steps[above[0]]) if above.size else int(c.steps[-1])
        lr = view.lr_at_step(onset)
        start, best, end = m.start, m.best, m.end
        yield self.finding(
            run, f"{c.tag} {_blow_up_why(c, m)}, from about step {onset:,} ({_fmt_lr(lr)})",
            tag=c.tag, start_step=onset, end_step=int(c.steps[-1]),
            evidence=measured(start=start, best=best, end=end, rise_over_start=round(end / start - 1, 4) if start else None,
                              giveback=round((end - best) / (start - best), 4) if best < start else None,
                              share_above_start=round(m.share_above, 4), excursion=round(m.excursion, 4), onset_step=onset,
                              lr_at_onset=lr),
        )


@dataclass(frozen=True)
class _BlowUp:
    """DV02's measurements of one curve: its levels and which of the four signs (a)-(d) it shows."""

    start: float
    best: float
    i_best: int
    end: float
    ceiling: float  # the start plus the margins of (a): "well above the start"
    share_above: float
    excursion: float
    rose: bool
    lost: bool
    bouncing: bool
    climbed: bool


def _measure_blow_up(c: Curve, options: LossBlowUp.Options) -> _BlowUp:
    start, end = c.head(), c.tail()
    # Noise of a difference of two medians: the head's 3 points and the tail's points.
    noise = float(np.hypot(c.noise / np.sqrt(min(3, c.n)), c.tail_noise()))
    i_best = int(np.argmin(c.smooth))
    best = float(c.smooth[i_best])
    rose = end - start > options.rise_over_start * abs(start) and end - start > options.min_z * noise
    # Giving back progress needs real progress first: the improvement itself must stand out of the noise.
    progress = (start - best) > options.min_z * noise and (start - best) > options.min_progress * start
    # A climb back needs a stretch after the best: a best inside the tail's own points (where the running
    # median's window shrinks and its minimum is an extreme of the noise) gave nothing back (found on
    # blind-labelled real logs: a loss flat at ln 2 whose smoothed minimum fell 2 points before the end).
    after_best = i_best < c.n - max(3, int(np.ceil(0.1 * c.n)))
    lost = progress and after_best and (end - best) > options.giveback * (start - best) \
        and (end - best) > options.min_z * noise
    # Bouncing out of the basin: a good part of the last half far above the start (50 % and 3 sigma).
    late = c.values[c.n // 2:]
    share_above = float(np.mean(late > start + max(options.bounce_rel * abs(start), 3 * c.noise)))
    # (d) a sustained excursion: the smoothed loss above the start (by the same margins as (a))
    # for a stretch of the run, even if it came back down later.
    ceiling = start * (1 + options.rise_over_start) + options.min_z * noise
    edge = min(c.n - 1, max(2, c.n // 40))  # the running median's edge still mixes in the first fall
    excursion = float(np.sum(c.smooth[edge:] > ceiling)) / c.n
    return _BlowUp(start, best, i_best, end, ceiling, share_above, excursion, rose, lost,
                   bouncing=share_above > options.bounce_share, climbed=excursion >= options.min_excursion)


def _val_best_at_end(view: View, since_step: int) -> bool:
    """The validation loss (finite, at least ``MIN_VAL_FOR_BEST_AT_END`` evaluations, the last one at or
    after ``since_step``) was lowest in its last tenth of evaluations (at least the last one)."""
    v = view.val
    if not usable_val(view) or v.first_bad_step is not None or v.n < MIN_VAL_FOR_BEST_AT_END:
        return False
    if float(v.steps[-1]) < since_step:
        return False  # validation stopped before the give-back began: it cannot vouch for that stretch
    return int(np.argmin(v.values)) >= v.n - max(1, int(np.ceil(0.1 * v.n)))


# Fewer evaluations cannot show where the validation minimum sits: with three, "the last tenth" is one.
MIN_VAL_FOR_BEST_AT_END = 5


def _blow_up_why(c: Curve, m: _BlowUp) -> str:
    if m.rose:
        return f"ended at {m.end:.3g}, above its starting level {m.start:.3g}, the median of its first points"
    if m.lost:
        return (f"climbed from its best {m.best:.3g} back to {m.end:.3g} "
                f"(lost {(m.end - m.best) / (m.start - m.best):.0%} of its progress)")
    if m.bouncing:
        return f"spent {m.share_above:.0%} of its last half far above its start {m.start:.3g}"
    return f"stayed above its start {m.start:.3g} for {m.excursion:.0%} of the run (peak {float(c.smooth.max()):.3g})"


def _level_before(c: Curve, i: int) -> float:
    """Median of the smoothing window of points before index ``i`` (0 when there are none)."""
    before = c.values[max(0, i - smoothing_window(c.n)):i]
    return float(np.median(before)) if before.size else 0.0


def _departure_step(c: Curve, i_best: int, best: float, end: float) -> int:
    """First step after the best point where the smoothed loss is half way from best to end."""
    return int(c.steps[halfway_index(c.smooth, i_best, best, end)])


class LossExploded(Rule):
    """The loss jumped by an order of magnitude above its typical level, or the validation loss blew up while training stalled.

    What it detects
        A train-loss point more than ``factor`` times the curve's median level and its starting level (at any time, also
        in the first steps; a step-level loss logged at step 0 is the untrained loss: it is then the start, and
        never a peak; a step-level first point logged ``LONG_BEFORE_EVAL`` (10) or more points before the first
        evaluation must also stand ``factor`` times above the median of the first three points, since that
        evaluation no longer tells where the run began), or a validation loss whose best value is above ``factor_val`` times the
        train loss at the same step while the train loss no longer improves (its
        final level is at least 80 % of the level at that step, which is at least half its start).
        On a reinforcement-learning run (DQ06), whose loss moves with the returns, the peak must also be
        ``factor`` times the level just before it (the median of a smoothing window of points).
        Or, after the first smoothing window (the initial fall), a burst: two or more points in a row
        more than ``factor`` squared times both the median level and the level just before them
        (``signal.jumps.first_burst``) -- a blow-up that a still larger first loss (unnormalised
        targets) would hide from the comparison with the start; one point alone is a hard batch.

    Why it matters
        Loss values an order of magnitude above the chance level mean the weights blew up; even if
        the run later settles, it settled where the explosion left it (dead units, collapsed outputs).

    Evidence
        ``peak``, ``typical`` (the larger of the median level and the start), ``ratio``, ``step`` and the LR there.

    Options
        ``factor`` = 10 (an order of magnitude); ``factor_val`` = 3.
    """

    code = "DV03"
    name = "loss-exploded"
    kind = "divergence"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        factor: float = 10.0
        factor_val: float = 3.0
        min_points: int = 4

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = ratio_curve(view, min_points=options.min_points)
        if c is None:
            return
        found = (self._train_explosion(run, view, c, options) or self._burst(run, view, c, options)
                 or self._val_blew_up(run, view, c, options))
        if found is not None:
            yield found

    def _burst(self, run: Run, view: View, c: Curve, options: Options) -> Finding | None:
        # A first loss far above everything after it (unnormalised targets) hides a later blow-up from the
        # comparison with the start: two or more points in a row ``factor``^2 above both the run's median
        # and the level just before them are blown-up weights wherever the run started.  The first
        # smoothing window is the initial fall, not a burst.
        w = smoothing_window(c.n)
        b = first_burst(c.values, factor=options.factor ** 2, window=w, skip=w)
        if b is None:
            return None
        step, peak, typical = int(c.steps[b.peak]), float(c.values[b.peak]), b.reference
        onset = int(c.steps[b.start])
        return self.finding(
            run, f"{c.tag} burst to {peak:.3g} at step {step:,} (from step {onset:,}), {peak / typical:,.3g}x its typical "
                 f"{typical:.3g} and the level just before ({_fmt_lr(view.lr_at_step(onset))})",
            tag=c.tag, start_step=onset, end_step=step,
            evidence=measured(peak=peak, typical=typical, ratio=round(peak / typical, 2), step=step, onset_step=onset,
                              lr_at_onset=view.lr_at_step(onset)),
        )

    def _train_explosion(self, run: Run, view: View, c: Curve, options: Options) -> Finding | None:
        # A step-level loss logged at step 0 was computed before the first update: the untrained loss,
        # where the run began -- the start itself, and never a jump.  Otherwise the start is the median of
        # the first points (or the first validation value), which an explosion in the first steps can
        # already hold.  (An epoch mean at epoch 0, or a first point logged after some updates, can hold
        # an explosion: those stay candidates.)
        first = 1 if c.steps[0] == 0 and not view.train_is_epoch_level else 0
        start = float(c.values[0]) if first else start_level(view)
        # Above both the typical level and the start, so a loss that simply fell a lot does not count.
        typical = max(float(np.median(c.values)), start)
        i_peak = first + int(np.argmax(c.values[first:]))
        peak = float(c.values[i_peak])
        if i_peak == 0 and _first_eval_long_after(view):
            # A step-level loss's first point, long before the first evaluation: an explosion there
            # stands above the points that follow it; a first loss with its next ones as high is where
            # learning began, however far the run fell before it was first evaluated (found on
            # blind-labelled real logs: an HF fine-tune's first loss, 5.28 at step 2, then 4.x, 3.x, was
            # called an explosion against the first evaluation's 0.304 at step 200, 100 points later).
            # Within the first few points of the first evaluation (a Keras batch log's running mean
            # carrying one huge first batch: 453, 227, 152, ... then 1.9 after the epoch) the
            # evaluation still tells where the run started.
            typical = max(typical, view.train.head())
        if i_peak == 0 and view.train_is_epoch_level and not usable_val(view):
            # The first epoch's mean holds the untrained loss and the whole first fall; with no
            # evaluation to say where the run began, it is the start, not an explosion (found on
            # blind-labelled real logs: a weather model's epoch losses 3415, 2.2, 2.4, ...).
            return None
        if not view.levels_comparable_over_time:
            # A reinforcement-learning loss moves with the returns (DQ06): the run's median and start can
            # sit far below where the loss stood when it jumped.  There an explosion must also be an
            # order of magnitude above the level just before it.
            typical = max(typical, _level_before(c, i_peak))
        if not (typical > 0 and peak > options.factor * typical):
            return None
        step = int(c.steps[i_peak])
        return self.finding(
            run, f"{c.tag} exploded to {peak:.3g} at step {step:,}, {peak / typical:,.3g}x its typical {typical:.3g} "
                 f"({_fmt_lr(view.lr_at_step(step))})",
            tag=c.tag, start_step=step, end_step=step,
            evidence=measured(peak=peak, typical=typical, ratio=round(peak / typical, 2), step=step,
                              lr_at_onset=view.lr_at_step(step)),
        )

    def _val_blew_up(self, run: Run, view: View, c: Curve, options: Options) -> Finding | None:
        if not usable_val(view):
            return None
        v = view.val
        i_best = int(np.argmin(v.values))
        best = float(v.values[i_best])
        # Compared with the train loss at the same step: before overfitting the two are close.
        train_then = float(np.interp(v.steps[i_best], c.steps, c.smooth))
        # A train loss that kept falling towards 0 makes any ratio large: only count it when the train
        # loss stopped improving after that point and never got far below its start (the model is stuck
        # where the explosion left it).
        train_flat = c.tail() >= 0.8 * train_then and train_then >= 0.5 * start_level(view)
        if not (train_then > 0 and train_flat and best > options.factor_val * train_then):
            return None
        return self.finding(
            run, f"{v.tag} was at best {best:.3g}, {best / train_then:.0f}x the train loss at that step: the model blew up",
            tag=v.tag, start_step=int(v.steps[0]), end_step=int(v.steps[-1]),
            evidence=measured(peak=best, typical=train_then, ratio=round(best / train_then, 2), step=int(v.steps[0]),
                              lr_at_onset=view.lr_at_step(int(v.steps[0]))),
        )


LONG_BEFORE_EVAL = 10  # train points logged before the first evaluation: it no longer tells where the run began


def _first_eval_long_after(view: View) -> bool:
    """A step-level train loss with ``LONG_BEFORE_EVAL`` or more points before the first validation
    value (or with no validation curve to say where the run began)."""
    if view.train_is_epoch_level:
        return False
    if not usable_val(view):
        return True
    return int(np.searchsorted(view.train.steps, view.val.steps[0])) >= LONG_BEFORE_EVAL
