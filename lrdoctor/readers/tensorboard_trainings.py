"""A TensorBoard run directory whose event files hold several separate trainings -> one Run each.

Each event file is one writer (a process, a ``Trainer``, a Keras ``fit()``); trainings.Segmenter
decides, file by file in the order they were written, whether a file starts a new training.  A
directory with one event file is read as before (tensorboard_run.read_tensorboard_run).
"""
from __future__ import annotations

import os

import numpy as np

from ..model import Problem, Run
from .merge import Chunk, merge_tags
from .tensorboard_run import TensorBoardJob, _first_wall_time, _name_time, _read_part, _with_epochs, \
    read_tensorboard_run
from .trainings import Segmenter, label_parts, part_name


def _files_in_order(job: TensorBoardJob, problems: list[Problem]) -> list[tuple[str, str, dict]]:
    """(prefix, path, scalars) of every event file, all parts together, in the order written:
    by the timestamp in the name, then the first wall time (as tensorboard_run orders one part)."""
    loaded = []
    for prefix, files in job.parts:
        for path in files:
            for scalars in _read_part((path,), problems):
                loaded.append(((_name_time(path), _first_wall_time(scalars), path), prefix, scalars))
    loaded.sort(key=lambda item: item[0])
    return [(prefix, key[2], scalars) for key, prefix, scalars in loaded]


def _segments(files: list[tuple[str, str, dict]]) -> tuple[list[list[tuple[str, dict]]], list[str]]:
    """Files grouped into trainings, and why each training after the first began."""
    segmenter = Segmenter()
    groups: list[list[tuple[str, dict]]] = []
    whys: list[str] = [""]
    for prefix, path, scalars in files:
        steps = {prefix + tag: np.asarray(raw.steps) for tag, raw in scalars.items()}
        why = segmenter.add(steps, {prefix + tag: np.asarray(raw.values) for tag, raw in scalars.items()})
        if why is not None and groups:
            groups.append([])
            whys.append(f"{os.path.basename(path)}: {why}")
        if not groups:
            groups.append([])
        groups[-1].append((prefix, scalars))
    return groups, whys


def _run_of(job: TensorBoardJob, name: str, group: list[tuple[str, dict]], problems: list[Problem]) -> Run:
    tag_chunks: dict[str, list[Chunk]] = {}
    for prefix, scalars in group:
        for tag, raw in scalars.items():
            tag_chunks.setdefault(prefix + tag, []).append(Chunk.from_lists(raw.steps, raw.values, raw.wall_times))
    series, restarts, notes = merge_tags(tag_chunks)
    series = _with_epochs(series, keras=job.format == "keras_tensorboard")
    return Run(name=name, source=job.directory, format=job.format, series=series,
               problems=problems, restarts=restarts, notes=notes)


def read_tensorboard_trainings(job: TensorBoardJob) -> list[Run]:
    """One Run per training in the job's directory (usually exactly one)."""
    if len(job.paths) < 2:
        return [read_tensorboard_run(job)]
    problems: list[Problem] = []
    groups, whys = _segments(_files_in_order(job, problems))
    if len(groups) < 2:
        return [_single(job, groups[0] if groups else [], problems)]
    parts = [_run_of(job, part_name(job.name, k), group, problems if k == 0 else [])
             for k, group in enumerate(groups)]
    return label_parts(parts, job.name, job.directory, whys, "event file")


def _single(job: TensorBoardJob, group: list[tuple[str, dict]], problems: list[Problem]) -> Run:
    run = _run_of(job, job.name, group, problems)
    if not run.series and not problems:
        run.notes.append(f"no scalar data in {len(job.paths)} event file(s)")
    return run
