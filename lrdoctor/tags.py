"""Raw tag names -> roles (train_loss, val_loss, lr, train_acc, val_acc, grad_norm)."""
from __future__ import annotations

from typing import Mapping, Sequence

from .model import Run


def assign_roles(run: Run, overrides: Mapping[str, Sequence[str]] | None = None) -> None:
    """Fill ``run.roles`` (and ``run.role_notes`` where a choice was made)."""
    raise NotImplementedError
