"""MLflow file store run directory (``mlruns/<exp>/<run>/``) -> Run.

``metrics/<name>`` (names may contain '/', i.e. nested files) hold lines ``timestamp_ms value step``
(very old MLflow wrote ``timestamp value`` only: the line number is then the step).
``params/<name>`` hold one value each and go to ``Run.hparams``; tags.py turns an LR param into
a constant LR curve when no LR metric was logged.  A line that is not three numbers with a whole
int64 step is skipped and reported with its line; so is a last line with no line end (MLflow
ends every line: the file was cut while being written).
"""
from __future__ import annotations

import os

from ..model import Problem, Run
from .discover import relative_name
from .jsonvalues import STEP_LIMIT
from .merge import Chunk, merge_tags
from .textfile import TextFile, read_text, split_lines

_MAX_PARAM_BYTES = 1 << 20


def is_mlflow_run(directory: str, entries: list[str]) -> bool:
    return "metrics" in entries and ("meta.yaml" in entries or "params" in entries) \
        and os.path.isdir(os.path.join(directory, "metrics"))


def _files_under(root: str) -> list[tuple[str, str]]:
    """(name relative to ``root`` with '/' separators, full path) of every file below it, by name."""
    paths = [os.path.join(dirpath, f) for dirpath, _, files in os.walk(root) for f in files]
    return sorted((relative_name(full, root), full) for full in paths)


def _blank(error: str) -> bool:
    """An empty metric or parameter file is no damage (a metric never logged, an empty value)."""
    return error.startswith("empty") or "only whitespace" in error


def _metric_line(fields: list[str], index: int) -> tuple[int, float, float] | str:
    """(step, value, wall time in s) of one line, or why it is none."""
    if len(fields) not in (2, 3):
        return "not 'timestamp value step'"
    try:
        wall, value = float(fields[0]) / 1000.0, float(fields[1])
        step = int(fields[2]) if len(fields) > 2 else index
    except ValueError:
        return "not 'timestamp value step'"
    if not -STEP_LIMIT <= step < STEP_LIMIT:
        return "step out of range (|step| >= 2^63)"
    return step, value, wall


def _parse_metric(path: str, problems: list[Problem]) -> Chunk | None:
    return parse_metric_text(path, read_text(path), problems)


def parse_metric_text(path: str, read: TextFile, problems: list[Problem]) -> Chunk | None:
    """One metric file's points (its text already read); bad lines go to ``problems``."""
    if read.error:
        if not _blank(read.error):
            problems.append(Problem(path, read.error))
        return None
    lines = split_lines(read.text)
    steps, values, walls, bad = [], [], [], []
    for lineno, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if lineno == len(lines) and not read.text.endswith(("\n", "\r")):
            bad.append((lineno, "no line end (file cut while being written?)", line))
            continue
        parsed = _metric_line(fields, len(steps))
        if isinstance(parsed, str):
            bad.append((lineno, parsed, line))
            continue
        steps.append(parsed[0])
        values.append(parsed[1])
        walls.append(parsed[2])
    if bad:
        lineno, why, line = bad[0]
        problems.append(Problem(path, f"{len(bad)} line(s) skipped (first: {line.strip()[:40]!r}: {why})",
                                partial=bool(steps), line=lineno))
    if read.cut_note:
        problems.append(Problem(path, read.cut_note, partial=True))
    return Chunk.from_lists(steps, values, walls) if steps else None


def _parse_param(text: str) -> object:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_mlflow_run(directory: str, name: str) -> Run:
    problems: list[Problem] = []
    chunks: dict[str, list[Chunk]] = {}
    for metric, path in _files_under(os.path.join(directory, "metrics")):
        chunk = _parse_metric(path, problems)
        if chunk is not None:
            chunks[metric] = [chunk]
    hparams: dict = {}
    for param, path in _files_under(os.path.join(directory, "params")):
        read = read_text(path, _MAX_PARAM_BYTES)
        if read.error and not _blank(read.error):
            problems.append(Problem(path, read.error))
        elif read.cut_note:
            problems.append(Problem(path, f"parameter not read: {read.cut_note}"))
        else:
            hparams[param] = _parse_param(read.text)
    series, restarts, notes = merge_tags(chunks)
    return Run(name=name, source=os.path.abspath(directory), format="mlflow", series=series,
               problems=problems, restarts=restarts, notes=notes, hparams=hparams)
