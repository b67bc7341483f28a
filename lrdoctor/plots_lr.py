"""Two LR plots: a range test (loss vs LR, suggestion marked) and a sweep (best loss vs LR).

matplotlib is imported only when a plot is drawn, with the Agg canvas directly (no pyplot).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .names import shown

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.6, 100
RAW, SMOOTH, SUGGEST, BLOWUP, FAST = "#9ecae1", "#1f77b4", "#9467bd", "#d62728", "#2ca02c"


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def plot_range_test(lr, loss, fit, path: str, *, title: str = "LR range test") -> str:
    """Raw loss and the smoothed curve against LR (log axis), with the fastest-fall band, the
    blow-up and the suggested LR marked.  ``fit``: a ``signal.rangetest.RangeTestFit``."""
    fig, ax = _figure()
    lr, loss = np.asarray(lr, dtype=float), np.asarray(loss, dtype=float)
    ok = np.isfinite(loss) & (lr > 0)
    ax.plot(lr[ok], loss[ok], ".", ms=3, color=RAW, label="loss (raw)")
    if fit.smoothed.shape[0]:
        ax.plot(10**fit.log10_lr, fit.smoothed, "-", lw=2, color=SMOOTH, label="smoothed in log10(LR)")
    if fit.fastest_fall:
        ax.axvspan(*fit.fastest_fall, color=FAST, alpha=0.12, label="loss falls fastest")
    if fit.blowup_lr is not None:
        ax.axvline(fit.blowup_lr, color=BLOWUP, ls=":", label=f"blow-up {fit.blowup_lr:.3g}" if fit.blowup_seen
                   else f"end of test {fit.blowup_lr:.3g}")
    if fit.suggested_lr is not None:
        ax.axvline(fit.suggested_lr, color=SUGGEST, ls="--", lw=2, label=f"suggested {fit.suggested_lr:.3g}")
    ax.set_xscale("log")
    _loss_limits(ax, loss[ok], fit)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    title = shown(title)
    ax.set_title(f"{title}: suggested LR {fit.suggested_lr:.3g} ({fit.confidence})" if fit.suggested_lr
                 else f"{title}: no suggestion")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    fig.savefig(path)
    return path


def _loss_limits(ax, loss: np.ndarray, fit) -> None:
    """Keep the blow-up from flattening the interesting part: cap the y axis above the start."""
    if loss.shape[0] == 0:
        return
    low = float(np.min(loss))
    start = fit.initial_loss if fit.initial_loss is not None else float(np.median(loss))
    high = min(float(np.max(loss)), start + 1.5 * max(start - low, 1e-12))
    if high > low:
        ax.set_ylim(low - 0.05 * (high - low), high)


def plot_sweep(sweep: Mapping, path: str) -> str:
    """Best loss of each run against its LR (log axis); diverged runs as crosses; the suggestion
    and, when fitted, the parabola around the best point."""
    fig, ax = _figure()
    runs = [r for r in sweep["runs"] if r["best_loss"] is not None and r["lr"]]
    for diverged, marker, colour, label in ((False, "o", SMOOTH, "run"), (True, "x", BLOWUP, "diverged run")):
        pts = [(r["lr"], r["best_loss"]) for r in runs if bool(r["diverged"]) == diverged]
        if pts:
            ax.plot(*zip(*pts), marker, ms=7, color=colour, ls="none", label=label)
    fit, rec = sweep["fit"], sweep["recommendation"]
    if fit.get("method") == "quadratic" and fit.get("curvature_per_decade2"):
        x0 = math.log10(fit["optimum_lr"])
        a = 0.5 * fit["curvature_per_decade2"]
        base = fit["best_loss"] - a * (math.log10(fit["best_lr"]) - x0) ** 2
        xs = np.linspace(x0 - 0.6, x0 + 0.6, 50)
        ax.plot(10**xs, base + a * (xs - x0) ** 2, "-", color=FAST, alpha=0.7, label="parabola in log10(LR)")
    if rec.get("suggested_lr"):
        ax.axvline(rec["suggested_lr"], color=SUGGEST, ls="--", lw=2, label=f"suggested {rec['suggested_lr']:.3g}")
    ax.set_xscale("log")
    finite = [r["best_loss"] for r in runs]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"best {sweep.get('loss') or 'loss'}")
    note = f" — {rec['note']}" if rec.get("note") else ""
    ax.set_title(f"sweep {shown(str(sweep['group']))}: suggested LR {rec['suggested_lr']:.3g} ({rec['confidence']}){note}",
                 fontsize=10)
    ax.legend(loc="best", fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    fig.savefig(path)
    return path
