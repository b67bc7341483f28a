"""Turns a run's findings and its logged LR into one recommendation.  Conflicts are resolved here.

Precedence, most specific first:
  1. divergence (DV) -> decrease; the LR where it began, when the schedule was still moving, sets the target;
  2. stuck at the starting level (PL01) -> decrease;
  3. still improving at the end (SC01) -> increase by a factor from the time constant;
  4. spikes alone -> keep (warning only) unless they sit at the peak LR of a schedule with warmup;
  5. overfitting alone -> stop-early at the best step (not an LR direction);
  6. otherwise keep.
"""
from __future__ import annotations

import math
from typing import Sequence

from .findings import Finding, Recommendation, Severity
from .model import Run

# Fallback factors (decades) when a finding gives no finer basis; see docs/rules.md.
DECREASE_DIVERGED = 10.0
DECREASE_STUCK = 10.0
INCREASE_MAX = 100.0


def _by_kind(findings: Sequence[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind and f.evidence.get("crashed") is None]


def _current_lr(run: Run, findings: Sequence[Finding], lr_override: float | None) -> float | None:
    if lr_override:
        return lr_override
    try:
        from .rules._view import view_of

        return view_of(run).current_lr
    except Exception:  # advice must not fail because a curve is odd
        return None


def _rec(action: str, factor: float | None, current: float | None, reason: str, confidence: str) -> Recommendation:
    suggested = None if (current is None or factor is None) else current * factor
    return Recommendation(action, factor, current, suggested, reason, confidence)


def _lr_text(lr: float | None) -> str:
    return "" if lr is None else f", lr {lr:.3g}"


def _decrease_for_divergence(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    onset_lr = ev.get("lr_at_onset")
    step = ev.get("onset_step", ev.get("step", f.start_step))
    factor = 1.0 / DECREASE_DIVERGED
    basis = "a fixed /10"
    if onset_lr and current and onset_lr < 0.9 * current:
        # The schedule was still moving (warmup or decay): the LR where it broke is the ceiling.
        factor = (onset_lr / 3.0) / current
        basis = "a third of the LR where it began"
    target = None if current is None else current * factor
    where = f" at step {step:,}" if isinstance(step, (int, float)) and step is not None else ""
    reason = f"{f.code}: {f.message.split(':')[0]}{where}{_lr_text(onset_lr)} -> use {basis}" + (
        f" (≈{target:.2g})" if target else "")
    return _rec("decrease", factor, current, reason, "high")


def _increase_for_slow(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    rpt = float(ev.get("runs_per_tau") or 0.0)
    # To converge (T ~ 3 tau) the time constant must shrink by 3 / (T/tau); under gradient flow
    # tau scales as 1/LR.  A straight line (T/tau ~ 0) gets the largest step we allow.
    factor = INCREASE_MAX if rpt <= 3.0 / INCREASE_MAX else min(INCREASE_MAX, 3.0 / rpt)
    factor = max(factor, 3.0)
    target = None if current is None else current * factor
    reason = (f"SC01: {ev.get('late_share', 0):.0%} of the improvement came in the last third "
              f"(~{rpt:.1f} time constants) -> raise the LR ×{factor:.2g}" + (f" (≈{target:.2g})" if target else ""))
    return _rec("increase", factor, current, reason, "high" if f.severity >= Severity.ERROR else "medium")


def recommend(run: Run, findings: Sequence[Finding], *, lr_override: float | None = None) -> Recommendation:
    current = _current_lr(run, findings, lr_override)
    diverged = _by_kind(findings, "divergence")
    if diverged:
        first = min(diverged, key=lambda f: (f.start_step if f.start_step is not None else 1 << 62))
        return _decrease_for_divergence(first, current)
    stuck = [f for f in findings if f.code == "PL01"]
    if stuck:
        f = stuck[0]
        factor = 1.0 / DECREASE_STUCK
        return _rec("decrease", factor, current,
                    f"PL01: loss stayed at its starting level ({f.evidence.get('start', 0):.3g} -> {f.evidence.get('end', 0):.3g})"
                    f" -> divide the LR by {DECREASE_STUCK:.0f}", "medium")
    late = [f for f in findings if f.code == "PL02"]
    if late:
        f = late[0]
        onset_lr = f.evidence.get("lr_at_onset")
        factor = (onset_lr / current) if (onset_lr and current) else 1.0 / DECREASE_STUCK
        return _rec("decrease", factor, current,
                    f"PL02: the loss only began to fall at step {f.evidence.get('onset_step', 0):,} once the schedule "
                    f"had lowered the LR to {onset_lr:.3g} -> use about that LR", "medium")
    slow = _by_kind(findings, "slow_convergence")
    if slow:
        return _increase_for_slow(slow[0], current)
    overfit = _by_kind(findings, "overfitting")
    if overfit:
        f = overfit[0]
        return _rec("stop-early", 1.0, current,
                    f"OF01: validation loss was best at step {f.evidence.get('best_step', 0):,} and rose "
                    f"{f.evidence.get('rise', 0):.0%} after it; the LR looks fine -> stop there (early stopping)", "medium")
    return _rec("keep", 1.0, current, "no learning-rate problem found", "medium")
