"""Plain words for the human reports: what a finding means in a few words, and the data-quality
notes said once for all the runs they apply to.

The rules' messages carry the numbers and the statistics (shown with ``-v`` and in the JSON); these
phrases are what a person reads first, in the summary table.  A rule code not listed here (a new rule)
falls back to its catalogue summary, then to its kebab name, so nothing is ever left blank.
"""
from __future__ import annotations

from . import _format as fmt

# code -> phrase; {at} becomes " at step N" / " from step N" where the finding has a step.
PHRASES = {
    "DV01": "loss became NaN/inf{at}",
    "DV02": "loss blew up{from_}",
    "DV03": "loss exploded{at}",
    "DV04": "training accuracy collapsed{from_}",
    "DV05": "val loss blew up: confidently wrong predictions",
    "SP01": "loss spikes{from_}",
    "OS01": "val loss zig-zags",
    "PL01": "loss never left its starting level",
    "PL02": "loss fell only once the LR was lowered",
    "PL03": "loss dropped right after an LR decay{at}",
    "PL04": "val accuracy stuck or collapsed",
    "SC01": "loss still falling when the run ended",
    "OF01": "val loss rose after step {best} (overfitting)",
    "RT01": "LR range test (loss against a growing LR)",
}

# Data-quality notes: code -> (what, hint).  Said once: "LR not logged in 37 runs: pass --lr or log it".
NOTES = {
    "DQ01": ("too few points to judge the curve's shape", "log more often"),
    "DQ02": ("no validation loss", "overfitting was not checked"),
    "DQ03": ("restarts at an earlier step (resumed jobs)", "the later data was kept"),
    "DQ04": ("LR not logged", "pass --lr or log it"),
    "DQ05": ("negative loss values", "checks that compare loss levels by ratios were skipped"),
    "DQ06": ("reinforcement-learning curves", "loss levels were not compared over time"),
}


def _rule_summary(code: str) -> str | None:
    try:
        from ..rules import find_rule
        from ..rules.docs import summary
    except ImportError:  # pragma: no cover - the catalogue is part of the package
        return None
    rule = find_rule(code)
    return summary(rule).rstrip(".") if rule is not None else None


def finding_phrase(f: dict) -> str:
    """'the loss became NaN/inf at step 79' — a finding in a few plain words."""
    template = PHRASES.get(f["code"])
    if template is None:
        text = _rule_summary(f["code"]) or f["name"].replace("-", " ")
        return text[:1].lower() + text[1:]
    start = f.get("start_step")
    best = (f.get("evidence") or {}).get("best_step", start)
    return template.format(at=f" at step {fmt.num(start)}" if start is not None else "",
                           from_=f" from step {fmt.num(start)}" if start is not None else "",
                           best=fmt.num(best))


def note_text(code: str, name: str, runs: list[str]) -> str:
    """'LR not logged in 37 runs: pass --lr or log it' (one run: named)."""
    what, hint = NOTES.get(code) or (_rule_summary(code) or name.replace("-", " "), "")
    where = f"in {fmt.plural(len(runs), 'run')}" if len(runs) > 1 else f"in {runs[0]}"
    return f"{what[:1].upper()}{what[1:]} {where}" + (f": {hint}" if hint else "")


def why(run: dict) -> str:
    """The main reason for the run's verdict and advice, in plain words; a copy of another run's
    training (context/copies.py) says so, since its verdict is its original's."""
    reason = _why(run)
    return f"{reason} (copy of a run above)" if (run.get("extras") or {}).get("copy_of") else reason


def _why(run: dict) -> str:
    rec = run.get("recommendation") or {}
    if run["verdict"] == "crashed":
        return f"a check crashed ({', '.join(run.get('crashed') or ()) or 'see the findings'}): not fully diagnosed"
    findings = [f for f in run["findings"] if not f.get("note")]
    driver = next((f for f in findings if f["code"] == rec.get("rule")), None) or (findings[0] if findings else None)
    if rec.get("action") == "abstain" and rec.get("reason"):
        return first_clause(rec["reason"])
    if driver is not None:
        return finding_phrase(driver)
    if rec.get("action") == "keep":
        return "no LR problem found"
    return first_clause(rec.get("reason", "")) or "–"


def first_clause(text: str) -> str:
    """The reason up to its first ' -> ' or ';' (the part that says why, not the arithmetic)."""
    text = str(text).split(" -> ")[0].split("; ")[0].strip()
    if len(text) > 5 and text[:4].isalnum() and text[4:6] == ": ":  # "DV01: ..." — the code is shown elsewhere
        text = text[6:]
    return text
