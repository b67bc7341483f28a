"""TensorBoard run directories written at test time by real writers: tensorboardX's SummaryWriter
(simple_value) and tensorboard's TF-free ``tensorboard.summary.Writer`` (TF2 rank-0 tensors)."""
from __future__ import annotations

import math
import os

import pytest

from lrdoctor.readers import read_runs

tensorboardX = pytest.importorskip("tensorboardX")
from tensorboard.summary import Writer  # noqa: E402  (after the skip)


def tbx_write(logdir, scalars, suffix=""):
    """scalars: tag -> list of (step, value, wall_time)."""
    writer = tensorboardX.SummaryWriter(str(logdir), filename_suffix=suffix)
    for tag, points in scalars.items():
        for step, value, wall in points:
            writer.add_scalar(tag, value, global_step=step, walltime=wall)
    writer.close()


def tf2_write(logdir, scalars):
    writer = Writer(str(logdir))
    for tag, points in scalars.items():
        for step, value in points:
            writer.add_scalar(tag, value, step)
    writer.close()


def only_run(path):
    runs, problems = read_runs(path)
    assert problems == [] and len(runs) == 1, [r.name for r in runs]
    return runs[0]


def test_tensorboardx_run_with_roles_and_every_point(tmp_path):
    n = 12000  # more than EventAccumulator's default 10,000: nothing may be dropped
    tbx_write(tmp_path / "runs" / "a", {
        "loss": [(s, 1.0 / (s + 1), 1000.0 + s) for s in range(n)],
        "learning_rate": [(s, 0.01, 1000.0 + s) for s in range(0, n, 100)],
        "val_loss": [(s, 2.0 / (s + 1), 1000.0 + s) for s in range(0, n, 1000)],
    })
    run = only_run(tmp_path)
    assert run.name == "runs/a" and run.format == "tensorboard"
    assert len(run.series["loss"]) == n
    assert run.roles == {"train_loss": "loss", "lr": "learning_rate", "val_loss": "val_loss"}
    assert run.series["loss"].wall_times is None  # an event file's clock serves only the reading (model.Series)


def test_keras_layout_is_one_run_keyed_by_subdirectory(tmp_path):
    run_dir = tmp_path / "logs" / "fit" / "20220213-124139"
    tf2_write(run_dir / "train", {"epoch_loss": [(e, 1.0 / (e + 1)) for e in range(5)],
                                  "epoch_learning_rate": [(e, 0.01) for e in range(5)]})
    tf2_write(run_dir / "validation", {"epoch_loss": [(e, 1.5 / (e + 1)) for e in range(5)],
                                       "evaluation_loss_vs_iterations": [(10 * e, 1.5 / (e + 1)) for e in range(5)]})
    run = only_run(tmp_path)
    assert run.name == "logs/fit/20220213-124139" and run.format == "keras_tensorboard"
    assert set(run.series) == {"train/epoch_loss", "train/epoch_learning_rate",
                               "validation/epoch_loss", "validation/evaluation_loss_vs_iterations"}
    assert run.roles["train_loss"] == "train/epoch_loss"
    # same number of points: the val curve on the train loss's (epoch) axis wins, and that is said
    assert run.roles["val_loss"] == "validation/epoch_loss"
    assert "evaluation_loss_vs_iterations" in run.role_notes["val_loss"]
    assert run.roles["lr"] == "train/epoch_learning_rate"
    assert run.series["validation/epoch_loss"].values[1] == pytest.approx(0.75)


def test_tf1_estimator_eval_subdirectory_joins_its_parent(tmp_path):
    tbx_write(tmp_path / "model", {"loss": [(s, 1.0, 100.0 + s) for s in range(0, 100, 10)]})
    tbx_write(tmp_path / "model" / "eval", {"loss": [(50, 0.9, 200.0), (99, 0.8, 300.0)]})
    run = only_run(tmp_path)
    assert run.name == "model"
    assert run.roles == {"train_loss": "loss", "val_loss": "eval/loss"}


def test_files_merge_in_name_then_wall_time_order_and_restarts_are_recorded(tmp_path):
    d = tmp_path / "run"
    tbx_write(d, {"train/loss": [(s, 1.0, 1000.0 + s) for s in range(0, 40, 10)]}, suffix=".a")
    tbx_write(d, {"train/loss": [(s, 0.5, 2000.0 + s) for s in range(20, 60, 10)]}, suffix=".b")
    names = sorted(os.listdir(d))
    assert len(names) == 2
    run = only_run(tmp_path)
    loss = run.series["train/loss"]
    assert list(loss.steps) == [0, 10, 20, 30, 40, 50]
    assert list(loss.values) == [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]  # the resumed job's values win
    (restart,) = run.restarts
    assert (restart.tag, restart.from_step, restart.to_step, restart.n_overwritten) == ("train/loss", 30, 20, 2)


def test_all_zero_steps_ordered_by_wall_time_with_a_note(tmp_path):
    tbx_write(tmp_path, {"loss": [(0, 3.0, 30.0), (0, 1.0, 10.0), (0, 2.0, 20.0)]})
    run = only_run(tmp_path)
    assert run.name == "."
    assert list(run.series["loss"].values) == [1.0, 2.0, 3.0]
    assert list(run.series["loss"].steps) == [0, 1, 2]
    assert any("every step is 0" in n for n in run.notes)


def test_truncated_event_file_keeps_what_came_before_and_names_the_file(tmp_path):
    tbx_write(tmp_path / "ok", {"loss": [(s, 1.0, 1.0 + s) for s in range(50)]})
    tbx_write(tmp_path / "cut", {"loss": [(s, 1.0, 1.0 + s) for s in range(50)]})
    (cut,) = list((tmp_path / "cut").iterdir())
    cut.write_bytes(cut.read_bytes()[:-7])
    runs, problems = read_runs(tmp_path)
    assert problems == []
    by_name = {r.name: r for r in runs}
    assert len(by_name["ok"].series["loss"]) == 50 and not by_name["ok"].problems
    damaged = by_name["cut"]
    assert 0 < len(damaged.series["loss"]) < 50
    assert damaged.problems and damaged.problems[0].partial and cut.name in damaged.problems[0].describe()


def test_event_file_given_directly_and_garbage_with_an_event_name(tmp_path):
    tbx_write(tmp_path, {"loss": [(1, 0.5, 1.0)]})
    (event_file,) = list(tmp_path.iterdir())
    run = only_run(event_file)
    assert run.name == event_file.name and len(run.series["loss"]) == 1
    garbage = tmp_path / "g" / "events.out.tfevents.123.host"
    garbage.parent.mkdir()
    garbage.write_bytes(b"\x07" * 100)
    runs, _ = read_runs(tmp_path / "g")
    (bad,) = runs
    assert not bad.series and bad.problems and "events.out.tfevents.123.host" in bad.problems[0].describe()


def test_nan_and_inf_values_survive(tmp_path):
    tf2_write(tmp_path, {"epoch_loss": [(0, 1.0), (1, float("nan")), (2, float("inf"))]})
    run = only_run(tmp_path)
    values = run.series["epoch_loss"].values
    assert values[0] == 1.0 and math.isnan(values[1]) and math.isinf(values[2])


def test_event_files_without_scalars_give_a_run_with_a_note(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "events.out.tfevents.1.host").write_bytes(b"")
    writer = tensorboardX.SummaryWriter(str(tmp_path / "hist"))
    writer.add_histogram("w", [1.0, 2.0, 3.0], 0)
    writer.add_text("notes", "hello", 0)
    writer.close()
    runs, problems = read_runs(tmp_path)
    assert problems == [] and [r.name for r in runs] == ["empty", "hist"]
    for run in runs:
        assert not run.series and not run.problems and "no scalar data" in run.notes[0]


def test_epochs_come_from_an_epoch_tag_or_keras_epoch_steps(tmp_path):
    tbx_write(tmp_path / "lightning", {
        "train_loss": [(s, 1.0, 1.0 + s) for s in range(0, 40, 5)],
        "epoch": [(s, s // 10, 1.0 + s) for s in range(0, 40, 5)],
        "val_loss": [(9, 0.5, 50.0), (19, 0.4, 60.0)],
    })
    tf2_write(tmp_path / "keras" / "train", {"epoch_loss": [(e, 1.0) for e in range(3)],
                                             "batch_loss": [(b, 1.0) for b in range(1, 30, 5)]})
    runs, _ = read_runs(tmp_path)
    keras, lightning = runs
    assert list(lightning.series["val_loss"].epochs) == [0.0, 1.0]
    assert list(lightning.series["train_loss"].epochs) == [s // 10 for s in range(0, 40, 5)]
    assert list(keras.series["train/epoch_loss"].epochs) == [0.0, 1.0, 2.0]
    assert keras.series["train/batch_loss"].epochs is None
