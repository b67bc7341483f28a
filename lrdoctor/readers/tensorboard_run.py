"""A TensorBoard run directory (its event files, and Keras' train/validation/eval parts) -> Run.

Decoding the bytes of one event file is tfevents.read_tfevents's job; this module decides
the order of the files and merges them (merge.py), keying a part's tags by its subdirectory.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

import numpy as np

from ..model import Problem, Run, Series
from .merge import Chunk, merge_tags

_NAME_TIME = re.compile(r"tfevents\.(\d+)")


@dataclass(frozen=True)
class TensorBoardJob:
    """What discovery found: the run directory and, per tag prefix ("" or "train/"), its event files."""

    name: str
    directory: str
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    format: str = "tensorboard"

    @property
    def paths(self) -> list[str]:
        return [p for _, files in self.parts for p in files]


def _name_time(path: str) -> int:
    match = _NAME_TIME.search(os.path.basename(path))
    return int(match.group(1)) if match else 0


def _first_wall_time(scalars: dict) -> float:
    firsts = [raw.first_wall if raw.wall_times is None else float(raw.wall_times[0])
              for raw in scalars.values() if raw.wall_times is None or len(raw.wall_times)]
    return min(firsts) if firsts else float("inf")


def _read_part(files: tuple[str, ...], problems: list[Problem], wall_times: bool = False) -> list[dict]:
    """Read each file; return the per-file scalar dicts ordered by name timestamp, then wall time.
    Without ``wall_times``, a tag's wall times are kept only where merging needs them (every step 0)."""
    loaded = []
    for path in files:
        try:
            from .tfevents import read_tfevents  # lazily; a missing crc32c is then reported per file

            scalars, file_problems = read_tfevents(path, wall_times=wall_times)
        except ImportError as exc:
            problems.append(Problem(path, f"TensorBoard event reader unavailable: {exc}"))
            continue
        except Exception as exc:  # the byte reader should not raise; never let one file sink the run
            problems.append(Problem(path, f"could not read event file: {type(exc).__name__}: {exc}"))
            continue
        problems.extend(file_problems)
        loaded.append(((_name_time(path), _first_wall_time(scalars), path), scalars))
    loaded.sort(key=lambda item: item[0])
    return [scalars for _, scalars in loaded]


def without_wall_times(series: dict[str, Series]) -> dict[str, Series]:
    """The series without their wall times: an event file's clock orders its files and points and cuts
    glued trainings apart (all done by now); nothing downstream reads it (see model.Series).  Tags logged
    at the same steps (the loss and the LR, every step) share one steps array (``shared_steps``)."""
    return shared_steps({tag: replace(s, wall_times=None) if s.wall_times is not None else s
                         for tag, s in series.items()})


def shared_steps(series: dict[str, Series]) -> dict[str, Series]:
    """Series whose steps equal an earlier series' get that series' array, made read-only (a Series is
    a plain value nobody changes; shared, a write would change two curves): 8 bytes a point less."""
    seen: dict[tuple[int, int, int], list[np.ndarray]] = {}
    out = {}
    for tag, s in series.items():
        if len(s) < 2:
            out[tag] = s
            continue
        same = seen.setdefault((len(s), int(s.steps[0]), int(s.steps[-1])), [])
        twin = next((steps for steps in same if np.array_equal(steps, s.steps)), None)
        if twin is None:
            same.append(s.steps)
            out[tag] = s
        else:
            twin.flags.writeable = False
            out[tag] = replace(s, steps=twin)
    return out


_EPOCH_TAGS = ("epoch", "train/epoch")  # Lightning, HF Trainer


def _with_epochs(series: dict[str, Series], keras: bool) -> dict[str, Series]:
    """Fill ``Series.epochs`` where the run says: from an epoch tag logged beside the metrics
    (the value last logged at or before each step), or, in Keras' layout, for ``epoch_*`` tags whose step is the epoch."""
    clock = next((series[t] for t in _EPOCH_TAGS if t in series and len(series[t]) > 1), None)
    if clock is not None and not np.all(np.diff(clock.values) >= 0):
        clock = None  # restarted or odd: better no epochs than wrong ones
    out = {}
    for tag, s in series.items():
        if keras and tag.rsplit("/", 1)[-1].startswith("epoch_"):
            s = replace(s, epochs=s.steps.astype(np.float64))
        elif clock is not None and tag not in _EPOCH_TAGS:
            at = np.clip(np.searchsorted(clock.steps, s.steps, side="right") - 1, 0, None)
            s = replace(s, epochs=clock.values[at])  # the epoch last logged at or before each step
        out[tag] = s
    return out


def read_tensorboard_run(job: TensorBoardJob) -> Run:
    problems: list[Problem] = []
    tag_chunks: dict[str, list[Chunk]] = {}
    for prefix, files in job.parts:
        for scalars in _read_part(files, problems):
            for tag, raw in scalars.items():
                chunk = Chunk.from_lists(raw.steps, raw.values, raw.wall_times)
                tag_chunks.setdefault(prefix + tag, []).append(chunk)
    series, restarts, notes = merge_tags(tag_chunks)
    series = _with_epochs(series, keras=job.format == "keras_tensorboard")
    series = without_wall_times(series)
    if not series and not problems:
        notes.append(f"no scalar data in {len(job.paths)} event file(s)")
    return Run(
        name=job.name, source=job.directory, format=job.format,
        series=series, problems=problems, restarts=restarts, notes=notes,
    )
