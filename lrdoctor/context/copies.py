"""Copies of one training: diagnose it once, and give every copy the same verdict.

One training is often logged more than once: HF writes ``output_dir/checkpoint-*/trainer_state.json``
(each a prefix of the final ``trainer_state.json``) beside its TensorBoard ``runs/``; an MLflow run
keeps its TensorBoard logs among its artifacts; Lightning writes a ``metrics.csv`` and event files.
Diagnosed apart, the copies of one training can get conflicting verdicts (a checkpoint taken before
the overfitting began looks fine).

A run is a **copy** of another when every point of its training loss (its validation loss when it
has none) -- at least ``MIN_POINTS`` of them -- is found in the other at the same step with the same
value (to ``ABS_TOL``: HF rounds the losses it keeps in ``log_history`` to 4 decimals, TensorBoard
stores float32) -- a copy logs its first ``MIN_POINTS`` points at the original's first steps -- and no
other curve the two share (validation loss, accuracy, LR...) disagrees at
a step both logged.  Among runs that are copies of one another the **original** is the one holding the
most: most loss points, then most points in all, then not a ``checkpoint-*`` snapshot, then the
last in natural name order (``checkpoint-3128`` after ``checkpoint-3000``).

The original is diagnosed; each copy is reported under its own name with the original's findings and
recommendation, whose reason starts "same training as ORIGINAL", and ``extras["copy_of"]``; the
original lists them in ``extras["copies"]``.  So a user finds every file they have in the report,
and the verdicts cannot disagree.  The summary still counts each copy as a run.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..model import ROLES, TRAIN_LOSS, VAL_LOSS, Run, Series

MIN_POINTS = 3
ABS_TOL = 6e-5  # HF keeps round(loss, 4) in log_history: half a unit of the 4th decimal, and float32
REL_TOL = 1e-5


@dataclass(frozen=True)
class Copy:
    run: Run
    original: str
    tag_role: str  # the role whose curve matched
    matched: int  # points of that curve found in the original


def _curve(run: Run) -> tuple[str, Series] | None:
    """The curve that identifies the training: the train loss (else the validation loss) with at least
    MIN_POINTS finite values.  Its NaN/inf points stay in: a run that went NaN is no copy of one that
    did not."""
    for role in (TRAIN_LOSS, VAL_LOSS):
        s = run.get(role)
        if s is not None and np.isfinite(s.values).sum() >= MIN_POINTS:
            return role, s
    return None


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pointwise: both finite and equal within tolerance, or both the same non-finite value."""
    finite = np.isfinite(x) & np.isfinite(y)
    close = np.zeros(x.shape, dtype=bool)
    close[finite] = np.abs(x[finite] - y[finite]) <= ABS_TOL + REL_TOL * np.abs(y[finite])
    both_nan = np.isnan(x) & np.isnan(y)
    same_inf = np.isinf(x) & (x == y)
    return close | both_nan | same_inf


def _contained(small: Series, big: Series) -> bool:
    """Every point of ``small`` is in ``big`` (same step, same value within tolerance)."""
    common, i, j = np.intersect1d(small.steps, big.steps, assume_unique=True, return_indices=True)
    if len(common) < len(small):
        return False
    return bool(np.all(_same(small.values[i], big.values[j])))


def _agree(a: Series | None, b: Series | None) -> bool:
    """No contradiction: at the steps both logged, the values match (vacuous when one is missing);
    a NaN/inf where the other logged a number is a contradiction."""
    if a is None or b is None:
        return True
    common, i, j = np.intersect1d(a.steps, b.steps, assume_unique=True, return_indices=True)
    return bool(np.all(_same(a.values[i], b.values[j])))


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _rank(run: Run, curve: Series) -> tuple:
    snapshot = re.search(r"(^|/)checkpoint-\d+(/|$)", run.name) is not None
    return len(curve), run.n_points, not snapshot, _natural(run.name)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ABS_TOL + REL_TOL * max(abs(a), abs(b))


def _candidate_pairs(entries: list) -> list[tuple]:
    """Pairs that may be copies: the same first ``MIN_POINTS`` steps with close values there.  Sorted
    by the last of those values, only neighbours within the tolerance are paired -- an LR sweep whose
    runs all start from one initial loss is not compared run against run."""
    groups: dict[tuple, list] = {}
    for entry in entries:
        groups.setdefault(tuple(entry[2].steps[:MIN_POINTS].tolist()), []).append(entry)
    pairs = []
    for group in groups.values():
        group.sort(key=lambda e: float(e[2].values[MIN_POINTS - 1]))
        for k, a in enumerate(group):
            last = float(a[2].values[MIN_POINTS - 1])
            for b in group[k + 1:]:
                if not _close(last, float(b[2].values[MIN_POINTS - 1])):
                    break
                if a[1] == b[1] and all(_close(x, y) for x, y in zip(a[2].values[:MIN_POINTS], b[2].values[:MIN_POINTS])):
                    pairs.append((a, b))
    return pairs


def find_copies(runs: Sequence[Run]) -> dict[str, Copy]:
    """Copies by run name (see the module doc); runs that are no copy are absent."""
    entries = []
    for run in runs:
        found = _curve(run)
        if found is not None:
            entries.append((run, found[0], found[1], _rank(run, found[1])))
    return copies_among(_candidate_pairs(entries), {run.name: run for run in runs})


def copies_among(pairs: Sequence[tuple], by_name: dict) -> dict[str, Copy]:
    """The copies that candidate ``pairs`` (of entries (run, role, curve, rank) holding the whole
    runs) prove; ``Copy.run`` is taken from ``by_name`` (the run, or its summary: executors.py)."""
    parent: dict[str, tuple[tuple, str, str, int]] = {}  # copy -> (rank of its original, original, role, matched)
    for a, b in pairs:
        (small, s_curve, _), (big, b_curve, b_rank) = sorted([(a[0], a[2], a[3]), (b[0], b[2], b[3])],
                                                             key=lambda e: e[2])
        # Every curve the two share -- by role, and by tag name (an RL run's returns, a metric) -- must
        # agree: runs that share a loss but not their returns are two trainings (found in review).
        shared = set(small.series) & set(big.series)
        if not (_contained(s_curve, b_curve) and all(_agree(small.get(r), big.get(r)) for r in ROLES)
                and all(_agree(small.series[t], big.series[t]) for t in shared)):
            continue
        if small.name not in parent or parent[small.name][0] < b_rank:
            parent[small.name] = (b_rank, big.name, a[1], len(s_curve))
    copies = {}
    for name, (_, original, role, matched) in parent.items():
        while original in parent:  # a copy of a copy: of the root
            original = parent[original][1]
        copies[name] = Copy(by_name[name], original, role, matched)
    return copies


def split_copies(runs: Sequence[Run]) -> tuple[list[Run], dict[str, Copy]]:
    """(the runs to diagnose: all but the copies, the copies by name).  Runs handed in with clashing
    names (the API allows it) are all diagnosed: a name could not say which one is the copy."""
    names = [run.name for run in runs]
    copies = find_copies(runs) if len(set(names)) == len(names) else {}
    return [r for r in runs if r.name not in copies], copies


def with_copies(results: list, copies: dict[str, Copy]) -> list:
    """``results`` (RunResults of the originals) with each copy's result right after its original's."""
    if not copies:
        return results
    of: dict[str, list[Copy]] = {}
    for copy in sorted(copies.values(), key=lambda c: c.run.name):
        of.setdefault(copy.original, []).append(copy)
    out = []
    for result in results:
        mine = of.get(result.run, [])
        if mine:
            result = dataclasses.replace(result, extras={**result.extras, "copies": [c.run.name for c in mine]})
        out.append(result)
        out += [_copy_result(result, c) for c in mine]
    return out


def _copy_result(original, copy: Copy):
    """The original's verdict under the copy's name."""
    why = (f"same training as {original.run} (its {copy.tag_role.replace('_', ' ')} matches at all "
           f"{copy.matched} logged steps); diagnosed there")
    rec = original.recommendation
    extras = {k: v for k, v in original.extras.items() if k != "copies"}
    return dataclasses.replace(
        original, run=copy.run.name, source=copy.run.source, format=copy.run.format,
        problems=tuple(copy.run.problems), roles=dict(copy.run.roles),
        findings=tuple(dataclasses.replace(f, run=copy.run.name) for f in original.findings),
        recommendation=None if rec is None else dataclasses.replace(rec, reason=f"{why}: {rec.reason}"),
        extras={**extras, "copy_of": {"run": original.run, "role": copy.tag_role, "matched_points": copy.matched}},
    )
