"""LOGDIR arguments: a local path that must exist, or a URL (``s3://bucket/runs``) left to the readers."""
from __future__ import annotations

import click


class LogdirOrUrl(click.ParamType):
    """click.Path(exists=True) for local paths; a URL is passed on unchecked (readers/remote.py says
    when it cannot be listed)."""

    name = "path"

    def __init__(self) -> None:
        self._local = click.Path(exists=True)

    def convert(self, value, param, ctx):
        from .readers.remote import is_url

        if isinstance(value, str) and is_url(value):
            return value
        return self._local.convert(value, param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        return self._local.shell_complete(ctx, param, incomplete)


LOGDIR = LogdirOrUrl()
