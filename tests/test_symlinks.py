"""Symlinked directories: followed (a folder of links to runs), each real directory read once, loops cut."""
from __future__ import annotations

import json
import math
import os

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.readers import read_runs

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX symlinks")


def _write_run(directory, decay: float) -> None:
    directory.mkdir(parents=True)
    lines = ["step,train_loss"] + [f"{i},{2 * math.exp(-i / decay) + 0.1}" for i in range(120)]
    (directory / "metrics.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def tree(tmp_path):
    """real/{a,b}: two runs; compare/: links to them, a second link to a, and a link back up."""
    _write_run(tmp_path / "real" / "a", 20.0)
    _write_run(tmp_path / "real" / "b", 45.0)
    compare = tmp_path / "compare"
    compare.mkdir()
    os.symlink(tmp_path / "real" / "a", compare / "run_a")
    os.symlink(tmp_path / "real" / "b", compare / "run_b")
    os.symlink(tmp_path / "real" / "a", compare / "run_a_again")
    return tmp_path


def test_a_folder_of_links_to_runs_is_read_through_the_links(tree):
    runs, problems = read_runs(tree / "compare")
    assert [r.name for r in runs] == ["run_a/metrics.csv", "run_b/metrics.csv"]
    assert problems == []
    assert all(len(r.series["train_loss"]) == 120 for r in runs)
    assert any(n.startswith("read through the symlink run_b -> ") and n.endswith(os.path.join("real", "b"))
               for n in runs[1].notes)


def test_each_real_directory_is_read_once_and_the_other_path_is_named(tree):
    runs, _ = read_runs(tree / "compare")
    assert len(runs) == 2  # run_a_again is the same directory as run_a
    assert "also reached as run_a_again: the same directory, read once (as run_a)" in runs[0].notes
    # From the parent, the real directories come after compare/ in walking order: read once all the same.
    runs, _ = read_runs(tree)
    assert [r.name for r in runs] == ["compare/run_a/metrics.csv", "compare/run_b/metrics.csv"]
    assert "also reached as real/a: the same directory, read once (as compare/run_a)" in runs[0].notes


def test_a_link_back_up_ends_and_is_reported(tree):
    os.symlink("..", tree / "compare" / "up")           # to the logdir's parent
    os.symlink(".", tree / "real" / "a" / "self")       # to itself
    runs, problems = read_runs(tree / "compare")
    assert [r.name for r in runs] == ["run_a/metrics.csv", "run_b/metrics.csv"]
    texts = [p.describe() for p in problems] + [n for r in runs for n in r.notes]
    assert any("the symlink up leads back to .." in t and "not followed" in t for t in texts)
    assert any("the symlink run_a/self leads back to run_a" in t for t in texts)


def test_a_broken_link_named_like_a_log_is_reported(tmp_path):
    _write_run(tmp_path / "ok", 30.0)
    os.symlink(tmp_path / "missing.csv", tmp_path / "gone.csv")
    runs, problems = read_runs(tmp_path)
    ok = [r for r in runs if r.name == "ok/metrics.csv"]
    assert len(ok) == 1 and len(ok[0].series["train_loss"]) == 120
    said = [p for p in problems + [q for r in runs for q in r.problems] if p.path.endswith("gone.csv")]
    assert said and all("cannot read" in p.message for p in said)


def test_diagnose_and_runs_commands_follow_links(tree):
    result = CliRunner().invoke(cli, ["diagnose", str(tree / "compare"), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    names = [r["run"] for r in json.loads(result.stdout)["runs"]]
    assert sorted(names) == ["run_a/metrics.csv", "run_b/metrics.csv"]
    listed = CliRunner().invoke(cli, ["runs", str(tree / "compare")])
    assert "note: read through the symlink run_a -> " in listed.output


def test_diagnose_says_what_a_loop_link_left_out(tree):
    """The streamed diagnosis (pipeline.py) reports a link back up like `lrdoctor runs` does."""
    os.symlink("..", tree / "compare" / "up")
    result = CliRunner().invoke(cli, ["diagnose", str(tree / "compare"), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(r["run"] for r in report["runs"]) == ["run_a/metrics.csv", "run_b/metrics.csv"]
    assert any("the symlink up leads back to .." in p["message"] for p in report["problems"])
