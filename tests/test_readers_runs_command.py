"""`lrdoctor runs LOGDIR [--format json]`: what was read, through the CLI helper."""
from __future__ import annotations

import json

from lrdoctor.model import Problem, Restart, Run, Series
from lrdoctor.reporters import runs_report


def make_logdir(root):
    (root / "a").mkdir()
    (root / "a" / "training.log").write_text("epoch,learning_rate,loss,val_loss\n0,0.1,2.0,2.1\n1,0.1,1.5,nan\n")
    (root / "b").mkdir()
    (root / "b" / "metrics.csv").write_text("\n")


def test_runs_text_lists_format_tags_roles_points_steps_and_problems(tmp_path, run_cli):
    make_logdir(tmp_path)
    out, err = run_cli(["runs", tmp_path])
    assert "a/training.log  [keras_csv]  3 tag(s), 6 point(s), steps 0..1" in out
    assert "train_loss  loss" in out and "lr          learning_rate" in out
    assert "problem: " in out and "b/metrics.csv" in out and "1-byte file" in out
    assert out.rstrip().endswith("2 run(s), 6 point(s); 1 run(s) with reading problems, 0 problem(s) outside runs")
    assert err == ""


def test_runs_json_is_parseable_and_nan_free(tmp_path, run_cli):
    make_logdir(tmp_path)
    out, _ = run_cli(["runs", tmp_path, "--format", "json"])
    data = json.loads(out)
    assert data["version"] == 1 and data["summary"]["runs"] == 2
    a = data["runs"][0]
    assert a["name"] == "a/training.log" and a["roles"]["val_loss"] == "val_loss"
    assert {t["tag"]: t["points"] for t in a["tags"]} == {"learning_rate": 2, "loss": 2, "val_loss": 2}
    assert data["runs"][1]["problems"][0]["path"].endswith("metrics.csv")


def test_runs_tag_override_shows_in_the_listing(tmp_path, run_cli):
    make_logdir(tmp_path)
    out, _ = run_cli(["runs", tmp_path / "a", "--tag", "val_loss=loss", "--format", "json"])
    assert json.loads(out)["runs"][0]["roles"]["val_loss"] == "loss"


def test_runs_exit_2_when_nothing_found_or_nothing_readable(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    _, err = run_cli(["runs", tmp_path / "empty"], exit_code=2)
    assert "no runs found" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.csv").write_bytes(b"")
    out, _ = run_cli(["runs", tmp_path / "bad"], exit_code=2)
    assert "empty file (0 bytes)" in out


def test_render_shows_restarts_notes_role_notes_and_outside_problems():
    run = Run("r", "/x/r", "tensorboard", series={"loss": Series.from_lists([0, 1], [1.0, 0.5])},
              roles={"train_loss": "loss"}, role_notes={"train_loss": "train_loss: chose loss over x"},
              restarts=[Restart("loss", 9, 0, 1)], notes=["every step is 0 in 1 tag(s)"])
    text = runs_report.render([run], [Problem("/x/locked", "cannot list directory: Permission denied")])
    assert "restart: loss went back from step 9 to 0; 1 point(s) replaced" in text
    assert "why: train_loss: chose loss over x" in text and "note: every step is 0" in text
    assert "problem: /x/locked: cannot list directory: Permission denied" in text
