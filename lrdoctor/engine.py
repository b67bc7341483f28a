"""diagnose(runs, config) -> Report: select rules, run them, contain crashes, sort, advise."""
from __future__ import annotations

import dataclasses
import fnmatch
from typing import Callable, Iterable, Sequence

import numpy as np

from . import advice, containment
from .config import Config
from .context import across_runs
from .context.copies import split_copies, with_copies
from .findings import Finding
from .model import TRAIN_LOSS, Problem, Run
from .report import Report, RunResult, loss_preview
from .rules import all_rules, rule_matches
from .rules._view import forget_views
from .rules.base import Rule


def _matches(rule: type[Rule], keys: Iterable[str]) -> bool:
    return any(rule_matches(rule, key.strip()) for key in keys)


def selected_rules(config: Config) -> list[type[Rule]]:
    rules = all_rules()
    if config.select:
        rules = [r for r in rules if _matches(r, config.select)]
    return [r for r in rules if not _matches(r, config.ignore)]


def _options_for(rule: type[Rule], config: Config):
    overrides = config.rule_options.get(rule.name, {})
    return dataclasses.replace(rule.Options(), **overrides) if overrides else rule.Options()


def _ignored_for_run(rule: type[Rule], run: Run, config: Config) -> bool:
    for pattern, keys in config.per_run_ignores.items():
        if fnmatch.fnmatch(run.name, pattern) and _matches(rule, keys):
            return True
    return False


def _why_skipped(rule_cls: type[Rule], run: Run) -> str:
    missing = [role for role in rule_cls.requires if run.get(role) is None]
    return f"missing {', '.join(missing)}" if missing else "not applicable to this run"


def diagnose_run(run: Run, rules: Sequence[type[Rule]], config: Config) -> RunResult:
    """Every check on ``run``; one that crashes is reported as such (containment), never as a pass."""
    try:
        return _diagnose_run(run, rules, config)
    except Exception as exc:  # outside any one check (the advice, the preview): the whole run could not be judged
        crash = containment.crash_finding(containment.DIAGNOSIS, "diagnosis", run.name, exc)
        return RunResult(run=run.name, source=run.source, format=run.format, findings=(crash,),
                         recommendation=containment.with_crashes(None, (containment.DIAGNOSIS,)),
                         problems=tuple(run.problems), roles=dict(run.roles), crashed=(containment.DIAGNOSIS,))
    finally:
        forget_views()  # its prepared curves are not needed after its diagnosis


def _diagnose_run(run: Run, rules: Sequence[type[Rule]], config: Config) -> RunResult:
    range_test, range_test_crash = _range_test_result(run, rules)
    if range_test is not None:
        return range_test
    findings: list[Finding] = [] if range_test_crash is None else [range_test_crash]
    ran: list[tuple[str, str]] = []  # (code, name), for the JUnit report
    skipped: list[tuple[str, str, str]] = []  # (code, name, reason)
    for rule_cls in rules:
        if _ignored_for_run(rule_cls, run, config):
            skipped.append((rule_cls.code, rule_cls.name, "ignored for this run (per-run-ignores)"))
            continue
        try:
            rule = rule_cls()
            if not rule.applicable(run):
                skipped.append((rule_cls.code, rule_cls.name, _why_skipped(rule_cls, run)))
                continue
            ran.append((rule_cls.code, rule_cls.name))
            findings.extend(rule.check(run, _options_for(rule_cls, config)))
        except Exception as exc:  # a broken rule must not hide the other rules' findings, nor pass
            findings.append(containment.crash_finding(rule_cls.code, rule_cls.name, run.name, exc))
    findings.sort(key=lambda f: (-int(f.severity), f.start_step if f.start_step is not None else -1, f.code))
    crashed = containment.crashed_codes(findings)
    rec = containment.with_crashes(advice.recommend(run, findings, lr_override=config.lr), crashed)
    return RunResult(
        run=run.name,
        source=run.source,
        format=run.format,
        findings=tuple(findings),
        recommendation=rec,
        problems=tuple(run.problems),
        roles=dict(run.roles),
        loss_preview=loss_preview(None if run.get(TRAIN_LOSS) is None else run.get(TRAIN_LOSS).values),
        rules_run=tuple(ran),
        rules_skipped=tuple(skipped),
        crashed=crashed,
    )


def _range_test_result(run: Run, rules: Sequence[type[Rule]]) -> tuple[RunResult | None, Finding | None]:
    """A range test blows up by design, so the rules are skipped and its suggestion is the advice.

    Returns (result, None) for a range test, (None, None) for a normal run, and (None, finding) when
    the range-test analysis crashed: the run is then diagnosed as a normal one and the crash is shown.
    """
    from .context import rangetest

    try:
        fit = rangetest.analyse(run)
    except Exception as exc:  # an odd LR curve must not stop the diagnosis, nor be hidden
        return None, containment.crash_finding(rangetest.CODE, "LR range-test analysis", run.name, exc)
    if fit is None:
        return None, None
    values = None if run.get(TRAIN_LOSS) is None else run.get(TRAIN_LOSS).values
    skipped = tuple((r.code, r.name, "LR range test: rules not run") for r in rules)
    return rangetest.range_test_result(run, fit, loss_preview=loss_preview(values), rules_skipped=skipped), None


def diagnose_runs(runs: Sequence[Run], config: Config | None = None, problems: Sequence[Problem] = (),
                  progress: Callable[[Sequence[Run]], Iterable[Run]] | None = None) -> Report:
    """``progress`` wraps the runs while they are diagnosed (the CLI's progress bar)."""
    config = config or Config()
    rules = selected_rules(config)
    originals, copies = split_copies(runs)  # a training logged twice is diagnosed once (context/copies.py)
    # Logs hold values up to 1e308 and inf; the rules handle non-finite results explicitly, so numpy's
    # overflow/invalid warnings would only be noise on the user's stderr.
    with np.errstate(all="ignore"):
        results = [diagnose_run(run, rules, config) for run in (progress(runs) if progress else runs)
                   if run.name not in copies]
        results.sort(key=lambda r: (-r.rank, r.run))
        # Worst first (crashed, then by severity), then by name: across_runs sorts again after its findings.
        results, sweeps, sweep_problems = across_runs(originals, results, config)  # sweeps, baseline
        results = with_copies(results, copies)  # each copy right after its original
    return Report(runs=tuple(results), problems=tuple(problems) + sweep_problems, sweeps=sweeps)
