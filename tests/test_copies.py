"""Copies of one training are diagnosed once and carry the same verdict (lrdoctor/context/copies.py).

Reductions of ../shared/real_logs: P4P4N1CK/whisper-large-v2-japanese (``last-checkpoint/`` and the
final ``trainer_state.json``), RTiberiu/CM4107 (``checkpoint-3000`` and ``checkpoint-3128`` holding one
log), 10-Academy/Swahili-Speech-To-Text (an MLflow run and the Keras TensorBoard logs in its artifacts).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lrdoctor
from lrdoctor.context.copies import find_copies
from lrdoctor.readers import read_runs

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"


def write_mlflow_run(root, metrics, params):
    """An MLflow file store run: metrics/<name> lines 'timestamp value step', params/<name>."""
    run_dir = root / "mlruns" / "1" / "ed05f9cd"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "params").mkdir()
    (run_dir / "meta.yaml").write_text("run_id: ed05f9cd\nstatus: 3\n")
    for name, points in metrics.items():
        (run_dir / "metrics" / name).write_text("".join(f"{1628697775000 + 1000 * s} {v} {s}\n" for s, v in points))
    for name, value in params.items():
        (run_dir / "params" / name).write_text(str(value))
    return run_dir


def write_trainer_state(path: Path, last_step: int, every: int = 25, eval_every: int = 1000):
    """A whisper fine-tune: warmup to 1e-5 then linear decay; train loss falls to ~0, eval loss rises
    from its first evaluation (0.321 -> 0.420), as in whisper-ja.  HF keeps round(loss, 4)."""
    history = []
    for step in range(every, last_step + 1, every):
        lr = 1e-5 * min(step / 500, (5000 - step) / 4500)
        history.append({"epoch": step / 128, "learning_rate": lr, "loss": round(0.3 * np.exp(-step / 700), 4),
                        "step": step})
        if step % eval_every == 0:
            history.append({"epoch": step / 128, "eval_loss": round(0.321 + 0.0000198 * (step - 1000), 4),
                            "step": step})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"global_step": last_step, "log_history": history}))


def test_a_checkpoint_state_is_a_copy_of_the_final_state(tmp_path):
    write_trainer_state(tmp_path / "out" / "checkpoint-2000" / "trainer_state.json", 2000)
    write_trainer_state(tmp_path / "out" / "trainer_state.json", 5000)
    runs, _ = read_runs(tmp_path)
    copies = find_copies(runs)
    assert list(copies) == ["out/checkpoint-2000/trainer_state.json"]
    copy = copies["out/checkpoint-2000/trainer_state.json"]
    assert copy.original == "out/trainer_state.json" and copy.matched == 80 and copy.tag_role == "train_loss"
    assert any("same training as out/trainer_state.json" in n for n in copy.run.notes)


def test_copies_get_the_original_verdict_and_point_to_each_other(tmp_path):
    write_trainer_state(tmp_path / "out" / "checkpoint-2000" / "trainer_state.json", 2000)
    write_trainer_state(tmp_path / "out" / "trainer_state.json", 5000)
    report = lrdoctor.diagnose(tmp_path)
    by_name = {r.run: r for r in report.runs}
    original, copy = by_name["out/trainer_state.json"], by_name["out/checkpoint-2000/trainer_state.json"]
    assert [r.run for r in report.runs] == ["out/trainer_state.json", "out/checkpoint-2000/trainer_state.json"]
    assert copy.recommendation.action == original.recommendation.action
    assert copy.recommendation.reason.startswith("same training as out/trainer_state.json")
    assert copy.recommendation.reason.endswith(original.recommendation.reason)
    assert [f.code for f in copy.findings] == [f.code for f in original.findings]
    assert all(f.run == copy.run for f in copy.findings)
    assert copy.extras["copy_of"] == {"run": "out/trainer_state.json", "role": "train_loss", "matched_points": 80}
    assert original.extras["copies"] == ["out/checkpoint-2000/trainer_state.json"]
    assert copy.source.endswith("trainer_state.json") and "checkpoint-2000" in copy.source


def test_two_checkpoints_holding_one_log_keep_the_later_as_original(tmp_path):
    for ckpt in ("checkpoint-3000", "checkpoint-3128"):
        write_trainer_state(tmp_path / "results" / ckpt / "trainer_state.json", 3000, every=500)
    copies = find_copies(read_runs(tmp_path)[0])
    assert {k: c.original for k, c in copies.items()} == {
        "results/checkpoint-3000/trainer_state.json": "results/checkpoint-3128/trainer_state.json"}


def test_an_mlflow_run_and_its_tensorboard_artifacts_are_one_training(tmp_path):
    tensorboardX = pytest.importorskip("tensorboardX")
    loss = [332.6841735839844, 297.6000061035156, 270.32366943359375, 252.1, 243.0, 239.0, 238.0, 236.9, 235.8, 234.8]
    run_dir = write_mlflow_run(tmp_path, {"loss": list(enumerate(loss))}, {"opt_learning_rate": "0.002"})
    writer = tensorboardX.SummaryWriter(str(run_dir / "artifacts" / "tensorboard_logs" / "train"))
    for epoch, value in enumerate(loss):
        writer.add_scalar("epoch_loss", value, global_step=epoch)  # stored as float32
    writer.close()
    runs, _ = read_runs(tmp_path)
    copies = find_copies(runs)
    assert {k: c.original for k, c in copies.items()} == {
        "mlruns/1/ed05f9cd/artifacts/tensorboard_logs": "mlruns/1/ed05f9cd"}  # the run with the LR param
    report = lrdoctor.diagnose(tmp_path)
    actions = {r.run: r.recommendation.action for r in report.runs}
    assert len(actions) == 2 and len(set(actions.values())) == 1


def test_runs_that_share_a_beginning_but_part_later_are_not_copies(tmp_path):
    """An LR sweep with one seed: identical until the LRs part."""
    write_trainer_state(tmp_path / "a" / "trainer_state.json", 2000)
    write_trainer_state(tmp_path / "b" / "trainer_state.json", 2000)
    state = json.loads((tmp_path / "b" / "trainer_state.json").read_text())
    for entry in state["log_history"][40:]:
        if "loss" in entry:
            entry["loss"] = round(entry["loss"] * 1.1, 4)
    (tmp_path / "b" / "trainer_state.json").write_text(json.dumps(state))
    assert find_copies(read_runs(tmp_path)[0]) == {}


def test_too_short_a_curve_is_no_evidence(tmp_path):
    write_trainer_state(tmp_path / "a" / "trainer_state.json", 50)
    write_trainer_state(tmp_path / "b" / "trainer_state.json", 5000)
    assert find_copies(read_runs(tmp_path)[0]) == {}


@pytest.mark.skipif(not (CORPUS / "MANIFEST.csv").exists(), reason="../shared/real_logs is absent")
def test_copies_in_the_real_corpus():
    """Checked by hand: each pair is one training logged twice (same steps, same losses)."""
    runs, _ = read_runs(CORPUS)
    found = {k: c.original for k, c in find_copies(runs).items()}
    swahili = "10-Academy-Batch-4-Week-4__Swahili-Speech-To-Text__swahili-asr/mlruns/1/ed05f9cd599442fe9a0c9222184710b8"
    whisper = "hf_trainer_state/P4P4N1CK__whisper-large-v2-japanese-5k-steps__whisper-ja/"
    rtiberiu = "RTiberiu__CM4107-Advanced-Artificial-Intelligence-CW__electra-imdb/"
    assert found[f"tensorboard/{swahili}/artifacts/tensorboard_logs"] == f"mlflow/{swahili}"
    assert found[whisper + "last-checkpoint/trainer_state.json"] == whisper + "trainer_state.json"
    for ckpt in ("checkpoint-3000", "checkpoint-3128"):  # the third training written into logs/
        assert found[f"hf_trainer_state/{rtiberiu}results/{ckpt}/trainer_state.json"] == f"tensorboard/{rtiberiu}logs#3"
    assert len(found) == 8


def test_runs_handed_in_with_one_name_are_all_diagnosed(tmp_path):
    write_trainer_state(tmp_path / "a" / "trainer_state.json", 2000)
    write_trainer_state(tmp_path / "b" / "trainer_state.json", 5000)
    runs, _ = read_runs(tmp_path)
    for run in runs:
        run.name = "same"
    report = lrdoctor.diagnose(runs)
    assert len(report.runs) == 2 and not any("copy_of" in r.extras for r in report.runs)


def test_a_run_that_went_nan_is_no_copy_of_one_that_did_not(tmp_path):
    """Found in review: NaN points were left out of the match, so a run that diverged to NaN at step
    1,200 became a 'copy' of a finite re-run and was reported OK.  Each is diagnosed on its own."""
    steps = list(range(0, 2000, 10))
    healthy = [2.8 * 0.998 ** s + 0.1 for s in steps]
    diverged = [v if s < 1200 else float("nan") for s, v in zip(steps, healthy)]
    for name, values in (("a", diverged), ("b", healthy)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.csv").write_text(
            "step,train_loss\n" + "".join(f"{s},{v}\n" for s, v in zip(steps, values)))
    runs, _ = read_runs(tmp_path)
    assert find_copies(runs) == {}
    by_name = {r.run: r for r in lrdoctor.diagnose(tmp_path).runs}
    assert by_name["a/metrics.csv"].recommendation.action == "decrease"
    assert "copy_of" not in by_name["a/metrics.csv"].extras


def test_the_summary_table_says_a_copy_is_a_copy(tmp_path, run_cli):
    """Found in review: a copy's table row read like an independent verdict.  Copies follow their
    original in the report, and their WHY says so."""
    write_trainer_state(tmp_path / "out" / "checkpoint-2000" / "trainer_state.json", 2000)
    write_trainer_state(tmp_path / "out" / "trainer_state.json", 5000)
    out, _ = run_cli(["diagnose", tmp_path, "-q", "--fail-on", "never"])
    rows = [line for line in out.splitlines() if "trainer_state.json" in line]
    assert "checkpoint-2000" in rows[1] and "(copy of a run above)" in rows[1]
    assert "copy" not in rows[0]


def test_runs_that_share_a_loss_but_not_their_returns_are_two_trainings():
    """Found in review: copies were matched on the loss and the role curves only, so two RL runs with one
    loss curve but different returns shared one verdict.  Every tag the two share must agree."""
    from lrdoctor.model import Run, Series

    steps = list(range(0, 500, 10))
    loss = [1.0 / (1 + s / 100) for s in steps]

    def rl_run(name, returns):
        run = Run(name=name, source=name, format="test",
                  series={"loss": Series.from_lists(steps, loss), "ep_rew_mean": Series.from_lists(steps, returns)})
        from lrdoctor.tags import assign_roles

        assign_roles(run)
        return run

    a = rl_run("a", [s / 10 for s in steps])
    b = rl_run("b", [-s / 10 for s in steps])
    assert find_copies([a, b]) == {}
