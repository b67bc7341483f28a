"""The CLI's plotting work: one PNG per run into a directory (--plot), or PNG bytes per run for the HTML
report.  Nothing here prints: failures are returned, and cli.py says them.

A plot that fails costs only that plot, never the report or the other plots.
"""
from __future__ import annotations

import io
import os


def display_name(run_name: str, logdir: str) -> str:
    """The run "." (LOGDIR is the run) named after LOGDIR: a directory by its name, a log file by the
    directory holding it (runs/exp1/training.log is exp1), or by its stem when that says nothing."""
    if run_name != ".":
        return run_name
    path = os.path.abspath(logdir)
    if os.path.isfile(path):
        folder = os.path.dirname(path)
        name = os.path.basename(folder)
        return name if name and folder != os.getcwd() else os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(path) or "run"


def plot_name(run_name: str, logdir: str) -> str:
    """The PNG name for a run, named as display_name says."""
    from .plots import file_name

    return file_name(display_name(run_name, logdir))


def plot_images(runs, report, progress_flag) -> tuple[dict[str, bytes], list[tuple[str, Exception]]]:
    """(run name -> PNG bytes of its annotated plot, [(run name, error) for the plots that failed])."""
    from . import plots, progress

    by_name = {r.run: r for r in report.runs}
    images, failed = {}, []
    with progress.bar(runs, "plotting", enabled=progress_flag) as items:
        for run in items:
            buffer = io.BytesIO()
            try:
                plots.plot_run(run, by_name.get(run.name), buffer)
            except Exception as exc:  # one unplottable curve must not cost the report
                failed.append((run.name, exc))
                continue
            images[run.name] = buffer.getvalue()
    return images, failed


def plot_files(runs, report, plot_dir: str, progress_flag, logdir: str) -> tuple[int, list[tuple[str, Exception]]]:
    """Write one PNG per run (and one per sweep) into ``plot_dir``: (files written, failures).

    Every file gets its own name (plots.plot_file_names), so no plot overwrites another and the count
    is the number of files there."""
    from . import plots, progress

    by_name = {r.run: r for r in report.runs}
    os.makedirs(plot_dir, exist_ok=True)
    files = plots.plot_file_names([display_name(r.name, logdir) for r in runs], [s["group"] for s in report.sweeps])
    failed, written = [], 0
    with progress.bar(list(zip(runs, files)), "plotting", enabled=progress_flag) as items:
        for run, name in items:
            try:
                plots.plot_run(run, by_name.get(run.name), os.path.join(plot_dir, name))
                written += 1
            except Exception as exc:  # one unplottable curve must not cost the other plots or the report
                failed.append((run.name, exc))
    if report.sweeps:  # best loss vs LR, one PNG per sweep
        from .plots_lr import plot_sweep

        for sweep, name in zip(report.sweeps, files[len(runs):]):
            try:
                plot_sweep(sweep, os.path.join(plot_dir, name))
                written += 1
            except Exception as exc:
                failed.append((f"sweep {sweep['group']}", exc))
    return written, failed
