"""A progress bar on stderr while many runs are diagnosed — only on a terminal.

stdout carries the report, so the bar never goes there; piped or redirected stderr
(CI logs) gets nothing, so logs stay clean.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

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
def counter(label: str, *, enabled: bool | None = None, stream=None) -> Iterator[Callable[[int, int], None]]:
    """``with counter("reading") as tick: read_runs(path, progress=tick)`` — ``tick(done, total)``
    drives a bar once the total is known (on a terminal, for enough items); a no-op when silent."""
    stream = stream or sys.stderr
    shown = []  # the bar, once the first tick says how many items there are

    def tick(done: int, total: int) -> None:
        if not shown:
            if not wanted(total, stream, enabled=enabled):
                shown.append(None)
                return
            import click

            shown.append(click.progressbar(length=total, label=label, file=stream, show_pos=True))
        bar_ = shown[0]
        if bar_ is not None:
            bar_.update(done - bar_.pos)

    try:
        yield tick
    finally:
        if shown and shown[0] is not None:
            shown[0].render_finish()
