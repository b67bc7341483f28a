"""A small, exact protobuf walker for the few TensorBoard messages a scalar lives in.

This is the reference decoder: it handles any field order, packed or unpacked repeated
fields, several values per event (TF1 merged summaries) and metadata on any value.  The
vectorised decoder (_tffast.py) handles the common regular record shapes and hands
everything else to ``decode_event`` here.

Field numbers (tensorboard/compat/proto): Event{1 wall_time double, 2 step int64,
5 summary}; Summary{1 value}; Summary.Value{1 tag, 2 simple_value float, 8 tensor,
9 metadata}; SummaryMetadata{1 plugin_data{1 plugin_name}}; TensorProto{1 dtype,
2 tensor_shape{2 dim, 3 unknown_rank}, 4 tensor_content, 5 float_val, 6 double_val,
7 int_val, 10 int64_val, 11 bool_val, 13 half_val, 16 uint32_val, 17 uint64_val}.
"""
from __future__ import annotations

import struct
from typing import Iterator, NamedTuple

import numpy as np

_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


class MalformedRecord(ValueError):
    """The bytes are not a valid protobuf message of the expected kind."""


# DataType enum -> (numpy dtype of tensor_content, TensorProto field holding typed values).
# Only numeric types are scalars worth plotting; strings, complex, resources are skipped.
NUMERIC_DTYPES: dict[int, tuple[str, int]] = {
    1: ("<f4", 5),  # DT_FLOAT, float_val
    2: ("<f8", 6),  # DT_DOUBLE, double_val
    3: ("<i4", 7),  # DT_INT32, int_val
    4: ("u1", 7),  # DT_UINT8
    5: ("<i2", 7),  # DT_INT16
    6: ("i1", 7),  # DT_INT8
    9: ("<i8", 10),  # DT_INT64, int64_val
    10: ("u1", 11),  # DT_BOOL, bool_val
    14: ("bf16", 13),  # DT_BFLOAT16, half_val (top 16 bits of a float32)
    17: ("<u2", 7),  # DT_UINT16
    19: ("<f2", 13),  # DT_HALF, half_val
    22: ("<u4", 16),  # DT_UINT32, uint32_val
    23: ("<u8", 17),  # DT_UINT64, uint64_val
}
SCALARS_PLUGIN = "scalars"


class ValueRecord(NamedTuple):
    """One scalar found in an event (its metadata plugin goes to decode_event's ``{tag: plugin}``)."""

    tag: str
    value: float
    from_tensor: bool


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; returns (value, position after it)."""
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise MalformedRecord("varint runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def iter_fields(buf, pos: int, end: int) -> Iterator[tuple[int, int, object]]:
    """Yield (field number, wire type, payload) where payload is an int (varint / fixed)
    or a (start, end) slice for length-delimited fields."""
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if wire == 0:
            payload, pos = read_varint(buf, pos, end)
        elif wire == 1:
            payload, pos = (pos, pos + 8), pos + 8
        elif wire == 5:
            payload, pos = (pos, pos + 4), pos + 4
        elif wire == 2:
            length, pos = read_varint(buf, pos, end)
            payload, pos = (pos, pos + length), pos + length
        else:  # groups (3, 4) are not used by any TensorBoard message
            raise MalformedRecord(f"unsupported wire type {wire}")
        if pos > end or number == 0:
            raise MalformedRecord("field runs past the end of its message")
        yield number, wire, payload


def to_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_event(buf, pos: int, end: int) -> tuple[float, int, list[ValueRecord], dict[str, str]]:
    """Decode one Event: (wall_time, step, scalar values, {tag: plugin} for every value with
    metadata).  Non-scalar values are skipped without decoding their payload."""
    wall_time, step, values, plugins = 0.0, 0, [], {}
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 1:
            wall_time = _DOUBLE.unpack_from(buf, payload[0])[0]
        elif number == 2 and wire == 0:
            step = to_int64(payload)
        elif number == 5 and wire == 2:
            _decode_summary(buf, *payload, values, plugins)
    return wall_time, step, values, plugins


def _decode_summary(buf, pos: int, end: int, values: list, plugins: dict) -> None:
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 2:
            record = _decode_value(buf, *payload, plugins)
            if record is not None:
                values.append(record)


def _decode_value(buf, pos: int, end: int, plugins: dict) -> ValueRecord | None:
    tag, simple, tensor, plugin = "", None, None, None
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 2:
            tag = bytes(buf[payload[0]:payload[1]]).decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            simple = _FLOAT.unpack_from(buf, payload[0])[0]
        elif number == 8 and wire == 2:
            tensor = payload
        elif number == 9 and wire == 2:
            plugin = plugin_name(buf, *payload)
    if plugin is not None and tensor is not None:  # a plugin only decides what a tensor is
        plugins.setdefault(tag, plugin)
    if simple is not None:
        return ValueRecord(tag, simple, False)
    if tensor is not None:
        value = decode_scalar_tensor(buf, *tensor)
        if value is not None:
            return ValueRecord(tag, value, True)
    return None


def plugin_name(buf, pos: int, end: int) -> str:
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 2:  # plugin_data
            for inner, inner_wire, name in iter_fields(buf, *payload):
                if inner == 1 and inner_wire == 2:
                    return bytes(buf[name[0]:name[1]]).decode("utf-8", "replace")
    return ""


def decode_scalar_tensor(buf, pos: int, end: int) -> float | None:
    """The value of a rank-0 numeric TensorProto, or None for anything else."""
    dtype, rank, content, typed = 0, None, None, {}
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 0:
            dtype = payload
        elif number == 2 and wire == 2:
            rank = _rank(buf, *payload)
        elif number == 4 and wire == 2:
            content = payload
        elif number in (5, 6, 7, 10, 11, 13, 16, 17):
            typed.setdefault(number, []).append((wire, payload))
    spec = NUMERIC_DTYPES.get(dtype)
    if spec is None or rank != 0:
        return None
    np_dtype, field = spec
    if content is not None:
        return _from_content(bytes(buf[content[0]:content[1]]), np_dtype)
    items = _typed_values(buf, typed.get(field, []), field)
    if len(items) != 1:
        return None
    return _from_typed(items[0], np_dtype)


def _rank(buf, pos: int, end: int) -> int | None:
    rank = 0
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 2:
            rank += 1
        elif number == 3 and wire == 0 and payload:
            return None  # unknown rank
    return rank


def _from_content(raw: bytes, np_dtype: str) -> float | None:
    if np_dtype == "bf16":
        if len(raw) != 2:
            return None
        return float(np.frombuffer(b"\0\0" + raw, "<f4")[0])
    dt = np.dtype(np_dtype)
    if len(raw) != dt.itemsize:
        return None
    return float(np.frombuffer(raw, dt)[0])


def _typed_values(buf, chunks: list, field: int) -> list:
    """Collect a repeated numeric field, packed (wire 2) or not."""
    fixed = {5: 4, 6: 8}.get(field)
    items: list = []
    for wire, payload in chunks:
        if wire == 2:
            start, stop = payload
            if fixed:
                items.extend(bytes(buf[p:p + fixed]) for p in range(start, stop, fixed))
            else:
                while start < stop:
                    item, start = read_varint(buf, start, stop)
                    items.append(item)
        elif wire in (1, 5):
            items.append(bytes(buf[payload[0]:payload[1]]))
        else:
            items.append(payload)
    return items


def _from_typed(item, np_dtype: str) -> float:
    if isinstance(item, bytes):
        return float(np.frombuffer(item, "<f4" if len(item) == 4 else "<f8")[0])
    if np_dtype == "<f2":
        return float(np.array([item & 0xFFFF], np.uint16).view(np.float16)[0])
    if np_dtype == "bf16":
        return float(np.array([(item & 0xFFFF) << 16], np.uint32).view(np.float32)[0])
    if np_dtype in ("<i8", "<i4", "<i2", "i1"):
        return float(to_int64(item))  # negative ints are sign-extended to 64 bits on the wire
    return float(item)
