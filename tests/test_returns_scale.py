"""RL01 vouches for an RL run only when its return gained a real share of its own scale.

Found in review (seeded reduction): an SB3 progress.csv whose Pendulum-like return went -200 -> -198 in
perfect order passed the order test and the noise bar (a logged return is a rolling mean whose noise the
sigma understates) and was told 'keep: the agent learned'.  A 1 % change of the return is no evidence of
learning; a rise from 20 to 200 is.
"""
from __future__ import annotations

import numpy as np

import lrdoctor


def _progress_csv(folder, returns, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    n = len(returns)
    loss = np.abs(0.5 + 0.1 * rng.standard_normal(n))
    rows = "".join(f"{(i + 1) * 2048},{r:.6g},{l:.6g},0.0003\n" for i, (r, l) in enumerate(zip(returns, loss)))
    (folder / "progress.csv").write_text(
        "time/total_timesteps,rollout/ep_rew_mean,train/loss,train/learning_rate\n" + rows)
    return folder


def _codes_and_action(folder):
    (run,) = lrdoctor.diagnose(folder).runs
    return {f.code for f in run.findings}, run.recommendation.action


def test_a_return_that_moved_one_percent_is_no_evidence_of_learning(tmp_path):
    x = np.linspace(0, 1, 300)
    returns = -200 + 2 * x + 0.05 * np.random.default_rng(0).standard_normal(300)
    codes, action = _codes_and_action(_progress_csv(tmp_path / "pendulum", returns))
    assert "RL01" not in codes and action == "abstain"


def test_a_return_that_rose_tenfold_and_held_is_keep(tmp_path):
    x = np.linspace(0, 1, 300)
    returns = 20 + 180 / (1 + np.exp(-(x - 0.3) / 0.05)) + 5 * np.random.default_rng(1).standard_normal(300)
    codes, action = _codes_and_action(_progress_csv(tmp_path / "learned", returns))
    assert "RL01" in codes and action == "keep"
