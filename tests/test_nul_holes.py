"""A block of NUL bytes inside a text log (``copytruncate`` log rotation, a node that crashed mid-write)
costs only itself: the text around it is read and the hole is reported.  Found in review: such a
console log vanished without a word.  A binary file is still refused."""
from __future__ import annotations

import math

import lrdoctor
from lrdoctor.readers.textfile import text_of


def _keras_lines(epochs):
    return "".join(f"Epoch {e}/30 - loss: {2 * math.exp(-e / 8):.4f} - val_loss: {2.1 * math.exp(-e / 8):.4f}\n"
                   for e in epochs)


def test_a_nul_hole_in_a_console_log_is_skipped_and_reported(tmp_path):
    data = _keras_lines(range(1, 16)).encode() + b"\x00" * 4096 + _keras_lines(range(16, 31)).encode()
    (tmp_path / "train.log").write_bytes(data)
    runs, _ = lrdoctor.read_runs(tmp_path)
    (run,) = runs
    assert len(run.get("train_loss")) == 30
    assert any("4096 NUL byte(s)" in p.message for p in run.problems)


def test_binary_content_is_still_refused():
    blob = bytes(range(256)) * 64
    assert text_of(blob).error is not None
