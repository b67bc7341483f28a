"""Smoothing: debiased EMA (TensorBoard's display smoothing) and rolling median.  Both return an array as long as the input."""
from __future__ import annotations

import math

import numpy as np


def debiased_ema(values, *, beta: float = 0.9) -> np.ndarray:
    """Exponential moving average with Adam-style bias correction (so it starts at the first value).

    ``beta`` is the weight of the past; the effective window is about 1 / (1 - beta) points.
    Non-finite points are skipped (the average carries over them); before the first finite point
    the result is NaN.

    >>> debiased_ema([1.0, 1.0, 1.0], beta=0.9).tolist()
    [1.0, 1.0, 1.0]
    >>> round(float(debiased_ema([0.0, 10.0], beta=0.5)[-1]), 3)
    6.667
    >>> debiased_ema([float("nan"), 2.0, float("inf"), 2.0], beta=0.5).tolist()
    [nan, 2.0, 2.0, 2.0]
    """
    y = np.asarray(values, dtype=float)
    out = np.full(y.shape, np.nan)
    acc, weight = 0.0, 0.0
    for i, v in enumerate(y.tolist()):
        if math.isfinite(v):
            acc, weight = beta * acc + (1.0 - beta) * v, beta * weight + (1.0 - beta)
        if weight > 0:
            out[i] = acc / weight
    return out


_ROWS_AT_ONCE = 1 << 15  # np.median copies its input to partition it: bound that copy


def median_rows(view: np.ndarray) -> np.ndarray:
    """``np.median(view, axis=1)``, a block of rows at a time.

    ``view`` is usually a sliding window view, which costs nothing, but np.median partitions a copy:
    for a 5M-point curve and 31-point windows that copy alone was 1.2 GB."""
    out = np.empty(view.shape[0])
    for lo in range(0, view.shape[0], _ROWS_AT_ONCE):
        out[lo:lo + _ROWS_AT_ONCE] = np.median(view[lo:lo + _ROWS_AT_ONCE], axis=1)
    return out


def window_medians(y: np.ndarray, width: int) -> np.ndarray:
    """The median of every run of ``width`` consecutive points: ``len(y) - width + 1`` values.

    Without NaN and with an odd width each median is one of the points, so scipy's running median
    filter gives exactly np.median's values, ~20x faster on long curves; otherwise np.median a block
    of windows at a time (NaN makes its window's median NaN).

    >>> window_medians(np.array([1.0, 5.0, 2.0, 8.0, 3.0]), 3).tolist()
    [2.0, 5.0, 3.0]
    """
    n = y.shape[0]
    if width % 2 and n >= width and not np.isnan(y).any():
        from scipy.ndimage import median_filter

        half = width // 2
        return median_filter(y, size=width, mode="nearest")[half:n - half]
    return median_rows(np.lib.stride_tricks.sliding_window_view(y, width))


def _centred_window_medians(y: np.ndarray, width: int) -> np.ndarray:
    """An array as long as ``y`` (odd ``width`` <= len(y)) holding ``window_medians(y, width)`` from index
    ``width // 2`` on; its first and last ``width // 2`` values are for the caller to fill."""
    n, half = y.shape[0], width // 2
    if not np.isnan(y).any():
        from scipy.ndimage import median_filter

        return median_filter(y, size=width, mode="nearest")  # what window_medians slices
    out = np.empty(n)
    out[half:n - half] = window_medians(y, width)
    return out


def rolling_median(values, *, window: int = 5) -> np.ndarray:
    """Centred running median over ``window`` points (shrinking at the edges); robust to spikes.

    >>> rolling_median([1.0, 1.0, 50.0, 1.0, 1.0], window=3).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    y = np.asarray(values, dtype=float)
    n = y.shape[0]
    half = max(int(window) // 2, 0)
    if n == 0 or half == 0:
        return y.copy()
    if n > 2 * half:
        # A strided view keeps this fast for long curves; edges are filled separately, in place
        # (one array as long as the curve, not a second one to join the pieces into).
        out = _centred_window_medians(y, 2 * half + 1)
        out[:half] = [np.median(y[: i + half + 1]) for i in range(half)]
        out[n - half:] = [np.median(y[n - 2 * half + i :]) for i in range(1, half + 1)]
        return out
    return np.array([np.median(y[max(0, i - half) : i + half + 1]) for i in range(n)])
