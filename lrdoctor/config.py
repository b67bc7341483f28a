"""Effective configuration: defaults < [tool.lrdoctor] / lrdoctor.toml < CLI flags.

Loading from files is in ``load_config``; the engine only sees a ``Config`` value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()  # codes, prefixes or names; empty = all rules
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    # role -> list of raw tag names to use for it, tried in order (overrides tags.py's guesses)
    tag_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # rule name -> {option: value}
    rule_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # run glob -> codes/names to ignore for matching runs ("*" = everything)
    per_run_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The LR used when the log has none (--lr).
    lr: float | None = None
