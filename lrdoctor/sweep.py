"""Sweeps: runs of one setup that differ in LR, ranked, fitted, and turned into a recommendation.

Which runs form a sweep (``group_by``):

* ``"auto"`` (default): only runs that plausibly share one setup.  Runs in the same directory
  whose names differ only in an LR token (``lr_0.01``, ``lr=1e-3``, ``learning_rate-3e-4``) form
  a candidate group; runs without such a token group by directory.  A candidate is split where
  the runs were evidently written by different code -- another format, other tags for the
  train/val loss or the LR -- or where their hyper-parameters (other than the LR) or the shape
  of their LR schedule disagree; a part whose finished runs differ in length by more than
  ``MAX_BUDGET_RATIO`` is not a sweep (another budget, another setup).  A group is a sweep when
  it has at least 3 distinct LRs and no LR more than 3 times (seeds): a folder of many runs per
  LR is a collection of setups, not a sweep (checked on the whole folder before any split, since
  hyper-parameters are rarely a complete description of a setup).  docs/rangetest.md says why.
* ``"none"``: no sweeps.  ``"all"``: every run with an LR is one sweep.  ``"dir"``: by directory
  only.  ``"hparams:a,b"``: by the values of those hyper-parameters.  ``"name:REGEX"``: by the
  text the regex matches in the run name (its first group when it has one).

A run's LR comes from its name, then its hyper-parameters (``lr``, ``learning_rate``...), then the
peak of its logged LR.  Its score is the lowest validation loss (the lowest smoothed train loss
when not every run of the group has a validation loss).  Everything returned is a plain dict.
"""
from __future__ import annotations

import math
import posixpath
import re
from collections import defaultdict
from typing import Mapping, Sequence

import numpy as np

from .errors import ConfigError
from .findings import Severity
from .model import LR, TRAIN_LOSS, VAL_LOSS, Run
from .signal.sweepfit import SweepFit, fit_sweep

LR_HPARAMS = ("lr", "learning_rate", "learning-rate", "learningrate", "base_lr", "peak_lr", "max_lr", "lr0", "optimizer.lr")
# Hyper-parameters that describe progress, not the setup: they differ between runs of one sweep.
_BOOKKEEPING = {"global_step", "best_metric", "best_model_checkpoint", "trial_params", "total_flos", "epoch",
                "num_input_tokens_seen", "run_name", "output_dir", "logging_dir", "name", "version"}
_NUMBER = r"(\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)"
NAME_LR = re.compile(r"(?<![a-z])(?:lr|learning[_-]?rate)[_=:\-]?" + _NUMBER + r"(?![\d.])", re.IGNORECASE)
MIN_LRS = 3
MAX_REPEATS = 3
# Longest over shortest run (last logged loss step) in an auto sweep; runs that diverged are
# left out, since a crash ends a run early.  Early stopping can exceed it: use --group-by then.
MAX_BUDGET_RATIO = 2.0


def lr_from_name(name: str) -> float | None:
    """The LR written in a run name, if any.

    >>> lr_from_name("adam_lr_0.01_seed0"), lr_from_name("runs/lr=1e-3"), lr_from_name("clr_sched")
    (0.01, 0.001, None)
    """
    found = NAME_LR.findall(name)
    try:
        value = float(found[-1]) if found else None
    except ValueError:
        return None
    return value if value and value > 0 and math.isfinite(value) else None


def run_lr(run: Run) -> tuple[float | None, str]:
    """(LR, where it came from): the run name, the hyper-parameters, or the logged LR's peak."""
    from_name = lr_from_name(run_dir(run.name))
    if from_name is not None:
        return from_name, "name"
    for key in LR_HPARAMS:
        value = _positive(run.hparams.get(key))
        if value is not None:
            return value, f"hparams:{key}"
    lr = run.get(LR)
    if lr is not None and len(lr):
        finite = lr.values[np.isfinite(lr.values) & (lr.values > 0)]
        if finite.shape[0]:
            return float(finite.max()), "logged (peak)"
    return None, ""


def _positive(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


def run_dir(name: str) -> str:
    """The run's directory from its name: without a log file name or a Lightning ``version_N``.

    >>> run_dir("sweep/lr_0.1/version_0/metrics.csv"), run_dir("r0001/trainer_state.json"), run_dir("r2")
    ('sweep/lr_0.1', 'r0001', 'r2')
    """
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if parts and re.search(r"\.(json|csv|log|txt|jsonl|yaml|yml)$|tfevents", parts[-1]):
        parts.pop()
    while parts and re.fullmatch(r"version_\d+|train|validation", parts[-1]):
        parts.pop()
    return "/".join(parts) or "."


def best_loss(run: Run, role: str) -> tuple[float, int | None]:
    """The lowest finite loss of ``role`` and its step (inf when there is none).  A train loss is
    first put through a 5-point running median so one lucky minibatch does not win."""
    series = run.get(role)
    if series is None or len(series) == 0:
        return math.inf, None
    values = np.asarray(series.values, dtype=float)
    if role == TRAIN_LOSS:
        from .signal.smoothing import rolling_median

        finite = np.isfinite(values)
        values = np.where(finite, values, np.nan)
        values[finite] = rolling_median(values[finite], window=5)
    if not np.any(np.isfinite(values)):
        return math.inf, None
    i = int(np.nanargmin(values))
    return float(values[i]), int(series.steps[i])


def is_diverged(run: Run, result=None) -> bool:
    """NaN/inf in a loss, or a divergence finding at warning or above from the diagnosis."""
    for role in (TRAIN_LOSS, VAL_LOSS):
        series = run.get(role)
        if series is not None and len(series) and not np.all(np.isfinite(series.values)):
            return True
    findings = getattr(result, "findings", ()) or ()
    return any(f.kind == "divergence" and f.severity >= Severity.WARNING for f in findings)


# ---------------------------------------------------------------- grouping


def _setup(run: Run) -> dict:
    """What describes the run's setup, LR aside: its hyper-parameters; what one training script
    writes the same way for every LR (the format, the tags of the losses and the LR -- a role a
    run lacks, such as the validation loss of a run that crashed before its first evaluation,
    says nothing); and the schedule's shape read from the logged LR (a constant and a cosine run
    at one LR are different setups even when nothing else says so)."""
    setup = {k: v for k, v in run.hparams.items() if k not in LR_HPARAMS and k.lower() not in _BOOKKEEPING}
    setup["(format)"] = run.format
    setup.update({f"({role} tag)": run.roles[role] for role in (TRAIN_LOSS, VAL_LOSS, LR) if role in run.roles})
    lr = run.get(LR)
    if lr is not None and len(lr) >= 3 and not is_diverged(run):  # a crash truncates the schedule
        from .signal.schedule import detect_schedule

        # Only constant vs not: finer kinds depend on how often the LR was logged (per step or
        # per epoch), which differs between the formats of one sweep.
        kind = detect_schedule(lr.steps, lr.values).kind
        setup["(schedule)"] = "constant" if kind == "constant" else "varying"
    return setup


def _compatible(a: Mapping, b: Mapping) -> bool:
    return all(str(a[k]) == str(b[k]) for k in a.keys() & b.keys())


def _last_loss_step(run: Run) -> int | None:
    loss = run.get(TRAIN_LOSS) if run.get(TRAIN_LOSS) is not None else run.get(VAL_LOSS)
    return int(loss.steps[-1]) if loss is not None and len(loss) else None


def _similar_budget(runs: Sequence[Run]) -> bool:
    """The runs that did not diverge ran for about as long (a sweep changes the LR, not the budget)."""
    ends = [end for end in (_last_loss_step(r) for r in runs if not is_diverged(r)) if end is not None]
    return not ends or max(ends) <= MAX_BUDGET_RATIO * max(min(ends), 1)


def _auto_groups(runs: Sequence[Run]) -> dict[str, list[Run]]:
    coarse: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        directory = run_dir(run.name)
        parent, base = posixpath.split(directory)
        if lr_from_name(base) is not None:
            coarse[posixpath.join(parent, NAME_LR.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + "*", base))].append(run)
        else:
            coarse[parent or "."].append(run)
    groups: dict[str, list[Run]] = {}
    for key, members in coarse.items():
        if _max_repeats(members) > MAX_REPEATS:  # a collection of setups, not a sweep: don't guess
            continue
        for k, split in enumerate(s for s in _split_by_setup(members) if _similar_budget(s)):
            groups[key if k == 0 else f"{key} [{k + 1}]"] = split
    return groups


def _max_repeats(runs: Sequence[Run]) -> int:
    lrs = _same_lr_clusters([lr for lr in (run_lr(r)[0] for r in runs) if lr is not None])
    return max((lrs.count(v) for v in set(lrs)), default=0)


def _split_by_setup(runs: Sequence[Run]) -> list[list[Run]]:
    """Greedy: a run joins the first group whose setup it does not contradict."""
    groups: list[tuple[dict, list[Run]]] = []
    for run in sorted(runs, key=lambda r: r.name):
        hp = _setup(run)
        for merged, members in groups:
            if _compatible(merged, hp):
                merged.update(hp)
                members.append(run)
                break
        else:
            groups.append((dict(hp), [run]))
    return [members for _, members in groups]


_MODES = "auto, none, all, dir, hparams:K1,K2 or name:REGEX"


def check_group_by(value: str, where: str = "--group-by") -> str:
    """``value`` stripped, or a ConfigError naming ``where`` when it is no grouping mode."""
    mode = value.strip()
    if mode in ("auto", "none", "all", "dir"):
        return mode
    if mode.startswith("hparams:") and mode[len("hparams:"):].strip(" ,"):
        return mode
    if mode.startswith("name:"):
        try:
            re.compile(mode[len("name:"):])
        except re.error as exc:
            raise ConfigError(f"{where}: name: invalid regular expression: {exc}") from None
        return mode
    raise ConfigError(f"{where}: must be {_MODES}, not {value!r}")


def group_runs(runs: Sequence[Run], group_by: str | None = "auto") -> dict[str, list[Run]]:
    """Candidate groups by ``group_by`` (see the module docstring); not yet checked to be sweeps."""
    mode = check_group_by(group_by or "auto")
    if mode == "none":
        return {}
    if mode == "auto":
        return _auto_groups(runs)
    if mode == "all":
        return {"all runs": list(runs)}
    if mode == "dir":
        return _keyed(runs, lambda r: posixpath.dirname(run_dir(r.name)) or ".")
    if mode.startswith("hparams:"):
        keys = [k.strip() for k in mode[len("hparams:"):].split(",") if k.strip()]
        return _keyed(runs, lambda r: ", ".join(f"{k}={r.hparams[k]}" for k in keys)
                      if all(k in r.hparams for k in keys) else None)
    pattern = re.compile(mode[len("name:"):])
    return _keyed(runs, lambda r: _regex_key(pattern, r.name))


def _regex_key(pattern: re.Pattern, name: str) -> str | None:
    m = pattern.search(name)
    if m is None:
        return None
    return m.group(1) if m.groups() else m.group(0)


def _keyed(runs, key_of) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        key = key_of(run)
        if key is not None:
            groups[key].append(run)
    return dict(groups)


# ---------------------------------------------------------------- sweeps


def _same_lr_clusters(lrs: Sequence[float]) -> list[float]:
    """Snap LRs that agree within 1% (float32 logs of one grid value) to one value."""
    snapped: list[float] = []
    for lr in lrs:
        match = next((s for s in snapped if abs(math.log(lr / s)) < 0.01), None)
        snapped.append(match if match is not None else lr)
    return snapped


def _points(members: Sequence[Run], results: Mapping[str, object]) -> list[dict]:
    with_lr = [(run, *run_lr(run)) for run in members]
    with_lr = [(run, lr, source) for run, lr, source in with_lr if lr is not None]
    use_val = bool(with_lr) and all(run.get(VAL_LOSS) is not None for run, _, _ in with_lr)
    role = VAL_LOSS if use_val else TRAIN_LOSS
    snapped = _same_lr_clusters([lr for _, lr, _ in with_lr])
    points = []
    for (run, _, source), lr in zip(with_lr, snapped):
        loss, step = best_loss(run, role)
        diverged = is_diverged(run, results.get(run.name))
        points.append({"run": run.name, "lr": lr, "lr_source": source, "best_loss": loss,
                       "loss_role": role, "best_step": step, "diverged": diverged})
    points.sort(key=lambda p: (p["best_loss"], p["lr"], p["run"]))
    for rank, p in enumerate(points, 1):
        p["rank"] = rank
    return points


def _is_sweep(points: Sequence[dict], forced: bool) -> bool:
    lrs = [p["lr"] for p in points]
    distinct = set(lrs)
    if len(distinct) < (2 if forced else MIN_LRS):
        return False
    if not any(math.isfinite(p["best_loss"]) for p in points):
        return False
    return forced or max(lrs.count(v) for v in distinct) <= MAX_REPEATS


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
        points = _points(members, by_name)
        if _is_sweep(points, forced):
            section = sweep_section(key, points, group_by=group_by or "auto")
            if section is not None:
                sweeps.append(section)
    return sweeps


def sweep_section(group: str, points: Sequence[dict], *, group_by: str = "auto") -> dict | None:
    """The sweep's plain dict: group, runs (ranked), fit and recommendation."""
    fit = fit_sweep([p["lr"] for p in points], [p["best_loss"] for p in points])
    if fit is None:
        return None
    best_diverged = any(p["diverged"] and p["lr"] == fit.best_lr for p in points)
    return {
        "group": group,
        "group_by": group_by,
        "loss": points[0]["loss_role"] if points else None,
        "runs": [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in p.items()} for p in points],
        "fit": fit.to_dict(),
        "recommendation": _recommendation(fit, best_diverged),
    }


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


# ---------------------------------------------------------------- rendering (for the reporters)


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def text_lines(sweep: Mapping) -> list[str]:
    """A sweep section as plain-text lines (no trailing newlines)."""
    rec = sweep["recommendation"]
    lines = [f"sweep {sweep['group']}: {len(sweep['runs'])} runs, ranked by best {sweep['loss']}"]
    for p in sweep["runs"]:
        mark = "  diverged" if p["diverged"] else ""
        lines.append(f"  {p['rank']:>3}. lr {_num(p['lr']):>9}  best {_num(p['best_loss']):>9}  {p['run']}{mark}")
    lines.append(f"  suggested LR {_num(rec['suggested_lr'])} (confidence {rec['confidence']}): {rec['basis']}")
    if rec.get("note"):
        lines.append(f"  note: {rec['note']}")
    return lines


def markdown_lines(sweep: Mapping) -> list[str]:
    """A sweep section as Markdown lines: a heading, a ranked table, the recommendation."""
    rec = sweep["recommendation"]
    lines = [f"### Sweep `{sweep['group']}`", "",
             f"Suggested LR **{_num(rec['suggested_lr'])}** (confidence {rec['confidence']}): {rec['basis']}."]
    if rec.get("note"):
        lines.append(f"> **Note:** {rec['note']}.")
    lines += ["", f"| rank | LR | best {sweep['loss']} | run | diverged |", "| ---: | ---: | ---: | --- | --- |"]
    for p in sweep["runs"]:
        lines.append(f"| {p['rank']} | {_num(p['lr'])} | {_num(p['best_loss'])} | `{p['run']}` | {'yes' if p['diverged'] else ''} |")
    return lines
