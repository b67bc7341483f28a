"""Reinforcement-learning runs (DQ06): recognised by their tags; their loss levels are not compared over
time, NaN/inf and explosions still count.  The real-corpus part skips when ../shared is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

import lrdoctor
from lrdoctor.config import Config
from lrdoctor.engine import diagnose_run
from lrdoctor.rules import all_rules
from lrdoctor.tags import rl_marker, rl_markers

import curves as C
import curves_rl as R

RL_TAGS = [
    "rollout/ep_rew_mean", "rollout/ep_len_mean", "rollout/exploration rate", "train/exploration_rate",
    "eval/mean_reward", "train/reward", "val/reward", "episode_reward_mean", "ray/tune/episode_reward_max",
    "episode_len_mean", "env/reward_mean", "eval/episode_return", "ep_return_mean", "train/value_loss", "train/policy_gradient_loss", "policy_loss",
    "vf_loss", "info/learner/default_policy/total_loss", "ray/tune/info/learner/default_policy/vf_explained_var",
]
SUPERVISED_TAGS = [
    "loss", "train/loss", "val_loss", "eval/loss", "train/cross_entropy_loss", "train/entropy_loss",
    "rewards/chosen", "rewards/margins", "train/rewards/accuracies", "reward_model_loss", "kl_loss",
    "rollout_mse", "val/mean_return", "train/nll_loss", "lr-Adam", "episodes_total", "epoch", "val/rmse_loss", "hp_metric",
]
LEVEL_RULES = {"DV02", "SP01", "PL01", "PL02", "PL03", "SC01", "OF01"}


@pytest.mark.parametrize("tag", RL_TAGS)
def test_tags_only_an_agent_logs_mark_a_run(tag):
    assert rl_marker(tag)


@pytest.mark.parametrize("tag", SUPERVISED_TAGS)
def test_supervised_tags_do_not(tag):
    assert not rl_marker(tag)


def test_markers_are_listed_sorted():
    assert rl_markers(["train/loss", "rollout/ep_rew_mean", "eval/mean_reward"]) == (
        "eval/mean_reward", "rollout/ep_rew_mean")
    assert rl_markers(["train/loss", "val/loss"]) == ()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_agents_loss_rising_with_its_returns_is_not_a_blow_up(seed):
    result = diagnose_run(R.make_rl_returns_grow(seed=seed), all_rules(), Config())
    codes = {f.code for f in result.findings}
    assert "DQ06" in codes and not codes & LEVEL_RULES, sorted(codes)
    # Its returns rose in order and held (RL01): the run is judged by them, and they say keep.
    rec = result.recommendation
    assert "RL01" in codes and rec.action == "keep" and rec.rule == "RL01" and "returns" in rec.reason


@pytest.mark.parametrize("make,code", [(R.make_rl_nan, "DV01"), (R.make_rl_exploded, "DV03")])
def test_non_finite_and_explosions_still_count_on_an_agent(make, code):
    result = diagnose_run(make(seed=0), all_rules(), Config())
    assert code in {f.code for f in result.findings}
    assert result.recommendation.action == "decrease"


def test_dq06_message_names_the_marker_tags():
    result = diagnose_run(R.make_rl_returns_grow(), all_rules(), Config())
    f = next(f for f in result.findings if f.code == "DQ06")
    assert "rollout/ep_rew_mean" in f.message and f.evidence == {"marker_tags": 2, "returns_logged": 1}


# --------------------------------------------------------------------------- real corpus

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"
RL_RUNS = ("rl-sb3/", "ray-ppo/", "__rl4co/")  # the corpus's RL runs, by their repository directory


@pytest.fixture(scope="module")
def real_report():
    if not (CORPUS / "MANIFEST.csv").exists():
        pytest.skip("../shared/real_logs is absent")
    return lrdoctor.diagnose(CORPUS)


def test_real_corpus_rl_runs_are_recognised_and_no_others(real_report):
    rl = {r.run for r in real_report.runs if any(f.code == "DQ06" for f in r.findings)}
    expected = {r.run for r in real_report.runs if any(k in r.run for k in RL_RUNS)}
    assert len(expected) == 7 and rl == expected


def test_real_corpus_rl_runs_get_no_level_verdict(real_report):
    for r in real_report.runs:
        if any(k in r.run for k in RL_RUNS):
            codes = {f.code for f in r.findings}
            assert not codes & LEVEL_RULES, (r.run, sorted(codes))
            # No LR verdict from an RL loss: abstain (issue 10; the ray-ppo return collapse is named in the reason).
            assert r.recommendation.action == "abstain", (r.run, r.recommendation.reason)


def test_a_marker_tag_added_to_a_run_already_diagnosed_is_seen():
    run = C.make_blow_up()
    assert "DQ06" not in {f.code for f in diagnose_run(run, all_rules(), Config()).findings}
    run.series["rollout/ep_rew_mean"] = run.series["train/loss"]
    assert "DQ06" in {f.code for f in diagnose_run(run, all_rules(), Config()).findings}


def test_rl_marker_docstring_examples():
    import doctest

    import lrdoctor.tags

    result = doctest.testmod(lrdoctor.tags)
    assert result.attempted > 0 and result.failed == 0
