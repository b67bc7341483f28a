"""Noise level of a curve: the MAD of its residuals around a robust trend, or of its second differences."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .smoothing import rolling_median

MAD_TO_SIGMA = 1.4826  # MAD of a normal sample times this is its standard deviation


@dataclass(frozen=True)
class Noise:
    sigma: float  # robust standard deviation of the residuals
    trend: np.ndarray  # the rolling-median baseline the residuals are taken from
    values: np.ndarray  # the curve measured (not a copy)

    @property
    def residuals(self) -> np.ndarray:
        """``values - trend``, made when asked: a long curve's residuals are not kept (8 bytes a point)."""
        return self.values - self.trend


def mad_noise(values, *, window: int = 9) -> Noise:
    """Robust noise level: 1.4826 * median |residual| around a rolling median of ``window`` points.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.linspace(2, 1, 400) + rng.normal(0, 0.1, 400)
    >>> bool(0.08 < mad_noise(y, window=9).sigma < 0.12)
    True
    """
    y = np.asarray(values, dtype=float)
    if y.size < 3:
        return Noise(0.0, y.copy(), y)
    trend = rolling_median(y, window=window)
    # The MAD of the residuals, made a block at a time (y - trend, then |that - its median|): the same
    # numbers as one array of them would hold, without that array (8 bytes a point).
    center = median_of_blocks(lambda lo, hi: y[lo:hi] - trend[lo:hi], y.size)
    mad = median_of_blocks(lambda lo, hi: np.abs(np.subtract(y[lo:hi] - trend[lo:hi], center)), y.size)
    # Residuals around a running median of w points are shrunk by about sqrt(1 - 1/w).
    shrink = np.sqrt(max(1.0 - 1.0 / max(window, 2), 0.25))
    sigma = MAD_TO_SIGMA * float(mad) / shrink
    return Noise(sigma, trend, y)


_BLOCK = 1 << 20  # values made at a time by median_of_blocks
_SAMPLE = 1 << 16  # values it samples to bracket the median


def median_of_blocks(block, n: int) -> float:
    """``np.median`` of the ``n`` values ``block(lo, hi)`` makes for consecutive ranges, without making
    them all at once: a sample brackets the middle values, a second pass counts the values below the
    bracket and keeps those inside, and the middle ones are picked from these (a median depends only
    on the set of values: the same one or two numbers, averaged as np.median does).  When the bracket
    misses them, or a value is NaN, every value is made and np.median decides, as it always did."""
    if n <= _BLOCK:
        return np.median(block(0, n), overwrite_input=True)
    stride = max(1, n // _SAMPLE)
    sample = np.sort(np.concatenate([block(lo, min(lo + _BLOCK, n))[(-lo) % stride::stride]
                                     for lo in range(0, n, _BLOCK)]))
    ranks = ((n - 1) // 2, n // 2)
    at = [int(r / n * sample.size) for r in ranks]
    margin = 64 + 4 * int(np.sqrt(sample.size))
    low, high = sample[max(at[0] - margin, 0)], sample[min(at[1] + margin, sample.size - 1)]
    below, inside = 0, []
    for lo in range(0, n, _BLOCK):
        values = block(lo, min(lo + _BLOCK, n))
        if np.isnan(values).any():
            return _median_of_all(block, n)
        below += int(np.count_nonzero(values < low))
        inside.append(values[(values >= low) & (values <= high)])
    inside = np.concatenate(inside)
    if not below <= ranks[0] or below + inside.size <= ranks[1]:
        return _median_of_all(block, n)
    inside.partition([ranks[0] - below, ranks[1] - below])
    return np.median(inside[[ranks[0] - below, ranks[1] - below]][: 2 if n % 2 == 0 else 1])


def _median_of_all(block, n: int) -> float:
    values = np.concatenate([block(lo, min(lo + _BLOCK, n)) for lo in range(0, n, _BLOCK)])
    return np.median(values, overwrite_input=True)


def diff_noise(values) -> float:
    """Noise from second differences (no smoothing window to choose): robust sigma of y[i-1]-2y[i]+y[i+1] / sqrt(6).

    A smooth trend contributes almost nothing to second differences, so this estimates the
    point-to-point scatter even on short epoch-level curves.

    >>> round(diff_noise([1.0, 2.0, 3.0, 4.0, 5.0]), 6)
    0.0
    """
    y = np.asarray(values, dtype=float)
    if y.size < 3:
        return 0.0
    # In one buffer: the same operations in the same order as y[:-2] - 2.0 * y[1:-1] + y[2:], and the
    # median partitions it in place (a median depends only on the set of values).
    d2 = np.multiply(y[1:-1], 2.0)
    np.subtract(y[:-2], d2, out=d2)
    np.add(d2, y[2:], out=d2)
    np.abs(d2, out=d2)
    return float(MAD_TO_SIGMA * np.median(d2, overwrite_input=True) / np.sqrt(6.0))


@dataclass(frozen=True)
class ScatterByLr:
    at_peak: float  # median |y - trend| / trend where the LR is >= ``high`` x its peak
    after_decay: float  # the same where the LR is <= ``low`` x its peak
    ratio: float  # at_peak / after_decay
    n_peak: int
    n_low: int


def scatter_by_lr(values, trend, lr, *, high: float = 0.9, low: float = 0.3, min_points: int = 10) -> ScatterByLr | None:
    """The curve's relative scatter around its trend at the peak LR and after the schedule lowered it.

    Scatter is relative to the trend's level because a loss's minibatch noise scales with its level;
    what is left to change between the two phases is the step size.  None when either phase has fewer
    than ``min_points`` points, the lowered phase's level is not above 0 (a memorised loss at 0 has
    no relative scatter to compare), or a phase's values are quantised (fewer distinct values than
    half its points: a loss printed to four decimals at 0.0001 has no scatter left to measure).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> lr = np.r_[np.full(100, 1.0), np.full(100, 0.1)]
    >>> y = np.r_[1 + 0.4 * rng.standard_normal(100), 0.5 + 0.02 * rng.standard_normal(100)]
    >>> s = scatter_by_lr(y, np.r_[np.ones(100), np.full(100, 0.5)], lr)
    >>> bool(s.ratio > 5)
    True
    """
    y, m, r = (np.asarray(a, dtype=float) for a in (values, trend, lr))
    peak = float(np.nanmax(r)) if r.size else 0.0
    hi, lo = r >= high * peak, r <= low * peak
    if peak <= 0 or hi.sum() < min_points or lo.sum() < min_points or float(np.median(m[lo])) <= 0:
        return None
    if min(np.unique(y[hi]).size / hi.sum(), np.unique(y[lo]).size / lo.sum()) < 0.5:
        return None
    rel = np.abs(y - m) / np.maximum(np.abs(m), 1e-12)
    a, b = float(np.median(rel[hi])), float(np.median(rel[lo]))
    if b <= 0:
        return None
    return ScatterByLr(a, b, a / b, int(hi.sum()), int(lo.sum()))
