"""Overfitting family (OF): validation loss turns up from its minimum while training loss keeps falling."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, VAL_LOSS, Run
from ._view import Curve, View, on_train_axis, progress_curve, view_of
from .metrics import MetricRead, read_metric
from .base import Rule


class ValidationTurnsUp(Rule):
    """Validation loss rose from its minimum while the training loss kept falling.

    What it detects
        The best validation point lies at least ``min_after`` of the evaluations (and 2) before the
        end and below the train loss's starting level, or ``min_rise`` below a validation loss evaluated
        before the first train point (HF Trainer's eval at step 0) -- the model first learned something
        that generalises; the final validation loss is above the minimum by more than ``min_rise`` (relative) and
        by more than ``min_z`` times the validation scatter; and the final train loss is below the
        train loss at the best point and below the final validation loss.

        When a validation task metric is logged (accuracy, WER, CER, F1, mAP, BLEU, ROUGE ...; ``tags.
        metric_direction`` knows which way is better), the metric decides (``rules.metrics``): a metric
        that improved from its first evaluation shows the model learned something that generalises even
        when the loss was lowest at its first evaluation (fine-tuning a pretrained model); a metric whose
        best lies in its last ``min_after`` of evaluations, or that ties its best there (within 0.1 %),
        is still improving or holding: the rising loss is over-confidence, the finding is only info and
        advice does not stop early; otherwise stop at the metric's best evaluation.

    Why it matters
        The model is memorising the training set.  This is not an LR direction by itself: stop at the
        best step (early stopping) or regularise.  The best step is reported.  But a classifier's (or
        recogniser's) validation loss also rises when it grows over-confident on the examples it still
        gets wrong while it gets more of them right: the task metric, not the loss, says whether
        training further hurt.

    Evidence
        ``best_step``, ``best_val``, ``final_val``, ``rise`` (relative), ``train_at_best``, ``final_train``;
        with a task metric ``metric_first``, ``metric_best``, ``metric_final``, ``metric_best_step``,
        ``metric_still_improving`` (1: over-confidence, info).

    Options
        ``min_after`` = 0.2 (a fifth of the run after the best point); ``min_rise`` = 0.1; ``min_z`` = 3.
    """

    code = "OF01"
    name = "validation-turns-up"
    kind = "overfitting"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS, VAL_LOSS)

    @dataclass(frozen=True)
    class Options:
        min_after: float = 0.2
        min_rise: float = 0.1
        min_z: float = 3.0
        min_points: int = 5

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        m = memorising(view, options, metric_at=lambda loss_best_step: _metric_of(run, loss_best_step, options))
        if m is None:
            return
        v, c, k = m.val, m.train, m.metric
        by = f"{m.rise:.0%} " if math.isfinite(m.rise) else ""  # inf: from a best of exactly 0
        what = (f"{v.tag} was lowest ({m.best_val:.3g}) at step {m.val_best_step:,} and rose {by}to {m.final_val:.3g} "
                f"while {c.tag} kept falling ({m.train_at_best:.3g} -> {m.final_train:.3g})")
        evidence = {"best_step": m.best_step, "best_val": m.best_val, "final_val": m.final_val,
                    "rise": round(m.rise, 4), "train_at_best": m.train_at_best, "final_train": m.final_train}
        severity = None
        if k is None:
            message = f"{what}: stop at step {m.best_step:,}"
        else:
            evidence.update(metric_first=k.first, metric_best=k.best, metric_final=k.final, metric_best_step=k.best_step,
                            metric_still_improving=int(k.holds))
            trend = f"{k.tag} ({k.direction} is better) went {k.first:.4g} -> best {k.best:.4g} at step {k.best_step:,} -> {k.final:.4g}"
            if k.holds:
                severity = Severity.INFO
                message = f"{what}, but {trend}: still improving or holding, so the rise is over-confidence, not a reason to stop"
            elif k.improved_since:
                message = f"{what}, and {trend}, worse since: stop at step {m.best_step:,}"
            else:
                message = f"{what}, and {trend}: {k.late_gain_text}: stop at step {m.best_step:,}"
        yield self.finding(run, message, severity=severity, tag=v.tag, start_step=m.best_step, end_step=int(v.steps[-1]),
                           evidence=evidence)


def _metric_of(run: Run, loss_best_step: int, options: ValidationTurnsUp.Options) -> MetricRead | None:
    """The run's validation task metric, read on the train-step axis (None when none is logged)."""
    return read_metric(run, lambda s: on_train_axis(s, run.get(TRAIN_LOSS), at_epoch_end=True),
                       loss_best_step=loss_best_step, min_after=options.min_after)


@dataclass(frozen=True)
class Memorising:
    """OF01's picture of a run: where validation was best, how far it rose, what training did meanwhile."""

    train: Curve
    val: Curve
    best_step: int  # where to stop: the metric's best evaluation when a metric is logged, else the loss's
    best_val: float
    final_val: float
    train_at_best: float
    final_train: float
    val_best_step: int = 0
    metric: MetricRead | None = None

    @property
    def rise(self) -> float:
        """Relative to the best value's size; inf from a best of exactly 0 (a loss can reach 0)."""
        return (self.final_val - self.best_val) / abs(self.best_val) if self.best_val else math.inf


def memorising(view: View, options: ValidationTurnsUp.Options = ValidationTurnsUp.Options(), *,
               metric_at: Callable[[int], MetricRead | None] | None = None) -> Memorising | None:
    """The validation loss turned up from its minimum while the train loss kept falling (None otherwise).

    PL04 asks it too: validation accuracy that falls while the model memorises is overfitting, not a
    model knocked dead.  ``metric_at(loss_best_step)`` reads the run's task metric (``rules.metrics``)."""
    # "Rose from its minimum" compares levels over time: not on a reinforcement-learning run (DQ06).
    c, v = progress_curve(view, min_points=3, finite=True), view.val
    if c is None or v is None or v.n < options.min_points or v.first_bad_step is not None:
        return None
    b = int(np.argmin(v.values))
    if b > v.n - 1 - max(2, math.ceil(options.min_after * v.n)):
        return None
    best, final = float(v.values[b]), float(np.median(v.values[-2:]))
    metric = None if metric_at is None else metric_at(int(v.steps[b]))
    # Below where training started (the first point, or the median of the first three when that is
    # higher: an epoch-level log's first three epoch means can already be far down a fast fall).  A task
    # metric that improved says it directly (a pretrained model starts below any "untrained" level).
    # A validation loss evaluated before the first train point (HF Trainer's eval at step 0) is where
    # training started too (found on blind-labelled real logs: eval loss 5.74 at step 0, 1.11 after the
    # first epoch, then rising as the train loss fell 1.1 -> 0.05; read as never learned, the accuracy
    # sliding with it was called a collapse and told /32).
    evaluated_untrained = v.steps[0] < c.steps[0] and b > 0  # before the first train point: untrained
    untrained = [c.head(), float(c.values[0])] + ([float(v.values[0])] if evaluated_untrained else [])
    learned = metric.learned if metric is not None else best < max(untrained)
    # The same evaluation before training shows the loss learned even where the task metric never beat
    # its pre-training value (a fine-tune whose accuracy slid from the first epoch on as it memorised).
    learned = learned or (evaluated_untrained and best < float(v.values[0]) * (1 - options.min_rise))
    if not learned:
        return None  # it never learned anything that generalised: a rise from there is not memorising
    # ``final`` is the median of two evaluations: its noise is sigma / sqrt(2).
    if final <= best * (1 + options.min_rise) or final - best <= options.min_z * max(v.noise, 1e-12) / math.sqrt(2):
        return None
    best_step = int(v.steps[b])
    train_at_best = float(np.interp(best_step, c.steps, c.smooth))
    final_train = c.tail()
    if not (final_train < train_at_best and final_train < final):
        return None
    # Stop at the metric's best when it gained after the loss's best and then stopped; where it gained
    # nothing beyond its scatter, the loss's best is as good a place and the earliest.
    stop_step = metric.best_step if metric is not None and metric.improved_since and not metric.holds else best_step
    return Memorising(c, v, stop_step, best, final, train_at_best, final_train, best_step, metric)
