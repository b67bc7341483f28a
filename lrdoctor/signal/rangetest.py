"""LR range test maths: from (lr, loss) pairs of a range test, the LR to train with.

A range test (Smith 2017; fastai ``lr_find``, Lightning ``Tuner.lr_find``) multiplies the LR by a
constant factor every step and logs the minibatch loss.  Read along log10(LR) the loss stays on its
initial plateau while the LR is too small to move the weights, falls once it is large enough, and
blows up once it is past the stability limit.  What we want is the stability limit, read off the
blow-up, and then a safety margin below it:

1. **Smooth in log10(LR), centred.**  A robust local-linear (LOWESS) fit with a kernel half-width
   of ``bandwidth`` decades.  Centred, so it has no lag (the EMA that fastai and Lightning use lags
   by ~50 steps, i.e. by one to four decades depending on the test's steps per decade); measured in
   decades, so the answer does not depend on how many steps the test took.  The loss is first
   clipped at the highest value seen on the initial plateau: beyond that, how far the loss exploded
   says nothing about where the good LR is, and it must not drag the fit.
2. **Blow-up.**  The first LR after the minimum at which the smoothed loss is back at its starting
   level (all progress lost), or the first NaN/inf loss, whichever comes first.  The curve is
   cut there (the clipping already keeps the tail from bending the fit much before it).
3. **Instability lag.**  Past the stability limit an unstable direction grows by a factor
   ``2 * 10**u - 1`` per step (plain GD on a quadratic, ``u`` = decades past the limit), so with
   ``s`` steps per decade it grows by about ``ln(10) * k**2 / s`` e-folds after ``k`` steps.  To grow
   from 1e-3 of the loss to the loss itself (3 decades, ``3 * ln 10`` e-folds) takes
   ``k = sqrt(3 * s)`` steps, i.e. ``sqrt(3 / s)`` decades: the limit lies that far below the blow-up.
4. **Safety margin.**  One decade below the stability limit (Smith's and fastai's "an order of
   magnitude below where the loss blows up"): the range test sees the flat early landscape, and
   curvature grows as training goes on (progressive sharpening), so a long run needs headroom.

Also reported: the LR at the minimum of the smoothed loss, the steepest descent (per decade) and
the range around it where the loss falls at least half as fast, and a confidence.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Decades of growth an instability needs before the loss shows it (1e-3 of the loss -> the loss).
_GROWTH_DECADES = 3.0


@dataclass(frozen=True)
class RangeTestFit:
    """The outcome of ``suggest_lr``: the suggestion and every measurement it rests on.

    LRs are plain floats; ``None`` when not measurable.  ``log10_lr`` / ``smoothed`` are the
    curve the suggestion was read from (for plots), clipped at the blow-up.
    """

    suggested_lr: float | None
    confidence: str  # high / medium / low
    basis: str  # one sentence saying how the suggestion was obtained
    min_loss_lr: float | None = None
    steepest_lr: float | None = None
    fastest_fall: tuple[float, float] | None = None  # LR interval where the loss falls fastest
    blowup_lr: float | None = None
    blowup_seen: bool = False  # False: the test ended before the loss blew up
    stability_lr: float | None = None  # blow-up corrected for the instability lag
    lag_decades: float | None = None
    initial_loss: float | None = None
    min_loss: float | None = None
    relative_drop: float | None = None  # (initial - min) / noise of the smoothed curve
    steps_per_decade: float | None = None
    n_points: int = 0
    log10_lr: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    smoothed: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    def evidence(self) -> dict:
        """The scalar measurements as a flat dict (JSON-able; None for unmeasured)."""
        low, high = self.fastest_fall or (None, None)
        return {
            "suggested_lr": self.suggested_lr,
            "min_loss_lr": self.min_loss_lr,
            "steepest_lr": self.steepest_lr,
            "fastest_fall_low": low,
            "fastest_fall_high": high,
            "blowup_lr": self.blowup_lr,
            "blowup_seen": int(self.blowup_seen),
            "stability_lr": self.stability_lr,
            "lag_decades": self.lag_decades,
            "initial_loss": self.initial_loss,
            "min_loss": self.min_loss,
            "drop_over_noise": self.relative_drop,
            "steps_per_decade": self.steps_per_decade,
            "n_points": self.n_points,
        }


def lowess(x, y, *, bandwidth: float, robust_iterations: int = 1) -> np.ndarray:
    """Robust local-linear smoothing of ``y`` over ``x`` with a tricube kernel.

    ``bandwidth`` is the kernel half-width in units of ``x``; ``x`` must be sorted ascending.
    Each robustness pass down-weights points far from the current fit (bisquare on 6 MADs).  The
    first pass measures residuals from a running median rather than from a plain local line: a
    spike pulls a line up over its whole window, which would make its innocent neighbours look
    like the outliers; a median does not move.

    >>> import numpy as np
    >>> x = np.linspace(0, 1, 21)
    >>> bool(np.allclose(lowess(x, 2 * x + 1, bandwidth=0.2), 2 * x + 1))
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo = np.searchsorted(x, x - bandwidth, side="left")
    hi = np.searchsorted(x, x + bandwidth, side="right")
    robust = np.ones_like(y)
    if robust_iterations > 0:
        fit = np.array([np.median(y[a:b]) for a, b in zip(lo, hi)])
    for _ in range(robust_iterations):
        residual = np.abs(y - fit)
        scale = 6.0 * float(np.median(residual))
        if not scale > 0:  # noiseless: nothing to down-weight
            robust = np.ones_like(y)
            break
        robust = np.clip(1.0 - ((y - fit) / scale) ** 2, 0.0, None) ** 2
        fit = _local_lines(x, y, robust, lo, hi, bandwidth)
    return _local_lines(x, y, robust, lo, hi, bandwidth) if robust_iterations == 0 else fit


def _local_lines(x, y, robust, lo, hi, bandwidth) -> np.ndarray:
    return np.array([_local_line(x, y, robust, i, lo[i], hi[i], bandwidth) for i in range(x.shape[0])])


def _local_line(x, y, robust, i, lo, hi, bandwidth) -> float:
    xs, ys = x[lo:hi], y[lo:hi]
    d = np.abs(xs - x[i]) / bandwidth
    kernel = np.where(d < 1.0, (1.0 - d**3) ** 3, 0.0)
    w = kernel * robust[lo:hi]
    if w.sum() <= 1e-12 * max(kernel.sum(), 1e-300):  # robustness removed everything: plain kernel
        w = kernel
    sw = w.sum()
    if sw <= 0:
        return float(y[i])
    mx, my = (w * xs).sum() / sw, (w * ys).sum() / sw
    vx = (w * (xs - mx) ** 2).sum()
    slope = (w * (xs - mx) * (ys - my)).sum() / vx if vx > 0 else 0.0
    return float(my + slope * (x[i] - mx))


def instability_lag(steps_per_decade: float) -> float:
    """Decades between the stability limit and the visible blow-up: ``sqrt(3 / steps_per_decade)``.

    >>> round(instability_lag(25.0), 3)
    0.346
    """
    return math.sqrt(_GROWTH_DECADES / max(steps_per_decade, 1e-9))


def suggest_lr(
    lr,
    loss,
    *,
    bandwidth: float = 0.25,
    plateau_decades: float = 1.0,
    margin_decades: float = 1.0,
    min_points: int = 15,
) -> RangeTestFit:
    """Suggest a training LR from a range test's (lr, loss) pairs.

    ``lr`` must grow along the arrays (it is sorted if not).  ``bandwidth``: kernel half-width in
    decades (a quarter decade: finer than the half-decade grids sweeps use, wide enough to average
    several noisy steps).  ``plateau_decades``: the first this-many decades (at least 10% of the
    points) define the starting loss.  ``margin_decades``: safety margin below the stability limit.

    >>> import numpy as np
    >>> lr = np.logspace(-6, 1, 141)
    >>> loss = 2.0 - 1.5 / (1 + (1e-2 / lr) ** 2) + 50 * np.clip(np.log10(lr / 0.3), 0, None) ** 2
    >>> fit = suggest_lr(lr, loss)
    >>> 1e-3 < fit.suggested_lr < 3e-2, fit.blowup_seen
    (True, True)
    """
    x, y, nonfinite_at = _clean(lr, loss)
    if x.shape[0] < min_points or x[-1] - x[0] < 1.0:
        return RangeTestFit(None, "low", f"too few usable points ({x.shape[0]}) or under one decade of LR", n_points=int(x.shape[0]))
    spd = (x.shape[0] - 1) / (x[-1] - x[0])
    first = x <= x[0] + max(plateau_decades, x[max(int(0.1 * x.shape[0]), 4)] - x[0])
    initial, cap = float(np.median(y[first])), float(np.max(y[first]))
    clipped = np.minimum(y, cap)
    smooth = lowess(x, clipped, bandwidth=bandwidth)
    i_min = int(np.argmin(smooth))
    blow_index = _blowup_index(smooth, i_min, initial)
    if blow_index is not None:  # what comes after the blow-up says nothing more
        # (no refit on the cut data: a local line at a one-sided edge would dive at the cut)
        x, clipped, smooth = x[: blow_index + 1], clipped[: blow_index + 1], smooth[: blow_index + 1]
    return _assemble(x, clipped, smooth, i_min, blow_index, nonfinite_at, initial, spd, bandwidth, margin_decades)


def _clean(lr, loss) -> tuple[np.ndarray, np.ndarray, float | None]:
    """log10(lr) ascending and loss, cut at the first NaN/inf loss (whose log10 LR is returned)."""
    lr = np.asarray(lr, dtype=float)
    loss = np.asarray(loss, dtype=float)
    keep = np.isfinite(lr) & (lr > 0)
    lr, loss = lr[keep], loss[keep]
    order = np.argsort(lr, kind="stable")
    lr, loss = lr[order], loss[order]
    bad = np.nonzero(~np.isfinite(loss))[0]
    nonfinite_at = None
    if bad.shape[0]:
        nonfinite_at = float(np.log10(lr[bad[0]]))
        lr, loss = lr[: bad[0]], loss[: bad[0]]
    return np.log10(lr), loss, nonfinite_at


def _blowup_index(smooth: np.ndarray, i_min: int, initial: float) -> int | None:
    """First index after the minimum where the smoothed loss is back at its starting level."""
    above = np.nonzero(smooth[i_min:] >= initial)[0]
    return None if above.shape[0] == 0 else i_min + int(above[0])


def _fastest_fall(x: np.ndarray, smooth: np.ndarray, i_min: int, initial: float) -> tuple[float, tuple[float, float]] | None:
    """(log10 LR of the steepest descent, (low, high) where the slope is >= half of it)."""
    # Only the descent into the minimum counts: wiggles on the initial plateau are noise.
    above = np.nonzero(smooth[: i_min + 1] >= initial)[0]
    start = int(above[-1]) if above.shape[0] else 0
    if i_min - start < 2:
        return None
    slope = np.full(i_min + 1, 0.0)
    slope[start:] = np.gradient(smooth[start : i_min + 1], x[start : i_min + 1])
    slope = np.where(np.isfinite(slope), slope, 0.0)
    j = int(np.argmin(slope))
    if slope[j] >= 0:
        return None
    fast = slope <= 0.5 * slope[j]
    lo = j
    while lo > start and fast[lo - 1]:
        lo -= 1
    hi = j
    while hi < i_min and fast[hi + 1]:
        hi += 1
    return float(x[j]), (float(x[lo]), float(x[hi]))


def _assemble(x, y, smooth, i_min, blow_index, nonfinite_at, initial, spd, bandwidth, margin) -> RangeTestFit:
    min_loss = float(smooth[i_min])
    noise = _smoothed_noise(y, smooth, spd, bandwidth)
    drop_over_noise = (initial - min_loss) / noise if noise > 0 else math.inf
    # Stopped on its way back up?  The last raw points say it best: a local line lags at an edge.
    end_level = max(float(smooth[-1]), float(np.median(y[-3:])))
    climbing = end_level - min_loss >= 0.5 * (initial - min_loss)
    blow_x, seen = _blowup_x(x, blow_index, nonfinite_at, climbing)
    lag = instability_lag(spd)
    steep = _fastest_fall(x, smooth, i_min, initial)
    common = dict(
        min_loss_lr=10 ** float(x[i_min]),
        steepest_lr=None if steep is None else 10 ** steep[0],
        fastest_fall=None if steep is None else (10 ** steep[1][0], 10 ** steep[1][1]),
        blowup_lr=10**blow_x,
        blowup_seen=seen,
        lag_decades=lag,
        initial_loss=initial,
        min_loss=min_loss,
        relative_drop=float(min(drop_over_noise, 1e9)),
        steps_per_decade=float(spd),
        n_points=int(x.shape[0]),
        log10_lr=x,
        smoothed=smooth,
    )
    if drop_over_noise < 3.0:
        basis = f"the loss never fell clearly below its starting level ({drop_over_noise:.1f} noise units); no LR to suggest"
        return RangeTestFit(None, "low", basis, **common)
    stability_x = blow_x - lag if seen else float(x[i_min])
    suggested = 10 ** (stability_x - margin)
    how = "back" if blow_index is not None else "nonfinite" if nonfinite_at is not None else "stopped"
    basis = _basis(seen, how, lag, margin)
    confidence = "high" if seen and drop_over_noise >= 10.0 else "medium" if seen else "low"
    return RangeTestFit(suggested, confidence, basis, stability_lr=10**stability_x, **common)


def _blowup_x(x, blow_index, nonfinite_at, climbing: bool) -> tuple[float, bool]:
    """log10 LR of the blow-up and whether it was seen (else the test's last LR, a lower bound).
    A test that stopped while its loss had climbed half-way back counts as seen: range-test tools
    stop on divergence (fastai and Lightning at 4x the smoothed minimum), so its end is the blow-up."""
    if blow_index is not None:  # the data stop before any NaN/inf, so this comes first
        return float(x[blow_index]), True
    if nonfinite_at is not None:
        return nonfinite_at, True
    return float(x[-1]), climbing


def _smoothed_noise(y, smooth, spd, bandwidth) -> float:
    """Noise of the smoothed curve: residual MAD-sigma over sqrt(points under the kernel)."""
    sigma = 1.4826 * float(np.median(np.abs(y - smooth)))
    points = max(spd * bandwidth, 1.0)  # tricube's effective width is about one half-width
    return sigma / math.sqrt(points)


def _basis(seen: bool, how: str, lag: float, margin: float) -> str:
    if not seen:
        return (
            "the test ended before the loss blew up, so the stability limit is unknown; "
            f"{margin:g} decade(s) below the LR of the lowest smoothed loss (a lower bound)"
        )
    what = {"nonfinite": "the first NaN/inf loss", "back": "the smoothed loss back at its starting level",
            "stopped": "the end of the test, stopped while the loss climbed back"}[how]
    return (
        f"blow-up at {what}; stability limit {lag:.2f} decades below it (instability growth lag); "
        f"suggestion {margin:g} decade(s) below the limit"
    )
