"""The rule catalogue: one explicit list, in the order rules run and are documented."""
from __future__ import annotations

from .base import Rule

# Each rule module appends nothing at import time; this list is the registry.
ALL_RULES: list[type[Rule]] = []


def _load() -> None:
    # Imported lazily so `lrdoctor --help` does not pay for scipy.
    if ALL_RULES:
        return
    from . import catalogue

    ALL_RULES.extend(catalogue.RULES)


def all_rules() -> list[type[Rule]]:
    _load()
    return list(ALL_RULES)


def find_rule(key: str) -> type[Rule] | None:
    """A rule by code, alias or name (case-insensitive)."""
    key_l = key.strip().lower()
    for rule in all_rules():
        if key_l in (rule.code.lower(), rule.name.lower(), *(a.lower() for a in rule.aliases)):
            return rule
    return None


def rule_matches(rule: type[Rule], key: str) -> bool:
    """Does a select/ignore key name this rule: "*"/"all", a code prefix ("DV" = all DV rules),
    the kebab name or an old code kept as an alias (case-insensitive)?"""
    k = key.lower()
    return (k in ("*", "all") or rule.code.lower().startswith(k) or k == rule.name.lower()
            or k in (a.lower() for a in rule.aliases))
