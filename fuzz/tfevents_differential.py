"""Differential check of lrdoctor's event-file reader against TensorBoard's own parsing.

For one event file:

* **framing** - TensorBoard's record reader (``tensorboard.compat.tensorflow_stub``'s
  ``PyRecordReader_New``, what TensorBoard uses without TensorFlow) reads records until the end of the
  file or the first damage.  The records it returns must be exactly the first records lrdoctor frames;
  if it read the whole file cleanly, lrdoctor must frame the same records and report nothing, and if it
  stopped at damage, lrdoctor must report a problem.
* **decoding** - every record lrdoctor framed whose data CRC verifies is parsed with TensorBoard's
  ``event_pb2.Event``.  Records protobuf refuses must be the ones lrdoctor reports as malformed; from
  the others, the scalars TensorBoard would show (``simple_value``, or a numeric rank-0 tensor, except
  tensors of tags whose metadata names another plugin) must be exactly the steps, wall times and values
  ``read_tfevents`` returns, tag by tag, in file order.

``check(path)`` returns a list of discrepancies (empty: agreed).  An exception out of lrdoctor's reader
is a discrepancy too ("escaped").
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

# lrdoctor's dtype policy for tensor_content (DataType -> numpy dtype) and the TensorProto field holding
# typed values; bool content is read as its byte, as lrdoctor does.
_CONTENT = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "u1", 14: "bf16", 17: "<u2",
            19: "<f2", 22: "<u4", 23: "<u8"}
_FIELD = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val", 9: "int64_val",
          10: "bool_val", 14: "half_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val"}


class Verdict(NamedTuple):
    problems: list  # lrdoctor's Problems
    discrepancies: list[str]
    tb_clean: bool  # TensorBoard read the whole file without damage
    points: int  # scalar points lrdoctor returned


def tb_records(path: str) -> tuple[list[bytes], bool]:
    """The records TensorBoard's record reader returns, and whether it reached the end cleanly."""
    from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow

    reader = pywrap_tensorflow.PyRecordReader_New(path)
    records = []
    try:
        while True:
            try:
                reader.GetNext()
            except errors.OutOfRangeError:
                return records, True
            except errors.DataLossError:
                return records, False
            records.append(reader.record())
    finally:
        reader.file_handle.close()


def _scalar(tensor) -> float | None:
    dtype = tensor.dtype
    if dtype not in _CONTENT or len(tensor.tensor_shape.dim) != 0:
        return None
    if tensor.tensor_content:
        raw, kind = tensor.tensor_content, _CONTENT[dtype]
        if kind == "bf16":
            return float(np.frombuffer(b"\0\0" + raw, "<f4")[0]) if len(raw) == 2 else None
        dt = np.dtype(kind)
        return float(np.frombuffer(raw, dt)[0]) if len(raw) == dt.itemsize else None
    values = list(getattr(tensor, _FIELD[dtype]))
    if len(values) != 1:
        return None
    v = values[0]
    if dtype == 19:
        return float(np.array([v & 0xFFFF], np.uint16).view(np.float16)[0])
    if dtype == 14:
        return float(np.array([(v & 0xFFFF) << 16], np.uint32).view(np.float32)[0])
    return float(bool(v)) if dtype == 10 else float(v)


def tb_scalars(records: list[bytes]) -> tuple[dict, set[int]]:
    """{tag: (steps, walls, values)} as TensorBoard parses ``records``, and the indices protobuf refuses."""
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2

    points: dict[str, list] = {}
    plugins: dict[str, set] = {}
    refused = set()
    for index, record in enumerate(records):
        try:
            event = event_pb2.Event.FromString(record)
        except (DecodeError, RuntimeError, ValueError):
            refused.add(index)
            continue
        if event.WhichOneof("what") != "summary":
            continue
        for value in event.summary.value:
            which = value.WhichOneof("value")
            if which == "tensor" and value.HasField("metadata"):
                plugins.setdefault(value.tag, set()).add(value.metadata.plugin_data.plugin_name)
            if which == "simple_value":
                points.setdefault(value.tag, []).append((event.step, event.wall_time, float(value.simple_value), False))
            elif which == "tensor":
                scalar = _scalar(value.tensor)
                if scalar is not None:
                    points.setdefault(value.tag, []).append((event.step, event.wall_time, scalar, True))
    foreign = {tag for tag, names in plugins.items() if names - {"scalars", ""}}
    out = {}
    for tag, rows in points.items():
        rows = [r for r in rows if not (r[3] and tag in foreign)]
        if rows:
            out[tag] = tuple(np.array(column, dtype) for column, dtype in
                             zip(list(zip(*rows))[:3], (np.int64, np.float64, np.float64)))
    return out, refused


def _our_records(path: str):
    """lrdoctor's framing of the whole file: the records, which fail their data CRC, which it calls malformed."""
    from lrdoctor.readers._crc32c_np import masked_crc
    from lrdoctor.readers._tfdecode import decode_records
    from lrdoctor.readers._tfframing import HEADER, PADDING, frame_records

    data = open(path, "rb").read()
    buf = np.zeros(len(data) + PADDING, np.uint8)
    buf[:len(data)] = np.frombuffer(data, np.uint8)
    framing = frame_records(buf, len(data))
    records, crc_ok = [], []
    for start, length in zip(framing.starts.tolist(), framing.lengths.tolist()):
        body = data[start + HEADER:start + HEADER + length]
        records.append(body)
        stored = struct.unpack_from("<I", data, start + HEADER + length)[0]
        crc_ok.append(masked_crc(body) == stored)
    decoded = decode_records(buf, framing.starts + HEADER, framing.lengths)
    return records, crc_ok, set(decoded.malformed.tolist())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def check(path: str) -> Verdict:
    from lrdoctor.readers.tfevents import read_tfevents

    try:
        scalars, problems = read_tfevents(path)
    except Exception as exc:  # the reader must never raise
        return Verdict([], [f"escaped: {type(exc).__name__}: {exc}"], False, 0)
    out: list[str] = []
    tb, clean = tb_records(path)
    ours, crc_ok, malformed = _our_records(path)
    if ours[:len(tb)] != tb:
        out.append(f"framing: TensorBoard's {len(tb)} records are not lrdoctor's first ones")
    if clean and (len(ours) != len(tb) or not all(crc_ok)):
        out.append(f"framing: TensorBoard read {len(tb)} records cleanly, lrdoctor framed {len(ours)}")
    if not clean and not problems:
        out.append("framing: TensorBoard stopped at damage that lrdoctor did not report")
    good = [r for r, ok in zip(ours, crc_ok) if ok]
    good_index = [i for i, ok in enumerate(crc_ok) if ok]
    expected, refused = tb_scalars(good)
    refused = {good_index[i] for i in refused}
    if refused - malformed:
        out.append(f"decoding: protobuf refuses record(s) {sorted(refused - malformed)[:5]} that lrdoctor reads without a word")
    if malformed - refused:
        out.append(f"decoding: lrdoctor drops record(s) {sorted(malformed - refused)[:5]} that protobuf reads")
    if not (refused - malformed) and not (malformed - refused):
        got = {tag: (s.steps, s.wall_times, s.values) for tag, s in scalars.items()}
        if set(got) != set(expected):
            out.append(f"values: tags differ: lrdoctor {sorted(got)[:5]}, TensorBoard {sorted(expected)[:5]}")
        for tag in set(got) & set(expected):
            if not all(_same(np.asarray(a), b) for a, b in zip(got[tag], expected[tag])):
                out.append(f"values: tag {tag!r} differs (lrdoctor {len(got[tag][0])} points, TensorBoard {len(expected[tag][0])})")
    return Verdict(problems, out, clean, sum(len(s) for s in scalars.values()))
