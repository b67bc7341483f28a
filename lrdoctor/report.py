"""The result of a diagnosis: per-run results, counts, and the exit code for a --fail-on level."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .findings import Finding, Recommendation, Severity
from .model import Problem

# Exit codes (stable; documented in the README).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

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

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def status(self) -> str:
        worst = self.worst
        return "ok" if worst is None else str(worst)


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

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def ok(self) -> bool:
        return self.exit_code("error") == EXIT_OK

    def exit_code(self, fail_on: str = "error") -> int:
        """0: nothing at or above ``fail_on``; 1: findings at or above it; 2: nothing could be diagnosed."""
        if fail_on not in FAIL_ON_LEVELS:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON_LEVELS)}, not {fail_on!r}")
        if not self.runs:
            return EXIT_ERROR
        if fail_on == "never":
            return EXIT_OK
        threshold = Severity.parse(fail_on)
        return EXIT_FINDINGS if any(f.severity >= threshold for f in self.findings) else EXIT_OK

    def to_dict(self) -> dict:
        from .reporters.records import report_to_dict

        return report_to_dict(self)
