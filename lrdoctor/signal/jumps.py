"""Upward jumps of a curve above its local trend, measured against the local upward noise.

A spike is a transient *rise*: the loss jumps above where it just was and comes back.  Two things
make a naive "residual from a rolling median over a global noise" misfire on training curves:

* At the start of a steep fall a centred running median lags behind (its window reaches into the
  lower values that follow), so a point on the falling flank looks far above "the trend".  A jump
  must therefore also stand above the level of the points *before* it.
* The noise of a loss curve changes by orders of magnitude over a run (it scales with the level,
  and a memorising model ends near 0), and minibatch losses are right-skewed (bounded below by 0,
  with occasional hard batches).  A single global MAD taken mostly from the converged tail makes
  every early wiggle a "30 sigma" event.  The noise is therefore measured locally, and on the
  upper side of the trend, which is the side a spike is on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import MAD_TO_SIGMA
from . import smoothing
from .smoothing import window_medians, window_medians_at

# The upper tail's scale: the 90th percentile of the positive residuals (in local-MAD units) against
# the half-normal's 1.645.  Equal to 1 for normal noise; larger for right-skewed minibatch losses.  A
# high quantile follows the tail that a spike test compares with, and stays robust while spikes are
# fewer than a tenth of the upper half.
UPPER_QUANTILE = 0.9
HALF_NORMAL_Q90 = 1.6449


@dataclass(frozen=True)
class Jumps:
    height: np.ndarray  # rise above max(centred trend, level just before); <= 0 where no rise
    sigma: np.ndarray  # local noise scale on the upper side of the trend
    z: np.ndarray  # height / sigma


def preceding_median(values, *, window: int) -> np.ndarray:
    """Median of the up to ``window`` points before each point (the first point: itself).

    >>> preceding_median([3.0, 1.0, 2.0, 5.0], window=2).tolist()
    [3.0, 3.0, 2.0, 1.5]
    """
    y = np.asarray(values, dtype=float)
    n, w = y.size, max(int(window), 1)
    out = np.empty(n)
    if n == 0:
        return out
    out[0] = y[0]
    for i in range(1, min(w, n)):
        out[i] = np.median(y[:i])
    if n > w:
        # The windows that end before the last point (the method chosen for the whole curve, as before).
        window_medians(y[:-1], w, out=out[w:], has_nan=bool(np.isnan(y).any()))
    return out


def local_upper_sigma(values, trend, *, window: int) -> np.ndarray:
    """Noise scale around ``trend`` within ``window`` points of each point, on the upper side.

    The local scale is the two-sided MAD sigma of the residuals in the window (robust to up to half
    of them being spikes).  Its upper-side version multiplies it by the curve's skew: the 90th
    percentile of the positive residuals in local-scale units over the 1.645 a half-normal gives,
    over the whole curve, at least 1.  The skew is a property of the noise's shape,
    so it is taken from all points; the scale, which shrinks with the loss, is taken locally.
    Computed every quarter window and interpolated (the scale changes slowly).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[rng.normal(10, 1.0, 300), rng.normal(1, 0.01, 300)]
    >>> s = local_upper_sigma(y, np.r_[np.full(300, 10.0), np.full(300, 1.0)], window=41)
    >>> bool(0.8 < s[100] < 1.25 and 0.008 < s[500] < 0.0125)
    True
    """
    y, trend = np.asarray(values, dtype=float), np.asarray(trend, dtype=float)
    noise = _UpperNoise(y, trend, window)
    return np.concatenate([noise.sigma(lo, hi) for lo, hi in _blocks(y.size)]) if y.size else np.zeros(0)


def _blocks(n: int) -> list[tuple[int, int]]:
    size = max(smoothing._POINTS_AT_ONCE // 4, 1)  # a quarter of the medians' blocks: a dozen arrays of it at once
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


class _UpperNoise:
    """``local_upper_sigma``'s parts: the local scale at every quarter window and the curve's skew (one
    pass over the curve, a block at a time), then the sigma of any block of points."""

    def __init__(self, y: np.ndarray, trend: np.ndarray, window: int):
        n, half = y.size, max(int(window) // 2, 1)
        self.centres = np.unique(np.r_[np.arange(0, n, max(half // 2, 1)), n - 1]) if n else np.zeros(0, int)
        self.scale = MAD_TO_SIGMA * _centred_abs_medians(y, trend, self.centres, half) if n else np.zeros(0)
        # Scale-free skew: residuals relative to the local scale, pooled over the curve (the positive ones
        # in curve order, block after block: the same array, so the same quantile, as one pass gives).
        # Two passes (count, then fill): no list of pieces joined into a second copy.
        pos = np.empty(sum(self._relative(y, trend, lo, hi, count=True) for lo, hi in _blocks(n)))
        at = 0
        for lo, hi in _blocks(n):
            u = self._relative(y, trend, lo, hi)
            np.compress(u > 0, u, out=pos[at:at + int(np.count_nonzero(u > 0))])
            at += int(np.count_nonzero(u > 0))
        skew = float(np.quantile(pos, UPPER_QUANTILE, overwrite_input=True)) / HALF_NORMAL_Q90 if pos.size else 1.0
        self.factor = max(skew, 1.0)

    def _relative(self, y: np.ndarray, trend: np.ndarray, lo: int, hi: int, count: bool = False):
        """The residuals of ``lo..hi-1`` in local-scale units, where there is a local scale (or how many are > 0)."""
        r = y[lo:hi] - trend[lo:hi]
        local = self._local(lo, hi)
        ok = local > 0
        u = np.divide(r, local, out=r) if ok.all() else r[ok] / local[ok]
        return int(np.count_nonzero(u > 0)) if count else u

    def _local(self, lo: int, hi: int) -> np.ndarray:
        """The local scale interpolated over the indices ``lo..hi-1`` (np.interp works point by point)."""
        return np.interp(np.arange(lo, hi, dtype=float), self.centres, self.scale)

    def sigma(self, lo: int, hi: int) -> np.ndarray:
        local = self._local(lo, hi)
        local *= self.factor
        return local


def _centred_abs_medians(y: np.ndarray, trend: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """median(|r[i - half : i + half + 1]|) of the residuals ``r = y - trend`` for each centre i (windows
    cut at the ends), vectorised where the window is whole: one Python median per centre took 13 s on a
    5M-point curve.  The residuals are made a block at a time (``window_medians_at``)."""
    out = np.empty(len(centres))
    whole = (centres >= half) & (centres + half < y.size)
    if whole.any():
        out[whole] = window_medians_at(y, 2 * half + 1, centres[whole] - half, absolute=True, minus=trend)
    for k in np.flatnonzero(~whole).tolist():
        i = int(centres[k])
        lo, hi = max(0, i - half), i + half + 1
        out[k] = float(np.median(np.abs(y[lo:hi] - trend[lo:hi])))
    return out


def upward_jumps(values, trend, *, window: int, noise_window: int) -> Jumps:
    """Rise of each point above the local trend and above the ``window`` points before it, in local noise units.

    >>> import numpy as np
    >>> y = np.r_[np.linspace(3.0, 1.0, 30), np.ones(30)] + np.tile([0.01, -0.01], 30)
    >>> y[45] = 2.0
    >>> j = upward_jumps(y, np.r_[np.linspace(3.0, 1.0, 30), np.ones(30)], window=5, noise_window=21)
    >>> int(np.argmax(j.z)), bool(j.z[45] > 50), bool((j.z[:30] < 3).all())
    (45, True, True)
    """
    blocks = list(upward_jump_blocks(values, trend, window=window, noise_window=noise_window))
    if not blocks:
        return Jumps(np.zeros(0), np.zeros(0), np.zeros(0))
    return Jumps(*(np.concatenate([getattr(b, name) for b in blocks]) for name in ("height", "sigma", "z")))


@dataclass(frozen=True)
class JumpBlock:
    """``upward_jumps`` of the points ``start .. start + len(height) - 1``."""

    start: int
    height: np.ndarray
    sigma: np.ndarray
    z: np.ndarray


def upward_jump_blocks(values, trend, *, window: int, noise_window: int):
    """``upward_jumps``, a block of points at a time (JumpBlock): the same values, with temporaries of a
    block's length, not the curve's (a caller that keeps only the jumps it finds keeps little)."""
    y, trend = np.asarray(values, dtype=float), np.asarray(trend, dtype=float)
    noise = _UpperNoise(y, trend, noise_window)
    has_nan = bool(np.isnan(y).any())
    for lo, hi in _blocks(y.size):
        sigma = noise.sigma(lo, hi)
        height = _preceding_median_block(y, window, lo, hi, has_nan)
        np.maximum(trend[lo:hi], height, out=height)  # the base: max(trend, level before)
        np.subtract(y[lo:hi], height, out=height)
        # height / sigma where there is a noise scale; else inf for a rise, 0 for none.
        z = np.where(height > 0, np.inf, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(height, sigma, out=z, where=sigma > 0)
        yield JumpBlock(lo, height, sigma, z)


def _preceding_median_block(y: np.ndarray, window: int, lo: int, hi: int, has_nan: bool) -> np.ndarray:
    """``preceding_median(y, window=window)[lo:hi]``."""
    w = max(int(window), 1)
    out = np.empty(hi - lo)
    for i in range(lo, min(w, hi)):
        out[i - lo] = y[0] if i == 0 else np.median(y[:i])
    first = max(lo, w)
    if hi > first:
        window_medians(y[first - w:hi - 1], w, out=out[first - lo:], has_nan=has_nan)
    return out


@dataclass(frozen=True)
class Burst:
    start: int  # index of the first point of the burst
    peak: int  # index of its highest point
    reference: float  # the level it is compared with: max(upper quartile of the curve, median of the points before it)


def first_burst(values, *, factor: float, window: int, min_len: int = 2, skip: int = 0) -> Burst | None:
    """The first run of at least ``min_len`` consecutive points, each more than ``factor`` times both the
    curve's upper quartile and the median of the ``window`` points before the run (from index ``skip``).

    The upper quartile, not the median: minibatch losses near 0 are heavy-tailed (a memorised batch at
    1e-6, a hard one at 2), and their ordinary upper range is what a burst must leave.

    Unlike a comparison with the curve's first points, this finds a blow-up whose start is hidden by
    an even larger first loss (a regression on unnormalised targets starting at 1e8, falling to 10,
    then bursting to 1e6); a single point is a hard batch, several in a row are weights that blew up.

    >>> y = [8e7, 1e8, 3e7] + [5, 3, 17, 9, 6, 5, 8, 4, 6, 7, 5, 9] + [7e5, 5e5, 2e6] + [1.1, 8, 12, 6, 9, 5, 7, 6]
    >>> b = first_burst(y, factor=100, window=3, skip=3)
    >>> (b.start, b.peak, round(b.reference, 2))
    (15, 17, 15.75)
    >>> first_burst([1.0, 2.0, 900.0, 1.0, 2.0, 1.0], factor=100, window=3) is None  # one point: a hard batch
    True
    """
    y = np.asarray(values, dtype=float)
    if y.size == 0:
        return None
    median = float(np.quantile(y, 0.75))
    above = np.flatnonzero(y[skip:] > factor * median) + skip if median > 0 else np.zeros(0, dtype=int)
    i = 0
    while i < above.size:
        j = i
        while j + 1 < above.size and above[j + 1] == above[j] + 1:
            j += 1
        start = int(above[i])
        before = y[max(0, start - window):start]
        reference = max(median, float(np.median(before)) if before.size else np.inf)
        run = y[start: int(above[j]) + 1]
        if run.size >= min_len and bool((run > factor * reference).all()):
            return Burst(start, start + int(np.argmax(run)), reference)
        i = j + 1
    return None
