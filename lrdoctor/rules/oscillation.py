"""Oscillation family (OS): fluctuation beyond what sampling noise explains."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..findings import Finding, Severity
from ..model import VAL_LOSS, Run
from ..signal.noise import diff_noise
from ..signal.spectra import roughness
from ._view import view_of
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
