"""Plain text for a person at a terminal.

First a summary table, one line per run, worst first: run, status, action, LR now → suggested, and
the main reason in plain words.  Then a block only for the runs with something to say, the
data-quality notes said once for all the runs they apply to, the files that could not be read, the
LR sweeps, and a closing line that counts runs by status.

``verbosity``: -1 (``-q``) the table rows and the closing line only; 0 the default; 1 (``-v``) every
run's block with the rules' evidence, the advice's full reasoning, and the runs each note applies to.
``width`` is the terminal's (at least 80): the table is fitted to it and the blocks are wrapped to it.
"""
from __future__ import annotations

import textwrap

import click

from . import _format as fmt
from . import _plain as plain
from .records import VERDICTS, report_to_dict

STATUS_STYLE = {
    "crashed": {"fg": "magenta", "bold": True},
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "info": {"fg": "cyan"},
    "ok": {"fg": "green", "bold": True},
}
DEFAULT_WIDTH = 100
MIN_WIDTH = 80  # narrower terminals get 80 columns: below that the five columns cannot all be read
HEADER = ("RUN", "STATUS", "ACTION", "LR NOW → NEW", "WHY")


def render(report, *, color: bool = False, verbosity: int = 0, width: int = DEFAULT_WIDTH, **_options) -> str:
    """``color`` adds ANSI styles (the CLI turns it on for a terminal only)."""
    doc = fmt.human_doc(report_to_dict(report))
    width = max(MIN_WIDTH, int(width))

    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    lines = table(doc["runs"], width, style, header=verbosity >= 0)
    if verbosity >= 0:
        lines.append("")
        for run in doc["runs"]:
            if verbosity > 0 or _has_something_to_say(run):
                lines += _run_block(run, style, width, verbose=verbosity > 0)
        lines += _notes_block(doc["runs"], width, verbose=verbosity > 0)
        lines += _problems_block(doc["problems"], width)
        for sweep in doc["sweeps"]:
            lines += [wrapped for line in fmt.sweep_lines(sweep)
                      for wrapped in _wrap(line.strip(), width, line[:len(line) - len(line.lstrip())],
                                           line[:len(line) - len(line.lstrip())] + "    ")] + [""]
    lines.append(style(closing_line(doc["summary"]), bold=True))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- summary table


def table_rows(runs: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """(run, STATUS, action, LR change, why) per run, in report order: the columns the table pins."""
    return [(run["run"], run["verdict"].upper(), (run["recommendation"] or {}).get("action", "–"),
             fmt.lr_change(run["recommendation"]), plain.why(run)) for run in runs]


def table(runs: list[dict], width: int, style, *, header: bool = True) -> list[str]:
    rows = table_rows(runs)
    if not rows:
        return []
    cells = ([HEADER] if header else []) + rows
    w_status = max(len(r[1]) for r in cells)
    w_action = max(len(r[2]) for r in cells)
    w_lr = min(24, max(len(r[3]) for r in cells))
    fixed = w_status + w_action + w_lr + 8  # four two-space gaps
    w_why = min(max(len(r[4]) for r in cells), max(24, (width - fixed) // 2))
    w_run = min(max(len(r[0]) for r in cells), max(16, width - fixed - w_why))
    w_why = max(w_why, width - fixed - w_run)
    shown_runs = _cut_names([r[0] for r in cells], w_run)
    out = []
    for i, (run, status, action, lr, why) in enumerate(cells):
        status_cell = f"{status:<{w_status}}"
        if not (header and i == 0):
            status_cell = style(status_cell, **STATUS_STYLE.get(status.lower(), {}))
        line = (f"{shown_runs[i]:<{w_run}}  {status_cell}  {action:<{w_action}}  "
                f"{_cut_end(lr, w_lr):<{w_lr}}  {_cut_end(why, w_why)}").rstrip()
        out.append(style(line, bold=True) if header and i == 0 else line)
    return out


def _cut_end(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def _cut_middle(text: str, width: int) -> str:
    """A long run path keeps its start and its end, the parts that tell runs apart."""
    if len(text) <= width:
        return text
    return _cut_at(text, width, _head(text, width))


def _head(text: str, width: int) -> int:
    head = max(1, (width - 1) // 3)
    if 0 < text.find("/") < head:  # keep the first path component whole: it often says the format
        head = text.find("/") + 1
    return head


def _cut_at(text: str, width: int, head: int) -> str:
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def _cut_names(names: list[str], width: int) -> list[str]:
    """Each name cut to ``width`` (``_cut_middle``); runs whose cut names would read the same (one
    layout in several repositories: ``lightning_csv/<repo>/lightning_logs/version_0/metrics.csv``)
    keep more of their start, the part that differs, until they read apart.  Linear in the runs:
    only names that collide are looked at again."""
    cuts = [_cut_middle(name, width) for name in names]
    groups: dict[str, list[int]] = {}
    for i, cut in enumerate(cuts):
        groups.setdefault(cut, []).append(i)
    for same in groups.values():
        if len(same) < 2 or len({names[i] for i in same}) < len(same) or len(names[same[0]]) <= width:
            continue
        for head in range(_head(names[same[0]], width) + 1, width - 1):
            trial = [_cut_at(names[i], width, head) for i in same]
            if len(set(trial)) == len(trial):
                for i, cut in zip(same, trial):
                    cuts[i] = cut
                break
    return cuts


# --------------------------------------------------------------------------- per-run blocks


def _has_something_to_say(run: dict) -> bool:
    return run["verdict"] != "ok" or bool(run["problems"]) or bool(run.get("notes"))


def _wrap(text: str, width: int, indent: str, hanging: str | None = None) -> list[str]:
    hanging = indent if hanging is None else hanging
    out = []
    for i, part in enumerate(str(text).split("\n")):
        out += textwrap.wrap(part, width=width, initial_indent=indent if i == 0 else hanging,
                             subsequent_indent=hanging, break_on_hyphens=False) or [hanging]
    return out


def _run_block(run: dict, style, width: int, *, verbose: bool) -> list[str]:
    verdict = run["verdict"]
    lines = [f"{style(run['run'], bold=True)}  {style(verdict.upper(), **STATUS_STYLE.get(verdict, {}))}"
             f"  ({run['format']})"]
    rec = run["recommendation"]
    if rec:
        lines += _wrap(style(fmt.recommendation(rec), bold=True), width, "  → ", "    ")
        if verbose and rec.get("reason"):
            lines += _wrap(f"advice ({rec['confidence']} confidence): {rec['reason']}", width, "    ", "      ")
    if run["loss_preview"]:
        first, last = fmt.first_last(run["loss_preview"])
        lines.append(f"  loss {fmt.sparkline(run['loss_preview'])}  {fmt.num(first)} → {fmt.num(last)}")
    if run.get("crashed"):
        lines += _wrap(f"crashed: {', '.join(run['crashed'])} could not run on this run; the diagnosis is "
                       "incomplete", width, "  ✗ ", "    ")
    for f in run["findings"]:
        if f["note"] and not verbose:
            continue
        where = fmt.steps(f["start_step"], f["end_step"])
        head = f"{f['code']} ({f['severity']}{', ' + where if where else ''}): "
        lines += _wrap(head + f["message"], width, "  • ", "      ")
        if verbose and f["evidence"]:
            lines += [style(line, dim=True) for line in
                      _wrap(f"evidence: {fmt.evidence(f['evidence'])}", width, "      ", "        ")]
    for note in run.get("notes") or ():
        lines += _wrap(f"note: {note}", width, "  ", "    ")
    for p in run["problems"]:
        lines += _wrap(f"reading problem: {fmt.problem(p)}", width, "  ", "    ")
    return lines + [""]


# --------------------------------------------------------------------------- notes, problems, closing line


def notes(runs: list[dict]) -> list[tuple[str, str, list[str]]]:
    """(code, name, runs) for each data-quality note, in code order."""
    by_code: dict[str, tuple[str, list[str]]] = {}
    for run in runs:
        for f in run["findings"]:
            if f["note"]:
                name, names = by_code.setdefault(f["code"], (f["name"], []))
                if run["run"] not in names:
                    names.append(run["run"])
    return [(code, name, names) for code, (name, names) in sorted(by_code.items())]


def _notes_block(runs: list[dict], width: int, *, verbose: bool) -> list[str]:
    found = notes(runs)
    if not found:
        return []
    lines = ["Notes on the logs (not learning-rate problems; -v lists the runs):" if not verbose
             else "Notes on the logs (not learning-rate problems):"]
    for code, name, names in found:
        lines += _wrap(f"{plain.note_text(code, name, names)} [{code}]", width, "  - ", "    ")
        if verbose and len(names) > 1:
            lines += _wrap(", ".join(names), width, "      ", "      ")
    return lines + [""]


def _problems_block(problems: list[dict], width: int) -> list[str]:
    if not problems:
        return []
    lines = ["Not diagnosed:"]
    for p in problems:
        lines += _wrap(fmt.problem(p), width, "  ", "    ")
    return lines + [""]


def closing_line(s: dict) -> str:
    """'73 runs: 14 ERROR, 3 WARNING, 56 OK; 12 reading problems' — runs counted by status."""
    verdicts = s.get("verdicts") or {}
    parts = [f"{verdicts[v]:,} {v.upper()}" for v in VERDICTS if verdicts.get(v)]
    tail = f"; {fmt.plural(s['reading_problems'], 'reading problem')}" if s["reading_problems"] else ""
    return f"{fmt.plural(s['runs'], 'run')} checked: {', '.join(parts) or 'none'}{tail}"
