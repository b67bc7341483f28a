"""Turns a run's findings and its logged LR into one recommendation.  Conflicts are resolved here.

``RULES_OF_PRECEDENCE`` is the whole policy: the first entry whose findings are present decides.

  1. divergence (DV01-05)          -> decrease 2 decades (NaN/explosion/blown-up logits) or 1.5 (slow blow-up,
                                      collapsed training accuracy);
                                      a tenth of the LR where it broke if the schedule was moving
  2. stuck at the start (PL01)     -> decrease 1.5 decades
  3. learns only after decay (PL02)-> decrease to the LR where learning began
  4. still improving (SC01)        -> increase at least so far that the run would converge (3 time
                                      constants) in the same budget: 3 / -ln(1 - improvement)
     crawls at a small rate (SC02)-> increase ×10 at most (×100 below 1e-6): it barely moved, so the
                                      factor is a step to re-check from, not an estimate
  5. accuracy pinned/lost (PL04)   -> decrease 1.5 decades (after SC01: a slow learner's accuracy
                                      has not moved yet either)
  6. early spikes, no warmup (SP01)-> add-warmup (two or more in the first 10 %, most of them there)
  7. overfitting alone (OF01)      -> stop-early at the best step (not an LR direction)
  8. otherwise                     -> keep, suggested LR = current LR (low confidence when too few
                                      points were logged)

Abstain ("no LR advice: <why>") where the log cannot say whether the LR is right: a loss broken from its
first logged point (DV01 broken_from_start, before everything else), and after the divergence rules an
unbounded objective (DQ09), a validation loss that never gave a number (DQ07), a GAN (DQ08), a loss
re-weighted over the run (DQ10: a KL term annealed in), a
reinforcement-learning run whose return collapsed (DV06: the reason names the collapse) or did not clearly
rise and hold (DQ06) -- one whose return rose in order and kept two thirds of its gain (RL01) is keep; after PL04, a loss that barely moved and ended flat (PL05).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

from .findings import Finding, Recommendation, Severity
from .model import Run

# How far to move.  The optimum LR usually sits 3-10x below the edge of stability; a run that went
# NaN or exploded by an order of magnitude crossed that edge by a wide margin, a run that slowly blew
# up or sat at its starting level by less.  A single curve says *that* the rate is too high, rarely
# by how much, so these are constants stated in decades; they were checked against the seed-0 half
# of the public benchmark and verified on the seed-1 half (docs/scores.md).
DECREASE_DIVERGED = 10 ** 2.0  # two decades: NaN/inf or an explosion (DV01, DV03), blown-up logits (DV05)
DECREASE_UNSTABLE = 10 ** 1.5  # a decade and a half: slow blow-up (DV02), collapsed training accuracy (DV04),
# stuck (PL01), dead accuracy (PL04)
# Too low: how many times larger should the rate be?  See increase_factor().
CONVERGED_RUNS_PER_TAU = 3.0  # SC01's own "converged": T = 3 tau, 95 % of the gain, late share 0.09
SC01_MAX_RUNS_PER_TAU = 1.2  # SC01 fires only when the late share is >= 0.2, i.e. T <= ~1.2 tau
# At most two decades per round: the estimate extrapolates the linear start of the curve, and over
# a 100x change of step size a loss landscape rarely stays linear (the stability edge is usually
# closer than that); a bigger jump risks trading a slow run for a diverged one, so the user moves
# two decades and re-checks.  Real fine-tuning logs that barely moved asked for x1,400-3,000 where
# x10 worked.
INCREASE_MAX = 10 ** 2.0
# Below PL01's margin of a meaningful improvement (10 % of the start) a run has barely left its
# starting point.  There the factor is a linear extrapolation over a flat start, which can be a
# saddle that speeds up once it is left (zero-initialised LoRA adapters): it is worded as an
# estimate, not a lower bound.  On the benchmark every over-shoot by more than half a decade was
# such a run (7 of 16 with gains < 1 %); above 1 % none of 71 over-shot (docs/scores.md).
BARELY_MOVED = 0.1


def _rec(action: str, factor: float | None, current: float | None, reason: str, confidence: str) -> Recommendation:
    suggested = None if (current is None or factor is None) else current * factor
    return Recommendation(action, factor, current, suggested, reason, confidence)


def _to(current: float | None, factor: float) -> str:
    return f" to ≈{current * factor:.2g}" if current else ""


def _divergence(f: Finding, current: float | None) -> Recommendation:
    onset_lr = f.evidence.get("lr_at_onset")
    step = f.evidence.get("onset_step", f.evidence.get("step", f.start_step))
    divisor = DECREASE_DIVERGED if f.code in ("DV01", "DV03", "DV05") else DECREASE_UNSTABLE
    factor, basis = 1.0 / divisor, f"/{divisor:.0f} of the peak LR"
    if onset_lr and current and onset_lr < 0.9 * current:
        # Still in warmup (or already decaying) when it broke: the LR at the break is the ceiling.  Below
        # 90 % of the peak the schedule was moving (the band SP01 calls "at the peak").
        factor, basis = (onset_lr / 10.0) / current, f"a tenth of the LR where it began ({onset_lr:.3g})"
    where = f" at step {int(step):,}" if isinstance(step, (int, float)) and "step" not in f.message else ""
    lr_note = f", lr {onset_lr:.3g}" if onset_lr else ""
    target = f"≈{current * factor:.2g} ({basis})" if current else basis
    reason = f"{f.code}: {f.message.split(' (')[0]}{where}{lr_note} -> use {target}"
    return _rec("decrease", factor, current, reason, "high" if f.code == "DV01" else "medium")


def _stuck(f: Finding, current: float | None) -> Recommendation:
    factor = 1.0 / DECREASE_UNSTABLE
    return _rec("decrease", factor, current,
                f"PL01: loss stayed at its starting level ({f.evidence.get('start', 0):.3g} -> "
                f"{f.evidence.get('end', 0):.3g}) -> divide the LR by {DECREASE_UNSTABLE:.0f}{_to(current, factor)}",
                "medium")


def _learns_after_decay(f: Finding, current: float | None) -> Recommendation:
    onset_lr = f.evidence.get("lr_at_onset")
    factor = (onset_lr / current) if (onset_lr and current) else 1.0 / DECREASE_UNSTABLE
    return _rec("decrease", factor, current,
                f"PL02: the loss only began to fall at step {f.evidence.get('onset_step', 0):,} once the schedule "
                f"had lowered the LR to {onset_lr:.3g} -> use about that LR", "medium")


def increase_factor(improvement: float) -> float:
    """How many times larger the LR must be for the run to converge within the same budget.

    Model the loss as an exponential approach to a floor, L(t) = L_inf + (L0 - L_inf) exp(-t / tau),
    where t is the cumulative LR (gradient-flow time: with small steps the loss depends on the sum of
    the step sizes), so the time constant in steps scales as 1 / LR.  A run of length T that gained
    the share ``improvement`` of its starting loss lasted T / tau = -ln(1 - improvement) time
    constants if the floor is 0 (a loss is >= 0, so this is the largest gain still possible and
    the largest factor).  To converge in the same number of steps it needs T / tau' =
    ``CONVERGED_RUNS_PER_TAU`` (3: the point where SC01 itself calls a curve converged), so the LR
    must grow by 3 / (T / tau).  For a small improvement this is 3 / improvement: a run that gained
    1 % needs ~300x, one that gained 10 % ~30x.

    Since SC01 fires only for runs shorter than ~1.2 tau, the factor is at least 3 / 1.2 = 2.5.
    A damped version (sqrt of the factor, for loss landscapes that stop being linear at larger
    steps) was tried and under-shot by a decade on the benchmark (docs/scores.md): in the regime
    where SC01 fires the curves are still in their linear part, so the plain estimate is used.

    It is a *lower* bound on the distance to the best LR for the budget, and is worded so
    ("at least"): converging is necessary, but in a fixed budget a larger rate keeps helping until
    the stability edge, which a curve that barely moved cannot show.  Measured on the public bench
    (docs/scores.md): of the SC01 runs 32 of 87 needed more than half a decade beyond the estimate,
    7 less, all of them runs that had barely moved (see ``BARELY_MOVED``).  Fitting the floor
    L_inf in [0, min observed] instead of taking 0 can only make the factor smaller (floor 0 is the
    exponential model's largest tau); reading tau from the end slope made it smaller on these
    curves too; both scored worse on both seed halves.

    >>> round(increase_factor(0.01)), round(increase_factor(0.1)), round(increase_factor(0.5), 1)
    (100, 28, 4.3)
    """
    gained = min(max(improvement, 1e-9), 1.0 - 1e-9)
    runs_per_tau = -math.log1p(-gained)
    factor = CONVERGED_RUNS_PER_TAU / runs_per_tau
    return min(max(factor, CONVERGED_RUNS_PER_TAU / SC01_MAX_RUNS_PER_TAU), INCREASE_MAX)


def _how_far(improvement: float, factor: float) -> str:
    if improvement < BARELY_MOVED:
        return f"raise the LR ×{factor:.2g} (a run that has barely moved may speed up once it leaves its start)"
    return f"raise the LR at least ×{factor:.2g} (converging is the least it needs)"


def _slow(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    # Two reads of "how much of the start was gained": the smoothed train loss's end vs its first
    # points, and the judged curve's best vs the start level.  Both lean high (the end of a running
    # median of right-skewed minibatch losses sits below their mean; a minimum over noisy evaluations
    # sits below the level), and a gain read too high gives too small a factor: take the smaller.
    reads = [float(v) for v in (ev.get("train_improvement"), ev.get("improvement")) if v is not None and v > 0]
    improvement = min(reads) if reads else 0.0
    factor = increase_factor(improvement)
    reason = (f"SC01: still falling steadily at the end ({ev.get('late_share', 0):.0%} of the gain in the last third) "
              f"after improving only {max(improvement, 0):.1%} on the start, i.e. it lasted about "
              f"{-math.log1p(-min(max(improvement, 1e-9), 0.999)):.2g} of the ~3 time constants convergence needs "
              f"-> {_how_far(improvement, factor)}{_to(current, factor)}"
              f"{' (capped at two decades per round)' if factor >= INCREASE_MAX else ''} (re-check after the next run)")
    return _rec("increase", factor, current, reason, "high" if f.severity >= Severity.ERROR else "medium")


# SC02 reads a run that barely moved at a small rate: the direction is the evidence, the distance is not.
# One decade per round at a rate that still moved the loss in order (fine-tuning rates: a 36x jump
# from 4e-5 lands where large pretrained models break); up to two (INCREASE_MAX) at a tiny rate.
CRAWL_STEP = 10.0


def _crawl(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    if ev.get("ambiguous"):
        return _rec("abstain", None, current,
                    f"no LR advice: {f.message.split(': ')[0]}; a stalled run (LR too high) and a crawling one (too "
                    f"low) look alike at this noise -> try a run at 3x and one at 1/3 the LR and compare", "low")
    factor = min(increase_factor(float(ev.get("improvement", 0.0))), INCREASE_MAX if ev.get("tiny") else CRAWL_STEP)
    return _rec("increase", factor, current,
                f"SC02: {f.message.split(':')[0]} -> raise the LR ×{factor:.3g}{_to(current, factor)} and re-check "
                f"(a run that has barely moved says the direction, not the distance)", "low")


def _dead_accuracy(f: Finding, current: float | None) -> Recommendation:
    factor = 1.0 / DECREASE_UNSTABLE
    return _rec("decrease", factor, current,
                f"PL04: {f.message.split(':')[0]} -> divide the LR by {DECREASE_UNSTABLE:.0f}{_to(current, factor)}",
                "medium")


def _swings(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    settled = ev.get("lr_settled")
    factor = settled / current if (settled and current) else None
    return _rec("decrease", factor, current,
                f"OS02: the train loss swung {ev.get('ratio', 0):.1f}x more (relative to its level) at the peak LR than once "
                f"the schedule lowered it -> use about the LR where it settled{_to(current, factor) if factor else ''}",
                "low")


def _early_spikes(f: Finding, current: float | None) -> Recommendation:
    return _rec("add-warmup", 1.0, current,
                f"SP01: {f.evidence.get('count')} loss spike(s), most in the first 10 % of the run (first at step "
                f"{f.evidence.get('first_step', 0):,}) and no warmup logged -> ramp the LR up over the first ~5 % "
                f"of the steps", "low")


def _overfit(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    rise = ev.get("rise", 0)
    # inf: from a best of exactly 0
    rose = f"rose {rise:.0%}" if isinstance(rise, (int, float)) and math.isfinite(rise) else "rose"
    if "metric_best" in ev and ev.get("metric_best_step") == ev.get("best_step"):
        why = (f"the task metric was best ({ev['metric_best']:.4g}) at step {ev.get('best_step', 0):,} and worse after it "
               f"({ev.get('metric_final', 0):.4g}) while the validation loss {rose}")
    elif "metric_best" in ev:
        why = (f"validation loss was best at step {ev.get('best_step', 0):,} and {rose} after it, "
               f"and the task metric gained too little since to count (ends at {ev.get('metric_final', 0):.4g})")
    else:
        why = f"validation loss was best at step {ev.get('best_step', 0):,} and {rose} after it"
    return _rec("stop-early", 1.0, current, f"OF01: {why}; the LR looks fine -> stop there (early stopping)", "medium")


# One spike is one hard batch; a warmup fixes a *pattern*: the first steps repeatedly too large for
# the curvature at initialisation.  So at least two spikes in the first 10 % of the run, and most of
# the run's spikes there.
WARMUP_MIN_EARLY_SPIKES = 2


def _is_early_spike(f: Finding) -> bool:
    return (f.evidence.get("early_count", 0) >= WARMUP_MIN_EARLY_SPIKES and f.evidence.get("early_share", 0) >= 0.5
            and not f.evidence.get("has_warmup"))


def _abstain(why: str) -> Callable[[Finding, "float | None"], Recommendation]:
    """An "abstain" builder: the log cannot say whether the LR is right; the reason says why and cites the finding."""
    def build(f: Finding, current: float | None) -> Recommendation:
        return _rec("abstain", None, current, f"no LR advice: {why} ({f.code}: {f.message})", "medium")
    return build


_BROKEN_FROM_START = _abstain("the loss is broken from its first logged point, before any update could diverge: "
                              "fix the code or data (NaN inputs or labels, log(0), a bad initialisation) first")
_VAL_NEVER_FINITE = _abstain("the validation loss never gave a number: fix the validation data or code first")
_UNBOUNDED = _abstain("the objective has no lower bound, so no step size makes it converge: fix the loss or labels")
_GAN = _abstain("a GAN's generator and discriminator losses do not show convergence; judge it by its samples or FID")
_REWEIGHTED = _abstain("the loss adds a penalty whose weight changes over the run (KL annealing), so its level "
                       "does not show convergence; judge the data-fit term and the validation metric")
_NEGLIGIBLE = _abstain("the loss barely moved and ended flat, a degenerate solution the curve cannot attribute to "
                       "the LR: check the model's outputs, gradients and data")


def _rl(f: Finding, current: float | None) -> Recommendation:
    returns = ("its returns neither rose in order and held (RL01) nor collapsed (DV06)" if f.evidence.get("returns_logged")
               else "judge it by the returns")
    return _rec("abstain", None, current, "no LR advice: in a reinforcement-learning run the loss level does not tell "
                f"whether the LR is right (no NaN/inf or explosion in the loss); {returns}", "medium")


def _returns_held(f: Finding, current: float | None) -> Recommendation:
    return _rec("keep", 1.0, current, f"RL01: {f.message.split(': the agent')[0]} -> the returns say the agent learns "
                "at this LR (its loss level is not read: DQ06)", "low")


def _warmup_rise(f: Finding, current: float | None) -> Recommendation:
    ev = f.evidence
    turned = ev.get("lr_at_low")
    factor = turned / current if (turned and current) else None
    return _rec("decrease", factor, current,
                f"DV07: the loss turned up at lr {turned:.3g} as the warmup climbed (+{ev.get('rise', 0):.0%} by step "
                f"{ev.get('high_step', 0):,}) -> peak at most where it turned{_to(current, factor) if factor else ''}",
                "medium")


def _collapse(f: Finding, current: float | None) -> Recommendation:
    return _rec("abstain", None, current, f"no LR advice from one RL run, but {f.code}: {f.message} -> a policy collapse: "
                "if it recurs, a smaller LR (or clip range / KL target) is the usual remedy", "medium")


Selector = Callable[[Sequence[Finding]], list]
Builder = Callable[[Finding, "float | None"], Recommendation]


def _codes(*codes: str, where: Callable[[Finding], bool] = lambda f: True) -> Selector:
    return lambda findings: [f for f in findings if f.code in codes and where(f)]


def _earliest(findings: list) -> Finding:
    return min(findings, key=lambda f: f.start_step if f.start_step is not None else 1 << 62)


RULES_OF_PRECEDENCE: list[tuple[Selector, Builder]] = [
    (_codes("DV01", where=lambda f: bool(f.evidence.get("broken_from_start"))), _BROKEN_FROM_START),
    (_codes("DV01", "DV02", "DV03", "DV04", "DV05"), _divergence),
    (_codes("DQ09"), _UNBOUNDED),
    (_codes("DQ07"), _VAL_NEVER_FINITE),
    (_codes("DQ08"), _GAN),
    (_codes("DQ10"), _REWEIGHTED),
    (_codes("DV07"), _warmup_rise),
    (_codes("DV06"), _collapse),
    (_codes("RL01"), _returns_held),
    (_codes("DQ06"), _rl),
    (_codes("PL05", where=lambda f: bool(f.evidence.get("identical"))), _NEGLIGIBLE),  # before PL01: nothing moved it
    (_codes("PL01"), _stuck),
    (_codes("PL02"), _learns_after_decay),
    (_codes("SC01", where=lambda f: f.severity >= Severity.WARNING), _slow),
    (_codes("SC02"), _crawl),
    (_codes("PL04"), _dead_accuracy),
    (_codes("OS02"), _swings),
    (_codes("PL05"), _NEGLIGIBLE),
    (_codes("SP01", where=_is_early_spike), _early_spikes),
    # An info OF01 is a validation loss that rose while the task metric kept improving (over-confidence).
    (_codes("OF01", where=lambda f: f.severity >= Severity.WARNING), _overfit),
]


def _current_lr(run: Run, lr_override: float | None) -> float | None:
    """The run's LR: the peak of the logged LR; else ``--lr``/config; else the hyper-parameters.

    No exception is caught here: a view that cannot be built is a bug the engine shows as a crashed
    diagnosis (containment.py), not an LR silently taken as unknown."""
    from .rules._view import view_of

    view = view_of(run)
    if view.lr_source == "log" or not lr_override:
        return view.current_lr
    return lr_override


def recommend(run: Run, findings: Sequence[Finding], *, lr_override: float | None = None) -> Recommendation:
    """The one recommendation for ``run`` (``lr_override`` is ``--lr``: used when the log has no LR)."""
    current = _current_lr(run, lr_override)
    usable = [f for f in findings if not f.evidence.get("crashed")]
    for select, build in RULES_OF_PRECEDENCE:
        chosen = select(usable)
        if chosen:
            driver = _earliest(chosen)
            return dataclasses.replace(build(driver, current), rule=driver.code)
    return _keep(usable, current)


def _keep(findings: Sequence[Finding], current: float | None) -> Recommendation:
    """Nothing wrong was found; how sure that is depends on how much could be checked."""
    too_few = [f for f in findings if f.code == "DQ01"]
    if too_few:
        return _rec("keep", 1.0, current, f"no learning-rate problem found, but {too_few[0].message[0].lower()}"
                    f"{too_few[0].message[1:].rstrip('.')}: too little to judge", "low")
    return _rec("keep", 1.0, current, "no learning-rate problem found", "medium")

