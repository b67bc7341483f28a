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
    residuals: np.ndarray


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
        return Noise(0.0, y.copy(), np.zeros_like(y))
    trend = rolling_median(y, window=window)
    res = y - trend
    # Residuals around a running median of w points are shrunk by about sqrt(1 - 1/w).
    shrink = np.sqrt(max(1.0 - 1.0 / max(window, 2), 0.25))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(res - np.median(res)))) / shrink
    return Noise(sigma, trend, res)


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
    d2 = y[:-2] - 2.0 * y[1:-1] + y[2:]
    return float(MAD_TO_SIGMA * np.median(np.abs(d2)) / np.sqrt(6.0))
