"""W&B offline runs (readers/wandb_offline.py): fixtures written by wandb itself, in offline mode,
at test time (a subprocess: wandb starts its own service process), then read back, cut and damaged."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lrdoctor.cli import main
from lrdoctor.readers import read_runs

N_GOOD, N_BAD, BLOW_UP = 200, 600, 300

_WRITER = textwrap.dedent(f"""
    import wandb
    run = wandb.init(project="lrd", name="good", config={{"lr": 0.01, "optimizer": {{"name": "adam", "betas": [0.9, 0.99]}}}})
    for i in range({N_GOOD}):
        loss = 2.0 / (1 + 0.05 * i)
        wandb.log({{"train/loss": loss, "train/learning_rate": 0.01, "eval": {{"loss": loss * 1.1}}, "note": "x"}})
    run.finish()
    run = wandb.init(project="lrd", name="bad", config={{"learning_rate": 0.5}})
    for i in range({N_BAD}):
        loss = 2.0 / (1 + 0.05 * i) if i < {BLOW_UP} else 2.0 * 1.05 ** (i - {BLOW_UP})
        wandb.log({{"train/loss": loss, "train/learning_rate": 0.5, "eval/loss": loss * 1.1}}, step=i)
    run.finish()
""")


def _write_offline_runs(directory) -> None:
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(directory), "WANDB_SILENT": "true",
           "WANDB_DISABLE_GIT": "true", "WANDB_API_KEY": "", "WANDB_BASE_URL": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-c", _WRITER], env=env, cwd=directory, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="session")
def wandb_logdir(tmp_path_factory):
    pytest.importorskip("wandb", reason="the [wandb] extra is not installed")
    directory = tmp_path_factory.mktemp("wandb_logs")
    _write_offline_runs(directory)
    return directory


def _by_config(runs):
    """{"good"|"bad": run}: which is which by its config (run directory names hold a timestamp)."""
    return {("bad" if "learning_rate" in run.hparams else "good"): run for run in runs}


def _wandb_file(logdir, which: str) -> str:
    runs, _ = read_runs(logdir)
    return _by_config(runs)[which].source


def test_runs_roles_and_config(wandb_logdir):
    runs, problems = read_runs(wandb_logdir)
    assert problems == []
    assert len(runs) == 2  # not W&B's debug logs, not latest-run again
    assert all(r.name.startswith("wandb/offline-run-") and r.format == "wandb" for r in runs)
    good, bad = _by_config(runs)["good"], _by_config(runs)["bad"]
    assert good.roles == {"train_loss": "train/loss", "val_loss": "eval.loss", "lr": "train/learning_rate"}
    assert bad.roles == {"train_loss": "train/loss", "val_loss": "eval/loss", "lr": "train/learning_rate"}
    assert good.hparams["lr"] == pytest.approx(0.01)
    assert good.hparams["optimizer/name"] == "adam"
    assert bad.hparams == {"learning_rate": pytest.approx(0.5)}
    loss = good.get("train_loss")
    np.testing.assert_array_equal(loss.steps, np.arange(N_GOOD))
    np.testing.assert_allclose(loss.values, 2.0 / (1 + 0.05 * np.arange(N_GOOD)), rtol=1e-12)
    np.testing.assert_allclose(good.get("val_loss").values, 1.1 * loss.values, rtol=1e-12)
    assert loss.wall_times is not None and np.all(np.diff(loss.wall_times) >= 0)
    assert len(bad.get("train_loss")) == N_BAD
    assert any("note" in n for n in good.notes)  # a string value is named as skipped, not silently dropped


def test_diagnosis_of_the_diverged_run(wandb_logdir, capsys):
    code = main(["diagnose", str(wandb_logdir), "--format", "json", "--fail-on", "error"])
    report = json.loads(capsys.readouterr().out)
    by_name = {r["run"]: r for r in report["runs"]}
    runs, _ = read_runs(wandb_logdir)
    which = _by_config(runs)
    bad, good = by_name[which["bad"].name], by_name[which["good"].name]
    assert bad["status"] == "error" and bad["recommendation"]["action"] == "decrease"
    assert good["status"] != "error"
    assert code == 1


def _copy(logdir, tmp_path, which: str) -> tuple[str, bytes]:
    source = _wandb_file(logdir, which)
    data = open(source, "rb").read()
    assert len(data) > 2 * 32768  # records span several 32 KiB blocks
    return str(tmp_path / "run-copy.wandb"), data


def _read_one(path: str):
    runs, problems = read_runs(path)
    assert problems == [] and len(runs) == 1
    return runs[0]


def test_cut_file_keeps_every_record_before_the_cut(wandb_logdir, tmp_path):
    path, data = _copy(wandb_logdir, tmp_path, "bad")
    seen = []
    for size in (len(data) // 5, len(data) // 2, len(data) - 3):
        open(path, "wb").write(data[:size])
        run = _read_one(path)
        points = len(run.get("train_loss"))
        cut = [p for p in run.problems if "cut" in p.message]
        assert len(cut) == 1 and cut[0].partial and 0 < cut[0].offset <= size
        seen.append(points)
    assert 0 < seen[0] < seen[1] < N_BAD and seen[2] >= N_BAD - 2
    open(path, "wb").write(data)
    assert _read_one(path).problems == []


def test_damaged_record_is_reported_with_its_offset_and_skipped(wandb_logdir, tmp_path):
    path, data = _copy(wandb_logdir, tmp_path, "bad")
    at = len(data) // 2
    damaged = bytearray(data)
    damaged[at] ^= 0xFF
    open(path, "wb").write(bytes(damaged))
    run = _read_one(path)
    (problem,) = run.problems
    assert "damaged record" in problem.message and problem.partial
    assert at - 32768 < problem.offset <= at
    points = len(run.get("train_loss"))
    assert points < N_BAD  # the damaged block is lost ...
    open(path, "wb").write(data[:problem.offset])
    assert points > len(_read_one(path).get("train_loss"))  # ... but the records after it are kept
    assert run.get("train_loss").steps[-1] == N_BAD - 1


def test_not_a_wandb_file(tmp_path):
    path = tmp_path / "run-abc.wandb"
    path.write_bytes(b"PK\x03\x04 something else entirely")
    runs, problems = read_runs(tmp_path)
    assert runs == [] and len(problems) == 1
    assert "not a W&B transaction log" in problems[0].message


def test_without_the_extra_one_clear_line(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "wandb" / "offline-run-20260101_000000-abc"
    run_dir.mkdir(parents=True)
    (run_dir / "run-abc.wandb").write_bytes(b":W&B\xe1\xbe\x00")
    for module in ("wandb", "wandb.proto", "wandb.proto.wandb_internal_pb2"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as when wandb is not installed
    runs, problems = read_runs(tmp_path)
    assert runs == [] and len(problems) == 1
    assert "install lrdoctor[wandb] to read W&B runs" in problems[0].message
    assert main(["diagnose", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "install lrdoctor[wandb] to read W&B runs" in err and "Traceback" not in err


def test_a_wandb_file_given_alone(wandb_logdir, tmp_path):
    source = _wandb_file(wandb_logdir, "good")
    target = tmp_path / os.path.basename(source)
    shutil.copy(source, target)
    run = _read_one(str(target))
    assert run.name == target.name and len(run.get("train_loss")) == N_GOOD
    assert glob.glob(str(wandb_logdir / "wandb" / "debug*.log"))  # the chatter discovery skips is there


def test_random_damage_never_crashes(wandb_logdir, tmp_path):
    """Seeded flips and cuts anywhere: every read ends in points kept and problems named, never a crash."""
    path, data = _copy(wandb_logdir, tmp_path, "bad")
    rng = np.random.default_rng(7)
    for _ in range(40):
        mutated = bytearray(data[:int(rng.integers(1, len(data) + 1))] if rng.random() < 0.3 else data)
        for at in rng.integers(0, len(mutated), size=int(rng.integers(1, 4))):
            mutated[at] ^= int(rng.integers(1, 256))
        open(path, "wb").write(bytes(mutated))
        runs, problems = read_runs(path)
        messages = [p.message for p in problems] + [p.message for r in runs for p in r.problems]
        assert not any("internal error" in m for m in messages), messages
        assert all(len(s) <= N_BAD for r in runs for s in r.series.values())


def test_run_directory_without_its_wandb_file(tmp_path):
    """A W&B run directory whose .wandb is gone (git-ignored): its console copy files/output.log is
    still a run; W&B's own logs/ are not read as runs."""
    run_dir = tmp_path / "wandb" / "run-20250101_000000-abc123"
    (run_dir / "files").mkdir(parents=True)
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "debug-internal.log").write_text(
        '{"time":"2025-01-01T00:00:00Z","level":"INFO","msg":"stream: starting","core version":"0.19.8"}\n'
        '{"time":"2025-01-01T00:00:01Z","level":"INFO","msg":"created new stream","id":"abc123"}\n')
    (run_dir / "files" / "output.log").write_text(
        "".join(f"Epoch {e}/5 - loss: {2.0 / e:.4f} - val_loss: {2.2 / e:.4f}\n" for e in range(1, 6)))
    runs, problems = read_runs(tmp_path)
    assert problems == []
    assert [r.name for r in runs] == ["wandb/run-20250101_000000-abc123/files/output.log"]
    assert len(runs[0].get("train_loss")) == 5
