"""bench/real (a second real corpus, blind labels in bench/real/LABELS.csv): the direction of a stuck run and
the reading of RL returns, on the real files themselves (tracked in this repository)."""
from __future__ import annotations

from pathlib import Path

import pytest

import lrdoctor
from lrdoctor.config import Config
from lrdoctor.engine import diagnose_run
from lrdoctor.rules import all_rules

BENCH = Path(__file__).resolve().parents[1] / "bench" / "real"

CASES = [
    # A slow, ordered fall at a fine-tuning rate, and a rate of 1e-7: too low, never "decrease".
    ("hf_trainer_state/Jimmy-Mendez__canine-model__canine/trainer_state.json", "increase", "SC02"),
    ("hf_trainer_state/RohitBind123__falcon-lora-imdb-sentiment__falconlora/trainer_state.json", "increase", "SC02"),
    ("jsonl/netra-ai-lab__Netra-NMT__nmt/results/train_log_finetune.jsonl", "increase", "SC02"),
    # Sat at ln 4 with no trend at 5e-5: still PL01 (too high).
    ("hf_trainer_state/yuanhuanghuang__quality__lrqa/trainer_state.json", "decrease", "PL01"),
    # RL: returns rose in order and held -> keep; fell back or never rose -> abstain.
    ("sb3_csv/haakontveit1__rl_racer__ppo/logs/progress.csv", "keep", "RL01"),
    ("sb3_csv/TobiasLudwig02__RLFlappyBird__ppo/logs/PPO_MLP_std_2Mio/progress.csv", "keep", "RL01"),
    ("rl_csv/BoogaQ__PPO-exploration__ppo/PPO/Hopper-v2/run-2020-08-26-23-04-59-478900.csv", "keep", "RL01"),
    ("tensorboard/reddyn12__Sb3Test__ppo/logs/PPO_1", "keep", "RL01"),
    ("sb3_csv/TobiasLudwig02__RLFlappyBird__ppo/logs/PPO_MLP_cur_learning/progress.csv", "abstain", None),
    ("rl_csv/BoogaQ__PPO-exploration__ppo/PPO/InvertedPendulum-v2/run-2020-08-29-20-14-02-204022.csv", "abstain", None),
    ("tensorboard/reddyn12__Sb3Test__ppo/logs/PPO_5", "abstain", None),
    # YOLO logs its loss as terms (box, obj, cls): their sum rose 38 % from epoch 18 while each alone hid
    # it; the 600-epoch run whose mAP kept improving to its last evaluations stays keep.
    ("yolo_csv/peshmerge__ml_2_project__exp150e/exp_150e_20bs/results.csv", "stop-early", "OF01"),
    ("tensorboard/peshmerge__ml_2_project__exp600e/exp_600e_10bs", "keep", None),
    # A Bayesian network's loss climbing as its KL weight is annealed in (NLL flat): not a blow-up.
    ("lightning_csv/JohnBBB42__Hidden_Markov_Miracles__bnn/lightning_logs/version_113/metrics.csv", "abstain", "DQ10"),
]


@pytest.mark.parametrize("path,action,rule", CASES, ids=[c[0].split("/")[1].split("__")[-1] for c in CASES])
def test_real_bench_runs(path, action, rule):
    runs = lrdoctor.read_runs(BENCH / path)
    runs = runs[0] if isinstance(runs, tuple) else getattr(runs, "runs", runs)
    assert len(runs) == 1
    rec = diagnose_run(runs[0], all_rules(), Config()).recommendation
    assert rec.action == action, rec.reason
    if rule is not None:
        assert rec.rule == rule, rec.reason


def test_yolo_terms_are_summed_and_its_group_rates_read():
    from lrdoctor.tags import classify, loss_components, validation_metrics

    tags = ["train/box_loss", "train/obj_loss", "train/cls_loss", "val/box_loss", "val/obj_loss", "val/cls_loss",
            "metrics/mAP_0.5", "metrics/precision", "x/lr0", "x/lr1", "x/lr2"]
    assert loss_components(tags, "val/box_loss") == ("val/box_loss", "val/cls_loss", "val/obj_loss")
    assert loss_components(tags + ["val/loss"], "val/box_loss") == ("val/box_loss",)  # a total exists
    assert loss_components(["eval/nll_loss"], "eval/nll_loss") == ("eval/nll_loss",)
    assert classify("x/lr0") == ("lr", 0) and classify("flr0") is None
    assert ("metrics/mAP_0.5", "higher") in validation_metrics(tags)


def test_a_loss_term_the_user_named_is_judged_alone(tmp_path):
    """Found in review: ``--tag val_loss=val/box_loss`` was overridden by the sum of YOLO's loss terms.
    The sum is for logs with only terms; a curve the user names is judged as given."""
    from lrdoctor.rules._view import build_view

    steps = range(0, 600, 10)
    rows = [f"{s},{0.08 - 0.00005 * s},{0.04 + 0.00003 * s},{0.01},{0.07 - 0.00004 * s},{0.04 + 0.00004 * s},{0.01},0.01"
            for s in steps]
    (tmp_path / "metrics.csv").write_text("step,train/box_loss,train/obj_loss,train/cls_loss,val/box_loss,"
                                          "val/obj_loss,val/cls_loss,x/lr0\n" + "\n".join(rows) + "\n")
    (auto,), _ = lrdoctor.read_runs(tmp_path)
    (named,), _ = lrdoctor.read_runs(tmp_path, tag_roles={"val_loss": ["val/box_loss"]})
    assert build_view(auto).val.tag == "val/box_loss+cls_loss+obj_loss"
    assert build_view(named).val.tag == "val/box_loss"


def test_an_exploding_penalty_is_not_taken_for_kl_annealing(tmp_path):
    """Found in review (seeded reduction): a VAE at lr 0.01 whose KL term itself went 2 -> 200,
    accelerating to the end, was read as KL annealing (abstain).  Annealing raises the total through the
    penalty's *weight*: the raw term does not blow up (bench/real bnn version_113: KL 373,593 -> 354,123
    while the total rose 0.34 -> 72.6).  An exploding term is judged by the divergence rules."""
    import numpy as np

    k = 100
    x = np.linspace(0, 1, k)
    rng = np.random.default_rng(3)
    nll = 100 - 2 * x + 0.3 * rng.standard_normal(k)
    kl = 2 + 200 * np.exp(np.minimum(0, (x - 1) * 8))
    rows = "".join(f"{10 * i},{a + b:.6g},{a:.6g},{b:.6g},0.01\n" for i, (a, b) in enumerate(zip(nll, kl)))
    (tmp_path / "metrics.csv").write_text("step,train_loss,train_nll,train_kl,lr\n" + rows)
    (run,) = lrdoctor.diagnose(tmp_path).runs
    assert "DQ10" not in {f.code for f in run.findings} and run.recommendation.action == "decrease"
