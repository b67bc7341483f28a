"""Discovery: which files form which run, run names, what is skipped, unreadable paths, processes."""
from __future__ import annotations

import os

import pytest

from lrdoctor.model import Series
from lrdoctor.readers import discover, read_runs


def make_tree(root):
    (root / "r0001").mkdir(parents=True)
    (root / "r0001" / "training.log").write_text("epoch,loss,val_loss\n0,1.0,1.2\n1,0.8,1.0\n")
    v0 = root / "r0002" / "version_0"
    v0.mkdir(parents=True)
    (v0 / "metrics.csv").write_text("epoch,lr-Adam,step,train_loss\n,0.01,0,\n0,,0,2.0\n")
    (v0 / "hparams.yaml").write_text("lr: 0.01\n")
    (v0 / "checkpoints").mkdir()
    (v0 / "checkpoints" / "epoch=0.ckpt").write_bytes(b"\x80\x04binary")
    (root / "r0001" / ".ipynb_checkpoints").mkdir()
    (root / "r0001" / ".ipynb_checkpoints" / "training-checkpoint.log").write_text("epoch,loss\n0,1.0\n")
    (root / "r0003").mkdir()
    (root / "r0003" / "train.log").write_text("INFO starting training\nINFO epoch 1 done\n")  # prose, not a log
    (root / "r0003" / "notes.txt").write_text("hello")
    (root / "r0003" / "config.json").write_text('{"lr": 0.1}')


def test_run_names_are_relative_paths_and_non_logs_are_skipped_quietly(tmp_path):
    make_tree(tmp_path)
    runs, problems = read_runs(tmp_path)
    assert problems == []
    assert [r.name for r in runs] == ["r0001/training.log", "r0002/version_0/metrics.csv"]
    assert all(not r.problems for r in runs)
    assert runs[1].hparams == {"lr": 0.01}
    assert runs[0].source == os.path.abspath(tmp_path / "r0001" / "training.log")


def test_a_single_file_is_a_run_named_by_its_file_name(tmp_path):
    make_tree(tmp_path)
    (run,), problems = read_runs(tmp_path / "r0001" / "training.log")
    assert run.name == "training.log" and problems == []


def test_sniffed_by_content_not_by_name(tmp_path):
    (tmp_path / "history.log").write_text("epoch;loss\n0;1.0\n1;0.5\n")          # a CSV named .log
    (tmp_path / "losses.txt").write_text("step\tloss\n0\t1.0\n10\t0.5\n")       # a TSV named .txt
    (tmp_path / "log.txt").write_text("Epoch 1: loss 0.5\nEpoch 2: loss 0.4\n")   # prose: not a log
    (tmp_path / "state.json").write_text('{"log_history": [{"loss": 1.0, "step": 5}]}')  # a trainer state
    runs, _ = read_runs(tmp_path)
    assert {r.name: r.format for r in runs} == {"history.log": "keras_csv", "state.json": "hf_trainer_state",
                                                "losses.txt": "csv"}


def test_missing_path_is_a_problem_not_an_exception(tmp_path):
    runs, problems = read_runs(tmp_path / "nope")
    assert runs == [] and "no such file" in problems[0].message


def test_unreadable_directory_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    make_tree(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    runs, problems = read_runs(tmp_path)
    assert len(runs) == 2
    (problem,) = problems
    assert problem.path == os.fspath(locked) and "Permission denied" in problem.message


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads anything")
def test_unreadable_directory_for_real(tmp_path):
    make_tree(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        runs, problems = read_runs(tmp_path)
    finally:
        locked.chmod(0o755)
    assert len(runs) == 2 and "locked" in problems[0].path


def test_unreadable_log_file_is_a_problem_on_its_run(tmp_path, monkeypatch):
    make_tree(tmp_path)

    real_open = os.open

    def deny(path, *args, **kwargs):
        if os.fspath(path).endswith("training.log"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    runs, problems = read_runs(tmp_path)
    bad = {r.name: r for r in runs}["r0001/training.log"]
    assert "Permission denied" in bad.problems[0].message and not bad.series


def test_a_reader_crash_becomes_a_problem_on_that_run_only(tmp_path, monkeypatch):
    make_tree(tmp_path)
    from lrdoctor.readers import csvlog

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(csvlog, "read_csv_text", boom)
    runs, problems = read_runs(tmp_path)
    assert len(runs) == 2 and all("kaboom" in r.problems[0].message for r in runs)


def test_overrides_reach_every_run(tmp_path):
    make_tree(tmp_path)
    runs, _ = read_runs(tmp_path, tag_roles={"val_loss": ["loss"]})
    assert runs[0].roles["val_loss"] == "loss"


def test_many_runs_are_read_by_a_process_pool_with_the_same_result(tmp_path, monkeypatch):
    for i in range(20):
        d = tmp_path / f"r{i:04d}"
        d.mkdir()
        (d / "log.csv").write_text("epoch,loss,lr\n" + "".join(f"{e},{1 / (e + 1 + i)},0.1\n" for e in range(50)))
    serial, _ = read_runs(tmp_path)
    used = []
    real_pool = discover.ProcessPoolExecutor

    def pool(*args, **kwargs):
        used.append(kwargs.get("max_workers"))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(discover, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(discover, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(discover.os, "cpu_count", lambda: 2)
    parallel, _ = read_runs(tmp_path)
    assert used == [2]
    assert [r.name for r in parallel] == [r.name for r in serial]
    assert all((p.series["loss"].values == s.series["loss"].values).all() and p.roles == s.roles
               for p, s in zip(parallel, serial))


MANIFEST = "path,format,n_bytes,tags,notes\n" + "".join(f"logs/r{i}.csv,csv,{100 + i},loss;lr,copied\n" for i in range(5))


def test_a_csv_table_that_is_no_training_log_is_one_problem_not_a_run(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "MANIFEST.csv").write_text(MANIFEST)
    (tmp_path / "index.txt").write_text(MANIFEST)  # not named as a log: skipped quietly
    runs, problems = read_runs(tmp_path)
    assert [r.name for r in runs] == ["r0001/training.log", "r0002/version_0/metrics.csv"]
    (problem,) = problems
    assert problem.path.endswith("MANIFEST.csv") and problem.message.startswith("not a training log")


def test_a_tag_override_makes_a_mostly_text_csv_a_run(tmp_path):
    (tmp_path / "MANIFEST.csv").write_text(MANIFEST)
    runs, problems = read_runs(tmp_path, tag_roles={"train_loss": ["n_bytes"]})
    assert problems == [] and runs[0].roles == {"train_loss": "n_bytes"}


def test_progress_is_called_once_per_run_and_is_optional(tmp_path):
    make_tree(tmp_path)
    calls = []
    runs, _ = read_runs(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 5) for k in range(1, 6)]  # five candidate files, three of them not logs
    assert len(runs) == 2


def test_runs_with_nothing_to_diagnose_are_set_apart_as_problems(tmp_path):
    from lrdoctor.readers import split_diagnosable

    make_tree(tmp_path)
    (tmp_path / "r0004").mkdir()
    (tmp_path / "r0004" / "metrics.csv").write_bytes(b"")
    runs, _ = read_runs(tmp_path)
    empty_tb = discover.Run(name="tb", source="/logs/tb", format="tensorboard", notes=["no scalar data in 1 event file(s)"])
    hparams_only = discover.Run(name="hp", source="/logs/hp", format="tensorboard",
                                series={"hp_metric": Series.from_lists([0], [0.5])})
    with_data, problems = split_diagnosable([*runs, empty_tb, hparams_only])
    assert [r.name for r in with_data] == ["r0001/training.log", "r0002/version_0/metrics.csv"]
    assert [p.describe() for p in problems] == [
        f"{tmp_path / 'r0004' / 'metrics.csv'}: empty file (0 bytes)",
        "/logs/tb: nothing to diagnose: no scalar data in 1 event file(s)",
        "/logs/hp: nothing to diagnose: no loss or accuracy among its 1 tag(s) (hp_metric); "
        "name one with --tag train_loss=TAG"]
