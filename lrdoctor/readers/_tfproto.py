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
_U64_MASK = (1 << 64) - 1
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
            return result & _U64_MASK, pos  # a 10th byte's bits above 64 are dropped, as protobuf does
        shift += 7


_MAX_KEY = 0xFFFFFFFF  # protobuf reads a field key as a 32-bit varint
_MAX_LENGTH = 0x7FFFFFFF  # and a length as a non-negative int32
_MAX_GROUP_DEPTH = 100  # protobuf's recursion limit


def _read_key(buf, pos: int, end: int) -> tuple[int, int]:
    key, after = read_varint(buf, pos, end)
    if key > _MAX_KEY or after - pos > 5:
        raise MalformedRecord("field key does not fit 32 bits")
    return key, after


def iter_fields(buf, pos: int, end: int) -> Iterator[tuple[int, int, object]]:
    """Yield (field number, wire type, payload) where payload is an int (varint / fixed)
    or a (start, end) slice for length-delimited fields.  Groups (wire types 3 and 4, which no
    TensorBoard message uses but protobuf skips as unknown fields) are skipped, as protobuf does."""
    while pos < end:
        key, pos = _read_key(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise MalformedRecord("field number 0")
        if wire == 3:
            pos = _skip_group(buf, pos, end, number, 1)
            continue
        payload, pos = _payload(buf, pos, end, wire)
        yield number, wire, payload


def _payload(buf, pos: int, end: int, wire: int) -> tuple[object, int]:
    if wire == 0:
        return read_varint(buf, pos, end)
    if wire in (1, 5):
        stop = pos + (8 if wire == 1 else 4)
        payload = (pos, stop)
    elif wire == 2:
        length, pos = read_varint(buf, pos, end)
        if length > _MAX_LENGTH:
            raise MalformedRecord("length-delimited field over 2 GiB")
        stop = pos + length
        payload = (pos, stop)
    else:  # an end group without its start, or wire type 6 / 7
        raise MalformedRecord(f"unexpected wire type {wire}")
    if stop > end:
        raise MalformedRecord("field runs past the end of its message")
    return payload, stop


def _skip_group(buf, pos: int, end: int, number: int, depth: int) -> int:
    """Position after the end-group key matching ``number``."""
    if depth > _MAX_GROUP_DEPTH:
        raise MalformedRecord("groups nested too deeply")
    while pos < end:
        key, pos = _read_key(buf, pos, end)
        inner, wire = key >> 3, key & 7
        if inner == 0:
            raise MalformedRecord("field number 0")
        if wire == 4:
            if inner != number:
                raise MalformedRecord("end group does not match its start")
            return pos
        if wire == 3:
            pos = _skip_group(buf, pos, end, inner, depth + 1)
        else:
            _, pos = _payload(buf, pos, end, wire)
    raise MalformedRecord("group runs past the end of its message")


# Nested messages lrdoctor does not read but protobuf parses (and refuses when broken): their string
# fields ("str": must be UTF-8), packed fixed-width fields ("f32s", "f64s"), packed varints ("varints")
# and sub-messages (a dict).  Only the structure is checked; nothing is kept.
_DIM = {2: "str"}
_SHAPE = {2: _DIM}
_RESOURCE = {1: "str", 2: "str", 3: "str", 5: "str", 6: {2: _SHAPE}}
_TENSOR: dict = {2: _SHAPE, 5: "f32s", 6: "f64s", 7: "varints", 9: "f32s", 10: "varints", 11: "varints", 12: "f64s",
                 13: "varints", 14: _RESOURCE, 16: "varints", 17: "varints"}
_TENSOR[15] = {1: "str", 3: _TENSOR}  # VariantTensorDataProto holds tensors
_HISTOGRAM = {6: "f64s", 7: "f64s"}
_IMAGE: dict = {}
_AUDIO = {5: "str"}


def check_message(buf, pos: int, end: int, schema: dict, depth: int = 0) -> None:
    """Raise MalformedRecord where protobuf would refuse the message at ``buf[pos:end]``."""
    if depth > _MAX_GROUP_DEPTH:
        raise MalformedRecord("messages nested too deeply")
    for number, wire, payload in iter_fields(buf, pos, end):
        kind = schema.get(number)
        if kind is None or wire != 2:
            continue
        if kind == "str":
            utf8(buf, *payload)
        elif kind in ("f32s", "f64s"):
            if (payload[1] - payload[0]) % (4 if kind == "f32s" else 8):
                raise MalformedRecord("packed field ends inside a value")
        elif kind == "varints":
            start, stop = payload
            while start < stop:
                _, start = read_varint(buf, start, stop)
        else:
            check_message(buf, *payload, kind, depth + 1)


def to_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_event(buf, pos: int, end: int) -> tuple[float, int, list[ValueRecord], dict[str, str]]:
    """Decode one Event: (wall_time, step, scalar values, {tag: plugin} for every value with
    metadata).  Non-scalar values are skipped without decoding their payload."""
    wall_time, step, values, plugins, which = 0.0, 0, [], {}, None
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 1:
            wall_time = _DOUBLE.unpack_from(buf, payload[0])[0]
        elif number == 2 and wire == 0:
            step = to_int64(payload)
        elif number == 10 and wire == 2:  # source_metadata {writer}
            _check_strings(buf, payload, (1,))
        elif number in _EVENT_ONEOF and wire == 2:
            if number != which:  # the oneof switched: what the earlier member held is gone
                values, plugins = [], {}
            which = number
            if number == 5:
                _decode_summary(buf, *payload, values, plugins)
            else:
                _check_strings(buf, payload, _EVENT_STRINGS[number])
    return wall_time, step, values, plugins


# Event's oneof "what" (file_version, graph_def, summary, log_message, session_log, tagged_run_metadata,
# meta_graph_def), and the string fields in each that protobuf checks for UTF-8: () for the member itself
# when it is a string, the field numbers inside it when it is a message, None for bytes.
_EVENT_ONEOF = (3, 4, 5, 6, 7, 8, 9)
_EVENT_STRINGS = {3: (), 4: None, 6: (2,), 7: (2, 3), 8: (1,), 9: None}


def _check_strings(buf, payload: tuple[int, int], fields) -> None:
    if fields is None:
        return
    if not fields:
        utf8(buf, *payload)
        return
    for number, wire, inner in iter_fields(buf, *payload):
        if number in fields and wire == 2:
            utf8(buf, *inner)


def _decode_summary(buf, pos: int, end: int, values: list, plugins: dict) -> None:
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 2:
            record = _decode_value(buf, *payload, plugins)
            if record is not None:
                values.append(record)


# Summary.Value's oneof "value": simple_value, obsolete histogram, image, histo, audio, tensor.
_VALUE_ONEOF = (2, 3, 4, 5, 6, 8)
_OTHER_VALUES = {4: _IMAGE, 5: _HISTOGRAM, 6: _AUDIO}


def _decode_value(buf, pos: int, end: int, plugins: dict) -> ValueRecord | None:
    """As protobuf parses it: the last oneof member wins, repeated occurrences of the tensor (and of
    the metadata) message merge, and a tag or plugin name that is not UTF-8 fails the event."""
    tag, simple, which, tensor, metadata = "", None, None, [], []
    for number, wire, payload in iter_fields(buf, pos, end):
        if number == 1 and wire == 2:
            tag = utf8(buf, *payload)
        elif number in _VALUE_ONEOF and wire == (5 if number == 2 else 2):
            if number != which:
                tensor = []  # switching the oneof clears what it held
            which = number
            if number == 2:
                simple = _FLOAT.unpack_from(buf, payload[0])[0]
            elif number == 8:
                check_message(buf, *payload, _TENSOR)
                tensor.append(payload)
            elif number in _OTHER_VALUES:
                check_message(buf, *payload, _OTHER_VALUES[number])
        elif number == 7 and wire == 2:  # node_name
            utf8(buf, *payload)
        elif number == 9 and wire == 2:
            metadata.append(payload)
    plugin = plugin_name(buf, metadata) if metadata else None
    if plugin is not None and which == 8:  # a plugin only decides what a tensor is
        plugins.setdefault(tag, plugin)
    if which == 2:
        return ValueRecord(tag, simple, False)
    if which == 8:
        value = decode_scalar_tensor(buf, tensor)
        if value is not None:
            return ValueRecord(tag, value, True)
    return None


def utf8(buf, start: int, stop: int) -> str:
    """A proto3 string field: protobuf refuses an event whose string is not UTF-8, so do we."""
    try:
        return bytes(buf[start:stop]).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRecord("a string field is not valid UTF-8") from None


def plugin_name(buf, ranges) -> str:
    """SummaryMetadata.plugin_data.plugin_name over the (merged) metadata messages at ``ranges``."""
    name = ""
    for pos, end in ranges:
        for number, wire, payload in iter_fields(buf, pos, end):
            if number == 1 and wire == 2:  # plugin_data
                for inner, inner_wire, value in iter_fields(buf, *payload):
                    if inner == 1 and inner_wire == 2:
                        name = utf8(buf, *value)
            elif number in (2, 3) and wire == 2:  # display_name, summary_description
                utf8(buf, *payload)
    return name


# The wire types protobuf accepts for each repeated value field (the native one, or packed).
_VALUE_WIRES = {5: (5, 2), 6: (1, 2), 7: (0, 2), 10: (0, 2), 11: (0, 2), 13: (0, 2), 16: (0, 2), 17: (0, 2)}


def decode_scalar_tensor(buf, ranges) -> float | None:
    """The value of a rank-0 numeric TensorProto (its occurrences at ``ranges`` merged), or None.

    A tensor without ``tensor_shape`` has shape [] (rank 0), as TensorBoard reads it."""
    dtype, rank, content, typed = 0, 0, None, {}
    for pos, end in ranges:
        for number, wire, payload in iter_fields(buf, pos, end):
            if number == 1 and wire == 0:
                dtype = payload
            elif number == 2 and wire == 2:
                rank += _rank(buf, *payload)
            elif number == 4 and wire == 2:
                content = payload
            elif wire in _VALUE_WIRES.get(number, ()):
                typed.setdefault(number, []).append((wire, payload))
            elif number in (9, 12) and wire == 2 and (payload[1] - payload[0]) % (4 if number == 9 else 8):
                raise MalformedRecord("packed complex values end inside a value")
            elif number == 8 and wire == 2:
                pass  # string_val: bytes
    spec = NUMERIC_DTYPES.get(dtype & 0xFFFFFFFF)
    if spec is None or rank != 0:
        return None
    np_dtype, field = spec
    for number, chunks in typed.items():  # a broken packed field of another dtype still fails the event
        if number != field:
            _typed_values(buf, chunks, number)
    if content is not None and content[1] > content[0]:  # an empty tensor_content is no content
        return _from_content(bytes(buf[content[0]:content[1]]), np_dtype)
    items = _typed_values(buf, typed.get(field, []), field)
    if len(items) != 1:
        return None
    return _from_typed(items[0], np_dtype, field)


def _rank(buf, pos: int, end: int) -> int:
    """Dimensions in one TensorShapeProto (TensorBoard reads the dims; ``unknown_rank`` aside)."""
    return sum(1 for number, wire, _ in iter_fields(buf, pos, end) if number == 2 and wire == 2)


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
                if (stop - start) % fixed:  # a packed run that ends inside a value: protobuf refuses it
                    raise MalformedRecord(f"packed field of {stop - start} bytes is not a multiple of {fixed}")
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


# Integer fields of TensorProto narrower than the 64-bit varint that carries them: protobuf keeps
# the low bits (int_val and half_val are int32, bool_val a bool, uint32_val a uint32).
_FIELD_BITS = {7: 32, 13: 32, 16: 32}


def _from_typed(item, np_dtype: str, field: int) -> float:
    if isinstance(item, bytes):
        return float(np.frombuffer(item, "<f4" if len(item) == 4 else "<f8")[0])
    if field == 11:
        return float(item != 0)
    bits = _FIELD_BITS.get(field)
    if bits is not None:
        item &= (1 << bits) - 1
        if field == 7 and item >= 1 << 31:
            item -= 1 << 32  # int32
    if np_dtype == "<f2":
        return float(np.array([item & 0xFFFF], np.uint16).view(np.float16)[0])
    if np_dtype == "bf16":
        return float(np.array([(item & 0xFFFF) << 16], np.uint32).view(np.float32)[0])
    if field == 10:
        return float(to_int64(item))  # int64_val
    return float(item)
