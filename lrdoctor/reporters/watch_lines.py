"""One line per new finding, for ``lrdoctor watch``: the text report's finding line with the run in front,
or one JSON object (the JSON report's finding record with the run's name and source).

Every string from a log is made visible (control characters escaped, as in the text report), and a
message's line breaks are escaped too: one finding, one line.
"""
from __future__ import annotations

import json

import click

from ..names import shown
from . import _format as fmt
from .records import finding_to_dict
from .text_report import STATUS_STYLE


def text_line(run: str, finding, *, color: bool = False) -> str:
    """'runs/a: DV01 (error, steps 1,200–2,000): the loss diverged ...'"""
    record = fmt.human_doc(finding_to_dict(finding))
    where = fmt.steps(record["start_step"], record["end_step"])
    severity = "note" if record["note"] else record["severity"]
    if color:
        severity = click.style(severity, **STATUS_STYLE.get(record["severity"], {}))
    return shown(f"{fmt.visible(run)}: {record['code']} ({severity}{', ' + where if where else ''}): "
            f"{fmt.visible(record['message'])}")


def json_line(run: str, source: str, finding, poll: int) -> str:
    """One JSON object: ``run``, ``source``, ``poll`` and the JSON report's finding fields."""
    return json.dumps({"run": shown(run), "source": shown(source), "poll": poll, **finding_to_dict(finding)},
                      allow_nan=False)
