"""The JSON report's contract as a JSON Schema (draft 2020-12); ``lrdoctor schema`` prints it.

Version policy: ``version`` is 1.  An additive change — a new field, a new action, status, kind or
rule code — keeps it, so a reader must ignore fields it does not know (the schema allows them) and
treat an unknown action or status as "not understood", never as "ok".  A change that can break a
reader — a field removed or renamed, or given another type or meaning — bumps ``version``.  The
enumerations below list the values this version emits; the schema's tests check they match the code.
"""
from __future__ import annotations

import json

from ..findings import ACTIONS, KINDS
from ..report import SCHEMA_VERSION

SEVERITIES = ["info", "warning", "error"]
STATUSES = ["ok", *SEVERITIES, "crashed"]

_NUMBER = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_STR = {"type": "string"}
_SCALAR = {"type": ["number", "string", "boolean", "null"]}


def _object(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, **extra}


PROBLEM = _object({
    "path": _STR, "message": _STR, "partial": {"type": "boolean"}, "offset": _INT, "line": _INT,
}, description="Something that went wrong while reading; partial: data up to it was kept.")

FINDING = _object({
    "code": {"type": "string", "minLength": 1, "description": "the rule's code, e.g. DV01; never reused"},
    "name": _STR,
    "kind": {"type": "string", "description": f"one of {', '.join(KINDS)} (more may be added)"},
    "severity": {"enum": SEVERITIES},
    "tag": _STR,
    "start_step": _INT,
    "end_step": _INT,
    "message": _STR,
    "note": {"type": "boolean", "description": "a data-quality note: said once, never the run's verdict"},
    "evidence": {"type": "object", "additionalProperties": {
        "anyOf": [_SCALAR, {"type": "array"}, {"type": "object"}]}},
})

RECOMMENDATION = _object({
    "action": {"type": "string", "description": f"one of {', '.join(ACTIONS)} (more may be added)"},
    "factor": {**_NUMBER, "description": "suggested_lr / current_lr"},
    "current_lr": _NUMBER,
    "suggested_lr": _NUMBER,
    "reason": _STR,
    "confidence": {"enum": ["low", "medium", "high"]},
    "rule": {"type": ["string", "null"], "description": "code of the finding that drove the advice"},
    "stop_step": {**_INT, "description": "stop-early: the step to stop at; null for other actions"},
})

RUN = _object({
    "id": {"type": "string", "pattern": "^[0-9a-f]{16}(-[0-9]+)?$",
           "description": "stable across invocations: hashes the format, the last two components of the "
                          "run's path, its tags and its training-loss curve; copies get -2, -3..."},
    "run": {"type": "string", "description": "the run's path relative to the diagnosed directory"},
    "source": _STR,
    "format": _STR,
    "status": {"type": "string", "description": "worst severity of any finding (ok when none), or crashed"},
    "verdict": {"type": "string", "description": "what the human reports show: status without the "
                                                 "data-quality notes; crashed first"},
    "crashed": {"type": "array", "items": _STR, "description": "codes of the checks that crashed"},
    "roles": {"type": "object", "additionalProperties": _STR},
    "findings": {"type": "array", "items": FINDING},
    "recommendation": {"anyOf": [{"type": "null"}, RECOMMENDATION]},
    "notes": {"type": "array", "items": _STR},
    "problems": {"type": "array", "items": PROBLEM},
    "extras": {"type": "object"},
    "loss_preview": {"type": "array", "items": _NUMBER},
    "rules_run": {"type": "array", "items": _object({"code": _STR, "name": _STR})},
    "rules_skipped": {"type": "array", "items": _object({"code": _STR, "name": _STR, "reason": _STR})},
})

SUMMARY = _object({
    "status": {"type": "string"},
    "runs": {"type": "integer", "minimum": 0},
    "runs_ok": {"type": "integer", "minimum": 0},
    "runs_crashed": {"type": "integer", "minimum": 0, "description": "runs on which a check could not run"},
    "verdicts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                 "description": "runs counted by verdict"},
    "errors": {"type": "integer", "minimum": 0, "description": "findings, not runs"},
    "warnings": {"type": "integer", "minimum": 0},
    "infos": {"type": "integer", "minimum": 0},
    "reading_problems": {"type": "integer", "minimum": 0},
})

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"lrdoctor-report-v{SCHEMA_VERSION}",
    "title": "lrdoctor diagnose --format json",
    "description": __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    **_object({
        "version": {"const": SCHEMA_VERSION},
        "tool": _object({"name": {"const": "lrdoctor"}, "version": _STR}),
        "runs": {"type": "array", "items": RUN},
        "sweeps": {"type": "array", "items": {"type": "object"}},
        "problems": {"type": "array", "items": PROBLEM},
        "summary": SUMMARY,
    }),
}


def render() -> str:
    return json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"
