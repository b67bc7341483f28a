"""Markdown: a summary table and one section per run with findings.

Ready for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment (GitHub-flavoured tables).
"""
from __future__ import annotations

from . import _format as fmt
from .records import report_to_dict

ICONS = {"crashed": "💥", "error": "❌", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}
MAX_BYTES = 900_000  # below the 1 MiB a $GITHUB_STEP_SUMMARY may hold, leaving room for the sweeps


def cell(text) -> str:
    """Table-cell safe: no pipes or newlines, HTML-sensitive characters escaped."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def code(text) -> str:
    text = str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{text}`"


def render(report, *, max_bytes: int = MAX_BYTES, **_options) -> str:
    """``max_bytes`` bounds the per-run sections (GitHub's step summary takes at most 1 MiB)."""
    doc = report_to_dict(report)
    s = doc["summary"]
    lines = [f"## lrdoctor: {ICONS[s['status']]} {fmt.plural(s['runs'], 'run')} checked — {fmt.counts(s)}", ""]
    if doc["runs"]:
        lines += ["| Run | Status | Recommendation | Findings | Loss |", "| --- | --- | --- | --- | --- |"]
        lines += [_summary_row(run) for run in doc["runs"]]
        lines.append("")
    lines += _run_sections([run for run in doc["runs"] if run["findings"] or run["problems"]],
                           budget=max_bytes - len("\n".join(lines).encode()))
    for sweep in doc["sweeps"]:
        lines += _sweep_section(sweep)
    if doc["problems"]:
        lines += ["### Not diagnosed", ""] + [f"- {cell(fmt.problem(p))}" for p in doc["problems"]]
        lines.append("")
    return "\n".join(lines)


def _run_sections(runs: list[dict], budget: int) -> list[str]:
    """One section per run, worst first, while they fit in ``budget`` bytes; then a note."""
    lines: list[str] = []
    for i, run in enumerate(runs):
        section = _run_section(run)
        size = len("\n".join(section).encode()) + 1
        if size > budget:
            return lines + [f"*{len(runs) - i} more runs with findings are not shown here (size limit); "
                            "see the JSON or JUnit report.*", ""]
        lines, budget = lines + section, budget - size
    return lines


def _summary_row(run: dict) -> str:
    codes = ", ".join(dict.fromkeys(f["code"] for f in run["findings"])) or "–"
    spark = code(fmt.sparkline(run["loss_preview"])) if run["loss_preview"] else "–"
    status = f"{ICONS[run['status']]} {run['status']}"
    return f"| {code(run['run'])} | {status} | {cell(fmt.recommendation(run['recommendation']))} | {codes} | {spark} |"


def _run_section(run: dict) -> list[str]:
    lines = [f"### {code(run['run'])} — {ICONS[run['status']]} {run['status']}", ""]
    rec = run["recommendation"]
    if rec:
        lines += [f"**Recommendation:** {cell(fmt.recommendation(rec))} — {cell(rec['reason'])} "
                  f"({cell(rec['confidence'])} confidence)", ""]
    if run["findings"]:
        lines += ["| Code | Severity | Rule | Steps | Finding | Evidence |", "| --- | --- | --- | --- | --- | --- |"]
        for f in run["findings"]:
            where = fmt.steps(f["start_step"], f["end_step"]) or "–"
            evidence = code(fmt.evidence(f["evidence"])) if f["evidence"] else "–"
            lines.append(f"| {f['code']} | {ICONS[f['severity']]} {f['severity']} | {cell(f['name'])} | {where} "
                         f"| {cell(f['message'])} | {evidence} |")
        lines.append("")
    if run["problems"]:
        lines += [f"- reading problem: {cell(fmt.problem(p))}" for p in run["problems"]] + [""]
    return lines


def _sweep_section(sweep: dict) -> list[str]:
    lines = [f"### {cell(fmt.sweep_headline(sweep))}", ""]
    note = (sweep.get("recommendation") or {}).get("note")
    if note:
        lines += [f"> **Note:** {cell(note)}", ""]
    entries = sweep.get("runs") or []
    if entries:
        lines += ["| Rank | Run | LR | Result |", "| --- | --- | --- | --- |"]
        for e in entries:
            lines.append(f"| {fmt.num(e.get('rank'))} | {code(e.get('run', '?'))} | {fmt.num(e.get('lr'))} "
                         f"| {cell(fmt.sweep_result(e))} |")
        lines.append("")
    return lines
