"""The registry: every rule, in run/documentation order.  A code is never reused."""
from __future__ import annotations

RULES: list = []
