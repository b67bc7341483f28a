"""Diagnose a log directory one run job at a time: read and diagnose where the job is done.

``engine.diagnose_runs`` needs every run in memory.  Here each job (one run directory or log file,
readers/discover.py) is read *and diagnosed* by a worker (executors.py: this process, local worker
processes or a Dask cluster), which sends back for each run only its ``RunResult`` and a
``RunSummary`` (context/summary.py) -- what the evidence across runs (sweeps, the baseline, copies)
asks of it, no curves.  So the parent's memory grows by a few kB per run, not by the runs' curves,
and diagnosis uses every core.  The report is the same as ``diagnose_runs`` on all the runs read
whole: runs and problems in the same order, copies found the same way (the few runs that may be
copies of one another are read again here to compare their curves), the same sweeps.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .config import Config
from .model import Problem, Run
from .report import Report, RunResult


@dataclass(frozen=True)
class RunOutcome:
    """One run read by a job: diagnosed (summary and result) or not diagnosable (its problems)."""
    name: str
    summary: Run | None
    result: RunResult | None
    problems: tuple[Problem, ...] = ()


def read_and_diagnose(job, tag_roles, config: Config, keep_loss_curves: bool) -> list[RunOutcome] | Problem | None:
    """Read one job (``discover.read_job``: never raises) and diagnose each run it holds."""
    from .context.summary import summarise
    from .engine import diagnose_run, selected_rules
    from .readers import split_diagnosable
    from .readers.discover import read_job

    read = read_job(job, tag_roles)
    if not isinstance(read, list):
        return read
    rules = selected_rules(config)
    out = []
    for run in read:
        diagnosable, problems = split_diagnosable([run])
        if not diagnosable:
            out.append(RunOutcome(run.name, None, None, tuple(problems)))
            continue
        with np.errstate(all="ignore"):  # as engine.diagnose_runs
            result = diagnose_run(run, rules, config)
            out.append(RunOutcome(run.name, summarise(run, result, keep_loss_curves), result))
    return out


def diagnose_path(path, config: Config | None = None, *, executor: str = "local", scheduler: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Report:
    """The report on every run under ``path`` (a directory or one log file), as
    ``engine.diagnose_runs(*read_diagnosable(path))`` gives it, read and diagnosed job by job.
    ``progress(done, total)`` is called after each job."""
    from .executors import check_executor, run_jobs
    from .readers.discover import _single_file_job, find_jobs

    config = config or Config()
    check_executor(executor, scheduler)
    root = os.fspath(path)
    remote = _remote(root, config, executor, scheduler, progress)
    if remote is not None:
        return remote
    if not os.path.exists(root):  # not a local path (a tracker's server, or a missing path)
        return diagnose_whole(root, config)
    walk = None
    if os.path.isfile(root):
        jobs, problems = [_single_file_job(root)], []
    else:
        jobs, problems, walk = find_jobs(root)
    tag_roles = {k: list(v) for k, v in (config.tag_roles or {}).items()} or None
    shared: dict = {}
    answers = run_jobs(jobs, read_and_diagnose, (tag_roles, config, bool(config.baseline)),
                       executor=executor, scheduler=scheduler, progress=progress,
                       receive=lambda answer: _compact(answer, shared))
    outcomes = sorted(((o, i) for i, a in enumerate(answers) if isinstance(a, list) for o in a),
                      key=lambda pair: pair[0].name)  # stable: job order among equal names, as read_runs
    problems = [*problems, *(a for a in answers if isinstance(a, Problem)), *(p for o, _ in outcomes for p in o.problems)]
    if walk is not None:  # a symlink not entered that no run could carry the note of (readers/symlinks.py)
        problems += walk.unnoted_problems([o.name for o, _ in outcomes])
    diagnosed = [(o, i) for o, i in outcomes if o.summary is not None]
    copies = _copies([o.summary for o, _ in diagnosed], {o.name: jobs[i] for o, i in diagnosed}, tag_roles)
    return _report([o for o, _ in diagnosed], copies, problems, config)


def _remote(root: str, config: Config, executor: str, scheduler: str | None, progress) -> Report | None:
    """An object store's URL (readers/remote.py): fetched once into a temporary mirror here, then read
    and diagnosed job by job like a local directory (on local processes or a Dask LocalCluster, which
    share this machine's files).  None for anything else."""
    from .errors import LrDoctorError
    from .readers.mlflow_server import is_mlflow_url
    from .readers.remote import diagnose_remote, is_url

    if "://" not in root or is_mlflow_url(root) or not is_url(root):
        return None
    if scheduler is not None:  # the mirror is on this machine: a cluster's workers could not read it
        raise LrDoctorError(f"{root}: a remote logdir is fetched to this machine, which the workers of "
                            f"--scheduler {scheduler} cannot read; use --executor dask without --scheduler "
                            f"(a local cluster) or the local executor")
    found = diagnose_remote(root, lambda local: diagnose_path(local, config, executor=executor, progress=progress))
    return found if isinstance(found, Report) else Report(runs=(), problems=tuple(found), sweeps=())


def _compact(answer, shared: dict):
    """``answer`` with the values most runs have in common (the lists of rules run and skipped, the
    facts' keys) shared between runs: one copy each, not one per run (a third of a result's memory)."""
    if not isinstance(answer, list):
        return answer
    out = []
    for outcome in answer:
        if outcome.result is not None:
            result = outcome.result
            result = dataclasses.replace(result, rules_run=shared.setdefault(result.rules_run, result.rules_run),
                                         rules_skipped=shared.setdefault(result.rules_skipped, result.rules_skipped))
            outcome.summary.facts = {shared.setdefault(k, k): v for k, v in outcome.summary.facts.items()}
            outcome = dataclasses.replace(outcome, result=result)
        out.append(outcome)
    return out


def diagnose_whole(root: str, config: Config | None = None) -> Report:
    """Every run read into this process, then diagnosed: ``engine.diagnose_runs(*read_diagnosable(root))``."""
    from . import read_diagnosable
    from .engine import diagnose_runs

    config = config or Config()
    runs, problems = read_diagnosable(root, tag_roles=config.tag_roles or None)
    return diagnose_runs(runs, config, problems)


def _report(diagnosed: Sequence[RunOutcome], copies: Mapping, problems: list[Problem], config: Config) -> Report:
    """engine.diagnose_runs' second half, on the results and summaries the jobs sent back."""
    from .context import across_runs
    from .context.copies import with_copies

    originals = [o.summary for o in diagnosed if o.name not in copies]
    results = [o.result for o in diagnosed if o.name not in copies]
    with np.errstate(all="ignore"):
        results.sort(key=lambda r: (-r.rank, r.run))
        results, sweeps, sweep_problems = across_runs(originals, results, config)
        results = with_copies(results, copies)
    return Report(runs=tuple(results), problems=tuple(problems) + sweep_problems, sweeps=sweeps)


def _copies(summaries: Sequence[Run], job_of: Mapping[str, object], tag_roles) -> dict:
    """context/copies.py's copies among the runs summarised: the candidate pairs from the summaries'
    copy heads, then the candidates' whole runs read again here to prove or refute each pair."""
    from .context.copies import _candidate_pairs, copies_among

    names = [s.name for s in summaries]
    if len(set(names)) < len(names):  # as split_copies: a name could not say which one is the copy
        return {}
    entries = [(s, *s.copy_head) for s in summaries if s.copy_head is not None]
    pairs = _candidate_pairs(entries)
    if not pairs:
        return {}
    whole = _read_again({e[0].name for pair in pairs for e in pair}, job_of, tag_roles)
    whole_pairs = [tuple((whole[e[0].name], e[1], whole[e[0].name].get(e[1]), e[3]) for e in pair) for pair in pairs
                   if all(e[0].name in whole for e in pair)]  # a file changed since: no copy proven
    return copies_among(whole_pairs, {s.name: s for s in summaries})


def _read_again(names: set[str], job_of: Mapping[str, object], tag_roles) -> dict[str, Run]:
    from .readers.discover import read_job

    whole: dict[str, Run] = {}
    for job in {id(job_of[n]): job_of[n] for n in sorted(names)}.values():
        read = read_job(job, tag_roles)
        whole.update({run.name: run for run in read if run.name in names} if isinstance(read, list) else {})
    return whole
