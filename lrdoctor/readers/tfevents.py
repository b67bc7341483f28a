"""Read the scalars of one TensorBoard event file, fast, tolerating damage.

    >>> scalars, problems = read_tfevents("run/events.out.tfevents.123.host")   # doctest: +SKIP
    >>> scalars["train/loss"].steps, scalars["train/loss"].values               # doctest: +SKIP

What counts as a scalar: a ``Summary.Value`` with ``simple_value`` (TF1, torch, tensorboardX),
or one whose ``tensor`` is a rank-0 numeric tensor (TF2 / ``tensorboard.summary.Writer``:
float, double, half, bfloat16, signed/unsigned ints, bool) - unless that tag's metadata in this
file names a plugin other than ``scalars`` (hparams, text, ... store rank-0 tensors too).  A
rank-0 numeric tensor whose tag never carries metadata is kept: TF's writers strip metadata
after a tag's first value, and a bare number is a scalar.  Histograms, images, audio, graphs,
string tensors and tensors of rank > 0 are skipped without decoding them.

Points come back in file order, not sorted and not de-duplicated; merging files, ordering and
restarts are the caller's business (readers/merge.py).

Bad content never raises.  It becomes a ``Problem`` naming the file and byte offset; see
_tfframing.py for what is kept around truncation and CRC damage.  CRCs are always checked.
An OS error (missing file, no permission) is also returned as a Problem (``partial=False``,
no data) rather than raised, so one unreadable file cannot stop the others.  An empty file is
not an error: no scalars, no problem (TensorBoard writers create the file before writing).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..model import Problem
from ._tfframing import HEADER, PADDING, frame_records
from ._tfdecode import decode_records


@dataclass(frozen=True, eq=False)
class RawScalars:
    """One tag's points in file order: int64 steps, float64 wall times and values."""

    steps: np.ndarray
    wall_times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.steps.shape[0])


def read_tfevents(path: str) -> tuple[dict[str, RawScalars], list[Problem]]:
    """Every scalar in the event file at ``path``, by tag, plus what went wrong reading it."""
    path = os.fspath(path)
    try:
        buf, size = _load(path)
    except OSError as exc:
        return {}, [Problem(path, f"cannot read event file: {exc.strerror or exc}")]
    if size == 0:
        return {}, []
    framing = frame_records(buf, size)
    problems = [Problem(path, message, partial=partial, offset=offset)
                for offset, message, partial in framing.problems]
    decoded = decode_records(buf, framing.starts + HEADER, framing.lengths)
    for indices, what in ((decoded.bad_crc, "with a data CRC mismatch"), (decoded.malformed, "that are malformed events")):
        if len(indices):
            problems.append(Problem(path, f"{len(indices)} record(s) {what} skipped (the first at this offset)",
                                    partial=True, offset=int(framing.starts[indices[0]])))
    problems.sort(key=lambda problem: problem.offset or 0)
    return decoded.columns.by_tag(RawScalars), problems


def _load(path: str) -> tuple[np.ndarray, int]:
    """The whole file in a numpy buffer followed by PADDING zero bytes."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        buf = np.zeros(size + PADDING, np.uint8)
        got = handle.readinto(memoryview(buf)[:size])
    return buf, got
