"""`lrdoctor rules`: the rule catalogue as a table fitted to the terminal, and one rule's documentation
as plain wrapped text (the docstrings' reStructuredText ``literals`` shown without their backticks)."""
from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap

_LITERAL = re.compile(r"``([^`]+)``")


def rule_list(rules, width: int = 100) -> str:
    """One line per rule: code, name, severity, kind, summary; columns as wide as their longest entry,
    the summary wrapped under itself."""
    rows = [(r.code, r.name, str(r.severity), r.kind, _plain(inspect.getdoc(r).splitlines()[0])) for r in rules]
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    indent = sum(widths) + 2 * 4
    lines = []
    for row in rows:
        head = "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)) + "  "
        wrapped = textwrap.wrap(row[4], width=max(30, width - indent)) or [""]
        lines.append(head + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n"


def rule_doc(rule, width: int = 100) -> str:
    """The full documentation of one rule, paragraphs rewrapped to ``width``."""
    defaults = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(rule.Options)) or "none"
    head = (f"{rule.code} {rule.name}  (severity {rule.severity}, kind {rule.kind}, "
            f"needs {', '.join(rule.requires) or 'nothing'})")
    body = [_wrap_paragraph(p, width) for p in re.split(r"\n\s*\n", inspect.getdoc(rule))]
    return "\n\n".join([head, *body, textwrap.fill(f"Defaults: {defaults}", width, subsequent_indent="  ")]) + "\n"


def _plain(text: str) -> str:
    return _LITERAL.sub(r"\1", text)


def _wrap_paragraph(paragraph: str, width: int) -> str:
    """A section title on its own line stays; the indented text under it is joined and rewrapped."""
    lines = paragraph.splitlines()
    out = []
    if lines and not lines[0].startswith(" ") and len(lines) > 1 and lines[1].startswith(" "):
        out.append(_plain(lines[0]))
        lines = lines[1:]
    indent = " " * (len(lines[0]) - len(lines[0].lstrip())) if lines else ""
    text = " ".join(line.strip() for line in lines)
    out += textwrap.wrap(_plain(text), width=width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False)
    return "\n".join(out)
