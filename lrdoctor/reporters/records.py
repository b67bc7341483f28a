"""Report -> plain dicts: the one structure every reporter renders (JSON contract, schema v1)."""
from __future__ import annotations

import math

from .._version import __version__
from ..findings import Finding, Recommendation
from ..model import Problem
from ..report import SCHEMA_VERSION, Report, RunResult


def _num(x):
    if x is None:
        return None
    if isinstance(x, (int, str)):
        return x
    x = float(x)
    return x if math.isfinite(x) else None


def finding_to_dict(f: Finding) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "kind": f.kind,
        "severity": str(f.severity),
        "tag": f.tag,
        "start_step": f.start_step,
        "end_step": f.end_step,
        "message": f.message,
        "evidence": {k: _num(v) for k, v in sorted(f.evidence.items())},
    }


def recommendation_to_dict(r: Recommendation | None) -> dict | None:
    if r is None:
        return None
    return {
        "action": r.action,
        "factor": _num(r.factor),
        "current_lr": _num(r.current_lr),
        "suggested_lr": _num(r.suggested_lr),
        "reason": r.reason,
        "confidence": r.confidence,
    }


def problem_to_dict(p: Problem) -> dict:
    return {"path": p.path, "message": p.message, "partial": p.partial, "offset": p.offset, "line": p.line}


def run_to_dict(r: RunResult) -> dict:
    return {
        "run": r.run,
        "source": r.source,
        "format": r.format,
        "status": r.status,
        "roles": dict(sorted(r.roles.items())),
        "findings": [finding_to_dict(f) for f in r.findings],
        "recommendation": recommendation_to_dict(r.recommendation),
        "problems": [problem_to_dict(p) for p in r.problems],
        **({"extras": dict(r.extras)} if r.extras else {}),
    }


def summary(report: Report) -> dict:
    from ..findings import Severity

    return {
        "runs": len(report.runs),
        "errors": report.count(Severity.ERROR),
        "warnings": report.count(Severity.WARNING),
        "infos": report.count(Severity.INFO),
        "reading_problems": len(report.problems) + sum(len(r.problems) for r in report.runs),
    }


def report_to_dict(report: Report) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "lrdoctor", "version": __version__},
        "runs": [run_to_dict(r) for r in report.runs],
        "sweeps": [dict(s) for s in report.sweeps],
        "problems": [problem_to_dict(p) for p in report.problems],
        "summary": summary(report),
    }
