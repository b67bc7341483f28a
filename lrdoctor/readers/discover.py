"""Which files form which run, and which reader reads them.

A log directory is walked recursively; hidden directories (``.git``, ``.ipynb_checkpoints``) are not
entered.  Symlinked directories are followed -- a folder of links to runs is how many compare runs in
TensorBoard -- and each real directory is read once: a second link to it, or a link back to a
directory above it (a loop), is not entered, and the runs read say so in their notes (symlinks.py).
A *run* is:

* a directory holding event files (``*tfevents*``), as TensorBoard sees it; Keras' ``train/``,
  ``validation/`` (and TF1's ``eval/``, ``val/``) subdirectories are parts of their parent's run,
  whose tags are then keyed ``train/<tag>``, ``validation/<tag>``...;
* an MLflow run directory (``metrics/`` beside ``meta.yaml`` or ``params/``);
* a CSV/JSON log file: ``*.csv``/``*.tsv``, ``training.log``, ``*.jsonl``, ``trainer_state.json``
  (always read; a broken one is reported), or a ``*.log``/``*.json``/``*.txt``/``*.out``/``*.stdout``
  file (or one named ``stdout``, ``output``, ``log``...) whose content sniffs as a CSV log or a trainer
  state -- or, for the text ones, as a console log (console.py); others are not logs and are skipped
  quietly, unless they look like a console log that cannot be read (then a Problem says why).  Over
  8 MiB such a file is read whole only when its first MiB already reads as a log;
* a file whose name says nothing (``*.md``, ``*.err``, ``job.o123``, no extension) only when its first
  64 KiB (or, for a longer file, its last 64 KiB) clearly hold a training log (content.py): console output, a Chainer LogReport.

Separate trainings written into one directory or file become separate runs (trainings.py).

Run names are paths relative to the diagnosed directory with '/' separators: the directory for
directory runs ("." for the directory itself), the file for file runs ("r0002/version_0/metrics.csv").
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from ..model import TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS, Problem, Run
from .merge import first_few
from .log_files import NAMED_SUFFIXES, read_file, with_roles
from .symlinks import LinkedWalk
from .tensorboard_run import TensorBoardJob

_PART_DIRS = ("train", "validation", "eval", "val")
_NAMED_LOGS = ("training.log", "trainer_state.json")
_SNIFFED_SUFFIXES = (".log", ".json", ".txt", ".out", ".stdout")
_SNIFFED_NAMES = ("stdout", "stderr", "output", "log", "console")  # no suffix: console logs (console.py)
_PARALLEL_MIN_RUNS = 16
_PARALLEL_MIN_BYTES = 32 << 20


@dataclass(frozen=True)
class FileJob:
    name: str
    path: str
    named: bool  # the name says it is a log: report it when it cannot be read
    content: bool = False  # nothing in the name (*.md, no extension): read only if its head is a log (content.py)


@dataclass(frozen=True)
class MlflowJob:
    name: str
    directory: str


def relative_name(path: str, root: str) -> str:
    """``path`` relative to ``root`` with '/' separators: how runs (and MLflow metrics) are named."""
    return os.path.relpath(path, root).replace(os.sep, "/")


_NOT_EVENT_SUFFIXES = (".py", ".pyc", ".pyi", ".ipynb", ".md", ".rst", ".html")  # tfevents.py, test_tfevents.py


def _is_event_file(filename: str) -> bool:
    return "tfevents" in filename and not filename.lower().endswith(_NOT_EVENT_SUFFIXES)


def _log_candidate(filename: str) -> bool | None:
    """True: a log by name; False: maybe, sniff it; None: not a log."""
    lower = filename.lower()
    if lower in _NAMED_LOGS or lower.endswith(NAMED_SUFFIXES):
        return True
    if lower.endswith(_SNIFFED_SUFFIXES) or lower in _SNIFFED_NAMES:
        return False
    return None


def _tensorboard_jobs(tb_dirs: dict[str, list[str]], root: str) -> list[TensorBoardJob]:
    """Group event-file directories (each with its files, sorted) into runs: a train/validation/eval
    child joins its parent."""
    parts: dict[str, dict[str, tuple[str, ...]]] = {}
    for directory, files in tb_dirs.items():
        base = os.path.basename(directory)
        if directory != root and base.lower() in _PART_DIRS:
            run_dir, prefix = os.path.dirname(directory), base + "/"
        else:
            run_dir, prefix = directory, ""
        parts.setdefault(run_dir, {})[prefix] = tuple(files)
    jobs = []
    for run_dir, by_prefix in sorted(parts.items()):
        keras = any(p.rstrip("/").lower() in ("train", "validation") for p in by_prefix)
        jobs.append(TensorBoardJob(
            name=relative_name(run_dir, root), directory=run_dir,
            parts=tuple(sorted(by_prefix.items())),
            format="keras_tensorboard" if keras else "tensorboard",
        ))
    return jobs


def find_jobs(root: str) -> tuple[list, list[Problem], LinkedWalk]:
    """Walk ``root``; return the read jobs (one per run), problems about unreadable directories, and
    the symlinks followed or not entered on the way (their notes go on the runs read)."""
    from .content import candidate as content_candidate
    from .mlflow import is_mlflow_run

    problems: list[Problem] = []
    jobs: list = []
    tb_dirs: dict[str, list[str]] = {}

    def on_error(exc: OSError) -> None:
        problems.append(Problem(exc.filename or root, f"cannot list directory: {exc.strerror or exc}"))

    from .wandb_offline import skip_wandb_own

    walk = LinkedWalk(root)
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # .git, .ipynb_checkpoints
        skip_wandb_own(dirpath, dirnames, filenames)  # before the links: W&B's latest-run is no run of its own
        dirnames[:] = walk.entered(dirpath, dirnames)
        if is_mlflow_run(dirpath, dirnames + filenames):
            jobs.append(MlflowJob(relative_name(dirpath, root), dirpath))
            dirnames[:] = [d for d in dirnames if d not in ("metrics", "params", "tags")]
        if _take_wandb_run(dirpath, dirnames, filenames, root, jobs):
            continue
        for f in sorted(filenames):
            if _is_event_file(f):
                tb_dirs.setdefault(dirpath, []).append(os.path.join(dirpath, f))
                continue
            named = _log_candidate(f)
            if named is not None or content_candidate(f):
                full = os.path.join(dirpath, f)
                jobs.append(FileJob(relative_name(full, root), full, named=bool(named), content=named is None))
    jobs.extend(_tensorboard_jobs(tb_dirs, root))
    return jobs, problems, walk


def _take_wandb_run(dirpath: str, dirnames: list[str], filenames: list[str], root: str, jobs: list) -> bool:
    """A W&B run directory: its ``run-*.wandb`` file is the run (wandb_offline.py); the rest of it
    (``files/output.log``, W&B's own debug logs) is W&B's copy or chatter, not walked."""
    from .wandb_offline import WandbJob, is_wandb_file

    found = [f for f in sorted(filenames) if is_wandb_file(f)]
    for f in found:
        full = os.path.join(dirpath, f)
        jobs.append(WandbJob(relative_name(dirpath if len(found) == 1 else full, root), full))
    if found:
        dirnames[:] = []
    return bool(found)


def _single_file_job(path: str):
    from .wandb_offline import WandbJob, is_wandb_file

    name = os.path.basename(path)
    if is_wandb_file(name):
        return WandbJob(name, path)
    if _is_event_file(name):
        return TensorBoardJob(name=name, directory=path, parts=(("", (path,)),))
    return FileJob(name, path, named=True)


def read_job(job, tag_roles: Mapping[str, Sequence[str]] | None = None) -> list[Run] | Problem | None:
    """Read one run -- or several, when separate trainings were written into one place
    (trainings.py) -- and never raise (a crash becomes a Problem on an empty run).  Picklable for pools.

    A Problem instead of runs: the file is no training log (a CSV table of something else).
    None: an unnamed candidate (``*.log``, ``*.txt``...) that is not a log, skipped quietly."""
    from .csvlog import NotATrainingLog
    from .hparams import read_hparams_beside
    from .mlflow import read_mlflow_run
    from .tensorboard_trainings import read_tensorboard_trainings
    from .wandb_offline import WandbJob, read_wandb_run

    try:
        if isinstance(job, TensorBoardJob):
            runs = read_tensorboard_trainings(job)
            if os.path.isdir(job.directory):  # hparams.yaml is rewritten by each training: the last one's
                runs[-1].hparams = read_hparams_beside(job.directory, runs[0].problems)
        elif isinstance(job, MlflowJob):
            runs = [read_mlflow_run(job.directory, job.name)]
        elif isinstance(job, WandbJob):
            run = read_wandb_run(job.path, job.name)
            return run if isinstance(run, Problem) else with_roles([run], tag_roles)
        else:
            return read_file(job, tag_roles)
        return with_roles(runs, tag_roles)
    except NotATrainingLog as exc:
        return Problem(job.path, str(exc)) if job.named else None
    except Exception as exc:  # last line of defence: one bad run must not stop the others
        where = getattr(job, "path", None) or getattr(job, "directory", "?")
        return [Run(name=job.name, source=os.path.abspath(where), format="unknown",
                    problems=[Problem(where, f"internal error while reading: {type(exc).__name__}: {exc}")])]


def _at_least_bytes(jobs: list, limit: int) -> bool:
    """Do the jobs' files hold ``limit`` bytes or more?  Stops stat-ing files once they do."""
    total = 0
    for job in jobs:
        for path in job.paths if isinstance(job, TensorBoardJob) else [getattr(job, "path", "")]:
            try:
                total += os.path.getsize(path)
            except OSError:
                continue
            if total >= limit:
                return True
    return False


def _import_readers(jobs: list) -> None:
    """Import the readers the jobs need before forking, so that every worker does not pay for it."""
    if any(isinstance(j, TensorBoardJob) for j in jobs):
        from . import tfevents  # noqa: F401
    if any(isinstance(j, FileJob) for j in jobs):
        import pandas  # noqa: F401

        from . import csvlog, files, hf  # noqa: F401


Progress = Callable[[int, int], None]  # (jobs read so far, jobs in all)


def _counted(results: Iterable, total: int, progress: Progress | None) -> list:
    out = []
    for result in results:
        out.append(result)
        if progress is not None:
            progress(len(out), total)
    return out


def _read_all(jobs: list, tag_roles, progress: Progress | None = None) -> list[list[Run] | Problem | None]:
    """In-process for a few small runs; a process pool when there are many runs and many bytes."""
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(jobs) >= _PARALLEL_MIN_RUNS and _at_least_bytes(jobs, _PARALLEL_MIN_BYTES):
        _import_readers(jobs)
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                chunk = max(1, min(32, len(jobs) // (workers * 8)))
                return _counted(pool.map(read_job, jobs, [tag_roles] * len(jobs), chunksize=chunk), len(jobs), progress)
        except (OSError, RuntimeError):  # no processes available (sandbox): read here instead
            pass
    return _counted((read_job(job, tag_roles) for job in jobs), len(jobs), progress)


def read_runs(path: str | os.PathLike, tag_roles: Mapping[str, Sequence[str]] | None = None, *,
              progress: Progress | None = None) -> tuple[list[Run], list[Problem]]:
    """Read every run under ``path`` (a directory, searched recursively, or one log file; or a URL:
    remote.py).

    Returns (runs sorted by name, problems that belong to no run).  ``progress(done, total)`` is
    called after each candidate -- a run directory or a log file -- is read (silent by default).
    """
    root = os.fspath(path)
    tracked = _read_tracker_url(root, tag_roles, progress)
    if tracked is not None:
        return tracked
    if "://" in root:  # s3://, gs://, https://...: listed and fetched through fsspec (remote.py)
        from .remote import is_url, read_remote_runs

        if is_url(root):
            return read_remote_runs(root, tag_roles, progress=progress)
    if not os.path.exists(root):
        return [], [Problem(root, "no such file or directory")]
    walk = None
    if os.path.isfile(root):
        jobs, problems = [_single_file_job(root)], []
    else:
        jobs, problems, walk = find_jobs(root)
    tag_roles = {k: list(v) for k, v in (tag_roles or {}).items()} or None
    results = _read_all(jobs, tag_roles, progress)
    runs = [r for result in results if isinstance(result, list) for r in result]
    if walk is not None:
        problems += walk.add_notes(runs)
    problems += [p for p in results if isinstance(p, Problem)]
    _note_copies(runs)
    return sorted(runs, key=lambda r: r.name), problems


def _read_tracker_url(root: str, tag_roles, progress: Progress | None) -> tuple[list[Run], list[Problem]] | None:
    """Runs on an experiment tracker's server named by a URL (``mlflow://...``: mlflow_server.py);
    None when ``root`` is no such URL."""
    from .mlflow_server import is_mlflow_url, read_mlflow_server

    if not is_mlflow_url(root):
        return None
    tag_roles = {k: list(v) for k, v in (tag_roles or {}).items()} or None
    runs, problems = read_mlflow_server(root, tag_roles, progress=progress)
    _note_copies(runs)
    return sorted(runs, key=lambda r: r.name), problems


def _note_copies(runs: list[Run]) -> None:
    """Say in each copy's notes which run it copies (context/copies.py; the engine diagnoses it there)."""
    from ..context.copies import find_copies

    if len({run.name for run in runs}) < len(runs):
        return
    for name, copy in find_copies(runs).items():
        copy.run.notes.append(f"same training as {copy.original} (its {copy.tag_role.replace('_', ' ')} matches at "
                              f"all {copy.matched} logged steps): diagnosed there, and reported here with its verdict")


_JUDGED_BY = (TRAIN_LOSS, VAL_LOSS, TRAIN_ACC, VAL_ACC)  # curves that say how training went


def split_diagnosable(runs: Sequence[Run]) -> tuple[list[Run], list[Problem]]:
    """(runs with a loss or accuracy curve, a Problem for each other run).  A file that could not be
    read, holds no scalar, or holds none that says how training went (only ``hp_metric``, say) is
    reported as such, rather than diagnosed as a run with no loss and given a verdict."""
    diagnosable, problems = [], []
    for run in runs:
        has_data = any(len(s) for s in run.series.values())
        if has_data and any(run.get(role) is not None for role in _JUDGED_BY):
            diagnosable.append(run)
            continue
        problems += run.problems
        if has_data:
            tags = sorted(run.series)
            problems.append(Problem(run.source, f"nothing to diagnose: no loss or accuracy among its {len(tags)} "
                                                f"tag(s) ({first_few(tags)}); name one with --tag train_loss=TAG"))
        elif not run.problems:
            problems.append(Problem(run.source, "nothing to diagnose: " + ("; ".join(run.notes) or "no scalar data")))
    return diagnosable, problems
