"""The LOGDIR argument's type: a path that exists, or an experiment tracker's URL.

``mlflow://HOST:PORT[/EXPERIMENT][?run=ID,...]`` (readers/mlflow_server.py) is handed on as it is:
the reader says, in one line, what is wrong with it (no server there, no such experiment).
"""
from __future__ import annotations

import click


class LogdirOrTracker(click.Path):
    """``click.Path(exists=True)``, except that a tracker URL passes unchecked."""

    name = "logdir"

    def __init__(self) -> None:
        super().__init__(exists=True)

    def convert(self, value, param, ctx):
        from .readers.mlflow_server import is_mlflow_url

        if is_mlflow_url(value):
            return value
        return super().convert(value, param, ctx)


LOGDIR = LogdirOrTracker()
