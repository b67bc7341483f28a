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


@contextlib.contextmanager
def status(message: str, *, enabled: bool | None = None, stream=None) -> Iterator[None]:
    """A transient one-line status on a terminal while the block runs (the readers report no
    progress of their own); erased afterwards, so nothing is left behind."""
    stream = stream or sys.stderr
    show = enabled if enabled is not None else bool(getattr(stream, "isatty", lambda: False)())
    if show:
        stream.write(message)
        stream.flush()
    try:
        yield
    finally:
        if show:
            stream.write("\r\x1b[K")  # back to the line start, clear to its end
            stream.flush()
