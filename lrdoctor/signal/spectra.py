"""Autocorrelation and spectral measures of how a curve fluctuates around its trend."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def autocorr(values, *, lag: int = 1) -> float:
    """Sample autocorrelation at ``lag`` (0 for too-short or constant input).

    White noise gives ~0; a curve that zig-zags step to step (an optimiser bouncing across a
    valley) gives a negative value; a slow drift gives a positive one.

    >>> autocorr([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    -0.833
    """
    y = np.asarray(values, dtype=float)
    if y.size <= lag + 1:
        return 0.0
    y = y - y.mean()
    den = float(np.dot(y, y))
    return 0.0 if den == 0 else round(float(np.dot(y[:-lag], y[lag:]) / den), 3)


@dataclass(frozen=True)
class Roughness:
    high_freq_share: float  # share of residual energy in the upper half of the spectrum
    lag1: float  # lag-1 autocorrelation of the first differences


def roughness(values) -> Roughness:
    """How a curve's point-to-point changes are distributed over frequencies.

    >>> import numpy as np
    >>> r = roughness(np.tile([1.0, -1.0], 20))
    >>> r.high_freq_share > 0.9
    True
    """
    y = np.asarray(values, dtype=float)
    if y.size < 6:
        return Roughness(0.0, 0.0)
    detrended = y - np.polyval(np.polyfit(np.arange(y.size), y, 1), np.arange(y.size))
    power = np.abs(np.fft.rfft(detrended)) ** 2
    power = power[1:]
    total = float(power.sum())
    share = 0.0 if total == 0 else float(power[power.size // 2 :].sum()) / total
    return Roughness(round(share, 3), autocorr(np.diff(y), lag=1))
