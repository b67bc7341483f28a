"""Can the log say anything about the learning rate?  Findings after which advice abstains.

Each rule here finds a run whose loss curve is not a measure of how well the LR is set: a loss broken
before training began, a validation set that never gave a number, two networks playing against each
other, an objective with no floor, or a loss that did not move at all.  Advice answers them with
``abstain`` ("no LR advice: <why>"), never with "keep" (judged, looks right) nor a made-up direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, VAL_LOSS, Run
from ..signal.trend import mann_kendall
from ._view import term_levels, view_of
from .base import Rule


class ValidationNeverFinite(Rule):
    """Every validation-loss value is NaN or infinite while the train loss is finite.

    What it detects
        A validation-loss curve with ``min_points`` or more evaluations, none of them finite, next to a
        train loss with finite values.  (A validation loss that was finite and then broke is DV01.)

    Why it matters
        A validation loss that is NaN from its very first evaluation, while the same model trains on
        finite losses, comes from the validation data or metric code (a NaN or an empty batch in the
        validation set, a division by zero), not from the step size.  Overfitting and convergence
        cannot be judged on it, and the train curve alone of a run with a data bug is no basis for LR
        advice: advice abstains and says why.

    Evidence
        ``evaluations`` (how many, all non-finite), ``train_points`` (finite train-loss points).

    Options
        ``min_points`` = 2 (one NaN evaluation can be a single bad batch).
    """

    code = "DQ07"
    name = "validation-never-finite"
    kind = "data_quality"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS, VAL_LOSS)

    @dataclass(frozen=True)
    class Options:
        min_points: int = 2

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        val, train = run.get(VAL_LOSS), run.get(TRAIN_LOSS)
        finite_train = int(np.isfinite(train.values).sum())
        if len(val) < options.min_points or np.isfinite(val.values).any() or finite_train == 0:
            return
        tag = run.roles[VAL_LOSS]
        yield self.finding(
            run, f"{tag} is NaN/inf at every one of its {len(val)} evaluations while {run.roles[TRAIN_LOSS]} is finite: "
                 f"a bug in the validation data or code, not the LR",
            tag=tag, start_step=int(val.steps[0]), end_step=int(val.steps[-1]),
            evidence={"evaluations": len(val), "train_points": finite_train})


class AdversarialRun(Rule):
    """A GAN: a generator and a discriminator (critic) loss are logged.

    What it detects
        Both a generator loss and a discriminator or critic loss among the tags (``tags.gan_markers``:
        ``loss_G`` + ``loss_D``, ``train_gen_loss`` + ``train_disc_loss``, ``g_loss`` + ``d_loss``).

    Why it matters
        The two networks are trained against each other: each one's loss rises when the other
        improves, and a Wasserstein critic's loss is signed by design.  Neither level shows whether
        the model converges, so "ended above its start", "still falling" or "stuck" say nothing about
        the LR: those checks are skipped (as for reinforcement learning, DQ06) and advice abstains
        unless a loss went NaN/inf or exploded by orders of magnitude.  Judge a GAN by its samples or
        a sample-quality metric (FID, IS).

    Evidence
        ``marker_tags`` (how many adversarial loss tags).

    Options
        none.
    """

    code = "DQ08"
    name = "adversarial-run"
    kind = "data_quality"
    severity = Severity.INFO
    requires = (TRAIN_LOSS,)

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        markers = view_of(run).gan_tags
        if markers:
            yield self.finding(
                run, f"GAN ({', '.join(markers[:4])}): generator and discriminator losses play against each other, "
                     f"their levels do not show convergence; only NaN/inf and explosions were checked",
                tag=run.roles.get(TRAIN_LOSS, ""), evidence={"marker_tags": len(markers)})


class ReweightedObjective(Rule):
    """The loss rose only through a penalty term whose weight grows (KL annealing): not comparable over time.

    What it detects
        The train loss logs its terms beside it (``tags.objective_terms``: a KL penalty and a data-fit
        term such as an NLL or reconstruction loss, in the train phase), the total ended at least half
        above its start, and the data-fit term rose by at most a tenth of the total's rise
        (``rules._view.reweighted_objective``; starts are medians of the first three points, ends of
        the last tenth).

    Why it matters
        An ELBO-style objective (loss = NLL + beta * KL) whose beta is annealed in climbs by design while
        the fit itself is steady: a Bayesian network in bench/real (train loss 0.34 -> 75 linearly over 25
        epochs, train NLL 0.32-0.36 throughout, KL ~3.6e5) was told "blew up, decrease x0.03".  As for RL
        and GAN runs, the loss's levels at different times are not comparable, so every rule that
        compares them is skipped and advice abstains (NaN/inf and explosions still count).

    Evidence
        ``total_start``, ``total_end``, ``fit_start``, ``fit_end`` (the tags are named in the message).

    Options
        none (``_view.REWEIGHT_MIN_RISE`` = 0.5, ``REWEIGHT_FIT_SHARE`` = 0.1).
    """

    code = "DQ10"
    name = "reweighted-objective"
    kind = "data_quality"
    severity = Severity.INFO
    requires = (TRAIN_LOSS,)

    def check(self, run: Run, options: Rule.Options) -> Iterator[Finding]:
        terms = view_of(run).reweighted
        if not terms:
            return
        total, fit = term_levels(run.get(TRAIN_LOSS)), term_levels(run.series[terms[1]])
        yield self.finding(
            run, f"{run.roles[TRAIN_LOSS]} rose {total[0]:.3g} -> {total[1]:.3g} while its data-fit term {terms[1]} barely moved "
                 f"({fit[0]:.3g} -> {fit[1]:.3g}) beside the penalty {terms[0]}: the penalty's weight grows (KL "
                 f"annealing), so loss levels are not compared over time",
            tag=run.roles[TRAIN_LOSS], evidence={"total_start": total[0], "total_end": total[1], "fit_start": fit[0],
                                                 "fit_end": fit[1]})


class UnboundedObjective(Rule):
    """The loss runs away below zero by orders of magnitude: the objective has no floor.

    What it detects
        A train loss that is negative over its last tenth, whose magnitude there is at least
        ``min_growth`` times that of its first points (and at least ``min_growth``), and that is still
        falling at the end: the median of the last tenth is below every value of the first half and
        the last half falls steadily (Mann-Kendall tau at most -``steady_tau``).

    Why it matters
        A cross-entropy, a squared error or a KL divergence is bounded below by 0; a loss that keeps
        falling to -1e8 has no minimum to converge to: a label outside [0, 1] fed to a binary
        cross-entropy, a sign error, an unregularised likelihood.  Training "improves" forever and no
        learning rate can fix it, so it is never called fine: advice abstains and says why.

    Evidence
        ``start``, ``end`` (medians of the first three points and the last tenth), ``growth``
        (|end| / max(|start|, 1)), ``tau`` of the last half.

    Options
        ``min_growth`` = 10 (an order of magnitude); ``steady_tau`` = 0.6.
    """

    code = "DQ09"
    name = "unbounded-objective"
    kind = "data_quality"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_growth: float = 10.0
        steady_tau: float = 0.6
        min_points: int = 8

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        c = view_of(run).train
        if c is None or c.n < options.min_points:
            return
        start, end = c.head(), c.tail()
        growth = abs(end) / max(abs(start), 1.0)
        if end >= 0 or growth < options.min_growth or end >= float(c.values[: c.n // 2].min()):
            return
        tau = mann_kendall(c.values[c.n // 2:]).tau
        if tau > -options.steady_tau:
            return
        yield self.finding(
            run, f"{c.tag} fell from {start:.3g} to {end:.3g} and is still falling: an objective with no lower bound "
                 f"(labels outside the loss's range, a sign error), not a learning-rate question",
            tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
            evidence={"start": start, "end": end, "growth": round(growth, 2), "tau": round(tau, 3)})


class NegligibleChange(Rule):
    """The loss fell by a negligible share of its level early on and then froze.

    What it detects
        A finite train loss whose smoothed range over the whole run is less than ``max_change`` of
        its starting level, whose fall (start minus end) stands out of its noise (``min_z`` sigmas
        of the difference of the two medians), and that made less than ``max_late_share`` of that fall
        in its last half: it moved a little at first and then froze.  A monotone but tiny decline
        still counts: 0.08 % over a hundred epochs is not progress.  A curve whose small change is
        spread over the run, or lost in its noise, is left to SC01/PL01 (a too-small or too-large rate).
        Also a loss bit-identical at every point: even a network whose units all died (PL01's too-large
        rate) gives each minibatch its own loss, so nothing training does reaches this one.

    Why it matters
        A model that learns anything moves its loss by more than a percent; one frozen just below its
        starting value has settled on a degenerate solution (a constant output, dead units, a detached
        graph, inputs that carry no signal).  A different LR rarely fixes that, and the curve cannot
        say which way the LR is off: advice abstains and says why.

    Evidence
        ``start``, ``end``, ``change`` (smoothed range / start), ``late_share`` (share of the fall in
        the last half), ``identical`` (1: the same value at every point).

    Options
        ``max_change`` = 0.01 (one per cent); ``min_z`` = 4; ``max_late_share`` = 0.1; ``min_points`` = 20.
    """

    code = "PL05"
    name = "negligible-change"
    kind = "plateau"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        max_change: float = 0.01
        min_z: float = 4.0
        max_late_share: float = 0.1
        min_points: int = 20

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        c = view.train
        if c is None or c.n < options.min_points or c.first_bad_step is not None or not view.positive \
                or not view.levels_comparable_over_time:
            return
        if np.all(c.values == c.values[0]):
            # Bit-identical at every point: no update reached what is logged (a frozen model, a detached
            # graph, a constant written as the loss).  Even a network whose units all died gives each
            # minibatch its own loss (found on blind-labelled real logs: 16.74222755 at all 74 logged
            # batches, told PL01 "divide the LR by 32").
            yield self.finding(
                run, f"{c.tag} is exactly {float(c.values[0]):.10g} at every one of its {c.n} points: nothing that "
                     f"training does reaches it (frozen parameters, a detached graph, a constant logged), "
                     f"not a learning-rate question",
                tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
                evidence={"start": float(c.values[0]), "end": float(c.values[0]), "change": 0.0, "late_share": 0.0,
                          "identical": 1})
            return
        start, end = c.head(), c.tail()
        change = float(c.smooth.max() - c.smooth.min()) / start if start > 0 else np.inf
        fall = start - end
        noise = float(np.hypot(c.noise / np.sqrt(min(3, c.n)), c.tail_noise()))
        if change >= options.max_change or fall <= options.min_z * noise:
            return
        late_share = float(c.smooth[c.n // 2] - end) / fall
        if late_share >= options.max_late_share:
            return
        yield self.finding(
            run, f"{c.tag} moved only {change:.2%} of its level over {c.n} points ({start:.6g} -> {end:.6g}) and "
                 f"then froze: stuck at a degenerate solution (constant output, dead units, a bug), not slow progress",
            tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
            evidence={"start": start, "end": end, "change": round(change, 6), "late_share": round(late_share, 4)})
