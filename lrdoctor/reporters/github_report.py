"""GitHub Actions workflow commands: one annotation per finding.

``::error title=...::message`` for errors, ``::warning`` for warnings, ``::notice`` for infos,
with the escaping GitHub's runner expects (``%``, CR and LF in messages; also ``:`` and ``,``
in property values).

GitHub shows at most 10 annotations of each kind per step and silently drops the rest, so
when a kind has more, the first 9 (worst runs first) are annotations, the 10th says how many
more there are, and those are printed as plain log lines.  A summary line closes the output.
Data-quality notes are one notice each for all the runs they apply to, and control characters from
file and tag names are shown escaped, so a log cannot forge a workflow command.
"""
from __future__ import annotations

from collections import Counter

from . import _format as fmt
from . import _plain as plain
from .records import report_to_dict
from .text_report import closing_line, notes

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
PER_KIND = 10  # GitHub's per-step limit for each of error, warning, notice


def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotations(doc: dict) -> list[tuple[str, str, str]]:
    """(command, title, message) for every finding, sweep and unreadable file, in report order."""
    out = []
    for run in doc["runs"]:
        rec = run["recommendation"]
        if run["crashed"]:
            out.append(("error", f"lrdoctor: crashed ({run['run']})",
                        f"{run['run']}: {', '.join(run['crashed'])} could not run; the diagnosis is incomplete"))
        for f in run["findings"]:
            if f["note"]:
                continue
            where = fmt.steps(f["start_step"], f["end_step"])
            message = f"{run['run']}: {f['message']}" + (f" ({where})" if where else "")
            if rec and rec["action"] not in ("keep", "abstain"):
                message += f"\nRecommendation: {fmt.recommendation(rec)}"
            out.append((COMMAND[f["severity"]], f"lrdoctor {f['code']} {f['name']} ({run['run']})", message))
    for code, name, names in notes(doc["runs"]):
        out.append(("notice", f"lrdoctor {code} {name}", plain.note_text(code, name, names)))
    for sweep in doc["sweeps"]:
        out.append(("notice", f"lrdoctor sweep {sweep.get('group', '?')}", "\n".join(fmt.sweep_lines(sweep))))
    for p in doc["problems"]:
        out.append(("warning", "lrdoctor: not diagnosed", fmt.problem(p)))
    return out


def render(report, **_options) -> str:
    doc = fmt.human_doc(report_to_dict(report))
    annotations = _annotations(doc)
    totals, shown = Counter(kind for kind, _, _ in annotations), Counter()
    lines, overflow = [], []
    for kind, title, message in annotations:
        budget = PER_KIND if totals[kind] <= PER_KIND else PER_KIND - 1
        if shown[kind] < budget:
            lines.append(command(kind, message, title=title))
            shown[kind] += 1
        else:
            overflow.append(f"lrdoctor: {kind}: {title}: {message}".replace("\n", " "))
    for kind in COMMAND.values():
        if totals[kind] > PER_KIND:
            more = totals[kind] - shown[kind]
            lines.append(command(kind, f"{more} more {kind} annotations are in the job log and the report "
                                       "(GitHub shows 10 per kind)", title=f"lrdoctor: {more} more"))
    s = doc["summary"]
    lines += overflow
    lines.append(f"lrdoctor: {closing_line(s)}")
    return "\n".join(lines) + "\n"
