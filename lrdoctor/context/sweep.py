"""Sweeps: runs of one setup that differ in LR, ranked, fitted, and turned into a recommendation.

Which runs form a sweep is groups.py's job (``group_by``).  A group is a sweep when it has
at least 3 distinct LRs (2 when the user chose the grouping) and, in auto mode, no LR more than 3
times (seeds).  A run's score is the lowest validation loss (the lowest smoothed train loss when
not every run of the group has a validation loss).  Everything returned is a plain dict; the
reporters render it.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from ..model import TRAIN_LOSS, VAL_LOSS, Run
from ..signal.sweepfit import SweepFit, fit_sweep, seed_noise
from .groups import MAX_REPEATS, group_runs, is_diverged, numbered_siblings, run_lr, same_lr_clusters
from .summary import remembered

MIN_LRS = 3
# A run is as good as the best when its best loss is within the larger of: NOISE_Z standard
# deviations of the sweep's noise, and a practical margin -- PRACTICAL_SHARE of the best loss plus
# PRACTICAL_SHARE of the way from the untrained loss down to the best (a run that got 95 % of the
# way is not "mis-set" in a sense anyone would act on).
NOISE_Z = 2.0
PRACTICAL_SHARE = 0.05


@remembered()
def best_loss(run: Run, role: str) -> tuple[float, int | None]:
    """The lowest finite loss of ``role`` and its step (inf when there is none).  A train loss is
    first put through a 5-point running median so one lucky minibatch does not win."""
    series = run.get(role)
    if series is None or len(series) == 0:
        return math.inf, None
    values = np.asarray(series.values, dtype=float)
    if role == TRAIN_LOSS:
        from ..signal.smoothing import rolling_median

        finite = np.isfinite(values)
        values = np.where(finite, values, np.nan)
        values[finite] = rolling_median(values[finite], window=5)
    if not np.any(np.isfinite(values)):
        return math.inf, None
    i = int(np.nanargmin(values))
    return float(values[i]), int(series.steps[i])


@remembered()
def curve_noise(run: Run, role: str) -> float | None:
    """How noisy one reading of the run's loss is: the robust standard deviation (1.4826 x median
    absolute deviation) of the finite values of ``role`` around their 5-point running median.
    None with fewer than 7 values."""
    from ..signal.smoothing import rolling_median

    series = run.get(role)
    values = np.asarray(series.values if series is not None else [], dtype=float)
    values = values[np.isfinite(values)]
    if values.shape[0] < 7:
        return None
    return float(1.4826 * np.median(np.abs(values - rolling_median(values, window=5))))


@remembered()
def start_loss(run: Run) -> float | None:
    """The untrained loss: the median of the first 3 finite training-loss values (None without)."""
    series = run.get(TRAIN_LOSS)
    if series is None:
        return None
    values = np.asarray(series.values, dtype=float)
    values = values[np.isfinite(values)][:3]
    return float(np.median(values)) if values.shape[0] else None


def _points(members: Sequence[Run], results: Mapping[str, object]) -> list[dict]:
    with_lr = [(run, *run_lr(run)) for run in members]
    with_lr = [(run, lr, source) for run, lr, source in with_lr if lr is not None]
    use_val = bool(with_lr) and all(run.get(VAL_LOSS) is not None for run, _, _ in with_lr)
    role = VAL_LOSS if use_val else TRAIN_LOSS
    snapped = same_lr_clusters([lr for _, lr, _ in with_lr])
    points = []
    for (run, _, source), lr in zip(with_lr, snapped):
        loss, step = best_loss(run, role)
        diverged = is_diverged(run, results.get(run.name))
        points.append({"run": run.name, "lr": lr, "lr_source": source, "best_loss": loss,
                       "loss_role": role, "best_step": step, "diverged": diverged,
                       "start_loss": start_loss(run), "noise": curve_noise(run, role)})
    points.sort(key=lambda p: (p["best_loss"], p["lr"], p["run"]))
    for rank, p in enumerate(points, 1):
        p["rank"] = rank
    return points


def _is_sweep(points: Sequence[dict], forced: bool, numbered: bool = False) -> bool:
    """3+ distinct LRs, none more than MAX_REPEATS times; 2 are enough when the user chose the
    grouping or the runs are numbered siblings of one setup (which may repeat an LR twice as often)."""
    lrs = [p["lr"] for p in points]
    distinct = set(lrs)
    if len(distinct) < (2 if forced or numbered else MIN_LRS):
        return False
    if not any(math.isfinite(p["best_loss"]) for p in points):
        return False
    return forced or max(lrs.count(v) for v in distinct) <= (2 * MAX_REPEATS if numbered else MAX_REPEATS)


def how_formed(key: str, members: Sequence[Run], points: Sequence[dict], group_by: str) -> str:
    """One sentence: why these runs were taken as one sweep and where their LRs came from."""
    sources = sorted({p["lr_source"] for p in points})
    lr_from = f"LR from {', '.join(sources)}"
    if group_by not in ("auto", None, ""):
        return f"--group-by {group_by}; {lr_from}"
    if "*" in key:
        why = "runs in one folder whose names differ only in the LR"
    elif numbered_siblings(members):
        why = "sibling folders whose names differ only in a number (one script run repeatedly)"
    else:
        why = "runs of one folder"
    return f"auto: {why}, with the same format, loss/LR tags, hyper-parameters and schedule shape; {lr_from}"


def find_sweeps(runs: Sequence[Run], results: Sequence[object] = (), *, group_by: str | None = "auto") -> list[dict]:
    """Every sweep among ``runs`` as a plain dict (see ``sweep_section``), sorted by group name.

    ``results`` (RunResults, matched by run name) supply divergence findings.  Range tests are
    never part of a sweep.
    """
    from .rangetest import is_range_test

    by_name = {getattr(r, "run", None): r for r in results}
    candidates = [run for run in runs if run.get(TRAIN_LOSS) is not None or run.get(VAL_LOSS) is not None]
    candidates = [run for run in candidates if not is_range_test(run)]
    forced = (group_by or "auto") not in ("auto",)
    sweeps = []
    for key, members in sorted(group_runs(candidates, group_by).items()):
        if len(members) < 2:  # no sweep (two LRs at least, _is_sweep): its curves need not be read again
            continue
        points = _points(members, by_name)
        if _is_sweep(points, forced, not forced and numbered_siblings(members)):
            section = sweep_section(key, points, group_by=group_by or "auto")
            if section is not None:
                section["formed"] = how_formed(key, members, points, group_by or "auto")
                sweeps.append(section)
    return sweeps


def sweep_section(group: str, points: Sequence[dict], *, group_by: str = "auto") -> dict | None:
    """The sweep's plain dict: group, runs (ranked), fit and recommendation."""
    fit = fit_sweep([p["lr"] for p in points], [p["best_loss"] for p in points])
    if fit is None:
        return None
    noise = sweep_noise(points, fit.best_loss)
    best_diverged = any(p["diverged"] and p["lr"] == fit.best_lr for p in points)
    return {
        "group": group,
        "group_by": group_by,
        "loss": points[0]["loss_role"] if points else None,
        "runs": [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in p.items()} for p in points],
        "fit": fit.to_dict(),
        "noise": noise,
        "recommendation": _recommendation(fit, best_diverged),
    }


def sweep_noise(points: Sequence[dict], best: float) -> dict:
    """How far above the best loss a run may be and still count as good (see ``NOISE_Z``).

    The noise is the seed-to-seed spread when some LR was run more than once, else how noisy one
    reading of a run's loss is (``curve_noise``, the median over the runs).  Diverged runs are left
    out of both.  (The residuals of the fit were tried: over the 2 decades a parabola needs they
    hold the valley's misfit, 3-5x the benchmark's tolerance, and cost 2-5 points of macro-F1.)
    """
    stable = [p for p in points if not p["diverged"] and math.isfinite(p["best_loss"])]
    lrs, losses = [p["lr"] for p in stable], [p["best_loss"] for p in stable]
    sigma, source = seed_noise(lrs, losses), "seeds (runs repeated at one LR)"
    if sigma is None:
        own = [p["noise"] for p in stable if p.get("noise") is not None]
        sigma = float(np.median(own)) if own else None
        source = "scatter of the runs' own curves around their running median"
    noise_margin = NOISE_Z * sigma if sigma is not None else 0.0
    starts = [p["start_loss"] for p in stable if p.get("start_loss") is not None]
    # The scale from "untrained" to the best: the runs' typical starting loss (the worst stable run's
    # best loss when no train loss was logged).
    untrained = float(np.median(starts)) if starts else max(losses, default=best)
    practical = PRACTICAL_SHARE * abs(best) + PRACTICAL_SHARE * max(untrained - best, 0.0)
    return {"sigma": sigma, "source": source if sigma is not None else None, "practical": practical,
            "tolerance": max(noise_margin, practical)}


def _recommendation(fit: SweepFit, best_diverged: bool) -> dict:
    note = None
    if fit.edge == "low":
        note = "the best run has the smallest LR of the sweep: extend the sweep downward"
    elif fit.edge == "high":
        note = "the best run has the largest LR of the sweep: extend the sweep upward"
    elif best_diverged:
        note = "the best run diverged after reaching its best loss: the next lower LR is the safer choice"
    if fit.edge or best_diverged or fit.n_points < 3:
        confidence = "low"
    elif fit.sharpness == "sharp" and fit.method == "quadratic":
        confidence = "high"
    else:
        confidence = "medium"
    low, high = fit.near_best
    if fit.method == "quadratic":
        basis = (f"vertex of a parabola in log10(LR) through the best run (lr {fit.best_lr:.3g}) and its "
                 f"two neighbours; {fit.sharpness} minimum")
    else:
        basis = f"the best run of the sweep (lr {fit.best_lr:.3g}); no parabola fitted (edge, gap or diverged neighbour)"
    if low != high:
        basis += f"; runs with LR {low:.3g}–{high:.3g} are within {fit.tolerance:.3g} of the best loss"
    return {"suggested_lr": fit.optimum_lr, "confidence": confidence, "basis": basis, "note": note}
