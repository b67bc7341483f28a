"""A check that could not run never reads as a pass.

The engine runs every check (rule, range-test analysis, sweep analysis) inside a guard: a crash does not
stop the other checks, and it is not hidden either.  It becomes an ERROR finding naming the check and the
exception, its code goes into ``RunResult.crashed`` (status "crashed", exit code 2), and the advice says
which checks could not run: a run whose checks found nothing but one of which crashed gets no LR advice
("abstain"), never "no learning-rate problem found".
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

from .findings import Finding, Recommendation, Severity

RANGE_TEST = "RT01"  # == rangetest.CODE (not imported: rangetest imports the engine's report types)
SWEEP = "SWEEP"  # the cross-run LR-sweep analysis
DIAGNOSIS = "diagnosis"  # the run's diagnosis as a whole (outside any one check: the advice, the preview)
_MAX_MESSAGE = 300  # an exception's text can hold a whole array


def crash_finding(code: str, name: str, run: str, exc: BaseException) -> Finding:
    """The finding that shows a crashed check: ERROR, so no report format can mistake it for a pass."""
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > _MAX_MESSAGE:
        detail = detail[:_MAX_MESSAGE] + "…"
    return Finding(
        code=code,
        name=name,
        kind="data_quality",
        severity=Severity.ERROR,
        message=f"check {code} ({name}) could not run on this run: it crashed ({detail}); "
                f"what it looks for was not checked (a bug in lrdoctor: please report it)",
        run=run,
        evidence={"crashed": 1},
    )


def crashed_codes(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The codes of the crash findings, in order, each once."""
    return tuple(dict.fromkeys(f.code for f in findings if f.evidence.get("crashed")))


def _what(codes: Sequence[str]) -> str:
    names = ", ".join(codes)
    return f"check {names} could not run" if len(codes) == 1 else f"checks {names} could not run"


def with_crashes(rec: Recommendation | None, codes: Sequence[str]) -> Recommendation | None:
    """The advice of a run on which the checks ``codes`` crashed.

    When a finding drove the advice it stands (the evidence for it is real) with the crash added and the
    confidence low; when nothing did (the advice would be "keep": no problem found), there is no advice:
    a problem the crashed check looks for may be there.
    """
    if not codes:
        return rec
    what = _what(codes)
    if rec is not None and rec.rule is not None:
        return dataclasses.replace(rec, reason=f"{rec.reason}; but {what} (crashed), so this may be incomplete",
                                   confidence="low")
    current = None if rec is None else rec.current_lr
    return Recommendation("abstain", None, current, None,
                          f"no LR advice: {what} (crashed), so a problem {'it looks' if len(codes) == 1 else 'they look'} "
                          f"for may be missed; "
                          f"the checks that ran found none", "low", rule=None)


def mark_crashed(result, code: str):
    """``result`` (a RunResult) after the cross-run check ``code`` crashed: it was not checked against the
    other runs, so it may not pass."""
    rec = result.recommendation if result.crashed else with_crashes(result.recommendation, (code,))
    return dataclasses.replace(result, crashed=(*result.crashed, code), recommendation=rec)
