"""Sweep maths: from (lr, best loss) of runs that differ only in LR, the best LR and how sure it is.

The loss of a sweep, read against log10(LR), has a valley: too small an LR is slow, too large is
unstable.  Near its bottom any smooth valley is a parabola, so the optimum between grid points is
the vertex of the parabola through the best grid point and its two neighbours.  With uneven
spacing or a missing neighbour (a run that diverged, the grid's edge) the grid point itself is
the answer.  The vertex of such a parabola always lies within half a grid step of the best point,
so a noisy neighbour can move the estimate at most that far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SweepFit:
    """The best LR of a sweep and the evidence behind it.

    ``best_lr``: the grid LR with the lowest loss (ties: the smaller LR).  ``optimum_lr``: the
    parabola's vertex (== ``best_lr`` when ``method`` is "grid").  ``curvature``: the parabola's
    second derivative in loss per decade squared.  ``near_best``: the LR interval of grid points
    whose loss is within ``tolerance`` of the best.  ``edge``: "low"/"high" when the best point is
    the grid's smallest/largest LR (the optimum may lie outside the grid).
    """

    best_lr: float
    optimum_lr: float
    best_loss: float
    method: str  # "quadratic" or "grid"
    curvature: float | None
    tolerance: float
    near_best: tuple[float, float]
    sharpness: str  # "sharp", "flat" or "unknown"
    edge: str | None
    n_points: int

    def to_dict(self) -> dict:
        return {
            "best_lr": self.best_lr,
            "optimum_lr": self.optimum_lr,
            "best_loss": self.best_loss,
            "method": self.method,
            "curvature_per_decade2": self.curvature,
            "tolerance": self.tolerance,
            "near_best_lr": list(self.near_best),
            "sharpness": self.sharpness,
            "edge": self.edge,
            "n_points": self.n_points,
        }


def per_lr_loss(lr, loss) -> tuple[np.ndarray, np.ndarray]:
    """One loss per distinct LR (the mean over repeats such as seeds; inf when none is finite).

    >>> per_lr_loss([0.1, 0.01, 0.1], [1.0, 2.0, 3.0])
    (array([0.01, 0.1 ]), array([2., 2.]))
    """
    lr = np.asarray(lr, dtype=float)
    loss = np.asarray(loss, dtype=float)
    grid = np.unique(lr)
    out = np.empty(grid.shape[0])
    for k, value in enumerate(grid):
        finite = loss[(lr == value) & np.isfinite(loss)]
        out[k] = finite.mean() if finite.shape[0] else math.inf
    return grid, out


def fit_sweep(lr, loss, *, rel_tolerance: float = 0.05, spacing_slack: float = 0.25) -> SweepFit | None:
    """Fit a sweep's best loss against log10(LR).

    ``loss``: one value per run, inf/NaN for a run with no finite loss.  ``rel_tolerance``:
    losses within this fraction of the best count as equally good (validation noise; the bench
    uses 5%).  ``spacing_slack``: the two grid steps around the best may differ by this fraction
    and still be fitted (a parabola on very uneven steps extrapolates more than it interpolates).

    >>> fit = fit_sweep([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.5, 0.7, float("inf")])
    >>> fit.best_lr, fit.method, 1e-2 < fit.optimum_lr < 10 ** -1.75, fit.edge
    (0.01, 'quadratic', True, None)
    """
    grid, value = per_lr_loss(lr, loss)
    finite = np.isfinite(value)
    if grid.shape[0] == 0 or not finite.any() or np.any(grid <= 0):
        return None
    x = np.log10(grid)
    i = int(np.nonzero(value == np.min(value[finite]))[0][0])  # lowest; ties -> smaller LR
    best = float(value[i])
    tolerance = rel_tolerance * abs(best)
    edge = "low" if i == 0 else "high" if i == grid.shape[0] - 1 else None
    vertex, curvature = _vertex(x, value, i, spacing_slack)
    method = "grid" if vertex is None else "quadratic"
    near = _near_best(grid, value, i, tolerance)
    return SweepFit(
        best_lr=float(grid[i]),
        optimum_lr=float(grid[i]) if vertex is None else float(10**vertex),
        best_loss=best,
        method=method,
        curvature=curvature,
        tolerance=tolerance,
        near_best=near,
        sharpness=_sharpness(grid, value, i, tolerance),
        edge=edge,
        n_points=int(grid.shape[0]),
    )


def _vertex(x, y, i, slack) -> tuple[float | None, float | None]:
    """Vertex and curvature of the parabola through points i-1, i, i+1 (None when not fittable)."""
    if i == 0 or i == x.shape[0] - 1 or not (np.isfinite(y[i - 1]) and np.isfinite(y[i + 1])):
        return None, None
    h1, h2 = x[i] - x[i - 1], x[i + 1] - x[i]
    if abs(h1 - h2) > slack * max(h1, h2):
        return None, None
    # Divided differences: second derivative and the slope at x[i] of the interpolating parabola.
    d1, d2 = (y[i] - y[i - 1]) / h1, (y[i + 1] - y[i]) / h2
    second = 2.0 * (d2 - d1) / (h1 + h2)
    if not second > 0:  # flat or concave: no interior minimum to interpolate
        return None, None
    slope_at_i = (d1 * h2 + d2 * h1) / (h1 + h2)
    shift = float(np.clip(-slope_at_i / second, -h1 / 2, h2 / 2))
    return float(x[i] + shift), float(second)


def _near_best(grid, y, i, tolerance) -> tuple[float, float]:
    """The contiguous run of grid points around the best whose loss is within tolerance."""
    ok = np.isfinite(y) & (y <= y[i] + tolerance)
    lo = hi = i
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < grid.shape[0] - 1 and ok[hi + 1]:
        hi += 1
    return float(grid[lo]), float(grid[hi])


def _sharpness(grid, y, i, tolerance) -> str:
    """"sharp" when both neighbours are worse than the tolerance, "flat" when one is within it."""
    neighbours = [y[j] for j in (i - 1, i + 1) if 0 <= j < grid.shape[0]]
    if not neighbours:
        return "unknown"
    if any(np.isfinite(v) and v <= y[i] + tolerance for v in neighbours):
        return "flat"
    return "sharp"


def seed_noise(lr, loss) -> float | None:
    """Seed-to-seed spread: the pooled standard deviation of the loss between runs at one LR.

    None when no LR was run more than once with a finite loss.

    >>> round(seed_noise([0.1, 0.1, 0.01, 0.01], [1.0, 1.2, 2.0, 2.2]), 3)
    0.141
    """
    lr = np.asarray(lr, dtype=float)
    loss = np.asarray(loss, dtype=float)
    squares, dof = 0.0, 0
    for value in np.unique(lr):
        repeat = loss[(lr == value) & np.isfinite(loss)]
        if repeat.shape[0] >= 2:
            squares += float(np.sum((repeat - repeat.mean()) ** 2))
            dof += repeat.shape[0] - 1
    return math.sqrt(squares / dof) if dof else None

