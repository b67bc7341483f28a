"""A run compared with a reference (``--baseline REF``): is it worse than the last good one?

REF is one run or several seeds of one setup.  When REF holds runs at 3+ distinct LRs it is a
*reference sweep*: each run is then judged as if it were a member of that sweep (verdict.py), by a
sweep it is not part of.  Otherwise every run is compared with the reference runs on the training
step axis, and each comparison that fails is a finding with a code like any rule's, so --fail-on,
--ignore and every report format work unchanged:

* **BL01 diverged-unlike-baseline** (error): the run diverged (NaN/inf, or a divergence finding at
  warning or above) and no reference run did.
* **BL02 worse-than-baseline** (error): its best loss (validation when both have one, else the
  5-point running median of the train loss) is above the reference's by more than the margin.
* **BL03 slower-than-baseline** (warning): it reached half of the reference's gain (from the
  reference's first loss to its best) more than ``SLOWER_FACTOR`` times later, or never -- in
  epochs when every run logs its epoch (another batch size changes the steps per epoch), else in
  steps.
* **BL04 wider-val-gap** (warning): its final validation loss minus its final train loss exceeds
  the reference's by more than the margin.

The margin is the larger of ``SPREAD_Z`` times the reference's seed spread (the standard deviation
over its runs, when it has 2+) or times its own noise (one run: the scatter of its last evaluations
around their running median), and a practical margin: ``PRACTICAL_SHARE`` of the reference's loss
plus that share of its gain.  Seeds of one setup differ by about that much.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Sequence

import numpy as np

from ..errors import LrDoctorError
from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, VAL_LOSS, Problem, Run
from .groups import is_diverged
from .sweep import best_loss

SPREAD_Z = 3.0
PRACTICAL_SHARE = 0.05
SLOWER_FACTOR = 1.5
GAP_SHARE = 2.5


def apply(runs: Sequence[Run], results: Sequence, references: Sequence[str], config) -> tuple[list, tuple]:
    """(``results`` with each run compared with the reference runs read from ``references``, the
    problems met reading the reference)."""
    ref_runs, ref_results, problems = _reference(references, config)
    from . import _selected

    try:
        ref_sweep = _reference_sweep(ref_runs, ref_results) if _selected("SW01", config) else None
    except Exception as exc:  # no run could be compared, so none may pass
        return [_crashed(result, exc) for result in results], problems
    _usable_or_raise(ref_runs, ref_results, references, sweep=ref_sweep is not None)
    ref_runs, ref_results, left_out = _judged_only(ref_runs, ref_results, references)
    problems = tuple(problems) + tuple(left_out)
    by_name = {run.name: run for run in runs}
    # By source, not name: seeds given as --baseline a/seed0 --baseline a/seed1 may share a name.
    ref_by_source = {r.source: r for r in ref_results}
    refs = [(run, ref_by_source.get(run.source)) for run in ref_runs]
    out = []
    for result in results:
        run = by_name.get(result.run)
        if run is None or run.source in ref_by_source:  # a run is not compared with itself
            out.append(result)
            continue
        try:
            if ref_sweep is not None:
                result = _judged_by_sweep(run, result, ref_sweep)
            else:
                result = dataclasses.replace(result, findings=result.findings + tuple(compare(run, result, refs)))
        except Exception as exc:  # a comparison that could not run must not read as a pass
            result = _crashed(result, exc)
        out.append(result)
    return out, problems


def _crashed(result, exc: Exception):
    """``result`` with the crashed comparison shown (containment.py: status crashed, exit 2)."""
    from .. import containment

    crash = containment.crash_finding("BL00", "baseline-comparison", result.run, exc)
    return containment.mark_crashed(dataclasses.replace(result, findings=result.findings + (crash,)), "BL00")


def _reference(references: Sequence[str], config) -> tuple[list[Run], list, tuple[Problem, ...]]:
    """The reference runs, their diagnoses, and what could not be read (named as the reference's)."""
    from .. import read_diagnosable
    from ..engine import diagnose_runs

    runs: list[Run] = []
    problems: list[Problem] = []
    for path in references:
        found, unread = read_diagnosable(path, tag_roles=getattr(config, "tag_roles", None) or None)
        if not found:
            raise LrDoctorError(f"--baseline {path}: no training run with a loss found there")
        runs += found
        problems += [dataclasses.replace(p, message=f"(--baseline) {p.message}") for p in unread]
    plain = dataclasses.replace(config, baseline=(), group_by="none")
    return runs, list(diagnose_runs(runs, plain).runs), tuple(problems)


def _judged_only(runs: Sequence[Run], results: Sequence, references: Sequence[str]) -> tuple[list, list, list]:
    """(the reference runs lrdoctor could judge, their results, a Problem for each other one).

    A reference lrdoctor abstains on (an RL return, a GAN, a loss broken from the start) says nothing
    of what a good run is (found in review: one was accepted); the others still serve.  None left:
    refused, naming why."""
    judged = {r.source for r in results if r.recommendation is None or r.recommendation.action != "abstain"}
    if not judged:
        why = "; ".join(f"{r.run}: {r.recommendation.reason}" for r in results)
        raise LrDoctorError(f"--baseline {', '.join(references)}: lrdoctor cannot judge the reference ({why}), "
                            f"so it cannot say what a good run looks like")
    left_out = [Problem(r.source, f"(--baseline) not used as a reference: {r.recommendation.reason}")
                for r in results if r.source not in judged]
    return [run for run in runs if run.source in judged], [r for r in results if r.source in judged], left_out


def _usable_or_raise(runs: Sequence[Run], results: Sequence, references: Sequence[str], *, sweep: bool) -> None:
    """A reference that holds no finite loss, or (seeds of one setup, not a sweep, whose high LRs may
    diverge) that diverged, cannot say what 'good' is: the comparison would run against nothing or
    against a failure, and pass.  Refuse it, naming why."""
    where = ", ".join(references)
    by_source = {r.source: r for r in results}
    if not any(math.isfinite(best_loss(run, TRAIN_LOSS)[0]) or math.isfinite(best_loss(run, VAL_LOSS)[0])
               for run in runs):
        raise LrDoctorError(f"--baseline {where}: the reference holds no finite loss value to compare with")
    broken = [run.name for run in runs if is_diverged(run, by_source.get(run.source))]
    if broken and not sweep:
        raise LrDoctorError(f"--baseline {where}: the reference diverged ({', '.join(broken)}): "
                            f"a reference must be a run that trained well")


def _reference_sweep(ref_runs: Sequence[Run], ref_results: Sequence) -> dict | None:
    from .sweep import find_sweeps

    sweeps = find_sweeps(ref_runs, ref_results, group_by="all")
    if len(sweeps) == 1 and len({p["lr"] for p in sweeps[0]["runs"]}) >= 3:
        return sweeps[0]
    return None


def _judged_by_sweep(run: Run, result, sweep: Mapping):
    from .groups import run_lr
    from .verdict import combine, judge

    lr, source = run_lr(run)
    if lr is None or result.recommendation is None:
        return result
    loss, step = best_loss(run, sweep.get("loss") or TRAIN_LOSS)
    point = {"run": run.name, "lr": lr, "lr_source": source, "best_loss": loss if math.isfinite(loss) else None,
             "best_step": step, "diverged": is_diverged(run, result)}
    reference = {**sweep, "group": f"--baseline {sweep.get('group')}"}
    rec, finding = combine(result.recommendation, judge(reference, point), reference, point)
    return dataclasses.replace(result, recommendation=rec, findings=result.findings + ((finding,) if finding else ()))


def compare(run: Run, result, refs: Sequence[tuple[Run, object]]) -> list[Finding]:
    """The BL findings of ``run`` against the reference runs ``refs`` ((run, its RunResult) pairs)."""
    findings = []
    diverged = _diverged(run, result)
    if diverged and not any(_diverged(r, res) for r, res in refs):
        findings.append(_finding("BL01", "diverged-unlike-baseline", Severity.ERROR, run,
                                 f"diverged, and none of the {len(refs)} reference run(s) did", {}))
    role = VAL_LOSS if run.get(VAL_LOSS) is not None and all(r.get(VAL_LOSS) is not None for r, _ in refs) else TRAIN_LOSS
    findings += _worse(run, refs, role, diverged)
    findings += _slower(run, refs)
    findings += _wider_gap(run, refs)
    return findings


def _diverged(run: Run, result) -> bool:
    """Broke (``groups.is_diverged``) or any divergence finding at warning or above (a slow climb back
    counts here: against a reference that did not, it is a regression)."""
    findings = getattr(result, "findings", ()) or ()
    return is_diverged(run, result) or any(f.kind == "divergence" and f.severity >= Severity.WARNING for f in findings)


def margin(values: Sequence[float], own_noise: float | None, scale: float) -> tuple[float, str]:
    """(how much worse than the reference mean is beyond noise, what set it); ``scale``: the gain."""
    ref = float(np.mean(values))
    practical = PRACTICAL_SHARE * abs(ref) + PRACTICAL_SHARE * max(scale, 0.0)
    if len(values) >= 2:
        spread, basis = float(np.std(values, ddof=1)), f"{len(values)} reference seeds"
    else:
        spread, basis = own_noise or 0.0, "the reference's own noise"
    if SPREAD_Z * spread >= practical:
        return SPREAD_Z * spread, f"{SPREAD_Z:g}x the spread of {basis}"
    return practical, f"{PRACTICAL_SHARE:.0%} of the reference's loss and of its gain"


def _worse(run: Run, refs, role: str, diverged: bool) -> list[Finding]:
    ref_best = [best_loss(r, role)[0] for r, _ in refs]
    ref_best = [v for v in ref_best if math.isfinite(v)]
    if not ref_best or diverged:  # a diverged run is BL01's; its best loss may predate the blow-up
        return []
    loss, step = best_loss(run, role)
    starts = [_first(r, role) for r, _ in refs]
    gain = float(np.nanmean(starts)) - float(np.mean(ref_best)) if any(np.isfinite(starts)) else 0.0
    allowed, basis = margin(ref_best, _own_noise(refs[0][0], role) if len(ref_best) == 1 else None, gain)
    ref = float(np.mean(ref_best))
    if math.isfinite(loss) and loss <= ref + allowed:
        return []
    text = "no finite value" if not math.isfinite(loss) else f"{loss:.4g}"
    return [_finding("BL02", "worse-than-baseline", Severity.ERROR, run,
                     f"best {role} {text} is worse than the reference's {ref:.4g} by more than {allowed:.2g} "
                     f"({basis})", {"best_loss": loss if math.isfinite(loss) else None, "reference_best_loss": ref,
                                    "margin": allowed, "best_step": step}, tag=role)]


def _slower(run: Run, refs) -> list[Finding]:
    """BL03 on the epoch axis when every run logs its epoch (batch sizes may differ), else on steps."""
    axis = "epoch" if all(_epochs(r) for r in [run, *(ref for ref, _ in refs)]) else "step"
    ref_at, levels = [], []
    for ref, _ in refs:
        start, (best, _) = _first(ref, TRAIN_LOSS), best_loss(ref, TRAIN_LOSS)
        if not (math.isfinite(start) and math.isfinite(best)) or start <= best:
            continue
        level = best + 0.5 * (start - best)
        ref_at.append(_reached(ref, level, axis))
        levels.append(level)
    ref_at = [s for s in ref_at if s is not None]
    if not ref_at:
        return []
    level, slowest = max(levels), max(ref_at)
    at = _reached(run, level, axis)
    floor = 1.0 if axis == "step" else 0.1  # a reference that got there at once: compare with a small unit
    if at is not None and at <= SLOWER_FACTOR * max(slowest, floor):
        return []
    when = "never" if at is None else f"only at {axis} {at:,.4g}"
    return [_finding("BL03", "slower-than-baseline", Severity.WARNING, run,
                     f"reached half of the reference's gain (train loss {level:.4g}) {when}; the reference "
                     f"did by {axis} {slowest:,.4g}", {"level": level, axis: at, f"reference_{axis}": slowest},
                     tag=TRAIN_LOSS)]


def _epochs(run: Run) -> bool:
    series = run.get(TRAIN_LOSS)
    return series is not None and series.epochs is not None and bool(np.all(np.isfinite(series.epochs)))


def _wider_gap(run: Run, refs) -> list[Finding]:
    gaps = [g for g in (_val_gap(r) for r, _ in refs) if g is not None]
    gap = _val_gap(run)
    if not gaps or gap is None:
        return []
    ref_val = float(np.mean([best_loss(r, VAL_LOSS)[0] for r, _ in refs]))
    allowed, basis = margin(gaps, None, 0.0)
    # Seeds of one setup overfit by quite different amounts (on the bench, final gaps of two seeds
    # differed by up to 2.2x the best validation loss): only a gap wider by more than 2.5x it counts.
    allowed = max(allowed, GAP_SHARE * abs(ref_val))
    ref = float(np.mean(gaps))
    # A wider gap only matters when the validation loss itself ended higher (a lower train loss with
    # the same validation loss is not a regression).
    ref_final = float(np.mean([_last(r, VAL_LOSS) for r, _ in refs]))
    if gap <= ref + allowed or not _last(run, VAL_LOSS) > ref_final + allowed:
        return []
    return [_finding("BL04", "wider-val-gap", Severity.WARNING, run,
                     f"its final validation loss sits {gap:.3g} above its train loss; the reference's "
                     f"{ref:.3g} (allowed {allowed:.2g}, {basis})", {"gap": gap, "reference_gap": ref,
                                                                      "margin": allowed}, tag=VAL_LOSS)]


def _last(run: Run, role: str) -> float:
    series = run.get(role)
    finite = np.asarray(series.values if series is not None else [], dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite[-1]) if finite.shape[0] else math.nan


def _first(run: Run, role: str) -> float:
    series = run.get(role)
    if series is None:
        return math.nan
    finite = np.asarray(series.values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.median(finite[:3])) if finite.shape[0] else math.nan


def _smoothed(run: Run, role: str, axis: str = "step") -> tuple[np.ndarray, np.ndarray] | None:
    """(positions on ``axis``, the 5-point running median of the finite values of ``role``)."""
    from ..signal.smoothing import rolling_median

    series = run.get(role)
    if series is None:
        return None
    values = np.asarray(series.values, dtype=float)
    keep = np.isfinite(values)
    if keep.sum() < 3:
        return None
    where = series.epochs if axis == "epoch" and series.epochs is not None else series.steps
    return np.asarray(where, dtype=float)[keep], rolling_median(values[keep], window=5)


def _reached(run: Run, level: float, axis: str = "step") -> float | None:
    curve = _smoothed(run, TRAIN_LOSS, axis)
    if curve is None:
        return None
    where, values = curve
    hit = np.nonzero(values <= level)[0]
    return float(where[hit[0]]) if hit.shape[0] else None


def _own_noise(run: Run, role: str) -> float | None:
    """Scatter of the last third of the curve around its 5-point running median (robust sd)."""
    series = run.get(role)
    if series is None:
        return None
    values = np.asarray(series.values, dtype=float)
    values = values[np.isfinite(values)]
    tail = values[-max(len(values) // 3, 0):]
    if tail.shape[0] < 5:
        return None
    from ..signal.smoothing import rolling_median

    from ..signal.noise import MAD_TO_SIGMA

    return float(MAD_TO_SIGMA * np.median(np.abs(tail - rolling_median(tail, window=5))))


def _val_gap(run: Run) -> float | None:
    val, train = run.get(VAL_LOSS), _smoothed(run, TRAIN_LOSS)
    if val is None or train is None:
        return None
    finite = np.asarray(val.values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite[-1] - train[1][-1]) if finite.shape[0] else None


def _finding(code: str, name: str, severity: Severity, run: Run, message: str, evidence: dict, tag: str = "") -> Finding:
    return Finding(code=code, name=name, kind="baseline", severity=severity, message=message, run=run.name,
                   tag=tag, evidence=evidence)

