"""A log directory followed poll after poll: what ``read_runs`` gives, reading only what was appended.

Every poll discovers the runs again (``discover.find_jobs``: a directory walk, no file read), so new
files and new runs are picked up.  Each file is followed by a tail (tails.py): event files from
their last complete record, text logs from their last complete line.  A run is rebuilt -- from the
points held, with the same merging and splitting of trainings as a full read -- only when one of
its files changed.  What cannot be followed by appending is read again whole when it changes:
``*.json`` documents (HF's trainer_state.json is rewritten whole), text that is not UTF-8, MLflow
run directories (and any other kind of run discovery finds), ``hparams.yaml`` beside event files.

    >>> follower = Follower("runs/")                                  # doctest: +SKIP
    >>> snapshot = follower.poll()            # doctest: +SKIP
    >>> snapshot.runs, snapshot.changed       # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..model import Problem, Run
from .discover import FileJob, _single_file_job, find_jobs
from .log_files import read_file, with_roles
from .tails import EventTail, TextTail
from .tensorboard_run import TensorBoardJob


@dataclass
class PollStats:
    """What one poll did (``watch --verbose``; the bench in docs/watch.md)."""

    bytes_read: int = 0
    files_changed: list[str] = field(default_factory=list)
    read_whole: list[str] = field(default_factory=list)  # re-read whole (not followable by appending)
    read_again: list[str] = field(default_factory=list)  # shrunk, replaced or rewritten: read from the start
    followed: dict[str, int] = field(default_factory=dict)  # how the files are followed -> how many


def _is_whole_document(path: str) -> bool:
    return path.lower().endswith(".json")


@dataclass
class Snapshot:
    """What one poll found: every run, problems that belong to no run, the runs whose points changed,
    when each run's files last changed (seconds since the epoch), and what was read."""

    runs: list[Run]
    problems: list[Problem]
    changed: set[str]
    modified: dict[str, float]
    stats: PollStats


class Follower:
    """Follows every run under ``root`` (a directory or one log file); ``poll()`` after ``poll()``."""

    def __init__(self, root: str | os.PathLike, tag_roles: Mapping[str, Sequence[str]] | None = None):
        self.root = os.fspath(root)
        self.tag_roles = {k: list(v) for k, v in (tag_roles or {}).items()} or None
        self._tails: dict[str, EventTail | TextTail] = {}
        self._results: dict[tuple, object] = {}  # job key -> what read_job would return
        self._signatures: dict[tuple, tuple] = {}  # job key -> its files' state when last read
        self._worth: dict[str, tuple] = {}  # unnamed candidate -> (its stat when looked at, holds a log)
        self._points: dict[str, tuple] = {}  # run name -> its points' signature when last polled

    def poll(self) -> Snapshot:
        stats = PollStats()
        jobs, problems, walk = self._jobs()
        seen_paths: set[str] = set()
        results, modified = [], {}
        for job in jobs:
            key = (type(job).__name__, job.name)
            if self._update(key, job, seen_paths, stats) or key not in self._results:
                self._results[key] = self._read(job)
            result = self._results[key]
            results.append(result)
            if isinstance(result, list):
                newest = _newest_mtime(_job_paths(job))
                modified.update((run.name, newest) for run in result)
        self._forget_gone({(type(j).__name__, j.name) for j in jobs}, seen_paths)
        for how in self.followed().values():
            stats.followed[how] = stats.followed.get(how, 0) + 1
        runs = sorted((r for result in results if isinstance(result, list) for r in result), key=lambda r: r.name)
        if walk is not None:  # symlinks followed or not entered: noted on fresh copies (the runs held stay as read)
            runs = [dataclasses.replace(run, notes=list(run.notes)) for run in runs]
            problems += walk.add_notes(runs)
        problems += [p for p in results if isinstance(p, Problem)]
        return Snapshot(runs, problems, self._changed_runs(runs), modified, stats)

    def _jobs(self) -> tuple[list, list[Problem], object]:
        """(jobs, problems, the symlinks walked when discovery reports them, else None)."""
        if not os.path.exists(self.root):
            return [], [Problem(self.root, "no such file or directory (yet)")], None
        if os.path.isfile(self.root):
            return [_single_file_job(self.root)], [], None
        found = find_jobs(self.root)
        return list(found[0]), list(found[1]), found[2] if len(found) > 2 else None

    # ---------------------------------------------------------------- files of a job

    def _update(self, key: tuple, job, seen_paths: set[str], stats: PollStats) -> bool:
        """Poll the job's files; True when the job must be read again."""
        if isinstance(job, FileJob) and not self._worth_reading(job):
            return self._whole_changed(key, [job.path])  # not (yet) a log: not held, looked at again when it changes
        if isinstance(job, (TensorBoardJob, FileJob)):
            paths = job.paths if isinstance(job, TensorBoardJob) else [job.path]
            changed = self._signatures.get(key) != tuple(paths)  # a file appeared or went
            self._signatures[key] = tuple(paths)
            for path in paths:
                seen_paths.add(path)
                changed |= self._poll_tail(path, isinstance(job, TensorBoardJob), stats)
            if isinstance(job, TensorBoardJob) and os.path.isdir(job.directory):
                changed |= self._whole_changed(key + ("hparams",), [os.path.join(job.directory, "hparams.yaml")])
            return changed
        paths = _job_paths(job)  # an MLflow run directory, or a kind of run this module does not know
        if not paths or self._whole_changed(key, paths):  # nothing to look at: read again at every poll
            stats.read_whole.append(job.name)
            stats.files_changed.append(job.name)
            return True
        return False

    def _poll_tail(self, path: str, events: bool, stats: PollStats) -> bool:
        tail = self._tails.get(path)
        if tail is None:
            tail = self._tails[path] = EventTail(path) if events else TextTail(path, whole=_is_whole_document(path))
        before, resets = tail.bytes_read, tail.resets
        changed = tail.poll()
        stats.bytes_read += tail.bytes_read - before
        if changed:
            stats.files_changed.append(path)
            if tail.resets != resets:
                stats.read_again.append(path)
            if isinstance(tail, TextTail) and tail.whole:
                stats.read_whole.append(path)
        return changed

    def _whole_changed(self, key: tuple, paths: list[str]) -> bool:
        signature = tuple(_stat_signature(p) for p in paths)
        changed = self._signatures.get(key) != signature
        self._signatures[key] = signature
        return changed

    def _forget_gone(self, keys: set[tuple], paths: set[str]) -> None:
        for path in [p for p in self._tails if p not in paths]:
            del self._tails[path]
        for key in [k for k in self._results if k not in keys]:
            del self._results[key]

    # ---------------------------------------------------------------- runs of a job

    def _read(self, job):
        """What ``discover.read_job`` returns for the job, from the points held."""
        from .discover import read_job

        if isinstance(job, TensorBoardJob):
            return _guarded(job, lambda: self._tensorboard(job))
        if isinstance(job, FileJob):
            return _guarded(job, lambda: self._text(job))
        return read_job(job, self.tag_roles)

    def _tensorboard(self, job: TensorBoardJob) -> list[Run]:
        from .hparams import read_hparams_beside
        from .tensorboard_follow import tensorboard_runs

        runs = tensorboard_runs(job, {path: self._tails[path].scalars() for path in job.paths})
        if os.path.isdir(job.directory):
            runs[-1].hparams = read_hparams_beside(job.directory, runs[0].problems)
        return with_roles(runs, self.tag_roles)

    def _text(self, job: FileJob):
        if not self._worth_reading(job):
            return None
        return read_file(job, self.tag_roles, read=self._tails[job.path].text())

    def _worth_reading(self, job: FileJob) -> bool:
        """Discovery's checks on a file named like no log (content.py) or a big ``*.log``: once one passes
        the file is followed; until then it is looked at again only when it changes."""
        from .content import holds_training_log
        from .log_files import big_file_worth_reading

        if job.named:
            return True
        signature, worth = self._worth.get(job.path, (None, False))
        if not worth and signature != _stat_signature(job.path):
            worth = holds_training_log(job.path) if job.content else big_file_worth_reading(job)
            self._worth[job.path] = (_stat_signature(job.path), worth)
        return worth

    def _changed_runs(self, runs: list[Run]) -> set[str]:
        changed = set()
        points = {run.name: _points_signature(run) for run in runs}
        for name, signature in points.items():
            if self._points.get(name) != signature:
                changed.add(name)
        self._points = points
        return changed

    def followed(self) -> dict[str, str]:
        """path -> how it is followed (appended records, appended lines, read whole when it changes)."""
        out = {}
        for path, tail in sorted(self._tails.items()):
            out[path] = ("event files: appended records" if isinstance(tail, EventTail)
                         else "read whole when they change" if tail.whole else "text logs: appended lines")
        return out


def _guarded(job, read):
    """``discover.read_job``'s last line of defence: one bad run never stops the others."""
    from .csvlog import NotATrainingLog

    try:
        return read()
    except NotATrainingLog as exc:
        return Problem(job.path, str(exc)) if job.named else None
    except Exception as exc:
        where = getattr(job, "path", None) or getattr(job, "directory", "?")
        return [Run(name=job.name, source=os.path.abspath(where), format="unknown",
                    problems=[Problem(where, f"internal error while reading: {type(exc).__name__}: {exc}")])]


def _points_signature(run: Run) -> tuple:
    """Changes when a run gains, loses or rewrites points (its last one, at least) or its problems."""
    return (run.source, len(run.problems), tuple(
        (tag, len(s), int(s.steps[0]), int(s.steps[-1]), repr(float(s.values[-1])))
        for tag, s in sorted(run.series.items()) if len(s)))


def _job_paths(job) -> list[str]:
    if isinstance(job, TensorBoardJob):
        return job.paths
    if isinstance(job, FileJob):
        return [job.path]
    where = getattr(job, "directory", None) or getattr(job, "path", None)
    return _files_under(where) if isinstance(where, str) and os.path.exists(where) else []


def _newest_mtime(paths: list[str]) -> float:
    newest = 0.0
    for path in paths:
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            continue
    return newest


def _stat_signature(path: str) -> tuple | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (path, info.st_ino, info.st_size, info.st_mtime_ns)


def _files_under(path: str) -> list[str]:
    if not os.path.isdir(path):
        return [path]
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        out += [os.path.join(dirpath, f) for f in sorted(filenames)]
    return out
