"""Change points: the single largest shift in level of a curve (CUSUM / binary split)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import MAD_TO_SIGMA


@dataclass(frozen=True)
class LevelShift:
    index: int  # first index of the second segment
    before: float  # median level before
    after: float  # median level after
    z: float  # shift in units of the pooled robust noise


def level_shift(values, *, min_size: int = 3) -> LevelShift | None:
    """The split of ``values`` into two segments that best explains it (least squares), with its size.

    >>> s = level_shift([1.0, 1.1, 0.9, 1.0, 5.0, 5.1, 4.9, 5.0])
    >>> s.index, s.before, s.after
    (4, 1.0, 5.0)
    """
    y = np.asarray(values, dtype=float)
    n = y.size
    if n < 2 * min_size:
        return None
    csum, csq = np.cumsum(y), np.cumsum(y * y)
    best_k, best_cost = min_size, np.inf
    for k in range(min_size, n - min_size + 1):
        left = csq[k - 1] - csum[k - 1] ** 2 / k
        right = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (n - k)
        if left + right < best_cost:
            best_k, best_cost = k, left + right
    a, b = y[:best_k], y[best_k:]
    mad = np.median(np.abs(np.r_[a - np.median(a), b - np.median(b)])) * MAD_TO_SIGMA
    z = abs(float(np.median(b) - np.median(a))) / mad if mad > 0 else np.inf
    return LevelShift(best_k, float(np.median(a)), float(np.median(b)), float(z))


def change_at(steps, values, at_step: int, *, window: int = 5) -> tuple[float, float]:
    """Median of up to ``window`` points before and after ``at_step`` (to read a drop after an LR decay).

    >>> change_at([0, 1, 2, 3, 4, 5], [2.0, 2.0, 2.0, 1.0, 1.0, 1.0], 3, window=3)
    (2.0, 1.0)
    """
    x = np.asarray(steps)
    y = np.asarray(values, dtype=float)
    i = int(np.searchsorted(x, at_step))
    before, after = y[max(0, i - window) : i], y[i : i + window]
    if before.size == 0 or after.size == 0:
        return float("nan"), float("nan")
    return float(np.median(before)), float(np.median(after))
