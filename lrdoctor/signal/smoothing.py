"""Smoothing: debiased EMA, rolling median, Savitzky-Golay.  All return an array as long as the input."""
from __future__ import annotations

import numpy as np


def debiased_ema(values, *, beta: float = 0.9) -> np.ndarray:
    """Exponential moving average with Adam-style bias correction (so it starts at the first value).

    ``beta`` is the weight of the past; the effective window is about 1 / (1 - beta) points.

    >>> debiased_ema([1.0, 1.0, 1.0], beta=0.9).tolist()
    [1.0, 1.0, 1.0]
    >>> round(float(debiased_ema([0.0, 10.0], beta=0.5)[-1]), 3)
    6.667
    """
    y = np.asarray(values, dtype=float)
    out = np.empty_like(y)
    acc = 0.0
    for i, v in enumerate(y):
        acc = beta * acc + (1.0 - beta) * v
        out[i] = acc / (1.0 - beta ** (i + 1))
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


def savgol(values, *, window: int = 11, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing (local polynomial fit); keeps slopes better than a running mean.

    The window is shrunk to an odd length that fits the data; with too few points the input is returned.

    >>> import numpy as np
    >>> np.allclose(savgol(np.arange(20.0), window=7, order=2), np.arange(20.0))
    True
    """
    y = np.asarray(values, dtype=float)
    n = y.shape[0]
    w = min(int(window), n if n % 2 else n - 1)
    if w % 2 == 0:
        w -= 1
    if w <= order:
        return y.copy()
    from scipy.signal import savgol_filter

    return savgol_filter(y, w, order, mode="interp")
