"""Learning-rate schedule phases from a logged LR curve: warmup, peak, decay steps, LR-time."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    kind: str  # "constant", "step", "smooth-decay", "increasing" (range test) or "unknown"
    peak_lr: float
    peak_step: int  # first step at (almost) the peak
    warmup_end_step: int | None  # end of a rising phase at the start, None without warmup
    decay_steps: tuple[int, ...]  # steps right after an abrupt LR drop (step schedules)
    final_lr: float
    min_lr: float


def detect_schedule(steps, lr, *, drop_ratio: float = 0.7, flat_tolerance: float = 0.05) -> Schedule:
    """Phases of a logged LR curve.

    A drop between two consecutive points to below ``drop_ratio`` of the previous, held value is a
    decay step; the LR rising from below half its peak before reaching it is warmup; an LR
    that stays within ``flat_tolerance`` (relative) of its peak after warmup is constant.

    >>> s = detect_schedule([0, 10, 20, 30, 40], [0.1, 0.1, 0.01, 0.01, 0.001])
    >>> s.kind, s.peak_lr, s.decay_steps
    ('step', 0.1, (20, 40))
    >>> detect_schedule([0, 1, 2, 3], [0.01, 0.05, 0.1, 0.1]).warmup_end_step
    2
    """
    x = np.asarray(steps)  # read only at a few points (as floats, as the steps always were here)
    y = np.asarray(lr, dtype=float)
    ok = np.isfinite(y) & (y > 0)
    if not ok.all():  # (no copies of a long curve when every point is usable)
        x, y = x[ok], y[ok]
    if y.size == 0:
        return Schedule("unknown", float("nan"), 0, None, (), float("nan"), float("nan"))
    peak = float(y.max())
    i_peak = int(np.argmax(y >= peak * (1 - 1e-6)))
    warm = i_peak if i_peak > 0 and y[0] < 0.5 * peak else None
    after = y[i_peak:]
    falls = _held_drops(after, drop_ratio)
    drops = tuple(_step(x, i_peak + i + 1) for i in falls)
    if warm is not None and i_peak == y.size - 1 and y.size > 5:
        kind = "increasing"
    elif float(after.min()) >= peak * (1 - flat_tolerance):
        kind = "constant"
    elif drops:
        kind = "step"
    else:
        kind = "smooth-decay"
    return Schedule(kind, peak, _step(x, i_peak), None if warm is None else _step(x, warm), drops, float(y[-1]), float(y.min()))


def _step(x: np.ndarray, i: int) -> int:
    return int(float(x[i]))


def _held_drops(after: np.ndarray, drop_ratio: float) -> np.ndarray:
    """Indices i where ``after[i + 1] < drop_ratio * after[i]`` and the value at i was held (i == 0, or
    ``_held``: within 1 % of the one before): a decay *step* drops from a level that was held; the tail of
    a cosine also falls fast in relative terms, but never from a flat stretch.  A block at a time (the
    same comparisons, without arrays as long as the curve)."""
    found = []
    for lo in range(0, after.size - 1, _BLOCK):
        hi = min(lo + _BLOCK, after.size - 1)  # the pairs (i, i + 1) for i in lo..hi-1
        falls = after[lo + 1:hi + 1] < drop_ratio * after[lo:hi]
        if lo == 0:
            falls[1:] &= _held(after[:hi + 1])
        else:
            falls &= _held(after[lo - 1:hi + 1])
        found.append(np.flatnonzero(falls) + lo)
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def lr_at(steps, lr, at) -> np.ndarray:
    """The logged LR at the steps ``at`` (step-wise: the last logged value at or before each step).

    >>> lr_at([0, 10, 20], [1.0, 0.5, 0.25], [0, 5, 10, 25]).tolist()
    [1.0, 1.0, 0.5, 0.25]
    """
    x = np.asarray(steps, dtype=float)
    y = np.asarray(lr, dtype=float)
    at = np.asarray(at, dtype=float)
    flat_at = at.reshape(-1)
    out = np.empty(flat_at.size, y.dtype)
    for lo in range(0, flat_at.size, _BLOCK):  # block by block: no index array as long as ``at``
        idx = np.searchsorted(x, flat_at[lo:lo + _BLOCK], side="right")
        idx -= 1
        np.clip(idx, 0, max(y.size - 1, 0), out=idx)
        np.take(y, idx, out=out[lo:lo + _BLOCK])
    return out.reshape(at.shape) if at.ndim else out[0]


_BLOCK = 1 << 20  # points looked up at a time


def _held(y: np.ndarray) -> np.ndarray:
    """``|y[1:-1] - y[:-2]| <= 0.01 * y[1:-1]``: the point before each inner point equals it within 1 %
    (computed in place: two temporary copies of a long curve, not four)."""
    change = y[1:-1] - y[:-2]
    np.abs(change, out=change)
    return change <= 0.01 * y[1:-1]


def lr_time(steps, lr, at) -> np.ndarray:
    """Cumulative LR (the 'time' of gradient flow) at ``at``, as a fraction of the total over ``steps``.

    Under a small step size the loss depends on the sum of the step sizes, not on the number of
    steps, so curves re-plotted against this axis look alike whatever the schedule.

    >>> lr_time([0, 1, 2, 3, 4], [1.0, 1.0, 1.0, 1.0, 1.0], [0, 2, 4]).round(2).tolist()
    [0.0, 0.5, 1.0]
    >>> lr_time([0, 1, 2, 3, 4], [1.0, 1.0, 0.0, 0.0, 0.0], [2]).round(2).tolist()
    [1.0]
    """
    x = np.asarray(steps, dtype=float)
    y = np.asarray(lr, dtype=float)
    if not np.isfinite(y).all():  # (a copy only when there is something to replace)
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if x.size < 2:
        return np.linspace(0.0, 1.0, np.asarray(at).size)
    # Trapezoid-free left Riemann sum: the LR logged at a step applies until the next log point.
    # Written in place (the same sums, without a temporary copy per step of the formula).
    cum = np.empty(x.size)
    cum[0] = 0.0
    width = np.subtract(x[1:], x[:-1], out=cum[1:])  # np.diff(x), in the array that becomes the sums
    increasing = bool((width > 0).all())
    width *= y[:-1]
    del y
    np.cumsum(width, out=width)  # (numpy gives an in-place accumulation the result it gives into another array)
    total = cum[-1] if cum[-1] > 0 else 1.0
    at = np.asarray(at, dtype=float)
    # At the log points themselves (the usual call: a curve logged at the LR's steps) np.interp returns
    # cum exactly (it returns the knot's value when x equals a strictly increasing knot): skip it and
    # its two further arrays of the curve's length.
    out = cum if increasing and np.array_equal(at, x) else np.interp(at, x, cum)
    out /= total
    return out
