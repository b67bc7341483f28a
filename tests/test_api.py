"""The public Python API, and the pytest example in docs/api.md run for real."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import lrdoctor
from lrdoctor.errors import ConfigError

DOCS_API = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_public_names():
    assert set(lrdoctor.__all__) >= {"diagnose", "read_runs", "Report", "Finding", "Severity", "__version__"}
    assert lrdoctor.Severity.ERROR > lrdoctor.Severity.WARNING > lrdoctor.Severity.INFO


def test_diagnose_runs_in_memory(hand_runs, fake_rules):
    report = lrdoctor.diagnose(hand_runs)
    assert isinstance(report, lrdoctor.Report)
    assert [r.run for r in report.runs] == ["diverged", "overfit", "short", "good"]  # worst first
    assert [f.code for f in report.findings] == ["TD01", "TO01", "TQ01"]
    assert not report.ok and report.exit_code("error") == 1 and report.exit_code("never") == 0
    doc = report.to_dict()
    assert doc["version"] == 1 and doc["runs"][0]["findings"][0]["kind"] == "divergence"
    diverged = report.runs[0]
    assert diverged.rules_run == (("TD01", "test-diverged"), ("TQ01", "test-few-points"))
    assert diverged.rules_skipped == (("TO01", "test-overfit", "missing val_loss"),)
    assert len(diverged.loss_preview) == 48 and np.isnan(diverged.loss_preview[-1])


def test_config_as_mapping_path_or_value(hand_runs, fake_rules, tmp_path):
    assert lrdoctor.diagnose(hand_runs, config={"ignore": ["TD"]}).ok
    toml = tmp_path / "lrdoctor.toml"
    toml.write_text('[rules.test-diverged]\nmin_points = 1000\n')
    assert lrdoctor.diagnose(hand_runs, config=toml).ok
    assert lrdoctor.diagnose(hand_runs, config=str(toml)).ok
    from lrdoctor.config import Config

    assert lrdoctor.diagnose(hand_runs, config=Config(per_run_ignores={"div*": ("TD01",)})).ok


def test_bad_config_raises_with_suggestion(hand_runs, fake_rules):
    with pytest.raises(ConfigError, match="did you mean 'ignore'"):
        lrdoctor.diagnose(hand_runs, config={"ignor": ["TD"]})


def test_nothing_to_diagnose_is_exit_2():
    report = lrdoctor.diagnose([])
    assert report.exit_code("never") == 2 and report.exit_code() == 2


def test_missing_path_is_a_report_without_runs(tmp_path):
    report = lrdoctor.diagnose(tmp_path / "absent")
    assert report.runs == () and report.exit_code() == 2 and "no such file" in report.problems[0].message


def test_a_file_with_nothing_to_diagnose_is_a_problem_not_a_run(tmp_path):
    (tmp_path / "metrics.csv").write_bytes(b"")
    report = lrdoctor.diagnose(tmp_path)
    assert report.runs == () and report.exit_code("never") == 2
    assert [p.message for p in report.problems] == ["empty file (0 bytes)"]


def test_a_run_handed_in_with_nothing_to_diagnose_is_a_problem_not_a_run(hand_runs, fake_rules):
    from lrdoctor.model import Run, Series

    empty = Run(name="empty", source="<memory:empty>", format="generated")
    only_hp = Run(name="hp", source="<memory:hp>", format="generated",
                  series={"hp_metric": Series.from_lists([0], [0.5])})
    report = lrdoctor.diagnose([*hand_runs, empty, only_hp])
    assert sorted(r.run for r in report.runs) == sorted(r.name for r in hand_runs)
    assert {p.path for p in report.problems} == {"<memory:empty>", "<memory:hp>"}
    assert lrdoctor.diagnose([empty]).exit_code("never") == 2


def test_a_run_handed_in_without_roles_gets_them_from_its_tag_names():
    from lrdoctor.model import Run, Series

    steps = np.arange(0, 400, 5)
    run = Run(name="bare", source="<memory:bare>", format="generated",
              series={"train/loss": Series.from_lists(steps, 2.3 * np.exp(-steps / 80) + 0.1)})
    report = lrdoctor.diagnose([run])
    assert [r.run for r in report.runs] == ["bare"] and report.problems == ()
    assert run.roles["train_loss"] == "train/loss"


def test_exit_code_rejects_unknown_level(hand_runs, fake_rules):
    with pytest.raises(ValueError, match="fail_on must be one of"):
        lrdoctor.diagnose(hand_runs).exit_code("fatal")


# --------------------------------------------------------------------------- the docs example


def _docs_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOCS_API.read_text(encoding="utf-8"), flags=re.S)
    return next(b for b in blocks if "def test_smoke_run_does_not_diverge" in b)


def _write_tb_log(logdir: Path, losses) -> None:
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(logdir))
    for step, loss in enumerate(losses):
        writer.add_scalar("train/loss", float(loss), step)
        writer.add_scalar("train/lr", 0.5, step)
    writer.close()


def _smoke_losses(diverge: bool, steps: int = 300) -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(steps)
    loss = 2.3 * np.exp(-t / 80) + 0.2 + 0.01 * rng.standard_normal(steps)
    if diverge:  # blows up from step 150 and turns NaN at step 200
        loss[150:] = loss[150] * np.exp((t[150:] - 150) / 10)
        loss[200:] = np.nan
    return loss


@pytest.fixture
def example(monkeypatch):
    """The docs example as a namespace, with ``mytrainer.train`` writing a hand-made log."""
    from lrdoctor.rules import all_rules

    if not any(r.kind == "divergence" for r in all_rules()):
        pytest.skip("no divergence rule in the catalogue yet")
    state = {"diverge": True}
    trainer = types.ModuleType("mytrainer")
    trainer.train = lambda steps, logdir: _write_tb_log(Path(logdir), _smoke_losses(state["diverge"], steps))
    monkeypatch.setitem(sys.modules, "mytrainer", trainer)
    namespace: dict = {}
    exec(compile(_docs_example(), str(DOCS_API), "exec"), namespace)
    return namespace["test_smoke_run_does_not_diverge"], state


def test_docs_example_fails_on_a_diverging_run(example, tmp_path):
    test, _ = example
    with pytest.raises(AssertionError) as info:
        test(tmp_path)
    assert "NaN" in str(info.value) or "diverg" in str(info.value).lower() or "blew" in str(info.value)


def test_docs_example_passes_on_a_healthy_run(example, tmp_path):
    test, state = example
    state["diverge"] = False
    test(tmp_path)
