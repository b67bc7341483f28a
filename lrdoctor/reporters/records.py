"""Report -> plain dicts: the one structure every reporter renders (JSON contract, schema v1).

The contract is published as a JSON Schema (schema.py, ``lrdoctor schema``).  Version policy: an
additive change (a new field, a new action, status or rule code) keeps ``version``; a change that can
break a reader (a field removed, renamed or given another meaning or type) bumps it.

Floats are rounded to ``SIGNIFICANT_DIGITS`` significant digits.  The measured values carry no more
meaning than that (a loss's own noise is in the 2nd-3rd digit), and the last digits of a float depend on
the CPU's vector units and the library version (numpy's AVX-512 ``exp`` rounds differently), so a
contract that promised 17 digits would promise something no machine can keep.  The recommendation's
learning rates and factor keep ``LR_SIGNIFICANT_DIGITS``: programs compare them with LR grids spaced
evenly in log space (10^-2.5, 10^-3, ...), and a ratio that is exactly half a decade must stay within
1e-9 decades of it after the rounding.
"""
from __future__ import annotations

import hashlib
import math
import numbers
from typing import Mapping

from .._version import __version__
from ..findings import Finding, Recommendation
from ..model import Problem
from ..report import SCHEMA_VERSION, Report, RunResult

SIGNIFICANT_DIGITS = 6
LR_SIGNIFICANT_DIGITS = 10


def round_significant(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (0, NaN and inf unchanged).

    >>> round_significant(78.56392318563981), round_significant(3.16227766e-05), round_significant(-1234567.0)
    (78.5639, 3.16228e-05, -1234570.0)
    """
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _num(x, digits: int = SIGNIFICANT_DIGITS):
    """A JSON-safe scalar: numpy numbers become Python ones, NaN/inf become None, floats rounded."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        x = float(x)
        return round_significant(x, digits) if math.isfinite(x) else None
    if hasattr(x, "item"):  # numpy bool_ and 0-d arrays
        return _num(x.item(), digits)
    return str(x)


def _plain(obj):
    """Extras and sweeps made JSON-safe, recursively (they come from other modules)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) or (hasattr(obj, "tolist") and getattr(obj, "ndim", 0) > 0):
        return [_plain(v) for v in (obj.tolist() if hasattr(obj, "tolist") else obj)]
    return _num(obj)


def finding_to_dict(f: Finding) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "kind": f.kind,
        "severity": str(f.severity),
        "tag": f.tag,
        "start_step": _num(f.start_step),
        "end_step": _num(f.end_step),
        "message": f.message,
        "note": is_note(f),
        "evidence": {str(k): _plain(v) for k, v in sorted(f.evidence.items())},
    }


def recommendation_to_dict(r: Recommendation | None, findings: tuple[Finding, ...] = ()) -> dict | None:
    if r is None:
        return None
    return {
        "action": r.action,
        "factor": _num(r.factor, LR_SIGNIFICANT_DIGITS),
        "current_lr": _num(r.current_lr, LR_SIGNIFICANT_DIGITS),
        "suggested_lr": _num(r.suggested_lr, LR_SIGNIFICANT_DIGITS),
        "reason": r.reason,
        "confidence": r.confidence,
        "rule": r.rule,
        "stop_step": _stop_step(r, findings),
    }


def _stop_step(r: Recommendation, findings: tuple[Finding, ...]) -> int | None:
    """For stop-early: the step to stop at (the driving finding's best step, else where it starts)."""
    if r.action != "stop-early":
        return None
    driver = next((f for f in findings if f.code == r.rule), None) or next(
        (f for f in findings if f.kind == "overfitting"), None)
    if driver is None:
        return None
    best = driver.evidence.get("best_step")
    return _num(best if isinstance(best, numbers.Real) and math.isfinite(best) else driver.start_step)


def is_note(f: Finding) -> bool:
    """A data-quality remark (LR not logged, no validation curve...): said once, never a run's status."""
    return f.kind == "data_quality" and f.severity <= 1 and not f.evidence.get("crashed")


def crashed(r: RunResult) -> tuple[str, ...]:
    """Codes of the checks that crashed on the run (RunResult.crashed, when the engine sets it)."""
    return tuple(getattr(r, "crashed", ()) or ())


def verdict(r: RunResult) -> str:
    """The run's status as the human reports show it: "crashed" first, then the worst finding that is
    not a data-quality note, else "ok"."""
    if crashed(r) or r.status == "crashed":
        return "crashed"
    worst = max((f.severity for f in r.findings if not is_note(f)), default=None)
    return "ok" if worst is None else str(worst)


def run_id(r: RunResult) -> str:
    """An id that survives pointing lrdoctor at another directory or moving the logs.

    It hashes what belongs to the log, not to where it was found from: the format, the last two
    components of the run's path, the tags it was read with, and its training-loss curve (the
    48-point preview rounded to 6 significant digits, as in the JSON, so the last bits of a float
    cannot make it differ between machines).  Identical
    copies of one log get the same hash; report_to_dict numbers them (``-2``, ``-3``) in report order.
    """
    tail = "/".join(str(r.source).replace("\\", "/").rstrip("/").split("/")[-2:])
    roles = ";".join(f"{k}={v}" for k, v in sorted(r.roles.items()))
    curve = ",".join(repr(round_significant(float(v))) for v in r.loss_preview)
    digest = hashlib.sha256("\0".join((r.format, tail, roles, curve)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def problem_to_dict(p: Problem) -> dict:
    return {"path": p.path, "message": p.message, "partial": p.partial, "offset": p.offset, "line": p.line}


def run_to_dict(r: RunResult) -> dict:
    return {
        "id": run_id(r),
        "run": r.run,
        "source": r.source,
        "format": r.format,
        "status": r.status,
        "verdict": verdict(r),
        "crashed": list(crashed(r)),
        "roles": dict(sorted(r.roles.items())),
        "findings": [finding_to_dict(f) for f in r.findings],
        "recommendation": recommendation_to_dict(r.recommendation, r.findings),
        "notes": [str(n) for n in getattr(r, "notes", ()) or ()],
        "problems": [problem_to_dict(p) for p in r.problems],
        "extras": _plain(r.extras),
        "loss_preview": [_num(v) for v in r.loss_preview],
        "rules_run": [{"code": c, "name": n} for c, n in r.rules_run],
        "rules_skipped": [{"code": c, "name": n, "reason": why} for c, n, why in r.rules_skipped],
        "crashed": list(r.crashed),
    }


def summary(report: Report) -> dict:
    from ..findings import Severity

    statuses = [r.status for r in report.runs]
    worst = max((r.worst for r in report.runs if r.worst is not None), default=None)
    verdicts = [verdict(r) for r in report.runs]
    return {
        "status": "crashed" if report.crashed_runs or "crashed" in verdicts else "ok" if worst is None else str(worst),
        "runs": len(report.runs),
        "runs_ok": statuses.count("ok"),
        "runs_crashed": len(report.crashed_runs),
        "verdicts": {v: verdicts.count(v) for v in VERDICTS if v in verdicts},
        "errors": report.count(Severity.ERROR),
        "warnings": report.count(Severity.WARNING),
        "infos": report.count(Severity.INFO),
        "reading_problems": len(report.problems) + sum(len(r.problems) for r in report.runs),
    }


VERDICTS = ("crashed", "error", "warning", "info", "ok")  # worst first


def _unique_ids(runs: list[dict]) -> list[dict]:
    seen: dict[str, int] = {}
    for run in runs:
        seen[run["id"]] = seen.get(run["id"], 0) + 1
        if seen[run["id"]] > 1:
            run["id"] = f"{run['id']}-{seen[run['id']]}"
    return runs


def report_to_dict(report: Report) -> dict:
    return shown_strings({
        "version": SCHEMA_VERSION,
        "tool": {"name": "lrdoctor", "version": __version__},
        "runs": _unique_ids([run_to_dict(r) for r in report.runs]),
        "sweeps": [_plain(s) for s in report.sweeps],
        "problems": [problem_to_dict(p) for p in report.problems],
        "summary": summary(report),
    })


def shown_strings(obj):
    """Every string with the bytes of a non-UTF-8 file name as ``\\xNN`` (names.shown): encodable anywhere."""
    from ..names import shown

    if isinstance(obj, str):
        return shown(obj)
    if isinstance(obj, dict):
        return {shown_strings(k): shown_strings(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shown_strings(v) for v in obj]
    return obj
