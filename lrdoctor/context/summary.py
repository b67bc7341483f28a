"""A run summarised where it was diagnosed: only what the evidence across runs asks of it.

When runs are read and diagnosed one job at a time in worker processes (pipeline.py), the parent
cannot keep every curve of every run: memory would grow with the number of runs.  It keeps each
run's ``RunResult`` and a ``RunSummary``: the run's name, source, format, roles, hyper-parameters and
problems, no curve, and the **facts** -- the answers, computed in the worker on the whole run, to
the questions the modules of this package ask of a run (its LR, its best loss, its noise, whether
it diverged, its setup...).  Those questions are the functions decorated ``@remembered``: asked of
a summary, they return the worker's answer (or raise the exception the worker met: a sweep
analysis that would have crashed still crashes), so the evidence is the same as from whole runs.

Two things need more than facts:

* a ``--baseline`` comparison follows the train and validation loss along the steps: with it the
  summary keeps those two curves (without wall times);
* copies (copies.py) compare whole curves of two runs: the summary keeps the copy head -- the first
  ``MIN_POINTS`` points of the identifying curve, which is all the candidate test reads -- and the
  pipeline re-reads the few runs that are candidates.

A summary's other curves are placeholders that fail loudly when read: a question no fact answers
must crash (and be reported), never be answered from an empty curve.
"""
from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass, field
from typing import Callable

from ..model import TRAIN_LOSS, VAL_LOSS, Run, Series

_NOT_KEPT = Series(steps=None, values=None)  # type: ignore[arg-type]  # reading it raises


@dataclass
class RunSummary(Run):
    facts: dict = field(default_factory=dict)
    # (role, its first MIN_POINTS points, rank) of the curve that identifies the training (copies.py)
    copy_head: tuple | None = None


@dataclass(frozen=True)
class _Raised:
    error: BaseException


def remembered(key: Callable[..., tuple] = lambda *args: args):
    """Decorate a question asked of a run: a ``RunSummary`` answers it from its facts, keyed by the
    function's name and ``key(*args)`` (the arguments after the run)."""
    def wrap(compute):
        name = compute.__name__

        @functools.wraps(compute)
        def answer(run, *args, **kwargs):
            facts = getattr(run, "facts", None)
            if facts is None:
                return compute(run, *args, **kwargs)
            found = facts[(name, *key(*args, **kwargs))]
            if isinstance(found, _Raised):
                raise found.error
            return found

        return answer

    return wrap


def with_result(result=None) -> tuple:
    """The key of a question that takes the run's RunResult: a summary knows its own result only."""
    return (result is not None,)


def _questions(result) -> list[tuple[Callable, tuple, tuple]]:
    """(function, arguments after the run, key) of the questions the evidence across runs asks of
    every run: which group, which LR, diverged or not."""
    from . import groups, rangetest

    return [(groups.run_lr, (), ()), (groups._setup, (), ()), (groups._last_loss_step, (), ()),
            (groups.is_diverged, (), (False,)), (groups.is_diverged, (result,), (True,)),
            (rangetest.is_range_test, (), ())]


def _loss_questions() -> list[tuple[Callable, tuple, tuple]]:
    """The questions about its loss, asked of a sweep member (a run with an LR) or with a baseline:
    worth the two running medians of its curve (~1 ms for 10,000 points) only then."""
    from . import sweep

    out = [(sweep.start_loss, (), ())]
    for role in (TRAIN_LOSS, VAL_LOSS):
        out += [(sweep.best_loss, (role,), (role,)), (sweep.curve_noise, (role,), (role,))]
    return out


def _fact(compute: Callable, run: Run, args: tuple):
    try:
        return compute(run, *args)
    except Exception as exc:  # asked in the parent, it raises there as it would have
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return _Raised(exc)


def summarise(run: Run, result, keep_loss_curves: bool = False) -> RunSummary:
    """``run`` reduced to what the evidence across runs needs (see the module doc); ``result`` is its
    own RunResult.  ``keep_loss_curves``: keep the train and validation loss (``--baseline``)."""
    from .copies import MIN_POINTS, _curve, _rank

    facts = {(compute.__name__, *key): _fact(compute, run, args) for compute, args, key in _questions(result)}
    lr = facts[("run_lr",)]
    if keep_loss_curves or isinstance(lr, _Raised) or lr[0] is not None:
        facts.update({(compute.__name__, *key): _fact(compute, run, args) for compute, args, key in _loss_questions()})
    kept = {run.roles.get(role) for role in (TRAIN_LOSS, VAL_LOSS)} if keep_loss_curves else set()
    series = {tag: _without_clock(run.series[tag]) if tag in kept else _NOT_KEPT
              for tag in set(run.roles.values()) if tag in run.series}
    found = _curve(run)
    head = None
    if found is not None:
        role, curve = found
        head = (role, Series(curve.steps[:MIN_POINTS].copy(), curve.values[:MIN_POINTS].copy()), _rank(run, curve))
    return RunSummary(name=run.name, source=run.source, format=run.format, series=series, roles=dict(run.roles),
                      problems=list(run.problems), hparams=dict(run.hparams), facts=facts, copy_head=head)


def _without_clock(series: Series) -> Series:
    import dataclasses

    return dataclasses.replace(series, wall_times=None)
