"""Data-quality family (DQ): notes on what could and could not be checked.  All info."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..findings import Finding, Severity
from ..model import LR, TRAIN_LOSS, VAL_LOSS, Run
from ..tags import return_tag
from ._view import view_of
from .base import Rule


class _Note(Rule):
    """What every data-quality rule shares: an info note on what could not be checked, not a verdict."""

    kind = "data_quality"
    severity = Severity.INFO


class TooFewPoints(_Note):
    """The train loss has too few logged points to judge its shape.

    What it detects
        A train-loss curve with fewer than ``min_points`` points, or no train-loss curve at all.

    Why it matters
        Trend and noise estimates need a handful of points; with fewer, the shape rules stay silent
        and the verdict rests on divergence checks only.

    Evidence
        ``points``.

    Options
        ``min_points`` = 8.
    """

    code = "DQ01"
    name = "too-few-points"

    @dataclass(frozen=True)
    class Options:
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        s = run.get(TRAIN_LOSS)
        n = 0 if s is None else len(s)
        if n < options.min_points:
            what = "no train-loss curve was found" if s is None else f"the train loss has only {n} point{'' if n == 1 else 's'}"
            yield self.finding(run, f"{what}; shape checks were skipped", tag=run.roles.get(TRAIN_LOSS, ""),
                               evidence={"points": n})


class NoValidationCurve(_Note):
    """No validation loss was logged.

    What it detects
        A run without a validation-loss tag.

    Why it matters
        Overfitting cannot be checked, and convergence is judged on the noisier train loss alone.

    Evidence
        ``has_val`` = 0.

    Options
        none.
    """

    code = "DQ02"
    name = "no-validation-curve"

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        if run.get(VAL_LOSS) is None:
            yield self.finding(run, "no validation loss logged: overfitting was not checked", evidence={"has_val": 0})


class RestartsInLog(_Note):
    """The log restarts at an earlier step (a resumed or re-run job).

    What it detects
        Restarts the reader found (steps going backwards); the later values were kept.

    Why it matters
        Overlapping segments can hide or fake spikes; the user should know which segment was used.

    Evidence
        ``restarts``, ``first_from_step``, ``first_to_step``.

    Options
        none.
    """

    code = "DQ03"
    name = "restarts-in-log"

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        if run.restarts:
            r = run.restarts[0]
            yield self.finding(
                run, f"{len(run.restarts)} restart(s) in the log; first in {r.tag} from step {r.from_step:,} back to {r.to_step:,}",
                tag=r.tag, start_step=r.to_step, end_step=r.from_step,
                evidence={"restarts": len(run.restarts), "first_from_step": r.from_step, "first_to_step": r.to_step})


class LrNotLogged(_Note):
    """The learning rate is not in the log.

    What it detects
        No LR tag; the LR from hyper-parameters (hparams.yaml) or ``--lr`` is used when given.

    Why it matters
        Without the LR the schedule's phases are unknown and the advice can only give a factor.

    Evidence
        ``lr_from_hparams`` (1 when hyper-parameters gave the LR, 0 when none was found).

    Options
        none.
    """

    code = "DQ04"
    name = "lr-not-logged"

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        if run.get(LR) is None:
            source = view_of(run).lr_source if run.get(TRAIN_LOSS) is not None else "none"
            yield self.finding(run, f"the learning rate is not logged (LR taken from: {source})",
                               evidence={"lr_from_hparams": int(source == "hparams")})


class NegativeLoss(_Note):
    """The loss takes negative values, so checks that compare levels by ratios were skipped.

    What it detects
        A finite train or validation loss value < 0 (GAN, log-likelihood or reward-like objectives).

    Why it matters
        "20 % above the start" or "improved 5 %" mean nothing when the loss can be negative; the
        divergence (NaN), spike-free and overfitting checks that need ratios stay silent.

    Evidence
        ``min_value``.

    Options
        none.
    """

    code = "DQ05"
    name = "negative-loss"
    requires = (TRAIN_LOSS,)

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        view = view_of(run)
        if not view.positive:
            lows = [float(c.values.min()) for c in (view.train, view.val) if c is not None and c.n]
            yield self.finding(run, f"the loss goes down to {min(lows):.3g} (< 0): ratio-based checks were skipped",
                               evidence={"min_value": min(lows)})


class ReinforcementLearningRun(_Note):
    """A reinforcement-learning run: its loss levels are not compared over time.

    What it detects
        Tags that only an agent interacting with an environment logs (``tags.rl_marker``): episode
        returns or lengths (``rollout/ep_rew_mean``, ``eval/mean_reward``, ``episode_reward_mean``,
        ``train/reward``), an exploration rate, or a policy / value-function loss (``policy_loss``,
        ``train/policy_gradient_loss``, ``train/value_loss``, ``vf_loss``).  A reward word alone
        (DPO's ``rewards/chosen``) or ``entropy_loss`` (``cross_entropy_loss``) does not count.

    Why it matters
        An agent's loss (TD error, policy-gradient surrogate, value loss) is measured against targets
        built from its own returns: it rises by design as the returns grow and jumps when new rewards
        are found.  "Ended above its start", "never fell", "still falling", "rose from its minimum" or
        "a spike undid the progress" say nothing about the learning rate there, so DV02, SP01, PL01-03,
        SC01 and OF01 are skipped.  NaN/inf (DV01) and order-of-magnitude explosions (DV03, measured
        also against the level just before the jump) are still checked.  Judge the rate by the returns.

    Evidence
        ``marker_tags`` (how many tags marked the run); ``returns_logged`` (1: an episode-return curve,
        ``tags.return_tag``, is logged, so RL01/DV06 read it).

    Options
        none.
    """

    code = "DQ06"
    name = "reinforcement-learning-run"
    requires = (TRAIN_LOSS,)

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        markers = view_of(run).rl_tags
        if markers:
            shown = ", ".join(markers[:3]) + (f" and {len(markers) - 3} more" if len(markers) > 3 else "")
            yield self.finding(
                run, f"reinforcement-learning run ({shown}): its loss rises as the returns grow, so loss levels "
                     f"are not compared over time; only NaN/inf and explosions were checked",
                tag=run.roles.get(TRAIN_LOSS, ""),
                evidence={"marker_tags": len(markers), "returns_logged": int(return_tag(run.series) is not None)})
