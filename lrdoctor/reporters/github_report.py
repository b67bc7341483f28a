"""GitHub Actions workflow commands: one annotation per finding.

``::error title=...::message`` for errors, ``::warning`` for warnings, ``::notice`` for infos,
with the escaping GitHub's runner expects (``%``, CR and LF in messages; also ``:`` and ``,``
in property values).  A plain summary line closes the output.
"""
from __future__ import annotations

from . import _format as fmt
from .records import report_to_dict

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def render(report, **_options) -> str:
    doc = report_to_dict(report)
    lines = []
    for run in doc["runs"]:
        advice = fmt.recommendation(run["recommendation"])
        for f in run["findings"]:
            where = fmt.steps(f["start_step"], f["end_step"])
            message = f"{run['run']}: {f['message']}" + (f" ({where})" if where else "")
            if run["recommendation"] and run["recommendation"]["action"] != "keep":
                message += f"\nRecommendation: {advice}: {run['recommendation']['reason']}"
            title = f"lrdoctor {f['code']} {f['name']} ({run['run']})"
            lines.append(command(COMMAND[f["severity"]], message, title=title))
    for p in doc["problems"]:
        lines.append(command("warning", f"{p['path']}: {p['message']}", title="lrdoctor: could not read"))
    s = doc["summary"]
    lines.append(f"lrdoctor: {fmt.plural(s['runs'], 'run')} checked: {fmt.counts(s)}")
    return "\n".join(lines) + "\n"
