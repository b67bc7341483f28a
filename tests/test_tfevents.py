"""The TensorBoard event-file reader, on files written at test time by real writers."""
from __future__ import annotations

import glob
import os
import struct

import crc32c
import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from lrdoctor.readers import _tfdecode, _tffast, _tfframing
from lrdoctor.readers.tfevents import PADDING, RawScalars, read_tfevents

REAL_TB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "real_logs", "tensorboard")


# --- helpers -----------------------------------------------------------------------------

def _masked(data: bytes) -> int:
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", _masked(header)) + data + struct.pack("<I", _masked(data))


def write_events(path, events) -> str:
    """Frame serialized Event protos into an event file (the TFRecord format, by the spec)."""
    with open(path, "wb") as handle:
        for event in events:
            handle.write(frame(event.SerializeToString()))
    return str(path)


def scalar_event(tag, value, step, wall=1.0e9, **tensor) -> event_pb2.Event:
    if tensor:
        proto = tensor_pb2.TensorProto(tensor_shape=tensor_shape_pb2.TensorShapeProto(), **tensor)
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
        val = summary_pb2.Summary.Value(tag=tag, tensor=proto, metadata=meta)
    else:
        val = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[val]))


def only_file(directory) -> str:
    (path,) = glob.glob(os.path.join(str(directory), "events.out.tfevents.*"))
    return path


def write_tbx(directory, n=60, extras=True) -> str:
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    writer = SummaryWriter(str(directory))
    for step in range(n):
        writer.add_scalar("train/loss", 2.0 / (step + 1), step)
        writer.add_scalar("lr", 0.1 * 0.99 ** step, step)
        if extras and step % 10 == 0:
            writer.add_histogram("weights", rng.normal(size=100), step)
            writer.add_text("notes", f"step {step}", step)
            writer.add_image("img", rng.random((3, 4, 4)), step)
    writer.close()
    return only_file(directory)


# --- real writers ------------------------------------------------------------------------

def test_tensorboardx_scalars_are_read_and_other_summaries_skipped(tmp_path):
    scalars, problems = read_tfevents(write_tbx(tmp_path))
    assert problems == []
    assert set(scalars) == {"train/loss", "lr"}
    loss = scalars["train/loss"]
    assert isinstance(loss, RawScalars)
    assert loss.steps.dtype == np.int64 and loss.values.dtype == np.float64 and loss.wall_times.dtype == np.float64
    np.testing.assert_array_equal(loss.steps, np.arange(60))
    np.testing.assert_allclose(loss.values, np.float32(2.0 / (np.arange(60) + 1)), rtol=1e-7)
    assert np.all(loss.wall_times > 1.5e9)


def test_tensorboard_writer_tf2_tensor_scalars(tmp_path):
    from tensorboard.summary import Writer

    writer = Writer(str(tmp_path))
    for step in range(25):
        writer.add_scalar("epoch_loss", 1.0 / (step + 1), step)
        writer.add_scalar("epoch_accuracy", step / 25, step)
    writer.close()
    scalars, problems = read_tfevents(only_file(tmp_path))
    assert problems == []
    assert set(scalars) == {"epoch_loss", "epoch_accuracy"}
    np.testing.assert_array_equal(scalars["epoch_loss"].steps, np.arange(25))
    np.testing.assert_allclose(scalars["epoch_loss"].values, np.float32(1.0 / (np.arange(25) + 1)))


@pytest.mark.parametrize("dtype, fields, expected", [
    (types_pb2.DT_FLOAT, {"tensor_content": np.float32(0.25).tobytes()}, 0.25),
    (types_pb2.DT_DOUBLE, {"double_val": [1e-300]}, 1e-300),
    (types_pb2.DT_DOUBLE, {"tensor_content": np.float64(-3.5).tobytes()}, -3.5),
    (types_pb2.DT_HALF, {"half_val": [int(np.float16(0.5).view(np.uint16))]}, 0.5),
    (types_pb2.DT_HALF, {"tensor_content": np.float16(-2.0).tobytes()}, -2.0),
    (types_pb2.DT_BFLOAT16, {"half_val": [0x3FC0]}, 1.5),
    (types_pb2.DT_INT32, {"int_val": [-7]}, -7.0),
    (types_pb2.DT_INT64, {"int64_val": [2 ** 40]}, 2.0 ** 40),
    (types_pb2.DT_INT64, {"tensor_content": np.int64(-5).tobytes()}, -5.0),
    (types_pb2.DT_UINT8, {"int_val": [200]}, 200.0),
])
def test_tensor_dtypes(tmp_path, dtype, fields, expected):
    events = [scalar_event("x", 0, step, dtype=dtype, **fields) for step in range(40)]
    scalars, problems = read_tfevents(write_events(tmp_path / "events.out.tfevents.1.h", events))
    assert problems == []
    np.testing.assert_array_equal(scalars["x"].values, np.full(40, expected))
    np.testing.assert_array_equal(scalars["x"].steps, np.arange(40))


def test_non_scalar_tensors_and_foreign_plugins_are_skipped(tmp_path):
    vector = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2], tensor_shape=tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)]))
    text = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"hi"], tensor_shape=tensor_shape_pb2.TensorShapeProto())
    hparam = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1], tensor_shape=tensor_shape_pb2.TensorShapeProto())
    hp_meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="hparams"))
    values = [summary_pb2.Summary.Value(tag="vec", tensor=vector),
              summary_pb2.Summary.Value(tag="text", tensor=text),
              summary_pb2.Summary.Value(tag="_hparams_/x", tensor=hparam, metadata=hp_meta),
              summary_pb2.Summary.Value(tag="ok", simple_value=3.0)]
    events = [event_pb2.Event(wall_time=1.0, step=1, file_version="brain.Event:2")]
    events += [event_pb2.Event(wall_time=2.0, step=s, summary=summary_pb2.Summary(value=[v])) for s in range(3) for v in values]
    # the hparams tag again, without metadata (TF strips it after a tag's first value)
    events.append(event_pb2.Event(step=9, summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="_hparams_/x", tensor=hparam)])))
    scalars, problems = read_tfevents(write_events(tmp_path / "e", events))
    assert problems == [] and list(scalars) == ["ok"]
    np.testing.assert_array_equal(scalars["ok"].steps, [0, 1, 2])


def test_merged_tf1_summary_many_values_per_event(tmp_path):
    values = [summary_pb2.Summary.Value(tag=f"t{i}", simple_value=float(i)) for i in range(4)]
    events = [event_pb2.Event(wall_time=5.0 + s, step=s, summary=summary_pb2.Summary(value=values)) for s in range(30)]
    scalars, _ = read_tfevents(write_events(tmp_path / "e", events))
    assert sorted(scalars) == ["t0", "t1", "t2", "t3"]
    np.testing.assert_array_equal(scalars["t3"].values, np.full(30, 3.0))
    np.testing.assert_array_equal(scalars["t3"].wall_times, 5.0 + np.arange(30))


def test_file_order_kept_nan_inf_zero_and_negative_steps(tmp_path):
    steps = [0, 0, 0, 5, 3, -2, 2 ** 40, 0]
    vals = [np.nan, np.inf, -np.inf, 1.0, 0.0, -0.0, 7.0, 2.0]
    events = [scalar_event("a", v, s, wall=100.0 + i) for i, (s, v) in enumerate(zip(steps, vals))] * 6
    scalars, problems = read_tfevents(write_events(tmp_path / "e", events))
    assert problems == []
    np.testing.assert_array_equal(scalars["a"].steps, steps * 6)
    np.testing.assert_array_equal(scalars["a"].values, np.array(vals * 6, np.float32).astype(float))
    np.testing.assert_array_equal(scalars["a"].wall_times, list(100.0 + np.arange(8)) * 6)


def test_all_zero_steps_are_returned_as_is(tmp_path):
    events = [scalar_event("loss", 1.0 / (i + 1), 0, wall=10.0 + i) for i in range(50)]
    scalars, _ = read_tfevents(write_events(tmp_path / "e", events))
    assert np.all(scalars["loss"].steps == 0)
    np.testing.assert_array_equal(scalars["loss"].wall_times, 10.0 + np.arange(50))


# --- damaged files -----------------------------------------------------------------------

def _record_starts(path) -> list[int]:
    data, pos, starts = open(path, "rb").read(), 0, []
    while pos < len(data):
        starts.append(pos)
        pos += struct.unpack_from("<Q", data, pos)[0] + 16
    return starts


def _damaged_copy(src, dst, data: bytes) -> str:
    with open(dst, "wb") as handle:
        handle.write(data)
    return str(dst)


@pytest.mark.parametrize("record, cut", [(5, 1), (5, 11), (5, 12), (5, 20), (40, -1), (40, -4)])
def test_truncated_file_keeps_whole_records(tmp_path, record, cut):
    src = write_tbx(tmp_path / "src", extras=False)
    starts = _record_starts(src)
    end = starts[record] + cut if cut > 0 else starts[record + 1] + cut
    path = _damaged_copy(src, tmp_path / "events.out.tfevents.9.x", open(src, "rb").read()[:end])
    scalars, problems = read_tfevents(path)
    (problem,) = problems
    assert problem.partial and problem.offset == starts[record] and "truncated" in problem.message
    assert problem.path == path
    full, _ = read_tfevents(src)
    n_before = sum(len(v) for v in full.values()) - sum(len(v) for v in scalars.values())
    assert sum(len(v) for v in scalars.values()) == record - 1  # record 0 is file_version
    assert n_before > 0


def test_bad_data_crc_skips_only_that_record(tmp_path):
    src = write_tbx(tmp_path / "src", extras=False)
    starts = _record_starts(src)
    data = bytearray(open(src, "rb").read())
    data[starts[10] + 20] ^= 0xFF  # inside record 10's data
    scalars, problems = read_tfevents(_damaged_copy(src, tmp_path / "e", bytes(data)))
    (problem,) = problems
    assert problem.offset == starts[10] and "data CRC" in problem.message and problem.partial
    assert sum(len(v) for v in scalars.values()) == 120 - 1


@pytest.mark.parametrize("record, lost", [(10, 1), (0, 0), (1, 1)])
def test_bad_length_crc_resynchronises(tmp_path, record, lost):
    src = write_tbx(tmp_path / "src", extras=False)
    starts = _record_starts(src)
    data = bytearray(open(src, "rb").read())
    data[starts[record]] ^= 0x40  # the length itself: the walk cannot trust it
    scalars, problems = read_tfevents(_damaged_copy(src, tmp_path / "e", bytes(data)))
    (problem,) = problems
    assert problem.offset == starts[record] and "length CRC" in problem.message and problem.partial
    assert f"skipped {starts[record + 1] - starts[record]} bytes" in problem.message
    assert sum(len(v) for v in scalars.values()) == 120 - lost


def test_bad_data_crc_in_a_large_tensor_file_and_in_an_irregular_record(tmp_path):
    events = [scalar_event("loss", float(i), i, dtype=types_pb2.DT_FLOAT, float_val=[float(i)]) for i in range(500)]
    merged = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="m", simple_value=1.0)] * 3)
    events.insert(300, event_pb2.Event(wall_time=3.0, step=300, summary=merged))
    path = write_events(tmp_path / "src", events)
    starts = _record_starts(path)
    data = bytearray(open(path, "rb").read())
    data[starts[250] + 30] ^= 0x01  # a regular record (bulk path)
    data[starts[300] + 20] ^= 0x01  # the merged record (exact path)
    scalars, problems = read_tfevents(_damaged_copy(path, tmp_path / "e", bytes(data)))
    (problem,) = problems
    assert problem.offset == starts[250] and problem.message.startswith("2 record(s) with a data CRC mismatch")
    assert "m" not in scalars and len(scalars["loss"]) == 499
    assert 250 not in scalars["loss"].steps


def test_records_without_wall_time_or_data_are_walked_one_by_one(tmp_path):
    events = [scalar_event("a", 1.0, 1), event_pb2.Event(), scalar_event("a", 2.0, 2, wall=0.0),
              event_pb2.Event(step=5), scalar_event("a", 3.0, 3)] * 10
    scalars, problems = read_tfevents(write_events(tmp_path / "e", events))
    assert problems == []
    np.testing.assert_array_equal(scalars["a"].steps, [1, 2, 3] * 10)
    np.testing.assert_array_equal(scalars["a"].wall_times, [1e9, 0.0, 1e9] * 10)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_is_a_problem(tmp_path):
    path = write_tbx(tmp_path, n=3, extras=False)
    os.chmod(path, 0)
    scalars, problems = read_tfevents(path)
    assert scalars == {} and "cannot read" in problems[0].message and path in problems[0].describe()


def _points(scalars) -> set:
    return {(tag, int(step), float(value)) for tag, raw in scalars.items()
            for step, value in zip(raw.steps, raw.values)}


def test_random_damage_never_raises_and_keeps_only_true_points(tmp_path):
    src = write_tbx(tmp_path / "src")
    original = open(src, "rb").read()
    truth = _points(read_tfevents(src)[0])
    rng = np.random.default_rng(42)
    for trial in range(60):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        if trial % 3 == 0:
            data = data[:int(rng.integers(len(data)))]
        scalars, problems = read_tfevents(_damaged_copy(src, tmp_path / "e", bytes(data)))
        assert problems, trial  # every flipped bit breaks a CRC somewhere
        assert _points(scalars) <= truth, trial


def test_zero_byte_file_is_empty_without_problem(tmp_path):
    path = _damaged_copy(None, tmp_path / "events.out.tfevents.1.h", b"")
    assert read_tfevents(path) == ({}, [])


@pytest.mark.parametrize("content", [b"\x00", b"garbage that is not an event file at all" * 10, bytes(range(256)) * 40])
def test_garbage_is_not_an_event_file(tmp_path, content):
    path = _damaged_copy(None, tmp_path / "events.out.tfevents.1.h", content)
    scalars, problems = read_tfevents(path)
    assert scalars == {}
    (problem,) = problems
    assert "not a TensorBoard event file" in problem.message and not problem.partial and problem.offset == 0


def test_malformed_protobuf_with_good_crcs_is_reported(tmp_path):
    good = scalar_event("a", 1.0, 1).SerializeToString()
    path = tmp_path / "e"
    with open(path, "wb") as handle:
        handle.write(frame(good) + frame(b"\x2a\xff\xff\xff") + frame(good))
    scalars, problems = read_tfevents(str(path))
    assert len(scalars["a"]) == 2
    (problem,) = problems
    assert "malformed" in problem.message and problem.offset == len(frame(good))


def test_missing_file_is_a_problem_not_an_exception(tmp_path):
    scalars, problems = read_tfevents(str(tmp_path / "nope"))
    assert scalars == {} and "cannot read" in problems[0].message


# --- the fast path agrees with the exact one ---------------------------------------------

def _exact(path) -> dict:
    raw = open(path, "rb").read()
    buf = np.zeros(len(raw) + PADDING, np.uint8)
    buf[:len(raw)] = np.frombuffer(raw, np.uint8)
    framing = _tfframing.frame_records(buf, len(raw))
    columns = _tfdecode.decode_slow(buf, framing.starts + 12, framing.lengths, np.arange(len(framing.starts)))[0]
    return columns.by_tag(RawScalars)


def _assert_same(got: dict, want: dict):
    assert list(got) == list(want)  # same tags, in order of first appearance
    for tag in want:
        np.testing.assert_array_equal(got[tag].steps, want[tag].steps, err_msg=tag)
        np.testing.assert_array_equal(got[tag].values, want[tag].values, err_msg=tag)
        np.testing.assert_array_equal(got[tag].wall_times, want[tag].wall_times, err_msg=tag)


def test_fast_path_matches_exact_decoder_on_a_mixed_file(tmp_path):
    rng = np.random.default_rng(1)
    events = []
    for i in range(3000):
        tag = ["loss", "lr", "a/very/long/tag/name/" * 8, "acc"][i % 4]
        step = int(rng.choice([0, i, 2 ** 20 + i, -i]))
        if i % 3:
            events.append(scalar_event(tag, float(rng.normal()), step, wall=1e9 + i))
        else:
            events.append(scalar_event(tag + "_t", 0, step, wall=1e9 + i, dtype=types_pb2.DT_FLOAT,
                                       float_val=[float(rng.normal())]))
    path = write_events(tmp_path / "e", events)
    got, problems = read_tfevents(path)
    assert problems == []
    _assert_same(got, _exact(path))
    assert sum(len(v) for v in got.values()) == 3000
    # and the bulk path really did the work
    raw = open(path, "rb").read()
    buf = np.zeros(len(raw) + PADDING, np.uint8)
    buf[:len(raw)] = np.frombuffer(raw, np.uint8)
    framing = _tfframing.frame_records(buf, len(raw))
    columns, leftover, bad = _tffast.decode_regular(buf, framing.starts + 12, framing.lengths)
    assert len(columns.record) == 3000 and len(leftover) == 0 and len(bad) == 0


def test_many_tags_of_equal_length_stay_on_the_bulk_path(tmp_path):
    tags = [f"layer{i:03d}/grad_norm" for i in range(120)]
    events = [scalar_event(tag, i + step / 100, step) for step in range(20) for i, tag in enumerate(tags)]
    path = write_events(tmp_path / "e", events)
    scalars, problems = read_tfevents(path)
    assert problems == [] and list(scalars) == tags
    np.testing.assert_array_equal(scalars["layer007/grad_norm"].values, np.float32(7 + np.arange(20) / 100))
    raw = open(path, "rb").read()
    buf = np.zeros(len(raw) + PADDING, np.uint8)
    buf[:len(raw)] = np.frombuffer(raw, np.uint8)
    framing = _tfframing.frame_records(buf, len(raw))
    _, leftover, _ = _tffast.decode_regular(buf, framing.starts + 12, framing.lengths)
    assert len(leftover) == 0


# --- real corpus -------------------------------------------------------------------------

def _real_files():
    if not os.path.isdir(REAL_TB):
        return []
    return sorted(glob.glob(os.path.join(REAL_TB, "**", "events.out.tfevents.*"), recursive=True))


def test_real_corpus_matches_event_accumulator():
    files = _real_files()
    if not files:
        pytest.skip("../shared/real_logs is absent")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    checked = 0
    for path in files:
        if os.path.getsize(path) > 1_000_000 and checked > 5:
            continue
        scalars, problems = read_tfevents(path)
        assert problems == [], path
        acc = EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 0}, purge_orphaned_data=False)
        acc.Reload()
        want = {}
        for tag in acc.Tags()["scalars"]:
            events = acc.Scalars(tag)
            want[tag] = ([e.step for e in events], [e.value for e in events])
        for tag in acc.Tags()["tensors"]:
            meta = acc.SummaryMetadata(tag)
            if meta.plugin_data.plugin_name == "scalars":
                events = acc.Tensors(tag)
                want[tag] = ([e.step for e in events], [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events])
        assert set(scalars) == set(want), path
        for tag, (steps, values) in want.items():
            np.testing.assert_array_equal(scalars[tag].steps, steps, err_msg=f"{path} {tag}")
            np.testing.assert_allclose(scalars[tag].values, values, rtol=1e-6, err_msg=f"{path} {tag}")
        checked += 1
    assert checked >= 10
