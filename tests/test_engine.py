"""The engine contains crashes: a failing analysis is shown on the run, never hidden or fatal."""
from __future__ import annotations

import numpy as np

from lrdoctor.context import rangetest
from lrdoctor.config import Config
from lrdoctor.engine import diagnose_runs
from lrdoctor.model import LR, TRAIN_LOSS, Run, Series


def _run() -> Run:
    steps = np.arange(200)
    rng = np.random.default_rng(0)
    loss = 2.3 * np.exp(-steps / 40) + 0.1 + 0.01 * rng.standard_normal(200)
    run = Run(name="r", source="r", format="csv",
              series={"loss": Series.from_lists(steps, loss), "lr": Series.from_lists(steps, np.full(200, 0.01))})
    run.roles.update({TRAIN_LOSS: "loss", LR: "lr"})
    return run


def test_a_crashing_range_test_analysis_is_reported_and_the_rules_still_run(monkeypatch):
    def boom(run):
        raise ValueError("odd LR curve")

    monkeypatch.setattr(rangetest, "analyse", boom)
    result = diagnose_runs([_run()], Config()).runs[0]
    crash = [f for f in result.findings if f.evidence.get("crashed")]
    assert len(crash) == 1 and "odd LR curve" in crash[0].message
    assert result.rules_run, "the normal rules must still run"


def test_a_normal_run_has_no_crash_finding():
    result = diagnose_runs([_run()], Config()).runs[0]
    assert not [f for f in result.findings if f.evidence.get("crashed")]
    assert result.rules_run


def test_extreme_values_raise_no_numpy_warnings(recwarn):
    steps = np.arange(60)
    run = Run(name="huge", source="huge", format="csv",
              series={"loss": Series.from_lists(steps, np.full(60, 1e308))})
    run.roles[TRAIN_LOSS] = "loss"
    diagnose_runs([run], Config())
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]

