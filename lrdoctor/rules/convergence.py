"""Slow-convergence family (SC): still improving steadily at the end of the run."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from ..findings import Finding, Severity
from ..model import TRAIN_LOSS, Run
from ..signal.trend import late_share, runs_per_time_constant, theil_sen
from ._view import progress_curve, start_level, view_of
from .base import Rule
from .plateau import StuckAtStart, judged_curve, small_rate_crawl, still_decreasing, stuck_at_start


class StillImproving(Rule):
    """The loss was still falling steadily when the run ended: the steps were too small.

    What it detects
        The share of the total improvement made in the last third of the run (measured in
        cumulative LR, so cosine/step schedules compare with constant ones) is at least
        ``min_late_share``, and the curve's last half is a steady fall (Mann-Kendall tau at most
        -``steady_tau``).  A share above 1 (the curve rose above its start before falling) is
        instability, not slowness, and is left to other rules.  The validation loss is used when logged (it is smoother and is what
        matters); otherwise the smoothed train loss.  A curve that ended ``max_improvement`` (90 %) or
        more below its start and is still falling is said as info with no LR advice: it got most of the
        way, more steps would help, and nothing shows the rate was slow (blind labels on real logs: a
        GPT-2 run on a small corpus going 8.46 -> 0.12 and still falling was told "increase x2.5"; of
        the 272 SC01 findings on the public bench and held-out suites a-d, one fell that far, labelled too low).

    Why it matters
        For an exponential approach with time constant tau over a run of length T the late share
        is 0.09 when T = 3 tau (converged) and 0.23 when T = tau; 0.33 is a straight line.  A late share
        of 0.2 or more means the run stopped within about one time constant: a larger LR would
        have got further in the same budget.

    Evidence
        ``late_share``, ``runs_per_tau`` (T / tau from the late share), ``improvement`` (of the judged
        curve, relative to the start), ``train_improvement`` (smoothed train loss, end vs start),
        ``tau_mk`` (Mann-Kendall tau of the last half), ``end_slope_per_1k_steps`` (Theil-Sen slope of the
        judged curve's last half, in loss per 1,000 steps: how fast it was still falling, robust to a few
        outlying points), ``on_val`` (1: judged on validation, 0: on train).

    Options
        ``min_late_share`` = 0.2 (T < ~1.2 tau); ``steady_tau`` = 0.6; ``min_points`` = 8 train points for an
        epoch-level log, ``min_step_points`` = 15 for a step-level one (found on blind-labelled real logs: 13
        lines of an LLM's first 260 batches, still in its first steep fall, were told "increase x11");
        ``min_val_points`` = 5 (fewer validation points: the train loss is used); ``max_improvement`` = 0.9.
    """

    code = "SC01"
    name = "still-improving"
    kind = "slow_convergence"
    severity = Severity.ERROR
    requires = (TRAIN_LOSS,)

    @dataclass(frozen=True)
    class Options:
        min_late_share: float = 0.2
        steady_tau: float = 0.6
        min_points: int = 8
        min_step_points: int = 15
        min_val_points: int = 5
        max_improvement: float = 0.9

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        # A step-level log of a few points is a fragment of a training (its first few hundred steps), where
        # any LR is still in its first fall; an epoch-level one is a whole training of a few epochs.
        enough = options.min_points if view.train_is_epoch_level else options.min_step_points
        if progress_curve(view, min_points=enough, finite=True) is None:
            return
        c = judged_curve(view, min_val_points=options.min_val_points)
        y = c.smooth if c is view.train else c.values
        share = late_share(y, x=c.t)
        falls, tau_mk = still_decreasing(c, min_tau=options.steady_tau)
        # Still falling means the last point is (within 2 sigma of a 3-point median's noise) the best one.
        best_at_end = float(c.values[-1]) <= float(c.values.min()) + 2 * c.noise / math.sqrt(3)
        # A share above 1 means the curve stood above its start two thirds of the way in: it rose
        # first (instability), which is not slowness.
        if not options.min_late_share <= share <= 1.0 or not falls or not best_at_end:
            return
        start = start_level(view)
        improvement = 1 - float(c.values.min()) / start if start > 0 else 0.0
        head = view.train.head()
        train_improvement = 1 - float(view.train.smooth[-1]) / head if head > 0 else 0.0
        rpt = runs_per_time_constant(share)
        half = slice(c.n // 2, None)
        end_slope = theil_sen(c.steps[half], c.values[half]).slope * 1000
        # A late share of 0.25 is a run of ~0.8 time constants (less than one): clearly too slow.
        # Between 0.2 and 0.25 (0.8-1.3 tau) it is the milder warning.
        severity = Severity.ERROR if share >= 0.25 else Severity.WARNING
        if improvement >= options.max_improvement:
            severity = Severity.INFO  # it got most of the way: more steps would help, the LR is not shown slow
        yield self.finding(
            run,
            f"{c.tag} was still falling steadily at the end: {share:.0%} of its improvement came in the last third "
            f"(run length ~{rpt:.1f} time constants; converged runs show < 10 %)",
            severity=severity, tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
            evidence={"late_share": round(share, 4), "runs_per_tau": round(rpt, 3), "improvement": round(improvement, 4),
                      "train_improvement": round(train_improvement, 4),
                      "tau_mk": round(tau_mk, 3), "end_slope_per_1k_steps": float(f"{end_slope:.4g}"),
                      "on_val": int(c is view.val)},
        )


class CrawlsAtSmallRate(Rule):
    """The loss barely moved at a small LR: steps too small, not too large.

    What it detects
        What PL01 measures (the loss never got 10 % below its start and is not falling steadily by
        PL01's smoothness test), on a run whose peak LR (logged, else from the hyper-parameters) is either
        at most ``plateau.TINY_LR`` (1e-6), or at most ``plateau.SMALL_LR`` (1e-4) while the train loss
        (or a validation loss of five points or more) falls over the whole run in order: Mann-Kendall
        tau <= -0.5 with a one-sided p < 0.01, and has not settled (a fifth or more of its gain in the last
        third of LR-time, SC01's measure).  PL01 then stays silent; it is silent too for an ordered fall
        at a small rate that settled (a fine-tune from a good start with little left to gain).  A
        downward drift short of that order (one-sided p < 0.05, ending 0.5 % or more below the start),
        or an ordered fall of under 2 % of the start, is reported as info with no LR advice: there a
        stalled run and a crawling one look alike, and the minibatch noise alone would pick the
        direction.

    Why it matters
        PL01 reads a stuck loss as a rate so high that units died.  That takes large updates; Adam moves
        each weight by about the LR per step, so at a tenth of its default 1e-3 or less (the top of the
        usual fine-tuning range) a loss that is still falling in order is crawling, not stalled, and at
        1e-6 or less a network can barely move at all.  Blind labels on real logs: a CANINE fine-tune at
        4.4e-5 falling 4.63 -> 3.97 in strict order, a LoRA run at 4.6e-5 falling 7 %, an NMT fine-tune at
        1e-7 -- all too slow, all told "decrease" by PL01 before.  A run at 5e-5 whose loss sat at ln 4
        with no trend stays PL01's (too high).  Without a known LR this rule cannot fire: on the synthetic
        suites stuck runs at LR 0.03-3 also drift down in order.

    Evidence
        PL01's (``start``, ``end``, ``best_val``, ``improvement``, ``train_tau``, ``val_tau``) plus
        ``lr``, ``tiny`` (1: below ``TINY_LR``), and for a trend ``tau``, ``p_down``, ``on_val``, ``late_share``,
        ``settled`` (0 here).

    Options
        PL01's ``min_improvement`` = 0.1, ``steady_tau`` = 0.6, ``min_points`` = 8.
    """

    code = "SC02"
    name = "crawls-at-small-rate"
    kind = "slow_convergence"
    severity = Severity.WARNING
    requires = (TRAIN_LOSS,)

    Options = StuckAtStart.Options  # the same measurement as PL01's, so the same knobs

    def check(self, run: Run, options: Options) -> Iterator[Finding]:
        view = view_of(run)
        stuck = stuck_at_start(view, min_improvement=options.min_improvement, steady_tau=options.steady_tau,
                               min_points=options.min_points)
        crawl = None if stuck is None else small_rate_crawl(view)
        if crawl is None or crawl.get("settled"):
            return  # settled: PL01 is silent too (it fell in order at a small rate) and nothing is wrong
        c = view.train
        if crawl.get("ambiguous"):
            yield self.finding(
                run, f"{c.tag} stayed near its start ({stuck['start']:.3g} -> {stuck['end']:.3g}) with a slight downward "
                     f"drift (Mann-Kendall tau {crawl['tau']:.2f}, p {crawl['p_down']:.2g}) at a small lr {crawl['lr']:.3g}: "
                     f"too small a rate and a stalled one look alike here",
                severity=Severity.INFO, tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]),
                evidence={**stuck, **crawl})
            return
        why = (f"at lr {crawl['lr']:.3g}, far below the rates optimisers usually need" if crawl["tiny"] else
               f"while falling in order (Mann-Kendall tau {crawl['tau']:.2f}, p {crawl['p_down']:.2g}) at a small "
               f"lr {crawl['lr']:.3g}")
        yield self.finding(
            run, f"{c.tag} gained only {stuck['improvement']:.1%} on its start ({stuck['start']:.3g} -> "
                 f"{stuck['end']:.3g}) {why}: the steps are too small, not too large",
            tag=c.tag, start_step=int(c.steps[0]), end_step=int(c.steps[-1]), evidence={**stuck, **crawl})
