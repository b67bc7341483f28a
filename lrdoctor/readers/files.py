"""One CSV/JSON log file -> Run: read the bytes once, sniff what it is by content, dispatch.

Bad files never raise: an empty, 1-byte, binary or unreadable file becomes a Run with no
series and one Problem naming the file, so the other runs are read as usual.
"""
from __future__ import annotations

import json
import os

from ..model import Problem, Run
from .csvtable import Table, parse_table

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
            if isinstance(json.loads(first), dict) and ("\n" in head.strip() or path.endswith(".jsonl")):
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
    return parse_table(path, "\n".join(text.splitlines()[:60]))


def _read_bytes(path: str) -> tuple[bytes, str | None]:
    """The file's bytes, and why they cannot be a text log (None when they may be one)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return b"", f"cannot read: {exc.strerror or exc}"
    if not data.strip():
        return data, "empty file (0 bytes)" if not data else f"{len(data)}-byte file with only whitespace; no log data"
    if b"\x00" in data[:4096]:
        return data, "binary content (NUL bytes); not a text log"
    return data, None


def read_log_file(path: str, name: str, named: bool, tag_roles=None) -> Run | None:
    """None when an unnamed candidate (a ``*.log``/``*.json``) turns out not to be a log.
    Raises csvlog.NotATrainingLog for a CSV table that is no log (``tag_roles`` may make it one)."""
    data, unusable = _read_bytes(path)
    if unusable:
        return _failed(path, name, unusable) if named else None
    text = data.decode("utf-8", errors="replace")
    kind = sniff(path, text)
    if kind is None:
        if not named:
            return None
        if len(_head_table(path, text).header) < 2:
            return _failed(path, name, f"not a recognisable CSV/JSON training log ({len(data)} byte{'' if len(data) == 1 else 's'})")
        kind = "csv"  # a header without data: the CSV reader says exactly that
    if kind == "hf":
        from .hf import read_trainer_state

        return read_trainer_state(path, text, name)
    if kind == "jsonl":
        from .hf import read_jsonl

        return read_jsonl(path, text, name)
    from .csvlog import read_csv_text

    return read_csv_text(path, text, name, tag_roles)
