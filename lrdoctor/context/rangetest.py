"""LR range tests: recognise one from its LR curve, and turn its analysis into a RunResult.

A range test is recognised by its LR alone: positive, rising at (nearly) every logged step, over
several orders of magnitude, and rising geometrically rather than front-loaded (a linear warmup
from ~0 gains most of its decades in its first few steps, an exponential ramp gains them evenly).
Such a run blows up by design, so the normal rules are not run on it; the maths are in
``signal/rangetest.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..findings import Finding, Recommendation, Severity
from ..model import LR, TRAIN_LOSS, Run, Series
from ..signal.rangetest import RangeTestFit, suggest_lr
from .summary import remembered

# The Recommendation action for "train with this LR" (not keep/increase/decrease: there is no
# current LR to move from).
ACTION = "set-lr"
CODE = "RT01"
NAME = "lr-range-test"


@dataclass(frozen=True)
class RampShape:
    """What the LR curve looks like, and whether that is a range test (``reason`` says why not)."""

    is_range_test: bool
    decades: float
    rising_share: float  # share of consecutive points where the LR rises
    late_share: float  # share of the decades gained in the second half of the points
    reason: str


def ramp_shape(
    lr: Series | None,
    *,
    min_points: int = 20,
    min_decades: float = 3.0,
    min_rising_share: float = 0.9,
    max_falling_share: float = 0.02,
    min_late_share: float = 0.25,
) -> RampShape:
    """Classify an LR curve.  An exponential ramp has ``late_share`` 0.5; a linear ramp from
    near zero over ``d`` decades has about ``0.3 / d``; a schedule with decay has falling points.

    >>> s = Series.from_lists(range(100), np.logspace(-7, 1, 100))
    >>> ramp_shape(s).is_range_test
    True
    >>> ramp_shape(Series.from_lists(range(100), np.linspace(1e-6, 1e-3, 100))).is_range_test
    False
    """
    if lr is None or len(lr) < min_points:
        return RampShape(False, 0.0, 0.0, 0.0, "fewer than %d LR points" % min_points)
    v = np.asarray(lr.values, dtype=float)
    if not (np.all(np.isfinite(v)) and np.all(v > 0)):
        return RampShape(False, 0.0, 0.0, 0.0, "the LR is not always positive and finite")
    logv = np.log10(v)
    step = np.diff(logv)
    tol = 1e-6  # float32 round-trips of one value must not count as a fall
    rising, falling = float(np.mean(step > tol)), float(np.mean(step < -tol))
    decades = float(logv[-1] - logv[0])
    half = v.shape[0] // 2
    late = float((logv[-1] - logv[half]) / decades) if decades > 0 else 0.0
    checks = (
        (decades >= min_decades, f"the LR spans {decades:.1f} decades (< {min_decades:g})"),
        (rising >= min_rising_share, f"the LR rises at {rising:.0%} of the points"),
        (falling <= max_falling_share, f"the LR falls at {falling:.0%} of the points"),
        (late >= min_late_share, f"only {late:.0%} of the LR's decades come in its second half (a warmup?)"),
    )
    failed = [why for ok, why in checks if not ok]
    reason = failed[0] if failed else f"the LR rises geometrically over {decades:.1f} decades"
    return RampShape(not failed, decades, rising, late, reason)


@remembered()
def is_range_test(run: Run) -> bool:
    return run.get(TRAIN_LOSS) is not None and ramp_shape(run.get(LR)).is_range_test


def lr_loss_pairs(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """The LR at each train-loss point (log-interpolated over steps), inside the LR's step range."""
    loss, lr = run.get(TRAIN_LOSS), run.get(LR)
    if loss is None or lr is None or len(lr) == 0:
        return np.empty(0), np.empty(0)
    values = np.asarray(lr.values, dtype=float)
    usable = np.isfinite(values) & (values > 0)  # a warmup from 0 has no log
    if not usable.any():
        return np.empty(0), np.empty(0)
    lr_steps, log_values = np.asarray(lr.steps, dtype=float)[usable], np.log10(values[usable])
    inside = (loss.steps >= lr_steps[0]) & (loss.steps <= lr_steps[-1])
    steps = np.asarray(loss.steps[inside], dtype=float)
    log_lr = np.interp(steps, lr_steps, log_values)
    return 10**log_lr, np.asarray(loss.values[inside], dtype=float)


def analyse(run: Run) -> RangeTestFit | None:
    """The range-test fit for a run, or None when the run is not a range test."""
    if not is_range_test(run):
        return None
    lr, loss = lr_loss_pairs(run)
    return suggest_lr(lr, loss)


def fit_to_dict(fit: RangeTestFit) -> dict[str, Any]:
    """The plain dict kept in ``RunResult.extras["lr_range_test"]``."""
    low, high = fit.fastest_fall or (None, None)
    return {
        "suggested_lr": fit.suggested_lr,
        "confidence": fit.confidence,
        "basis": fit.basis,
        "usable_range": {"fastest_fall": [low, high], "blowup_lr": fit.blowup_lr},
        "evidence": fit.evidence(),
    }


def _message(fit: RangeTestFit) -> str:
    if fit.suggested_lr is None:
        return f"LR range test: no suggestion ({fit.basis})."
    parts = [f"LR range test: suggested LR {fit.suggested_lr:.3g}"]
    if fit.fastest_fall:
        parts.append(f"loss falls fastest over {fit.fastest_fall[0]:.3g}–{fit.fastest_fall[1]:.3g}")
    if fit.blowup_lr is not None:
        parts.append(("blows up at " if fit.blowup_seen else "no blow-up up to ") + f"{fit.blowup_lr:.3g}")
    return "; ".join(parts) + "."


def range_test_result(run: Run, fit: RangeTestFit, **result_fields) -> "RunResult":
    """A RunResult for a range test: one info finding with the evidence, the suggestion as the
    recommendation, the full result in ``extras["lr_range_test"]``."""
    from ..report import RunResult

    loss = run.get(TRAIN_LOSS)
    finding = Finding(
        code=CODE,
        name=NAME,
        kind="lr_range_test",
        severity=Severity.INFO,
        message=_message(fit),
        run=run.name,
        tag=run.roles.get(TRAIN_LOSS, ""),
        start_step=None if loss is None or len(loss) == 0 else int(loss.steps[0]),
        end_step=None if loss is None or len(loss) == 0 else int(loss.steps[-1]),
        evidence={k: v for k, v in fit.evidence().items() if v is not None},
        suggested_lr=fit.suggested_lr,
    )
    rec = Recommendation(
        action=ACTION,
        factor=None,
        current_lr=None,
        suggested_lr=fit.suggested_lr,
        reason=fit.basis,
        confidence=fit.confidence,
        rule=CODE,
    )
    return RunResult(
        run=run.name,
        source=run.source,
        format=run.format,
        findings=(finding,),
        recommendation=rec,
        problems=tuple(run.problems),
        roles=dict(run.roles),
        extras={"lr_range_test": fit_to_dict(fit)},
        **result_fields,
    )


def text_lines(run_name: str, fit: RangeTestFit) -> list[str]:
    """A short human summary of one range test (``lrdoctor findlr``)."""
    ev = fit.evidence()
    fmt = lambda v: "-" if v is None else f"{v:.3g}"  # noqa: E731
    if fit.suggested_lr is None:
        return [f"{run_name}: LR range test: no suggestion ({fit.basis})"]
    lines = [f"{run_name}: LR range test"]
    lines.append(f"  suggested LR   {fmt(fit.suggested_lr)}  (confidence {fit.confidence})")
    lines.append(f"  basis          {fit.basis}")
    lines.append(f"  fastest fall   {fmt(ev['fastest_fall_low'])} – {fmt(ev['fastest_fall_high'])}"
                 f" (steepest at {fmt(fit.steepest_lr)})")
    lines.append(f"  lowest loss    {fmt(fit.min_loss)} at LR {fmt(fit.min_loss_lr)}")
    seen = "blows up at" if fit.blowup_seen else "no blow-up seen up to"
    lines.append(f"  blow-up        {seen} {fmt(fit.blowup_lr)}; stability limit ~{fmt(fit.stability_lr)}")
    lines.append(f"  data           {fit.n_points} points, {fmt(fit.steps_per_decade)} steps per decade")
    return lines


# ---------------------------------------------------------------- `lrdoctor findlr`


def findlr(runs) -> list[tuple[Run, RangeTestFit | None, RampShape]]:
    """The range tests among ``runs``; when none looks like one, every run is analysed as one
    anyway (the user says it is) and the shape says why it did not look like one."""
    shaped = [(run, ramp_shape(run.get(LR))) for run in sorted(runs, key=lambda r: r.name)]
    if any(shape.is_range_test and run.get(TRAIN_LOSS) is not None for run, shape in shaped):
        shaped = [(run, shape) for run, shape in shaped if shape.is_range_test]
    out = []
    for run, shape in shaped:
        lr, loss = lr_loss_pairs(run)
        out.append((run, suggest_lr(lr, loss) if lr.shape[0] else None, shape))
    return out


def findlr_dict(entries) -> dict:
    """JSON for ``findlr --format json``: one entry per run, floats rounded as in the report's JSON."""
    from ..report import SCHEMA_VERSION
    from ..reporters.records import _plain

    return _plain({
        "version": SCHEMA_VERSION,
        "range_tests": [
            {"run": run.name, "looks_like_range_test": shape.is_range_test, "shape": shape.reason,
             **(fit_to_dict(fit) if fit is not None else {"suggested_lr": None, "basis": "no train loss and LR"})}
            for run, fit, shape in entries
        ],
    })


def findlr_text(entries) -> str:
    lines: list[str] = []
    for run, fit, shape in entries:
        if fit is None:
            lines.append(f"{run.name}: no train loss and LR to analyse")
            continue
        lines += text_lines(run.name, fit)
        if not shape.is_range_test:
            lines.append(f"  warning        this does not look like a range test: {shape.reason}")
    return "\n".join(lines) + "\n"
