"""Overfitting family (OF): validation loss turns up from its minimum while training loss keeps falling."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, VAL_LOSS, Run
from ._view import Curve, View, progress_curve, view_of
from .base import Rule


class ValidationTurnsUp(Rule):
    """Validation loss rose from its minimum while the training loss kept falling.

    What it detects
        The best validation point lies at least ``min_after`` of the evaluations (and 2) before the
        end and below the train loss's starting level (the model first learned something that generalises); the final validation loss is above the minimum by more than ``min_rise`` (relative) and
        by more than ``min_z`` times the validation scatter; and the final train loss is below the
        train loss at the best point and below the final validation loss.

    Why it matters
        The model is memorising the training set.  This is not an LR direction by itself: stop at the
        best step (early stopping) or regularise.  The best step is reported.

    Evidence
        ``best_step``, ``best_val``, ``final_val``, ``rise`` (relative), ``train_at_best``, ``final_train``.

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
        m = memorising(view_of(run), options)
        if m is None:
            return
        v, c = m.val, m.train
        by = f"{m.rise:.0%} " if math.isfinite(m.rise) else ""
        yield self.finding(
            run,
            f"{v.tag} was lowest ({m.best_val:.3g}) at step {m.best_step:,} and rose {by}to {m.final_val:.3g} "
            f"while {c.tag} kept falling ({m.train_at_best:.3g} -> {m.final_train:.3g}): stop at step {m.best_step:,}",
            tag=v.tag, start_step=m.best_step, end_step=int(v.steps[-1]),
            evidence={"best_step": m.best_step, "best_val": m.best_val, "final_val": m.final_val,
                      "rise": round(m.rise, 4), "train_at_best": m.train_at_best, "final_train": m.final_train},
        )


@dataclass(frozen=True)
class Memorising:
    """OF01's picture of a run: where validation was best, how far it rose, what training did meanwhile."""

    train: Curve
    val: Curve
    best_step: int
    best_val: float
    final_val: float
    train_at_best: float
    final_train: float

    @property
    def rise(self) -> float:
        """Relative to the best value's size; inf from a best of exactly 0 (a loss can reach 0)."""
        return (self.final_val - self.best_val) / abs(self.best_val) if self.best_val else math.inf


def memorising(view: View, options: ValidationTurnsUp.Options = ValidationTurnsUp.Options()) -> Memorising | None:
    """The validation loss turned up from its minimum while the train loss kept falling (None otherwise).

    PL04 asks it too: validation accuracy that falls while the model memorises is overfitting, not a
    model knocked dead."""
    # "Rose from its minimum" compares levels over time: not on a reinforcement-learning run (DQ06).
    c, v = progress_curve(view, min_points=3, finite=True), view.val
    if c is None or v is None or v.n < options.min_points or v.first_bad_step is not None:
        return None
    b = int(np.argmin(v.values))
    if b > v.n - 1 - max(2, math.ceil(options.min_after * v.n)):
        return None
    best, final = float(v.values[b]), float(np.median(v.values[-2:]))
    # Below where training started (the first point, or the median of the first three when that is
    # higher: an epoch-level log's first three epoch means can already be far down a fast fall).
    if best >= max(c.head(), float(c.values[0])):
        return None  # it never learned anything that generalised: a rise from there is not memorising
    # ``final`` is the median of two evaluations: its noise is sigma / sqrt(2).
    if final <= best * (1 + options.min_rise) or final - best <= options.min_z * max(v.noise, 1e-12) / math.sqrt(2):
        return None
    best_step = int(v.steps[b])
    train_at_best = float(np.interp(best_step, c.steps, c.smooth))
    final_train = c.tail()
    if not (final_train < train_at_best and final_train < final):
        return None
    return Memorising(c, v, best_step, best, final, train_at_best, final_train)
