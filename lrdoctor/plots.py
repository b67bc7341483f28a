"""One annotated PNG per run: what the diagnosis saw, on the curve.

Train loss raw (light) and smoothed, val loss, the LR on a second log axis, each finding
shaded over its steps and labelled with its code, the suggested LR as a dashed line and
in the title.  matplotlib is imported here only, when a plot is asked for, and drawn with
the Agg canvas directly (no pyplot, no global state, no display needed).
"""
from __future__ import annotations

import math
import os

import numpy as np

from .model import LR, TRAIN_LOSS, VAL_LOSS, Run, Series
from .names import shown, slug
from .signal.smoothing import debiased_ema

WIDTH_PX, HEIGHT_PX, DPI = 1200, 675, 100
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
TRAIN_COLOUR, VAL_COLOUR, LR_COLOUR, SUGGEST_COLOUR = "#1f77b4", "#2ca02c", "#7f7f7f", "#9467bd"


def file_name(run_name: str) -> str:
    """A flat, safe PNG file name for a run ("." -> "run.png", "a/b c" -> "a__b_c.png").

    Different names can share one: ``names.unique_file_names`` names a set of plots."""
    return f"{slug(run_name)}.png"


def plot_file_names(run_names, sweep_groups=()) -> list[str]:
    """One distinct PNG name per run, then per sweep ("sweep <group>"): no plot overwrites another."""
    from .names import unique_file_names

    return unique_file_names([*run_names, *(f"sweep {group}" for group in sweep_groups)])


RAW_ONLY_POINTS = 60  # up to this many points the raw curve is drawn as is (no smoothing to hide behind)


def smooth(values: np.ndarray, *, log: bool = False) -> np.ndarray:
    """Debiased EMA (TensorBoard's smoothing) with a time constant of ~1/50 of the curve; non-finite
    points are carried over.

    ``log``: average log10(values) (a geometric mean), so on a log axis the smoothed curve does not
    lag behind a loss that falls by decades.
    """
    y = np.asarray(values, dtype=float)
    beta = min(0.98, 1.0 - 1.0 / max(2.0, len(y) / 50.0))
    if not log:
        return debiased_ema(y, beta=beta)
    positive = np.isfinite(y) & (y > 0)
    logs = np.full(y.shape, np.nan)
    logs[positive] = np.log10(y[positive])
    return 10 ** debiased_ema(logs, beta=beta)


MAX_FINDING_ROWS = 6


def plot_run(run: Run, result=None, path: str = "run.png") -> str:
    """Write the PNG for ``run`` (``result``: its RunResult, for findings and advice) to ``path``.

    Layout, top to bottom: title (run, status), the recommendation, a strip with one row per
    located finding (its code on the left, a bar over its steps), the curves, the legend.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    located = [f for f in getattr(result, "findings", ()) if f.start_step is not None]
    rows = min(len(located), MAX_FINDING_ROWS)
    strip_height = 0.032 * rows
    ax = fig.add_axes((0.075, 0.17, 0.83, 0.83 - 0.17 - strip_height - (0.01 if rows else 0)))
    handles = _draw_losses(ax, run)
    handles += _draw_lr(ax, run, result)
    if rows:
        strip = fig.add_axes((0.075, 0.83 - strip_height, 0.83, strip_height), sharex=ax)
        handles += _draw_findings(ax, strip, located)
    _titles(fig, run, result)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False, fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


# Beyond this magnitude matplotlib's axis arithmetic (padding, tick spacing) overflows; such points
# are drawn as blown up, like NaN/inf.
DRAWABLE_MAX = 1e300


def _drawable(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values) < DRAWABLE_MAX)


def _finite(series: Series) -> tuple[np.ndarray, np.ndarray]:
    ok = _drawable(series.values)
    return series.steps[ok], series.values[ok]


def _draw_losses(ax, run: Run) -> list:
    train, val = run.get(TRAIN_LOSS), run.get(VAL_LOSS)
    log = _log_scale(train, val)
    smoothed = smooth(train.values, log=log) if train is not None and len(train) > RAW_ONLY_POINTS else None
    handles = []
    if train is not None and len(train):
        steps, values = _finite(train)
        if smoothed is not None:
            handles += ax.plot(steps, values, color=TRAIN_COLOUR, alpha=0.25, lw=0.8, label="train loss (raw)")
            handles += ax.plot(train.steps, smoothed, color=TRAIN_COLOUR, lw=1.8, label="train loss (smoothed)")
        else:
            handles += ax.plot(steps, values, color=TRAIN_COLOUR, lw=1.5, marker="o", ms=3, label="train loss")
        handles += _mark_nonfinite(ax, train)
    if val is not None and _drawable(val.values).any():
        steps, values = _finite(val)
        handles += ax.plot(steps, values, color=VAL_COLOUR, lw=1.5, marker="o", ms=3, label="val loss")
    _loss_scale(ax, train, val, log=log, smoothed=smoothed)
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    if not handles:
        ax.text(0.5, 0.5, "no loss curve found in this run", ha="center", va="center", transform=ax.transAxes)
    return handles


def _mark_nonfinite(ax, series: Series) -> list:
    bad = ~_drawable(series.values)
    if not bad.any():
        return []
    # Drawn along the top edge: the values cannot be placed on the axis.
    return [ax.scatter(series.steps[bad], np.ones(int(bad.sum())), transform=ax.get_xaxis_transform(),
                       marker="x", color=SEVERITY_COLOURS["error"], s=30, clip_on=False, zorder=5,
                       label=f"NaN/inf loss (first at step {int(series.steps[bad][0]):,})")]


def _log_scale(train: Series | None, val: Series | None) -> bool:
    """Log axis when every finite loss is positive and they span more than 20x."""
    values = np.concatenate([s.values[_drawable(s.values)] for s in (train, val) if s is not None] or [[]])
    return bool(len(values)) and values.min() > 0 and values.max() / values.min() > 20


def _loss_scale(ax, train: Series | None, val: Series | None, *, log: bool, smoothed: np.ndarray | None) -> None:
    """Log scale when the loss spans > 20x (``log``).  Limits come from the ``smoothed`` train loss (when
    it is drawn smoothed), the val loss and the raw maxima, so a few raw dips towards 0 do not squash
    the picture (they are clipped)."""
    keep = []
    for s in (train, val):
        values = s.values[_drawable(s.values)] if s is not None else np.array([])
        if len(values) == 0:
            continue
        if s is train and smoothed is not None:  # drawn smoothed: raw dips may leave the view downwards
            keep += [smoothed[_drawable(smoothed)], [values.max()]]
        else:
            keep.append(values)
    values = np.concatenate(keep) if keep else np.array([])
    if log and len(values) and values.min() > 0:
        ax.set_yscale("log")
        ax.set_ylim(values.min() / 1.5, values.max() * 1.5)
        ax.set_ylabel("loss (log scale)")
    else:
        from matplotlib.ticker import FuncFormatter

        if len(values):
            pad = 0.05 * (values.max() - values.min() or abs(values.max()) or 1.0)
            ax.set_ylim(values.min() - pad, values.max() + pad)
        # Plain numbers on each tick: matplotlib's "+1e14" offset text is easy to misread.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.4g}"))
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
    # A suggestion equal to the current LR (keep, add a warmup) would hide the LR line: not drawn.
    if suggested and suggested > 0 and not (current and abs(math.log10(suggested / current)) < 0.005):
        handles.append(ax2.axhline(suggested, color=SUGGEST_COLOUR, lw=1.5, ls="--",
                                   label=f"suggested LR {suggested:.3g}"))
    positive = [v for v in (*(lr.values if lr is not None else ()), suggested or 0, current or 0)
                if math.isfinite(v) and v > 0]
    if positive:
        ax2.set_ylim(min(positive) / 3, max(positive) * 3)
        ax2.set_yscale("log")
    ax2.set_ylabel("learning rate (log scale)", color=LR_COLOUR)
    return handles


def _draw_findings(ax, strip, findings) -> list:
    """Light shading on the curves; in the strip, one row per finding: code, and a bar or a mark."""
    from matplotlib.patches import Patch

    shown = findings[:MAX_FINDING_ROWS]
    seen = {}
    for row, f in enumerate(shown):
        colour = SEVERITY_COLOURS.get(str(f.severity), "#7f7f7f")
        end = f.end_step if f.end_step is not None else f.start_step
        y = len(shown) - 1 - row  # first (worst) finding on top
        if end > f.start_step:
            ax.axvspan(f.start_step, end, color=colour, alpha=0.07, lw=0)
            strip.plot([f.start_step, end], [y, y], color=colour, lw=6, solid_capstyle="butt")
        else:
            ax.axvline(f.start_step, color=colour, lw=1.2, ls=":")
            strip.plot([f.start_step], [y], marker="v", color=colour, ms=8, ls="none")
        seen.setdefault(str(f.severity), Patch(color=colour, alpha=0.5, label=f"{f.severity} finding"))
    labels = [f.code for f in shown]
    if len(findings) > len(shown):
        labels[-1] += f" +{len(findings) - len(shown)}"
    strip.set_yticks(range(len(shown)), labels[::-1], fontsize=8)
    strip.set_ylim(-0.7, len(shown) - 0.3)
    strip.tick_params(axis="x", labelbottom=False, length=0)
    strip.tick_params(axis="y", length=0)
    for spine in strip.spines.values():
        spine.set_visible(False)
    strip.grid(True, axis="x", alpha=0.3)
    return list(seen.values())


def _fit_title(name: str, limit: int) -> str:
    """A run name for the title: control characters shown escaped, a too-long one cut in the middle."""
    from .reporters._format import visible

    name = visible(name)
    return name if len(name) <= limit else name[:limit // 3] + "…" + name[-(limit - limit // 3 - 1):]


def _titles(fig, run: Run, result) -> None:
    from .reporters.records import verdict  # the status the reports show (data-quality notes are not one)

    status = verdict(result) if result is not None else "not diagnosed"
    name = run.name if run.name != "." else os.path.basename(os.path.normpath(run.source)) or run.source
    title = f"{_fit_title(shown(name), 150)}  —  {status.upper()}"  # ~150 bold characters at 8 pt span the figure
    fig.suptitle(title, x=0.075, y=0.985, ha="left", fontsize=max(8.0, min(13.0, 13.0 * 95 / len(title))),
                 fontweight="bold")
    rec = getattr(result, "recommendation", None)
    if rec is not None:
        from .reporters._format import recommendation
        from .reporters.records import recommendation_to_dict

        import textwrap

        line = shown(f"→ {recommendation(recommendation_to_dict(rec, result.findings))}: {rec.reason}")
        wrapped = textwrap.wrap(line, 150, max_lines=2, placeholder=" …")
        fig.text(0.075, 0.925, "\n".join(wrapped), ha="left", va="top", fontsize=10)
