"""MLflow file store run directory (``mlruns/<exp>/<run>/``) -> Run.

``metrics/<name>`` (names may contain '/', i.e. nested files) hold lines ``timestamp_ms value step``
(very old MLflow wrote ``timestamp value`` only: the line number is then the step).
``params/<name>`` hold one value each and go to ``Run.hparams``; tags.py turns an LR param into
a constant LR curve when no LR metric was logged.
"""
from __future__ import annotations

import os

from ..model import Problem, Run
from .discover import relative_name
from .merge import Chunk, merge_tags


def is_mlflow_run(directory: str, entries: list[str]) -> bool:
    return "metrics" in entries and ("meta.yaml" in entries or "params" in entries) \
        and os.path.isdir(os.path.join(directory, "metrics"))


def _files_under(root: str) -> list[tuple[str, str]]:
    """(name relative to ``root`` with '/' separators, full path) of every file below it, by name."""
    paths = [os.path.join(dirpath, f) for dirpath, _, files in os.walk(root) for f in files]
    return sorted((relative_name(full, root), full) for full in paths)


def _parse_metric(path: str, problems: list[Problem]) -> Chunk | None:
    steps, values, walls, bad = [], [], [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                wall, value = float(fields[0]) / 1000.0, float(fields[1])
                step = int(fields[2]) if len(fields) > 2 else len(steps)
            except (ValueError, IndexError):
                bad.append((lineno, line.strip()[:40]))
                continue
            steps.append(step)
            values.append(value)
            walls.append(wall)
    if bad:
        problems.append(Problem(path, f"{len(bad)} line(s) not 'timestamp value step' (first: {bad[0][1]!r}) skipped",
                                partial=bool(steps), line=bad[0][0]))
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
        try:
            chunk = _parse_metric(path, problems)
        except OSError as exc:
            problems.append(Problem(path, f"cannot read: {exc.strerror or exc}"))
            continue
        if chunk is not None:
            chunks[metric] = [chunk]
    hparams: dict = {}
    for param, path in _files_under(os.path.join(directory, "params")):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                hparams[param] = _parse_param(fh.read())
        except OSError as exc:
            problems.append(Problem(path, f"cannot read: {exc.strerror or exc}"))
    series, restarts, notes = merge_tags(chunks)
    return Run(name=name, source=os.path.abspath(directory), format="mlflow", series=series,
               problems=problems, restarts=restarts, notes=notes, hparams=hparams)
