"""Seeded reinforcement-learning curves (and one supervised look-alike) with known answers; see curves.py."""
from __future__ import annotations

import numpy as np

from lrdoctor.model import Run, Series

from curves import STEPS, K, _run, _t, make_blow_up


def make_rl_returns_grow(seed=0, lr=1e-4) -> Run:
    """A DQN-like agent (stable-baselines3 tags): the episode return grows 0 -> 1, and its TD loss, whose
    targets are built from the returns, grows with it (0.01 -> 0.11) and jumps 3x now and then when new
    rewards are found.  Healthy learning whose loss ends 10x above its start."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    returns = 1.0 / (1.0 + np.exp(-(t - 0.5) / 0.1))
    loss = (0.01 + 0.1 * returns) * np.exp(0.2 * rng.standard_normal(n))
    loss[rng.choice(np.arange(20, n), 4, replace=False)] *= 3.0
    run = _run("rl-returns-grow", loss, None, np.full(n, lr))
    steps = run.series["train/loss"].steps
    run.series["rollout/ep_rew_mean"] = Series.from_lists(steps, returns + 0.02 * rng.standard_normal(n))
    run.series["rollout/exploration_rate"] = Series.from_lists(steps, np.maximum(0.05, 1.0 - t / 0.1))
    return run


def make_rl_returns_flat(seed=0) -> Run:
    """The agent above whose return never moves (an SB3 PPO whose episodes all end at once, reddyn12 PPO_5 in
    bench/real: ep_rew_mean -100 for the whole run): nothing says whether it learns."""
    run = make_rl_returns_grow(seed=seed)
    steps = run.series["rollout/ep_rew_mean"].steps
    rng = np.random.default_rng(seed + 100)
    run.series["rollout/ep_rew_mean"] = Series.from_lists(steps, -100.0 + 0.5 * rng.standard_normal(steps.size))
    return run


def make_rl_returns_fell_back(seed=0) -> Run:
    """The agent above whose return rose 0 -> 1, held a while, then slid back to ~0.45 (the PPO
    InvertedPendulum run in bench/real: 11 -> 980 -> ~500): not held, not a 75 % collapse either."""
    run = make_rl_returns_grow(seed=seed)
    steps = run.series["rollout/ep_rew_mean"].steps
    t = _t(steps.size)
    rng = np.random.default_rng(seed + 200)
    up = 1.0 / (1.0 + np.exp(-(t - 0.3) / 0.05))
    down = 0.55 / (1.0 + np.exp(-(t - 0.75) / 0.05))
    run.series["rollout/ep_rew_mean"] = Series.from_lists(steps, up - down + 0.02 * rng.standard_normal(steps.size))
    return run


def make_rl_nan(seed=0) -> Run:
    """The agent above, whose loss became NaN at 60 % of the run: still a divergence."""
    run = make_rl_returns_grow(seed=seed)
    y = run.series["train/loss"].values.copy()
    y[int(0.6 * y.size):] = np.nan
    run.series["train/loss"] = Series.from_lists(run.series["train/loss"].steps, y)
    return run


def make_rl_exploded(seed=0) -> Run:
    """The agent above, whose loss exploded by three orders of magnitude for a few points at 50 %."""
    run = make_rl_returns_grow(seed=seed)
    y = run.series["train/loss"].values.copy()
    y[80:84] *= 1000.0
    run.series["train/loss"] = Series.from_lists(run.series["train/loss"].steps, y)
    return run


def make_preference_blow_up(seed=0) -> Run:
    """Supervised preference training (DPO logs ``rewards/chosen``, ``rewards/margins``) whose loss blew
    up: a reward word alone does not make it reinforcement learning, so DV02 still judges it."""
    run = make_blow_up(seed=seed)
    steps = run.series["train/loss"].steps
    for tag in ("rewards/chosen", "rewards/margins"):
        run.series[tag] = Series.from_lists(steps, np.linspace(0.0, 1.0, steps.size))
    return run
