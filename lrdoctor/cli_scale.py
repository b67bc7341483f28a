"""The body of ``lrdoctor diagnose``'s reading and diagnosis: job by job (pipeline.py), on the executor
the user chose, with a progress bar; whole runs in this process when plots need their curves."""
from __future__ import annotations

import click


def read_and_diagnose(logdir: str, config, progress_flag, executor: str, scheduler: str | None, *, plots: bool):
    """(the runs diagnosed -- only when ``plots`` need them, else [] --, the report)."""
    from . import progress
    from .executors import check_executor
    from .pipeline import diagnose_path

    check_executor(executor, scheduler)
    if plots:
        if executor != "local":
            raise click.UsageError("--plot and --format/--save html draw every curve in this process: "
                                   "use them without --executor dask")
        return _whole(logdir, config, progress_flag)
    with progress.counter("reading and diagnosing", enabled=progress_flag) as tick:
        return [], diagnose_path(logdir, config, executor=executor, scheduler=scheduler, progress=tick)


def _whole(logdir: str, config, progress_flag):
    """Every run read into this process, then diagnosed (the plots draw their curves)."""
    from . import progress, read_diagnosable
    from .engine import diagnose_runs

    with progress.counter("reading", enabled=progress_flag) as tick:
        runs, problems = read_diagnosable(logdir, tag_roles=config.tag_roles or None, progress=tick)
    with progress.bar(runs, "diagnosing", enabled=progress_flag) as items:
        report = diagnose_runs(runs, config, problems, progress=lambda _runs: items)
    return runs, report
