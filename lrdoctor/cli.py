"""Thin click layer: options -> config -> engine -> reporter -> exit code.

Nothing heavy is imported at module level so `lrdoctor --help` stays fast (no numpy/scipy/
pandas/matplotlib until a command needs them).  stdout carries only the report; messages go
to stderr.  Every command ends with ``ctx.exit(code)``; ``main(argv)`` returns that code.

Configuration options are declared once in cli_options.py (black's approach: the ``--config``
callback fills click's ``default_map``, so flags override the file).  Adding a command:
``@cli.command()`` and, if it reads the configuration, ``@config_options`` after a LOGDIR
argument declared ``is_eager=True``; then ``_make_config(ctx, params)`` in the body.
"""
from __future__ import annotations

import os
import sys

import click

from . import cli_plots, cli_watch
from ._version import __version__
from .cli_options import config_options
from .cli_options import make_config as _make_config
from .cli_paths import LOGDIR
from .report import EXIT_ERROR, EXIT_OK

FORMATS = ("text", "json", "markdown", "junit", "github", "html")  # == reporters.FORMATS (not imported: lazy)


class _Group(click.Group):
    """Our own errors (bad config, unreadable input) exit 2 with one line on stderr, never 1."""

    def invoke(self, ctx):
        from .errors import LrDoctorError

        try:
            return super().invoke(ctx)
        except LrDoctorError as exc:
            click.echo(f"lrdoctor: error: {_shown(exc)}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lrdoctor")
def cli() -> None:
    """Diagnose the learning rate from training logs.

    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 could not run.
    """


# --------------------------------------------------------------------------- diagnose


def _save_spec(_ctx, _param, values) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or fmt not in FORMATS or not path:
            raise click.BadParameter(f"expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}, got {value!r}")
        out.append((fmt, path))
    return tuple(out)


@cli.command(short_help="Diagnose every run under LOGDIR.")
@click.argument("logdir", type=LOGDIR, is_eager=True)
@config_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to FILE instead of stdout.")
@click.option("--save", multiple=True, callback=_save_spec, metavar="FORMAT=FILE",
              help="Also write the report in FORMAT to FILE (repeatable), e.g. --save junit=lrdoctor.xml.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), default=None,
              help="Write one annotated PNG per run into this directory.")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: only on a terminal).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: on a terminal).")
@click.option("-v", "--verbose", is_flag=True, help="Text report: every run, with the rules' evidence and reasoning.")
@click.option("-q", "--quiet", is_flag=True, help="Text report: the summary table only, one line per run.")
@click.option("--executor", type=click.Choice(("local", "dask")), default="local", show_default=True,
              help="Where runs are read and diagnosed: local worker processes, or a Dask cluster (docs/scale.md).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --executor dask: the scheduler's address (default: a local cluster on this machine).")
@click.pass_context
def diagnose(ctx: click.Context, logdir: str, fmt: str, output, save, plot_dir, color, progress, verbose, quiet,
             executor, scheduler, **params) -> None:
    """Diagnose every run under LOGDIR and report the learning-rate findings.

    LOGDIR may also be a URL: an object store's (s3://bucket/runs) or an MLflow tracking server's,
    mlflow://HOST:PORT[/EXPERIMENT][?run=ID,...]."""
    from .cli_scale import read_and_diagnose
    from .reporters import render

    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet exclude each other")
    config = _make_config(ctx, params)
    formats = {fmt, *(f for f, _ in save)}
    runs, report = read_and_diagnose(logdir, config, progress, executor, scheduler,
                                     plots="html" in formats or plot_dir is not None)
    fail_on = config.fail_on
    options = {"verbosity": 1 if verbose else -1 if quiet else 0, "fail_on": fail_on}
    if "html" in formats:
        options["plots"], failed = cli_plots.plot_images(runs, report, progress)
        _say_plot_failures(failed)
    _emit(render(report, fmt, **_render_options(fmt, color, output), **options), output)
    for save_fmt, path in save:
        _write(path, render(report, save_fmt, **options))
    if plot_dir is not None and runs:
        written, failed = cli_plots.plot_files(runs, report, plot_dir, progress, logdir)
        _say_plot_failures(failed)
        click.echo(f"lrdoctor: wrote {written} plot(s) to {_shown(plot_dir)}", err=True)
    ctx.exit(_exit_code(report, fail_on, logdir))


def _read(logdir: str, config, progress_flag=False):
    """(runs to diagnose, reading problems): a run with nothing to diagnose is a problem, not a run."""
    from . import progress, read_diagnosable

    with progress.counter("reading", enabled=progress_flag) as tick:
        return read_diagnosable(logdir, tag_roles=config.tag_roles or None, progress=tick)


def _render_options(fmt: str, color: bool | None, output: str | None) -> dict:
    """Colour and width for the text report on stdout: colour on a terminal only, the terminal's width
    (``COLUMNS`` when set; 100 columns when stdout is not a terminal, or for a file)."""
    import shutil

    from .reporters.text_report import DEFAULT_WIDTH

    if fmt != "text":
        return {}
    if color is None:
        color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = DEFAULT_WIDTH if output is not None else shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return {"color": color, "width": width}


def _say_plot_failures(failed) -> None:
    for name, exc in failed:
        click.echo(f"lrdoctor: error: could not plot {_shown(name)}: {type(exc).__name__}: {_shown(exc)}", err=True)


def _shown_lines(text: str) -> str:
    """Several lines from a report made of log names: each line made safe, the line breaks kept."""
    from .reporters._format import visible

    return visible(text, keep_newlines=True)


def _shown(text) -> str:
    """A name or message from a log, safe for the terminal (control characters made visible)."""
    from .reporters._format import visible

    return visible(text)


def _emit(text: str, output: str | None) -> None:
    from .names import shown

    if output is None:
        click.echo(shown(text), nl=False, color=True)  # styles were already decided by the reporter
    else:
        _write(output, text)


def _write(path: str, text: str) -> None:
    from .errors import LrDoctorError
    from .names import shown

    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(shown(text))  # a file name that is not UTF-8 is written as \xNN
    except OSError as exc:
        raise LrDoctorError(f"{path}: cannot write the report: {exc.strerror or exc}") from None
    click.echo(f"lrdoctor: wrote {_shown(path)}", err=True)


def _warn(problems) -> None:
    """One line on stderr per reading problem, naming the file."""
    for problem in problems:
        click.echo(f"lrdoctor: warning: {_shown(problem.describe())}", err=True)


def _exit_code(report, fail_on: str, logdir: str) -> int:
    """Reading problems go to stderr as messages; no run at all is exit 2 (see report.exit_code)."""
    _warn([*report.problems, *(p for result in report.runs for p in result.problems)])
    if not report.runs:
        click.echo(f"lrdoctor: error: no runs found under {_shown(logdir)}", err=True)
    return report.exit_code(fail_on)


# --------------------------------------------------------------------------- config


@cli.command("config", short_help="Show the effective configuration as TOML.")
@click.argument("logdir", type=LOGDIR, required=False, is_eager=True)
@config_options
@click.pass_context
def show_config(ctx: click.Context, logdir: str | None, **params) -> None:
    """Show the effective configuration for LOGDIR (or the current directory) as TOML."""
    from .config_toml import to_toml
    from .rules import all_rules

    click.echo(to_toml(_make_config(ctx, params), all_rules()), nl=False)
    ctx.exit(EXIT_OK)


# --------------------------------------------------------------------------- plot


@cli.command(short_help="Plot one run with its findings and advice.")
@click.argument("logdir", metavar="RUN", type=LOGDIR, is_eager=True)
@config_options(exclude=("fail_on", "group_by"))
@click.option("--run", "run_name", default=None, help="Which run, when RUN holds several (its name as reported).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="PNG file to write (default: <run name>.png in the current directory).")
@click.pass_context
def plot(ctx: click.Context, logdir: str, run_name: str | None, output: str | None, **params) -> None:
    """Plot one run: loss (raw and smoothed), val loss, LR, findings shaded, suggested LR."""
    from . import plots
    from .engine import diagnose_runs
    from .errors import LrDoctorError

    config = _make_config(ctx, params)
    runs, problems = _read(logdir, config)
    _warn(problems)
    names = sorted(r.name for r in runs)
    if run_name is not None:
        runs = [r for r in runs if r.name == run_name]
    if len(runs) != 1:
        what = f"no run named {run_name!r}" if run_name is not None and not runs else f"{len(runs)} runs"
        raise LrDoctorError(f"{logdir} holds {what}; choose one with --run ({', '.join(names) or 'none found'})")
    report = diagnose_runs(runs, config)
    path = output or cli_plots.plot_name(runs[0].name, logdir)
    plots.plot_run(runs[0], report.runs[0], path)
    click.echo(f"lrdoctor: wrote {_shown(path)}", err=True)
    ctx.exit(EXIT_OK)


# --------------------------------------------------------------------------- findlr


@cli.command(short_help="Suggest an LR from an LR range test.")
@click.argument("logdir", metavar="RUN", type=LOGDIR, is_eager=True)
@config_options(exclude=("fail_on", "group_by", "select", "ignore"))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write loss vs LR with the suggestion marked to this PNG (one run only, or use --run).")
@click.option("--run", "run_name", default=None, help="Which run, when RUN holds several (its name as reported).")
@click.pass_context
def findlr(ctx: click.Context, logdir: str, fmt: str, plot_path, run_name, **params) -> None:
    """Suggest an LR from an LR range test (lr_find): loss logged while the LR grows each step."""
    import json

    from .context import rangetest

    runs, problems = _read(logdir, _make_config(ctx, params))
    _warn(problems)
    for run in runs:  # RUN itself is the run: call it by its name, not "."
        run.name = cli_plots.display_name(run.name, logdir)
    entries = [e for e in rangetest.findlr(runs) if run_name is None or e[0].name == run_name]
    if not entries:
        click.echo(f"lrdoctor: error: no run to analyse under {_shown(logdir)}", err=True)
        ctx.exit(EXIT_ERROR)
    click.echo(json.dumps(rangetest.findlr_dict(entries), indent=2) + "\n" if fmt == "json"
               else _shown_lines(rangetest.findlr_text(entries)), nl=False)
    if plot_path is not None:
        from .plots_lr import plot_range_test

        run, fit, _ = entries[0]
        if fit is not None:
            plot_range_test(*rangetest.lr_loss_pairs(run), fit, plot_path, title=run.name)
            click.echo(f"lrdoctor: wrote {_shown(plot_path)}", err=True)
    ctx.exit(EXIT_OK if any(fit is not None and fit.suggested_lr for _, fit, _ in entries) else EXIT_ERROR)


# --------------------------------------------------------------------------- runs


@cli.command("runs", short_help="List the runs found and how they were read.")
@click.argument("logdir", type=LOGDIR, is_eager=True)
@config_options(exclude=("fail_on", "group_by", "select", "ignore", "lr"))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_context
def runs_command(ctx: click.Context, logdir: str, fmt: str, **params) -> None:
    """List the runs found under LOGDIR: format, tags with their roles, points, steps, problems."""
    from .readers import read_runs
    from .reporters import runs_report

    runs, problems = read_runs(logdir, tag_roles=_make_config(ctx, params).tag_roles or None)
    click.echo(runs_report.render(runs, problems, fmt), nl=False)
    if not runs:
        click.echo(f"lrdoctor: error: no runs found under {_shown(logdir)}", err=True)
    ctx.exit(runs_report.exit_code(runs))


# --------------------------------------------------------------------------- rules


@cli.command("rules", short_help="List the rules, or explain one.")
@click.argument("code", required=False)
@click.pass_context
def rules_command(ctx: click.Context, code: str | None) -> None:
    """List the rules, or explain one (by code or name, e.g. `lrdoctor rules DV01`)."""
    import shutil

    from .errors import LrDoctorError
    from .reporters import rules_report
    from .rules import all_rules, find_rule

    width = min(120, shutil.get_terminal_size((100, 24)).columns)
    if code is None:
        click.echo(rules_report.rule_list(all_rules(), width), nl=False)
    else:
        rule = find_rule(code)
        if rule is None:
            raise LrDoctorError(f"no rule {_shown(code)!r}; `lrdoctor rules` lists them")
        click.echo(rules_report.rule_doc(rule, width), nl=False)
    ctx.exit(EXIT_OK)


# --------------------------------------------------------------------------- schema


@cli.command("schema", short_help="Print the JSON report's schema.")
@click.pass_context
def schema_command(ctx: click.Context) -> None:
    """Print the JSON Schema of the JSON report (--format json) and its version policy."""
    from .reporters import schema

    click.echo(schema.render(), nl=False)
    ctx.exit(EXIT_OK)


# --------------------------------------------------------------------------- watch (cli_watch.py)

cli.add_command(cli_watch.watch_command)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (tests call this).

    The console script calls ``sys.exit(main())``.  Every click error — usage errors and
    ``ClickException`` alike, whose own default is 1 — is exit 2, so 1 always means findings.
    """
    from ._heap import give_large_blocks_their_own_memory

    give_large_blocks_their_own_memory()  # a long curve's peak memory (see _heap.py)
    try:
        rv = cli.main(args=argv, prog_name="lrdoctor", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.Abort:
        click.echo("Aborted!", err=True)
        return EXIT_ERROR
    except Exception:  # a bug in lrdoctor: show it, but never exit 1 ("findings") for it
        import traceback

        traceback.print_exc()
        click.echo("lrdoctor: internal error (a bug): please report it with the traceback above", err=True)
        return EXIT_ERROR
    return rv if isinstance(rv, int) else EXIT_OK
