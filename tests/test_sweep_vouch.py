"""A sweep whose best run is itself flagged cannot vouch for "keep" (shared real corpus: AgentRichi
tft-optuna version_1, Ranger lr 0.082, stuck at its start (PL01, judged too high) with one sibling that is
equally stuck: the sweep's "as good as the best" used to turn its "decrease" into "keep")."""
from __future__ import annotations

from lrdoctor.context.verdict import SweepJudgement, apply, combine
from lrdoctor.findings import Recommendation
from lrdoctor.report import RunResult

SWEEP = {"runs": [{"run": "v1", "lr": 0.0825, "best_loss": 650.0}, {"run": "v0", "lr": 0.00345, "best_loss": 671.0}],
         "fit": {"optimum_lr": 0.082, "best_lr": 0.0825, "best_loss": 650.0, "edge": "high"},
         "noise": {"tolerance": 33.0}, "loss": "val_loss", "group": "optuna"}
STUCK = Recommendation("decrease", 1 / 32, 0.0825, 0.0026, "PL01: loss stayed at its starting level", rule="PL01")
KEEP = Recommendation("keep", 1.0, 0.00345, 0.00345, "no learning-rate problem found")
WITHIN = SweepJudgement("keep", 0.0, 33.0, 0.0, "in its sweep of 2 runs: best val_loss 650 within 33 of the sweep's best 650")


def test_a_flagged_best_run_keeps_its_own_move():
    rec, finding = combine(STUCK, WITHIN, SWEEP, SWEEP["runs"][0], best_moves=STUCK.reason)
    assert rec.action == "decrease" and rec.rule == "PL01" and finding is None
    assert "cannot vouch" in rec.reason


def test_a_healthy_best_run_still_vouches():
    rec, _ = combine(STUCK, WITHIN, SWEEP, SWEEP["runs"][0], best_moves=None)
    assert rec.action == "keep"


def test_apply_reads_the_best_runs_own_advice():
    results = [RunResult(run="v1", source="v1", format="tensorboard", recommendation=STUCK),
               RunResult(run="v0", source="v0", format="tensorboard", recommendation=KEEP)]
    out = {r.run: r.recommendation for r in apply([], results, [SWEEP])}
    assert out["v1"].action == "decrease" and "cannot vouch" in out["v1"].reason
    assert out["v0"].action == "keep"


def test_the_real_optuna_trial_keeps_its_decrease():
    from pathlib import Path

    import pytest

    import lrdoctor

    corpus = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"
    logdir = corpus / "tensorboard" / "AgentRichi__crypto-forecasting__tft-optuna" / "optuna"
    if not logdir.is_dir():
        pytest.skip("../shared/real_logs is absent")
    report = lrdoctor.diagnose(logdir)
    by_run = {r.run: r.recommendation for r in report.runs}
    assert by_run["version_1"].action == "decrease" and "cannot vouch" in by_run["version_1"].reason
