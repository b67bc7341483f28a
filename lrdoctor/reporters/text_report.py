"""Plain text for a person at a terminal: one block per run, worst first, recommendation on top."""
from __future__ import annotations

from .records import report_to_dict


def render(report, **_options) -> str:
    doc = report_to_dict(report)
    lines: list[str] = []
    for run in doc["runs"]:
        lines.append(f"{run['run']}  [{run['status']}]  ({run['format']})")
        rec = run["recommendation"]
        if rec:
            lines.append(f"  -> {rec['action']}: {rec['reason']}")
        for f in run["findings"]:
            lines.append(f"  {f['code']} {f['severity']:<7} {f['message']}")
        for p in run["problems"]:
            lines.append(f"  reading problem: {p['path']}: {p['message']}")
        lines.append("")
    s = doc["summary"]
    lines.append(f"{s['runs']} runs checked: {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos")
    return "\n".join(lines) + "\n"
