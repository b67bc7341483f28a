"""A run's validation task metric (accuracy, WER, F1, mAP, BLEU, ROUGE ...) read the way early stopping reads it.

OF01 asks it whether a rising validation loss hurt what the user trains for (``tags.metric_direction``
says which way is better): a classifier's loss also rises when it grows over-confident on the examples it
still gets wrong, while it gets more of them right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..model import Run, Series
from ..signal.noise import diff_noise
from ..tags import validation_metrics

# Two evaluations within 0.1 % of each other are a tie: accuracy over a thousand examples moves in
# steps of 0.001, and a metric printed with three significant digits cannot tell them apart.
TIE = 1e-3
MIN_EVALUATIONS = 3
# A gain after the loss's best that is under a tenth of all the metric gained is not "still improving":
# the run bought little with the epochs in which the loss says the model grew over-confident (an
# accuracy creeping 0.720 -> 0.731 over a hundred epochs after reaching 0.72 from 0.585 in three).
MIN_LATE_GAIN_SHARE = 0.1


@dataclass(frozen=True)
class MetricRead:
    """A validation metric's first, best and final values, and what it did after the loss's best evaluation."""

    tag: str
    direction: str  # "higher" or "lower" is better
    first: float
    best: float
    final: float
    best_step: int  # the first evaluation that reached the best (within a tie)
    learned: bool  # the best beats the first evaluation by more than a tie
    at_best_at_end: bool  # the last evaluations reach the best (within a tie)
    gain_since: float  # the late level's gain over the metric at the loss's best (in the better direction)
    noise: float  # scatter of one evaluation (second-difference sigma)

    @property
    def improved_since(self) -> bool:
        """Better late than at the loss's best by more than one evaluation's scatter, a tie, and a tenth of
        the metric's whole gain (``MIN_LATE_GAIN_SHARE``)."""
        whole = abs(self.best - self.first)
        return self.gain_since > max(self.noise, TIE * abs(self.best), MIN_LATE_GAIN_SHARE * whole)

    @property
    def late_gain_text(self) -> str:
        """Why ``improved_since`` is false, in words: the gain since the loss's best against its bar."""
        whole = abs(self.best - self.first)
        bars = {"one evaluation's scatter": self.noise, "a tie": TIE * abs(self.best),
                f"a tenth of its whole gain ({whole:.3g})": MIN_LATE_GAIN_SHARE * whole}
        name, bar = max(bars.items(), key=lambda item: item[1])
        return f"it gained {max(self.gain_since, 0.0):.3g} since the loss's best, not more than {name}"

    @property
    def holds(self) -> bool:
        """Still improving: better since the loss's best, and at its best at the end.  Then a rising loss
        is over-confidence, not a reason to stop."""
        return self.at_best_at_end and self.improved_since


def read_metric(run: Run, axis: Callable[[Series], np.ndarray], *, loss_best_step: float,
                min_after: float) -> MetricRead | None:
    """The first logged validation metric with at least ``MIN_EVALUATIONS`` finite evaluations, None if none.

    "The last evaluations" are the last ``min_after`` of them (at least two), the patience OF01 gives the
    loss; their median is the late level, compared with the metric at the loss's best evaluation
    (``loss_best_step``, on the same axis).
    """
    for tag, direction in validation_metrics(run.series):
        s = run.series[tag]
        ok = np.isfinite(s.values)
        if int(ok.sum()) < MIN_EVALUATIONS:
            continue
        steps, y = axis(s)[ok], s.values[ok].astype(float)
        score = y if direction == "higher" else -y
        top = float(score.max())
        tie = TIE * max(abs(top), 1e-12)
        patience = max(2, math.ceil(min_after * y.size))
        at_loss_best = float(np.interp(loss_best_step, steps, score))
        return MetricRead(tag, direction, float(y[0]), float(y[int(np.argmax(score))]), float(y[-1]),
                          int(steps[int(np.flatnonzero(score >= top - tie)[0])]), learned=top > float(score[0]) + tie,
                          at_best_at_end=float(score[-patience:].max()) >= top - tie,
                          gain_since=float(np.median(score[-patience:])) - at_loss_best,
                          noise=float(diff_noise(y)) if y.size >= 3 else 0.0)
    return None
