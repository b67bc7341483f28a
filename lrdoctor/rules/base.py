"""The shape every rule has.  A rule is a class with class attributes and a ``check`` method.

    class Divergence(Rule):
        '''Docstring = user documentation (sections: What it detects, Why it matters, Evidence, Options).'''
        code = "DV01"
        name = "loss-diverged"
        kind = "divergence"
        severity = Severity.ERROR
        requires = (TRAIN_LOSS,)          # roles; the rule is skipped when one is missing

        @dataclass(frozen=True)
        class Options:                     # defaults live here only
            min_points: int = 8

        def check(self, run, options) -> Iterator[Finding]: ...

``check`` yields Findings (use ``self.finding(...)`` to fill code/name/kind/severity/run);
it never raises to signal a finding.  Maths belong in lrdoctor/signal/ as pure functions.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Iterator

from ..findings import Finding, Severity
from ..model import Run


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str]
    severity: ClassVar[Severity]
    requires: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()

    @dataclasses.dataclass(frozen=True)
    class Options:
        pass

    def check(self, run: Run, options) -> Iterator[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def applicable(self, run: Run) -> bool:
        return all(run.get(role) is not None for role in self.requires)

    def finding(self, run: Run, message: str, *, severity: Severity | None = None, **fields) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            kind=self.kind,
            severity=self.severity if severity is None else severity,
            message=message,
            run=run.name,
            **fields,
        )
