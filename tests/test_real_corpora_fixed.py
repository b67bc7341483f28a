"""bench/real3 and bench/real4 (real corpora labelled blind; bench/real*/LABELS.csv): the runs whose verdict
was wrong at their first, blind diagnosis and was fixed, on the real files themselves (tracked in this
repository), so that the fix stays.  Each case's rule change has a synthetic test in test_rules_cases.py."""
from __future__ import annotations

from pathlib import Path

import pytest

import lrdoctor
from lrdoctor.config import Config
from lrdoctor.engine import diagnose_run
from lrdoctor.rules import all_rules

BENCH = Path(__file__).resolve().parents[1] / "bench"

CASES = [
    # GPT-2 memorising a small corpus, 8.46 -> 0.12 and still falling: not "increase x2.5" (SC01 info).
    ("real3/console/Jayant-Guru-Shrivastava__ERAV4-Session11-shakespeare-gpt2-124M__gpt2/logs/train.log", "keep", None),
    # 13 lines of an LLM's first batches: too short for SC01's "increase x11".
    ("real3/console/Barber0__LLM-pretrain__llm/train.log", "keep", None),
    # An HF fine-tune's untrained first loss (5.28 at step 2) against its first evaluation at step 200: no DV03.
    ("real3/hf_trainer_state/armenkarakashian__TrOcr-Number-Line-Fraction-Recognition__trocr/trainer_state.json", "keep", None),
    # A NAF agent's episode/Return: an RL run.
    ("real3/tensorboard/AkshayKulkarni3467__NAF_DQN__naf/lightning_logs/version_0", "abstain", "DQ06"),
    # 16.74222755 at all 74 logged batches: frozen, no LR question.
    ("real4/lightning_csv/Andreus00__WSDS__wsds/lightning_logs/version_5/metrics.csv", "abstain", "PL05"),
    # Eval at step 0, then memorising from epoch 1 with the accuracy sliding: stop early, not a collapse.
    ("real4/hf_trainer_state/aigoncharov__trainer_state_viz__viz/trainer_state.json", "stop-early", "OF01"),
    # Epoch losses 3415, 2.2, 2.4, ... for 500 epochs: neither an explosion nor stuck at its start.
    ("real4/tensorboard/Elwin-Freudiger__MeteoThesis__meteo/lightning_logs/version_0", "keep", None),
]


@pytest.mark.parametrize("path,action,rule", CASES, ids=[c[0].split("/")[2].split("__")[0] for c in CASES])
def test_fixed_real_runs_keep_their_verdict(path, action, rule):
    runs, _ = lrdoctor.read_runs(BENCH / path)
    assert len(runs) == 1
    rec = diagnose_run(runs[0], all_rules(), Config()).recommendation
    assert rec.action == action, rec.reason
    if rule is not None:
        assert rec.rule == rule, rec.reason
