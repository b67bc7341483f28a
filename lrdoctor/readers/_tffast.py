"""Bulk decoding of the regular event records that real writers produce.

torch's and tensorboardX's SummaryWriter, TF2 and ``tensorboard.summary.Writer`` write one
scalar per event with the fields in number order, so nearly every record is

    09 <wall_time f64> [10 <step varint>] 2a <len> 0a <len> 0a <len> <tag>
        15 <simple_value f32>                                             (simple_value)
      | 42 <len> 08 <dtype> 12 00 (22|2a|32) <len> <value> [4a <metadata>]  (rank-0 tensor)

Records of one length whose step varint has the same size differ only in the wall time, the
step and the value - unless their tag (or metadata) differs.  So we group them: per group the
first record is parsed exactly (``_layout``), which tells where the value sits, and every
record whose remaining "structure" bytes equal that record's is decoded with column slices of
one (records x length) byte matrix.  Records that fit no layout (several values per event,
other dtypes, non-scalar values, foreign plugins, anything unusual) are left to the exact
walker in _tfproto.py, so this path only has to be right about what it accepts.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._crc32c_np import crc_rows, mask, rows
from ._tfcolumns import Columns
from ._tfframing import gather
from ._tfproto import SCALARS_PLUGIN, MalformedRecord, plugin_name, read_varint

_MIN_LENGTH = 22  # shorter records are left to the exact walker (none carries a real scalar)
_MAX_LENGTH = 4096  # longer ones hold histograms, images, graphs: not worth a matrix
_MAX_PASSES = 8  # kinds of record tried per group before the rest goes to the exact walker
_TENSOR_FIELDS = {1: ((0x22, 0x2A), "<f4"), 2: ((0x22, 0x32), "<f8")}  # dtype: (fields, value)


class Layout(NamedTuple):
    """Where a regular record keeps its tag and value."""

    tag: str
    value_at: int
    value_dtype: str
    from_tensor: bool


def decode_regular(buf: np.ndarray, data: np.ndarray, lengths: np.ndarray):
    """Check data CRCs and decode what has a known shape.  Returns the columns, the indices
    left for the exact walker (CRC not yet checked) and the indices whose data CRC failed."""
    builder = _Builder()
    usable = (lengths >= _MIN_LENGTH) & (lengths <= _MAX_LENGTH)
    leftover, bad = [np.flatnonzero(~usable)], [np.zeros(0, np.int64)]
    order = np.flatnonzero(usable)
    order = order[np.argsort(lengths[order], kind="stable")]
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        length = int(lengths[group[0]])
        block = rows(buf, data[group], length)
        good = mask(crc_rows(block)) == gather(buf, data[group] + length, 4, "<u4")
        if not good.all():
            bad.append(group[~good])
            block, group = block[good], group[good]
        leftover.append(_decode_length_group(block, group, builder))
    return builder.columns(), np.sort(np.concatenate(leftover)), np.sort(np.concatenate(bad))


def _step_sizes(block: np.ndarray) -> np.ndarray:
    """Bytes of the Event.step varint after its key at column 9 (0: no step; -1: not regular)."""
    has_wall = block[:, 0] == 0x09
    has_step = block[:, 9] == 0x10
    continues = block[:, 10:20] >= 0x80
    size = np.argmin(continues, axis=1) + 1  # first byte without the continuation bit
    size[continues.all(axis=1)] = -1
    size[~has_step] = 0
    size[~has_wall] = -1
    return size


def _decode_length_group(block: np.ndarray, records: np.ndarray, builder: "_Builder") -> np.ndarray:
    """Decode one (records x length) byte matrix; return the records it could not decode."""
    step_size = _step_sizes(block)
    leftover = [records[step_size < 0]]
    for size in np.unique(step_size[step_size >= 0]).tolist():
        members = np.flatnonzero(step_size == size)
        leftover.append(_decode_shapes(block[members], records[members], size, builder))
    return np.concatenate(leftover)


def _decode_shapes(block: np.ndarray, records: np.ndarray, step_size: int, builder: "_Builder") -> np.ndarray:
    """Same length, same step size.  Parse the first record; if it is a scalar, group every
    record by its bytes outside that layout's wall time, step and value (i.e. by tag and
    metadata) and decode each group whose own first record parses to the same layout."""
    remaining, leftover = np.arange(len(block)), []
    for _ in range(_MAX_PASSES):
        if len(remaining) == 0:
            break
        candidates = block[remaining]
        first = candidates[0]
        layout = _layout(first.tobytes(), step_size)
        structure = _structure(block.shape[1], step_size, layout)
        if layout is None:  # records shaped like this one go to the exact walker
            same = _matches(candidates, first, structure)
            leftover.append(records[remaining[same]])
            remaining = remaining[~same]
            continue
        done = np.zeros(len(remaining), bool)
        for members in _groups_by_bytes(candidates[:, structure]):
            head = candidates[members[0]]
            head_layout = layout if members[0] == 0 else _layout(head.tobytes(), step_size)
            if head_layout is None or head_layout.value_at != layout.value_at:
                continue  # another kind of record: a later pass takes it
            members = members[_matches(candidates[members], head, structure)]
            builder.add(candidates[members], records[remaining[members]], step_size, head_layout)
            done[members] = True
        remaining = remaining[~done]
    leftover.append(records[remaining])
    return np.concatenate(leftover)


def _groups_by_bytes(columns: np.ndarray) -> list[np.ndarray]:
    """Row indices grouped by a 64-bit hash of each row (callers verify equality)."""
    width = -(-columns.shape[1] // 8) * 8 or 8
    padded = np.zeros((len(columns), width), np.uint8)
    padded[:, :columns.shape[1]] = columns
    words = padded.view("<u8")
    key = words[:, 0].copy()
    for column in range(1, words.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) ^ words[:, column]
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    return np.split(order, bounds)


def _structure(length: int, step_size: int, layout: Layout | None) -> np.ndarray:
    """Columns that must equal the parsed record's: all but wall time, step and value."""
    fixed = np.ones(length, bool)
    fixed[1:9] = False
    fixed[10:10 + step_size] = False
    if layout is not None:
        fixed[layout.value_at:layout.value_at + np.dtype(layout.value_dtype).itemsize] = False
    return fixed


def _matches(block: np.ndarray, first: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return (block[:, columns] == first[columns]).all(axis=1)


def _layout(data: bytes, step_size: int) -> Layout | None:
    """Parse one record exactly; a Layout if it is a one-value scalar event we can slice."""
    try:
        return _parse_layout(data, step_size)
    except (MalformedRecord, IndexError, UnicodeDecodeError):
        return None


def _parse_layout(data: bytes, step_size: int) -> Layout | None:
    end = len(data)
    pos = 10 + step_size if step_size else 9
    if data[pos] != 0x2A:  # Event.summary
        return None
    for _ in range(2):  # Summary.value, then Value.tag: each must run to the end of the record
        length, pos = read_varint(data, pos + 1, end)
        if pos + length != end or data[pos] != 0x0A:
            return None
    length, pos = read_varint(data, pos + 1, end)
    tag_end = pos + length
    if tag_end >= end:
        return None
    tag = data[pos:tag_end].decode("utf-8")  # not UTF-8: UnicodeDecodeError, the exact walker reports it
    if data[tag_end] == 0x15 and tag_end + 5 == end:  # simple_value
        return Layout(tag, tag_end + 1, "<f4", False)
    if data[tag_end] != 0x42:  # tensor
        return None
    length, start = read_varint(data, tag_end + 1, end)
    tensor_end = start + length
    spec = _TENSOR_FIELDS.get(data[start + 1])
    if spec is None or data[start] != 0x08 or data[start + 2:start + 4] != b"\x12\x00":
        return None
    fields, dtype = spec
    size = np.dtype(dtype).itemsize
    if data[start + 4] not in fields or data[start + 5] != size or start + 6 + size != tensor_end:
        return None
    if tensor_end != end and not _scalars_metadata(data, tensor_end, end):
        return None
    return Layout(tag, start + 6, dtype, True)


def _scalars_metadata(data: bytes, pos: int, end: int) -> bool:
    if data[pos] != 0x4A:
        return False
    length, start = read_varint(data, pos + 1, end)
    return start + length == end and plugin_name(data, [(start, end)]) == SCALARS_PLUGIN


class _Builder:
    """Collects the decoded groups into one Columns."""

    def __init__(self):
        self.tags: dict[str, int] = {}
        self.parts: list[tuple] = []
        self.plugins: dict[str, set[str]] = {}

    def add(self, block: np.ndarray, records: np.ndarray, step_size: int, layout: Layout) -> None:
        walls = np.ascontiguousarray(block[:, 1:9]).view("<f8").ravel()
        steps = np.zeros(len(block), np.uint64)
        for k in range(step_size):
            steps |= (block[:, 10 + k] & np.uint8(0x7F)).astype(np.uint64) << np.uint64(7 * k)
        width = np.dtype(layout.value_dtype).itemsize
        values = np.ascontiguousarray(block[:, layout.value_at:layout.value_at + width]).view(layout.value_dtype)
        tag_id = self.tags.setdefault(layout.tag, len(self.tags))
        if layout.from_tensor:
            self.plugins[layout.tag] = {SCALARS_PLUGIN}
        with np.errstate(invalid="ignore"):  # a signalling NaN stays a NaN; numpy would warn about the cast
            values = values.ravel().astype(np.float64)
        self.parts.append((records, np.full(len(block), tag_id, np.int32), steps.view(np.int64),
                           walls, values, np.full(len(block), layout.from_tensor)))

    def columns(self) -> Columns:
        if not self.parts:
            return Columns.empty()
        return Columns(*(np.concatenate(column) for column in zip(*self.parts)), list(self.tags), self.plugins)
