"""`lrdoctor runs`: what was read - each run's format, path, tags with roles, points, step range,
restarts, notes and reading problems.  ``render(runs, problems, fmt) -> str``, text or JSON."""
from __future__ import annotations

import json
import math
from typing import Sequence

from ..model import Problem, Run, Series
from ._format import human_doc
from .records import problem_to_dict

RUNS_SCHEMA_VERSION = 1


def _step_range(series: Sequence[Series]) -> list[int] | None:
    nonempty = [s for s in series if len(s)]
    if not nonempty:
        return None
    return [int(min(s.steps[0] for s in nonempty)), int(max(s.steps[-1] for s in nonempty))]


def _problem(p: Problem) -> dict:
    return {**problem_to_dict(p), "text": p.describe()}


def _hparam(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def run_record(run: Run) -> dict:
    role_of = {tag: role for role, tag in run.roles.items()}
    tags = [{"tag": tag, "role": role_of.get(tag), "points": len(s), "steps": _step_range([s]),
             "has_epochs": s.epochs is not None} for tag, s in sorted(run.series.items())]
    return {
        "name": run.name, "format": run.format, "source": run.source,
        "points": run.n_points, "steps": _step_range(list(run.series.values())),
        "roles": dict(sorted(run.roles.items())), "role_notes": dict(sorted(run.role_notes.items())),
        "tags": tags,
        "restarts": [{"tag": r.tag, "from_step": r.from_step, "to_step": r.to_step,
                      "n_overwritten": r.n_overwritten} for r in run.restarts],
        "notes": list(run.notes),
        "problems": [_problem(p) for p in run.problems],
        "hparams": {str(k): _hparam(v) for k, v in sorted(run.hparams.items(), key=lambda kv: str(kv[0]))},
    }


def records(runs: Sequence[Run], problems: Sequence[Problem]) -> dict:
    ordered = sorted(runs, key=lambda r: r.name)
    return {
        "version": RUNS_SCHEMA_VERSION,
        "runs": [run_record(r) for r in ordered],
        "problems": [_problem(p) for p in problems],
        "summary": {"runs": len(ordered), "runs_with_problems": sum(1 for r in ordered if r.problems),
                    "points": sum(r.n_points for r in ordered), "problems_outside_runs": len(problems)},
    }


def _steps_text(steps) -> str:
    return "no points" if steps is None else f"steps {steps[0]}..{steps[1]}"


def _run_text(rec: dict) -> list[str]:
    lines = [f"{rec['name']}  [{rec['format']}]  {len(rec['tags'])} tag(s), {rec['points']} point(s), "
             f"{_steps_text(rec['steps'])}"]
    width = min(40, max((len(t["tag"]) for t in rec["tags"]), default=0))
    for tag in sorted(rec["tags"], key=lambda t: (t["role"] is None, t["role"] or "", t["tag"])):
        role = tag["role"] or "-"
        lines.append(f"  {role:<10}  {tag['tag']:<{width}}  {tag['points']:>7} pts  {_steps_text(tag['steps'])}")
    lines += [f"  why: {note}" for note in rec["role_notes"].values()]
    lines += [f"  restart: {r['tag']} went back from step {r['from_step']} to {r['to_step']}; "
              f"{r['n_overwritten']} point(s) replaced by the later data" for r in rec["restarts"]]
    lines += [f"  note: {note}" for note in rec["notes"]]
    lines += [f"  problem: {p['text']}" for p in rec["problems"]]
    return lines


def render(runs: Sequence[Run], problems: Sequence[Problem] = (), fmt: str = "text") -> str:
    data = records(runs, problems)
    if fmt == "json":
        return json.dumps(data, indent=2, allow_nan=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; expected text or json")
    data = human_doc(data)  # names from the logs: their control characters shown escaped
    lines: list[str] = []
    for rec in data["runs"]:
        lines += _run_text(rec) + [""]
    lines += [f"problem: {p['text']}" for p in data["problems"]]
    s = data["summary"]
    lines.append(f"{s['runs']} run(s), {s['points']} point(s); {s['runs_with_problems']} run(s) with reading "
                 f"problems, {s['problems_outside_runs']} problem(s) outside runs")
    return "\n".join(lines) + "\n"


def exit_code(runs: Sequence[Run]) -> int:
    """0 when at least one run has data; 2 when no run was found or nothing could be read."""
    from ..report import EXIT_ERROR, EXIT_OK

    return EXIT_OK if any(r.series for r in runs) else EXIT_ERROR
