"""What a remote log directory's listing makes lrdoctor fetch (readers/remote_plan.py): the same files
local discovery reads, each bounded as the local reader bounds it.  No server needed."""
from __future__ import annotations

from lrdoctor.readers import log_files
from lrdoctor.readers.content import HEAD_BYTES
from lrdoctor.readers.hparams import MAX_HPARAMS_BYTES
from lrdoctor.readers.remote import is_url
from lrdoctor.readers.remote_plan import plan, single_file, windows
from lrdoctor.readers.textfile import MAX_TEXT_BYTES

MIB = 1 << 20


def _by_rel(sizes):
    return {f.rel: f for f in plan(sizes)}


def test_urls_are_told_from_local_paths():
    assert is_url("s3://bucket/runs") and is_url("gs://b") and is_url("https://host/logs/") and is_url("hf://datasets/x")
    assert not is_url("runs/s3://x") and not is_url("C:\\logs") and not is_url("/tmp/x") and not is_url("x:/y")


def test_logs_are_chosen_by_discovery_names_and_the_rest_is_not_fetched():
    got = _by_rel({
        "r1/events.out.tfevents.1.host": 5 * MIB, "r1/hparams.yaml": 100, "r1/model.ckpt": 900 * MIB,
        "r2/version_0/metrics.csv": 2000, "r3/trainer_state.json": 300, "r4/train.log": 10,
        "tfevents.py": 100, "image.png": 4000, "config.yaml": 50,
    })
    assert set(got) == {"r1/events.out.tfevents.1.host", "r1/hparams.yaml", "r2/version_0/metrics.csv",
                        "r3/trainer_state.json", "r4/train.log"}
    assert got["r1/events.out.tfevents.1.host"].limit is None  # event files are read whole
    assert got["r2/version_0/metrics.csv"].limit == MAX_TEXT_BYTES + 1  # one byte more: the reader sees it goes on
    assert got["r1/hparams.yaml"].limit == MAX_HPARAMS_BYTES + 1
    assert not any(f.probe for f in got.values())


def test_hidden_directories_are_not_entered():
    got = _by_rel({".git/logs/train.log": 10, "a/.ipynb_checkpoints/metrics.csv": 10, "a/metrics.csv": 10,
                   ".hidden.csv": 10})
    assert set(got) == {"a/metrics.csv", ".hidden.csv"}  # as os.walk in find_jobs: directories only


def test_a_name_that_says_nothing_is_probed_unless_small():
    got = _by_rel({"job.o123": 10 * MIB, "README": 200, "notes.md": HEAD_BYTES + 1})
    assert got["job.o123"].probe == "content" and got["notes.md"].probe == "content"
    assert got["README"].probe is None  # its whole is no more than the probe would fetch
    assert windows(got["job.o123"]) == [(0, HEAD_BYTES + 1)]


def test_a_big_sniffed_text_is_probed_at_its_start_middle_and_end():
    size = 40 * MIB
    got = _by_rel({"out/train.txt": size, "out/small.txt": 8 * MIB})
    assert got["out/small.txt"].probe is None
    big = got["out/train.txt"]
    assert big.probe == "big" and big.limit == MAX_TEXT_BYTES + 1
    assert windows(big) == [(0, MIB + 1), (size // 2, size // 2 + MIB), (size - MIB, size)]


def test_mlflow_runs_fetch_metrics_and_params_but_not_tags():
    got = _by_rel({
        "mlruns/0/abc/meta.yaml": 300, "mlruns/0/abc/metrics/loss": 1000, "mlruns/0/abc/metrics/nested/acc": 10,
        "mlruns/0/abc/params/lr": 5, "mlruns/0/abc/tags/mlflow.runName": 5,
        "mlruns/0/abc/artifacts/train.log": 10, "mlruns/0/abc/artifacts/README": 10, "mlruns/0/meta.yaml": 100,
    })
    assert set(got) == {"mlruns/0/abc/meta.yaml", "mlruns/0/abc/metrics/loss", "mlruns/0/abc/metrics/nested/acc",
                        "mlruns/0/abc/params/lr", "mlruns/0/abc/artifacts/train.log", "mlruns/0/abc/artifacts/README"}
    assert got["mlruns/0/abc/params/lr"].limit == (1 << 20) + 1  # mlflow's bound on a parameter


def test_an_mlflow_run_needs_meta_or_params_beside_metrics():
    got = _by_rel({"x/metrics/loss": 10, "x/other": 10})  # no run: 'loss' and 'other' are sniffed by content
    assert got["x/metrics/loss"].probe is None and got["x/other"].probe is None
    assert set(_by_rel({"x/metrics/loss": 10, "x/params/lr": 1})) == {"x/metrics/loss", "x/params/lr"}


def test_a_single_file_is_read_as_named():
    assert single_file("events.out.tfevents.9.h", 10).limit is None
    assert single_file("whatever.dat", 10).limit == MAX_TEXT_BYTES + 1


def test_the_plan_uses_discovery_thresholds():
    """The probe of a big sniffed file is decided by discover's own function on the same windows."""
    assert log_files.BIG_UNNAMED == 8 * MIB and log_files.BIG_HEAD == MIB


def test_keys_that_would_leave_the_mirror_are_not_fetched():
    """An object key may hold '..', '.' or empty parts.  Discovery does not enter '.'-directories, so the
    plan passes over the first two; whatever reaches the mirror is checked again, and said."""
    from lrdoctor.readers.remote import _unsafe
    from lrdoctor.readers.remote_plan import Fetch

    fetches = plan({"ok/metrics.csv": 10, "a/../../escape.csv": 10, "b//metrics.csv": 10, "c/./train.log": 10})
    assert [f.rel for f in fetches] == ["b//metrics.csv", "ok/metrics.csv"]
    kept, problems = _unsafe(fetches + [Fetch("../up.csv", 1, 2), Fetch("x/./y.csv", 1, 2)], "s3://bucket/runs")
    assert [f.rel for f in kept] == ["ok/metrics.csv"]
    assert [p.path for p in problems] == ["s3://bucket/runs/b//metrics.csv", "s3://bucket/runs/../up.csv",
                                          "s3://bucket/runs/x/./y.csv"]
    assert all(p.message.startswith("not read: a key with an empty") for p in problems)
