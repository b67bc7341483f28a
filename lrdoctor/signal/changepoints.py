"""Change at a known point: the level of a curve just before and just after a step (an LR decay)."""
from __future__ import annotations

import numpy as np

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
