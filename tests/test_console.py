"""Console (stdout) training logs: readers/console.py, found by discovery by content.

Fixtures in tests/data/console are real logs committed to public repositories (log text only):
* kanji_augmented_training_log.txt -- KyotoSunshine/CNN-for-handwritten-kanji,
  logs/model_for_augmented_dataset_training_log.txt, verbatim (Keras 1, three fit() calls, two
  "Epoch 0000N: early stopping" lines);
* cgcnn_readme_output_aws.txt -- CaryBond/data-science-project,
  test_result_CGCNN/R2_0.9384/readme_output_aws.txt: its first 60 lines (command, a parameter dict,
  epochs 1-11 of ``Epoch [001/300] - Train Loss: ..., Valid Loss: ..., LR: [0.001]``) and its last 14
  (epochs 293-300, test metrics after training);
* ukraine_lm_readme.txt -- ttukei/Twitter-language-models-about-Ukraine, TCSS456_NLP_FinalProject/ReadMe.txt:
  lines 1-40, 205-227 and 270-300 (Keras verbose=2 lines, model summaries, generated text, the start
  of the second model's training).
* sb3_dqn_frozenlake_output.txt, sb3_ppo_frozenlake_4x4.txt -- ZeshiWu/ML-capstone-project-,
  frozenlake_code/model_output.txt (first 91 lines) and frozenlake_code/4x4_ppo_off.txt (first 103 lines):
  stable-baselines3 console tables.
* hf_dpo_sample_output.log -- intel-analytics/ipex-llm, python/llm/example/GPU/LLM-Finetuning/DPO/README.md,
  its "Sample Output" block verbatim (HF/TRL Trainer's printed dicts).
The other cases are reductions of the formats the issue lists, written here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lrdoctor.readers import read_runs
from lrdoctor.readers.console import read_console_text

DATA = Path(__file__).resolve().parent / "data" / "console"


def runs_of(path):
    runs, problems = read_runs(path)
    return {r.name: r for r in runs}, problems


def test_keras1_log_with_three_fits_and_early_stopping_lines():
    runs, problems = runs_of(DATA / "kanji_augmented_training_log.txt")
    assert problems == [] and list(runs) == ["kanji_augmented_training_log.txt",
                                             "kanji_augmented_training_log.txt#2", "kanji_augmented_training_log.txt#3"]
    first, second, third = runs.values()
    assert first.format == "console"
    assert first.roles == {"train_loss": "loss", "val_loss": "val_loss", "train_acc": "acc", "val_acc": "val_acc"}
    assert first.series["loss"].steps.tolist() == list(range(1, 11))
    assert first.series["val_loss"].values[[0, -1]].tolist() == [0.3504, 0.2883]
    # "Epoch 9/10" then "Epoch 00008: early stopping": the metrics belong to epoch 9, not 8
    assert second.series["loss"].steps.tolist() == list(range(1, 10))
    assert second.series["loss"].values[-2:].tolist() == [0.0521, 0.0516]
    assert third.series["val_acc"].values.tolist()[-1] == 0.9848 and len(third.series["val_acc"]) == 6


def test_epoch_brackets_with_lr_in_a_list_and_a_logging_prefix():
    (run,), problems = read_runs(DATA / "cgcnn_readme_output_aws.txt")
    assert problems == []
    assert run.roles == {"train_loss": "train_loss", "val_loss": "valid_loss", "lr": "lr"}
    loss = run.series["train_loss"]
    assert loss.steps.tolist()[:3] == [1, 2, 3] and loss.steps.tolist()[-1] == 300
    assert loss.values[:2].tolist() == [145.13359, 71.42647]
    assert set(run.series["lr"].values.tolist()) == {0.001}
    assert set(run.series) == {"train_loss", "valid_loss", "lr"}  # no MSE / R2 test metrics, no parameter dict


def test_keras_verbose_2_lines_among_model_summaries_and_text():
    runs, _ = runs_of(DATA / "ukraine_lm_readme.txt")
    first, second = runs["ukraine_lm_readme.txt"], runs["ukraine_lm_readme.txt#2"]
    assert set(first.series) == {"loss", "accuracy"}  # no "Total params: 39,344"
    assert first.series["loss"].values[0] == 3.1494 and first.series["loss"].steps[-1] == 100
    assert second.series["accuracy"].values[0] == 0.0  # 0.0000e+00
    assert second.series["loss"].steps.tolist() == list(range(1, 8))


def test_keras_progress_bar_keeps_each_epochs_final_line(tmp_path):
    """verbose=1 output saved from a terminal: carriage returns, ETA updates, then the epoch's mean."""
    (tmp_path / "nohup.out").write_text(
        "Epoch 1/2\n"
        "  32/1875 [..............................] - ETA: 1:23 - loss: 2.3012 - accuracy: 0.1016\r"
        " 960/1875 [==============>...............] - ETA: 2s - loss: 0.6203 - accuracy: 0.8190\r"
        "1875/1875 [==============================] - 5s 2ms/step - loss: 0.4263 - accuracy: 0.8776 "
        "- val_loss: 0.2357 - val_accuracy: 0.9318\n"
        "Epoch 2/2\n"
        "  32/1875 [..............................] - ETA: 3s - loss: 0.2710 - accuracy: 0.9375\b\b\b\b"
        "1875/1875 [==============================] - 4s 2ms/step - loss: 0.2092 - accuracy: 0.9399 "
        "- val_loss: 0.1811 - val_accuracy: 0.9469\n"
        "Epoch 3/3\n"
        "1875/1875 [==============================] - 4s 2ms/step - loss: 0.1561 - accuracy: 0.9547 "
        "- val_loss: 0.1442 - val_accuracy: 0.9572\n")
    (run,), _ = read_runs(tmp_path)
    assert run.name == "nohup.out"
    assert run.series["loss"].values.tolist() == [0.4263, 0.2092, 0.1561]
    assert run.series["val_accuracy"].steps.tolist() == [1, 2, 3]


@pytest.mark.parametrize("text, expected", [
    # PyTorch tutorial style: the step restarts each epoch; the total says how long an epoch is
    ("Epoch [1/2], Step [100/300], Loss: 0.9000\nEpoch [1/2], Step [200/300], Loss: 0.7000\n"
     "Epoch [1/2], Step [300/300], Loss: 0.5000\nEpoch [2/2], Step [100/300], Loss: 0.4000\n",
     {"loss": [(100, 0.9), (200, 0.7), (300, 0.5), (400, 0.4)]}),
    # no total: an epoch is the largest step plus one logging interval
    ("Epoch:  0 step:  0 loss: 11.76\nEpoch:  0 step:  1 loss: 11.75\nEpoch:  0 step:  2 loss: 11.70\n"
     "Epoch:  1 step:  0 loss: 11.50\n",
     {"loss": [(0, 11.76), (1, 11.75), (2, 11.70), (3, 11.50)]}),
    # torchvision detection references (beijn/bachelor-thesis, detection/traingraph.py, the log it plots):
    # "[k/N]" after the epoch is the batch; "loss: median (global average)"
    ("Epoch: [0]  [0/6]  eta: 0:00:25  lr: 0.001004  loss: 8.2773 (8.2773)  loss_classifier: 0.7230 (0.7230)  "
     "time: 4.1973  data: 1.1906  max mem: 2547\n"
     "Epoch: [0]  [1/6]  eta: 0:00:11  lr: 0.002003  loss: 7.5953 (7.9363)  loss_classifier: 0.7068 (0.7149)  "
     "time: 2.2824  data: 0.6244  max mem: 2648\n"
     "Epoch: [0]  [5/6]  eta: 0:00:00  lr: 0.005000  loss: 2.4622 (4.1605)  loss_classifier: 0.5505 (0.5914)  "
     "time: 0.9761  data: 0.2334  max mem: 2670\n"
     "Epoch: [0] Total time: 0:00:05 (0.9880 s / it)\n"
     "Epoch: [1]  [0/6]  eta: 0:00:09  lr: 0.005000  loss: 1.7961 (1.7961)  loss_classifier: 0.4389 (0.4389)  "
     "time: 1.6615  data: 1.3112  max mem: 2852\n",
     {"loss": [(0, 8.2773), (1, 7.5953), (5, 2.4622), (6, 1.7961)], "lr": [(0, 0.001004), (1, 0.002003), (5, 0.005),
                                                                         (6, 0.005)]}),
    # key: value | key: value, with a phase word starting the line
    ("epoch: 1 | train_loss: 0.9 | val_loss: 1.0 | lr: 0.1\nepoch: 2 | train_loss: 0.7 | val_loss: 0.9 | lr: 0.1\n"
     "epoch: 3 | train_loss: 0.6 | val_loss: 0.85 | lr: 0.01\n",
     {"train_loss": [(1, 0.9), (2, 0.7), (3, 0.6)], "lr": [(1, 0.1), (2, 0.1), (3, 0.01)]}),
    ("Epoch 1/50\nTRAINING   -- Loss: 1.0263  |  Accuracy: 81.45%  |  Time: 16.93 mins.\n"
     "VALIDATION -- Loss: 1.1635  |  Accuracy: 83.54%  |  Time: 1.45 mins.\nNew best model saved with loss 1.1635...\n"
     "Epoch 2/50\nTRAINING   -- Loss: 0.8501  |  Accuracy: 84.80%  |  Time: 16.05 mins.\n"
     "VALIDATION -- Loss: 0.8955  |  Accuracy: 86.12%  |  Time: 1.02 mins.\n"
     "Epoch 3/50\nTRAINING   -- Loss: 0.7871  |  Accuracy: 86.25%  |  Time: 16.12 mins.\n"
     "VALIDATION -- Loss: 0.7720  |  Accuracy: 87.05%  |  Time: 1.3 mins.\n",
     {"train_loss": [(1, 1.0263), (2, 0.8501), (3, 0.7871)], "val_loss": [(1, 1.1635), (2, 0.8955), (3, 0.772)]}),
    # "key value" pairs (no colon), units refused: "train 2.6s" is no metric
    ("Epoch 01 loss 75.6049 | train 2.6s\nEpoch 02 loss 73.1950 | train 2.1s\nEpoch 03 loss 69.3989 | train 2.1s\n"
     "Epoch 04 loss 56.0824 | train 2.1s | Acc 9.32% | infer 4.4s\n",
     {"loss": [(1, 75.6049), (2, 73.195), (3, 69.3989), (4, 56.0824)], "acc": [(4, 9.32)]}),
])
def test_console_dialects(tmp_path, text, expected):
    runs = read_console_text(str(tmp_path / "train.log"), text, "train.log")
    (run,) = runs
    for key, points in expected.items():
        series = run.series[key]
        assert list(zip(series.steps.tolist(), series.values.tolist())) == [(s, pytest.approx(v)) for s, v in points]
    assert "train" not in run.series and "time" not in run.series


def test_loss_lines_without_a_counter_are_set_aside_with_a_reason(tmp_path):
    (tmp_path / "out.txt").write_text("loss: 0.9 acc: 0.5\nloss: 0.7 acc: 0.6\nloss: 0.6 acc: 0.7\nloss: 0.5\n")
    runs, problems = read_runs(tmp_path)
    assert runs == []
    (problem,) = problems
    assert problem.path.endswith("out.txt") and "no epoch or step counter" in problem.message


@pytest.mark.parametrize("text", [
    "Accuracy of the network on the 10000 test images: 97 %\n",                     # one result
    "0 0.481 0.633 0.127 0.195\n1 0.2 0.3 0.1 0.1\n",                               # YOLO labels
    "Requirement already satisfied: numpy>=1.22.2\nDownloading 660.5/660.5 kB\n",  # pip output
    "Epoch 1/3\nEpoch 2/3\nEpoch 3/3\n",                                            # counters, no metric
    "epoch 1 loss: 0.5\nepoch 2 loss: 0.4\n",                                       # too short to be a curve
])
def test_other_text_is_no_log_and_is_skipped_quietly(tmp_path, text):
    (tmp_path / "notes.txt").write_text(text)
    assert read_runs(tmp_path) == ([], [])


def test_a_named_keras_csv_training_log_is_still_read_as_csv(tmp_path):
    (tmp_path / "training.log").write_text("epoch,loss,val_loss\n0,2.3,2.1\n1,1.9,1.8\n2,1.4,1.45\n")
    (run,), _ = read_runs(tmp_path)
    assert run.format == "keras_csv" and run.series["loss"].steps.tolist() == [0, 1, 2]


def test_console_log_with_tqdm_bars_and_a_stdout_name(tmp_path):
    (tmp_path / "stdout").write_text("".join(
        f"Epoch Progress:   {e}%|  | {e}/1000 [00:0{e}<24:53,  1.49s/it]Dataset Size: 1%, Epoch: {e}, "
        f"Train Loss: {11 - e * 0.01:.4f}, Val Loss: {11 - e * 0.009:.4f}\n" for e in range(1, 6)))
    (run,), _ = read_runs(tmp_path)
    assert run.name == "stdout" and run.series["train_loss"].steps.tolist() == [1, 2, 3, 4, 5]
    assert np.allclose(run.series["val_loss"].values, [11 - e * 0.009 for e in range(1, 6)])


def test_stable_baselines3_console_tables():
    runs, problems = runs_of(DATA / "sb3_ppo_frozenlake_4x4.txt")
    (run,) = runs.values()
    assert problems == [] and run.format == "console"
    loss = run.series["train/loss"]
    assert loss.steps.tolist() == [4096, 6144, 8192, 10240, 12288]  # the first table (2048) has no train/ rows
    assert loss.values.tolist() == [-0.00895, -0.0445, -0.0318, 0.0299, 0.0119]
    assert run.roles["train_loss"] == "train/loss" and run.roles["lr"] == "train/learning_rate"
    assert not any(k.startswith("time/") for k in run.series) and "reward" not in run.series
    (dqn,) = runs_of(DATA / "sb3_dqn_frozenlake_output.txt")[0].values()
    assert dqn.series["rollout/ep_rew_mean"].steps[0] == 111 and len(dqn.series["train/loss"]) == 6


def test_stable_baselines3_progress_csv_steps_are_total_timesteps(tmp_path):
    """SB3's CSV logger: one row per update, keys as in its console table; the first row has no train/ values.
    Values from sb3_ppo_frozenlake_4x4.txt."""
    (tmp_path / "progress.csv").write_text(
        "time/fps,time/iterations,time/time_elapsed,time/total_timesteps,train/approx_kl,train/entropy_loss,"
        "train/learning_rate,train/loss,train/value_loss\n"
        "774,1,2,2048,,,,,\n"
        "475,2,8,4096,0.010778175,-1.38,0.0003,-0.00895,0.0213\n"
        "420,3,14,6144,0.011434523,-1.37,0.0003,-0.0445,0.00658\n"
        "405,4,20,8192,0.0124581745,-1.35,0.0003,-0.0318,0.0101\n")
    (run,), problems = read_runs(tmp_path)
    assert problems == []
    assert run.series["train/loss"].steps.tolist() == [4096, 6144, 8192]
    assert run.roles["train_loss"] == "train/loss"


@pytest.mark.parametrize("padded", [False, True])
def test_yolo_results_csv(tmp_path, padded):
    """Ultralytics results.csv (01-Zhangsaisai/Wheat-Weed-Detection-YOLOv8, runs/detect/train/results.csv,
    first 3 rows); ultralytics 8.0 padded every cell to 23 characters and counted epochs from 0."""
    header = ["epoch", "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/mAP50(B)", "val/box_loss", "lr/pg0"]
    rows = [[1, 1.1267, 1.17186, 1.15737, 0.77837, 1.31339, 3.334e-05],
            [2, 1.06919, 1.03603, 1.14055, 0.81605, 1.22828, 8.27999e-05],
            [3, 1.08594, 1.05264, 1.13065, 0.80725, 1.2277, 0.0001316]]
    cell = (lambda v: "%23s" % v) if padded else str
    lines = [",".join(cell(h) for h in header)] + [",".join(cell(v) for v in row) for row in rows]
    (tmp_path / "results.csv").write_text("\n".join(lines) + "\n")
    (run,), problems = read_runs(tmp_path)
    assert problems == []
    assert run.roles["train_loss"] == "train/box_loss" and run.roles["val_loss"] == "val/box_loss"
    assert run.roles["lr"] == "lr/pg0"
    assert run.series["train/box_loss"].steps.tolist() == [1, 2, 3]
    assert run.series["metrics/mAP50(B)"].values.tolist() == [0.77837, 0.81605, 0.80725]


def test_hf_trainer_printed_dicts_with_a_repeating_rounded_epoch():
    (run,), problems = read_runs(DATA / "hf_dpo_sample_output.log")
    assert problems == [] and run.format == "console"
    loss = run.series["loss"]
    assert loss.steps.tolist() == [1, 2, 3, 4, 5, 6, 7]  # epoch 0.0 four times: no line overwrites another
    assert loss.values.tolist() == [0.6931, 0.6931, 0.7058, 0.6912, 0.6958, 0.6714, 0.6773]
    assert loss.epochs.tolist() == [0.0] * 4 + [0.01] * 3
    assert run.roles["lr"] == "learning_rate" and run.series["learning_rate"].values[-1] == pytest.approx(3.5e-06)
    assert "trainable_params" not in run.series and "all_params" not in run.series


def test_hf_eval_dicts_take_the_step_of_the_train_dict_before_and_the_summary_is_no_point(tmp_path):
    (tmp_path / "train.out").write_text(
        "Epoch 1/3: 100%|####| 1/1 [00:05<00:00, 5.23s/it]\n"
        "{'loss': 0.6931, 'learning_rate': 2e-05, 'epoch': 1.0}\n"
        "{'eval_loss': 0.5234, 'eval_accuracy': 0.75, 'eval_f1': 0.73}\n"
        "{'loss': 0.3456, 'learning_rate': 1.5e-05, 'epoch': 2.0}\n"
        "{'eval_loss': 0.2134, 'eval_accuracy': 0.95, 'eval_f1': 0.94}\n"
        "{'loss': 0.1234, 'learning_rate': 1e-05, 'epoch': 3.0}\n"
        "{'eval_loss': 0.1023, 'eval_accuracy': 0.97, 'eval_f1': 0.96}\n"
        "{'train_runtime': 15.2, 'train_samples_per_second': 2.4, 'train_loss': 0.3874, 'epoch': 3.0}\n")
    (run,), _ = read_runs(tmp_path)
    assert run.series["eval_loss"].steps.tolist() == [1, 2, 3] and run.series["loss"].steps.tolist() == [1, 2, 3]
    assert run.roles["val_loss"] == "eval_loss" and "train_loss" not in run.series


@pytest.mark.parametrize("line", [
    "step: 99999999999999999999 loss: 0.5",      # a counter past int64 is no counter
    "{'loss': 1.0, 'epoch': 1e308}",              # nor an epoch in exponent form
    "|  total_timesteps | 1e30 |",
])
def test_absurd_counters_neither_crash_nor_become_steps(line):
    text = "\n".join([line] * 5)
    result = read_console_text("/logs/f.log", text, "f.log")
    assert result is None or not isinstance(result, list) or all(
        int(s.steps.max()) < 10**15 for r in result for s in r.series.values())


def test_spaced_pairs_beside_many_colon_pairs_are_read_once():
    """The overlap test between 'key value' and 'key: value' pairs is a bisect over the colon pairs'
    spans (it compared every span with every other: a 20,000-pair line took a minute, found in review;
    the speed is measured in bench, not here).  The pairs read are the same."""
    from lrdoctor.readers.console import _pairs

    line = " | ".join(f"m{i}: {i}.5 lr {i}e-4" for i in range(2000))
    pairs = _pairs(line, None)
    assert pairs["m1999"] == 1999.5 and pairs["m0"] == 0.5 and pairs["lr"] == float("1999e-4")
    assert _pairs("loss: 9.3 | lr 6e-4", None) == {"loss": 9.3, "lr": 6e-4}
