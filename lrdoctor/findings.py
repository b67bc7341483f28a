"""What a rule reports (Finding) and what advice concludes (Recommendation): frozen values."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping

# The symptom families; the JSON contract's "kind" field.
KINDS = (
    "divergence",
    "spike",
    "oscillation",
    "plateau",
    "slow_convergence",
    "overfitting",
    "data_quality",
    "lr_range_test",
    "sweep",  # judged against the other runs of its LR sweep (lrdoctor/context/)
    "baseline",  # compared with a reference run (--baseline)
    "returns",  # a reinforcement-learning run judged by its episode returns (RL01)
)

# Recommendation actions (the JSON contract's "action").
# "set-lr": train with suggested_lr (an LR range test: there is no current LR to move from).
# "keep": the log was judged and the LR looks right.  "abstain": the log cannot say whether the LR is right
# (a GAN, an RL run, a loss that is broken from the first step): no LR advice, the reason says why.
ACTIONS = ("decrease", "increase", "keep", "add-warmup", "decay-schedule", "stop-early", "set-lr", "abstain")


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}; expected info, warning or error") from None


@dataclass(frozen=True)
class Finding:
    code: str  # e.g. "DV01"
    name: str  # kebab-case rule name, e.g. "loss-diverged"
    kind: str  # one of KINDS
    severity: Severity
    message: str  # one specific sentence with numbers
    run: str = ""
    tag: str = ""
    start_step: int | None = None
    end_step: int | None = None
    evidence: Mapping[str, float | int | str | None] = field(default_factory=dict)
    # The LR the rule itself would move to, when it has a basis for one (advice decides).
    suggested_lr: float | None = None


@dataclass(frozen=True)
class Recommendation:
    action: str  # one of ACTIONS
    factor: float | None  # suggested_lr / current_lr
    current_lr: float | None
    suggested_lr: float | None
    reason: str  # one sentence citing the basis
    confidence: str = "medium"  # low / medium / high
    rule: str | None = None  # code of the finding that drove the advice (None: no finding did)
