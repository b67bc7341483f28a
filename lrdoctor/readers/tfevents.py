"""Read the scalars of one TensorBoard event file, fast, tolerating damage.

    >>> scalars, problems = read_tfevents("run/events.out.tfevents.123.host")   # doctest: +SKIP
    >>> scalars["train/loss"].steps, scalars["train/loss"].values               # doctest: +SKIP

What counts as a scalar: a ``Summary.Value`` with ``simple_value`` (TF1, torch, tensorboardX),
or one whose ``tensor`` is a rank-0 numeric tensor (TF2 / ``tensorboard.summary.Writer``:
float, double, half, bfloat16, signed/unsigned ints, bool) - unless that tag's metadata in this
file names a plugin other than ``scalars`` (hparams, text, ... store rank-0 tensors too).  A
rank-0 numeric tensor whose tag never carries metadata is kept: TF's writers strip metadata
after a tag's first value, and a bare number is a scalar.  A tensor without ``tensor_shape`` has
rank 0, as TensorBoard reads it.  Histograms, images, audio, graphs, string tensors and tensors of
rank > 0 are skipped without decoding their values.  Every event is read as protobuf reads it (the
last oneof member wins, repeated messages merge, varints keep 64 bits); an event protobuf refuses
(fuzz/tfevents_differential.py compares the two) is skipped and reported, the rest of the file kept.

The file is streamed in windows of ``WINDOW`` bytes, so memory follows the scalars kept rather than
the size of the file.

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
from ._tfcolumns import Progression, compact, join
from ._tfdecode import decode_records
from ._tfproto import SCALARS_PLUGIN


@dataclass(frozen=True, eq=False)
class RawScalars:
    """One tag's points in file order: int64 steps, float64 wall times and values.

    ``wall_times`` is None when the file was read with ``wall_times=False`` and the tag has a step
    other than 0 (see ``read_tfevents``); ``first_wall`` is the wall time of its first point."""

    steps: np.ndarray
    wall_times: np.ndarray | None
    values: np.ndarray
    first_wall: float = float("nan")

    def __len__(self) -> int:
        return int(self.steps.shape[0])


WINDOW = 1 << 22  # bytes of the file read at a time: memory follows the scalars kept, not the file
# A tag's pieces (one per window) are joined into one array once they hold this many points: arrays
# that large get their own memory mapping, which the C allocator returns to the system when they are
# freed, whereas a million small pieces interleaved with the windows' temporaries fragment the heap
# (a 10M-point file peaked at 1.9x the memory of its scalars without this, 1.2x with it).
_CONSOLIDATE = 1 << 21


def read_tfevents(path: str, wall_times: bool = True) -> tuple[dict[str, RawScalars], list[Problem]]:
    """Every scalar in the event file at ``path``, by tag, plus what went wrong reading it.

    The file is streamed: each window of ``WINDOW`` bytes is framed and decoded, and only its scalars
    are kept (a record that runs past the window is read with the next one).

    ``wall_times=False`` keeps a tag's wall times only while every step of it is 0 (a log without a
    step counter, which the caller orders by clock) and otherwise only its first (``first_wall``):
    8 bytes a point less, for a caller that needs them for nothing else."""
    path = os.fspath(path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        return {}, [Problem(path, f"cannot read event file: {exc.strerror or exc}")]
    with handle:
        reader = _Stream(path, wall_times)
        try:
            reader.read(handle)
        except OSError as exc:  # an I/O error mid-file: keep what was read before it
            reader.problems.append(Problem(path, f"cannot read event file: {exc.strerror or exc}",
                                           partial=True, offset=reader.base))
    return reader.result()


class _Stream:
    """One event file read window by window; scalars gathered per tag, problems with file offsets."""

    def __init__(self, path: str, wall_times: bool = True):
        self.path, self.base, self.wall_times = path, 0, wall_times
        self.problems: list[Problem] = []
        self.skipped = {"with a data CRC mismatch": [0, None], "that are malformed events": [0, None]}
        self.columns: dict[str, tuple[list, list, list, list]] = {}  # tag: steps, walls, values, from_tensor
        self.plugins: dict[str, set[str]] = {}
        self.why_malformed = ""
        # tag: wall time of its first point and of its first point not from a tensor (what is kept of
        # it when another plugin owns the tag's tensors), and whether its wall times are all still kept
        self.firsts: dict[str, list] = {}

    def read(self, handle) -> None:
        carry, want = np.zeros(0, np.uint8), WINDOW
        while True:
            buf, size, final = _next_window(handle, carry, want)
            if size == 0:
                return
            framing = frame_records(buf, size, final=final, base=self.base)
            self.problems += [Problem(self.path, message, partial=partial, offset=offset)
                              for offset, message, partial in framing.problems]
            self._keep(decode_records(buf, framing.starts + HEADER, framing.lengths), framing.starts)
            if final:
                return
            carry = buf[framing.resume:size].copy()
            self.base += framing.resume
            want = WINDOW if framing.resume else 2 * want  # a record longer than the window: read more

    def _keep(self, decoded, starts: np.ndarray) -> None:
        for count_first, indices in zip(self.skipped.values(), (decoded.bad_crc, decoded.malformed)):
            if len(indices):
                count_first[0] += len(indices)
                if count_first[1] is None:
                    count_first[1] = self.base + int(starts[indices[0]])
        if len(decoded.malformed) and not self.why_malformed:
            self.why_malformed = decoded.why_malformed
        for tag, arrays in decoded.columns.by_tag_unfiltered().items():
            columns = self.columns.setdefault(tag, ([], [], [], []))
            keeps_walls = self._keeps_walls(tag, arrays)
            for column, array in zip(columns, arrays):
                column.append(compact(array))  # steps 0, 1, 2, ... and all-False flags: three numbers
            if not keeps_walls:
                columns[1][:] = [np.zeros(0)] * len(columns[0])  # placeholders: the pieces stay aligned
            small = [i for i, piece in enumerate(columns[2]) if len(piece) <= _CONSOLIDATE]
            if sum(len(columns[2][i]) for i in small) > _CONSOLIDATE:
                for column in columns:  # the small pieces are the last ones: join them into one large piece
                    column[small[0]:] = [join(column[small[0]:], keep_compact=True)]
        for tag, names in decoded.columns.plugins.items():
            self.plugins.setdefault(tag, set()).update(names)

    def _keeps_walls(self, tag: str, arrays: tuple) -> bool:
        """Note the tag's first wall times; whether its wall times are still all kept (see read_tfevents)."""
        steps, walls, _, from_tensor = arrays
        firsts = self.firsts.setdefault(tag, [float(walls[0]), None, True])
        if firsts[1] is None and not from_tensor.all():
            firsts[1] = float(walls[np.argmin(from_tensor)])
        firsts[2] = firsts[2] and (self.wall_times or not steps.any())
        return firsts[2]

    def result(self) -> tuple[dict[str, RawScalars], list[Problem]]:
        for what, (count, first) in self.skipped.items():
            why = f": {self.why_malformed}" if what == "that are malformed events" and self.why_malformed else ""
            if count:
                self.problems.append(Problem(self.path, f"{count} record(s) {what} skipped (the first at this offset{why})",
                                             partial=True, offset=first))
        self.problems.sort(key=lambda problem: problem.offset or 0)
        foreign = {tag for tag, names in self.plugins.items() if names - {SCALARS_PLUGIN, ""}}
        scalars = {}
        shared: dict[tuple, np.ndarray] = {}  # tags logged at the same steps 0, 1, 2, ... share one array
        for tag in list(self.columns):
            first_any, first_scalar, all_walls = self.firsts.pop(tag)
            series = _joined(self.columns.pop(tag), drop_tensors=tag in foreign, all_walls=all_walls,
                             first_wall=first_scalar if tag in foreign else first_any, shared=shared)
            if series is not None:
                scalars[tag] = series
        return scalars, self.problems


def _joined(columns: tuple[list, list, list, list], drop_tensors: bool, all_walls: bool = True,
            first_wall: float | None = None, shared: dict | None = None) -> RawScalars | None:
    """One tag's windows joined column by column, each column's pieces freed as soon as it is joined.
    Steps that are one progression equal to another tag's of this file (in ``shared``) are that
    tag's array, made read-only (nobody changes a reader's arrays; shared, a write would change two)."""
    steps, walls, values, from_tensor = columns
    keep = ~join(from_tensor) if drop_tensors else None
    from_tensor.clear()
    if not all_walls:
        walls.clear()
    joined = []
    for pieces in (steps, walls, values):
        if not pieces:
            joined.append(None)
            continue
        array = join(pieces, keep_compact=keep is None and shared is not None)
        pieces.clear()
        if isinstance(array, Progression):  # (only steps, and only when nothing is dropped)
            if array.key() not in shared:
                shared[array.key()] = array.array()
            else:
                shared[array.key()].flags.writeable = False
            array = shared[array.key()]
        joined.append(array if keep is None else array[keep])
    if not len(joined[0]):
        return None
    return RawScalars(*joined, float("nan") if first_wall is None else first_wall)


def _next_window(handle, carry: np.ndarray, want: int) -> tuple[np.ndarray, int, bool]:
    """``carry`` and up to ``want`` more bytes of the file, followed by PADDING zero bytes."""
    buf = np.zeros(len(carry) + want + PADDING, np.uint8)
    buf[:len(carry)] = carry
    got, view = 0, memoryview(buf)[len(carry):len(carry) + want]
    while got < want:
        n = handle.readinto(view[got:])
        if not n:
            break
        got += n
    return buf, len(carry) + got, got < want
