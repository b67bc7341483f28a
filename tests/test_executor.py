"""diagnose job by job (lrdoctor/pipeline.py, executors.py, context/summary.py): the same report as
reading every run whole, in this process or in worker processes, with the parent keeping no curves."""
from __future__ import annotations

import dataclasses
import json
import math
import sys

import numpy as np
import pytest

import lrdoctor.executors as executors
import lrdoctor.pipeline as pipeline
from lrdoctor.config import Config
from lrdoctor.context import groups, rangetest, sweep
from lrdoctor.context.summary import summarise
from lrdoctor.engine import diagnose_run, selected_rules
from lrdoctor.model import LR, TRAIN_LOSS, VAL_LOSS
from lrdoctor.readers import read_runs
from lrdoctor.reporters import render


def _csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("epoch,loss,val_loss,lr\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))


def _curve(lr: float, n: int = 40, seed: int = 0, nan_at: int | None = None):
    """A loss that falls fastest near lr=0.01 and climbs back when the LR is high."""
    rng = np.random.default_rng(seed)
    quality = abs(math.log10(lr / 0.01))
    rows = []
    for e in range(n):
        loss = 2.0 * math.exp(-e / (5 + 10 * quality)) + 0.1 + 0.2 * quality + 0.01 * rng.standard_normal()
        if lr >= 0.1:
            loss += 0.02 * e
        val = loss + 0.05 + 0.002 * e
        if nan_at is not None and e >= nan_at:
            loss = val = float("nan")
        rows.append((e, round(loss, 6), round(val, 6), lr))
    return rows


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """A sweep, a copy (a run logged twice, once cut short), two runs that start alike but are no
    copies, a diverged run, runs with nothing to diagnose, and enough plain runs for a pool."""
    root = tmp_path_factory.mktemp("logs")
    for lr in (0.1, 0.03, 0.01, 0.003, 0.001):
        _csv(root / "sweep" / f"lr_{lr}" / "log.csv", _curve(lr))
    full = _curve(0.01, n=60, seed=3)
    _csv(root / "copies" / "full" / "log.csv", full)
    _csv(root / "copies" / "early" / "log.csv", full[:25])
    twin = _curve(0.003, seed=4)
    _csv(root / "twins" / "a" / "log.csv", twin)
    _csv(root / "twins" / "b" / "log.csv", twin[:3] + [(e, loss + 0.3, val, lr) for e, loss, val, lr in twin[3:]])
    _csv(root / "broken" / "diverged" / "log.csv", _curve(1.0, seed=5, nan_at=20))
    (root / "junk").mkdir()
    (root / "junk" / "table.csv").write_text("name,colour\napple,red\npear,green\n")
    (root / "junk" / "only_lr.csv").write_text("epoch,lr\n0,0.1\n1,0.1\n2,0.1\n")
    for i in range(12):
        _csv(root / "misc" / f"run{i:02d}" / "log.csv", _curve(10 ** (-1 - i / 4), seed=10 + i))
    return root


def _json(report) -> str:
    return render(report, "json")


@pytest.fixture
def pool(monkeypatch):
    """Force the process pool (two workers) and record that it was used."""
    used = []
    real = executors.worth_a_pool

    def worth(jobs):
        used.append(len(jobs))
        return True

    monkeypatch.setattr(executors, "local_workers", lambda: 2)
    monkeypatch.setattr(executors, "worth_a_pool", worth)
    assert real  # the real test is exercised by the corpora (docs/scale.md)
    return used


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setattr(executors, "worth_a_pool", lambda jobs: False)


CONFIGS = {
    "default": {},
    "group_by_all": {"group_by": "all"},
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_job_by_job_in_process_gives_the_report_of_whole_runs(logdir, in_process, name):
    config = Config(**CONFIGS[name])
    whole = pipeline.diagnose_whole(str(logdir), config)
    assert _json(pipeline.diagnose_path(logdir, config)) == _json(whole)


def test_the_fixture_exercises_sweeps_copies_and_problems(logdir):
    report = pipeline.diagnose_path(logdir, Config())
    assert report.sweeps and any(p["run"] == "sweep/lr_0.01/log.csv" for s in report.sweeps for p in s["runs"])
    copy = {r.run: r for r in report.runs}["copies/early/log.csv"]
    assert copy.extras["copy_of"]["run"] == "copies/full/log.csv"
    assert "twins/b/log.csv" in {r.run for r in report.runs} and not any(
        "copy_of" in r.extras for r in report.runs if r.run.startswith("twins/"))
    paths = " ".join(p.path for p in report.problems)
    assert "table.csv" in paths and "only_lr.csv" in paths


def test_worker_processes_give_the_same_report(logdir, pool):
    for config in (Config(), Config(baseline=(str(logdir / "sweep" / "lr_0.01"),))):
        whole = pipeline.diagnose_whole(str(logdir), config)
        assert _json(pipeline.diagnose_path(logdir, config)) == _json(whole)
    assert pool and pool[0] == 24  # every job went to the pool
    with_baseline = pipeline.diagnose_path(logdir, config)
    assert any(f.code.startswith("BL") for r in with_baseline.runs for f in r.findings)


def test_copy_candidates_are_read_again_and_only_they(logdir, in_process, monkeypatch):
    asked = []
    real = pipeline._read_again

    def spy(names, job_of, tag_roles):
        asked.append(sorted(names))
        return real(names, job_of, tag_roles)

    monkeypatch.setattr(pipeline, "_read_again", spy)
    pipeline.diagnose_path(logdir, Config())
    assert asked == [["copies/early/log.csv", "copies/full/log.csv", "twins/a/log.csv", "twins/b/log.csv"]]


def test_progress_is_called_once_per_job(logdir, in_process):
    ticks = []
    pipeline.diagnose_path(logdir, Config(), progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(k, 24) for k in range(1, 25)]


def _whole_and_summary(logdir, name, keep=False):
    run = {r.name: r for r in read_runs(logdir)[0]}[name]
    result = diagnose_run(run, selected_rules(Config()), Config())
    return run, result, summarise(run, result, keep)


def test_a_summary_answers_what_the_evidence_across_runs_asks_and_holds_no_curve(logdir):
    run, result, summary = _whole_and_summary(logdir, "broken/diverged/log.csv")
    assert groups.run_lr(summary) == groups.run_lr(run) == (1.0, "logged (peak)")
    assert groups.is_diverged(summary) is groups.is_diverged(run) is True
    assert groups.is_diverged(summary, result) is groups.is_diverged(run, result)
    assert groups._setup(summary) == groups._setup(run) and rangetest.is_range_test(summary) is False
    for role in (TRAIN_LOSS, VAL_LOSS):
        assert sweep.best_loss(summary, role) == sweep.best_loss(run, role)
        assert sweep.curve_noise(summary, role) == pytest.approx(sweep.curve_noise(run, role))
    assert summary.get(TRAIN_LOSS) is not None and summary.get(LR) is not None  # the roles it has, it has
    with pytest.raises((TypeError, AttributeError)):  # ... but a question no fact answers fails loudly
        len(summary.get(TRAIN_LOSS))
    assert summary.copy_head[0] == TRAIN_LOSS and len(summary.copy_head[1]) == 3


def test_with_a_baseline_the_summary_keeps_the_loss_curves_only(logdir):
    run, _, summary = _whole_and_summary(logdir, "sweep/lr_0.1/log.csv", keep=True)
    for role in (TRAIN_LOSS, VAL_LOSS):
        assert np.array_equal(summary.get(role).values, run.get(role).values)
        assert summary.get(role).wall_times is None
    with pytest.raises((TypeError, AttributeError)):
        len(summary.get(LR))


def test_a_question_that_raised_in_the_worker_raises_in_the_parent(logdir, monkeypatch):
    def _setup(run):
        raise ValueError("odd schedule")

    run = read_runs(logdir)[0][0]
    monkeypatch.setattr(groups, "_setup", _setup)  # what the worker computes
    summary = summarise(run, None)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="odd schedule"):
        groups._setup(summary)


def test_a_pool_that_breaks_leaves_the_rest_of_the_jobs_to_this_process(monkeypatch):
    import concurrent.futures
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, *iterables, chunksize=1):
            yield fn(*(it[0] for it in iterables))
            raise BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Broken)
    monkeypatch.setattr(executors, "worth_a_pool", lambda jobs: True)
    assert executors.run_jobs(list(range(5)), pow, (2,)) == [0, 1, 4, 9, 16]


def test_cli_progress_bar_and_same_json_as_the_api(logdir, run_cli):
    out, err = run_cli(["diagnose", logdir, "--format", "json", "--fail-on", "never", "--progress"], 0)
    assert "reading and diagnosing" in err  # (the counts are drawn on a terminal only)
    assert json.loads(out) == json.loads(_json(pipeline.diagnose_path(logdir, Config(fail_on="never"))))


def test_cli_dask_without_the_extra_says_how_to_install_it(logdir, run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as when not installed
    _, err = run_cli(["diagnose", logdir, "--executor", "dask"], 2)
    assert "pip install 'lrdoctor[dask]'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_scheduler_needs_dask_and_plots_need_local(logdir, run_cli, tmp_path):
    _, err = run_cli(["diagnose", logdir, "--scheduler", "tcp://127.0.0.1:1"], 2)
    assert "--scheduler needs --executor dask" in err
    pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed")
    _, err = run_cli(["diagnose", logdir, "--executor", "dask", "--plot", tmp_path / "plots"], 2)
    assert "without --executor dask" in err


def test_the_api_streams_a_path_and_keeps_runs_handed_in(logdir, in_process):
    import lrdoctor

    report = lrdoctor.diagnose(logdir)
    assert _json(report) == _json(pipeline.diagnose_whole(str(logdir)))
    runs = [r for r in read_runs(logdir)[0] if r.name.startswith("sweep/")]
    assert [r.run for r in lrdoctor.diagnose(runs).runs]  # a list of runs is diagnosed as before
    assert dataclasses.is_dataclass(report)
