"""Plain values that flow through the pipeline: a scalar Series, a Run, a reading Problem.

Readers produce Runs; everything downstream (rules, advice, reporters) only reads them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

# Tag roles a rule may ask for.  tags.py maps raw tag names onto these.
TRAIN_LOSS = "train_loss"
VAL_LOSS = "val_loss"
LR = "lr"
TRAIN_ACC = "train_acc"
VAL_ACC = "val_acc"
GRAD_NORM = "grad_norm"
ROLES = (TRAIN_LOSS, VAL_LOSS, LR, TRAIN_ACC, VAL_ACC, GRAD_NORM)


@dataclass(frozen=True, eq=False)
class Series:
    """One scalar curve, sorted by step, one value per step.

    ``steps`` is int64, ``values`` float64 (NaN/inf kept as logged), ``wall_times``
    float64 seconds since the epoch or None when the format has no clock -- and for event files,
    whose clock serves only the reading (ordering files, ordering a tag whose steps are all 0,
    cutting glued trainings apart) and is dropped after it: 8 bytes a point nothing else reads.
    ``epochs`` (float64 or None) is the epoch at each point when the log says it,
    which lets rules put step-indexed and epoch-indexed curves on one axis.
    """

    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray | None = None
    epochs: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    @classmethod
    def from_lists(cls, steps, values, wall_times=None, epochs=None) -> "Series":
        return cls(
            np.asarray(steps, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            None if wall_times is None else np.asarray(wall_times, dtype=np.float64),
            None if epochs is None else np.asarray(epochs, dtype=np.float64),
        )


@dataclass(frozen=True)
class Problem:
    """Something that went wrong while reading; ``partial`` means data up to it was kept."""

    path: str
    message: str
    partial: bool = False
    # Where in the file: a byte offset for binary formats, a 1-based line for text ones.
    offset: int | None = None
    line: int | None = None

    def describe(self) -> str:
        where = ""
        if self.offset is not None:
            where = f" at byte {self.offset}"
        elif self.line is not None:
            where = f" at line {self.line}"
        kept = " (data before it kept)" if self.partial else ""
        return f"{self.path}{where}: {self.message}{kept}"


@dataclass(frozen=True)
class Restart:
    """Steps went backwards in ``tag`` (a resumed job): from ``from_step`` back to ``to_step``."""

    tag: str
    from_step: int
    to_step: int
    n_overwritten: int


@dataclass
class Run:
    """One training run as TensorBoard would show it.

    ``name`` is the run's path relative to the diagnosed directory ("." when the directory
    itself is the run).  ``series`` is keyed by the raw tag name; in Keras' layout the
    subdirectory is kept as a prefix ("train/epoch_loss", "validation/epoch_loss") because
    the same name means train or validation depending on where it was written.
    ``roles`` maps a role (model.ROLES) to the tag chosen for it; ``role_notes`` says why
    when there was a choice.
    """

    name: str
    source: str
    format: str
    series: dict[str, Series] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    role_notes: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    # What the reader did that the user should know but is not a problem
    # (e.g. "every step is 0; points ordered by wall time").
    notes: list[str] = field(default_factory=list)
    # Hyper-parameters found beside the log (hparams.yaml, MLflow params, ...), raw strings or numbers.
    hparams: Mapping[str, object] = field(default_factory=dict)

    def get(self, role: str) -> Series | None:
        tag = self.roles.get(role)
        return None if tag is None else self.series.get(tag)

    @property
    def n_points(self) -> int:
        return sum(len(s) for s in self.series.values())
