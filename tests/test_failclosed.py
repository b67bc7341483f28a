"""A check that could not run never reads as a pass; odd but valid curves crash no check."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lrdoctor.config import Config
from lrdoctor.engine import diagnose_runs
from lrdoctor.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from oddcurves import LR_SHAPES, SHAPES, STEP_KINDS, odd_run, shaped_run

import curves as C
from conftest import curves, make_run


def _crashing_rule():
    from lrdoctor.findings import Severity
    from lrdoctor.model import TRAIN_LOSS
    from lrdoctor.rules.base import Rule

    class Boom(Rule):
        """Test rule that always crashes."""

        code, name, kind, severity, requires = "ZZ99", "test-boom", "divergence", Severity.ERROR, (TRAIN_LOSS,)

        def check(self, run, options):
            raise ZeroDivisionError("float division by zero")
            yield  # pragma: no cover  (a generator, like the real rules)

    return Boom


@pytest.fixture
def boom(monkeypatch):
    """The real catalogue plus one rule that always crashes."""
    import lrdoctor.rules as rules_mod

    monkeypatch.setattr(rules_mod, "ALL_RULES", [*rules_mod.all_rules(), _crashing_rule()])


def _healthy():
    return C.make_healthy()  # judged "keep: no learning-rate problem found" when every check runs


def test_an_injected_crash_makes_the_run_crashed_never_a_pass(boom):
    report = diagnose_runs([_healthy()], Config())
    result = report.runs[0]
    assert result.crashed == ("ZZ99",) and result.status == "crashed"
    assert result.recommendation.action == "abstain"
    assert "no learning-rate problem found" not in result.recommendation.reason
    assert "ZZ99" in result.recommendation.reason
    crash = [f for f in result.findings if f.evidence.get("crashed")]
    assert len(crash) == 1 and "ZeroDivisionError" in crash[0].message and str(crash[0].severity) == "error"
    for fail_on in ("info", "warning", "error"):
        assert report.exit_code(fail_on) == EXIT_ERROR
    assert report.exit_code("never") == EXIT_OK


def test_without_the_crash_the_same_run_passes():
    report = diagnose_runs([_healthy()], Config())
    assert report.runs[0].crashed == () and report.runs[0].status == "ok"
    assert report.runs[0].recommendation.action == "keep"
    assert report.exit_code("info") == EXIT_OK


def test_advice_driven_by_a_real_finding_stands_with_the_crash_added(boom):
    _, diverged, _ = curves()
    result = diagnose_runs([make_run("div", diverged, lr=np.linspace(1e-3, 3e-2, len(diverged)))], Config()).runs[0]
    assert result.status == "crashed"
    assert result.recommendation.action == "decrease" and result.recommendation.rule != "ZZ99"
    assert "ZZ99 could not run" in result.recommendation.reason and result.recommendation.confidence == "low"


def test_crashed_runs_sort_first_and_are_counted_in_the_json_summary(boom, monkeypatch):
    import lrdoctor.rules as rules_mod

    boom_rule = rules_mod.ALL_RULES[-1]
    monkeypatch.setattr(boom_rule, "applicable", lambda self, run: run.name == "b-crashes")
    _, diverged, _ = curves()
    runs = [make_run("a-diverged", diverged, lr=1e-2), _healthy()]
    runs.append(make_run("b-crashes", curves()[0], lr=1e-3))
    report = diagnose_runs(runs, Config())
    assert [r.run for r in report.runs][0] == "b-crashes"
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["summary"]["runs_crashed"] == 1 and doc["summary"]["status"] == "crashed"
    assert doc["runs"][0]["crashed"] == ["ZZ99"] and doc["runs"][1]["crashed"] == []


def test_a_crash_outside_any_rule_still_gives_a_crashed_run(monkeypatch):
    from lrdoctor import advice

    def broken(*args, **kwargs):
        raise RuntimeError("advice bug")

    monkeypatch.setattr(advice, "recommend", broken)
    report = diagnose_runs([_healthy(), make_run("other", curves()[0], lr=1e-3)], Config())
    assert [r.crashed for r in report.runs] == [("diagnosis",), ("diagnosis",)]
    assert all(r.status == "crashed" and r.recommendation.action == "abstain" for r in report.runs)
    assert report.exit_code("warning") == EXIT_ERROR


def test_a_crashing_sweep_analysis_fails_closed(monkeypatch):
    from lrdoctor.context import sweep

    def broken(*args, **kwargs):
        raise RuntimeError("sweep bug")

    monkeypatch.setattr(sweep, "find_sweeps", broken)
    report = diagnose_runs([_healthy()], Config())
    assert report.runs[0].crashed == ("SWEEP",) and report.exit_code("error") == EXIT_ERROR
    assert report.runs[0].recommendation.action == "abstain"
    assert any("sweep analysis failed" in p.message for p in report.problems)


# --------------------------------------------------------------------------- the crashes the probe found


def test_of01_with_a_best_validation_loss_of_exactly_zero():
    val = [max(0.0, 1.0 - 0.1 * e) if e <= 10 else 0.1 * (e - 10) for e in range(20)]
    train = list(2 * 0.98 ** np.arange(200))
    result = diagnose_runs([make_run("zero", train, val=val, lr=0.01)], Config()).runs[0]
    assert result.crashed == ()
    of01 = [f for f in result.findings if f.code == "OF01"]
    assert of01 and "rose" in of01[0].message and "inf" not in result.recommendation.reason


def test_lr_logged_only_at_step_minus_one_and_a_run_diverging_to_5e7():
    from lrdoctor.model import LR, Series

    run = make_run("lr-at-minus-one", list(1.35 ** np.arange(60)))
    run.series["lr"], run.roles[LR] = Series.from_lists([-1], [0.1]), "lr"
    report = diagnose_runs([run], Config())
    assert report.runs[0].crashed == ()
    assert report.runs[0].recommendation.action == "decrease"
    assert report.exit_code("error") == EXIT_FINDINGS


def _csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))


def test_cli_reproducers_of_the_probe(tmp_path, run_cli):
    """OF01 with a best val loss of 0 and an LR logged only at step -1: judged, no crash, CI fails on the diverged run."""
    rows = []
    for i in range(200):
        e, val = i // 10, ""
        if i % 10 == 9:
            val = max(0.0, 1.0 - 0.1 * e) if e <= 10 else round(0.1 * (e - 10), 3)
        rows.append((i, 2 * 0.98 ** i, val, 0.01))
    _csv(tmp_path / "zero" / "metrics.csv", "step,train_loss,val_loss,lr", rows)
    _csv(tmp_path / "minus1" / "metrics.csv", "step,loss,lr", [(-1, "", 0.1)] + [(i, 1.35 ** i, "") for i in range(60)])
    out, err = run_cli(["diagnose", tmp_path, "--format", "json"], exit_code=EXIT_FINDINGS)
    doc = json.loads(out)
    assert doc["summary"]["runs_crashed"] == 0 and "Traceback" not in err
    by_run = {r["run"]: r for r in doc["runs"]}
    assert by_run["minus1/metrics.csv"]["status"] == "error"
    assert by_run["minus1/metrics.csv"]["recommendation"]["action"] == "decrease"
    assert by_run["zero/metrics.csv"]["recommendation"]["action"] == "stop-early"


def test_cli_a_crashed_check_exits_2_unless_never(tmp_path, run_cli, boom):
    _csv(tmp_path / "r" / "metrics.csv", "step,loss,lr", [(i, 2 * 0.97 ** i, 0.01) for i in range(100)])
    for fail_on in ("info", "warning", "error"):
        out, _ = run_cli(["diagnose", tmp_path, "--fail-on", fail_on], exit_code=EXIT_ERROR)
        assert "CRASHED" in out and "1 run checked: 1 CRASHED" in out and "no LR problem found" not in out
    run_cli(["diagnose", tmp_path, "--fail-on", "never"], exit_code=EXIT_OK)
    for fmt in ("markdown", "junit", "github"):
        out, _ = run_cli(["diagnose", tmp_path, "--format", fmt], exit_code=EXIT_ERROR)
        assert "ZZ99" in out


# --------------------------------------------------------------------------- property: no odd curve crashes a check


def _crashes(runs) -> list[str]:
    report = diagnose_runs(runs, Config())
    return [f"{r.run}: {f.message}" for r in report.runs for f in r.findings if f.evidence.get("crashed")]


@pytest.mark.parametrize("steps", sorted(STEP_KINDS))
def test_every_shape_on_every_role_crashes_no_check(steps):
    runs = [shaped_run(shape, steps=steps, lr=lr, n=n) for shape in sorted(SHAPES) for n in (1, 60)
            for lr in (None, "constant", *sorted(LR_SHAPES))]
    assert _crashes(runs) == []


def test_random_odd_runs_crash_no_check():
    assert _crashes([odd_run(seed) for seed in range(400)]) == []
