"""Small text helpers shared by the human-facing reporters (text, markdown, github, junit)."""
from __future__ import annotations

import math
import re

SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_NONFINITE = "×"


# C0 and C1 controls, DEL, and the Unicode bidi overrides/isolates that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MULTILINE_KEYS = {"message", "reason", "note", "notes"}


def _escape(match) -> str:
    char = match.group()
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def visible(text, *, keep_newlines: bool = False) -> str:
    r"""``text`` with every control character shown as an escape (ESC as ``\x1b``), so a file or tag name
    cannot drive the terminal, forge lines in a log or a CI annotation, or reorder what is shown.

    >>> print(visible("run\x1b[31m\tx"))
    run\x1b[31m\tx
    """
    return (_CONTROL_KEEP_NEWLINE if keep_newlines else _CONTROL).sub(_escape, str(text))


def human_doc(doc, key: str = ""):
    """The records (report_to_dict) with every string made visible, for the human-facing formats.
    Messages and reasons keep their line breaks; names, paths and tags do not."""
    if isinstance(doc, dict):
        return {k: human_doc(v, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [human_doc(v, key) for v in doc]
    if isinstance(doc, str):
        return visible(doc, keep_newlines=key in _MULTILINE_KEYS)
    return doc


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


def factor(x) -> str:
    """An LR factor as people say it: ×10, ÷32 (0.0316 is ÷32), ×1.5."""
    if x is None or not math.isfinite(x) or x <= 0:
        return ""
    return f"×{_two_digits(x)}" if x >= 1 else f"÷{_two_digits(1 / x)}"


def _two_digits(x: float) -> str:
    """2 significant digits without exponents for the usual factors: 3.2, 32, 100, 3,200."""
    if x >= 10:
        return f"{round(x, 1 - int(math.floor(math.log10(x)))):,.0f}"
    return f"{x:.2g}"


ACTION_WORDS = {"decrease": "decrease the LR", "increase": "increase the LR", "keep": "keep the LR",
                "add-warmup": "add a warmup", "decay-schedule": "decay the LR", "stop-early": "stop earlier",
                "set-lr": "set the LR to", "abstain": "no LR advice"}


def lr_change(rec: dict | None) -> str:
    """The LR column: '0.003 → 0.001', '÷100' when the LR is unknown, '0.001' when it stays."""
    if not rec or rec["action"] == "abstain":
        return "–"
    cur, sug = rec.get("current_lr"), rec.get("suggested_lr")
    if rec["action"] == "set-lr":
        return f"→ {num(sug)}"
    if rec["action"] in ("decrease", "increase"):
        if cur is not None and sug is not None:
            return f"{num(cur)} → {num(sug)}"
        return factor(rec.get("factor")) or "?"
    return num(cur if cur is not None else sug) if (cur or sug) is not None else "–"


def recommendation(rec: dict | None) -> str:
    """'decrease the LR 0.003 → 0.001 (÷3)' — the action with the numbers that back it."""
    if not rec:
        return "no recommendation"
    action = rec["action"]
    text = ACTION_WORDS.get(action, action)
    cur, sug, change = rec.get("current_lr"), rec.get("suggested_lr"), factor(rec.get("factor"))
    if action == "set-lr":
        return f"{text} {num(sug)}"
    if action == "stop-early":
        at = f" at step {num(rec['stop_step'])}" if rec.get("stop_step") is not None else ""
        return text + at + (f" (LR {num(cur)} is fine)" if cur is not None else "")
    if action in ("decrease", "increase"):
        if cur is not None and sug is not None and sug != cur:
            text += f" {num(cur)} → {num(sug)}"
        elif cur is None:
            return text + (f" {change}" if change else "") + " (the LR is not logged; --lr gives it)"
        return text + (f" ({change})" if change and change != "×1" else "")
    if action == "keep":
        return text + (f" at {num(sug if sug is not None else cur)}" if (sug or cur) is not None else "")
    return text + (f" (LR {num(cur)})" if cur is not None and action != "abstain" else "")


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
