"""lrdoctor: diagnose the learning rate from training logs.

    >>> import lrdoctor
    >>> report = lrdoctor.diagnose("logs/")          # doctest: +SKIP
    >>> report.ok, report.exit_code("warning")      # doctest: +SKIP
"""
from __future__ import annotations

import os

from ._version import __version__
from .findings import Finding, Recommendation, Severity
from .report import Report, RunResult

__all__ = ["diagnose", "read_runs", "read_diagnosable", "Report", "RunResult", "Finding", "Recommendation", "Severity", "__version__"]


def read_runs(path, tag_roles=None, *, progress=None):
    """Read every run under ``path``; returns (runs, problems).  ``progress(done, total)`` is
    called after each run (silent by default).  See lrdoctor.readers."""
    from .readers import read_runs as _read

    return _read(path, tag_roles=tag_roles, progress=progress)


def read_diagnosable(path, tag_roles=None, *, progress=None):
    """(runs worth diagnosing, reading problems): a run with nothing in it to diagnose (an empty or
    garbage file, an event file without scalars) is reported as a problem, not diagnosed."""
    from .readers import split_diagnosable

    runs, problems = read_runs(path, tag_roles=tag_roles, progress=progress)
    runs, undiagnosable = split_diagnosable(runs)
    return runs, [*problems, *undiagnosable]


def diagnose(path_or_runs, config=None) -> Report:
    """Diagnose a log directory (or a list of ``Run``) and return a ``Report``.

    A run with no loss or accuracy curve (read from disk or handed in) is reported under
    ``Report.problems``, not diagnosed.

    ``config`` is a ``lrdoctor.config.Config``, a dict with the configuration file's keys
    (``{"fail-on": "warning", "ignore": ["DQ"], "rules": {"loss-diverged": {...}}}``), or the
    path of a TOML file (pyproject.toml or lrdoctor.toml).  No file is searched for implicitly:
    a library call does what its arguments say.  Raises ``lrdoctor.errors.ConfigError`` for a
    bad configuration, ``ReadError`` when the path cannot be read at all.
    """
    from .config import Config, config_from_mapping, load_config
    from .engine import diagnose_runs

    if config is None:
        config = Config()
    elif isinstance(config, (str, bytes)) or hasattr(config, "__fspath__"):
        config = load_config(config)
    elif not isinstance(config, Config):
        config = config_from_mapping(config)
    if isinstance(path_or_runs, (str, bytes)) or hasattr(path_or_runs, "__fspath__"):
        from .pipeline import diagnose_path  # run by run in worker processes (docs/scale.md)

        return diagnose_path(os.fsdecode(path_or_runs), config)
    # Runs handed in get the same treatment as runs read here: roles from the tag names when the
    # caller set none, and a run with nothing to judge is a problem.
    from .readers import split_diagnosable
    from .tags import assign_roles

    runs = list(path_or_runs)
    for run in runs:
        if not run.roles:
            assign_roles(run, config.tag_roles or None)
    runs, problems = split_diagnosable(runs)
    return diagnose_runs(runs, config, problems)
