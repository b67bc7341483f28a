"""Which runs form an LR sweep (``group_by``); sweep.py ranks and fits them.

* ``"auto"`` (default): only runs that plausibly share one setup.  Runs in the same directory
  whose names differ only in an LR token (``lr_0.01``, ``lr=1e-3``, ``learning_rate-3e-4``) form
  a candidate group; runs without such a token group by directory.  A candidate is split where
  the runs were evidently written by different code -- another format, other tags for the
  train/val loss or the LR -- or where their hyper-parameters (other than the LR) or the shape
  of their LR schedule disagree; a part whose finished runs differ in length by more than
  ``MAX_BUDGET_RATIO`` is not a sweep (another budget, another setup).  A folder with an LR more
  than ``MAX_REPEATS`` times is a collection of setups, not a sweep (checked on the whole folder
  before any split, since hyper-parameters are rarely a complete description of a setup).
  docs/rangetest.md says why.
* ``"none"``: no sweeps.  ``"all"``: every run with an LR is one sweep.  ``"dir"``: by directory
  only.  ``"hparams:a,b"``: by the values of those hyper-parameters.  ``"name:REGEX"``: by the
  text the regex matches in the run name (its first group when it has one).

A run's LR is the peak of its logged LR, else its hyper-parameters (``lr``, ``learning_rate``...),
else the LR written in its name.
"""
from __future__ import annotations

import math
import posixpath
import re
from collections import defaultdict
from typing import Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..findings import Severity
from ..model import LR, TRAIN_LOSS, VAL_LOSS, Run
from ..tags import lr_hparam, names_lr
from .summary import remembered, with_result

# Hyper-parameters that describe progress, not the setup: they differ between runs of one sweep.
_BOOKKEEPING = {"global_step", "best_metric", "best_model_checkpoint", "trial_params", "total_flos", "epoch",
                "num_input_tokens_seen", "run_name", "output_dir", "logging_dir", "name", "version"}
_NUMBER = r"(\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)"
NAME_LR = re.compile(r"(?<![a-z])(?:lr|learning[_-]?rate)[_=:\-]?" + _NUMBER + r"(?![\d.])", re.IGNORECASE)
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


@remembered()
def run_lr(run: Run) -> tuple[float | None, str]:
    """(LR, where it came from): the peak of the logged LR, else the hyper-parameters, else the run
    name.  What the optimizer logged is what it used; a folder name can lie (a copied folder, a
    changed default)."""
    lr = run.get(LR)
    # tags.assign_roles turns an LR hyper-parameter into a constant "hparams/<key>" series: not logged.
    if lr is not None and len(lr) and not run.roles.get(LR, "").startswith("hparams/"):
        finite = lr.values[np.isfinite(lr.values) & (lr.values > 0)]
        if finite.shape[0]:
            return float(finite.max()), "logged (peak)"
    found = lr_hparam(run.hparams)
    if found is not None:
        return found[1], f"hparams:{found[0]}"
    from_name = lr_from_name(run_dir(run.name))
    if from_name is not None:
        return from_name, "name"
    return None, ""


def _own_folder(name: str) -> str:
    """The run's own folder: its name without a log file name, a train/validation subfolder or an
    HF ``checkpoint-N`` (unlike ``run_dir``, Lightning's ``version_N`` stays: it numbers the runs)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if parts and re.search(r"\.(json|csv|log|txt|jsonl|yaml|yml)$|tfevents", parts[-1]):
        parts.pop()
    while parts and (parts[-1] in ("train", "validation", "last-checkpoint") or re.fullmatch(r"checkpoint-\d+", parts[-1])):
        parts.pop()
    return "/".join(parts) or "."


def run_dir(name: str) -> str:
    """The run's directory from its name: without a log file name, a Lightning ``version_N`` or an
    HF ``checkpoint-N`` (the output_dir is the run).

    >>> run_dir("sweep/lr_0.1/version_0/metrics.csv"), run_dir("r0001/trainer_state.json"), run_dir("r2")
    ('sweep/lr_0.1', 'r0001', 'r2')
    """
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if parts and re.search(r"\.(json|csv|log|txt|jsonl|yaml|yml)$|tfevents", parts[-1]):
        parts.pop()
    while parts and re.fullmatch(r"version_\d+|checkpoint-\d+|last-checkpoint|train|validation", parts[-1]):
        parts.pop()
    return "/".join(parts) or "."


# Divergence findings that mean the run broke (NaN/inf, an order-of-magnitude explosion, blown-up
# logits).  A slow climb back (DV02) or a collapsed training accuracy (DV04) can happen to a run
# whose best loss is as good as any; its sweep weighs it (context/verdict.py).
HARD_DIVERGENCE = ("DV01", "DV03", "DV05")


@remembered(with_result)
def is_diverged(run: Run, result=None) -> bool:
    """NaN/inf in a loss, or a hard divergence finding (``HARD_DIVERGENCE``) on a run that ended
    above where it started (an early explosion the run recovered from is not a broken run)."""
    for role in (TRAIN_LOSS, VAL_LOSS):
        series = run.get(role)
        if series is not None and len(series) and not np.all(np.isfinite(series.values)):
            return True
    findings = getattr(result, "findings", ()) or ()
    if not any(f.code in HARD_DIVERGENCE and f.severity >= Severity.WARNING for f in findings):
        return False
    return not _recovered(run)


def _recovered(run: Run) -> bool:
    """Its train loss ended below where it began (medians of the first and last 3 values)."""
    series = run.get(TRAIN_LOSS) if run.get(TRAIN_LOSS) is not None else run.get(VAL_LOSS)
    values = np.asarray(series.values if series is not None else [], dtype=float)
    values = values[np.isfinite(values)]
    return values.shape[0] >= 6 and float(np.median(values[-3:])) < float(np.median(values[:3]))


def same_lr_clusters(lrs: Sequence[float]) -> list[float]:
    """Snap LRs that agree within 1% (float32 logs of one grid value) to one value."""
    snapped: list[float] = []
    for lr in lrs:
        match = next((s for s in snapped if abs(math.log(lr) - math.log(s)) < 0.01), None)  # lr / s can underflow to 0
        snapped.append(match if match is not None else lr)
    return snapped


@remembered()
def _setup(run: Run) -> dict:
    """What describes the run's setup, LR aside: its hyper-parameters; what one training script
    writes the same way for every LR (the format, the tags of the losses and the LR -- a role a
    run lacks, such as the validation loss of a run that crashed before its first evaluation,
    says nothing); and the schedule's shape read from the logged LR (a constant and a cosine run
    at one LR are different setups even when nothing else says so)."""
    setup = {k: v for k, v in run.hparams.items() if not names_lr(k) and k.lower() not in _BOOKKEEPING}
    setup["(format)"] = run.format
    setup.update({f"({role} tag)": run.roles[role] for role in (TRAIN_LOSS, VAL_LOSS, LR) if role in run.roles})
    lr = run.get(LR)
    if lr is not None and len(lr) >= 3 and not is_diverged(run):  # a crash truncates the schedule
        from ..signal.schedule import detect_schedule

        # Only constant vs not: finer kinds depend on how often the LR was logged (per step or
        # per epoch), which differs between the formats of one sweep.
        kind = detect_schedule(lr.steps, lr.values).kind
        setup["(schedule)"] = "constant" if kind == "constant" else "varying"
    return setup


def _compatible(a: Mapping, b: Mapping) -> bool:
    return all(str(a[k]) == str(b[k]) for k in a.keys() & b.keys())


@remembered()
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
        if _max_repeats(members) > repeats_allowed(members):
            continue  # a collection of setups, not a sweep: don't guess
        for k, split in enumerate(s for s in _split_by_setup(members) if _similar_budget(s)):
            groups[key if k == 0 else f"{key} [{k + 1}]"] = split
    return groups


def repeats_allowed(runs: Sequence[Run]) -> int:
    """How often one LR may recur in an auto sweep: ``MAX_REPEATS``, twice that (seeds) for
    numbered siblings; a folder of many more runs at one LR is a collection of setups."""
    return 2 * MAX_REPEATS if numbered_siblings(runs) else MAX_REPEATS


def numbered_siblings(runs: Sequence[Run]) -> bool:
    """Two or more runs in sibling folders whose names differ only in a number (``run0``..``run4``,
    ``trial_3``, Lightning's ``version_N``): one script started repeatedly, so seeds and LRs of one
    setup.

    >>> from lrdoctor.model import Run
    >>> numbered_siblings([Run("x/run0", "x", "tb"), Run("x/run12", "x", "tb")])
    True
    >>> numbered_siblings([Run("x/bert_run0", "x", "tb"), Run("x/gpt_run1", "x", "tb")])
    False
    """
    if len(runs) < 2:
        return False
    bases = [posixpath.basename(_own_folder(r.name)) for r in runs]
    if len(set(bases)) < len(bases):  # one folder holding several runs: nothing says how they relate
        return False
    return all(re.search(r"\d", b) for b in bases) and len({re.sub(r"\d+", "#", b) for b in bases}) == 1


def _max_repeats(runs: Sequence[Run]) -> int:
    lrs = same_lr_clusters([lr for lr in (run_lr(r)[0] for r in runs) if lr is not None])
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
