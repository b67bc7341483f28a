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
