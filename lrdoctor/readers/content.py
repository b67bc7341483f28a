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

import re

from .textfile import read_bytes, text_of

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
    """Do the file's first KBs clearly hold a training log (module docstring)?"""
    from .console import clearly_training_log

    text = head(path)
    if text is None:
        return False
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        return len(_LOGREPORT_COUNTER.findall(text)) >= 3 and bool(_LOGREPORT_METRIC.search(text))
    return clearly_training_log(text)
