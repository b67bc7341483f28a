"""TFRecord framing: find every record in an event file and check its CRCs.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little endian).  What we do when the framing is damaged - the choices a careful user expects,
keeping what is readable and saying where it broke:

* file ends inside a record (a crashed writer): keep every record before it, report the offset;
* length CRC mismatch: the length cannot be trusted, so scan forward for the next offset whose
  length CRC *and* data CRC verify, resume there, and report how many bytes were skipped;
* data CRC mismatch: the length was verified, so skip just that record and go on (reported once
  per file with the count and the first offset; checked while decoding, see _tfdecode.py);
* no verifiable record anywhere: not an event file at all.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from ._crc32c_np import masked_crc, masked_crc_equal_length, rows

HEADER = 12  # length (8) + length CRC (4)
OVERHEAD = 16  # header + data CRC (4)
PADDING = 32  # zero bytes the reader appends so vectorised gathers never index past the end
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class Framing(NamedTuple):
    starts: np.ndarray  # int64 offset of each record's header (length CRC verified)
    lengths: np.ndarray  # int64 data length of each good record
    problems: list  # (offset, message, partial) tuples
    resume: int  # where the next window must start: the first byte not framed (== size when final)


class _MoreData(Exception):
    """A window (not the file's end) ends inside a record, or before the resynchronisation found one."""

    def __init__(self, pos: int):
        super().__init__(pos)
        self.pos = pos


def gather(buf: np.ndarray, positions: np.ndarray, width: int, dtype: str) -> np.ndarray:
    """Read one little-endian number of ``width`` bytes at each position."""
    return rows(buf, positions, width).view(dtype).ravel()


def crc_ok(view: memoryview, start: int, end: int) -> bool:
    """Does the masked CRC-32C stored at ``end`` match the bytes ``start:end``?"""
    return masked_crc(view[start:end]) == _U32.unpack_from(view, end)[0]


def _length_crcs_ok(buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``_header_ok`` for every start at once."""
    return masked_crc_equal_length(buf, starts, 8) == gather(buf, starts + 8, 4, "<u4")


def frame_records(buf: np.ndarray, size: int, *, final: bool = True, base: int = 0) -> Framing:
    """Walk the framing of ``buf[:size]`` (``buf`` is followed by PADDING zero bytes).

    ``buf`` may be one window of a longer file (``final=False``; ``base`` is its offset in the file):
    the walk then stops, without a problem, at the first record that does not end inside the window,
    and ``resume`` says where, so the caller reads on from there.

    Following the length fields is inherently sequential, so instead of a Python step per
    record we first find, with numpy, every offset that *looks* like a record start (data
    begins with Event.wall_time's key 0x09, length < 4 GiB) and whose length CRC verifies;
    runs of such records that chain into each other are taken whole.  The walk itself is
    exact: it only ever jumps by verified lengths, and anything the candidates miss (a record
    without a wall time, damage, the end of the file) is handled one record at a time.
    """
    starts, nexts = _verified_candidates(buf, size)
    run_ends = np.append(np.flatnonzero(nexts[:-1] != starts[1:]), len(starts) - 1)
    pieces, problems, pos = [], [], 0
    view = memoryview(buf)
    walk = _Walk(buf, view, size, final, base, pieces, problems)
    try:
        while pos < size:
            j = int(np.searchsorted(starts, pos))
            if j < len(starts) and starts[j] == pos:
                k = int(run_ends[np.searchsorted(run_ends, j)])
                pieces.append(starts[j:k + 1])
                pos = int(nexts[k])
            else:
                pos = _single_step(walk, pos)
    except _MoreData as more:
        pos = more.pos
    starts = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
    lengths = gather(buf, starts, 8, "<u8").astype(np.int64)
    return Framing(starts, lengths, problems, min(pos, size))


class _Walk(NamedTuple):
    buf: np.ndarray
    view: memoryview
    size: int
    final: bool
    base: int  # the window's offset in the file (messages name file offsets; 0 is the file's start)
    pieces: list
    problems: list


def _verified_candidates(buf: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted offsets that start a whole record with a verified length CRC, and the offset
    right after each record."""
    if size < OVERHEAD:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    step = 1 << 23  # look at 8 MB at a time: a file-sized boolean array would double the memory
    cand = np.concatenate([lo + np.flatnonzero(buf[lo + HEADER:min(lo + step, size - HEADER) + HEADER] == 0x09)
                           for lo in range(0, size - HEADER, step)])
    cand = cand[gather(buf, cand + 4, 4, "<u4") == 0]  # length < 4 GiB: its high 4 bytes are 0
    nexts = cand + OVERHEAD + gather(buf, cand, 4, "<u4").astype(np.int64)
    cand, nexts = cand[nexts <= size], nexts[nexts <= size]
    ok = _length_crcs_ok(buf, cand)
    return cand[ok], nexts[ok]


def _single_step(w: _Walk, pos: int) -> int:
    """Take the one record at ``pos`` (checking its header), or report why not."""
    if w.size - pos < HEADER:
        return _stop_at(w, pos)
    if not _header_ok(w.view, pos):
        return _resynchronise(w, pos)
    end = pos + OVERHEAD + _U64.unpack_from(w.view, pos)[0]
    if end > w.size:
        return _stop_at(w, pos)
    w.pieces.append(np.array([pos], np.int64))
    return end


def _header_ok(view: memoryview, pos: int) -> bool:
    return crc_ok(view, pos, pos + 8)


def _stop_at(w: _Walk, pos: int) -> int:
    """The walk stopped at ``pos`` with less than a full record left."""
    if w.size - pos >= HEADER and not _header_ok(w.view, pos):
        return _resynchronise(w, pos)
    if not w.final:
        raise _MoreData(pos)
    if w.size - pos < HEADER and w.base + pos == 0:
        w.problems.append((0, f"not a TensorBoard event file ({w.size} bytes, shorter than a record header)", False))
    else:
        w.problems.append((w.base + pos, f"truncated record: the file ends {w.size - pos} bytes into it", True))
    return w.size


def _resynchronise(w: _Walk, bad: int) -> int:
    """Header at ``bad`` is corrupt: find the next verifiable record, report the skip."""
    found = _next_valid_record(w.buf, w.view, bad + 1, w.size)
    if found is None and not w.final:
        raise _MoreData(bad)  # look again with more of the file
    if found is None and w.base + bad == 0:
        w.problems.append((0, "not a TensorBoard event file (no valid record in it)", False))
        return w.size
    if found is None:
        w.problems.append((w.base + bad, "corrupted record header (length CRC mismatch); nothing readable after it", True))
        return w.size
    w.problems.append((w.base + bad, f"corrupted record header (length CRC mismatch); skipped {found - bad} bytes "
                                     f"to the next valid record", True))
    return found


def _next_valid_record(buf, view, pos: int, size: int, window: int = 1 << 22) -> int | None:
    """First offset >= pos holding a whole record whose two CRCs verify."""
    for lo in range(pos, size - HEADER + 1, window):
        hi = min(lo + window, size - HEADER + 1)
        cand = lo + np.flatnonzero((buf[lo + 4:hi + 4] == 0) & (buf[lo + 5:hi + 5] == 0)
                                   & (buf[lo + 6:hi + 6] == 0) & (buf[lo + 7:hi + 7] == 0))
        if len(cand) == 0:
            continue
        cand = cand[_length_crcs_ok(buf, cand)]
        for start in cand.tolist():
            length = _U64.unpack_from(view, start)[0]
            end = start + HEADER + length
            if end + 4 <= size and crc_ok(view, start + HEADER, end):
                return start
    return None
