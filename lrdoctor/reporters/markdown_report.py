"""Markdown: a summary table and one section per run with findings.

Ready for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment (GitHub-flavoured tables).
"""
from __future__ import annotations

from . import _format as fmt
from . import _plain as plain
from .records import report_to_dict
from .text_report import closing_line, notes, table_rows

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
    doc = fmt.human_doc(report_to_dict(report))
    s = doc["summary"]
    worst = next((v for v in ICONS if (s.get("verdicts") or {}).get(v)), "ok")
    lines = [f"## lrdoctor: {ICONS[worst]} {closing_line(s)}", ""]
    if doc["runs"]:
        lines += ["| Run | Status | Action | LR now → new | Why | Loss |", "| --- | --- | --- | --- | --- | --- |"]
        lines += [_summary_row(run, row) for run, row in zip(doc["runs"], table_rows(doc["runs"]))]
        lines.append("")
    lines += _notes(doc["runs"])
    lines += _run_sections([run for run in doc["runs"] if run["verdict"] != "ok" or run["problems"] or run["notes"]],
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
            rest = len(runs) - i
            return lines + [f"*{fmt.plural(rest, 'more run')} with findings {'is' if rest == 1 else 'are'} not shown "
                            "here (size limit); see the JSON, JUnit or HTML report.*", ""]
        lines, budget = lines + section, budget - size
    return lines


def _summary_row(run: dict, row: tuple) -> str:
    name, status, action, lr, why = row
    spark = code(fmt.sparkline(run["loss_preview"])) if run["loss_preview"] else "–"
    return (f"| {code(name)} | {ICONS.get(run['verdict'], '❔')} {run['verdict']} | {cell(action)} | {cell(lr)} "
            f"| {cell(why)} | {spark} |")


def _notes(runs: list[dict]) -> list[str]:
    found = notes(runs)
    if not found:
        return []
    return (["**Notes on the logs** (not learning-rate problems):", ""]
            + [f"- {cell(plain.note_text(code_, name, names))} ({code_})" for code_, name, names in found] + [""])


def _run_section(run: dict) -> list[str]:
    lines = [f"### {code(run['run'])} — {ICONS.get(run['verdict'], '❔')} {run['verdict']}", ""]
    rec = run["recommendation"]
    if rec:
        lines += [f"**→ {cell(fmt.recommendation(rec))}**", "",
                  f"<details><summary>advice ({cell(rec['confidence'])} confidence)</summary>\n\n"
                  f"{cell(rec['reason'])}\n\n</details>", ""]
    if run.get("crashed"):
        lines += [f"- 💥 crashed: {cell(', '.join(run['crashed']))} could not run; the diagnosis is incomplete", ""]
    shown = [f for f in run["findings"] if not f["note"]]
    if shown:
        lines += ["| Code | Severity | Steps | Finding | Evidence |", "| --- | --- | --- | --- | --- |"]
        for f in shown:
            where = fmt.steps(f["start_step"], f["end_step"]) or "–"
            evidence = code(fmt.evidence(f["evidence"])) if f["evidence"] else "–"
            lines.append(f"| {cell(f['code'])} | {ICONS[f['severity']]} {f['severity']} | {where} "
                         f"| {cell(f['message'])} | {evidence} |")
        lines.append("")
    lines += [f"- note: {cell(n)}" for n in run["notes"]] + ([""] if run["notes"] else [])
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
