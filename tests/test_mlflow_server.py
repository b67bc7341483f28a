"""MLflow tracking server (readers/mlflow_server.py): a server the tests start on a free localhost port
(mlflow's own Flask app on a SQLite store, the app ``mlflow server`` serves), runs logged with mlflow's
client at test time, read back through ``mlflow://HOST:PORT/...`` -- and the same runs logged into a
file store must get the same diagnosis."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import numpy as np
import pytest

from lrdoctor.cli import main
from lrdoctor.readers import read_runs

_SERVER = textwrap.dedent("""
    import os, sys
    from mlflow.server import ARTIFACT_ROOT_ENV_VAR, BACKEND_STORE_URI_ENV_VAR, app
    os.environ[BACKEND_STORE_URI_ENV_VAR], os.environ[ARTIFACT_ROOT_ENV_VAR] = sys.argv[1], sys.argv[2]
    app.run(host="127.0.0.1", port=int(sys.argv[3]), threaded=True)
""")
N = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the MLflow server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail("the MLflow server did not answer within 120 s")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """(host:port, tracking URI) of a server started for the tests, killed at the end."""
    pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
    for module in ("flask", "sqlalchemy", "alembic"):
        pytest.importorskip(module, reason="the [mlflow-test] extra (the server's packages) is not installed")
    directory = tmp_path_factory.mktemp("mlflow_server")
    port = _free_port()
    log = open(directory / "server.log", "w")  # a file, not a pipe: a pipe nobody reads would block the server
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, f"sqlite:///{directory / 'mlflow.db'}", str(directory / "artifacts"), str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", process, directory / "server.log")
        yield f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=30)
        log.close()


def _curves(lr: float, blow_up: bool):
    steps = np.arange(N)
    loss = 2.0 / (1 + 0.05 * steps)
    if blow_up:
        loss = np.where(steps < 150, loss, 2.0 * 1.05 ** (steps - 150))
    return steps, loss


def _log(client, experiment_id: str, name: str, lr: float, blow_up: bool) -> str:
    from mlflow.entities import Metric, Param

    run_id = client.create_run(experiment_id, run_name=name).info.run_id
    steps, loss = _curves(lr, blow_up)
    metrics = []
    for step, value in zip(steps.tolist(), loss.tolist()):
        stamp = 1_700_000_000_000 + 1000 * step
        metrics += [Metric("train_loss", value, stamp, step), Metric("lr", lr, stamp, step)]
        if step % 30 == 0:
            metrics.append(Metric("val_loss", 1.1 * value, stamp, step))
    for start in range(0, len(metrics), 900):  # the REST API takes 1000 metrics a request
        client.log_batch(run_id, metrics=metrics[start:start + 900],
                         params=[Param("lr", str(lr)), Param("optimizer", "adam")] if start == 0 else [])
    client.set_terminated(run_id)
    return run_id


RUNS = (("srv-good", 0.01, False), ("srv-bad", 0.5, True))


@pytest.fixture(scope="session")
def logged(mlflow_server, tmp_path_factory):
    """The same runs logged on the server (experiment lrd-exp, plus one run in 'other') and into a
    file store; returns (host:port, {run name: server run id}, file store dir, {name: file store run id})."""
    from mlflow import MlflowClient

    address, uri = mlflow_server
    server = MlflowClient(tracking_uri=uri)
    experiment = server.create_experiment("lrd-exp")
    ids = {name: _log(server, experiment, name, lr, blow) for name, lr, blow in RUNS}
    ids["srv-other"] = _log(server, server.create_experiment("other"), "srv-other", 0.01, False)
    store = tmp_path_factory.mktemp("file_store") / "mlruns"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow 3 refuses new file stores unless told
        files = MlflowClient(tracking_uri=store.as_uri())
        file_experiment = files.create_experiment("lrd-exp")
        file_ids = {name: _log(files, file_experiment, name, lr, blow) for name, lr, blow in RUNS}
    return address, ids, store, file_ids


def test_one_experiment_by_name_and_by_id(logged):
    from mlflow import MlflowClient

    address, ids, _, _ = logged
    runs, problems = read_runs(f"mlflow://{address}/lrd-exp")
    assert problems == []
    assert sorted(r.name for r in runs) == ["srv-bad", "srv-good"]
    bad = next(r for r in runs if r.name == "srv-bad")
    assert bad.format == "mlflow" and bad.hparams == {"lr": 0.5, "optimizer": "adam"}
    assert bad.roles == {"train_loss": "train_loss", "val_loss": "val_loss", "lr": "lr"}
    steps, loss = _curves(0.5, True)
    np.testing.assert_array_equal(bad.get("train_loss").steps, steps)
    np.testing.assert_allclose(bad.get("train_loss").values, loss, rtol=1e-12)
    assert len(bad.get("val_loss")) == N // 30
    experiment_id = MlflowClient(tracking_uri=f"http://{address}").get_experiment_by_name("lrd-exp").experiment_id
    by_id, _ = read_runs(f"mlflow://{address}/{experiment_id}")
    assert sorted(r.name for r in by_id) == ["srv-bad", "srv-good"]


def test_all_experiments_and_run_ids(logged):
    address, ids, _, _ = logged
    runs, problems = read_runs(f"mlflow://{address}")
    assert problems == []
    assert sorted(r.name for r in runs) == ["lrd-exp/srv-bad", "lrd-exp/srv-good", "other/srv-other"]
    chosen, problems = read_runs(f"mlflow://{address}?run={ids['srv-other']},{ids['srv-bad']}")
    assert problems == [] and sorted(r.name for r in chosen) == ["srv-bad", "srv-other"]
    within, problems = read_runs(f"mlflow://{address}/lrd-exp?run={ids['srv-other']}&run={ids['srv-bad']}")
    assert [r.name for r in within] == ["srv-bad"]
    assert len(problems) == 1 and "not in experiment 'lrd-exp'" in problems[0].message


def _diagnosis(url_or_dir, capsys) -> dict:
    main(["diagnose", str(url_or_dir), "--format", "json", "--fail-on", "never"])
    return json.loads(capsys.readouterr().out)


def test_same_diagnosis_as_the_file_store(logged, capsys):
    address, _, store, file_ids = logged
    served = _diagnosis(f"mlflow://{address}/lrd-exp", capsys)
    stored = _diagnosis(store, capsys)
    assert len(served["runs"]) == len(stored["runs"]) == 2
    file_name = {r["run"].split("/")[-1]: r["run"] for r in stored["runs"]}
    text = json.dumps(served["runs"], sort_keys=True)
    for name, run_id in file_ids.items():  # the server names runs by their name, the file store by directory
        text = text.replace(json.dumps(name), json.dumps(file_name[run_id]))
    strip = ("id", "source", "run")
    served_runs = sorted((({k: v for k, v in r.items() if k not in strip}, r["run"]) for r in json.loads(text)),
                         key=lambda pair: pair[1])
    stored_runs = sorted((({k: v for k, v in r.items() if k not in strip}, r["run"]) for r in stored["runs"]),
                         key=lambda pair: pair[1])
    assert served_runs == stored_runs
    bad = next(r for r in served["runs"] if r["run"] == "srv-bad")
    assert bad["status"] == "error" and bad["recommendation"]["action"] == "decrease"


def test_unknown_experiment_and_run_are_one_line_each(logged, capsys):
    address, ids, _, _ = logged
    assert main(["diagnose", f"mlflow://{address}/no-such-experiment"]) == 2
    err = capsys.readouterr().err
    assert "no experiment named or numbered 'no-such-experiment'" in err and "Traceback" not in err
    runs, problems = read_runs(f"mlflow://{address}?run=0123456789abcdef,{ids['srv-good']}")
    assert [r.name for r in runs] == ["srv-good"]
    assert len(problems) == 1 and "0123456789abcdef" in problems[0].path and "run not read" in problems[0].message


def test_server_down_is_one_line(capsys):
    pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
    url = f"mlflow://127.0.0.1:{_free_port()}/x"
    started = time.monotonic()
    assert main(["diagnose", url]) == 2
    err = capsys.readouterr().err
    assert "cannot read the MLflow server: connection refused" in err and "Traceback" not in err
    assert time.monotonic() - started < 60  # not mlflow's minutes of retries


def test_a_metric_that_cannot_be_fetched(logged, monkeypatch):
    from mlflow import MlflowClient

    address, _, _, _ = logged
    fetch = MlflowClient.get_metric_history

    def flaky(self, run_id, key):
        if key == "val_loss":
            raise OSError("connection reset by peer")
        return fetch(self, run_id, key)

    monkeypatch.setattr(MlflowClient, "get_metric_history", flaky)
    runs, problems = read_runs(f"mlflow://{address}/lrd-exp")
    assert problems == [] and len(runs) == 2
    for run in runs:
        assert sorted(run.series) == ["lr", "train_loss"]  # the other metrics kept
        (problem,) = run.problems
        assert "metric 'val_loss': history not read: connection reset by peer" in problem.message


def test_without_the_extra_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    runs, problems = read_runs("mlflow://127.0.0.1:1/x")
    assert runs == [] and len(problems) == 1
    assert "install lrdoctor[mlflow]" in problems[0].message


@pytest.mark.parametrize("url, why", [("mlflow:///exp", "no server in the URL"),
                                      ("mlflow://h:1/e?runs=a", "unknown URL parameter(s) runs")])
def test_bad_urls(url, why):
    runs, problems = read_runs(url)
    assert runs == [] and why in problems[0].message


def test_every_page_of_runs_and_experiments(logged, monkeypatch):
    from lrdoctor.readers import mlflow_server

    address, _, _, _ = logged
    monkeypatch.setattr(mlflow_server, "_PAGE", 1)  # one run, one experiment a page
    runs, problems = read_runs(f"mlflow://{address}")
    assert problems == []
    assert sorted(r.name for r in runs) == ["lrd-exp/srv-bad", "lrd-exp/srv-good", "other/srv-other"]
