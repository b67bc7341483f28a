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


@pytest.mark.parametrize("window", [16, 61, 500, 1 << 30])
def test_steps_kept_as_progressions_come_back_exact_and_shared(tmp_path, monkeypatch, window):
    from test_tfevents import write_events

    monkeypatch.setattr(tfevents, "WINDOW", window)
    top = 2 ** 63 - 1
    steps = {"a": list(range(40)), "b": list(range(40)), "c": list(range(0, 400, 10)),
             "top": [top - 39 + i for i in range(40)], "bottom": [-(2 ** 63) + 3 * i for i in range(40)],
             "odd": [i * i for i in range(40)]}
    events = [scalar_event(tag, float(i), s[i], wall=1.0 + i) for i in range(40) for tag, s in steps.items()]
    scalars, problems = tfevents.read_tfevents(write_events(tmp_path / "events.out.tfevents.1.p", events), wall_times=False)
    assert problems == []
    for tag, want in steps.items():
        assert scalars[tag].steps.dtype == np.int64 and scalars[tag].steps.tolist() == want, tag
        assert scalars[tag].values.tolist() == [float(i) for i in range(40)]
    if window == 1 << 30:  # (small windows cut pieces of one point, which are kept as they are)
        assert scalars["a"].steps is scalars["b"].steps and not scalars["a"].steps.flags.writeable
    assert scalars["c"].steps is not scalars["a"].steps


def test_progressions_join_only_where_one_continues_the_other():
    from lrdoctor.readers._tfcolumns import Progression, compact, join

    pieces = [compact(np.arange(0, 10)), compact(np.arange(10, 20)), compact(np.array([25, 26, 30])),
              compact(np.arange(31, 35)), compact(np.zeros(5, bool)), ]
    assert isinstance(pieces[0], Progression) and not isinstance(pieces[2], Progression)
    assert join(pieces[:2], keep_compact=True).key() == (0, 1, 20, "<i8")
    np.testing.assert_array_equal(join(pieces[:4]), np.r_[np.arange(20), 25, 26, 30, np.arange(31, 35)])
    assert join([pieces[4]]).dtype == bool and not join([pieces[4]]).any()
    assert not isinstance(compact(np.array([True, False, False])), Progression)
