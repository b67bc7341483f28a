"""Files whose name does not say they are a log -- ``*.md``, no extension, a batch job's
``train.sh.o12345``, ``slurm-9.err`` -- read only when their first KBs clearly hold a training log.

People save console output wherever the tool that ran the job put it: a notebook exported to
Markdown, a job scheduler's output file, Chainer's ``result/log``.  Such names are common for files
that are no logs (READMEs, ``LICENSE``, ``Makefile``, binaries), so their content decides, and
cheaply: a first ``QUICK_BYTES`` that hold a NUL byte (a binary) end it; otherwise only the first
``HEAD_BYTES`` are read to decide, and the whole file only when they form a training log: a Chainer
LogReport array, or console lines with a counter and loss-like values (console.clearly_training_log).
"""
from __future__ import annotations

import os
import re

from .textfile import line_windows, read_bytes, text_of

QUICK_BYTES = 4 << 10
HEAD_BYTES = 64 << 10
_SUFFIXES = (".md", ".markdown", ".err")  # .err: a job's stderr, where progress bars go
_JOB_OUTPUT = re.compile(r"\.[oe]\d+$")  # PBS / SGE: <script>.o<job id>, <script>.e<job id>
_LOGREPORT_COUNTER = re.compile(r'"(?:iteration|epoch)"\s*:\s*\d')
_LOGREPORT_METRIC = re.compile(r'"[^"]*(?:loss|acc)[^"]*"\s*:\s*[-\d.NI]', re.IGNORECASE)


def candidate(filename: str) -> bool:
    """Is this a name worth sniffing by content (not a hidden file)?"""
    lower = filename.lower()
    if lower.startswith("."):
        return False
    return lower.endswith(_SUFFIXES) or "." not in lower or bool(_JOB_OUTPUT.search(lower))


def head(path: str) -> str | None:
    """The first ``HEAD_BYTES`` as text; None for a binary, an empty or unreadable file."""
    data, error, longer = read_bytes(path, QUICK_BYTES)
    if error or text_of(data, longer, QUICK_BYTES).error:  # binary (NUL bytes), empty
        return None
    if longer:
        data, error, longer = read_bytes(path, HEAD_BYTES)
    read = text_of(data, longer, HEAD_BYTES)
    return None if error or read.error else read.text


def holds_training_log(path: str) -> bool:
    """Do the file's first KBs -- or, for a longer file, its last ones -- clearly hold a training log?

    A job's output often opens with a long preamble (a model printout, a config dump) before the
    first training line, so a head that says nothing is not the last word on a long file: its
    last ``HEAD_BYTES`` are looked at too (found in review: a ``train.sh.o…`` whose first 64 KiB
    were a model printout was skipped)."""
    from .console import clearly_training_log

    text = head(path)
    if text is None:
        return False
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        return len(_LOGREPORT_COUNTER.findall(text)) >= 3 and bool(_LOGREPORT_METRIC.search(text))
    if clearly_training_log(text):
        return True
    tail = _tail(path) if len(text) >= HEAD_BYTES // 4 else None  # cheap: only when the head was long
    return tail is not None and clearly_training_log(tail)


def _tail(path: str) -> str | None:
    """The last ``HEAD_BYTES`` of a file longer than that, from its first line start; None otherwise."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    found = line_windows(path, [size - HEAD_BYTES], HEAD_BYTES) if size > HEAD_BYTES else []
    return found[0] if found else None
