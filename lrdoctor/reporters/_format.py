"""Small text helpers shared by the human-facing reporters (text, markdown, github, junit)."""
from __future__ import annotations

import math

SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_NONFINITE = "×"


def num(x) -> str:
    """A number for people: 1,200 for integers, 3 significant digits for floats, "–" for none."""
    if x is None:
        return "–"
    if isinstance(x, bool) or isinstance(x, str):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def counts(summary: dict) -> str:
    """'1 error, 2 warnings, 0 infos' from a records summary."""
    return ", ".join([plural(summary["errors"], "error"), plural(summary["warnings"], "warning"),
                      plural(summary["infos"], "info")])


def steps(start, end) -> str:
    if start is None and end is None:
        return ""
    if end is None or end == start:
        return f"step {num(start)}"
    if start is None:
        return f"until step {num(end)}"
    return f"steps {num(start)}–{num(end)}"


def evidence(ev: dict) -> str:
    return ", ".join(f"{k}={num(v)}" for k, v in ev.items())


def recommendation(rec: dict | None) -> str:
    """'decrease the LR 0.003 → 0.001 (×0.33)' — the action with the numbers that back it."""
    if not rec:
        return "no recommendation"
    action = rec["action"]
    words = {"decrease": "decrease the LR", "increase": "increase the LR", "keep": "keep the LR",
             "add-warmup": "add a warmup", "decay-schedule": "decay the LR", "stop-early": "stop earlier",
             "set-lr": "set the LR to"}
    text = words.get(action, action)
    cur, sug, factor = rec.get("current_lr"), rec.get("suggested_lr"), rec.get("factor")
    if action == "set-lr":
        return f"{text} {num(sug)}"
    if sug is not None and cur is not None and sug != cur:
        text += f" {num(cur)} → {num(sug)}"
    elif sug is not None:
        text += f" at {num(sug)}" if action == "keep" else f" (LR {num(sug)})"
    if factor is not None and factor != 1 and action != "keep":
        text += f" (×{num(factor)})"
    return text


def problem(p: dict) -> str:
    """A reading problem record as Problem.describe() says it: file, byte offset or line, message."""
    from ..model import Problem

    return Problem(**p).describe()


def sweep_headline(sweep: dict) -> str:
    """'Sweep over "." (4 runs, by val_loss): suggested LR 0.0316 — basis [medium confidence]'."""
    runs = sweep.get("runs") or []
    by = f", by {sweep['loss']}" if sweep.get("loss") else ""
    group = sweep.get("group", "?")
    where = "the log directory" if group == "." else repr(group)
    head = f"Sweep over {where} ({plural(len(runs), 'run')}{by})"
    rec = sweep.get("recommendation") or {}
    if rec.get("suggested_lr") is None:
        return head
    basis = f" — {rec['basis']}" if rec.get("basis") else ""
    confidence = f" [{rec['confidence']} confidence]" if rec.get("confidence") else ""
    return f"{head}: suggested LR {num(rec['suggested_lr'])}{basis}{confidence}"


def sweep_result(entry: dict) -> str:
    """'best val_loss 0.172 at step 400', or 'diverged'."""
    if entry.get("diverged"):
        return "diverged"
    at = f" at step {num(entry['best_step'])}" if entry.get("best_step") is not None else ""
    return f"best {entry.get('loss_role') or 'loss'} {num(entry.get('best_loss'))}{at}"


def sweep_entry(entry: dict) -> str:
    """'1. healthy_tbx  lr 0.0316  best val_loss 0.172 at step 400' (or 'diverged')."""
    rank = f"{entry['rank']}. " if entry.get("rank") is not None else "- "
    return f"{rank}{entry.get('run', '?')}  lr {num(entry.get('lr'))}  {sweep_result(entry)}"


def sweep_lines(sweep: dict) -> list[str]:
    """A sweep as plain lines: the headline, its note (e.g. which way to extend it), the ranked runs."""
    note = (sweep.get("recommendation") or {}).get("note")
    lines = [sweep_headline(sweep)] + ([f"  note: {note}"] if note else [])
    return lines + [f"  {sweep_entry(entry)}" for entry in sweep.get("runs") or []]


def sparkline(values) -> str:
    """Unicode bars for a downsampled curve; log-scaled when positive and spanning > 1 decade.

    Non-finite points (None/NaN/inf) show as ×, so a divergence is visible.
    """
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return SPARK_NONFINITE * len(values)
    lo, hi = min(finite), max(finite)
    use_log = lo > 0 and hi / lo > 10
    tr = math.log10 if use_log else (lambda v: v)
    lo_t, hi_t = tr(lo), tr(hi)
    span = hi_t - lo_t
    chars = []
    for v in values:
        if v is None or not math.isfinite(v):
            chars.append(SPARK_NONFINITE)
        else:
            level = 0 if span == 0 else int((tr(v) - lo_t) / span * (len(SPARK_BARS) - 1) + 0.5)
            chars.append(SPARK_BARS[level])
    return "".join(chars)


def first_last(values) -> tuple:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return (finite[0], finite[-1]) if finite else (None, None)
