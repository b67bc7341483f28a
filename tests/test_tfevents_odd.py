"""Event records that protobuf reads one way and a careless walker another (issue 11, class G)."""
from __future__ import annotations

import struct

import numpy as np
from tensorboard.compat.proto import event_pb2

from lrdoctor.readers.tfevents import read_tfevents
from test_tfevents import frame, scalar_event


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = _varint(number << 3 | wire)
    return key + (_varint(len(payload)) + payload if wire == 2 else payload)


def _event(step_bytes: bytes, value: bytes, wall: float = 1e9) -> bytes:
    """An Event with a hand-written step varint and a Summary.Value body ``value``."""
    summary = _field(1, 2, value)
    return b"\x09" + struct.pack("<d", wall) + b"\x10" + step_bytes + _field(5, 2, summary)


def _tag(tag: str) -> bytes:
    return _field(1, 2, tag.encode())


def _good(step: int, value: float) -> bytes:
    return scalar_event("loss", value, step).SerializeToString()


def _file(tmp_path, records: list[bytes]) -> str:
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(b"".join(frame(r) for r in records))
    return str(path)


def _offset_of(records: list[bytes], index: int) -> int:
    return sum(len(frame(r)) for r in records[:index])


def test_a_packed_float_val_of_3_bytes_is_a_reported_bad_record_not_1e15(tmp_path):
    tensor = _field(1, 0, b"\x01") + _field(2, 2, b"") + _field(5, 2, b"\x00\x00\x80")  # DT_FLOAT, shape [], 3 bytes
    bad = _event(b"\x05", _tag("loss") + _field(8, 2, tensor))
    records = [_good(i, 1.0 / (i + 1)) for i in range(5)] + [bad] + [_good(i, 0.1) for i in range(6, 9)]
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert scalars["loss"].steps.tolist() == [0, 1, 2, 3, 4, 6, 7, 8]
    assert np.nanmax(scalars["loss"].values) <= 1.0
    assert len(problems) == 1 and "malformed" in problems[0].message
    assert problems[0].offset == _offset_of(records, 5)
    try:  # protobuf itself refuses the record: the reader agrees with it
        event_pb2.Event.FromString(bad)
        raised = False
    except Exception:
        raised = True
    assert raised


def test_a_rank_0_tensor_without_tensor_shape_is_read_as_tensorboard_reads_it(tmp_path):
    tensor = _field(1, 0, b"\x01") + _field(5, 5, struct.pack("<f", 0.25))  # DT_FLOAT, no tensor_shape
    records = [_event(_varint(7), _tag("acc") + _field(8, 2, tensor))]
    event = event_pb2.Event.FromString(records[0])
    assert list(event.summary.value[0].tensor.tensor_shape.dim) == []  # TensorBoard: shape [], a scalar
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert problems == [] and scalars["acc"].steps.tolist() == [7]
    assert abs(scalars["acc"].values[0] - 0.25) < 1e-9


def test_a_10_byte_step_varint_is_read_as_protobuf_reads_it_and_loses_nothing(tmp_path):
    ten = b"\xff" * 9 + b"\x7f"  # bits above 64 are dropped: the int64 -1
    records = [_good(i, 1.0 / (i + 1)) for i in range(3)] + [_event(ten, _tag("loss") + _field(2, 5, struct.pack("<f", 9.0)))]
    summary_first = _event(b"\x00", _tag("loss") + _field(2, 5, struct.pack("<f", 8.0)))[11:] + b"\x10" + ten
    records += [_good(i, 0.5) for i in range(4, 6)] + [summary_first]  # the step last: the exact walker's record
    assert event_pb2.Event.FromString(records[3]).step == event_pb2.Event.FromString(records[-1]).step == -1
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert problems == []
    assert scalars["loss"].steps.tolist() == [0, 1, 2, -1, 4, 5, -1]
    assert scalars["loss"].values.tolist()[-1] == 8.0


def test_an_11_byte_step_varint_loses_that_record_only_and_says_where(tmp_path):
    eleven = b"\xff" * 10 + b"\x01"
    records = [_good(i, 1.0 / (i + 1)) for i in range(3)] + [_event(eleven, _tag("loss") + _field(2, 5, struct.pack("<f", 9.0)))]
    records += [_good(i, 0.5) for i in range(4, 6)]
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert scalars["loss"].steps.tolist() == [0, 1, 2, 4, 5]
    assert len(problems) == 1 and problems[0].offset == _offset_of(records, 3) and problems[0].partial


def test_the_last_oneof_member_wins_as_in_protobuf(tmp_path):
    histo = _field(5, 2, b"")  # Summary.Value.histo after the simple_value: the value is a histogram
    records = [_event(b"\x01", _tag("loss") + _field(2, 5, struct.pack("<f", 3.0)) + histo),
               _event(b"\x02", _tag("loss") + histo + _field(2, 5, struct.pack("<f", 4.0)))]
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert problems == [] and scalars["loss"].steps.tolist() == [2] and scalars["loss"].values.tolist() == [4.0]


def test_a_tag_that_is_not_utf8_is_a_reported_bad_record(tmp_path):
    bad = _event(b"\x03", _field(1, 2, b"lo\xffss") + _field(2, 5, struct.pack("<f", 3.0)))
    records = [_good(0, 1.0), bad, _good(4, 0.5)]
    scalars, problems = read_tfevents(_file(tmp_path, records))
    assert scalars["loss"].steps.tolist() == [0, 4]
    assert len(problems) == 1 and problems[0].offset == _offset_of(records, 1)


def test_int32_fields_keep_their_low_32_bits(tmp_path):
    tensor = _field(1, 0, b"\x03") + _field(2, 2, b"") + _field(7, 0, _varint((1 << 32) + 5))  # DT_INT32
    records = [_event(b"\x01", _tag("n") + _field(8, 2, tensor))]
    expected = event_pb2.Event.FromString(records[0]).summary.value[0].tensor.int_val[0]
    scalars, _ = read_tfevents(_file(tmp_path, records))
    assert scalars["n"].values.tolist() == [float(expected)] == [5.0]


def test_cli_keeps_every_good_record_and_names_the_bad_ones(tmp_path, run_cli):
    import json

    tensor = _field(1, 0, b"\x01") + _field(2, 2, b"") + _field(5, 2, b"\x00\x00\x80")
    over_read = [_good(i, 2 * 0.97 ** i) for i in range(5)] + [_event(b"\x05", _tag("loss") + _field(8, 2, tensor))]
    over_read += [_good(i, 2 * 0.97 ** i) for i in range(6, 100)]
    eleven = _event(b"\xff" * 10 + b"\x01", _tag("loss") + _field(2, 5, struct.pack("<f", 9.0)))
    long_step = [_good(i, 2 * 0.97 ** i) for i in range(50)] + [eleven] + [_good(i, 2 * 0.97 ** i) for i in range(51, 100)]
    for name, records in (("over_read", over_read), ("long_step", long_step)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "events.out.tfevents.1.host").write_bytes(b"".join(frame(r) for r in records))
    out, err = run_cli(["diagnose", tmp_path, "--format", "json"])
    runs = {r["run"]: r for r in json.loads(out)["runs"]}
    assert set(runs) == {"over_read", "long_step"} and all(r["status"] != "error" for r in runs.values())
    assert "Traceback" not in err
    assert f"at byte {_offset_of(over_read, 5)}" in err and f"at byte {_offset_of(long_step, 50)}" in err
    assert [p["offset"] for p in runs["over_read"]["problems"]] == [_offset_of(over_read, 5)]
