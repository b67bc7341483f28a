"""JSON lines whose iteration counter restarts each epoch (readers/jsonlines.py).

The layout is mmcv's TextLoggerHook ``<timestamp>.log.json`` (mmdetection 2.x ``work_dirs``): a first
line of run metadata, then one object per logging interval with ``mode``, ``epoch``, ``iter`` (within
the epoch), ``lr``, timings and losses, and a ``"mode": "val"`` object per epoch carrying the epoch's
last iteration.  Written here in that layout (no real file of it was at hand); values are made up.
"""
from __future__ import annotations

import json

import pytest

from lrdoctor.readers import read_runs


def mmdet_log(epochs=3, iters=150, every=50, lr_list=False):
    lines = [{"env_info": "sys.platform: linux", "seed": 0, "exp_name": "faster_rcnn_r50_fpn_1x_coco.py"}]
    for epoch in range(1, epochs + 1):
        for it in range(every, iters + 1, every):
            lr = 0.02 / epoch
            lines.append({"mode": "train", "epoch": epoch, "iter": it, "lr": [lr, lr / 10] if lr_list else lr,
                          "memory": 3890, "data_time": 0.05, "loss_rpn_cls": 0.6 / epoch, "loss": 2.0 / epoch + it * 1e-4,
                          "time": 0.48})
        lines.append({"mode": "val", "epoch": epoch, "iter": iters, "lr": 0.02 / epoch, "bbox_mAP": 0.1 * epoch})
    return "\n".join(json.dumps(x) for x in lines) + "\n"


def test_iterations_are_counted_on_across_epochs(tmp_path):
    (tmp_path / "20230101_000000.log.json").write_text(mmdet_log())
    (run,), problems = read_runs(tmp_path)
    assert problems == [] and run.format == "jsonl"
    loss = run.series["loss"]
    assert loss.steps.tolist() == [50, 100, 150, 200, 250, 300, 350, 400, 450]  # 3 epochs of 150, nothing overwritten
    assert loss.values[3] == pytest.approx(1.0 + 50e-4)
    assert loss.epochs[3] == pytest.approx(1 + 50 / 150)
    assert run.series["val/bbox_mAP"].steps.tolist() == [150, 300, 450]
    assert run.roles["train_loss"] == "loss" and run.roles["lr"] == "lr"
    assert not run.restarts and not {"time", "data_time", "memory", "iter", "epoch"} & set(run.series)


def test_a_list_of_learning_rates_is_one_curve_per_parameter_group(tmp_path):
    (tmp_path / "run.log.json").write_text(mmdet_log(lr_list=True))
    (run,), _ = read_runs(tmp_path)
    assert run.series["lr/pg1"].values[0] == pytest.approx(0.002)
    assert run.roles["lr"] == "lr"


def test_a_jsonl_with_a_global_step_is_left_to_the_jsonl_reader(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, "iter": 100 * e + 100, "loss": 1 / (e + 1)}) + "\n"
                                                    for e in range(5)))
    (run,), _ = read_runs(tmp_path)
    assert run.series["loss"].steps.tolist() == [100, 200, 300, 400, 500]
    assert not any("restarts each epoch" in n for n in run.notes)
