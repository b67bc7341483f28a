"""The result of a diagnosis: per-run results, counts, and the exit code for a --fail-on level."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .findings import Finding, Recommendation, Severity
from .model import Problem

# Exit codes (stable; documented in docs/configuration.md).  The only place they are defined.
EXIT_OK = 0  # nothing at or above --fail-on
EXIT_FINDINGS = 1  # at least one finding at or above --fail-on
EXIT_ERROR = 2  # could not run (fully): bad usage or config, unreadable input, no runs found, a check crashed

FAIL_ON_LEVELS = ("info", "warning", "error", "never")
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunResult:
    run: str  # path relative to the diagnosed directory
    source: str  # where it was read from
    format: str
    findings: tuple[Finding, ...] = ()
    recommendation: Recommendation | None = None
    problems: tuple[Problem, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)
    # Extra analyses keyed by name (e.g. "lr_range_test"), plain JSON-able dicts.
    extras: Mapping[str, Any] = field(default_factory=dict)
    # The training loss downsampled for sparklines (see loss_preview); NaN/inf kept.
    loss_preview: tuple[float, ...] = ()
    # Which rules looked at this run: (code, name), and which did not: (code, name, reason).
    rules_run: tuple[tuple[str, str], ...] = ()
    rules_skipped: tuple[tuple[str, str, str], ...] = ()
    # Codes of the checks that crashed on this run (rules, "RT01" the range-test analysis, "SWEEP" the
    # sweep analysis, "diagnosis" the whole run): their verdict is unknown, so the run is "crashed".
    crashed: tuple[str, ...] = ()

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def status(self) -> str:
        """"crashed" (a check could not run: never a pass), else the worst severity, else "ok"."""
        if self.crashed:
            return "crashed"
        worst = self.worst
        return "ok" if worst is None else str(worst)

    @property
    def rank(self) -> int:
        """How bad the status is, for sorting: crashed above error above warning above info above ok."""
        return len(Severity) + 1 if self.crashed else (int(self.worst) if self.worst else 0)


def loss_preview(values: Sequence[float] | None, points: int = 48) -> tuple[float, ...]:
    """``values`` cut into at most ``points`` equal buckets, each the bucket's mean.

    A bucket holding a NaN or inf becomes NaN, so a divergence stays visible in the sparkline.
    """
    if values is None:
        return ()
    values = np.asarray(values, dtype=np.float64)  # a bucket at a time as Python floats: 10M points fit
    n = len(values)
    if n <= points:
        return tuple(v if math.isfinite(v) else math.nan for v in values.tolist())
    out = []
    for i in range(points):
        bucket = values[i * n // points:(i + 1) * n // points]
        finite = bool(np.isfinite(bucket).all())
        out.append(sum(bucket.tolist()) / len(bucket) if finite else math.nan)  # summed in order, as always
    return tuple(out)


@dataclass(frozen=True)
class Report:
    runs: tuple[RunResult, ...]
    # Problems that belong to no run (unreadable directory, file that forms no run...).
    problems: tuple[Problem, ...] = ()
    # Cross-run analyses (sweeps), plain JSON-able dicts.
    sweeps: tuple[Mapping[str, Any], ...] = ()

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.runs for f in r.findings]

    @property
    def crashed_runs(self) -> list[RunResult]:
        return [r for r in self.runs if r.crashed]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def ok(self) -> bool:
        return self.exit_code("error") == EXIT_OK

    def exit_code(self, fail_on: str = "error") -> int:
        """0: nothing at or above ``fail_on``; 1: findings at or above it; 2: nothing could be diagnosed,
        or a check crashed on some run (its verdict is unknown, so it must not pass: 2 whatever ``fail_on``
        says, except ``never``)."""
        if fail_on not in FAIL_ON_LEVELS:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON_LEVELS)}, not {fail_on!r}")
        if not self.runs:
            return EXIT_ERROR
        if fail_on == "never":
            return EXIT_OK
        if self.crashed_runs:
            return EXIT_ERROR
        threshold = Severity.parse(fail_on)
        return EXIT_FINDINGS if any(f.severity >= threshold for f in self.findings) else EXIT_OK

    def to_dict(self) -> dict:
        from .reporters.records import report_to_dict

        return report_to_dict(self)
