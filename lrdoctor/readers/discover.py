"""Which files form which run, and which reader reads them."""
from __future__ import annotations

import os
from typing import Mapping, Sequence

from ..model import Problem, Run


def read_runs(path: str | os.PathLike, tag_roles: Mapping[str, Sequence[str]] | None = None) -> tuple[list[Run], list[Problem]]:
    raise NotImplementedError("run discovery is not written yet")
