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
        # A strided view keeps this fast for long curves; edges are filled separately.
        view = np.lib.stride_tricks.sliding_window_view(y, 2 * half + 1)
        mid = np.median(view, axis=1)
        head = [np.median(y[: i + half + 1]) for i in range(half)]
        tail = [np.median(y[n - 2 * half + i :]) for i in range(1, half + 1)]
        return np.concatenate([head, mid, tail])
    return np.array([np.median(y[max(0, i - half) : i + half + 1]) for i in range(n)])
