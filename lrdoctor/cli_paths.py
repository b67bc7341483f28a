"""LOGDIR arguments: a local path that must exist, or a URL left to the readers: a store's
(``s3://bucket/runs``: readers/remote.py) or an experiment tracker's (``mlflow://HOST:PORT[/EXPERIMENT]``:
readers/mlflow_server.py), which say in one line what is wrong with it."""
from __future__ import annotations

import click


class LogdirOrUrl(click.ParamType):
    """click.Path(exists=True) for local paths; a URL is passed on unchecked (readers/remote.py says
    when it cannot be listed)."""

    name = "path"

    def __init__(self) -> None:
        self._local = click.Path(exists=True)

    def convert(self, value, param, ctx):
        from .readers.mlflow_server import is_mlflow_url
        from .readers.remote import is_url

        if isinstance(value, str) and (is_mlflow_url(value) or is_url(value)):
            return value
        return self._local.convert(value, param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        return self._local.shell_complete(ctx, param, incomplete)


LOGDIR = LogdirOrUrl()
