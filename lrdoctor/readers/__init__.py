"""Readers: find the runs under a log directory and read each into a ``Run``.

Public entry point: ``read_runs(path, tag_roles=None) -> (runs, problems)``.
``problems`` are the ones that belong to no run (an unreadable directory, say);
a run's own reading problems are in ``run.problems``.
"""
from __future__ import annotations

from .discover import read_runs

__all__ = ["read_runs"]
