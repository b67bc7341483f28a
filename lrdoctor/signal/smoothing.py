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
_POINTS_AT_ONCE = 1 << 18  # running medians a block of points at a time: temporaries of 2 MB, not the curve's length (below _heap.LARGE)


def median_rows(view: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.median(view, axis=1)``, a block of rows at a time (into ``out`` when given).

    ``view`` is usually a sliding window view, which costs nothing, but np.median partitions a copy:
    for a 5M-point curve and 31-point windows that copy alone was 1.2 GB."""
    out = np.empty(view.shape[0]) if out is None else out
    for lo in range(0, view.shape[0], _ROWS_AT_ONCE):
        out[lo:lo + _ROWS_AT_ONCE] = np.median(view[lo:lo + _ROWS_AT_ONCE], axis=1)
    return out


def window_medians(y: np.ndarray, width: int, *, out: np.ndarray | None = None,
                   has_nan: bool | None = None) -> np.ndarray:
    """The median of every run of ``width`` consecutive points: ``len(y) - width + 1`` values (into
    ``out`` when given).

    Without NaN and with an odd width each median is one of the points: the middle one once the window
    is partitioned (``middle_elements``), exactly np.median's value (scipy's running median filter is
    ~2.5x faster, but its import costs ~22 MB of memory, more than the 2 MB blocks of this);
    otherwise np.median a block of windows at a time (NaN makes its window's median NaN).  ``has_nan``
    says whether the curve this is a piece of holds a NaN (the method is chosen for the whole curve).
    A curve holding -0.0 goes through scipy's running median filter, as it always did: 0.0 and -0.0
    tie, and which one a method picks depends on the method (and, for the filter, on where it
    started); scipy is imported only then.

    >>> window_medians(np.array([1.0, 5.0, 2.0, 8.0, 3.0]), 3).tolist()
    [2.0, 5.0, 3.0]
    """
    n = y.shape[0]
    if has_nan is None:
        has_nan = bool(np.isnan(y).any())
    if width % 2 and n >= width and not has_nan and not _has_negative_zero(y):
        return middle_elements(np.lib.stride_tricks.sliding_window_view(y, width), out)
    if width % 2 and n >= width and not has_nan:
        from scipy.ndimage import median_filter

        half, m = width // 2, n - width + 1
        out = np.empty(m) if out is None else out
        # One pass over the curve: which of the tied 0.0 and -0.0 the filter picks depends on where it started.
        out[:] = median_filter(y, size=width, mode="nearest")[half:half + m]
        return out
    return median_rows(np.lib.stride_tricks.sliding_window_view(y, width), out)


def middle_elements(rows: np.ndarray, out: np.ndarray | None = None, *, pick: np.ndarray | None = None) -> np.ndarray:
    """The middle element of each row (odd length, no NaN) once sorted -- of the rows ``pick`` only, when
    given: its median, exactly np.median's value (one of the points), partitioning a copy of a block of
    rows at a time (~8 MB, whatever the width)."""
    k = rows.shape[1] // 2
    count = rows.shape[0] if pick is None else pick.shape[0]
    out = np.empty(count) if out is None else out
    block = max(1, (_ROWS_AT_ONCE << 5) // rows.shape[1])
    for lo in range(0, count, block):
        chunk = np.array(rows[lo:lo + block]) if pick is None else rows[pick[lo:lo + block]]
        chunk.partition(k, axis=1)
        out[lo:lo + block] = chunk[:, k]
    return out


def _has_negative_zero(y: np.ndarray) -> bool:
    return bool(np.signbit(y).any()) and bool((np.signbit(y) & (y == 0)).any())


def window_medians_at(y: np.ndarray, width: int, starts: np.ndarray, *, absolute: bool = False,
                      minus: np.ndarray | None = None) -> np.ndarray:
    """``window_medians(np.abs(y) if absolute else y, width)[starts]`` for sorted ``starts``, a block of
    the curve at a time (no array as long as the curve); of ``y - minus`` when given (made a block at a
    time too).

    >>> window_medians_at(np.array([1.0, -5.0, 2.0, 8.0, 3.0]), 3, np.array([0, 2]), absolute=True).tolist()
    [2.0, 3.0]
    """
    if minus is not None:  # (|y - minus| has no -0.0: only the signed case needs the whole difference)
        y = _Difference(y, minus) if absolute else y - minus
    has_nan = any(bool(np.isnan(y[lo:lo + _POINTS_AT_ONCE]).any()) for lo in range(0, y.shape[0], _POINTS_AT_ONCE))
    m = y.shape[0] - width + 1
    out = np.empty(starts.shape[0])
    blocks = _POINTS_AT_ONCE if absolute or not _has_negative_zero(y) else max(m, 1)  # see window_medians
    for lo in range(0, m, blocks):
        hi = min(lo + blocks, m)
        a, b = np.searchsorted(starts, [lo, hi])
        if a == b:
            continue
        piece = y[lo:hi + width - 1]
        piece = np.abs(piece) if absolute else piece
        if not width % 2 or has_nan or piece.shape[0] < width or _has_negative_zero(piece):
            out[a:b] = window_medians(piece, width, has_nan=has_nan)[starts[a:b] - lo]
        else:  # only the windows asked for: the medians of the others are never looked at
            out[a:b] = middle_elements(np.lib.stride_tricks.sliding_window_view(piece, width), pick=starts[a:b] - lo)
    return out


class _Difference:
    """``a - b`` made only a slice at a time (``d[lo:hi]``), with the shape of ``a``."""

    def __init__(self, a: np.ndarray, b: np.ndarray):
        self.a, self.b, self.shape = a, b, a.shape

    def __getitem__(self, index: slice) -> np.ndarray:
        return self.a[index] - self.b[index]


def _centred_window_medians(y: np.ndarray, width: int) -> np.ndarray:
    """An array as long as ``y`` (odd ``width`` <= len(y)) holding ``window_medians(y, width)`` from index
    ``width // 2`` on; its first and last ``width // 2`` values are for the caller to fill."""
    n, half = y.shape[0], width // 2
    out = np.empty(n)
    window_medians(y, width, out=out[half:n - half])
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
