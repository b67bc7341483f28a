"""HF trainer_state.json (as the Trainer writes it, via json) and JSONL logs."""
from __future__ import annotations

import json
import math

from lrdoctor.readers import read_runs


def trainer_state(n_steps=40, logging_steps=10, finished=True, nan_at=None):
    history = []
    for step in range(logging_steps, n_steps + 1, logging_steps):
        loss = float("nan") if nan_at is not None and step >= nan_at else 2.0 / step
        history.append({"epoch": step / 20, "grad_norm": 1.0, "learning_rate": 1e-3 * (1 - step / n_steps),
                        "loss": loss, "step": step})
        if step % 20 == 0:
            history.append({"epoch": step / 20, "eval_loss": 1.0 / step, "eval_accuracy": 0.5,
                            "eval_runtime": 1.2, "step": step})
    if finished:
        history.append({"epoch": 2.0, "step": n_steps, "total_flos": 1e12, "train_loss": 0.9,
                        "train_runtime": 10.0, "train_samples_per_second": 5.0})
    return {"best_metric": None, "epoch": 2.0, "global_step": n_steps, "log_history": history,
            "logging_steps": logging_steps, "max_steps": n_steps}


def write_state(path, state):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True))  # what the Trainer does


def only_run(path):
    runs, problems = read_runs(path)
    assert problems == [] and len(runs) == 1
    return runs[0]


def test_trainer_state_train_eval_and_summary_entries(tmp_path):
    write_state(tmp_path / "out" / "checkpoint-40" / "trainer_state.json", trainer_state())
    run = only_run(tmp_path)
    assert run.format == "hf_trainer_state" and run.name == "out/checkpoint-40/trainer_state.json"
    assert run.roles == {"train_loss": "loss", "val_loss": "eval_loss", "lr": "learning_rate",
                         "val_acc": "eval_accuracy", "grad_norm": "grad_norm"}
    assert list(run.series["loss"].steps) == [10, 20, 30, 40]
    assert list(run.series["loss"].epochs) == [0.5, 1.0, 1.5, 2.0]
    assert list(run.series["eval_loss"].steps) == [20, 40]
    # the summary's train_loss is one averaged value: kept, but out of the curves' names
    assert list(run.series["summary/train_loss"].values) == [0.9]
    assert run.hparams["logging_steps"] == 10


def test_trainer_state_nan_and_infinity_literals(tmp_path):
    state = trainer_state(nan_at=30, finished=False)
    state["log_history"][0]["grad_norm"] = float("inf")
    write_state(tmp_path / "trainer_state.json", state)
    text = (tmp_path / "trainer_state.json").read_text()
    assert "NaN" in text and "Infinity" in text
    run = only_run(tmp_path / "trainer_state.json")
    loss = run.series["loss"].values
    assert math.isnan(loss[2]) and math.isnan(loss[3]) and loss[0] == 0.2
    assert math.isinf(run.series["grad_norm"].values[0])
    assert not any(t.startswith("summary/") for t in run.series)


def test_truncated_trainer_state_keeps_the_complete_entries(tmp_path):
    write_state(tmp_path / "trainer_state.json", trainer_state())
    text = (tmp_path / "trainer_state.json").read_text()
    (tmp_path / "trainer_state.json").write_text(text[: text.index('"step": 30') + 5])
    run = only_run(tmp_path)
    (problem,) = run.problems
    assert problem.partial and "invalid JSON" in problem.message and problem.line is not None
    assert list(run.series["loss"].steps) == [10, 20]


def test_other_json_files_are_not_logs_and_are_skipped_quietly(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden_size": 64}')
    write_state(tmp_path / "trainer_state.json", trainer_state())
    runs, problems = read_runs(tmp_path)
    assert [r.name for r in runs] == ["trainer_state.json"] and problems == []


def test_jsonl_one_object_per_line_with_a_bad_line_reported(tmp_path):
    lines = [json.dumps({"step": s, "loss": 1.0 / (s + 1), "lr": 0.01}) for s in range(5)]
    lines.insert(2, "{not json")
    lines.insert(4, "[1, 2]")
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    run = only_run(tmp_path)
    assert run.format == "jsonl"
    assert list(run.series["loss"].steps) == [0, 1, 2, 3, 4]
    assert run.roles["lr"] == "lr" and "step" not in run.series
    (problem,) = run.problems
    assert problem.line == 3 and problem.partial and "2 line(s) skipped" in problem.message and "line 5: a JSON list" in problem.message


def test_trainer_state_cut_before_its_log_history_is_reported_as_invalid_json(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{\n  "best_metric": nu')
    run = only_run(tmp_path)
    (problem,) = run.problems
    assert run.format == "hf_trainer_state" and "invalid JSON" in problem.message and not problem.partial
    assert not run.series
