"""A sweep member's verdict: its own findings weighed against what its sweep shows.

One curve tells *that* the LR is wrong better than *by how much*, and a healthy-looking curve can
still be far worse than its siblings'.  So a run that belongs to a sweep is judged twice:

* **by the sweep** -- is its best loss within the sweep's tolerance of the best run's (noise and a
  practical margin, ``sweep.sweep_noise``)?  The good runs form an interval of LRs (a run between
  two good ones is good: an isolated miss inside the band is noise).  Outside it, its LR is too high
  or too low according to which side of the best LR it sits on.  A run that diverged above the
  best LR is too high even if it reached a good loss before it blew up.
* **by its own findings** (advice.recommend).

They are combined so:

1. a run that diverged (NaN/inf; an explosion or blown-up logits it did not recover from:
   ``groups.is_diverged``) is told to decrease whatever the sweep says; an early explosion the run
   recovered from, a slow climb back (DV02) or a collapsed training accuracy (DV04) is weighed like
   any other finding;
2. otherwise, when the sweep places the run outside its good band, the sweep decides the direction
   (finding SW01), and the size of the move is the sweep's fitted optimum;
3. when the sweep finds the run as good as the best, an LR move its own curve asked for is dropped
   ("keep") -- unless the run is the sweep's best at the grid's edge on the side its curve points to
   (the sweep cannot see past its edge); stop-early, add-warmup and abstain are left as they were.

Whenever the two disagree, the reason says so and gives both.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Sequence

from ..findings import Finding, Recommendation, Severity
from ..model import Run
from .groups import HARD_DIVERGENCE

CODE, NAME = "SW01", "worse-than-sweep"


@dataclasses.dataclass(frozen=True)
class SweepJudgement:
    action: str  # "keep", "increase" or "decrease"
    gap: float  # best loss above the sweep's best (inf: no finite loss)
    tolerance: float
    decades: float  # log10(run LR / fitted optimum)
    text: str  # what the sweep shows about this run, one clause with numbers


def judge(sweep: Mapping, point: Mapping) -> SweepJudgement:
    """What ``sweep`` alone says about its member ``point`` (an entry of ``sweep["runs"]``)."""
    fit, noise = sweep["fit"], sweep.get("noise") or {}
    tolerance = float(noise.get("tolerance") or fit.get("tolerance") or 0.0)
    low, high = good_band(sweep["runs"], fit["best_loss"], tolerance)
    lr, best_lr, optimum = point["lr"], fit["best_lr"], fit["optimum_lr"]
    loss = point.get("best_loss")
    gap = math.inf if loss is None else float(loss) - fit["best_loss"]
    decades = math.log10(lr / optimum)
    if point.get("diverged") and lr > best_lr:
        action = "decrease"
    elif not point.get("diverged") and (low is not None and low <= lr <= high or gap <= tolerance):
        action = "keep"  # in the band of good LRs, or (judged by a reference sweep) as good as its best
    else:
        action = "decrease" if lr > best_lr else "increase" if lr < best_lr else "keep"
    role = sweep.get("loss") or "loss"
    if math.isinf(gap):
        where = f"no finite {role}"
    elif action == "keep":
        where = f"best {role} {loss:.3g} within {tolerance:.2g} of the sweep's best {fit['best_loss']:.3g}"
    else:
        where = f"best {role} {loss:.3g}, {gap:.2g} above the sweep's best {fit['best_loss']:.3g} (tolerance {tolerance:.2g})"
    if abs(decades) < 0.05:
        position = f"its LR {lr:.3g} is at the sweep's optimum ≈{optimum:.2g}"
    else:
        side = "above" if decades > 0 else "below"
        position = f"its LR {lr:.3g} is {abs(decades):.2g} decades {side} the sweep's optimum ≈{optimum:.2g}"
    text = (f"in its sweep of {len(sweep['runs'])} runs: {where}{', and it diverged' if point.get('diverged') else ''}; "
            f"{position}")
    return SweepJudgement(action, gap, tolerance, decades, text)


def good_band(points: Sequence[Mapping], best: float, tolerance: float) -> tuple[float | None, float | None]:
    """The LR interval spanned by the stable runs within ``tolerance`` of ``best``."""
    good = [p["lr"] for p in points if not p.get("diverged") and p.get("best_loss") is not None
            and p["best_loss"] <= best + tolerance]
    return (min(good), max(good)) if good else (None, None)


def combine(rec: Recommendation, judgement: SweepJudgement, sweep: Mapping, point: Mapping, *,
            best_moves: str | None = None) -> tuple[Recommendation, Finding | None]:
    """The run's advice given its own recommendation ``rec`` and the sweep's ``judgement``.

    ``best_moves``: the own reason of the sweep's best run when its own curve asked for an LR move (None
    when it did not): such a sweep cannot vouch for "keep" (being as good as an unhealthy run says nothing)."""
    if rec.action == "abstain":
        return rec, None
    current = rec.current_lr or point["lr"]
    target = sweep["fit"]["optimum_lr"]
    own_moves = rec.action in ("increase", "decrease")
    if own_moves and rec.rule in HARD_DIVERGENCE and (rec.rule == "DV01" or point.get("diverged")):
        if judgement.action == "decrease" and target < current:
            return _moved(rec, "decrease", current, target, f"{rec.reason}; {judgement.text}, so use that"), None
        return dataclasses.replace(rec, reason=f"{rec.reason}; the sweep disagrees ({judgement.text}), but a run "
                                               f"that diverged needs a lower LR whatever the sweep shows"), None
    target = _target(judgement.action, current, sweep["fit"])
    if target is not None:
        edge = sweep["fit"].get("edge")
        beyond = " or beyond (the sweep's best run is at its edge)" if edge == (
            "high" if judgement.action == "increase" else "low") else ""
        if rec.action == judgement.action:
            reason = f"{rec.reason}; {judgement.text} -> use ≈{target:.2g}{beyond}"
        else:
            own = "its own curve shows no LR problem" if rec.action == "keep" else f"its own curve said: {rec.reason}"
            reason = (f"SW01: {judgement.text} -> {judgement.action} to ≈{target:.2g}{beyond} ({own}; the sweep "
                      f"outweighs it)")
        moved = _moved(rec, judgement.action, current, target, reason)
        return dataclasses.replace(moved, rule=CODE, confidence="medium"), _finding(judgement, sweep, point)
    if judgement.action != "keep":  # worse than the best, yet already at or past the sweep's best LR
        return dataclasses.replace(rec, reason=f"{rec.reason}; {judgement.text}, which is no LR to move to"), None
    if own_moves:
        edge = sweep["fit"].get("edge")
        if point["lr"] == sweep["fit"]["best_lr"] and edge == ("high" if rec.action == "increase" else "low"):
            return dataclasses.replace(rec, reason=f"{rec.reason}; it is the best run of its sweep, at the sweep's "
                                                   f"{edge} edge: the sweep cannot say what lies beyond"), None
        if best_moves is not None:
            return dataclasses.replace(rec, reason=f"{rec.reason}; {judgement.text}, but the sweep's best run is itself "
                                                   f"flagged ({best_moves}), so the sweep cannot vouch for it"), None
        return Recommendation("keep", 1.0, rec.current_lr, rec.current_lr,
                              f"{judgement.text} -> keep (its own curve said: {rec.reason}; but no run of the "
                              f"sweep did better beyond noise)", "medium", rule=None), None
    return dataclasses.replace(rec, reason=f"{rec.reason}; {judgement.text}"), None


def _target(action: str, current: float, fit: Mapping) -> float | None:
    """Where the sweep says to move: its fitted optimum, else its best grid LR, whichever lies in the
    direction of ``action`` from ``current`` (None: neither does, nothing to move)."""
    for lr in (fit["optimum_lr"], fit["best_lr"]):
        if (action == "decrease" and lr < current) or (action == "increase" and lr > current):
            return lr
    return None


def _best_moves(sweep: Mapping, own: Mapping[str, Recommendation]) -> str | None:
    """The own reason of the sweep's best run (lowest best loss) when its own curve asked for an LR move."""
    points = [p for p in sweep.get("runs") or () if p.get("best_loss") is not None and p.get("run") in own]
    if not points:
        return None
    best = own[min(points, key=lambda p: p["best_loss"])["run"]]
    return best.reason if best.action in ("increase", "decrease") else None


def _moved(rec: Recommendation, action: str, current: float, target: float, reason: str) -> Recommendation:
    return dataclasses.replace(rec, action=action, factor=target / current, current_lr=current,
                               suggested_lr=target, reason=reason)


def _finding(judgement: SweepJudgement, sweep: Mapping, point: Mapping) -> Finding:
    gap = judgement.gap if math.isfinite(judgement.gap) else None
    return Finding(code=CODE, name=NAME, kind="sweep", severity=Severity.WARNING,
                   message=f"LR too {'high' if judgement.action == 'decrease' else 'low'} for its sweep: "
                           f"{judgement.text}",
                   run=point["run"], tag=sweep.get("loss") or "",
                   evidence={"lr": point["lr"], "optimum_lr": sweep["fit"]["optimum_lr"],
                             "decades_from_optimum": judgement.decades, "loss_gap": gap,
                             "tolerance": judgement.tolerance, "sweep": sweep.get("group")})


def apply(runs: Sequence[Run], results: Sequence, sweeps: Sequence[Mapping]) -> list:
    """``results`` with the advice of every sweep member revised by its sweep."""
    member = {p["run"]: (sweep, p) for sweep in sweeps for p in sweep.get("runs") or () if p.get("run")}
    own = {r.run: r.recommendation for r in results if r.recommendation is not None}
    out = []
    for result in results:
        if result.run in member and result.recommendation is not None:
            sweep, point = member[result.run]
            rec, finding = combine(result.recommendation, judge(sweep, point), sweep, point,
                                   best_moves=_best_moves(sweep, own))
            findings = result.findings + ((finding,) if finding is not None else ())
            result = dataclasses.replace(result, recommendation=rec, findings=findings)
        out.append(result)
    return out
