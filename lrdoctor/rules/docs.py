"""Rule documentation from the rule classes themselves (``lrdoctor rules``, docs/rules.md)."""
from __future__ import annotations

import dataclasses
import inspect

from . import all_rules, find_rule
from .base import Rule


def summary(rule: type[Rule]) -> str:
    """The first line of the rule's docstring."""
    return inspect.getdoc(rule).splitlines()[0]


def rule_list() -> str:
    """One line per rule: code, name, severity, kind, summary."""
    lines = [f"{r.code}  {r.name:<26} {str(r.severity):<8} {r.kind:<17} {summary(r)}" for r in all_rules()]
    return "\n".join(lines) + "\n"


def rule_doc(key: str) -> str | None:
    """The full documentation of one rule (by code, alias or name), None when unknown."""
    rule = find_rule(key)
    if rule is None:
        return None
    defaults = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(rule.Options)) or "none"
    head = (f"{rule.code} {rule.name}  (severity {rule.severity}, kind {rule.kind}, "
            f"needs {', '.join(rule.requires) or 'nothing'})")
    return f"{head}\n\n{inspect.getdoc(rule)}\n\nDefaults: {defaults}\n"


def markdown_table() -> str:
    """The rules table for docs/rules.md."""
    rows = ["| code | name | severity | kind | what it detects |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| {r.code} | `{r.name}` | {r.severity} | {r.kind} | {summary(r)} |" for r in all_rules()]
    return "\n".join(rows) + "\n"
