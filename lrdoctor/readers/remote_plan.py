"""Which files of a remote log directory to fetch, and how many of their bytes.

Discovery's own rules (discover.py) applied to a listing instead of a walk, so that a remote tree is
read exactly as its local copy would be: hidden directories are not entered; event files are fetched
whole; CSV/JSON logs (and MLflow metric files) up to the bytes the local reader would read plus one,
so that it still sees that the file went on and says so; hparams.yaml beside a run; MLflow's
``metrics/`` and ``params/`` but not ``tags/``.  Two kinds of candidates are decided on a few of their
bytes first (a *probe*), as discover decides them locally:

* a file whose name says nothing (``*.md``, no extension): its first 64 KiB (content.py);
* a ``*.txt``/``*.log``... over 8 MiB: its first, middle and last MiB (log_files.big_file_worth_reading).

Only when the probe says it is a log is the file fetched (bounded like any text log).
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Mapping

from .content import HEAD_BYTES
from .content import candidate as content_candidate
from .discover import _is_event_file, _log_candidate
from .log_files import BIG_HEAD, BIG_UNNAMED
from .hparams import MAX_HPARAMS_BYTES
from .mlflow import _MAX_PARAM_BYTES
from .textfile import MAX_TEXT_BYTES

_MLFLOW_PARTS = ("metrics", "params", "tags")


@dataclass(frozen=True)
class Fetch:
    rel: str                  # path below the root, '/' separators (the name itself for a single file)
    size: int | None          # as listed (None: the store did not say)
    limit: int | None         # fetch at most this many bytes from the start; None: the whole file
    probe: str | None = None  # "content" or "big": fetch windows() first, then decide (module docstring)


def text_fetch(rel: str, size: int | None, local_limit: int = MAX_TEXT_BYTES) -> Fetch:
    """A text file the local reader reads up to ``local_limit`` bytes: one byte more tells it the file goes on."""
    return Fetch(rel, size, local_limit + 1)


def single_file(name: str, size: int | None) -> Fetch:
    """LOGDIR is one file: read as named (discover._single_file_job)."""
    return Fetch(name, size, None) if _is_event_file(name) else text_fetch(name, size)


def plan(sizes: Mapping[str, int | None]) -> list[Fetch]:
    """The files of a listing (path below the root -> size) worth fetching, in path order."""
    directories = _directories(sizes)
    mlflow_runs = _mlflow_runs(directories)
    fetches = []
    for rel in sorted(sizes):
        folder, name = posixpath.split(rel)
        if _hidden(folder):
            continue
        inside = _inside_mlflow_part(folder, mlflow_runs)
        if inside is not None:
            if inside != "tags":  # read_mlflow_run reads metrics/ and params/, never tags/
                limit = MAX_TEXT_BYTES if inside == "metrics" else _MAX_PARAM_BYTES
                fetches.append(text_fetch(rel, sizes[rel], limit))
            continue
        fetch = _file_fetch(rel, name, sizes[rel], folder in mlflow_runs)
        if fetch is not None:
            fetches.append(fetch)
    return fetches


def _file_fetch(rel: str, name: str, size: int | None, in_mlflow_run: bool) -> Fetch | None:
    if _is_event_file(name):
        return Fetch(rel, size, None)
    named = _log_candidate(name)
    if named is not None:
        big = not named and size is not None and size > BIG_UNNAMED
        return Fetch(rel, size, MAX_TEXT_BYTES + 1, "big" if big else None)
    if content_candidate(name):
        small = size is not None and size <= HEAD_BYTES
        return Fetch(rel, size, MAX_TEXT_BYTES + 1, None if small else "content")
    if name == "hparams.yaml":
        return text_fetch(rel, size, MAX_HPARAMS_BYTES)
    if name == "meta.yaml" and in_mlflow_run:  # it marks the run (mlflow.is_mlflow_run)
        return text_fetch(rel, size)
    return None


def windows(fetch: Fetch) -> list[tuple[int, int]]:
    """The byte ranges [start, end) a probe fetches, as the local decision reads them."""
    if fetch.probe == "content":
        return [(0, HEAD_BYTES + 1 if fetch.size is None else min(fetch.size, HEAD_BYTES + 1))]
    size = fetch.size or 0  # a "big" probe always knows the size
    middle, last = size // 2, max(size - BIG_HEAD, 0)
    return [(0, min(size, BIG_HEAD + 1)), (middle, min(size, middle + BIG_HEAD)), (last, size)]


def _hidden(folder: str) -> bool:
    """Below a directory that discovery does not enter (``.git``, ``.ipynb_checkpoints``)?"""
    return any(part.startswith(".") for part in folder.split("/") if part)


def _directories(sizes: Mapping[str, int | None]) -> dict[str, set[str]]:
    """Directory (relative, "" for the root) -> the names of the files and directories in it."""
    children: dict[str, set[str]] = {"": set()}
    for rel in sizes:
        parts = rel.split("/")
        for depth in range(len(parts)):
            children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
    return children


def _mlflow_runs(directories: dict[str, set[str]]) -> set[str]:
    """The directories an MLflow run occupies (``metrics/`` beside ``meta.yaml`` or ``params``), the
    outermost one winning as in discover's walk, which does not enter a run's metrics/params/tags."""
    runs: set[str] = set()
    for folder in sorted(directories, key=lambda d: d.count("/") if d else -1):
        entries = directories[folder]
        metrics_dir = posixpath.join(folder, "metrics") if folder else "metrics"
        if _inside_mlflow_part(folder, runs) is not None or metrics_dir not in directories:
            continue
        if "meta.yaml" in entries or "params" in entries:
            runs.add(folder)
    return runs


def _inside_mlflow_part(folder: str, mlflow_runs: set[str]) -> str | None:
    """"metrics", "params" or "tags" when ``folder`` lies in that part of an MLflow run, else None."""
    parts = folder.split("/") if folder else []
    for depth, part in enumerate(parts):
        if part in _MLFLOW_PARTS and "/".join(parts[:depth]) in mlflow_runs:
            return part
    return None
