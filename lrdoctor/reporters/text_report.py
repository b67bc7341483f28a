"""Plain text for a person at a terminal: one block per run, worst first, recommendation on top."""
from __future__ import annotations

import click

from . import _format as fmt
from .records import report_to_dict

STATUS_STYLE = {
    "crashed": {"fg": "magenta", "bold": True},
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "info": {"fg": "cyan"},
    "ok": {"fg": "green", "bold": True},
}


def render(report, *, color: bool = False, **_options) -> str:
    """``color`` adds ANSI styles (the CLI turns it on for a terminal only)."""
    doc = report_to_dict(report)

    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    lines: list[str] = []
    for run in doc["runs"]:
        lines += _run_block(run, style)
    lines += _problems_block(doc["problems"])
    lines += _sweeps_block(doc["sweeps"])
    lines.append(style(_summary_line(doc["summary"]), bold=True))
    return "\n".join(lines) + "\n"


def _run_block(run: dict, style) -> list[str]:
    status = run["status"]
    lines = [f"{style(run['run'], bold=True)}  {style(status.upper(), **STATUS_STYLE[status])}  ({run['format']})"]
    rec = run["recommendation"]
    if rec:
        confidence = f" [{rec['confidence']} confidence]" if rec.get("confidence") else ""
        lines.append(f"  → {style(fmt.recommendation(rec), bold=True)}: {rec['reason']}{confidence}")
    if run["loss_preview"]:
        first, last = fmt.first_last(run["loss_preview"])
        lines.append(f"  loss {fmt.sparkline(run['loss_preview'])}  {fmt.num(first)} → {fmt.num(last)}")
    for f in run["findings"]:
        where = fmt.steps(f["start_step"], f["end_step"])
        severity = style(f"{f['severity']:<7}", **STATUS_STYLE[f["severity"]])
        lines.append(f"  {f['code']} {severity} {f['name']}" + (f"  ({where})" if where else ""))
        lines.append("      " + f["message"].replace("\n", "\n      "))
        if f["evidence"]:
            lines.append(style(f"      evidence: {fmt.evidence(f['evidence'])}", dim=True))
    for p in run["problems"]:
        lines.append(f"  reading problem: {fmt.problem(p)}")
    lines.append("")
    return lines


def _problems_block(problems: list[dict]) -> list[str]:
    if not problems:
        return []
    return ["Not diagnosed:"] + [f"  {fmt.problem(p)}" for p in problems] + [""]


def _sweeps_block(sweeps: list[dict]) -> list[str]:
    """Cross-run sweeps (sweep.py): the suggested LR, then the runs by rank.  Tolerates missing keys."""
    return [line for sweep in sweeps for line in [*fmt.sweep_lines(sweep), ""]]


def _summary_line(s: dict) -> str:
    tail = f"; {fmt.plural(s['reading_problems'], 'reading problem')}" if s["reading_problems"] else ""
    crashed = f", {s['runs_crashed']:,} crashed" if s.get("runs_crashed") else ""
    return f"{fmt.plural(s['runs'], 'run')} checked ({s['runs_ok']:,} ok{crashed}): {fmt.counts(s)}{tail}"
