"""CSV logs: Lightning, Keras CSVLogger, generic wide, long, TensorBoard export; dialects; bad cells."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lrdoctor.readers import read_runs

RNG = np.random.default_rng(7)


def only_run(path):
    runs, problems = read_runs(path)
    assert problems == []
    assert len(runs) == 1, [r.name for r in runs]
    return runs[0]


def write_lightning_csv(path, n_epochs=3, per_epoch=4, on_step_and_epoch=False):
    """Rows the way Lightning's CSVLogger writes them: one row per logging call, sparse."""
    rows, step = [], 0
    for epoch in range(n_epochs):
        for _ in range(per_epoch):
            rows.append({"lr-SGD": 0.1 * 0.5 ** epoch, "step": step})
            loss = float(2.0 - 0.1 * step + RNG.normal(0, 0.01))
            key = "train_loss_step" if on_step_and_epoch else "train_loss"
            rows.append({key: loss, "epoch": epoch, "step": step})
            step += 1
        rows.append({"val_loss": 2.0 - 0.3 * epoch, "val_acc": 0.3 + 0.1 * epoch, "epoch": epoch, "step": step - 1})
        if on_step_and_epoch:
            rows.append({"train_loss_epoch": 1.9 - 0.3 * epoch, "epoch": epoch, "step": step - 1})
    frame = pd.DataFrame(rows)
    frame = frame[sorted(frame.columns)]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\r\n")
    return frame


def test_lightning_sparse_rows_become_one_series_per_column_with_epochs(tmp_path):
    write_lightning_csv(tmp_path / "lightning_logs" / "version_0" / "metrics.csv")
    (tmp_path / "lightning_logs" / "version_0" / "hparams.yaml").write_text("lr: 0.1\noptimizer:\n  name: sgd\n")
    run = only_run(tmp_path)
    assert run.format == "lightning_csv"
    assert run.name == "lightning_logs/version_0/metrics.csv"
    assert run.roles == {"train_loss": "train_loss", "val_loss": "val_loss", "lr": "lr-SGD", "val_acc": "val_acc"}
    lr = run.series["lr-SGD"]
    assert list(lr.steps) == list(range(12))
    # LR rows have no epoch cell: it is filled from the train rows at the same step
    assert list(lr.epochs) == [0.0] * 4 + [1.0] * 4 + [2.0] * 4
    assert list(run.series["val_loss"].steps) == [3, 7, 11]
    assert run.hparams == {"lr": 0.1, "optimizer/name": "sgd"}
    assert "epoch" not in run.series and "step" not in run.series


def test_lightning_on_step_and_on_epoch_prefers_the_step_curve_and_says_why(tmp_path):
    write_lightning_csv(tmp_path / "metrics.csv", on_step_and_epoch=True)
    run = only_run(tmp_path)
    assert run.roles["train_loss"] == "train_loss_step"
    assert "train_loss_epoch" in run.role_notes["train_loss"]


def test_keras_csvlogger_step_is_epoch(tmp_path):
    frame = pd.DataFrame({"epoch": range(5), "accuracy": np.linspace(0.2, 0.9, 5), "learning_rate": [0.01] * 5,
                          "loss": np.linspace(2, 0.5, 5), "val_accuracy": np.linspace(0.2, 0.8, 5),
                          "val_loss": np.linspace(2.1, 0.7, 5)})
    frame.to_csv(tmp_path / "training.log", index=False)
    run = only_run(tmp_path / "training.log")
    assert run.format == "keras_csv" and run.name == "training.log"
    assert run.roles["lr"] == "learning_rate" and run.roles["train_acc"] == "accuracy"
    assert list(run.series["loss"].steps) == [0, 1, 2, 3, 4]
    assert list(run.series["loss"].epochs) == [0, 1, 2, 3, 4]


def test_keras_append_mode_trainings_are_separate_runs(tmp_path):
    """Each fit() appended to the file starts again at epoch 0: a new training (test_trainings.py)."""
    (tmp_path / "log.csv").write_text("epoch,loss\n0,1.0\n1,0.8\n0,0.9\n0,0.7\n")
    runs, _ = read_runs(tmp_path)
    assert [list(r.series["loss"].values) for r in runs] == [[1.0, 0.8], [0.9], [0.7]]
    assert all(not r.restarts for r in runs)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r\r\n"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_dialects_nan_inf_and_preamble(tmp_path, newline, delimiter):
    lines = ["model_history_log", delimiter.join(["epoch", "loss", "val_loss"]),
             delimiter.join(["0", "1.5", "nan"]), delimiter.join(["1", "inf", "Infinity"]),
             delimiter.join(["2", "NaN", "-inf"]), delimiter.join(["3", "1.2", "1"])]
    # No final newline and a value shorter than all above it: cut mid-number (1 of 1.25?), reported, not read.
    (tmp_path / "model_history_log.csv").write_bytes(newline.join(lines).encode())
    run = only_run(tmp_path)
    loss, val = run.series["loss"].values, run.series["val_loss"].values
    assert len(loss) == 3 and loss[0] == 1.5 and math.isinf(loss[1]) and math.isnan(loss[2])
    assert math.isnan(val[0]) and val[1] == math.inf and val[2] == -math.inf
    assert any("before the header" in n for n in run.notes)
    (cut,) = run.problems
    assert cut.line == 6 and "no line end" in cut.message


def test_generic_csv_finds_the_step_column_by_name(tmp_path):
    pd.DataFrame({"wall_time": [1.0, 2.0, 3.0], "global_step": [10, 20, 30], "Train/Loss": [3.0, 2.0, 1.0]}).to_csv(
        tmp_path / "run.csv", index=False)
    run = only_run(tmp_path)
    assert run.format == "csv"
    assert list(run.series["Train/Loss"].steps) == [10, 20, 30]
    assert list(run.series["Train/Loss"].wall_times) == [1.0, 2.0, 3.0]
    assert set(run.series) == {"Train/Loss"}


def test_generic_csv_without_a_step_column_numbers_rows_and_says_so(tmp_path):
    (tmp_path / "losses.csv").write_text("loss,lr\n3,0.1\n2,0.1\n")
    run = only_run(tmp_path)
    assert list(run.series["loss"].steps) == [0, 1]
    assert any("numbered by row" in n for n in run.notes)


def test_long_csv_one_series_per_tag(tmp_path):
    pd.DataFrame({"tag": ["train/loss", "val/loss", "train/loss"], "step": [0, 0, 1], "value": [2.0, 2.5, 1.5]}).to_csv(
        tmp_path / "scalars.csv", index=False)
    run = only_run(tmp_path)
    assert run.format == "long_csv"
    assert list(run.series["train/loss"].values) == [2.0, 1.5]
    assert run.roles == {"train_loss": "train/loss", "val_loss": "val/loss"}


def test_tensorboard_csv_export_takes_the_tag_from_the_file_name(tmp_path):
    pd.DataFrame({"Wall time": [1.5, 2.5], "Step": [0, 100], "Value": [0.9, 0.4]}).to_csv(
        tmp_path / "run-version_0-tag-train_loss.csv", index=False)
    run = only_run(tmp_path)
    assert run.format == "tb_csv_export"
    assert list(run.series) == ["train_loss"] and run.roles["train_loss"] == "train_loss"
    assert list(run.series["train_loss"].wall_times) == [1.5, 2.5]


def test_non_numeric_cell_is_reported_with_its_line_and_the_rest_kept(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,oops,1.0\n2,0.5,0.9\n")
    run = only_run(tmp_path)
    assert list(run.series["loss"].steps) == [0, 2]
    assert list(run.series["val_loss"].steps) == [0, 1, 2]
    (problem,) = run.problems
    assert problem.line == 3 and problem.partial and "'loss'" in problem.message and "oops" in problem.message
    assert "log.csv at line 3" in problem.describe()


def test_multi_block_csv_reads_the_first_block_and_says_where_the_second_starts(tmp_path):
    text = ("Trial Details: Model A, lr 0.01,,,\nEpoch#,Accuracy,Loss,,\n0,0.3,2.5,,\n1,0.5,1.9,,\n"
            "Trial Details: Model B, lr 0.1,,,\nEpoch#,Accuracy,Loss,,\n0,0.1,9.0,,\n")
    (tmp_path / "model_history_log.csv").write_text(text)
    run = only_run(tmp_path)
    assert list(run.series["Loss"].values) == [2.5, 1.9]
    assert set(run.series) == {"Accuracy", "Loss"}  # padding columns dropped
    (problem,) = run.problems
    assert problem.line == 5 and problem.partial and "second block" in problem.message


def test_header_plus_one_row(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,9,0.7\n")
    run = only_run(tmp_path)
    assert run.problems == [] and len(run.series["train_loss"]) == 1


@pytest.mark.parametrize("content, expected", [
    (b"", "empty file (0 bytes)"),
    (b"\n", "1-byte file"),
    (b"epoch,loss\n", "header but no data rows"),
    (b"\x00\x01\x02garbage\xff" * 10, "binary content"),
    (b"this is not a csv at all\njust words\n", "not a recognisable"),
])
def test_broken_named_logs_give_one_clear_problem_and_other_runs_still_read(tmp_path, content, expected):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.csv").write_bytes(content)
    (tmp_path / "good.csv").write_text("step,loss\n0,1\n1,0.5\n")
    runs, problems = read_runs(tmp_path)
    assert problems == []
    by_name = {r.name: r for r in runs}
    assert len(by_name["good.csv"].series["loss"]) == 2
    bad = by_name["bad/metrics.csv"]
    assert len(bad.problems) == 1 and expected in bad.problems[0].message
    assert "bad/metrics.csv" in bad.problems[0].describe()
    assert not bad.series


def test_ragged_rows_take_the_forgiving_path_with_the_same_result_and_a_problem(tmp_path):
    regular = "step,loss,lr\n0,1.0,0.1\n1,nan,0.1\n2,0.5,\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "log.csv").write_text(regular)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "log.csv").write_text(regular + "3,0.4,0.1,EXTRA,9\n")  # pandas' C parser refuses this
    runs, _ = read_runs(tmp_path)
    a, b = runs
    for tag in ("loss", "lr"):
        assert list(a.series[tag].steps) == list(b.series[tag].steps)[: len(a.series[tag])]
    assert np.isnan(a.series["loss"].values[1]) and np.isnan(b.series["loss"].values[1])
    assert list(a.series["lr"].steps) == [0, 1]  # the blank lr cell is missing, not NaN
    assert a.problems == []
    (problem,) = b.problems
    assert problem.line == 5 and "more fields than the header" in problem.message


def test_a_large_lightning_log_reads_fast_enough(tmp_path):
    import time

    n = 30000
    steps = np.arange(n)
    lines = ["epoch,lr-Adam,step,train_loss"]
    lines += [f",0.001,{s}," for s in steps] + [f"{s // 1000},,{s},{1.0 / (s + 1)}" for s in steps]
    (tmp_path / "metrics.csv").write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    run = only_run(tmp_path)
    assert time.perf_counter() - start < 5.0  # ~0.05 s on a quiet machine; pure-Python parsing took ~1 s
    assert len(run.series["train_loss"]) == n and len(run.series["lr-Adam"]) == n
