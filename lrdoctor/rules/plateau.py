"""Plateau family (PL): the loss never left its starting level, or stopped improving late."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run
from ..signal.trend import mann_kendall
from ._view import Curve, View, view_of
from .base import Rule


def start_level(view: View) -> float:
    """Where learning started: the first train points, or the first validation value if lower.

    Epoch-level logs average the first epoch, which can include an early explosion; the first
    validation loss (after one epoch) then tells where the model stood more faithfully.
    """
    start = view.train.head()
    if view.val is not None and view.val.n:
        start = min(start, float(view.val.values[0]))
    return start


def still_decreasing(c: Curve | None, *, min_tau: float, part: float = 0.5) -> tuple[bool, float]:
    """Mann-Kendall tau over the last ``part`` of a curve; a steady fall has tau near -1."""
    if c is None or c.n < 5:
        return False, 0.0
    tail = c.values[-max(5, int(round(part * c.n))):]
    mk = mann_kendall(tail)
    return (mk.tau <= -min_tau and mk.p < 0.01), mk.tau


class StuckAtStart(Rule):
    """The loss never got meaningfully below its starting level and is not steadily falling.

    What it detects
        The best level reached (end of the smoothed train loss, best validation loss) is less than
        ``min_improvement`` (relative) below the starting level, and neither curve is still falling
        steadily (Mann-Kendall tau over the last half above -``steady_tau``).

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
        min_points: int = 5

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = view.train
        if c is None or c.n < options.min_points or c.first_bad_step is not None:
            return
        start = start_level(view)
        end = c.tail()
        best_val = float(view.val.values.min()) if view.val is not None and view.val.n else np.inf
        reached = min(end, best_val)
        if start <= 0 or start - reached > options.min_improvement * start:
            return
        train_falls, train_tau = still_decreasing(c, min_tau=options.steady_tau)
        val_falls, val_tau = still_decreasing(view.val, min_tau=options.steady_tau)
        if train_falls or val_falls:
            return
        yield self.finding(
            run,
            f"{c.tag} stayed at its starting level ({start:.3g} -> {end:.3g}, {1 - reached / start:+.0%} at best) "
            f"and is not falling: the rate is likely so high that units died or the optimiser saturated",
            tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
            evidence={"start": start, "end": end, "best_val": None if not np.isfinite(best_val) else best_val,
                      "improvement": round(1 - reached / start, 4), "train_tau": round(train_tau, 3), "val_tau": round(val_tau, 3)},
        )
