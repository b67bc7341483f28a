"""Trend tests: Theil-Sen slope, Mann-Kendall, and an exponential time-constant estimate."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Trend:
    slope: float  # per unit of x
    intercept: float
    n: int


@dataclass(frozen=True)
class MannKendall:
    s: float
    z: float
    p: float  # two-sided p-value (normal approximation)
    tau: float  # Kendall's tau in [-1, 1]: -1 = strictly decreasing
    p_down: float = 1.0  # one-sided p-value of a *decreasing* trend; exact for short curves


def _subsample(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    # Pairwise statistics are O(n^2); evenly thinning long curves keeps them fast and unbiased.
    if x.size <= limit:
        return x, y
    idx = np.linspace(0, x.size - 1, limit).round().astype(int)
    return x[idx], y[idx]


def theil_sen(x, y, *, max_points: int = 300) -> Trend:
    """Median of pairwise slopes: a line fit that ignores up to ~29 % outliers.

    >>> t = theil_sen([0, 1, 2, 3, 4], [0.0, 2.0, 4.0, 100.0, 8.0])
    >>> t.slope
    2.0
    """
    x, y = _subsample(np.asarray(x, float), np.asarray(y, float), max_points)
    if x.size < 2:
        return Trend(0.0, float(y[0]) if y.size else 0.0, int(x.size))
    i, j = np.triu_indices(x.size, 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok])) if ok.any() else 0.0
    intercept = float(np.median(y - slope * x))
    return Trend(slope, intercept, int(x.size))


EXACT_MAX_N = 20  # below this the normal approximation of S is too coarse (and too conservative)


@lru_cache(maxsize=None)
def _inversion_tail(n: int) -> tuple[float, ...]:
    """P(I >= i) for the number of inversions I of a random permutation of n items (i = 0..n(n-1)/2).

    Under "no trend" every order of the points is equally likely, so Kendall's S = pairs - 2 I has
    the distribution of the inversion count: the Mahonian numbers, built by inserting one item at a
    time (item m adds 0..m-1 inversions).
    """
    counts = np.ones(1)
    for m in range(2, n + 1):
        counts = np.convolve(counts, np.ones(m))
    tail = np.cumsum(counts[::-1])[::-1] / counts.sum()
    return tuple(float(v) for v in tail)


def _p_down(s: float, n: int, var: float) -> float:
    """One-sided p-value of S this low (a decrease) under no trend: exact for n <= EXACT_MAX_N."""
    if n <= EXACT_MAX_N:
        pairs = n * (n - 1) // 2
        inversions = int(math.ceil((pairs - s) / 2.0 - 1e-9))  # ties make S smaller: conservative
        tail = _inversion_tail(n)
        return tail[min(max(inversions, 0), pairs)]
    z = (s + 1.0) / math.sqrt(var) if s < 0 else s / math.sqrt(var)  # continuity-corrected
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def mann_kendall(y, *, max_points: int = 300) -> MannKendall:
    """Mann-Kendall monotonic-trend test (normal approximation, no tie correction).

    ``p_down`` is the one-sided p-value of a decrease, from the exact permutation distribution of S
    for up to ``EXACT_MAX_N`` points.  The normal approximation cannot reach p < 0.01 with five
    points even for a perfectly ordered fall, although only 1 of the 120 orders of five points is
    strictly decreasing (p = 0.0083): short epoch-level curves need the exact value.

    >>> mk = mann_kendall([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.2, 0.1])
    >>> mk.tau, mk.p < 0.01
    (-1.0, True)
    >>> round(mann_kendall([5.0, 4.0, 3.0, 2.0, 1.0]).p_down, 4), round(mann_kendall([5.0, 4.0, 3.0, 2.0, 1.0]).p, 3)
    (0.0083, 0.027)
    """
    y = np.asarray(y, float)
    _, y = _subsample(np.arange(y.size, dtype=float), y, max_points)
    n = y.size
    if n < 3:
        return MannKendall(0.0, 0.0, 1.0, 0.0)
    i, j = np.triu_indices(n, 1)
    s = float(np.sign(y[j] - y[i]).sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = 0.0 if s == 0 else (s - math.copysign(1.0, s)) / math.sqrt(var)
    p = math.erfc(abs(z) / math.sqrt(2.0))
    return MannKendall(s, z, p, s / (n * (n - 1) / 2.0), _p_down(s, n, var))


def late_share(values, *, x=None) -> float:
    """Share of a curve's total change that happened in its last third (curve assumed already smoothed).

    For an exponential approach y = a + b*exp(-t/tau) over a run of length T this is
    (exp(-2T/3tau) - exp(-T/tau)) / (1 - exp(-T/tau)): 0.33 for a straight line (T << tau),
    0.23 for T = tau, 0.09 for T = 3 tau, ~0 once converged.

    ``x`` is the progress axis (e.g. cumulative LR); by default the points are equally spaced.

    >>> round(late_share([3.0, 2.0, 1.0, 0.0]), 3)
    0.333
    >>> round(late_share([3.0, 2.0, 1.0, 0.0], x=[0.0, 0.1, 0.2, 1.0]), 3)
    0.139
    """
    y = np.asarray(values, float)
    if y.size < 3 or y[0] == y[-1]:
        return 0.0
    if x is None:
        t = np.linspace(0.0, 1.0, y.size)
    else:
        t = np.asarray(x, float)
        if t[0] == 0.0 and t[-1] == 1.0:
            pass  # already on [0, 1] (a rules' view's progress axis): (t - 0) / (1 - 0) is t, bit for bit
        elif t[-1] > t[0]:
            span = t[-1] - t[0]
            t = t - t[0]
            t /= span  # in place: (t - t[0]) / span, one temporary array and not two
        else:
            t = np.linspace(0.0, 1.0, y.size)
    y_two_thirds = float(np.interp(2.0 / 3.0, t, y))
    return float((y_two_thirds - y[-1]) / (y[0] - y[-1]))


def runs_per_time_constant(share: float) -> float:
    """Invert ``late_share``: the run length in time constants (T / tau) that gives this late share.

    >>> round(runs_per_time_constant(0.0897), 1)
    3.0
    >>> runs_per_time_constant(0.34)
    0.0
    """
    if share >= 1.0 / 3.0:
        return 0.0
    if share <= 0.0:
        return math.inf
    lo, hi = 1e-6, 50.0
    for _ in range(80):  # bisection: late_share falls monotonically with T/tau
        mid = 0.5 * (lo + hi)
        e1, e2 = math.exp(-2 * mid / 3), math.exp(-mid)
        if (e1 - e2) / (1 - e2) > share:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
