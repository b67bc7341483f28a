"""Readers: find the runs under a log directory and read each into a ``Run``.

Public entry point: ``read_runs(path, tag_roles=None, *, progress=None) -> (runs, problems)``.
``problems`` are the ones that belong to no run (an unreadable directory, a CSV that is no
training log, say); a run's own reading problems are in ``run.problems``.
``split_diagnosable(runs)`` sets the runs with nothing to diagnose (no loss or accuracy curve)
apart, as problems.
"""
from __future__ import annotations

from .discover import read_runs, split_diagnosable

__all__ = ["read_runs", "split_diagnosable"]
