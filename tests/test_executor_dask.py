"""--executor dask (lrdoctor/executors.py) on a dask.distributed LocalCluster the tests start: the same
report as local processes, and a job whose task fails on its worker is one Problem, the rest diagnosed.
Needs the [dask] extra; skipped with that reason without it."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("dask.distributed", reason="the [dask] extra (dask[distributed]) is not installed")

import lrdoctor.executors as executors  # noqa: E402
import lrdoctor.pipeline as pipeline  # noqa: E402
from lrdoctor.config import Config  # noqa: E402
from lrdoctor.reporters import render  # noqa: E402

from test_executor import logdir  # noqa: E402,F401  (the fixture: a sweep, copies, problems, 24 jobs)


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster in this process (threads, no worker processes: fast to start and stop)."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dask_gives_the_report_of_local_processes(logdir, scheduler, monkeypatch):  # noqa: F811
    monkeypatch.setattr(executors, "worth_a_pool", lambda jobs: True)
    for config in (Config(), Config(group_by="all")):
        local = render(pipeline.diagnose_path(logdir, config), "json")
        on_dask = render(pipeline.diagnose_path(logdir, config, executor="dask", scheduler=scheduler), "json")
        assert on_dask == local
    assert json.loads(local)["sweeps"]


_READ_AND_DIAGNOSE = pipeline.read_and_diagnose


def _fails_on_the_copy(job, *args):
    if job.name == "copies/full/log.csv":
        raise OSError("connection to the worker lost")
    return _READ_AND_DIAGNOSE(job, *args)


def test_a_task_that_fails_on_its_worker_is_one_problem_and_the_rest_are_diagnosed(logdir, scheduler, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pipeline, "read_and_diagnose", _fails_on_the_copy)
    report = pipeline.diagnose_path(logdir, Config(), executor="dask", scheduler=scheduler)
    failed = [p for p in report.problems if "Dask task failed" in p.message]
    assert len(failed) == 1 and failed[0].path.endswith("copies/full/log.csv")
    assert "OSError: connection to the worker lost" in failed[0].message and "\n" not in failed[0].message
    names = {r.run for r in report.runs}
    assert "copies/full/log.csv" not in names and len(names) == 21  # 23 runs read, minus 2 with nothing to diagnose
    assert "copy_of" not in {r.run: r for r in report.runs}["copies/early/log.csv"].extras  # its original is unknown


def test_cli_on_a_scheduler_prints_the_failure_as_one_line(logdir, scheduler, monkeypatch, run_cli):  # noqa: F811
    monkeypatch.setattr(pipeline, "read_and_diagnose", _fails_on_the_copy)
    out, err = run_cli(["diagnose", logdir, "--executor", "dask", "--scheduler", scheduler, "--format", "json",
                        "--fail-on", "never"], 0)
    lines = [line for line in err.splitlines() if "Dask task failed" in line]
    assert len(lines) == 1 and lines[0].startswith("lrdoctor: warning: ") and "Traceback" not in err
    assert len(json.loads(out)["runs"]) == 21


def test_run_jobs_keeps_the_job_order(scheduler):
    assert executors.run_jobs(list(range(10)), pow, (2,), executor="dask", scheduler=scheduler) == [
        k * k for k in range(10)]


def _square_but_13(k):
    if k == 13:
        raise OSError("worker lost")
    return k * k


def test_jobs_go_in_batches_and_a_failing_job_is_found_in_its_batch(scheduler):
    assert executors.batch_size(100, 2) == 6 and executors.batch_size(24, 2) == 1
    answers = executors.run_jobs(list(range(100)), _square_but_13, executor="dask", scheduler=scheduler)
    assert [a for k, a in enumerate(answers) if k != 13] == [k * k for k in range(100) if k != 13]
    assert "Dask task failed (OSError: worker lost)" in answers[13].message


def test_a_scheduler_that_cannot_be_reached_is_one_line_and_exit_2(logdir, run_cli, monkeypatch):  # noqa: F811
    import socket

    with socket.socket() as s:  # a free port: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    _, err = run_cli(["diagnose", logdir, "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"], 2)
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot connect to the Dask scheduler" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _square_but_kill_on_2(k):
    import os

    if k == 2:
        os._exit(1)  # the worker process dies, as when the OOM killer takes it
    return k * k


def test_a_job_that_kills_its_worker_process_is_one_problem():
    """A real worker death (processes=True): Dask reports KilledWorker for that job only."""
    import dask
    from dask.distributed import LocalCluster

    # No retry, and one task at a time on the worker (so that only the killing job is lost with it).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        answers = executors.run_jobs([0, 1, 2, 3], _square_but_kill_on_2, executor="dask",
                                     scheduler=cluster.scheduler_address)
    assert answers[:2] == [0, 1] and answers[3] == 9
    assert "Dask task failed (KilledWorker" in answers[2].message
