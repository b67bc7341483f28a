"""TFRecord framing: find every record in an event file and check its CRCs.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little endian).  What we do when the framing is damaged - the choices a careful user expects,
keeping what is readable and saying where it broke:

* file ends inside a record (a crashed writer): keep every record before it, report the offset;
* length CRC mismatch: the length cannot be trusted, so scan forward for the next offset whose
  length CRC *and* data CRC verify, resume there, and report how many bytes were skipped;
* data CRC mismatch: the length was verified, so skip just that record and go on (reported once
  per file with the count and the first offset);
* no valid header at byte 0: not an event file at all.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from ._crc32c_np import masked_crc, masked_crc_equal_length

HEADER = 12  # length (8) + length CRC (4)
OVERHEAD = 16  # header + data CRC (4)
PADDING = 32  # zero bytes the reader appends so vectorised gathers never index past the end
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class Framing(NamedTuple):
    starts: np.ndarray  # int64 offset of each good record's header
    lengths: np.ndarray  # int64 data length of each good record
    problems: list  # (offset, message, partial) tuples


def gather(buf: np.ndarray, positions: np.ndarray, width: int, dtype: str) -> np.ndarray:
    """Read one little-endian number of ``width`` bytes at each position."""
    block = buf[positions[:, None] + np.arange(width)]
    return np.ascontiguousarray(block).view(dtype).ravel()


def frame_records(buf: np.ndarray, size: int) -> Framing:
    """Walk the framing of ``buf[:size]`` (``buf`` is followed by PADDING zero bytes)."""
    pieces, problems, pos = [], [], 0
    view = memoryview(buf)
    while pos < size:
        starts, stop = walk_chain(view, pos, size)
        good = _first_bad_header(buf, starts)
        pieces.append(starts[:good])
        if good < len(starts):
            pos = _resynchronise(buf, view, int(starts[good]), size, problems)
        elif stop < size:
            pos = _stop_at(buf, view, stop, size, problems)
        else:
            pos = size
    starts = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
    lengths = gather(buf, starts, 8, "<u8").astype(np.int64)
    starts, lengths = _drop_bad_data(buf, starts, lengths, problems)
    return Framing(starts, lengths, problems)


def walk_chain(view: memoryview, pos: int, size: int) -> tuple[np.ndarray, int]:
    """Follow the length fields from ``pos`` without checking anything; return the starts of
    the records that fit in the file and where the walk stopped."""
    starts = []
    append, unpack = starts.append, _U64.unpack_from
    while pos + HEADER <= size:
        end = pos + OVERHEAD + unpack(view, pos)[0]
        if end > size:
            break
        append(pos)
        pos = end
    return np.array(starts, np.int64), pos


def _first_bad_header(buf: np.ndarray, starts: np.ndarray) -> int:
    """Index of the first record whose length CRC does not verify (len(starts) if none)."""
    if len(starts) == 0:
        return 0
    stored = gather(buf, starts + 8, 4, "<u4")
    bad = np.flatnonzero(masked_crc_equal_length(buf, starts, 8) != stored)
    return int(bad[0]) if len(bad) else len(starts)


def _header_ok(view: memoryview, pos: int) -> bool:
    return masked_crc(view[pos:pos + 8]) == _U32.unpack_from(view, pos + 8)[0]


def _stop_at(buf, view, pos: int, size: int, problems: list) -> int:
    """The walk stopped at ``pos`` with less than a full record left."""
    if size - pos >= HEADER and not _header_ok(view, pos):
        return _resynchronise(buf, view, pos, size, problems)
    if size - pos < HEADER and pos == 0:
        problems.append((0, f"not a TensorBoard event file ({size} bytes, shorter than a record header)", False))
    else:
        problems.append((pos, f"truncated record: the file ends {size - pos} bytes into it", True))
    return size


def _resynchronise(buf, view, bad: int, size: int, problems: list) -> int:
    """Header at ``bad`` is corrupt: find the next verifiable record, report the skip."""
    if bad == 0:
        problems.append((0, "not a TensorBoard event file (no valid record header at the start)", False))
        return size
    found = _next_valid_record(buf, view, bad + 1, size)
    if found is None:
        problems.append((bad, "corrupted record header (length CRC mismatch); nothing readable after it", True))
        return size
    problems.append((bad, f"corrupted record header (length CRC mismatch); skipped {found - bad} bytes "
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
        cand = cand[masked_crc_equal_length(buf, cand, 8) == gather(buf, cand + 8, 4, "<u4")]
        for start in cand.tolist():
            length = _U64.unpack_from(view, start)[0]
            end = start + HEADER + length
            if end + 4 <= size and masked_crc(view[start + HEADER:end]) == _U32.unpack_from(view, end)[0]:
                return start
    return None


def _drop_bad_data(buf, starts, lengths, problems):
    """Check every data CRC (grouped by length) and drop the records that fail."""
    if len(starts) == 0:
        return starts, lengths
    ok = np.ones(len(starts), bool)
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, bounds):
        length = int(lengths[group[0]])
        data = starts[group] + HEADER
        stored = gather(buf, data + length, 4, "<u4")
        ok[group] = masked_crc_equal_length(buf, data, length) == stored
    if ok.all():
        return starts, lengths
    bad = np.flatnonzero(~ok)
    problems.append((int(starts[bad[0]]), f"{len(bad)} record(s) with a data CRC mismatch skipped "
                                           f"(first at this offset)", True))
    return starts[ok], lengths[ok]
