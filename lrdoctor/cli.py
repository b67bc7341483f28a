"""Thin click layer: options -> config -> engine -> reporter -> exit code.

Nothing heavy is imported at module level so `lrdoctor --help` stays fast.
stdout carries only the report; messages go to stderr.
"""
from __future__ import annotations

import sys

import click

from ._version import __version__
from .report import EXIT_ERROR


class _Group(click.Group):
    """Click exits 2 on usage errors already; this makes our own errors exit 2 as well, never 1."""

    def invoke(self, ctx):
        from .errors import LrDoctorError

        try:
            return super().invoke(ctx)
        except LrDoctorError as exc:
            click.echo(f"lrdoctor: error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lrdoctor")
def cli() -> None:
    """Diagnose the learning rate from training logs."""


@cli.command()
@click.argument("logdir", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "junit", "github"]), default="text")
def diagnose(logdir: str, fmt: str) -> None:
    """Diagnose every run under LOGDIR."""
    from . import diagnose as _diagnose
    from .reporters import render

    report = _diagnose(logdir)
    for p in report.problems:
        click.echo(f"lrdoctor: {p.describe()}", err=True)
    click.echo(render(report, fmt), nl=False)
    sys.exit(report.exit_code("error"))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (tests call this)."""
    try:
        cli.main(args=argv, prog_name="lrdoctor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.Abort:
        click.echo("Aborted!", err=True)
        return EXIT_ERROR
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    return 0
