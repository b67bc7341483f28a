"""Write the seed corpus of the event-file fuzzers (fuzz/corpus/tfevents), a few small files:

    python fuzz/tfevents_seeds.py

simple_value scalars as torch/tensorboardX write them (with a histogram and a text summary), TF2
rank-0 tensors of every numeric dtype (typed fields and tensor_content, with and without scalars
metadata, one without tensor_shape), an hparams-plugin tensor, a TF1 merged summary with several
values per event, and events without wall time or step.  Deterministic: fixed wall times.
"""
from __future__ import annotations

import os
import struct
import sys

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tfevents_mutate import CORPUS, frame  # noqa: E402

SCALARS = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
HPARAMS = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="hparams"))
SHAPE = tensor_shape_pb2.TensorShapeProto()


def _event(step, values, wall=1.7e9, **kw) -> bytes:
    return event_pb2.Event(wall_time=wall + step, step=step, summary=summary_pb2.Summary(value=values), **kw).SerializeToString()


def _simple(tag, v):
    return summary_pb2.Summary.Value(tag=tag, simple_value=v)


def _tensor(tag, meta=SCALARS, shape=True, **fields):
    proto = tensor_pb2.TensorProto(tensor_shape=SHAPE, **fields) if shape else tensor_pb2.TensorProto(**fields)
    return summary_pb2.Summary.Value(tag=tag, tensor=proto, metadata=meta) if meta else summary_pb2.Summary.Value(tag=tag, tensor=proto)


def files() -> dict[str, list[bytes]]:
    version = event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()
    simple = [version] + [_event(s, [_simple("train/loss", 2.0 * 0.9 ** s)]) for s in range(12)]
    simple += [_event(s, [_simple("lr", 1e-3)]) for s in range(0, 12, 3)]
    histo = summary_pb2.HistogramProto(min=0, max=1, num=3, sum=1.5, sum_squares=1.0, bucket_limit=[0.5, 1.0], bucket=[1, 2])
    simple.append(_event(12, [summary_pb2.Summary.Value(tag="w", histo=histo)]))
    text = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"hello"], tensor_shape=SHAPE)
    simple.append(_event(12, [summary_pb2.Summary.Value(tag="note", tensor=text)]))
    tf2 = [version]
    for s, (dtype, fields) in enumerate([
            (types_pb2.DT_FLOAT, {"float_val": [0.5]}), (types_pb2.DT_DOUBLE, {"double_val": [0.25]}),
            (types_pb2.DT_INT32, {"int_val": [-3]}), (types_pb2.DT_INT64, {"int64_val": [2**40]}),
            (types_pb2.DT_HALF, {"half_val": [0x3C00]}), (types_pb2.DT_BFLOAT16, {"half_val": [0x3F80]}),
            (types_pb2.DT_BOOL, {"bool_val": [True]}), (types_pb2.DT_UINT32, {"uint32_val": [7]}),
            (types_pb2.DT_UINT64, {"uint64_val": [2**63]}), (types_pb2.DT_UINT8, {"int_val": [200]}),
            (types_pb2.DT_FLOAT, {"tensor_content": np.float32(1.5).tobytes()}),
            (types_pb2.DT_DOUBLE, {"tensor_content": np.float64(-2.5).tobytes()}),
            (types_pb2.DT_FLOAT, {"float_val": [1.0, 2.0]})]):
        tf2.append(_event(s, [_tensor(f"t{dtype}", dtype=dtype, **fields)]))
    tf2 += [_event(s, [_tensor("epoch_loss", meta=None, dtype=types_pb2.DT_FLOAT, float_val=[1.0 / (s + 1)])]) for s in range(5)]
    tf2.append(_event(6, [_tensor("no_shape", meta=None, shape=False, dtype=types_pb2.DT_FLOAT, float_val=[0.75])]))
    tf2.append(_event(7, [_tensor("hp", meta=HPARAMS, dtype=types_pb2.DT_FLOAT, float_val=[1.0])]))
    merged = [_event(s, [_simple("loss", 1.0 / (s + 1)), _simple("acc", s / 10), _simple("lr", 0.1)]) for s in range(8)]
    odd = [event_pb2.Event(step=s, summary=summary_pb2.Summary(value=[_simple("loss", float(s))])).SerializeToString() for s in range(3)]
    odd += [event_pb2.Event(wall_time=1.7e9, summary=summary_pb2.Summary(value=[_simple("loss", 9.0)])).SerializeToString()]
    odd += [_event(-5, [_simple("loss", float("nan"))]), _event(2**40, [_simple("loss", float("inf"))]), b""]
    return {"simple.tfevents": simple, "tf2_tensors.tfevents": tf2, "tf1_merged.tfevents": merged, "odd.tfevents": odd}


def main() -> None:
    os.makedirs(CORPUS, exist_ok=True)
    for name, records in files().items():
        with open(os.path.join(CORPUS, name), "wb") as fh:
            fh.write(b"".join(frame(r) for r in records))
    print(f"wrote {len(files())} seeds to {CORPUS}")


if __name__ == "__main__":
    main()
