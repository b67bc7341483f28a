"""Follow growing logs beside a training job: each poll reads what was appended, re-diagnoses the runs
that gained points, and says which findings are new.

    >>> for poll in watch("runs/", interval=30):                    # doctest: +SKIP
    ...     for run, finding in poll.new_findings:
    ...         print(run.run, finding.code, finding.message)

Reading is readers/incremental.py's job.  Here: the diagnosis (``engine.diagnose_run`` for each run
with new points, the evidence across runs -- copies, sweeps, a baseline -- over every run, as
``engine.diagnose_runs`` does), and which findings were already said.  A finding is *new* unless one
already said has the same run, code and tag, a severity at least as high, and overlapping steps (a
plateau that grows, a divergence whose end moves on, stay one finding; a second spike episode, or a
warning that becomes an error, is new).  Nothing here prints; the CLI does (cli_watch.py).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np

from .config import Config
from .findings import Finding, Severity
from .model import Problem, Run
from .readers.incremental import Follower, PollStats
from .report import EXIT_ERROR, EXIT_FINDINGS, Report, RunResult


@dataclass
class Poll:
    """One look at the logs."""

    number: int  # 1, 2, ...
    report: Report  # every run's current result
    new_findings: list[tuple[RunResult, Finding]] = field(default_factory=list)
    new_problems: list[Problem] = field(default_factory=list)
    new_crashes: list[tuple[str, str]] = field(default_factory=list)  # (run, code of a check that crashed on it)
    rediagnosed: list[str] = field(default_factory=list)  # runs diagnosed again (they had new points)
    stats: PollStats = field(default_factory=PollStats)
    seconds_reading: float = 0.0
    seconds_diagnosing: float = 0.0

    def exit_code(self, fail_on: str) -> int | None:
        """EXIT_FINDINGS for a new finding at or above ``fail_on``; EXIT_ERROR for a new crash (its verdict is
        unknown: never a pass, except with ``never``); None to go on watching."""
        if fail_on == "never":
            return None
        if self.new_crashes or any(f.evidence.get("crashed") for _, f in self.new_findings):
            return EXIT_ERROR
        threshold = Severity.parse(fail_on)
        return EXIT_FINDINGS if any(f.severity >= threshold for _, f in self.new_findings) else None


IMMEDIATE = ("DV01", "DV03")  # a NaN/inf loss, a jump by an order of magnitude: true as soon as they are seen
AT_END = ("SC01",)  # "still falling when the run ended": a claim about a finished run


class Watcher:
    """The state kept from poll to poll: the files followed, each run's last result, what was said.

    ``confirm_growth``: a finding (other than IMMEDIATE ones and crashes) is said once the run has grown to
    this many times the step where it was first found, and it is still found; ``settle``: seconds without a
    change to a run's files after which the run is taken as finished, and judged as ``diagnose`` judges it
    (its findings said at once, AT_END ones included).  ``confirm_growth=1, settle=0``: every poll judged as
    ``diagnose`` would judge the logs at that moment.  Why: docs/watch.md (a healthy run judged part-way).
    """

    def __init__(self, logdir, config: Config | None = None, *, confirm_growth: float = 1.5, settle: float = 300.0,
                 clock=time.time, source=None):
        self.config = config or Config()
        self.follower = source or Follower(logdir, tag_roles=self.config.tag_roles or None)
        self.confirm_growth, self.settle, self.clock = confirm_growth, settle, clock
        self._results: dict[str, RunResult] = {}  # run name -> its own diagnosis (before the across-runs step)
        self._said: dict[tuple[str, str, str], list[Finding]] = {}
        self._pending: dict[tuple[str, str, str], int] = {}  # (run, code, tag) -> the run's last step when first found
        self._problems_said: set[str] = set()
        self._crashes_said: set[tuple[str, str]] = set()
        self._report: Report | None = None  # the last diagnosis, kept while nothing changes
        self._sweep_problems: tuple[Problem, ...] = ()
        self.polls = 0
        self.runs_seen = 0

    def poll(self, *, finished: bool = False) -> Poll:
        """One look at the logs; ``finished``: the training is over, every run is judged as finished."""
        from .readers import split_diagnosable

        started = time.perf_counter()
        snapshot = self.follower.poll()
        runs, undiagnosable = split_diagnosable(snapshot.runs)
        read = time.perf_counter()
        report, rediagnosed = self._diagnose(runs, snapshot.changed, [*snapshot.problems, *undiagnosable])
        self.polls += 1
        self.runs_seen = max(self.runs_seen, len(runs))
        poll = Poll(self.polls, report, rediagnosed=rediagnosed, stats=snapshot.stats, seconds_reading=read - started,
                    seconds_diagnosing=time.perf_counter() - read)
        now = self.clock()
        idle = {name for name, modified in snapshot.modified.items() if finished or now - modified >= self.settle}
        poll.new_findings = self._new_findings(report, idle, {run.name: _last_step(run) for run in runs})
        poll.new_problems = self._new_problems(report)
        poll.new_crashes = [(r.run, code) for r in report.runs for code in r.crashed
                            if (r.run, code) not in self._crashes_said]
        self._crashes_said.update(poll.new_crashes)
        return poll

    def _diagnose(self, runs: Sequence[Run], changed: set[str], problems: list[Problem]) -> tuple[Report, list[str]]:
        """engine.diagnose_runs, diagnosing again only the runs whose points changed."""
        from .context import across_runs
        from .context.copies import split_copies, with_copies
        from .engine import diagnose_run, selected_rules

        if self._report is not None and not changed and self._results.keys() == {r.name for r in runs}:
            return dataclasses.replace(self._report, problems=tuple(problems) + self._sweep_problems), []
        rules = selected_rules(self.config)
        originals, copies = split_copies(runs)
        again = [r for r in originals if r.name in changed or r.name not in self._results]
        with np.errstate(all="ignore"):
            for run in again:
                self._results[run.name] = diagnose_run(run, rules, self.config)
            self._results = {r.name: self._results[r.name] for r in originals}
            results = sorted(self._results.values(), key=lambda r: (-r.rank, r.run))
            results, sweeps, sweep_problems = across_runs(originals, results, self.config)
            results = with_copies(results, copies)
        self._sweep_problems = sweep_problems
        self._report = Report(runs=tuple(results), problems=tuple(problems) + sweep_problems, sweeps=sweeps)
        return self._report, [r.name for r in again]

    def _new_findings(self, report: Report, idle: set[str],
                      last_steps: dict[str, int]) -> list[tuple[RunResult, Finding]]:
        new, found = [], set()
        for result in report.runs:
            for finding in result.findings:
                key = (result.run, finding.code, finding.tag)
                found.add(key)
                if self._ready(key, finding, result.run in idle, last_steps.get(result.run, 0)) \
                        and self._is_new(key, finding):
                    new.append((result, finding))
        self._pending = {key: step for key, step in self._pending.items() if key in found}  # gone: start again
        return sorted(new, key=lambda item: (-int(item[1].severity), item[0].run, _start(item[1]), item[1].code))

    def _ready(self, key: tuple[str, str, str], finding: Finding, idle: bool, last_step: int) -> bool:
        """May the finding be said now (class docstring)?"""
        if finding.evidence.get("crashed") or finding.code in IMMEDIATE:
            return True
        if idle:
            return True
        if finding.code in AT_END:
            return False
        first = self._pending.setdefault(key, last_step)
        return last_step >= self.confirm_growth * max(first, 1)

    def _is_new(self, key: tuple[str, str, str], finding: Finding) -> bool:
        said = self._said.setdefault(key, [])
        if any(old.severity >= finding.severity and _overlap(old, finding) for old in said):
            return False
        said.append(finding)
        return True

    def _new_problems(self, report: Report) -> list[Problem]:
        out = []
        for problem in [*report.problems, *(p for r in report.runs for p in r.problems)]:
            text = problem.describe()
            if text not in self._problems_said:
                self._problems_said.add(text)
                out.append(problem)
        return out


def _last_step(run: Run) -> int:
    return max((int(s.steps[-1]) for s in run.series.values() if len(s)), default=0)


def _start(f: Finding) -> int:
    return f.start_step if f.start_step is not None else -1


def _overlap(a: Finding, b: Finding) -> bool:
    """Do the two findings' step ranges overlap (a finding without steps covers the whole run)?"""
    lo_a, hi_a = _span(a)
    lo_b, hi_b = _span(b)
    return lo_a <= hi_b and lo_b <= hi_a


def _span(f: Finding) -> tuple[float, float]:
    lo = f.start_step if f.start_step is not None else -np.inf
    hi = f.end_step if f.end_step is not None else (f.start_step if f.start_step is not None else np.inf)
    return lo, hi


def watch(logdir, config: Config | None = None, *, interval: float = 10.0, max_polls: int | None = None,
          timeout: float | None = None, confirm_growth: float = 1.5, settle: float = 300.0,
          training_alive: Callable[[], bool] | None = None, sleep=time.sleep, clock=time.monotonic) -> Iterator[Poll]:
    """Poll ``logdir`` every ``interval`` seconds, yielding each Poll, until ``max_polls`` polls or
    ``timeout`` seconds (None: forever; the caller stops when it likes, e.g. on a finding), or until
    ``training_alive()`` says the training is over: then one last poll judges every run as finished.
    ``confirm_growth`` and ``settle``: see Watcher."""
    watcher = Watcher(logdir, config, confirm_growth=confirm_growth, settle=settle)
    deadline = None if timeout is None else clock() + timeout
    while True:
        poll_started = clock()
        over = training_alive is not None and not training_alive()
        yield watcher.poll(finished=over)
        if over or (max_polls is not None and watcher.polls >= max_polls):
            return
        wait = max(0.0, interval - (clock() - poll_started))
        if deadline is not None:
            if clock() >= deadline:
                return
            wait = min(wait, max(0.0, deadline - clock()))
        sleep(wait)


def process_alive(pid: int) -> Callable[[], bool]:
    """``training_alive`` for a process id: True while that process exists."""
    import os

    def alive() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, owned by another user
            return True
        return True

    return alive
