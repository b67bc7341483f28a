"""Read one text file safely: regular files only, a bounded number of bytes, decoded by its BOM.

Every text reader (CSV, JSON, JSONL, MLflow, hparams.yaml, the config file) reads through here,
so that a FIFO named like a log cannot block, a symlink to ``/dev/zero`` cannot eat the memory,
and a UTF-16 export is read like any other file.  Nothing raises: the caller gets the text and
why it could not be had (or was cut), and turns that into a Problem.
"""
from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass

# What one text log may cost.  Bigger files are read up to the limit (at a line end) and the
# rest is reported as not read; a training log this big is better written as event files.
MAX_TEXT_BYTES = 256 << 20

# Longest first: the UTF-32 LE BOM begins with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


@dataclass
class TextFile:
    text: str = ""
    error: str | None = None        # why there is no text (unreadable, not a regular file, binary)
    cut_note: str | None = None     # set when only the first MAX bytes were read
    encoding: str = "utf-8"
    size: int = 0                   # bytes read


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: str, limit: int = MAX_TEXT_BYTES) -> tuple[bytes, str | None, bool]:
    """(up to ``limit`` bytes, why none could be read, whether the file is longer than ``limit``).

    Opened non-blocking and checked with fstat before a byte is read: a FIFO, a device or a
    socket is refused, never read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return b"", f"cannot read: {exc.strerror or exc}", False
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return b"", f"not read: {_kind(mode)}, not a regular file", False
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        return b"", f"cannot read: {exc.strerror or exc}", False
    finally:
        os.close(fd)
    return data[:limit], None, len(data) > limit


def _sniff_encoding(data: bytes) -> tuple[str, int]:
    """(codec, BOM length).  Without a BOM, UTF-16 is told by its NUL bytes in every other place."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = data[:4096]
    if len(head) >= 4 and len(head) % 2 == 0:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) == len(odd) and even.count(0) == 0:
            return "utf-16-le", 0
        if even.count(0) == len(even) and odd.count(0) == 0:
            return "utf-16-be", 0
    return "utf-8", 0


def decode(data: bytes) -> tuple[str, str]:
    """(text, codec): by BOM, else UTF-8; undecodable bytes become U+FFFD (a cell holding one is then
    not a number, and is reported as such by the reader)."""
    codec, skip = _sniff_encoding(data)
    return data[skip:].decode(codec, errors="replace"), codec


def _cut_at_line_end(data: bytes) -> bytes:
    end = data.rfind(b"\n")
    return data[:end + 1] if end > 0 else data


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> TextFile:
    """The file's text (see the module docstring); ``error`` set when there is none to read."""
    data, error, longer = read_bytes(path, limit)
    if error:
        return TextFile(error=error)
    return text_of(data, longer, limit)


def text_of(data: bytes, longer: bool = False, limit: int = MAX_TEXT_BYTES) -> TextFile:
    """A TextFile from bytes already read (``longer``: the file went on past ``limit``)."""
    cut_note = None
    if longer:
        data = _cut_at_line_end(data)
        cut_note = (f"file is larger than the {limit >> 20} MiB read from one text log; "
                    f"only its first {len(data)} bytes were read")
    text, codec = decode(data)
    if not text.strip():
        return TextFile(text=text, encoding=codec, size=len(data),
                        error="empty file (0 bytes)" if not data else
                        f"{len(data)}-byte file with only whitespace; no log data")
    if "\x00" in text:
        holes = _nul_holes(text)
        if holes is None:
            return TextFile(text="", encoding=codec, size=len(data), error="binary content (NUL bytes); not a text log")
        text, count, where = holes
        note = (f"{count} NUL byte(s) in {where} block(s) skipped (a hole left by log rotation or a crash; "
                f"the text around it was read)")
        cut_note = note if cut_note is None else f"{cut_note}; {note}"
    return TextFile(text=text, cut_note=cut_note, encoding=codec, size=len(data))


_NUL_RUN = re.compile("\x00+")


def _nul_holes(text: str) -> tuple[str, int, int] | None:
    """(the text without its runs of NUL characters, how many, in how many runs) when the rest is text;
    None for binary content.  ``copytruncate`` log rotation and a node that crashed mid-write leave a
    block of NULs in an otherwise plain log; a binary file has NULs scattered among non-text bytes."""
    runs = _NUL_RUN.findall(text)
    rest = _NUL_RUN.sub("", text)
    if not rest.strip() or len(runs) > 16:
        return None
    sample = rest[:65536]
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample)
    if printable < 0.99 * len(sample):
        return None
    return rest, sum(len(r) for r in runs), len(runs)


def split_lines(text: str) -> list[str]:
    """Lines split at LF, CRLF, CR CR LF or a lone CR only -- not at U+2028, U+0085 or a form feed,
    which ``str.splitlines`` also splits at and which may sit inside a JSON string."""
    lines = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_windows(path: str, offsets, size: int) -> list[str]:
    """The text of ``size`` bytes read at each of ``offsets``, from the first line start in it: looks
    into a long file past its head (content.py, log_files.py).  A window that cannot be read or decoded
    is left out."""
    out = []
    try:
        with open(path, "rb") as fh:
            for offset in offsets:
                fh.seek(offset)
                data = fh.read(size)
                window = text_of(data[data.find(b"\n") + 1:])  # from the next line start
                if not window.error:
                    out.append(window.text)
    except OSError:
        return out
    return out
