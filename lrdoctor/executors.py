"""Where the run jobs are done: here, in local worker processes, or on a Dask cluster.

``run_jobs(jobs, work, args, executor=...)`` calls ``work(job, *args)`` for every job and returns the
answers in job order.  ``work`` must be a module-level function and the jobs picklable
(readers/discover.py's FileJob, TensorBoardJob, MlflowJob are).

* ``"local"`` (default): a few small jobs are done in this process (starting workers would cost more
  than it saves); otherwise a process pool of one worker per core (at most ``MAX_WORKERS``).  A pool
  that cannot start or breaks (no processes in a sandbox, a worker killed) leaves the jobs not yet
  done to this process.
* ``"dask"``: the jobs are submitted to a ``dask.distributed`` scheduler -- ``scheduler`` (an address
  such as ``tcp://host:8786``) or, without one, a ``LocalCluster`` sized to this machine -- in
  batches of up to 32 jobs per task (``batch_size``).  The
  workers need lrdoctor installed and the log files at the same paths.  A job whose task fails on
  its worker (a killed worker, a lost connection) becomes one Problem naming its path; the other
  jobs are still done.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable, Sequence

from .errors import ConfigError
from .model import Problem

EXECUTORS = ("local", "dask")
MAX_WORKERS = 8
PARALLEL_MIN_JOBS = 16  # below this a pool costs more than it saves
PARALLEL_MIN_BYTES = 1 << 20  # ... and below this many bytes of logs
CONNECT_TIMEOUT = "10s"  # to reach a --scheduler
DASK_HINT = "--executor dask needs the Dask extra: pip install 'lrdoctor[dask]'"

Progress = Callable[[int, int], None]  # (jobs done, jobs in all)


def check_executor(executor: str, scheduler: str | None) -> None:
    """A ConfigError (exit 2) for an unknown executor, a scheduler without Dask, or Dask not installed."""
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor: must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if scheduler and executor != "dask":
        raise ConfigError("--scheduler needs --executor dask")
    if executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ConfigError(DASK_HINT) from None


def job_path(job) -> str:
    """The file or directory a job reads (for messages)."""
    return getattr(job, "path", None) or getattr(job, "directory", None) or getattr(job, "name", "?")


def run_jobs(jobs: Sequence, work: Callable, args: tuple = (), *, executor: str = "local",
             scheduler: str | None = None, progress: Progress | None = None,
             receive: Callable = lambda answer: answer) -> list:
    """``[receive(work(job, *args)) for job in jobs]``, done where ``executor`` says (see the module
    doc); ``receive`` is applied here to each answer as it arrives."""
    check_executor(executor, scheduler)
    if executor == "dask":
        return _counted(_on_dask(jobs, work, args, scheduler), len(jobs), progress, receive)
    return _counted(_local(jobs, work, args), len(jobs), progress, receive)


def _counted(answers: Iterable, total: int, progress: Progress | None, receive: Callable) -> list:
    out = []
    for answer in answers:
        out.append(receive(answer))
        if progress is not None:
            progress(len(out), total)
    return out


def worth_a_pool(jobs: Sequence) -> bool:
    """Many jobs over enough bytes, and more than one core."""
    from .readers.discover import _at_least_bytes

    return (local_workers() > 1 and len(jobs) >= PARALLEL_MIN_JOBS
            and _at_least_bytes(list(jobs), PARALLEL_MIN_BYTES))


def local_workers() -> int:
    return min(os.cpu_count() or 1, MAX_WORKERS)


def _local(jobs: Sequence, work: Callable, args: tuple) -> Iterable:
    done = 0
    if worth_a_pool(jobs):
        from concurrent.futures import ProcessPoolExecutor

        _import_before_fork(jobs)
        workers = local_workers()
        chunk = max(1, min(32, len(jobs) // (workers * 8)))
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for answer in pool.map(work, jobs, *([arg] * len(jobs) for arg in args), chunksize=chunk):
                    done += 1
                    yield answer
                return
        except (OSError, RuntimeError):  # no processes (sandbox) or a broken pool: the rest here
            pass
    for job in jobs[done:]:
        yield work(job, *args)


def _import_before_fork(jobs: Sequence) -> None:
    """Import the readers and the rules once, before forking, not once per worker."""
    from .readers.discover import _import_readers
    from .rules import all_rules

    _import_readers(list(jobs))
    all_rules()


def _on_dask(jobs: Sequence, work: Callable, args: tuple, scheduler: str | None) -> Iterable:
    """The answers in job order, the jobs sent in batches (``batch_size``); a batch whose task fails
    is retried job by job, so that a job whose task fails on its worker is one Problem naming its path."""
    from dask.distributed import Client, LocalCluster

    if not jobs:
        return
    cluster = None if scheduler else LocalCluster(n_workers=local_workers(), threads_per_worker=1,
                                                   processes=True, dashboard_address=None)
    try:
        with _client(Client, scheduler or cluster, scheduler) as client:
            size = batch_size(len(jobs), sum(client.nthreads().values()))
            batches = [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]
            futures = client.map(_batch, batches, work=work, args=args, pure=False)
            for batch, future in zip(batches, futures):
                try:
                    answers = future.result()
                except Exception:  # which job failed? each alone
                    answers = [_answer(job, client.submit(work, job, *args, pure=False)) for job in batch]
                future.release()  # its answers are here now: the worker may forget them
                yield from answers
    finally:
        if cluster is not None:
            cluster.close()


def _client(client_class, address, scheduler: str | None):
    """A connected Client, or an LrDoctorError (one line, exit 2) naming the scheduler it cannot reach."""
    from .errors import LrDoctorError

    try:
        return client_class(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise LrDoctorError(f"--scheduler {scheduler or 'LocalCluster'}: cannot connect to the Dask scheduler "
                            f"({type(exc).__name__}: {exc})") from None


def batch_size(n_jobs: int, workers: int) -> int:
    """Jobs per Dask task: enough that the scheduler's ~1 ms per task is small next to the work, few
    enough that every worker gets ~8 tasks to balance the load (as the local pool's chunks)."""
    return max(1, min(32, n_jobs // (max(workers, 1) * 8)))


def _batch(jobs: Sequence, work: Callable, args: tuple) -> list:
    return [work(job, *args) for job in jobs]


def _answer(job, future):
    try:
        return future.result()
    except Exception as exc:  # the task failed on its worker: this job only
        return Problem(job_path(job), f"not read: its Dask task failed ({type(exc).__name__}: {exc})")
