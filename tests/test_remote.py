"""Remote log directories (readers/remote.py) against a real S3 API: moto's server, started by these
tests on a free localhost port (tests/remote_s3_server.py, which also injects the faults: a bucket one
may not list, an object one may not read, a connection dropped mid-file).

Each tree is written locally, uploaded, and diagnosed both ways: the JSON reports must be equal but for
the paths (``source``, problem paths), which name the URL instead of the local directory.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("s3fs", reason="remote logdir tests need the remote-test extra: pip install -e '.[remote-test]'")
pytest.importorskip("moto.server", reason="remote logdir tests need moto[server]: pip install -e '.[remote-test]'")

REPO = Path(__file__).resolve().parents[1]
BENCH_RUNS = REPO.parent / "shared" / "bench" / "public" / "runs"
SERVER = Path(__file__).with_name("remote_s3_server.py")
BUCKET = "logs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _requests(endpoint: str, method: str = "GET") -> dict:
    request = urllib.request.Request(f"{endpoint}/_requests", method=method)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """The server's URL, with the AWS variables pointing every S3 client at it (and at no real account)."""
    import s3fs

    port = _free_port()
    log = open(tmp_path_factory.mktemp("s3server") / "server.log", "wb")
    server = subprocess.Popen([sys.executable, str(SERVER), str(port)], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    saved = dict(os.environ)
    try:
        _wait_until_up(endpoint, server)
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
                          AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        os.environ.pop("AWS_PROFILE", None)
        s3fs.S3FileSystem.clear_instance_cache()
        s3fs.S3FileSystem().mkdir(BUCKET)
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        s3fs.S3FileSystem.clear_instance_cache()
        server.kill()
        server.wait()
        log.close()


def _wait_until_up(endpoint: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the S3 test server exited with code {server.returncode}")
        try:
            _requests(endpoint)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the S3 test server did not answer within {timeout:.0f} s")


def _upload(local: Path, key: str) -> str:
    import s3fs

    s3fs.S3FileSystem().put(str(local), f"{BUCKET}/{key}", recursive=True)
    return f"s3://{BUCKET}/{key}"


def _json(run_cli, *args, exit_code) -> tuple[dict, str]:
    out, err = run_cli([*args, "--format", "json"], exit_code=exit_code)
    assert "Traceback" not in err and "lrdoctor-remote-" not in out + err  # no temporary path leaks out
    return json.loads(out), err


def _paths_as(doc: dict, old: str, new: str) -> dict:
    return json.loads(json.dumps(doc).replace(json.dumps(old)[1:-1], new))


def _assert_same_but_paths(remote: dict, url: str, local: dict, local_root: Path) -> None:
    remote, local = _paths_as(remote, url, "ROOT"), _paths_as(local, str(local_root), "ROOT")
    assert [r["run"] for r in remote["runs"]] == [r["run"] for r in local["runs"]]
    assert all(r["source"].startswith("ROOT") for r in remote["runs"])
    assert remote == local


# --------------------------------------------------------------------------- a tree of every kind


def _console_lines(count: int, chatter: int = 0) -> str:
    lines = [f"INFO downloading shard {i} of the dataset ..." for i in range(chatter)]
    lines += [f"epoch 1 step {10 * i} loss {2.5 / (1 + 0.01 * i):.5f} lr 0.001" for i in range(count)]
    return "\n".join(lines) + "\n"


def _tree(root: Path) -> Path:
    """sample_logs plus what discovery treats specially: hidden directories, names that say nothing
    (probed), big sniffed texts (probed at three places), an MLflow run, files that are no logs."""
    shutil.copytree(REPO / "sample_logs", root)
    (root / ".git").mkdir()
    (root / ".git" / "metrics.csv").write_text("step,loss\n1,5\n2,4\n3,3\n")  # never read: hidden directory
    (root / "job.o123").write_text(_console_lines(2000))  # no extension that says 'log': its first 64 KiB decide
    (root / "README").write_text("# experiments\nSee the runs below.\n")
    (root / "notes.md").write_text("A long essay that is no log.\n" * 5000)  # probed, then not fetched
    (root / "model.ckpt").write_bytes(bytes(range(256)) * 400)  # not a log by name: never fetched
    big = root / "big"
    big.mkdir()
    (big / "train.txt").write_text(_console_lines(3000, chatter=4000))  # a log after set-up chatter
    (big / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 5000)
    run = root / "mlruns" / "0" / "0123abcd"
    for part in ("metrics", "params", "tags"):
        (run / part).mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: 0123abcd\nstatus: 3\n")
    (run / "metrics" / "loss").write_text("".join(f"1700000000{i:03d} {3.0 / (1 + i):.6f} {i}\n" for i in range(120)))
    (run / "params" / "lr").write_text("0.01")
    (run / "tags" / "mlflow.runName").write_text("first")
    return root


@pytest.fixture
def small_thresholds(monkeypatch):
    """Big-file sniffing at 64 KiB instead of 8 MiB (windows of 16 KiB), so that the fixture stays small;
    set alike for the remote plan and for local discovery, which both read the constants."""
    from lrdoctor.readers import log_files, remote_plan

    for module in (log_files, remote_plan):
        monkeypatch.setattr(module, "BIG_UNNAMED", 64 << 10)
        monkeypatch.setattr(module, "BIG_HEAD", 16 << 10)


@pytest.fixture(scope="module")
def tree_url(s3_endpoint, tmp_path_factory):
    local = _tree(tmp_path_factory.mktemp("remote") / "tree")
    return _upload(local, "kinds/tree"), local


def test_every_kind_of_log_reads_the_same_remote_as_local(run_cli, tree_url, small_thresholds, s3_endpoint):
    url, local = tree_url
    _requests(s3_endpoint, "DELETE")
    remote, _ = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    log = _requests(s3_endpoint)["log"]
    mirrored, _ = _json(run_cli, "diagnose", local, "--fail-on", "never", exit_code=0)
    _assert_same_but_paths(remote, url, mirrored, local)
    runs = {r["run"] for r in remote["runs"]}
    assert {"job.o123", "big/train.txt", "mlruns/0/0123abcd", "healthy_tbx"} <= runs
    assert not any("corpus" in r or "notes" in r or "README" in r for r in runs)
    got = [line for line in log if line.startswith("GET /logs/kinds/tree/")]
    fetched = {line.split()[1].split("/", 4)[-1]: line.split()[2:] for line in got}
    assert ".git/metrics.csv" not in fetched and "model.ckpt" not in fetched and "mlruns/0/0123abcd/tags/mlflow.runName" not in fetched
    assert all(r for name, r in fetched.items() if name in ("notes.md", "big/corpus.txt"))  # only ranges of them
    whole = [line for line in got if line.endswith(("/job.o123", "/big/train.txt"))]
    assert len(whole) == 2  # probed, found to be logs, fetched whole


def test_runs_and_a_single_remote_file_read_as_local(run_cli, tree_url):
    url, local = tree_url
    remote, _ = _json(run_cli, "runs", url, exit_code=0)
    mirrored, _ = _json(run_cli, "runs", local, exit_code=0)
    assert _paths_as(remote, url, "ROOT") == _paths_as(mirrored, str(local), "ROOT")
    one = "overfit_keras_csv/training.log"
    remote, _ = _json(run_cli, "diagnose", f"{url}/{one}", "--fail-on", "never", exit_code=0)
    mirrored, _ = _json(run_cli, "diagnose", local / one, "--fail-on", "never", exit_code=0)
    _assert_same_but_paths(remote, f"{url}/{one}", mirrored, local / one)
    assert remote["runs"][0]["source"] == f"{url}/{one}"


def test_plot_and_findlr_take_a_url(run_cli, tree_url, tmp_path):
    url, local = tree_url
    remote, _ = run_cli(["findlr", f"{url}/lr_range_test_tbx", "--format", "json"], exit_code=0)
    mirrored, _ = run_cli(["findlr", local / "lr_range_test_tbx", "--format", "json"], exit_code=0)
    assert remote == mirrored
    png = tmp_path / "healthy.png"
    run_cli(["plot", f"{url}/healthy_tbx", "-o", png], exit_code=0)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_the_temporary_mirror_is_removed(run_cli, tree_url, tmp_path, monkeypatch):
    url, _ = tree_url
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run_cli(["runs", url], exit_code=0)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the public bench


def test_the_public_bench_reads_the_same_remote_as_local_in_few_requests(run_cli, s3_endpoint, tmp_path):
    if not BENCH_RUNS.is_dir():
        pytest.skip("../shared/bench/public/runs is not available")
    local = tmp_path / "runs"
    local.mkdir()
    for run in sorted(BENCH_RUNS.iterdir())[:60]:
        shutil.copytree(run, local / run.name)
    files = [p for p in local.rglob("*") if p.is_file()]
    url = _upload(local, "bench/runs")
    _requests(s3_endpoint, "DELETE")
    remote, _ = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    counts = _requests(s3_endpoint)["counts"]
    mirrored, _ = _json(run_cli, "diagnose", local, "--fail-on", "never", exit_code=0)
    _assert_same_but_paths(remote, url, mirrored, local)
    assert len(remote["runs"]) >= 50
    assert counts.get("GET", 0) <= len(files) + 1  # one listing page, one request per file, none per record
    assert set(counts) <= {"GET", "HEAD"}


# --------------------------------------------------------------------------- what goes wrong


def test_unreadable_files_are_one_line_each_and_the_other_runs_are_diagnosed(run_cli, s3_endpoint, tmp_path):
    local = tmp_path / "faulty"
    shutil.copytree(REPO / "sample_logs", local)
    (local / "forbidden_run").mkdir()
    (local / "forbidden_run" / "metrics.csv").write_text("step,loss\n1,2\n2,1\n3,0.5\n")
    (local / "cutoff_run").mkdir()
    (local / "cutoff_run" / "metrics.csv").write_text("step,loss\n" + "".join(f"{i},{1 / (i + 1):.6f}\n" for i in range(3000)))
    event = next((REPO / "sample_logs" / "healthy_tbx").iterdir())
    shutil.copy(event, local / "healthy_tbx" / "cutoff.events.out.tfevents.2.vm")
    url = _upload(local, "faulty")
    doc, err = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert any(f"{url}/forbidden_run/metrics.csv: cannot fetch: permission denied" in line for line in lines)
    assert any(f"{url}/cutoff_run/metrics.csv: cannot fetch:" in line for line in lines)
    cut = f"{url}/healthy_tbx/cutoff.events.out.tfevents.2.vm"
    assert any(line.startswith(f"lrdoctor: warning: {cut}: cannot fetch:") for line in lines)
    assert len(doc["runs"]) == 6  # every sample run; the two unreadable files are no runs
    healthy = next(r for r in doc["runs"] if r["run"] == "healthy_tbx")
    assert [p["path"] for p in healthy["problems"]] == [cut]  # read without the lost file, and says so
    assert {p["path"] for p in doc["problems"]} == {f"{url}/forbidden_run/metrics.csv", f"{url}/cutoff_run/metrics.csv"}


@pytest.mark.parametrize("url, why", [
    ("s3://no-such-bucket/runs", "cannot list: no such file, directory or bucket"),
    ("s3://locked/runs", "cannot list: permission denied"),
    (f"s3://{BUCKET}/nothing/here", "no such file or directory"),
])
def test_a_url_that_cannot_be_listed_is_one_line_and_exit_2(run_cli, s3_endpoint, url, why):
    out, err = run_cli(["diagnose", url], exit_code=2)
    assert err.splitlines() == [f"lrdoctor: warning: {url}: {why}" + err.split(why, 1)[1].splitlines()[0],
                                f"lrdoctor: error: no runs found under {url}"]
    assert "Traceback" not in err


def test_a_server_that_is_down_is_one_line_and_exit_2(run_cli, s3_endpoint, monkeypatch):
    import s3fs

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        out, err = run_cli(["runs", f"s3://{BUCKET}/kinds"], exit_code=2)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
    assert out.startswith(f"problem: s3://{BUCKET}/kinds: cannot list: EndpointConnectionError"), out
    assert err.splitlines() == [f"lrdoctor: error: no runs found under s3://{BUCKET}/kinds"]


def test_a_protocol_without_its_package_says_what_to_install(run_cli):
    try:
        import gcsfs  # noqa: F401
        pytest.skip("gcsfs is installed")
    except ImportError:
        pass
    out, err = run_cli(["runs", "gs://bucket/runs"], exit_code=2)
    assert "gs://bucket/runs: cannot read gs:// URLs: gcsfs is not installed (pip install gcsfs)" in out + err


# --------------------------------------------------------------------------- a plain web server


@pytest.fixture
def http_tree(tree_url):
    """The same tree served by Python's own web server: directory listings as HTML links, no sizes, no
    ranges (fsspec's HTTP filesystem lists by following the links; needs aiohttp, which s3fs brings)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    _, local = tree_url
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(local.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{local.name}", local
    finally:
        server.shutdown()
        thread.join()


def test_a_web_server_listing_reads_the_same_as_local(run_cli, http_tree, small_thresholds):
    pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp")
    url, local = http_tree
    remote, _ = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    mirrored, _ = _json(run_cli, "diagnose", local, "--fail-on", "never", exit_code=0)
    _assert_same_but_paths(remote, url, mirrored, local)


def test_a_text_log_over_the_bound_is_fetched_up_to_it_in_large_reads(s3_endpoint, tmp_path, monkeypatch):
    """Files over the local reading bound (256 MiB: too big for a test) are fetched up to it only;
    here the bound and the read size are made small."""
    import s3fs

    from lrdoctor.readers import remote
    from lrdoctor.readers.remote_plan import Fetch

    data = b"step,loss\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(50000))
    s3fs.S3FileSystem().pipe(f"{BUCKET}/bound/metrics.csv", data)
    monkeypatch.setattr(remote, "_CHUNK", 64 << 10)
    _requests(s3_endpoint, "DELETE")
    target = tmp_path / "m" / "metrics.csv"
    fs = s3fs.S3FileSystem()
    remote._fetch_file(fs, f"{BUCKET}/bound/metrics.csv", str(target), Fetch("metrics.csv", len(data), 200_001))
    assert target.read_bytes() == data[:200_001]
    gets = [line for line in _requests(s3_endpoint)["log"] if line.startswith("GET /logs/bound/")]
    assert 1 <= len(gets) <= 5 and all("bytes=" in line for line in gets)  # ranged, 64 KiB or more each
    remote._fetch_file(fs, f"{BUCKET}/bound/metrics.csv", str(target), Fetch("metrics.csv", len(data), len(data) + 1))
    assert target.read_bytes() == data  # within the bound: the whole file


def test_a_single_file_that_cannot_be_fetched_is_one_line(run_cli, s3_endpoint):
    import s3fs

    s3fs.S3FileSystem().pipe(f"{BUCKET}/single/forbidden.csv", b"step,loss\n1,2\n2,1\n")
    url = f"s3://{BUCKET}/single/forbidden.csv"
    _, err = run_cli(["diagnose", url], exit_code=2)
    assert err.splitlines() == [f"lrdoctor: warning: {url}: cannot fetch: permission denied (Access Denied)",
                                f"lrdoctor: error: no runs found under {url}"]


def test_a_prefix_without_logs_reads_as_a_local_directory_without_logs(run_cli, s3_endpoint, tmp_path):
    local = tmp_path / "nologs"
    local.mkdir()
    (local / "model.ckpt").write_bytes(b"\x00" * 100)
    (local / "image.png").write_bytes(b"\x89PNG")
    url = _upload(local, "nologs/nologs")
    remote_out, remote_err = run_cli(["runs", url, "--format", "json"], exit_code=2)
    local_out, local_err = run_cli(["runs", local, "--format", "json"], exit_code=2)
    assert remote_out == local_out and remote_err == local_err.replace(str(local), url)


def test_a_probe_cut_mid_file_leaves_nothing_half_read(run_cli, s3_endpoint, tmp_path, small_thresholds):
    local = tmp_path / "probe"
    (local / "ok").mkdir(parents=True)
    (local / "ok" / "metrics.csv").write_text("step,loss\n" + "".join(f"{i},{2 / (i + 1):.5f}\n" for i in range(50)))
    (local / "cutlate_train.txt").write_text(_console_lines(3000))  # big: probed at its start (read), middle (cut)
    url = _upload(local, "probe")
    doc, err = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    assert [r["run"] for r in doc["runs"]] == ["ok/metrics.csv"]
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lrdoctor: warning: {url}/cutlate_train.txt: cannot fetch: "), err


def test_a_remote_logdir_is_diagnosed_job_by_job_on_dask_as_on_local_processes(run_cli, tree_url):
    """--executor dask over a remote logdir: fetched once, read and diagnosed per run on a LocalCluster,
    the same report as the local executor's; with --scheduler (workers elsewhere) it is refused."""
    pytest.importorskip("distributed", reason="needs the dask extra: pip install -e '.[dask]'")
    url, _ = tree_url
    local_exec, _ = _json(run_cli, "diagnose", url, "--fail-on", "never", exit_code=0)
    on_dask, _ = _json(run_cli, "diagnose", url, "--fail-on", "never", "--executor", "dask", exit_code=0)
    assert on_dask == local_exec and len(on_dask["runs"]) >= 5
    _, err = run_cli(["diagnose", url, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"], exit_code=2)
    assert "is fetched to this machine" in err and "Traceback" not in err
