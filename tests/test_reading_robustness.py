"""Text logs as they are found (review findings, each reproduced first).

A block of NUL bytes inside a text log (``copytruncate`` log rotation, a node that crashed mid-write)
costs only itself; a binary file is still refused; a big job stdout that opens with chatter is still
read; a CSV saved as ``.txt`` skips the console parse."""
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


def test_a_big_stdout_that_opens_with_chatter_is_still_read(tmp_path):
    """Found in review: a job's stdout over 8 MiB whose first MiB is set-up chatter (NCCL lines) was
    passed over without a word; its middle and end are looked at too."""
    chatter = "".join(f"NCCL INFO rank {i % 8} channel {i % 32} via P2P/IPC setup done\n" for i in range(30000))
    epochs = range(1, 250001)
    body = "".join(f"Epoch {e}/250000 - loss: {2 * math.exp(-e / 60000):.4f}\n" for e in epochs)
    (tmp_path / "job.log").write_text(chatter + body)
    assert (tmp_path / "job.log").stat().st_size > 8 << 20
    runs, _ = lrdoctor.read_runs(tmp_path)
    assert len(runs) == 1 and len(runs[0].get("train_loss")) == 250000


def test_a_csv_saved_as_txt_skips_the_console_parse(tmp_path, monkeypatch):
    """Found in review: a CSV named out.txt went through the console reader first (16 s for 50 MB, 2 s as
    .csv).  A comma table with a header of names and numeric rows goes straight to the CSV reader."""
    from lrdoctor.readers import console

    def no_console(*args, **kwargs):
        raise AssertionError("console parse of a plain CSV")

    monkeypatch.setattr(console, "read_console_text", no_console)
    (tmp_path / "out.txt").write_text("step,loss,lr\n" + "".join(f"{s},{2 * 0.99 ** s:.5f},0.001\n" for s in range(200)))
    (run,), _ = lrdoctor.read_runs(tmp_path)
    assert len(run.get("train_loss")) == 200
