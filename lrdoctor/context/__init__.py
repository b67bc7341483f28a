"""Evidence across runs: which runs belong together and what they say about each other.

The pipeline is readers -> runs -> per-run rules -> **evidence across runs** -> advice -> reporters.
The engine calls ``copies.split_copies`` before the per-run rules (a training logged twice is diagnosed
once) and ``across_runs`` after every run has its own findings and advice.

* ``copies.py``   copies of one training (HF checkpoints, an MLflow run and its TensorBoard artifacts);

* ``groups.py``   which runs form an LR sweep (``--group-by``) and what LR each one used;
* ``sweep.py``    a sweep ranked and fitted (best loss vs log LR), with its noise;
* ``verdict.py``  each sweep member's advice, weighing the sweep against the run's own findings;
* ``baseline.py`` a run compared with a reference run or seeds (``--baseline``): findings BL01-BL04;
* ``rangetest.py`` an LR range test recognised and turned into a suggested LR (per run);
* ``summary.py``  a run reduced, where it was diagnosed, to what this layer asks of it (pipeline.py).
"""
from __future__ import annotations

from typing import Sequence

from ..errors import LrDoctorError
from ..model import Problem, Run


# The finding codes this layer emits (code -> kebab name); --select/--ignore name them like rules'.
CODES = {
    "SW01": "worse-than-sweep",
    "BL00": "baseline-comparison",
    "BL01": "diverged-unlike-baseline",
    "BL02": "worse-than-baseline",
    "BL03": "slower-than-baseline",
    "BL04": "wider-val-gap",
}


def code_matches(code: str, key: str) -> bool:
    """Does a select/ignore ``key`` name this code: "*"/"all", a code prefix or the kebab name?"""
    k = key.strip().lower()
    return k in ("*", "all") or code.lower().startswith(k) or k == CODES.get(code, "").lower()


def _selected(code: str, config) -> bool:
    select, ignore = getattr(config, "select", ()) or (), getattr(config, "ignore", ()) or ()
    if select and not any(code_matches(code, k) for k in select):
        return False
    return not any(code_matches(code, k) for k in ignore)


def across_runs(runs: Sequence[Run], results: Sequence, config) -> tuple[list, tuple, tuple[Problem, ...]]:
    """(results revised by their sweeps and the baseline, the sweep sections, problems).

    A sweep analysis that fails is reported as a problem and leaves the runs' own advice alone; a
    baseline comparison that fails becomes an error finding on every run (a check that could not
    run must never read as a pass).
    """
    from .. import containment
    from . import sweep, verdict

    results = list(results)
    try:
        sweeps = tuple(sweep.find_sweeps(runs, results, group_by=getattr(config, "group_by", None)))
        problems: tuple[Problem, ...] = ()
    except LrDoctorError:  # a bad --group-by is the user's error: say so
        raise
    except Exception as exc:  # no run was checked against the others, so none may pass
        sweeps, problems = (), (Problem("<sweeps>", f"sweep analysis failed: {type(exc).__name__}: {exc}"),)
        results = [containment.mark_crashed(r, containment.SWEEP) for r in results]
    if _selected("SW01", config):  # --ignore SW01: each run keeps its own advice
        results = verdict.apply(runs, results, sweeps)
    references = tuple(getattr(config, "baseline", ()) or ())
    if references:
        from . import baseline

        results, reference_problems = baseline.apply(runs, results, references, config)
        problems += reference_problems
        results = [_without_deselected(r, config) for r in results]
    # Worst first, then by name (a sweep may have added a finding).
    results.sort(key=lambda r: (-r.rank, r.run))
    return results, sweeps, problems


def _without_deselected(result, config):
    """``result`` without the BL findings that --select/--ignore leave out (a crash, BL00, stays)."""
    import dataclasses

    kept = tuple(f for f in result.findings if f.code not in CODES or f.code == "BL00" or _selected(f.code, config))
    return result if len(kept) == len(result.findings) else dataclasses.replace(result, findings=kept)
