"""The event-file reader streams the file in windows: any window size gives the same scalars and problems."""
from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.readers import tfevents
from test_tfevents import frame, scalar_event, write_tbx


def _read(path, window, monkeypatch):
    monkeypatch.setattr(tfevents, "WINDOW", window)
    scalars, problems = tfevents.read_tfevents(path)
    return ({tag: (s.steps.tolist(), s.wall_times.tolist(), s.values.tolist()) for tag, s in scalars.items()},
            [(p.offset, p.message, p.partial) for p in problems])


def _variants(tmp_path) -> list[str]:
    """A tensorboardX file (scalars, histograms, text) and damaged copies of it."""
    original = write_tbx(tmp_path / "tbx", n=80)
    data = open(original, "rb").read()
    rng = np.random.default_rng(0)
    out = [original]
    for i in range(12):
        damaged = bytearray(data)
        kind = i % 4
        if kind == 0:  # a flipped byte
            at = int(rng.integers(0, len(damaged)))
            damaged[at] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # cut
            damaged = damaged[: int(rng.integers(1, len(damaged)))]
        elif kind == 2:  # a run of garbage
            at = int(rng.integers(0, len(damaged) - 40))
            damaged[at:at + 37] = rng.integers(0, 256, 37, dtype=np.uint8).tobytes()
        else:  # a record longer than small windows, between good ones
            big = scalar_event("big", 1.0, 3).SerializeToString() + b"\x1a" + bytes([120]) + b"x" * 120
            damaged = damaged[:len(damaged) // 2] + frame(big) + damaged[len(damaged) // 2:]
        path = tmp_path / f"events.out.tfevents.{i}.damaged"
        path.write_bytes(bytes(damaged))
        out.append(str(path))
    return out


@pytest.mark.parametrize("window", [16, 61, 500, 4096])
def test_small_windows_read_what_one_window_reads(tmp_path, monkeypatch, window):
    for path in _variants(tmp_path):
        assert _read(path, window, monkeypatch) == _read(path, 1 << 30, monkeypatch), path


def _foreign_tensor_then_scalars(tmp_path) -> str:
    """A tag whose first points are tensors another plugin owns (dropped), then simple values; a tag whose
    steps are 0 for a while and then not; a tag whose steps are all 0."""
    from test_tfevents import event_pb2, summary_pb2, tensor_pb2, types_pb2, write_events

    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="hparams"))
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0])
    events = [event_pb2.Event(wall_time=5.0, step=1, summary=summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="x", tensor=tensor, metadata=meta)]))]
    for i in range(60):
        events.append(scalar_event("x", float(i), i, wall=10.0 + i))
        events.append(scalar_event("late", float(i), 0 if i < 40 else i, wall=200.0 - i))
        events.append(scalar_event("zero", float(i), 0, wall=300.0 + (i * 7) % 60))
    return write_events(tmp_path / "events.out.tfevents.1.mixed", events)


@pytest.mark.parametrize("window", [16, 61, 500, 1 << 30])
def test_without_wall_times_only_the_clock_the_merge_needs_is_kept(tmp_path, monkeypatch, window):
    monkeypatch.setattr(tfevents, "WINDOW", window)
    for path in [*_variants(tmp_path), _foreign_tensor_then_scalars(tmp_path)]:
        full, problems = tfevents.read_tfevents(path)
        lean, lean_problems = tfevents.read_tfevents(path, wall_times=False)
        assert lean_problems == problems and list(lean) == list(full), path
        for tag, raw in full.items():
            np.testing.assert_array_equal(lean[tag].steps, raw.steps)
            np.testing.assert_array_equal(lean[tag].values, raw.values)
            assert lean[tag].first_wall == raw.first_wall == raw.wall_times[0], (path, tag)
            if raw.steps.any():
                assert lean[tag].wall_times is None, (path, tag)
            else:  # every step 0: merge.py orders the points by clock
                np.testing.assert_array_equal(lean[tag].wall_times, raw.wall_times)
    mixed = tfevents.read_tfevents(path, wall_times=False)[0]
    assert mixed["x"].first_wall == 10.0 and mixed["late"].wall_times is None and len(mixed["zero"].wall_times) == 60
