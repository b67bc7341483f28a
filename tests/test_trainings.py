"""Separate trainings written into one place are split; a resume is not (readers/trainings.py).

The cases are reductions of real logs in ../shared/real_logs (named per test); the event files are
written at test time by tensorboardX, as the originals were by their writers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lrdoctor.readers import read_runs
from lrdoctor.readers.trainings import Segmenter, csv_training_starts

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"


def names(runs):
    return [r.name for r in runs]


# --- CSV ---------------------------------------------------------------------------------------

def test_keras_csvlogger_append_of_three_one_epoch_fits(tmp_path):
    """rkn2/cnnBricks model_history_log.csv, verbatim: three fit() calls of one epoch each appended
    to one CSVLogger file.  Merged, the first two were silently replaced by the third."""
    (tmp_path / "model_history_log.csv").write_text(
        "epoch,accuracy,loss\n0,0.79875517,33.82988540784947\n0,0.46887967,314.4385927562521\n"
        "0,0.6991701,14.852638951723012\n")
    runs, problems = read_runs(tmp_path)
    assert problems == []
    assert names(runs) == ["model_history_log.csv", "model_history_log.csv#2", "model_history_log.csv#3"]
    assert [r.series["loss"].values.tolist() for r in runs] == [[33.82988540784947], [314.4385927562521],
                                                                [14.852638951723012]]
    (problem,) = runs[0].problems
    assert "3 separate trainings" in problem.message and "model_history_log.csv#3" in problem.message
    assert "training 2 of 3" in runs[1].notes[-1] and not runs[1].problems
    assert all(not r.restarts for r in runs)


def test_keras_csvlogger_append_epochs_0_1_then_0_1_2(tmp_path):
    (tmp_path / "training.log").write_text(
        "epoch,loss,val_loss\n0,2.30,2.10\n1,1.90,1.80\n0,2.31,2.12\n1,1.70,1.60\n2,1.40,1.45\n")
    runs, _ = read_runs(tmp_path)
    assert names(runs) == ["training.log", "training.log#2"]
    assert runs[0].series["loss"].steps.tolist() == [0, 1]
    assert runs[1].series["val_loss"].values.tolist() == pytest.approx([2.12, 1.60, 1.45])
    assert runs[0].roles["train_loss"] == "loss" and runs[1].roles["val_loss"] == "val_loss"


def test_a_resume_from_a_checkpoint_is_one_run_with_a_restart(tmp_path):
    """Crashed after epoch 5, resumed from the epoch-3 checkpoint (initial_epoch=3): one training."""
    (tmp_path / "training.log").write_text(
        "epoch,loss\n0,2.3\n1,1.9\n2,1.6\n3,1.4\n4,1.3\n5,1.25\n3,1.41\n4,1.29\n5,1.22\n6,1.18\n")
    (run,) = read_runs(tmp_path)[0]
    assert run.series["loss"].steps.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert run.series["loss"].values[3] == pytest.approx(1.41)  # the later value of a step logged twice wins
    assert [(r.from_step, r.to_step) for r in run.restarts] == [(5, 3)]


def test_lightning_rows_sharing_a_step_are_not_a_restart():
    """Lightning writes a train row and a validation row (other columns) at one step."""
    index = np.array([49, 49, 99, 99, 149, 149])
    present = np.array([[1, 0], [0, 1]] * 3, dtype=bool)
    assert csv_training_starts(index, present) == []


def test_csv_starts_from_its_first_logging_interval():
    """Logged every 50 steps from 50: a block starting again at 50 began at 0; one at 300 is a resume."""
    col = np.ones((1, 1), dtype=bool)
    fresh = np.array([50, 100, 150, 200, 50, 100])
    resumed = np.array([50, 100, 150, 200, 150, 200, 250])
    assert [row for row, _ in csv_training_starts(fresh, np.repeat(col, 6, 0))] == [4]
    assert csv_training_starts(resumed, np.repeat(col, 7, 0)) == []


# --- Segmenter (one unit of writing at a time) --------------------------------------------------

def test_segmenter_lightning_resume_rewrites_hp_metric_at_step_0():
    """A resumed Lightning job writes hp_metric at step 0 in its new event file: not a new training."""
    seg = Segmenter()
    assert seg.add({"hp_metric": np.array([0]), "train_loss": np.arange(29, 750, 30)}) is None
    assert seg.add({"hp_metric": np.array([0]), "train_loss": np.arange(629, 900, 30)}) is None


def test_segmenter_an_evaluation_after_training_continues_it():
    """HF: trainer.evaluate() after train() writes eval/loss at the last step in a new event file."""
    seg = Segmenter()
    assert seg.add({"eval/loss": np.array([3125, 6250, 9375]), "train/loss": np.arange(10, 9371, 10)}) is None
    assert seg.add({"eval/loss": np.array([9375])}) is None
    assert "starts again at step 0" in seg.add({"eval/loss": np.array([0])})


def test_segmenter_a_resume_with_another_lr_schedule_is_another_training():
    """Went back to step 600 (a checkpoint), but the LR logged at steps 600-700 differs: another setup."""
    seg = Segmenter()
    steps = np.arange(10, 751, 10)
    assert seg.add({"loss": steps, "lr": steps}, {"loss": 1.0 / steps, "lr": 1e-3 * (1 - steps / 1000)}) is None
    again = np.arange(610, 1001, 10)
    same = seg.add({"loss": again, "lr": again}, {"loss": 1.0 / again, "lr": 1e-3 * (1 - again / 1000)})
    assert same is None
    other = seg.add({"loss": again, "lr": again}, {"loss": 1.0 / again, "lr": 3e-3 * (1 - again / 1000)})
    assert other.startswith("lr at step 610 is 0.00117")


# --- TensorBoard --------------------------------------------------------------------------------

tensorboardX = pytest.importorskip("tensorboardX")


def tbx_write(logdir, scalars, wall0):
    """scalars: tag -> list of (step, value).  The suffix stands for the PID: files created in the
    same second would otherwise share a name."""
    writer = tensorboardX.SummaryWriter(str(logdir), filename_suffix=f".{wall0}")
    for tag, points in scalars.items():
        for i, (step, value) in enumerate(points):
            writer.add_scalar(tag, value, global_step=step, walltime=wall0 + i)
    writer.close()


def lightning_trial(lr, loss0, loss_end, epochs):
    """A pytorch-forecasting/Lightning trial as in AgentRichi/crypto-forecasting optuna/version_0:
    hp_metric and lr-Ranger at step 0, epoch-level losses every 30 steps from step 29."""
    steps = [29 + 30 * e for e in range(epochs)]
    loss = np.geomspace(loss0, loss_end, epochs)
    return {"hp_metric": [(0, -1.0)], "lr-Ranger": [(s - 29, lr) for s in steps],
            "train_loss_epoch": list(zip(steps, loss)), "val_loss": list(zip(steps, 2 * loss))}


def test_two_optuna_trials_in_one_lightning_version_dir(tmp_path):
    run_dir = tmp_path / "optuna" / "version_0"
    tbx_write(run_dir, lightning_trial(3.4e-3, 470.0, 245.0, 25), wall0=1636197840)
    tbx_write(run_dir, lightning_trial(5.5e-3, 500.0, 44.0, 21), wall0=1636209944)
    (run_dir / "hparams.yaml").write_text("learning_rate: 0.0055\n")
    runs, problems = read_runs(tmp_path)
    assert problems == [] and names(runs) == ["optuna/version_0", "optuna/version_0#2"]
    first, second = runs
    assert first.series["lr-Ranger"].values[0] == pytest.approx(3.4e-3)
    assert second.series["train_loss_epoch"].values[-1] == pytest.approx(44.0, rel=1e-5)
    assert not first.restarts and not second.restarts
    assert first.hparams == {} and second.hparams == {"learning_rate": 0.0055}  # the last trial wrote it
    assert "2 separate trainings" in first.problems[0].message


def test_hf_trainers_in_one_notebook_share_a_logging_dir(tmp_path):
    """RTiberiu/CM4107 electra-imdb ``logs``: a 9375-step training, its evaluate(), an aborted rerun
    logging every 100 steps, a full rerun logging every 500 (first point at 500)."""
    logs = tmp_path / "logs"
    tbx_write(logs, {"train/loss": [(s, 0.7 - s * 5e-5) for s in range(10, 9371, 10)],
                     "eval/loss": [(3125, 0.263), (6250, 0.268), (9375, 0.299)]}, wall0=1733250531)
    tbx_write(logs, {"eval/loss": [(9375, 0.299)]}, wall0=1733252228)
    tbx_write(logs, {"train/loss": [(s, 0.64 - s * 1e-4) for s in range(100, 701, 100)]}, wall0=1733264295)
    tbx_write(logs, {"train/loss": [(s, 0.38 - s * 5e-5) for s in range(500, 3001, 500)],
                     "eval/loss": [(782, 0.221), (1564, 0.203), (2346, 0.216), (3128, 0.222)]}, wall0=1733264607)
    runs, _ = read_runs(tmp_path)
    assert names(runs) == ["logs", "logs#2", "logs#3"]
    assert runs[0].series["eval/loss"].steps.tolist() == [3125, 6250, 9375]
    assert runs[1].series["train/loss"].steps.tolist() == list(range(100, 701, 100))
    assert runs[2].series["eval/loss"].values.tolist() == pytest.approx([0.221, 0.203, 0.216, 0.222])


def test_keras_fit_twice_pairs_each_train_file_with_its_validation_file(tmp_path):
    """huangyuan3h/StockData logs/fit/<time>: two fit() calls, each a train/ and a validation/ file."""
    run_dir = tmp_path / "fit" / "20220213-124139"
    for k, wall in enumerate((1644728510, 1644730326)):
        tbx_write(run_dir / "train", {"epoch_loss": [(e, 6.8 - k * 2 - 0.02 * e) for e in range(20)]}, wall0=wall)
        tbx_write(run_dir / "validation", {"epoch_loss": [(e, 7.0 - k * 2 - 0.02 * e) for e in range(20)]},
                  wall0=wall + 60)
    runs, _ = read_runs(tmp_path)
    assert names(runs) == ["fit/20220213-124139", "fit/20220213-124139#2"]
    for k, run in enumerate(runs):
        assert run.format == "keras_tensorboard"
        assert run.series["train/epoch_loss"].values[0] == pytest.approx(6.8 - 2 * k)
        assert run.series["validation/epoch_loss"].values[0] == pytest.approx(7.0 - 2 * k)


def test_a_resumed_job_in_a_new_event_file_stays_one_run(tmp_path):
    tbx_write(tmp_path / "run", {"loss": [(s, 1.0 / s) for s in range(10, 751, 10)]}, wall0=1000)
    tbx_write(tmp_path / "run", {"loss": [(s, 1.0 / s) for s in range(610, 1001, 10)]}, wall0=5000)
    (run,) = read_runs(tmp_path)[0]
    assert run.name == "run" and len(run.series["loss"]) == 100 and len(run.restarts) == 1


def test_one_summary_writer_reused_for_two_trainings_is_cut_by_wall_time(tmp_path):
    """A notebook keeps one SummaryWriter and trains twice (ZeroToMax/study_tensorboard's two scripts,
    written by one writer): the cut is where the steps start again; the validation curve, logged
    every 10 steps, starts again later but belongs to the same cut."""
    writer = tensorboardX.SummaryWriter(str(tmp_path / "runs" / "exp"))
    wall = 1771594466.0
    for training, (loss0, lr) in enumerate([(4.9, 0.1), (4.8, 0.01)]):
        for step in range(100):
            wall += 1.0
            writer.add_scalar("Metrics/Loss", loss0 * 0.97 ** step, global_step=step, walltime=wall)
            writer.add_scalar("lr", lr, global_step=step, walltime=wall + 0.001)
            if step % 10 == 9:
                writer.add_scalar("val_loss", loss0 * 0.98 ** step, global_step=step, walltime=wall + 0.5)
        wall += 600
    writer.close()
    runs, _ = read_runs(tmp_path)
    assert names(runs) == ["runs/exp", "runs/exp#2"]
    for run, lr in zip(runs, (0.1, 0.01)):
        assert run.series["Metrics/Loss"].steps.tolist() == list(range(100)) and not run.restarts
        assert run.series["val_loss"].steps.tolist() == list(range(9, 100, 10))
        assert run.series["lr"].values == pytest.approx(np.full(100, lr))


# --- the real logs the cases above were reduced from -----------------------------------------

needs_corpus = pytest.mark.skipif(not (CORPUS / "MANIFEST.csv").exists(), reason="../shared/real_logs is absent")


@needs_corpus
@pytest.mark.parametrize("relpath, parts", [
    ("tensorboard/AgentRichi__crypto-forecasting__tft-optuna/optuna/version_0", 2),
    ("tensorboard/RTiberiu__CM4107-Advanced-Artificial-Intelligence-CW__electra-imdb/logs", 4),
    ("tensorboard/ZeroToMax-ZYZ__study_tensorboard__study-tb/runs/my_first_experiment", 2),
    ("tensorboard/huangyuan3h__StockData__stock-lstm/logs/fit/20220213-124139", 2),
    ("keras_csv/rkn2__cnnBricks__cnnbricks", 3),
    ("tensorboard/AgentRichi__crypto-forecasting__tft-optuna/optuna/version_1", 1),
    ("lightning_csv/AIRI-Institute__genrisk__genrisk", 3),
])
def test_real_glued_logs(relpath, parts):
    runs, _ = read_runs(CORPUS / relpath)
    assert len(runs) == parts, names(runs)
    assert all(not r.restarts for r in runs)


def test_a_per_batch_log_with_an_epoch_column_is_one_training_of_every_row(tmp_path):
    """Found in review: 300 per-batch rows, 50 per epoch, under an ``epoch`` column were split into 99
    'trainings' (a repeated epoch read as a new fit).  A repeated index on most rows is several rows
    of one epoch: one run, every row kept (numbered by row), the epochs kept beside the steps."""
    rows = [(e, 2.1 * 0.99 ** (50 * e + b)) for e in range(6) for b in range(50)]
    (tmp_path / "e1.csv").write_text("epoch,loss\n" + "".join(f"{e},{v:.4f}\n" for e, v in rows))
    runs, _ = read_runs(tmp_path)
    assert [r.name for r in runs] == ["e1.csv"]
    loss = runs[0].series["loss"]
    assert len(loss) == 300 and loss.epochs[-1] == 5
    assert any("several rows per epoch" in note for note in runs[0].notes)
