"""A progress bar on stderr while many runs are diagnosed — only on a terminal.

stdout carries the report, so the bar never goes there; piped or redirected stderr
(CI logs) gets nothing, so logs stay clean.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")
MIN_ITEMS = 8  # below this the work is quick and a bar would only flicker


def wanted(n_items: int, stream=None, *, enabled: bool | None = None) -> bool:
    """Show a bar?  ``enabled`` forces it on/off; by default only for a TTY and enough items."""
    if enabled is not None:
        return enabled
    stream = stream or sys.stderr
    return n_items >= MIN_ITEMS and bool(getattr(stream, "isatty", lambda: False)())


@contextlib.contextmanager
def bar(items: Sequence[T], label: str, *, enabled: bool | None = None, stream=None) -> Iterator[Iterable[T]]:
    """``with bar(runs, "diagnosing") as it: for run in it: ...`` — a plain iterable when silent."""
    stream = stream or sys.stderr
    if not wanted(len(items), stream, enabled=enabled):
        yield items
        return
    import click

    with click.progressbar(items, label=label, file=stream, show_pos=True,
                           item_show_func=lambda item: getattr(item, "name", None)) as progress:
        yield progress


def note(message: str, *, enabled: bool | None = None, stream=None) -> None:
    """A one-line status on a terminal (e.g. while the readers work, which report no progress)."""
    stream = stream or sys.stderr
    if enabled if enabled is not None else bool(getattr(stream, "isatty", lambda: False)()):
        import click

        click.echo(message, file=stream)
