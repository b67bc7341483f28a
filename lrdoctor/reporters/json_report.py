"""JSON: the versioned contract (see records.py)."""
from __future__ import annotations

import json

from .records import report_to_dict


def render(report, **_options) -> str:
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False, allow_nan=False) + "\n"
