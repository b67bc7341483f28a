"""MLflow file store: metrics/<name> lines 'timestamp value step', params/ as hparams and LR."""
from __future__ import annotations

from lrdoctor.readers import read_runs


def write_mlflow_run(root, metrics, params):
    run_dir = root / "mlruns" / "1" / "ed05f9cd"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "params").mkdir()
    (run_dir / "meta.yaml").write_text("run_id: ed05f9cd\nstatus: 3\n")
    (root / "mlruns" / "1" / "meta.yaml").write_text("name: exp\n")
    for name, points in metrics.items():
        path = run_dir / "metrics" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{1628697775000 + 1000 * s} {v} {s}\n" for s, v in points))
    for name, value in params.items():
        (run_dir / "params" / name).write_text(str(value))
    return run_dir


def test_mlflow_metrics_and_lr_from_params(tmp_path):
    write_mlflow_run(tmp_path, {"loss": [(0, 2.0), (1, 1.5), (2, 1.2)], "val/loss": [(0, 2.1), (2, 1.4)]},
                     {"opt_learning_rate": "0.001", "opt_name": "Adam", "epochs": "3"})
    runs, problems = read_runs(tmp_path)
    assert problems == []
    (run,) = runs
    assert run.format == "mlflow" and run.name == "mlruns/1/ed05f9cd"
    assert run.hparams == {"opt_learning_rate": 0.001, "opt_name": "Adam", "epochs": 3}
    assert list(run.series["loss"].steps) == [0, 1, 2]
    assert run.series["loss"].wall_times[0] == 1628697775.0
    assert run.roles["val_loss"] == "val/loss"
    assert run.roles["lr"] == "hparams/opt_learning_rate"
    assert list(run.series["hparams/opt_learning_rate"].values) == [0.001] * 3
    assert "opt_learning_rate" in run.role_notes["lr"]


def test_mlflow_lr_metric_wins_over_the_param(tmp_path):
    write_mlflow_run(tmp_path, {"loss": [(0, 2.0)], "learning_rate": [(0, 0.5)]}, {"opt_learning_rate": "0.001"})
    (run,), _ = read_runs(tmp_path)
    assert run.roles["lr"] == "learning_rate"


def test_mlflow_bad_metric_line_reported(tmp_path):
    run_dir = write_mlflow_run(tmp_path, {"loss": [(0, 2.0), (1, 1.0)]}, {})
    with open(run_dir / "metrics" / "loss", "a") as fh:
        fh.write("garbage\nmore garbage\n")
    (run,), _ = read_runs(tmp_path)
    (problem,) = run.problems
    assert problem.line == 3 and problem.partial and len(run.series["loss"]) == 2
    assert "2 line(s)" in problem.message and "garbage" in problem.message
