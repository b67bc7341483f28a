"""Files followed while they grow: each poll reads only the bytes appended since the last one.

* ``EventTail``: an event file, framed and decoded (the event-file reader's own _tfframing and
  _tfdecode) from the end of its last complete, CRC-checked record.  A record cut at the end of the
  file is a record being written: it is waited for, never reported as damage.  Damage further in
  (a corrupted header followed by good records, a data CRC mismatch) is reported as
  ``read_tfevents`` reports it.
* ``TextTail``: a CSV / JSON-lines / text log, held up to its last complete line (a line still
  being written is waited for; the header stays held, so the readers see the file as it is).
  A text that is not UTF-8 (UTF-16/32: a line end is not one byte) and a ``*.json`` document
  (rewritten whole by its writer, as HF's trainer_state.json is) are re-read whole when they change.

A file that shrinks, is replaced (new inode) or whose bytes before the point already read change
(a writer that rewrites the file: Lightning's CSVLogger when a new metric appears) is read again
from its start.  ``bytes_read`` counts what each tail read, for ``watch --verbose`` and the bench.
"""
from __future__ import annotations

import os
import stat

import numpy as np

from ..model import Problem
from ._tfdecode import decode_records
from ._tfframing import HEADER, PADDING, frame_records
from ._tfproto import SCALARS_PLUGIN
from .textfile import MAX_TEXT_BYTES, TextFile, read_text, text_of
from .tfevents import WINDOW, RawScalars

_GUARD = 64  # bytes compared at the file's start and before the point read: a rewrite is noticed


class _Followed:
    """What every tail shares: the file's identity, the point read so far, the guard bytes."""

    def __init__(self, path: str):
        self.path = path
        self.bytes_read = 0
        self.resets = 0  # times the file was read again from its start (shrunk, replaced, rewritten)
        self._clear(None)

    def _clear(self, ident) -> None:
        self.ident, self.offset, self._guard, self._seen = ident, 0, b"", None
        self.forget()

    def _more_to_read(self, info: os.stat_result) -> bool:
        """Bytes past the point read, and the file changed since they were last looked at (a record or
        line still being written is read again only once more of it is there)."""
        seen, self._seen = self._seen, (info.st_size, info.st_mtime_ns)
        return info.st_size > self.offset and seen != self._seen

    def forget(self) -> None:  # what was read from the file (a subclass's state)
        raise NotImplementedError

    def _guard_bytes(self, fd: int, offset: int) -> bytes:
        head = os.pread(fd, min(offset, _GUARD), 0)
        return head + os.pread(fd, min(offset, _GUARD), max(0, offset - _GUARD))

    def _open(self) -> tuple[int, os.stat_result] | None:
        """An fd on the file (non-blocking: a FIFO never blocks), or None when it is gone or not regular."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        return fd, info

    def _unchanged(self, info: os.stat_result) -> bool:
        """Same file, same size and time as at the last look: nothing to read, nothing to check."""
        return (info.st_dev, info.st_ino) == self.ident and (info.st_size, info.st_mtime_ns) == self._seen

    def _restart_if_rewritten(self, fd: int, info: os.stat_result) -> None:
        ident = (info.st_dev, info.st_ino)
        if ident != self.ident or info.st_size < self.offset or self._guard_bytes(fd, self.offset) != self._guard:
            if self.ident is not None:
                self.resets += 1
            self._clear(ident)


class EventTail(_Followed):
    """One event file, decoded from the end of its last complete record (module docstring)."""

    def forget(self) -> None:
        self.columns: dict[str, tuple[list, list, list, list]] = {}  # tag: steps, walls, values, from_tensor
        self.plugins: dict[str, set[str]] = {}
        self.framing_problems: list[Problem] = []
        self.skipped = {"with a data CRC mismatch": [0, None], "that are malformed events": [0, None]}
        self.why_malformed = ""
        self.error: Problem | None = None

    def poll(self) -> bool:
        """Read what was appended; True when the file changed (new records, or read again from its start)."""
        opened = self._open()
        if opened is None:
            changed = self.error is None
            self._clear(None)
            self.error = Problem(self.path, "cannot read event file: gone or not a regular file")
            return changed
        fd, info = opened
        try:
            if self._unchanged(info):
                return False
            resets = self.resets
            self._restart_if_rewritten(fd, info)
            start = self.offset
            if self._more_to_read(info):
                self._read(fd, info.st_size)
                self._guard = self._guard_bytes(fd, self.offset)
            return self.offset != start or self.resets != resets
        except OSError as exc:
            self.error = Problem(self.path, f"cannot read event file: {exc.strerror or exc}", partial=True,
                                 offset=self.offset)
            return True
        finally:
            os.close(fd)

    def _read(self, fd: int, size: int) -> None:
        """Frame and decode windows from ``offset`` to ``size``; a record not yet complete stays for later."""
        pos, want = self.offset, WINDOW
        while pos < size:
            n = min(want, size - pos)
            buf = np.zeros(n + PADDING, np.uint8)
            got = os.preadv(fd, [memoryview(buf)[:n]], pos) if hasattr(os, "preadv") else _pread_into(fd, buf, n, pos)
            self.bytes_read += got
            framing = frame_records(buf, got, final=False, base=pos)
            self.framing_problems += [Problem(self.path, message, partial=partial, offset=offset)
                                      for offset, message, partial in framing.problems]
            self._keep(decode_records(buf, framing.starts + HEADER, framing.lengths), framing.starts, pos)
            end, pos = pos + got, pos + framing.resume
            if end >= size or got < n:
                break  # the file's end: a record cut there is being written, wait for it
            want = WINDOW if framing.resume else 2 * want  # a record longer than the window: read more
        self.offset = pos

    def _keep(self, decoded, starts: np.ndarray, base: int) -> None:
        for count_first, indices in zip(self.skipped.values(), (decoded.bad_crc, decoded.malformed)):
            if len(indices):
                count_first[0] += len(indices)
                if count_first[1] is None:
                    count_first[1] = base + int(starts[indices[0]])
        if len(decoded.malformed) and not self.why_malformed:
            self.why_malformed = decoded.why_malformed
        for tag, arrays in decoded.columns.by_tag_unfiltered().items():
            for column, array in zip(self.columns.setdefault(tag, ([], [], [], [])), arrays):
                column.append(array)
        for tag, names in decoded.columns.plugins.items():
            self.plugins.setdefault(tag, set()).update(names)

    def scalars(self) -> tuple[dict[str, RawScalars], list[Problem]]:
        """Every scalar read so far by tag, and the problems -- as ``read_tfevents`` gives them for the
        file's complete records."""
        if self.error is not None and self.ident is None:
            return {}, [self.error]
        foreign = {tag for tag, names in self.plugins.items() if names - {SCALARS_PLUGIN, ""}}
        out = {}
        for tag, columns in self.columns.items():
            for column in columns:
                if len(column) > 1:
                    column[:] = [np.concatenate(column)]  # joined once, then appended to
            steps, walls, values, from_tensor = (column[0] for column in columns)
            if tag in foreign:
                keep = ~from_tensor
                steps, walls, values = steps[keep], walls[keep], values[keep]
            if len(steps):
                out[tag] = RawScalars(steps, walls, values)
        return out, sorted(self.framing_problems + self._skipped_problems() + ([self.error] if self.error else []),
                           key=lambda problem: problem.offset or 0)

    def _skipped_problems(self) -> list[Problem]:
        out = []
        for what, (count, first) in self.skipped.items():
            why = f": {self.why_malformed}" if what == "that are malformed events" and self.why_malformed else ""
            if count:
                out.append(Problem(self.path, f"{count} record(s) {what} skipped (the first at this offset{why})",
                                   partial=True, offset=first))
        return out


def _pread_into(fd: int, buf: np.ndarray, n: int, pos: int) -> int:
    data = os.pread(fd, n, pos)
    buf[:len(data)] = np.frombuffer(data, np.uint8)
    return len(data)


class TextTail(_Followed):
    """A text log held up to its last complete line, or re-read whole when it changes (module docstring)."""

    def __init__(self, path: str, whole: bool = False):
        self.whole = whole
        super().__init__(path)

    def forget(self) -> None:
        self.data = bytearray()  # the file's bytes up to its last complete line (at most MAX_TEXT_BYTES + 1)
        self.longer = False  # the file goes on past MAX_TEXT_BYTES
        self.signature = None  # (size, mtime) when read whole
        self.read_whole: TextFile | None = None

    def poll(self) -> bool:
        """Read what was appended (or the whole file, see ``whole``); True when the text held changed."""
        opened = self._open()
        if opened is None:  # gone, or a FIFO/device: read_text says why, without blocking
            changed = self.read_whole is None or self.ident is not None
            self._clear(None)
            self.read_whole = read_text(self.path)
            return changed
        fd, info = opened
        try:
            if self.whole:
                return self._poll_whole(info)
            if self._unchanged(info):
                return False
            resets = self.resets
            self._restart_if_rewritten(fd, info)
            start = self.offset
            if self._more_to_read(info) and not self.longer:
                self._read(fd, info.st_size)
                if self.whole:
                    return self._poll_whole(info)
                self._guard = self._guard_bytes(fd, self.offset)
            return self.offset != start or self.resets != resets
        finally:
            os.close(fd)

    def _poll_whole(self, info: os.stat_result) -> bool:
        signature = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        if signature == self.signature:
            return False
        self.signature, self.read_whole = signature, read_text(self.path)
        self.bytes_read += self.read_whole.size
        return True

    def _read(self, fd: int, size: int) -> None:
        room = MAX_TEXT_BYTES + 1 - len(self.data)
        new = os.pread(fd, min(size - self.offset, room), self.offset)
        self.bytes_read += len(new)
        if not self.data:
            kind = _layout(new)
            if kind != "lines":
                self.whole = kind == "whole"  # else: not known yet, look again with more of the file
                return
        if len(self.data) + len(new) > MAX_TEXT_BYTES:
            self.data += new  # past the limit: held as the full read would cut it
            self.longer, self.offset = True, self.offset + len(new)
            return
        end = new.rfind(b"\n") + 1
        self.data += new[:end]
        self.offset += end

    def text(self) -> TextFile:
        """The text held, as ``textfile.read_text`` would give it for the file cut after its last line end."""
        if self.read_whole is not None and (self.whole or self.ident is None):
            return self.read_whole
        data = bytes(self.data)
        return text_of(data[:MAX_TEXT_BYTES], len(data) > MAX_TEXT_BYTES, MAX_TEXT_BYTES)


def _layout(head: bytes) -> str:
    """'lines' (followed line by line), 'whole' (re-read whole when it changes) or 'unknown' (wait).

    Whole: a text that is not UTF-8 (a line end is not one byte), a JSON document (an array, such as
    Chainer's LogReport, or an object that is not a JSON line: rewritten whole by their writers)."""
    import json

    from .textfile import _sniff_encoding

    if _sniff_encoding(head)[0] != "utf-8":
        return "whole"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"["):
        return "whole"
    if not start.startswith(b"{"):
        return "lines"
    first, newline, _ = start.partition(b"\n")
    try:
        one = json.loads(first)
    except ValueError:
        return "whole" if newline else "unknown"  # a pretty-printed document, or a line not yet complete
    return "lines" if newline and isinstance(one, dict) else "whole"
