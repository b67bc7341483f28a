"""Event records -> scalar columns.  Regular records are decoded in bulk (_tffast.py); the
rest one by one with the exact protobuf walker (_tfproto.py)."""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from . import _tffast
from ._tfcolumns import Columns, concat
from ._tfframing import crc_ok
from ._tfproto import MalformedRecord, decode_event

_CHUNK = 1 << 17  # records decoded at once


class Decoded(NamedTuple):
    columns: Columns
    bad_crc: np.ndarray  # indices of records whose data CRC does not verify (skipped)
    malformed: np.ndarray  # indices of records that are not a valid Event (skipped)
    why_malformed: str = ""  # what was wrong with the first of them


def decode_records(buf: np.ndarray, data: np.ndarray, lengths: np.ndarray) -> Decoded:
    """Decode the events whose data starts at ``data`` (``lengths`` bytes each, followed by
    their masked CRC), checking every data CRC on the way."""
    parts, leftovers, bad = [], [], []
    for lo in range(0, len(data), _CHUNK):  # chunks bound the memory of the temporaries
        fast, leftover, bad_crc = _tffast.decode_regular(buf, data[lo:lo + _CHUNK], lengths[lo:lo + _CHUNK])
        fast.record += lo
        parts.append(fast)
        leftovers.append(leftover + lo)
        bad.append(bad_crc + lo)
    leftover = np.concatenate(leftovers) if leftovers else np.zeros(0, np.int64)
    slow, slow_bad, malformed, why = decode_slow(buf, data, lengths, leftover)
    bad_crc = np.sort(np.concatenate(bad + [slow_bad])) if bad else slow_bad
    return Decoded(concat(parts + [slow]), bad_crc, malformed, why)


def decode_slow(buf: np.ndarray, data: np.ndarray, lengths: np.ndarray, indices):
    """The exact per-record path for the records listed in ``indices``: (columns, indices with
    a bad data CRC, indices that are not valid protobuf, what was wrong with the first of those)."""
    view = memoryview(buf)
    rows: list[tuple] = []
    tags: dict[str, int] = {}
    plugins: dict[str, set[str]] = {}
    bad, malformed, why = [], [], ""
    for index in np.asarray(indices, np.int64).tolist():
        start, end = int(data[index]), int(data[index] + lengths[index])
        if not crc_ok(view, start, end):
            bad.append(index)
            continue
        try:
            wall, step, values, seen = decode_event(view, start, end)
        except (MalformedRecord, ValueError, OverflowError, IndexError, struct.error) as exc:
            malformed.append(index)  # one odd record costs that record, never the file
            why = why or str(exc)
            continue
        for record in values:
            rows.append((index, tags.setdefault(record.tag, len(tags)), step, wall,
                         record.value, record.from_tensor))
        for tag, name in seen.items():
            plugins.setdefault(tag, set()).add(name)
    return _columns(rows, tags, plugins), np.array(bad, np.int64), np.array(malformed, np.int64), why


def _columns(rows: list[tuple], tags: dict, plugins: dict) -> Columns:
    if not rows:
        empty = Columns.empty()
        empty.plugins = plugins
        return empty
    record, tag_id, steps, walls, values, tensor = zip(*rows)
    return Columns(np.array(record, np.int64), np.array(tag_id, np.int32), np.array(steps, np.int64),
                   np.array(walls, np.float64), np.array(values, np.float64), np.array(tensor, bool),
                   list(tags), plugins)
