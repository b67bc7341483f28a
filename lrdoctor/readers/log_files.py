"""One log file found by discovery (a ``FileJob``), read: its text is read once and offered to the
readers of particular text layouts -- the most particular first -- then to the CSV/JSON ones.

Also the cheap looks that decide whether a big sniffed ``*.txt``/``*.log`` is worth reading whole
(its first, middle and last MiB), which the remote reader's plan uses too (remote_plan.py).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..model import Problem, Run

if TYPE_CHECKING:
    from .discover import FileJob

NAMED_SUFFIXES = (".csv", ".tsv", ".jsonl")  # a log by its name (discover.log_candidate)


def read_file(job: FileJob, tag_roles, read=None) -> list[Run] | Problem | None:
    """One log file: its text is read once and offered to the text readers in turn -- the most
    particular first -- then to the CSV/JSON ones (files.py), unless only its content made it a candidate.
    ``read``: the file's text already held, its candidacy already checked (watch: readers/incremental.py)."""
    from .content import holds_training_log
    from .csv_trainings import split_csv_run
    from .files import read_log_text
    from .hparams import read_hparams_beside
    from .textfile import read_text

    if read is None and job.content and not holds_training_log(job.path):
        return None
    if read is None and not job.named and not job.content and not big_file_worth_reading(job):
        return None
    read = read_text(job.path) if read is None else read
    found = None if read.error else read_text_log(job, read.text)
    if isinstance(found, list):
        if read.cut_note:  # part of the file was not read (too large, a NUL hole): say so on every run
            for run in found:
                run.problems.append(Problem(job.path, read.cut_note, partial=True))
        return with_roles(found, tag_roles)
    if job.content:  # its first KBs read as a training log: if no point could be read after all, say so
        return found if found is not None else Problem(
            job.path, read.error or "looks like a training log, but no point could be read from it")
    run = read_log_text(job.path, read, job.name, job.named, tag_roles)
    if found is not None and (run is None or not run.series):
        return found  # looks like a console log, but cannot be read: say why
    if run is None:
        return None
    if run.format == "lightning_csv":
        run.hparams = read_hparams_beside(os.path.dirname(job.path), run.problems)
    return with_roles(split_csv_run(run, job.path, read.text, tag_roles), tag_roles)  # the text read once


def read_text_log(job: FileJob, text: str) -> list[Run] | Problem | None:
    """Runs from the readers of particular text layouts (JSON lines whose iteration restarts each
    epoch, Chainer's LogReport, console output, ``step name value`` lines); a Problem when it looks
    like a console log that cannot be read; None when none of them knows the text."""
    from . import chainer, jsonlines, steplines
    from .console import read_console_text

    if job.path.lower().endswith((".json", ".jsonl", ".log", ".txt")) and epoch_iter_jsonl(text):
        per_epoch = jsonlines.read(job.path, text, job.name)
        if per_epoch is not None:
            return [per_epoch]
    logreport = chainer.read(job.path, text, job.name)
    if logreport is not None:
        return [logreport]
    if not maybe_console(job.path) or plain_csv(text):
        return None
    console = read_console_text(job.path, text, job.name)  # never also a CSV/JSON log (no "key: value")
    if console is not None:
        return console
    lines = steplines.read(job.path, text, job.name)
    return None if lines is None else [lines]


def plain_csv(text: str) -> bool:
    """A comma-separated table with a header of names and numeric rows (a CSV saved as ``*.txt`` or
    ``*.log``): the CSV reader's, not worth a console parse (found in review: a 50 MB CSV named
    ``out.txt`` took 16 s through the console reader, 2 s as ``.csv``)."""
    lines = [line for line in text[:65536].split("\n")[:40] if line.strip()]
    if len(lines) < 3:
        return False
    header = [f.strip() for f in lines[0].split(",")]
    if len(header) < 2 or any(not f or ":" in f or "[" in f for f in header):
        return False
    rows = [[f.strip() for f in line.split(",")] for line in lines[1:]]
    if any(len(r) != len(header) for r in rows[:-1]):  # the last line may be cut
        return False
    cells = [f for r in rows for f in r if f]
    return bool(cells) and sum(_is_number(f) for f in cells) >= 0.8 * len(cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


BIG_UNNAMED = 8 << 20
BIG_HEAD = 1 << 20


def big_file_worth_reading(job: FileJob) -> bool:
    """A ``*.txt``/``*.log`` over 8 MiB is read whole only when its first MiB already reads as a log
    (console lines, a CSV or JSON log): a 30 MB text corpus named ``train.txt`` costs one MiB, not
    a full parse."""
    from .files import sniff
    from .textfile import read_bytes, text_of

    try:
        if os.path.getsize(job.path) <= BIG_UNNAMED:
            return True
    except OSError:
        return True  # the full read says why, or skips it quietly
    data, error, longer = read_bytes(job.path, BIG_HEAD)  # also refuses what is not a regular file
    head = text_of(data, longer, BIG_HEAD)
    if error or head.error:
        return False
    if head.text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{") or sniff(job.path, head.text) is not None:
        return True
    if isinstance(read_text_log(job, head.text), list):
        return True
    # A job's stdout may open with a megabyte of set-up chatter (NCCL, dataset download) before the
    # training lines: look at its middle and its end too before passing it over (found in review).
    for window in later_windows(job.path):
        if isinstance(read_text_log(job, window), list):
            return True
    return False


def later_windows(path: str) -> list[str]:
    """The text of one MiB from the middle and one from the end of a big file, from a line start."""
    from .textfile import line_windows

    try:
        size = os.path.getsize(path)
    except OSError:
        return []
    return line_windows(path, [size // 2, max(size - BIG_HEAD, 0)], BIG_HEAD)


def epoch_iter_jsonl(text: str) -> bool:
    return text.lstrip().startswith("{") and '"iter"' in text and '"epoch"' in text


def maybe_console(path: str) -> bool:
    """Not named as a CSV/JSON log: maybe console text (console.py)."""
    return not path.lower().endswith((*NAMED_SUFFIXES, ".json"))


def with_roles(runs: list[Run], tag_roles) -> list[Run]:
    from ..tags import assign_roles

    for run in runs:
        assign_roles(run, tag_roles)
    return runs
