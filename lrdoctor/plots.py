"""One annotated PNG per run: what the diagnosis saw, on the curve.

Train loss raw (light) and smoothed, val loss, the LR on a second log axis, each finding
shaded over its steps and labelled with its code, the suggested LR as a dashed line and
in the title.  matplotlib is imported here only, when a plot is asked for, and drawn with
the Agg canvas directly (no pyplot, no global state, no display needed).
"""
from __future__ import annotations

import math
import re

import numpy as np

from .model import LR, TRAIN_LOSS, VAL_LOSS, Run, Series

WIDTH_PX, HEIGHT_PX, DPI = 1200, 675, 100
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
TRAIN_COLOUR, VAL_COLOUR, LR_COLOUR, SUGGEST_COLOUR = "#1f77b4", "#2ca02c", "#7f7f7f", "#9467bd"


def file_name(run_name: str) -> str:
    """A flat, safe PNG file name for a run ("." -> "run.png", "a/b c" -> "a__b_c.png")."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", run_name.replace("/", "__").replace("\\", "__")).strip("._")
    return f"{slug or 'run'}.png"


def smooth(values: np.ndarray) -> np.ndarray:
    """Debiased EMA whose time constant is ~1/25 of the curve; non-finite points are carried over."""
    n = len(values)
    beta = min(0.98, 1.0 - 1.0 / max(2.0, n / 25.0))
    out = np.full(n, np.nan)
    avg, weight = 0.0, 0.0
    for i, v in enumerate(values):
        if math.isfinite(v):
            avg, weight = beta * avg + (1 - beta) * v, beta * weight + (1 - beta)
        out[i] = avg / weight if weight > 0 else np.nan
    return out


def plot_run(run: Run, result=None, path: str = "run.png") -> str:
    """Write the PNG for ``run`` (``result``: its RunResult, for findings and advice) to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.2, 0.84, 0.68))
    handles = _draw_losses(ax, run)
    handles += _draw_lr(ax, run, result)
    handles += _draw_findings(ax, result)
    _titles(fig, run, result)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False, fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


def _finite(series: Series) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(series.values)
    return series.steps[ok], series.values[ok]


def _draw_losses(ax, run: Run) -> list:
    train, val = run.get(TRAIN_LOSS), run.get(VAL_LOSS)
    handles = []
    if train is not None and len(train):
        steps, values = _finite(train)
        if len(train) > 30:
            ax.plot(steps, values, color=TRAIN_COLOUR, alpha=0.25, lw=0.8, label="train loss (raw)")
            handles += ax.plot(train.steps, smooth(train.values), color=TRAIN_COLOUR, lw=1.8,
                               label="train loss (smoothed)")
        else:
            handles += ax.plot(steps, values, color=TRAIN_COLOUR, lw=1.5, marker="o", ms=3, label="train loss")
        handles += _mark_nonfinite(ax, train)
    if val is not None and len(val):
        steps, values = _finite(val)
        handles += ax.plot(steps, values, color=VAL_COLOUR, lw=1.5, marker="o", ms=3, label="val loss")
    _loss_scale(ax, [s for s in (train, val) if s is not None])
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    if not handles:
        ax.text(0.5, 0.5, "no loss curve found in this run", ha="center", va="center", transform=ax.transAxes)
    return handles


def _mark_nonfinite(ax, series: Series) -> list:
    bad = ~np.isfinite(series.values)
    if not bad.any():
        return []
    # Drawn along the top edge: the values cannot be placed on the axis.
    return [ax.scatter(series.steps[bad], np.ones(int(bad.sum())), transform=ax.get_xaxis_transform(),
                       marker="x", color=SEVERITY_COLOURS["error"], s=30, clip_on=False, zorder=5,
                       label=f"NaN/inf loss (first at step {int(series.steps[bad][0]):,})")]


def _loss_scale(ax, series: list[Series]) -> None:
    values = np.concatenate([s.values[np.isfinite(s.values)] for s in series]) if series else np.array([])
    if len(values) and values.min() > 0 and values.max() / values.min() > 20:
        ax.set_yscale("log")
        ax.set_ylabel("loss (log scale)")
    else:
        ax.set_ylabel("loss")


def _draw_lr(ax, run: Run, result) -> list:
    lr = run.get(LR)
    rec = getattr(result, "recommendation", None)
    suggested = rec.suggested_lr if rec is not None else None
    current = rec.current_lr if rec is not None else None
    if lr is None and suggested is None:
        return []
    ax2 = ax.twinx()
    handles = []
    if lr is not None and len(lr):
        steps, values = _finite(lr)
        handles += ax2.plot(steps, values, color=LR_COLOUR, lw=1.2, ls="-", label="LR (right axis)")
    elif current:
        handles.append(ax2.axhline(current, color=LR_COLOUR, lw=1.2, label=f"LR {current:.3g} (right axis)"))
    if suggested and suggested > 0:
        handles.append(ax2.axhline(suggested, color=SUGGEST_COLOUR, lw=1.5, ls="--",
                                   label=f"suggested LR {suggested:.3g}"))
    positive = [v for v in (*(lr.values if lr is not None else ()), suggested or 0, current or 0)
                if math.isfinite(v) and v > 0]
    if positive:
        ax2.set_yscale("log")
        ax2.set_ylim(min(positive) / 3, max(positive) * 3)
    ax2.set_ylabel("learning rate (log scale)", color=LR_COLOUR)
    return handles


def _draw_findings(ax, result) -> list:
    from matplotlib.patches import Patch

    findings = [f for f in getattr(result, "findings", ()) if f.start_step is not None]
    seen = {}
    for i, f in enumerate(findings):
        colour = SEVERITY_COLOURS.get(str(f.severity), "#7f7f7f")
        end = f.end_step if f.end_step is not None else f.start_step
        if end > f.start_step:
            ax.axvspan(f.start_step, end, color=colour, alpha=0.13, lw=0)
        else:
            ax.axvline(f.start_step, color=colour, lw=1.2, ls=":")
        # Labels stagger downwards so overlapping findings stay readable.
        ax.text(f.start_step, 0.97 - 0.06 * (i % 5), f" {f.code}", transform=ax.get_xaxis_transform(),
                color=colour, fontsize=9, fontweight="bold", va="top", ha="left", clip_on=True)
        seen.setdefault(str(f.severity), Patch(color=colour, alpha=0.3, label=f"{f.severity} finding"))
    return list(seen.values())


def _titles(fig, run: Run, result) -> None:
    status = getattr(result, "status", "not diagnosed")
    fig.suptitle(f"{run.name}  —  {status.upper()}", x=0.07, ha="left", fontsize=13, fontweight="bold")
    rec = getattr(result, "recommendation", None)
    if rec is not None:
        from .reporters._format import recommendation
        from .reporters.records import recommendation_to_dict

        line = f"→ {recommendation(recommendation_to_dict(rec))}: {rec.reason}"
        fig.text(0.07, 0.905, _shorten(line, 150), ha="left", fontsize=10)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
