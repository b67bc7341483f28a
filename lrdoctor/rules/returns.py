"""Reinforcement-learning returns: an agent that lost what it had learned (DV06), or kept it (RL01)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run, Series
from ..signal.noise import mad_noise
from ..signal.smoothing import rolling_median
from ..signal.trend import mann_kendall
from ..tags import return_tag
from ._view import measured, smoothing_window, view_of
from .base import Rule


class ReturnCollapsed(Rule):
    """The episode return of a reinforcement-learning run collapsed from its best level.

    What it detects
        On a run DQ06 marks as reinforcement learning, the episode-return curve (``tags.return_tag``:
        ``episode_reward_mean``, ``rollout/ep_rew_mean`` ...), smoothed by a running median of ~5 % of
        its points, first rose from its start by more than ``min_z`` noise sigmas and held at least half
        of that gain for ``min_held`` of the run before the collapse (a learned policy, not a lucky stretch
        of a sparse reward), then fell from its best by at least ``min_lost`` of that gain (and
        ``min_z`` sigmas).  The loss just before the
        collapse is compared with its median before the best: ``loss_jump``.

    Why it matters
        An agent that forgets its policy (a PPO "policy collapse") has taken updates too large for
        the region it was in -- usually right after its loss exploded on new, surprising returns.  It
        is a finding the loss level alone cannot show (DQ06 skips it).  But an RL run's LR is not
        judged from one curve: advice still abstains, and says that a smaller LR (or clip range, KL
        target) is the usual remedy to try if the collapse recurs.

    Evidence
        ``start``, ``best``, ``low``, ``end`` (smoothed returns), ``lost`` (share of the gain lost),
        ``best_step``, ``onset_step`` (the smoothed return half way down), ``low_step``, ``loss_jump``
        (largest loss between the best and the onset over the loss's median before the best), ``lr_at_onset``.

    Options
        ``min_lost`` = 0.75 (three quarters of the gain: a collapse, not a wobble); ``min_z`` = 4;
        ``min_held`` = 0.2 (a fifth of the run); ``min_points`` = 10.
    """

    code = "DV06"
    name = "return-collapsed"
    kind = "divergence"
    severity = Severity.WARNING

    @dataclass(frozen=True)
    class Options:
        min_lost: float = 0.75
        min_z: float = 4.0
        min_held: float = 0.2
        min_points: int = 10

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        curve = _returns(run, options.min_points)
        if curve is None:
            return
        tag, steps, y = curve
        w = smoothing_window(y.size)
        sm = rolling_median(y, window=w)
        noise = mad_noise(y, window=w).sigma
        start = float(np.median(y[:w]))
        i_best = int(np.argmax(sm))
        best = float(sm[i_best])
        i_low = i_best + int(np.argmin(sm[i_best:]))
        low = float(sm[i_low])
        gain, drop = best - start, best - low
        if gain <= options.min_z * noise or drop < options.min_lost * gain or drop <= options.min_z * noise:
            return
        i_on = i_best + int(np.flatnonzero(sm[i_best:] <= best - 0.5 * drop)[0])
        if np.count_nonzero(sm[:i_on] >= start + 0.5 * gain) < options.min_held * y.size:
            return
        onset, best_step = int(steps[i_on]), int(steps[i_best])
        jump = _loss_jump(run.get(TRAIN_LOSS), best_step, onset)
        end = float(np.median(y[-w:]))
        jumped = f" right after {run.roles.get(TRAIN_LOSS)} jumped {jump:.3g}x" if jump and jump >= 3 else ""
        yield self.finding(
            run, f"{tag} collapsed from {best:.4g} (step {best_step:,}) to {low:.4g} (step {int(steps[i_low]):,}), "
                 f"losing {drop / gain:.0%} of its gain{jumped}; it ended at {end:.4g}",
            tag=tag, start_step=onset, end_step=int(steps[i_low]),
            evidence=measured(start=start, best=best, low=low, end=end, lost=round(drop / gain, 3), best_step=best_step,
                              onset_step=onset, low_step=int(steps[i_low]), loss_jump=None if jump is None else round(jump, 2),
                              lr_at_onset=view.lr_at_step(onset)))


def _returns(run: Run, min_points: int) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(tag, steps, values) of the finite episode returns of a run DQ06 marks as RL, None without enough."""
    tag = return_tag(run.series) if view_of(run).rl_tags else None
    if tag is None:
        return None
    s = run.series[tag]
    ok = np.isfinite(s.values)
    if int(ok.sum()) < min_points:
        return None
    return tag, s.steps[ok], s.values[ok].astype(float)


class ReturnsRoseAndHeld(Rule):
    """The episode return rose steadily and kept its gain: the agent learned (keep the LR).

    What it detects
        On a run DQ06 marks as reinforcement learning, the episode-return curve (as DV06 picks it) rises
        over the run in order -- Mann-Kendall tau at least ``min_tau`` with a two-sided p < 0.01 -- by more
        than ``min_z`` noise sigmas from its start (median of the first smoothing window) to its best
        (running median of ~5 % of the points), and its end (median of the last window) still holds at
        least ``min_held`` of that gain.

    Why it matters
        An agent's loss does not say whether its LR is right (DQ06), but its returns do: a return that
        climbs and stays up is the run working, which is what "keep" means.  Blind labels on real logs
        (SB3 PPO racer, FlappyBird, PPO_1, a custom PPO on Hopper) call such runs fine, where lrdoctor
        abstained on every RL run before.  Between "held two thirds" and DV06's "lost three quarters"
        (a PPO InvertedPendulum whose return fell from 980 to ~500, an RLlib run that crashed and half
        recovered, a curriculum whose stages pull the return down) the returns cannot vouch, and advice
        still abstains.  A flat return (episodes of length 1 all run) is no rise: abstain.

    Evidence
        ``start``, ``best``, ``end`` (smoothed returns), ``held`` (share of the gain the end keeps),
        ``tau`` (Mann-Kendall of the whole return curve), ``points``.

    Options
        ``min_tau`` = 0.5 (three quarters of the point pairs in order); ``min_held`` = 2/3; ``min_z`` = 4;
        ``min_points`` = 10; ``min_rel_gain`` = 0.1 (the gain is at least a tenth of the larger of |start|
        and |best|: a logged return is usually a rolling mean, whose noise the sigma understates).
    """

    code = "RL01"
    name = "returns-rose-and-held"
    kind = "returns"
    severity = Severity.INFO

    @dataclass(frozen=True)
    class Options:
        min_tau: float = 0.5
        min_held: float = 2.0 / 3.0
        min_z: float = 4.0
        min_points: int = 10
        min_rel_gain: float = 0.1

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        curve = _returns(run, options.min_points)
        if curve is None:
            return
        tag, steps, y = curve
        w = smoothing_window(y.size)
        sm = rolling_median(y, window=w)
        noise = mad_noise(y, window=w).sigma
        start, best, end = float(np.median(y[:w])), float(sm.max()), float(np.median(y[-w:]))
        gain = best - start
        mk = mann_kendall(y)
        # The noise of a logged return is understated (it is usually a rolling mean over the last
        # episodes, so neighbours share most of their episodes and the order test is too easily met):
        # the gain must also be a real share of the return's own scale (a Pendulum return going
        # -200 -> -198 in order is not an agent that learned; found in review).
        scale = max(abs(start), abs(best))
        if mk.tau < options.min_tau or mk.p >= 0.01 or gain <= options.min_z * noise \
                or gain < options.min_rel_gain * scale:
            return
        held = (end - start) / gain
        if held < options.min_held:
            return
        yield self.finding(
            run, f"{tag} rose from {start:.4g} to {best:.4g} in order (Mann-Kendall tau {mk.tau:.2f}) and ended at "
                 f"{end:.4g}, keeping {held:.0%} of the gain: the agent learned and held it",
            tag=tag, start_step=int(steps[0]), end_step=int(steps[-1]),
            evidence={"start": start, "best": best, "end": end, "held": round(held, 3), "tau": round(mk.tau, 3),
                      "points": int(y.size)})


def _loss_jump(loss: Series | None, best_step: int, onset: int) -> float | None:
    """Largest finite loss from the best return to the collapse's onset, over the loss's median before the best."""
    if loss is None:
        return None
    v, st = loss.values, loss.steps
    before = v[(st <= best_step) & np.isfinite(v)]
    during = v[(st >= best_step) & (st <= onset) & np.isfinite(v)]
    if before.size < 3 or during.size == 0:
        return None
    ref = float(np.median(np.abs(before)))
    return float(np.max(np.abs(during))) / ref if ref > 0 else None
