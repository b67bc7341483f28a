"""``lrdoctor watch LOGDIR``: follow growing logs beside a training job (lrdoctor/watch.py does the work).

stdout carries one line per new finding (text, or one JSON object with ``--format json``); reading
problems, ``--verbose`` progress and the closing messages go to stderr.  Exit codes as ``diagnose``:
1 on the first new finding at or above ``--fail-on`` (so a job script can stop the training), 2 when a
check crashed or no run was ever found, 0 when the watch ends (``--max-polls``, ``--timeout``, the
training's ``--pid`` gone, Ctrl-C) with nothing at or above ``--fail-on``.
"""
from __future__ import annotations

import os
import sys

import click

from .cli_options import config_options, make_config
from .report import EXIT_ERROR, EXIT_OK


@click.command("watch", short_help="Follow growing logs; print each new finding once.")
@click.argument("logdir", type=click.Path(), is_eager=True)
@config_options
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text: one line per new finding; json: one JSON object per line (JSON lines).")
@click.option("--interval", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="SECONDS",
              help="Seconds between two looks at the logs.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop after this many seconds (exit 0 unless something was found).  Default: never.")
@click.option("--max-polls", type=click.IntRange(min=1), default=None, metavar="N",
              help="Stop after N looks at the logs.  Default: never.")
@click.option("--pid", type=click.IntRange(min=1), default=None, metavar="PID",
              help="The training's process id: when it exits, one last look judges every run as finished, then "
                   "the watch ends (`python train.py & lrdoctor watch runs/ --pid $! || kill $!`).")
@click.option("--confirm-growth", type=click.FloatRange(min=1), default=1.5, show_default=True, metavar="FACTOR",
              help="While a run grows, say a finding once the run has grown to FACTOR times the step where it was "
                   "first found and it still holds (NaN/inf and exploded losses, DV01/DV03, at once).  1: at once.")
@click.option("--settle", type=click.FloatRange(min=0), default=300.0, show_default=True, metavar="SECONDS",
              help="A run whose files have not changed for this long is taken as finished and judged as `diagnose` "
                   "judges it (SC01, 'still falling at the end', only then).  0: judge every run as finished.")
@click.option("--color/--no-color", default=None, help="Colour the severities (default: only on a terminal).")
@click.option("-v", "--verbose", is_flag=True,
              help="On stderr: what each poll read (bytes, files read again whole or from their start), which runs "
                   "were diagnosed again, and how long it took.")
@click.pass_context
def watch_command(ctx: click.Context, logdir: str, fmt: str, interval: float, timeout, max_polls, pid, confirm_growth,
                  settle, color, verbose, **params) -> None:
    """Follow the logs under LOGDIR while they grow: print each new finding once, as it appears.

    Each poll reads only what was appended (event files from their last complete record, CSV/JSON-lines/text
    logs from their last complete line; JSON documents, non-UTF-8 text and MLflow runs are read again whole
    when they change) and diagnoses again the runs that gained points.  With --fail-on error (the default)
    the first new error exits 1, so a job script can stop the training; Ctrl-C stops watching (exit 0).
    A run still growing is not finished: see --confirm-growth and --settle (docs/watch.md says why).
    """
    from .watch import process_alive, watch

    config = make_config(ctx, params)
    if color is None:
        color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if not os.path.exists(logdir):
        click.echo(f"lrdoctor: {_shown(logdir)} does not exist yet; waiting for it", err=True)
    alive = None if pid is None else process_alive(pid)
    polls = watch(logdir, config, interval=interval, max_polls=max_polls, timeout=timeout,
                  confirm_growth=confirm_growth, settle=settle, training_alive=alive)
    watcher_runs = 0
    try:
        for poll in polls:
            watcher_runs = max(watcher_runs, len(poll.report.runs))
            _say(poll, fmt, color, verbose)
            code = poll.exit_code(config.fail_on)
            if code is not None:
                ctx.exit(code)
    except KeyboardInterrupt:
        click.echo("lrdoctor: stopped watching (Ctrl-C)", err=True)
    finally:
        polls.close()
    if not watcher_runs:
        click.echo(f"lrdoctor: error: no runs found under {_shown(logdir)}", err=True)
        ctx.exit(EXIT_ERROR)
    ctx.exit(EXIT_OK)


def _say(poll, fmt: str, color: bool, verbose: bool) -> None:
    from .reporters.watch_lines import json_line, text_line

    for problem in poll.new_problems:
        click.echo(f"lrdoctor: warning: {_shown(problem.describe())}", err=True)
    for result, finding in poll.new_findings:
        click.echo(json_line(result.run, result.source, finding, poll.number) if fmt == "json"
                   else text_line(result.run, finding, color=color), color=color)
    if verbose:
        _say_progress(poll)


def _say_progress(poll) -> None:
    stats = poll.stats
    if poll.number == 1:
        click.echo("lrdoctor: following " + (", ".join(f"{how}: {n}" for how, n in sorted(stats.followed.items()))
                                            or "no file yet"), err=True)
    whole = f"; read whole: {', '.join(_shown(p) for p in stats.read_whole)}" if stats.read_whole else ""
    again = f"; read again from the start: {', '.join(_shown(p) for p in stats.read_again)}" if stats.read_again else ""
    click.echo(f"lrdoctor: poll {poll.number}: {len(poll.report.runs)} run(s); read {stats.bytes_read:,} bytes from "
               f"{len(stats.files_changed)} changed file(s) in {poll.seconds_reading:.3f} s{whole}{again}; "
               f"diagnosed {len(poll.rediagnosed)} run(s) again in {poll.seconds_diagnosing:.3f} s; "
               f"{len(poll.new_findings)} new finding(s)", err=True)


def _shown(text) -> str:
    from .names import shown
    from .reporters._format import visible

    return shown(visible(text))
