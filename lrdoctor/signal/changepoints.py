"""Change at a known point: the levels of a curve on either side of a step (an LR decay), and where a
level change got half way."""
from __future__ import annotations

import numpy as np

def phase_halves(steps, values, at_step: int, *, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """The values in the second half of the phase [start, at_step) and in the first half of [at_step, end).

    Around an LR decay: where the phase before it had settled, and where the next phase went first.
    Half a phase on each side uses every point that belongs to one level, not a fixed few.

    >>> b, a = phase_halves([0, 1, 2, 3, 4, 5, 6, 7], [9.0, 5.0, 4.0, 4.0, 1.0, 1.0, 2.0, 3.0], 4, start=0, end=8)
    >>> b.tolist(), a.tolist()
    ([4.0, 4.0], [1.0, 1.0])
    """
    x = np.asarray(steps, dtype=float)
    y = np.asarray(values, dtype=float)
    before = (x >= (start + at_step) / 2.0) & (x < at_step)
    after = (x >= at_step) & (x < (at_step + end) / 2.0)
    return y[before], y[after]


def halfway_index(level, i_from: int, start: float, end: float) -> int:
    """The first index at or after ``i_from`` where ``level`` got half way from ``start`` to ``end`` (rising
    or falling); ``i_from`` when it never did.  Where a blow-up or a collapse began, as a step to report.

    >>> halfway_index([1.0, 0.9, 1.0, 3.0, 5.0], 1, 0.9, 5.0), halfway_index([0.3, 0.29, 0.1], 0, 0.3, 0.1)
    (3, 2)
    """
    y = np.asarray(level, dtype=float)[i_from:]
    mid = start + 0.5 * (end - start)
    crossed = np.flatnonzero(y >= mid) if end >= start else np.flatnonzero(y <= mid)
    return i_from + int(crossed[0]) if crossed.size else i_from
