"""Turns a run's findings and its logged LR into one recommendation.  Conflicts are resolved here.

Precedence, most specific first:
  1. divergence (DV) -> decrease; the LR where it began, when the schedule was still moving, sets the target;
  2. stuck at the starting level (PL01) -> decrease;
  3. still improving at the end (SC01) -> increase by a factor from the time constant;
  3b. the loss halved right after a step decay (PL03), with no sign of slowness -> decrease ÷3 (low confidence);
  3c. (after SC01) accuracy pinned or collapsed (PL04) -> decrease ÷31.6;
  4. spikes alone -> keep, unless most of them come in the first 10 % of a run without warmup
     (add-warmup);
  5. overfitting alone -> stop-early at the best step (not an LR direction);
  6. otherwise keep.
"""
from __future__ import annotations

import math
from typing import Sequence

from .findings import Finding, Recommendation, Severity
from .model import Run

# How far to move.  The optimum LR usually sits 3-10x below the edge of stability; a run that went
# NaN or exploded by an order of magnitude crossed that edge by a wide margin, a run that slowly blew
# up or sat at its starting level by less.  The constants were calibrated on the seed-0 half of the
# public benchmark and checked on the seed-1 half (docs/scores.md).
DECREASE_DIVERGED = 10 ** 2.0  # two decades: NaN/inf or an explosion (DV01, DV03)
DECREASE_UNSTABLE = 10 ** 1.5  # a decade and a half: slow blow-up (DV02), stuck at the start (PL01)
DECREASE_MILD = 10 ** 0.5  # half a decade: the loss halved right after a step decay (PL03)
# Too low: in the early, nearly linear part of training the loss falls in proportion to LR x steps,
# so the improvement reached (relative to the start) says how far short the run stopped.  Factor =
# INCREASE_SCALE * improvement ** -INCREASE_POWER (a damped power: curves bend, returns diminish).
INCREASE_SCALE = 25.0
INCREASE_POWER = 0.55
INCREASE_RANGE = (3.0, 3000.0)


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
    divisor = DECREASE_DIVERGED if f.code in ("DV01", "DV03") else DECREASE_UNSTABLE
    factor, basis = 1.0 / divisor, f"/{divisor:.0f} of the peak LR"
    if onset_lr and current and onset_lr < 0.9 * current:
        # Still in warmup (or already decaying) when it broke: the LR at the break is the ceiling.
        factor, basis = (onset_lr / 10.0) / current, f"a tenth of the LR where it began ({onset_lr:.3g})"
    target = None if current is None else current * factor
    where = f" at step {int(step):,}" if isinstance(step, (int, float)) and "step" not in f.message else ""
    lr_note = f", lr {onset_lr:.3g}" if onset_lr else ""
    reason = (f"{f.code}: {f.message.split(' (')[0]}{where}{lr_note} -> use "
              + (f"≈{target:.2g} ({basis})" if target else basis))
    return _rec("decrease", factor, current, reason, "high" if f.code == "DV01" else "medium")


def _increase_for_slow(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    # The train loss is measured from its very first points (before any learning), so its relative
    # improvement is the cleaner "how far did the run get" than validation's, first logged after an epoch.
    gained = ev.get("train_improvement", ev.get("improvement"))
    improvement = min(max(float(gained or 0.0), 1e-3), 1.0)
    lo, hi = INCREASE_RANGE
    factor = min(max(INCREASE_SCALE * improvement ** -INCREASE_POWER, lo), hi)
    target = None if current is None else current * factor
    reason = (f"SC01: still falling steadily at the end ({ev.get('late_share', 0):.0%} of the gain in the last third) "
              f"after improving only {improvement:.1%} on the start -> raise the LR ×{factor:.2g}"
              + (f" to ≈{target:.2g}" if target else ""))
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
        factor = 1.0 / DECREASE_UNSTABLE
        return _rec("decrease", factor, current,
                    f"PL01: loss stayed at its starting level ({f.evidence.get('start', 0):.3g} -> {f.evidence.get('end', 0):.3g})"
                    f" -> divide the LR by {DECREASE_UNSTABLE:.0f}" + (f" to ≈{current * factor:.2g}" if current else ""),
                    "medium")
    late = [f for f in findings if f.code == "PL02"]
    if late:
        f = late[0]
        onset_lr = f.evidence.get("lr_at_onset")
        factor = (onset_lr / current) if (onset_lr and current) else 1.0 / DECREASE_UNSTABLE
        return _rec("decrease", factor, current,
                    f"PL02: the loss only began to fall at step {f.evidence.get('onset_step', 0):,} once the schedule "
                    f"had lowered the LR to {onset_lr:.3g} -> use about that LR", "medium")
    slow = _by_kind(findings, "slow_convergence")
    dropped = [f for f in findings if f.code == "PL03"]
    if dropped and not slow:
        f = dropped[0]
        factor = 1.0 / DECREASE_MILD
        return _rec("decrease", factor, current,
                    f"PL03: the loss fell {f.evidence.get('drop', 0):.0%} right after the LR decay at step "
                    f"{f.evidence.get('decay_step', 0):,} -> the peak rate was holding it up; use about a third of it",
                    "low")
    if slow:
        return _increase_for_slow(slow[0], current)
    acc = [f for f in findings if f.code == "PL04"]
    if acc:
        f = acc[0]
        factor = 1.0 / DECREASE_UNSTABLE
        return _rec("decrease", factor, current,
                    f"PL04: {f.message.split(':')[0]} -> divide the LR by {DECREASE_UNSTABLE:.0f}"
                    + (f" to ≈{current * factor:.2g}" if current else ""), "medium")
    early_spikes = [f for f in findings if f.code == "SP01" and f.evidence.get("early_share", 0) >= 0.5
                    and not f.evidence.get("has_warmup")]
    if early_spikes:
        f = early_spikes[0]
        return _rec("add-warmup", 1.0, current,
                    f"SP01: {f.evidence.get('count')} loss spike(s), most in the first 10 % of the run (first at step "
                    f"{f.evidence.get('first_step', 0):,}) and no warmup logged -> ramp the LR up over the first ~5 % "
                    f"of the steps", "low")
    overfit = _by_kind(findings, "overfitting")
    if overfit:
        f = overfit[0]
        return _rec("stop-early", 1.0, current,
                    f"OF01: validation loss was best at step {f.evidence.get('best_step', 0):,} and rose "
                    f"{f.evidence.get('rise', 0):.0%} after it; the LR looks fine -> stop there (early stopping)", "medium")
    return _rec("keep", 1.0, current, "no learning-rate problem found", "medium")
