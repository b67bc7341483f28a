"""A TensorBoard run directory whose event files hold several separate trainings -> one Run each.

Each event file is one writer (a process, a ``Trainer``, a Keras ``fit()``); trainings.Segmenter
decides, file by file in the order they were written, whether a file starts a new training.  A
writer reused for several trainings (one ``SummaryWriter`` in a notebook) is cut into them first,
by wall time, where a tag starts again from scratch.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from ..model import Problem, Run
from .merge import Chunk, merge_tags
from .tensorboard_run import TensorBoardJob, _first_wall_time, _name_time, _read_part, _with_epochs, \
    read_tensorboard_run, without_wall_times
from .trainings import Segmenter, label_parts, part_name


MAX_CUTS = 1000  # backward jumps looked at per tag and file


class _Points(NamedTuple):
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray


def _files_in_order(job: TensorBoardJob, problems: list[Problem]) -> list[tuple[str, str, dict]]:
    """(prefix, path, scalars) of every event file -- or of each training within one file (a
    ``SummaryWriter`` reused across trainings) -- all parts together, in the order written: by the
    timestamp in the name, then the first wall time (as tensorboard_run orders one part)."""
    loaded = []
    for prefix, files in job.parts:
        for path in files:
            for scalars in _read_part((path,), problems, wall_times=True):
                for piece in _split_by_clock(scalars):
                    loaded.append(((_name_time(path), _first_wall_time(piece), path), prefix, piece))
    loaded.sort(key=lambda item: item[0])
    return [(prefix, key[2], scalars) for key, prefix, scalars in loaded]


def _cut_candidates(scalars: dict) -> list[tuple[float, str]]:
    """(wall time, tag) where a tag goes strictly back to a from-scratch step within one file."""
    found = []
    for tag, raw in scalars.items():
        steps, walls = np.asarray(raw.steps), np.asarray(raw.wall_times)
        start = 0
        for i in (np.flatnonzero(steps[1:] < steps[:-1]) + 1)[:MAX_CUTS].tolist():
            before = steps[start:i]
            later = steps[i + 1:][steps[i + 1:] > steps[i]][:1]
            interval = int(later[0] - steps[i]) if len(later) else 0
            if steps[i] <= before.min() or (interval > 0 and steps[i] <= interval):
                found.append((float(walls[i]), tag))
                start = i
    return sorted(found)


def _split_by_clock(scalars: dict) -> list[dict]:
    """One file's scalars cut where a training starts again (by wall time, so that every tag is cut
    at the same moment).  A tag that starts again later than an accepted cut without having logged
    in between (a validation curve's first point of the new training) belongs to that cut."""
    cuts: list[float] = []
    for wall, tag in _cut_candidates(scalars):
        walls = np.asarray(scalars[tag].wall_times)
        if not any(c <= wall and not np.any((walls >= c) & (walls < wall)) for c in cuts):
            cuts.append(wall)
    if not cuts:
        return [scalars]
    bounds = [-np.inf, *sorted(cuts), np.inf]
    pieces = []
    for lo, hi in zip(bounds, bounds[1:]):
        piece = {}
        for tag, raw in scalars.items():
            walls = np.asarray(raw.wall_times)
            keep = (walls >= lo) & (walls < hi)
            if keep.any():
                piece[tag] = _Points(np.asarray(raw.steps)[keep], np.asarray(raw.values)[keep], walls[keep])
        pieces.append(piece)
    return pieces


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
    series = without_wall_times(_with_epochs(series, keras=job.format == "keras_tensorboard"))
    return Run(name=name, source=job.directory, format=job.format, series=series,
               problems=problems, restarts=restarts, notes=notes)


def read_tensorboard_trainings(job: TensorBoardJob) -> list[Run]:
    """One Run per training in the job's directory (usually exactly one).  Read as before
    (tensorboard_run.read_tensorboard_run) unless a tag goes back, which every glued training does:
    only then are the files read again, one by one."""
    run = read_tensorboard_run(job)
    if not run.restarts:
        return [run]
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
