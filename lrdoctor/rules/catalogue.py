"""The registry: every rule, in run/documentation order.  A code is never reused."""
from __future__ import annotations

from .accuracy import AccuracyStuckOrCollapsed, LogitsBlewUp, TrainAccuracyCollapsed
from .convergence import CrawlsAtSmallRate, StillImproving
from .data_quality import (LrNotLogged, NegativeLoss, NoValidationCurve, ReinforcementLearningRun, RestartsInLog,
                           TooFewPoints)
from .divergence import LossBlowUp, LossExploded, NonFiniteLoss
from .judgeable import (AdversarialRun, NegligibleChange, ReweightedObjective, UnboundedObjective,
                        ValidationNeverFinite)
from .oscillation import ErraticValidation, SwingsShrinkWithLr
from .overfitting import ValidationTurnsUp
from .returns import ReturnCollapsed, ReturnsRoseAndHeld
from .warmup import RoseAsWarmupPeaked
from .plateau import DropAfterDecay, LearnsOnlyAfterDecay, StuckAtStart
from .spikes import LossSpikes

RULES: list = [
    NonFiniteLoss,
    LossBlowUp,
    LossExploded,
    ReturnCollapsed,
    RoseAsWarmupPeaked,
    TrainAccuracyCollapsed,
    LogitsBlewUp,
    LossSpikes,
    ErraticValidation,
    SwingsShrinkWithLr,
    StuckAtStart,
    LearnsOnlyAfterDecay,
    DropAfterDecay,
    NegligibleChange,
    AccuracyStuckOrCollapsed,
    StillImproving,
    CrawlsAtSmallRate,
    ValidationTurnsUp,
    TooFewPoints,
    NoValidationCurve,
    RestartsInLog,
    LrNotLogged,
    NegativeLoss,
    ReinforcementLearningRun,
    ReturnsRoseAndHeld,
    ValidationNeverFinite,
    AdversarialRun,
    UnboundedObjective,
    ReweightedObjective,
]
