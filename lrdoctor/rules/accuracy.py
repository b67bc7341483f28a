"""Accuracy views: the validation accuracy never moved or fell back (PL04, plateau family), the
training accuracy gave back what it had learned (DV04), and a validation loss that no sane
probability can produce at that accuracy (DV05) -- both divergence family."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS, Run
from ..signal.changepoints import halfway_index
from ..signal.noise import diff_noise
from ..signal.smoothing import rolling_median
from ..signal.trend import mann_kendall
from ._view import measured, on_train_axis, smoothing_window, start_level, usable_val, view_of
from .base import Rule
from .overfitting import memorising
from .plateau import slow_learner


class AccuracyStuckOrCollapsed(Rule):
    """The validation accuracy stayed pinned at one value, or collapsed from its best.

    What it detects
        Over at least ``min_points`` evaluations: (a) pinned — the accuracy never varied by more
        than ``pinned_range`` (absolute), while the loss is not that of a slow learner (SC01's picture:
        a steady fall that has not settled, ``plateau.slow_learner``); or (b) collapsed —
        the last two evaluations are ``collapse_drop`` (absolute) or more below the best, or the
        accuracy's level (running median of three evaluations) gave back at least ``giveback`` of what
        it had gained above its lowest level, by at least ``min_z`` evaluation-noise sigmas
        (second-difference scatter) and more than ``pinned_range``: DV02's "gave back half its
        progress", read on the accuracy -- unless the run is memorising (OF01's picture: validation
        loss turned up from its minimum while the train loss kept falling), where a falling validation
        accuracy is overfitting, not a model knocked dead.  Uses the
        validation accuracy only: a minibatch train accuracy scatters too much to read single points.
        An accuracy that is 0 throughout is taken as a metric that does not apply, not as a model; one
        logged in per cent (above 1, at most 100) is read as a fraction.

    Why it matters
        Accuracy is a scale-free view of the same model: a network that predicts one class for every
        input scores exactly that class's frequency at every evaluation, however its loss moves.  A
        pinned accuracy while the optimiser keeps stepping, or a learned accuracy lost again, are the
        classic signatures of a rate so high that units died or the outputs saturated.  A slow
        learner's accuracy is also nearly flat, but its loss falls steadily and has not settled, which
        is checked; and a slow learner that has only learned the class prior so far (an imbalanced task)
        slid onto that level without ever rising above where it began, which is checked too.  A loss
        that falls back *onto* a level after an early explosion (it stood above its start), or that
        settled after rising on the way, while the accuracy never moved, is a model that converged to
        a constant predictor.

    Evidence
        ``first``, ``best``, ``last``, ``range``, ``drop`` (best - last).

    Options
        ``pinned_range`` = 0.01 (one percentage point); ``collapse_drop`` = 0.25 (a quarter of all
        examples); ``giveback`` = 0.5 and ``min_z`` = 4 (as DV02); ``min_points`` = 5; ``min_improvement`` = 0.1 (PL01's margin: a loss that ended more
        than 10 % below its start learned something the accuracy does not show, e.g. the class prior of
        an imbalanced task; it is not pinned).
    """

    code = "PL04"
    name = "accuracy-stuck-or-collapsed"
    kind = "plateau"
    severity = Severity.ERROR
    requires = (VAL_ACC,)

    @dataclass(frozen=True)
    class Options:
        pinned_range: float = 0.01
        collapse_drop: float = 0.25
        giveback: float = 0.5
        min_z: float = 4.0
        min_points: int = 5
        min_improvement: float = 0.1

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        series = run.get(VAL_ACC)
        acc = _working_fraction(series, options.min_points)
        if acc is None:
            return
        view = view_of(run)
        first, best, last = float(acc[0]), float(acc.max()), float(np.max(acc[-2:]))
        spread = float(acc.max() - acc.min())
        if spread <= options.pinned_range and not slow_learner(view) and not _learned_beyond_accuracy(view, options) \
                and not _only_fell(view, options):
            why = f"stayed pinned at {first:.3f} ({spread * 100:.1f} points of range over {acc.size} evaluations)"
        elif (best - last >= options.collapse_drop or _gave_back(acc, last, options)) and memorising(view) is None:
            why = f"collapsed from its best {best:.3f} to {last:.3f} (lowest {float(acc.min()):.3f})"
        else:
            return
        tag = run.roles.get(VAL_ACC, "")
        yield self.finding(
            run, f"{tag} {why}: the model stopped discriminating, a sign of a rate high enough to kill units",
            tag=tag, start_step=int(series.steps[0]), end_step=int(series.steps[-1]),
            evidence={"first": first, "best": best, "last": last, "range": spread, "drop": best - last},
        )


def _working_fraction(series, min_points: int) -> np.ndarray | None:
    """The finite accuracy values as a fraction in [0, 1] (a percentage, 0-100, is divided by 100), or
    None when they are neither (another metric), a dead metric (0 throughout) or fewer than ``min_points``."""
    scale = _percent_scale(series, min_points)
    return None if scale is None else series.values[np.isfinite(series.values)] / scale


def _percent_scale(series, min_points: int) -> float | None:
    """1 for an accuracy logged as a fraction, 100 for one logged in per cent, None for anything else."""
    if series is None:
        return None
    acc = series.values[np.isfinite(series.values)]
    if acc.size < min_points or acc.min() < 0 or acc.max() <= 0:
        return None
    if acc.max() <= 1.0 + 1e-9:
        return 1.0
    return 100.0 if acc.max() <= 100.0 + 1e-6 else None


class TrainAccuracyCollapsed(Rule):
    """The training accuracy gave back what it had learned, and stayed down.

    What it detects
        Over at least ``min_points`` logged values of the *training* accuracy: its top (the first value,
        or the best level of a running median) stands above where it ended (the better of the level and
        the last two values) by at least ``giveback`` of the gain above its lowest level (or its first
        value), by at least ``min_z`` noise sigmas (second-difference scatter) and by more than
        ``min_drop`` (absolute).  The first value counts as a level of its own: an epoch-level log (Keras)
        averages a whole epoch into it, and a rate that breaks the model *within* the first epoch leaves
        its only trace there -- a first-epoch accuracy above chance, chance ever after.  Not while the
        train loss is still falling steadily in the second half of the run (Mann-Kendall, one-sided
        p < 0.01): a model knocked to a constant predictor has a flat loss, one that is still learning
        (say, under class weights that trade plain accuracy for the rare classes) does not.

    Why it matters
        The optimiser's job is to fit the training data.  When the accuracy on that same data falls and
        stays fallen, the updates are making the model worse: divergence, read on a scale-free metric.
        It shows where the loss cannot: an epoch mean of the loss mixes the explosion and the fall back
        onto a constant predictor into one number, which can sit *below* the first epoch's, and a
        blow-up of a classifier to its chance loss (ln k) is no rise when the start was ln k too.
        Overfitting and slow learning both keep the training accuracy rising, so neither is read as this.

    Evidence
        ``first``, ``top``, ``last``, ``lowest``, ``drop`` (top - last), ``giveback`` (share of the gain
        lost), ``onset_step`` (first step past the top where the level was half way down) and its LR.

    Options
        ``giveback`` = 0.5 and ``min_z`` = 4 (DV02's "gave back half its progress", beyond noise);
        ``min_drop`` = 0.01 (one percentage point, PL04's pinned range); ``min_points`` = 5.
    """

    code = "DV04"
    name = "train-accuracy-collapsed"
    kind = "divergence"
    severity = Severity.ERROR
    requires = (TRAIN_ACC,)

    @dataclass(frozen=True)
    class Options:
        giveback: float = 0.5
        min_z: float = 4.0
        min_drop: float = 0.01
        min_points: int = 5

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        series = run.get(TRAIN_ACC)
        acc = _working_fraction(series, options.min_points)
        if acc is None:
            return
        view = view_of(run)
        if _train_loss_still_falling(view):
            return  # still learning: a falling accuracy there is a reweighted or noisy metric, not a broken model
        steps = on_train_axis(series, run.get(TRAIN_LOSS), at_epoch_end=True)[np.isfinite(series.values)]
        level = rolling_median(acc, window=smoothing_window(acc.size))
        first = float(acc[0])
        i_top = int(np.argmax(level))
        top = max(first, float(level[i_top]))
        if first >= top:
            i_top = 0
        lowest = min(first, float(level.min()))
        now = max(float(level[-1]), float(np.max(acc[-2:])))
        if not _lost_gain(acc, top, lowest, now, options.giveback, options.min_z, options.min_drop):
            return
        drop = top - now
        onset = int(steps[halfway_index(level, i_top, top, now)])
        lr = view.lr_at_step(onset)
        tag = run.roles.get(TRAIN_ACC, "")
        yield self.finding(
            run, f"{tag} fell from {top:.3f} to {now:.3f} from about step {onset:,} and stayed (lost "
                 f"{drop / (top - lowest):.0%} of what it had gained): the updates made the model worse on its own "
                 f"training data",
            tag=tag, start_step=onset, end_step=int(steps[-1]),
            evidence=measured(first=first, top=top, last=now, lowest=lowest, drop=drop,
                              giveback=round(drop / (top - lowest), 4), onset_step=onset, lr_at_onset=lr),
        )


class LogitsBlewUp(Rule):
    """At its best, the validation loss per misclassified example was beyond any sane probability.

    What it detects
        A classifier (validation accuracy and loss logged at the same evaluations, at least
        ``min_points``): at every evaluation, the validation loss divided by the error rate
        (1 - accuracy) exceeds ``max_nats`` -- its smallest value over the run is reported.

    Why it matters
        A cross-entropy is the mean of -ln p(true class); the correctly classified examples add
        little, so loss / error rate bounds from above what the model paid, in nats, per mistake.
        Above 87.3 nats (-ln of float32's smallest normal number, 1.2e-38) the model gave the true class
        a probability no float32 softmax can hold, *on average over its mistakes, at its best
        evaluation*: its logits are hundreds apart, which takes weights that blew up.  Overfitting on
        noisy labels stays far below (the labelled suites: at most ~31 nats on runs that did not
        diverge).  It catches an explosion that happened before the first logged point (the loss is
        already in the hundreds when logging starts, so no rise is ever seen) and that training then
        hid by memorising the training set.  The loss itself must also exceed ``min_loss`` = ln 1000:
        correctly classified examples cost at most ln k each (their class has the top probability), so
        at 99 %+ accuracy an underconfident or label-smoothed model (loss 0.5-1 nats) could otherwise
        reach the ratio; a loss above ln 1000 is worse than guessing among a thousand classes.

    Evidence
        ``nats_per_error`` (the smallest ratio), ``val_loss`` and ``val_acc`` at that evaluation, ``step`` (on
        the train-step axis).  Evaluations that are not finite, have accuracy 1 or a negative loss are
        left out; at least half must be usable.  When a train loss is logged it must have stood above
        ``min_loss`` at some point: a validation loss summed over batches instead of averaged makes the
        same ratio without any blow-up.

    Options
        ``max_nats`` = 87.3; ``min_loss`` = 6.91 (ln 1000); ``min_points`` = 3.
    """

    code = "DV05"
    name = "logits-blew-up"
    kind = "divergence"
    severity = Severity.ERROR
    requires = (VAL_ACC, VAL_LOSS)

    @dataclass(frozen=True)
    class Options:
        max_nats: float = 87.3
        min_loss: float = 6.91
        min_points: int = 3

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        acc_s, loss_s = run.get(VAL_ACC), run.get(VAL_LOSS)
        scale = _percent_scale(acc_s, options.min_points)
        if scale is None or not np.array_equal(acc_s.steps, loss_s.steps):
            return
        train = run.get(TRAIN_LOSS)
        if train is not None and not np.any(train.values[np.isfinite(train.values)] > options.min_loss):
            return  # the train loss never stood that high: a validation loss summed over batches, not a blow-up
        acc, loss = acc_s.values / scale, loss_s.values
        usable = np.isfinite(acc) & np.isfinite(loss) & (acc < 1.0) & (loss >= 0)
        if np.count_nonzero(usable) < options.min_points or np.count_nonzero(usable) < 0.5 * acc.size:
            return
        nats = loss[usable] / (1.0 - acc[usable])
        i = int(np.argmin(nats))
        best_loss, best_acc = float(loss[usable][i]), float(acc[usable][i])
        if nats[i] <= options.max_nats or best_loss <= options.min_loss:
            return
        step = int(on_train_axis(acc_s, train, at_epoch_end=True)[usable][i])
        tag = run.roles.get(VAL_LOSS, "")
        yield self.finding(
            run, f"{tag} was at best {best_loss:.3g} at accuracy {best_acc:.3f} (step {step:,}): "
                 f"{nats[i]:,.0f} nats per misclassified example, beyond any float32 probability -- the logits blew up",
            tag=tag, start_step=int(acc_s.steps[0]), end_step=int(acc_s.steps[-1]),
            # No LR at an onset: the break came before the first logged point, so advice uses the peak LR.
            evidence=measured(nats_per_error=float(f"{nats[i]:.4g}"), val_loss=best_loss, val_acc=best_acc, step=step),
        )


def _learned_beyond_accuracy(view, options) -> bool:
    """The loss ended well below its start (``min_improvement``, PL01's margin): the model learned
    something the accuracy does not show.  On an imbalanced task a model learns the class prior and
    calibrates without ever beating the majority accuracy; a model knocked dead sits at its start level
    or falls back onto it."""
    c = view.train
    if c is None or c.n < 3 or not view.positive:
        return False
    start = start_level(view)
    reached = min(c.tail(), float(view.val.values.min()) if usable_val(view) else np.inf)
    return start > 0 and start - reached > options.min_improvement * start


def _train_loss_still_falling(view) -> bool:
    """The train loss's second half is a significant fall (Mann-Kendall, one-sided p < 0.01)."""
    c = view.train
    if c is None or c.n < 8:
        return False
    return mann_kendall(c.values[c.n // 2:]).p_down < 0.01


def _only_fell(view, options) -> bool:
    """The train loss only ever fell from where it began: it ended more than 3 noise sigmas below its
    first point, its smoothed level never rose above that point by more than 3 sigmas, and that first
    point is no explosion (within ``min_improvement`` of the start level).  A model knocked dead got
    there through a rise (an explosion, a blow-up, a bounce); a slow learner that has so far learned
    only the class prior slid onto it from the start."""
    c = view.train
    if c is None or c.n < 3 or not view.positive:
        return False
    first = float(c.values[0])
    fell = first - c.tail() > 3 * c.noise  # a flat curve at chance from the start did not slide anywhere
    never_rose = float(np.max(c.smooth)) <= first + 3 * c.noise
    return fell and never_rose and first <= (1 + options.min_improvement) * start_level(view)


def _gave_back(acc: np.ndarray, last: float, options) -> bool:
    """The last evaluations gave back ``giveback`` of the gain above the lowest accuracy, beyond noise.

    Levels are read from a running median of three evaluations: one evaluation on a few hundred
    examples can jump by chance, a level is what two of three neighbours agree on.  The end is
    ``last``, the better of the final two evaluations (one bad final evaluation is not a collapse)."""
    level = rolling_median(acc, window=3)
    # A drop within ``pinned_range`` is what "the accuracy did not move" allows: not a collapse.
    return _lost_gain(acc, float(level.max()), float(level.min()), last, options.giveback, options.min_z,
                      options.pinned_range)


def _lost_gain(acc: np.ndarray, top: float, lowest: float, now: float, giveback: float, min_z: float,
               floor: float) -> bool:
    """``now`` sits ``giveback`` or more of the gain ``top - lowest`` below ``top``, and by more than
    ``min_z`` sigmas of the accuracy's point-to-point scatter and more than ``floor``: lost, not noise."""
    drop = top - now
    return top > lowest and drop >= giveback * (top - lowest) and drop > max(min_z * diff_noise(acc), floor)
