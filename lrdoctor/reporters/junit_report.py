"""JUnit XML: a testsuite per run, a testcase per rule that was enabled for it.

A finding at or above ``fail_on`` is a ``<failure>`` of its rule's testcase (one per finding, so a
rule that fired twice shows two); findings below it go to the testcase's ``<system-out>``, so the
JUnit result agrees with the exit code.  Rules that could not run on the run (a missing curve,
a per-run ignore) are ``<skipped>`` with the reason.  Files that could not be read form one more
testsuite, "lrdoctor: reading", with an ``<error>`` each.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..report import FAIL_ON_LEVELS
from . import _format as fmt
from .records import report_to_dict

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3, "never": 99}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(text) -> str:
    return _XML_INVALID.sub("?", str(text))


def render(report, *, fail_on: str = "error", **_options) -> str:
    if fail_on not in FAIL_ON_LEVELS:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON_LEVELS)}, not {fail_on!r}")
    doc = report_to_dict(report)
    root = ET.Element("testsuites", name="lrdoctor")
    for run in doc["runs"]:
        root.append(_suite(run, SEVERITY_RANK[fail_on]))
    if doc["sweeps"]:
        root.append(_sweeps_suite(doc["sweeps"]))
    if doc["problems"]:
        root.append(_reading_suite(doc["problems"]))
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr)) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _cases(run: dict) -> dict[str, dict]:
    """code -> {"name", "findings", "skipped"} for every rule enabled for the run, in run order."""
    cases: dict[str, dict] = {}
    for r in run["rules_run"]:
        cases[r["code"]] = {"name": r["name"], "findings": [], "skipped": None}
    for r in run["rules_skipped"]:
        cases.setdefault(r["code"], {"name": r["name"], "findings": [], "skipped": r["reason"]})
    for f in run["findings"]:  # a finding from a rule not listed (hand-built report) still shows
        cases.setdefault(f["code"], {"name": f["name"], "findings": [], "skipped": None})["findings"].append(f)
    return cases


def _suite(run: dict, threshold: int) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(run["run"]))
    props = ET.SubElement(suite, "properties")
    rec = run["recommendation"] or {}
    for name, value in (("status", run["status"]), ("format", run["format"]), ("source", run["source"]),
                        ("recommendation", fmt.recommendation(run["recommendation"])),
                        ("reason", rec.get("reason", ""))):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    failures = skipped = 0
    for code, case in _cases(run).items():
        # time="0": the rules' run time is not measured, and some JUnit readers expect the attribute.
        tc = ET.SubElement(suite, "testcase", classname=_clean(run["run"]), name=f"{code} {case['name']}", time="0")
        if case["skipped"] is not None:
            ET.SubElement(tc, "skipped", message=_clean(case["skipped"]))
            skipped += 1
            continue
        failing = [f for f in case["findings"] if SEVERITY_RANK[f["severity"]] >= threshold]
        for f in failing:
            el = ET.SubElement(tc, "failure", message=_clean(f["message"]), type=f"{f['code']} {f['severity']}")
            el.text = _clean(_finding_text(f))
        failures += bool(failing)
        below = [f for f in case["findings"] if f not in failing]
        if below:
            ET.SubElement(tc, "system-out").text = _clean("\n\n".join(_finding_text(f) for f in below))
    out = [f"recommendation: {fmt.recommendation(run['recommendation'])}: {rec.get('reason', '')}"]
    out += [f"reading problem: {fmt.problem(p)}" for p in run["problems"]]
    ET.SubElement(suite, "system-out").text = _clean("\n".join(out))
    n_tests = sum(1 for el in suite if el.tag == "testcase")
    for attr, value in (("tests", n_tests), ("failures", failures), ("errors", 0), ("skipped", skipped), ("time", 0)):
        suite.set(attr, str(value))
    return suite


def _finding_text(f: dict) -> str:
    lines = [f"[{f['severity']}] {f['message']}"]
    where = fmt.steps(f["start_step"], f["end_step"])
    if where or f["tag"]:
        lines.append(" ".join(x for x in (f"tag {f['tag']}" if f["tag"] else "", where) if x))
    if f["evidence"]:
        lines.append(f"evidence: {fmt.evidence(f['evidence'])}")
    return "\n".join(lines)


def _sweeps_suite(sweeps: list[dict]) -> ET.Element:
    """One passing testcase per sweep, its recommendation and ranking in system-out."""
    suite = ET.Element("testsuite", name="lrdoctor: sweeps")
    for sweep in sweeps:
        tc = ET.SubElement(suite, "testcase", classname="lrdoctor.sweep", name=_clean(sweep.get("group", "?")), time="0")
        ET.SubElement(tc, "system-out").text = _clean("\n".join(fmt.sweep_lines(sweep)))
    for attr, value in (("tests", len(sweeps)), ("failures", 0), ("errors", 0), ("skipped", 0), ("time", 0)):
        suite.set(attr, str(value))
    return suite


def _reading_suite(problems: list[dict]) -> ET.Element:
    suite = ET.Element("testsuite", name="lrdoctor: reading")
    for p in problems:
        tc = ET.SubElement(suite, "testcase", classname="lrdoctor.reading", name=_clean(p["path"]), time="0")
        ET.SubElement(tc, "error", message=_clean(p["message"]), type="read-error")
    n = len(problems)
    for attr, value in (("tests", n), ("failures", 0), ("errors", n), ("skipped", 0), ("time", 0)):
        suite.set(attr, str(value))
    return suite
