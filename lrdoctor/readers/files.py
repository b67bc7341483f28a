"""One CSV/JSON log file -> Run: read the text once (textfile.py), sniff what it is by content, dispatch.

Bad files never raise: an empty, 1-byte, binary, unreadable or non-regular file (a FIFO, a
device) becomes a Run with no series and one Problem naming the file, so the other runs are
read as usual.
"""
from __future__ import annotations

import os

from ..model import Problem, Run
from .csvtable import Table, parse_table
from .jsonvalues import loads
from .textfile import TextFile, read_text, split_lines

_GUESSED_FORMAT = {"metrics.csv": "lightning_csv", "training.log": "keras_csv", "trainer_state.json": "hf_trainer_state"}


def _guess_format(path: str) -> str:
    base = os.path.basename(path).lower()
    return _GUESSED_FORMAT.get(base, "jsonl" if base.endswith(".jsonl") else "csv")


def _failed(path: str, name: str, message: str) -> Run:
    return Run(name=name, source=os.path.abspath(path), format=_guess_format(path),
               problems=[Problem(path, message)])


def sniff(path: str, text: str) -> str | None:
    """'hf' (trainer state), 'jsonl', 'csv' or None (not a log we know)."""
    head = text.lstrip("\ufeff \t\r\n")[:65536]
    if head.startswith("{"):
        if '"log_history"' in head or os.path.basename(path) == "trainer_state.json":
            return "hf"
        first = head.split("\n", 1)[0].strip()
        try:
            if isinstance(loads(first), dict) and ("\n" in head.strip() or path.endswith(".jsonl")):
                return "jsonl"
        except ValueError:
            pass
        return "jsonl" if path.lower().endswith(".jsonl") else None
    if head.startswith("["):
        return None
    table = _head_table(path, head)
    return "csv" if table.header and table.n_rows and table.values else None


def _head_table(path: str, text: str) -> Table:
    """The table in the first 60 lines: enough to tell a CSV log by."""
    return parse_table(path, "\n".join(split_lines(text[:1 << 20])[:60]) + "\n")


def read_log_file(path: str, name: str, named: bool, tag_roles=None) -> Run | None:
    """None when an unnamed candidate (a ``*.log``/``*.json``) turns out not to be a log.
    Raises csvlog.NotATrainingLog for a CSV table that is no log (``tag_roles`` may make it one)."""
    return read_log_text(path, read_text(path), name, named, tag_roles)


def read_log_text(path: str, read: TextFile, name: str, named: bool, tag_roles=None) -> Run | None:
    """``read_log_file`` on a file's text already read (the fuzz harnesses start here)."""
    if read.error:
        return _failed(path, name, read.error) if named else None
    text = read.text
    kind = sniff(path, text)
    if kind is None:
        if not named:
            return None
        if len(_head_table(path, text).header) < 2:
            return _failed(path, name, f"not a recognisable CSV/JSON training log "
                                       f"({read.size} byte{'' if read.size == 1 else 's'})")
        kind = "csv"  # a header without data: the CSV reader says exactly that
    run = _read_kind(kind, path, text, name, tag_roles)
    if read.cut_note:
        run.problems.append(Problem(path, read.cut_note, partial=True))
    if read.encoding not in ("utf-8", "ascii"):
        run.notes.append(f"read as {read.encoding.upper()} text")
    return run


def _read_kind(kind: str, path: str, text: str, name: str, tag_roles) -> Run:
    if kind == "hf":
        from .hf import read_trainer_state

        return read_trainer_state(path, text, name)
    if kind == "jsonl":
        from .hf import read_jsonl

        return read_jsonl(path, text, name)
    from .csvlog import read_csv_text

    return read_csv_text(path, text, name, tag_roles)
