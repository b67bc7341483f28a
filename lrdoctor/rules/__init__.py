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
