"""Reporters: each a pure ``render(report) -> str`` over the same records (records.py)."""
from __future__ import annotations

from importlib import import_module

FORMATS = ("text", "json", "markdown", "junit", "github", "html")


def render(report, fmt: str, **options) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    module = import_module(f".{fmt}_report", __name__)
    return module.render(report, **options)
