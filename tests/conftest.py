"""Shared fixtures.  Keep each section small and say what it is for.

Sections: golden files · hand-made runs and reports · fake rule catalogue · CLI helper.
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.findings import Finding, Recommendation, Severity
from lrdoctor.model import LR, TRAIN_LOSS, VAL_LOSS, Problem, Run, Series
from lrdoctor.report import Report, RunResult, loss_preview

GOLDEN_DIR = Path(__file__).parent / "golden"


# --------------------------------------------------------------------------- golden files


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current output (review the diff!)")


@pytest.fixture
def golden(request):
    """``golden("name.txt", text)``: compare with tests/golden/name.txt, or rewrite it when asked.

    Regenerate with ``pytest --update-golden`` or ``LRDOCTOR_UPDATE_GOLDEN=1 pytest``.
    """
    update = request.config.getoption("--update-golden") or os.environ.get("LRDOCTOR_UPDATE_GOLDEN") == "1"

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"golden file {path} missing; run pytest --update-golden and review it")
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (pytest --update-golden)"

    return check


# --------------------------------------------------------------------------- hand-made runs and reports


def make_run(name: str, train=None, val=None, lr=None, *, steps=None, val_every: int = 10, fmt: str = "test") -> Run:
    """A Run from plain lists: ``train`` per step, ``val`` every ``val_every`` steps, ``lr`` per step."""
    run = Run(name=name, source=f"/logs/{name}", format=fmt)
    n = len(train) if train is not None else 0
    steps = list(range(n)) if steps is None else list(steps)
    if train is not None:
        run.series["loss"], run.roles[TRAIN_LOSS] = Series.from_lists(steps, train), "loss"
    if val is not None:
        vsteps = [(i + 1) * val_every for i in range(len(val))]
        run.series["val_loss"], run.roles[VAL_LOSS] = Series.from_lists(vsteps, val), "val_loss"
    if lr is not None:
        lrs = [lr] * n if np.isscalar(lr) else list(lr)
        run.series["lr"], run.roles[LR] = Series.from_lists(steps, lrs), "lr"
    return run


def curves(seed: int = 0, n: int = 200):
    """Seeded curves: a healthy decay, one that diverges to NaN, one that overfits."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    good = 2.3 * np.exp(-t / 60) + 0.1 + 0.03 * rng.standard_normal(n)
    diverged = good.copy()
    diverged[n // 2:] = good[n // 2] * np.exp((t[n // 2:] - n // 2) / 12)
    diverged[-10:] = np.nan
    val_overfit = 1.0 - 0.8 * np.exp(-np.arange(20) / 4) + 0.02 * np.arange(20)
    return good, diverged, val_overfit


@pytest.fixture
def hand_runs():
    good, diverged, val_overfit = curves()
    return [
        make_run("good", good, val=np.linspace(2.0, 0.3, 20), lr=1e-3),
        make_run("diverged", diverged, lr=np.linspace(1e-3, 3e-2, len(diverged))),
        make_run("overfit", good, val=val_overfit, lr=3e-4),
        make_run("short", [2.3, 2.2, 2.25, 2.1]),
    ]


def sample_report() -> Report:
    """A fixed report for the golden files: every status, escaping hazards, a reading problem."""
    _, diverged, _ = curves()
    div = Finding("DV01", "loss-diverged", "divergence", Severity.ERROR,
                  "loss rose from 0.61 to 1.2e+03 and became NaN at step 190; lr was 0.028",
                  run="runs/diverged", tag="train/loss", start_step=100, end_step=199,
                  evidence={"start_step": 100, "lr_at_start": 0.0155, "ratio": 1980.5})
    spike = Finding("SP01", "loss-spikes", "spike", Severity.WARNING,
                    "3 spikes > 6 MADs: 100% | <worst> at step 1,200\nsecond line",
                    run="runs/diverged", tag="train/loss", start_step=40, end_step=40,
                    evidence={"count": 3, "max_z": 9.25})
    overfit = Finding("OF01", "val-loss-rising", "overfitting", Severity.WARNING,
                      "val loss rose 31% from its minimum 0.44 at step 60 while train loss kept falling",
                      run="overfit", tag="val_loss", start_step=60, end_step=200, evidence={"best_step": 60})
    few = Finding("DQ02", "no-validation", "data_quality", Severity.INFO, "no validation loss logged", run="short")
    decrease = Recommendation("decrease", 0.1, 0.0155, 0.00155, "diverged at step 100 with lr 0.0155", "high")
    keep = Recommendation("keep", 1.0, 0.001, 0.001, "no learning-rate problem found", "medium")
    stop = Recommendation("stop-early", None, 0.0003, None, "best val loss at step 60", "medium")
    runs = (
        RunResult("runs/diverged", "/logs/runs/diverged", "tb_torch", (div, spike), decrease,
                  problems=(Problem("/logs/runs/diverged/events.1", "truncated record", partial=True, offset=4096),),
                  loss_preview=loss_preview(diverged), rules_run=(("DV01", "loss-diverged"), ("SP01", "loss-spikes")),
                  rules_skipped=(("OF01", "val-loss-rising", "missing val_loss"),)),
        RunResult("overfit", "/logs/overfit", "keras_csv", (overfit,), stop,
                  rules_run=(("DV01", "loss-diverged"), ("SP01", "loss-spikes"), ("OF01", "val-loss-rising"))),
        RunResult("short", "/logs/short/log.csv", "csv", (few,), keep, loss_preview=(2.3, 2.2, 2.25, 2.1),
                  rules_run=(("DQ02", "no-validation"),)),
        RunResult("good", "/logs/good", "hf_trainer", (), keep, loss_preview=tuple(np.linspace(2.3, 0.1, 24)),
                  rules_run=(("DV01", "loss-diverged"),)),
    )
    return Report(runs=runs, problems=(Problem("/logs/notes.bin", "not a log file: unknown format"),),
                  sweeps=({"group": "runs", "loss": "val_loss", "runs": [
                      {"run": "good", "lr": 0.001, "best_loss": 0.31, "loss_role": "val_loss", "best_step": 180,
                       "diverged": False, "rank": 1},
                      {"run": "runs/diverged", "lr": 0.0155, "best_loss": None, "diverged": True, "rank": 2}],
                      "recommendation": {"suggested_lr": 0.001, "confidence": "medium",
                                         "basis": "the best run of the sweep"}},))


@pytest.fixture(name="sample_report")
def _sample_report() -> Report:
    return sample_report()


# --------------------------------------------------------------------------- fake rule catalogue


def _fake_rules():
    from lrdoctor.rules.base import Rule

    class TestDiverged(Rule):
        """Test rule: loss becomes non-finite or ends above ``factor`` x its start."""

        code, name, kind, severity, requires = "TD01", "test-diverged", "divergence", Severity.ERROR, (TRAIN_LOSS,)

        @dataclasses.dataclass(frozen=True)
        class Options:
            factor: float = 2.0
            min_points: int = 3
            tags: tuple[str, ...] = ()

        def check(self, run, options):
            values = run.get(TRAIN_LOSS).values
            bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
            if len(values) >= options.min_points and (bad or values[-1] > options.factor * values[0]):
                step = int(run.get(TRAIN_LOSS).steps[bad[0] if bad else -1])
                yield self.finding(run, f"loss diverged by step {step}", start_step=step, end_step=step,
                                   tag=run.roles[TRAIN_LOSS], evidence={"first_bad": step})

    class TestOverfit(Rule):
        """Test rule: val loss ends 10% above its minimum."""

        code, name, kind, severity = "TO01", "test-overfit", "overfitting", Severity.WARNING
        requires = (TRAIN_LOSS, VAL_LOSS)

        def check(self, run, options):
            val = run.get(VAL_LOSS)
            if val.values[-1] > 1.1 * np.nanmin(val.values):
                best = int(val.steps[int(np.nanargmin(val.values))])
                yield self.finding(run, "val loss rising", start_step=best, end_step=int(val.steps[-1]))

    class TestFewPoints(Rule):
        """Test rule: fewer than ``min_points`` training points."""

        code, name, kind, severity = "TQ01", "test-few-points", "data_quality", Severity.INFO

        @dataclasses.dataclass(frozen=True)
        class Options:
            min_points: int = 10

        def check(self, run, options):
            series = run.get(TRAIN_LOSS)
            if series is None or len(series) < options.min_points:
                yield self.finding(run, "too few points")

    return [TestDiverged, TestOverfit, TestFewPoints]


@pytest.fixture
def fake_rules(monkeypatch):
    """Replace the rule catalogue with three test rules (TD01 error, TO01 warning, TQ01 info)."""
    import lrdoctor.rules as rules_mod

    rules = _fake_rules()
    monkeypatch.setattr(rules_mod, "ALL_RULES", list(rules))
    return rules


@pytest.fixture
def fake_logs(monkeypatch, hand_runs, fake_rules, tmp_path):
    """A log directory whose reading yields ``hand_runs`` (readers are tested elsewhere)."""
    import lrdoctor.readers as readers

    logdir = tmp_path / "logs"
    logdir.mkdir()
    state = {"runs": hand_runs, "problems": []}

    def read_runs(path, tag_roles=None, progress=None):
        state["tag_roles"] = tag_roles
        return list(state["runs"]), list(state["problems"])

    monkeypatch.setattr(readers, "read_runs", read_runs)
    # diagnose reads job by job (pipeline.py), not through read_runs: read the fake runs whole instead.
    import lrdoctor.pipeline as pipeline

    monkeypatch.setattr(pipeline, "diagnose_path", lambda path, config=None, **_: pipeline.diagnose_whole(path, config))
    monkeypatch.chdir(tmp_path)
    state["dir"] = str(logdir)
    return state


# --------------------------------------------------------------------------- CLI helper


@pytest.fixture
def run_cli(capsys):
    """``run_cli(args, exit_code)`` -> (stdout, stderr), asserting the exit code of ``main(args)``."""
    from lrdoctor.cli import main

    def invoke(args, exit_code: int = 0):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert code == exit_code, f"exit {code} != {exit_code}\nstdout:\n{out}\nstderr:\n{err}"
        return out, err

    return invoke


# --------------------------------------------------------------------------- JSON contract


@pytest.fixture(autouse=True)
def _json_reports_follow_the_schema(monkeypatch):
    """Every JSON report a test produces (--format json, Report.to_dict) is validated against the
    published schema (`lrdoctor schema`).  Needs jsonschema (test extra); without it nothing is checked."""
    try:
        import jsonschema
    except ImportError:
        return
    from lrdoctor.reporters import json_report, records, schema

    validator = jsonschema.Draft202012Validator(schema.SCHEMA)

    def checked(report):
        doc = records.report_to_dict(report)
        validator.validate(doc)
        return doc

    monkeypatch.setattr(json_report, "report_to_dict", checked)
    monkeypatch.setattr(Report, "to_dict", checked)
