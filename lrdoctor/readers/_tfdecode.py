"""Event records -> scalar columns.  Regular records are decoded in bulk (_tffast.py); the
rest one by one with the exact protobuf walker (_tfproto.py)."""
from __future__ import annotations

import numpy as np

from . import _tffast
from ._tfcolumns import Columns, concat
from ._tfproto import MalformedRecord, decode_event


def decode_records(buf: np.ndarray, data: np.ndarray, lengths: np.ndarray) -> tuple[Columns, list[int]]:
    """Decode the events whose data starts at ``data`` (``lengths`` bytes each).  Returns the
    scalar columns and the indices of records that are not valid protobuf."""
    fast, leftover = _tffast.decode_regular(buf, data, lengths)
    slow, malformed = decode_slow(buf, data, lengths, leftover)
    return concat([fast, slow]), malformed


def decode_slow(buf: np.ndarray, data: np.ndarray, lengths: np.ndarray, indices) -> tuple[Columns, list[int]]:
    """The exact per-record path, for the records listed in ``indices``."""
    view = memoryview(buf)
    rows: list[tuple] = []
    tags: dict[str, int] = {}
    plugins: dict[str, set[str]] = {}
    malformed: list[int] = []
    for index in np.asarray(indices, np.int64).tolist():
        start = int(data[index])
        try:
            wall, step, values, seen = decode_event(view, start, start + int(lengths[index]))
        except MalformedRecord:
            malformed.append(index)
            continue
        for record in values:
            rows.append((index, tags.setdefault(record.tag, len(tags)), step, wall,
                         record.value, record.from_tensor))
        for tag, name in seen.items():
            plugins.setdefault(tag, set()).add(name)
    if not rows:
        empty = Columns.empty()
        empty.plugins = plugins
        return empty, malformed
    record, tag_id, steps, walls, values, tensor = zip(*rows)
    return Columns(np.array(record, np.int64), np.array(tag_id, np.int32), np.array(steps, np.int64),
                   np.array(walls, np.float64), np.array(values, np.float64), np.array(tensor, bool),
                   list(tags), plugins), malformed
