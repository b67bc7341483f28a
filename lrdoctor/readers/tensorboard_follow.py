"""A TensorBoard run directory -> Runs, from event files already decoded (watch: readers/incremental.py).

The same steps as ``tensorboard_trainings.read_tensorboard_trainings`` -- files of a part ordered by
the timestamp in their name then their first wall time, tags merged (merge.py), epochs filled in,
and, only when a tag goes back, the files cut into separate trainings -- but over ``loaded``
(path -> the scalars and problems ``tfevents.read_tfevents`` would give), so a poll decodes only
what was appended.  tests/test_watch_incremental.py checks that it agrees with ``read_runs``.
"""
from __future__ import annotations

from ..model import Problem, Run
from .merge import Chunk, merge_tags
from .tensorboard_run import TensorBoardJob, _first_wall_time, _name_time, _with_epochs
from .tensorboard_trainings import _run_of, _segments, _single, _split_by_clock
from .trainings import label_parts, part_name


def tensorboard_runs(job: TensorBoardJob, loaded: dict[str, tuple[dict, list[Problem]]]) -> list[Run]:
    """One Run per training in the job's directory (usually exactly one)."""
    run = _one_run(job, loaded)
    if not run.restarts:
        return [run]
    problems: list[Problem] = []
    groups, whys = _segments(_files_in_order(job, loaded, problems))
    if len(groups) < 2:
        return [_single(job, groups[0] if groups else [], problems)]
    parts = [_run_of(job, part_name(job.name, k), group, problems if k == 0 else [])
             for k, group in enumerate(groups)]
    return label_parts(parts, job.name, job.directory, whys, "event file")


def _ordered(files: tuple[str, ...], loaded, problems: list[Problem]) -> list[dict]:
    """tensorboard_run._read_part over scalars already read."""
    entries = []
    for path in files:
        scalars, file_problems = loaded[path]
        problems.extend(file_problems)
        entries.append(((_name_time(path), _first_wall_time(scalars), path), scalars))
    entries.sort(key=lambda item: item[0])
    return [scalars for _, scalars in entries]


def _one_run(job: TensorBoardJob, loaded) -> Run:
    """tensorboard_run.read_tensorboard_run over scalars already read."""
    problems: list[Problem] = []
    tag_chunks: dict[str, list[Chunk]] = {}
    for prefix, files in job.parts:
        for scalars in _ordered(files, loaded, problems):
            for tag, raw in scalars.items():
                tag_chunks.setdefault(prefix + tag, []).append(Chunk.from_lists(raw.steps, raw.values, raw.wall_times))
    series, restarts, notes = merge_tags(tag_chunks)
    series = _with_epochs(series, keras=job.format == "keras_tensorboard")
    if not series and not problems:
        notes.append(f"no scalar data in {len(job.paths)} event file(s)")
    return Run(name=job.name, source=job.directory, format=job.format,
               series=series, problems=problems, restarts=restarts, notes=notes)


def _files_in_order(job: TensorBoardJob, loaded, problems: list[Problem]) -> list[tuple[str, str, dict]]:
    """tensorboard_trainings._files_in_order over scalars already read."""
    entries = []
    for prefix, files in job.parts:
        for path in files:
            scalars, file_problems = loaded[path]
            problems.extend(file_problems)
            for piece in _split_by_clock(scalars):
                entries.append(((_name_time(path), _first_wall_time(piece), path), prefix, piece))
    entries.sort(key=lambda item: item[0])
    return [(prefix, key[2], scalars) for key, prefix, scalars in entries]
