"""Bad input end to end through ``lrdoctor diagnose``: one line per problem on stderr naming the
file, the good run diagnosed, no traceback, and the exit codes of docs/configuration.md."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "healthy_tbx"


def _event_file() -> Path:
    return next(SAMPLE.glob("events.out.tfevents.*"))


def bad_files(root: Path) -> dict[str, Path]:
    """Each kind of bad input in its own directory; returns {kind: path named in the message}."""
    data = _event_file().read_bytes()
    paths = {
        "truncated": root / "trunc" / "events.out.tfevents.1700000000.host",
        "zero-byte": root / "zero" / "metrics.csv",
        "one-byte": root / "one" / "metrics.csv",
        "garbage": root / "garbage" / "events.out.tfevents.1700000001.host",
        "non-numeric": root / "cells" / "metrics.csv",
    }
    contents = {
        "truncated": data[: len(data) // 2],
        "zero-byte": b"",
        "one-byte": b"x",
        "garbage": bytes(range(256)) * 3,
        "non-numeric": b"step,train_loss\n0,2.0\n1,oops\n2,1.0\n3,n/a\n4,0.5\n",
    }
    for kind, path in paths.items():
        path.parent.mkdir(parents=True)
        path.write_bytes(contents[kind])
    return paths


@pytest.fixture
def locked_dir(monkeypatch):
    """chmod 000 does not stop root: refuse to list the directory the way the OS would."""
    real_scandir, locked = os.scandir, []

    def scandir(path="."):
        if locked and os.fspath(path) == os.fspath(locked[0]):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)

    def lock(path: Path) -> Path:
        path.mkdir()
        (path / "training.log").write_text("epoch,loss\n0,1.0\n1,0.5\n")
        locked.append(path)
        return path

    return lock


def test_every_bad_file_is_one_stderr_line_and_the_good_run_is_diagnosed(tmp_path, run_cli, locked_dir):
    shutil.copytree(SAMPLE, tmp_path / "good")
    expected = {**bad_files(tmp_path), "unreadable dir": locked_dir(tmp_path / "locked")}
    out, err = run_cli(["diagnose", tmp_path, "--format", "json", "--fail-on", "never", "--no-progress"], 0)
    assert "Traceback" not in err and "internal error" not in err
    lines = err.splitlines()
    for kind, path in expected.items():
        naming = [line for line in lines if str(path) in line]
        assert len(naming) == 1, (kind, lines)
        assert naming[0].startswith("lrdoctor: warning: "), naming
    assert len(lines) == len(expected)
    doc = json.loads(out)
    runs = {r["run"]: r for r in doc["runs"]}
    assert set(runs) == {"good", "trunc", "cells/metrics.csv"}  # the partly readable ones too
    assert runs["good"]["problems"] == [] and runs["good"]["roles"]["train_loss"]
    assert runs["trunc"]["problems"][0]["partial"] and runs["cells/metrics.csv"]["problems"][0]["line"] == 3
    unreadable = {Path(p["path"]) for p in doc["problems"]}
    assert unreadable == {expected["zero-byte"], expected["one-byte"], expected["garbage"], expected["unreadable dir"]}


@pytest.mark.parametrize("fail_on", ["error", "warning", "info"])
def test_the_findings_alone_decide_the_exit_code_next_to_bad_files(tmp_path, capsys, fail_on):
    from lrdoctor.cli import main

    shutil.copytree(SAMPLE, tmp_path / "good")
    bad_files(tmp_path)
    code = main(["diagnose", str(tmp_path), "--format", "json", "--fail-on", fail_on])
    summary = json.loads(capsys.readouterr().out)["summary"]
    levels = {"error": ["errors"], "warning": ["errors", "warnings"], "info": ["errors", "warnings", "infos"]}
    assert code == (1 if any(summary[k] for k in levels[fail_on]) else 0)


def test_nothing_readable_exits_2_with_the_problems_reported(tmp_path, run_cli):
    paths = bad_files(tmp_path)
    for kind in ("truncated", "non-numeric"):
        shutil.rmtree(paths[kind].parent)
    out, err = run_cli(["diagnose", tmp_path, "--format", "json"], 2)
    assert json.loads(out)["runs"] == [] and len(json.loads(out)["problems"]) == 3
    assert "no runs found under" in err and "Traceback" not in err


def test_progress_flag_shows_the_reading_bar_on_stderr_only(tmp_path, run_cli):
    shutil.copytree(SAMPLE, tmp_path / "good")
    out, err = run_cli(["diagnose", tmp_path, "--format", "json", "--progress", "--fail-on", "never"], 0)
    assert "reading" in err and json.loads(out)["runs"]
    _, quiet = run_cli(["diagnose", tmp_path, "--format", "json", "--fail-on", "never"], 0)
    assert quiet == ""  # not a terminal: silent by default
