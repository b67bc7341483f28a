"""Every format over the same fixed report: golden files plus well-formedness checks."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from lrdoctor import __version__
from lrdoctor.findings import Finding, Severity
from lrdoctor.report import Report, RunResult
from lrdoctor.reporters import FORMATS, render
from lrdoctor.reporters import _format as fmt
from lrdoctor.reporters.github_report import escape_data, escape_property

GOLDEN_NAMES = {"text": "report.txt", "json": "report.json", "markdown": "report.md",
                "junit": "report.xml", "github": "report.github.txt", "html": "report.html"}


@pytest.mark.parametrize("name", FORMATS)
def test_golden(name, sample_report, golden):
    golden(GOLDEN_NAMES[name], render(sample_report, name))


def test_golden_text_in_colour(sample_report, golden):
    golden("report.color.txt", render(sample_report, "text", color=True))


@pytest.mark.parametrize("name", FORMATS)
def test_rendering_is_deterministic(name, sample_report):
    assert render(sample_report, name) == render(sample_report, name)


# --------------------------------------------------------------------------- json contract

RUN_KEYS = {"id", "run", "source", "format", "status", "verdict", "crashed", "roles", "findings", "recommendation",
            "notes", "problems", "extras", "loss_preview", "rules_run", "rules_skipped"}
FINDING_KEYS = {"code", "name", "kind", "severity", "tag", "start_step", "end_step", "message", "note", "evidence"}
REC_KEYS = {"action", "factor", "current_lr", "suggested_lr", "reason", "confidence", "rule", "stop_step"}


def test_json_matches_the_contract(sample_report):
    doc = json.loads(render(sample_report, "json"))
    assert doc["version"] == 1 and doc["tool"] == {"name": "lrdoctor", "version": __version__}
    assert set(doc) == {"version", "tool", "runs", "sweeps", "problems", "summary"}
    for run in doc["runs"]:
        assert set(run) == RUN_KEYS
        assert run["status"] in ("ok", "info", "warning", "error")
        assert set(run["recommendation"]) == REC_KEYS
        for f in run["findings"]:
            assert set(f) == FINDING_KEYS and f["kind"] in {
                "divergence", "spike", "oscillation", "plateau", "slow_convergence", "overfitting", "data_quality",
                "lr_range_test"}
    assert [r["status"] for r in doc["runs"]] == ["error", "warning", "info", "ok"]
    # the run whose only finding is a data-quality note is "info" by status but "ok" by verdict
    assert [r["verdict"] for r in doc["runs"]] == ["error", "warning", "ok", "ok"]
    assert [f["note"] for r in doc["runs"] for f in r["findings"]] == [False, False, False, True]
    assert doc["runs"][1]["recommendation"]["stop_step"] == 60  # stop-early: the OF01 finding's best step
    assert doc["runs"][0]["recommendation"]["stop_step"] is None
    assert doc["summary"] == {"status": "error", "runs": 4, "runs_ok": 1, "runs_crashed": 0, "errors": 1, "warnings": 2, "infos": 1,
                              "verdicts": {"error": 1, "warning": 1, "ok": 2}, "reading_problems": 2}


def test_json_keys_present_even_when_empty():
    doc = json.loads(render(Report(runs=(RunResult("r", "r", "csv"),)), "json"))
    assert set(doc["runs"][0]) == RUN_KEYS
    assert doc["runs"][0]["recommendation"] is None and doc["sweeps"] == [] and doc["problems"] == []
    assert json.loads(render(Report(runs=()), "json"))["summary"]["runs"] == 0


def test_json_has_no_nan_and_plain_numbers():
    import numpy as np

    f = Finding("X01", "x", "spike", Severity.INFO, "m", start_step=np.int64(5),
                evidence={"nan": float("nan"), "np": np.float32(0.5), "arr": np.array([1, 2])})
    rr = RunResult("r", "r", "csv", (f,), loss_preview=(1.0, float("nan")),
                   extras={"lr_range_test": {"best": np.float64(0.01), "curve": np.array([0.1, np.inf])}})
    text = render(Report(runs=(rr,), sweeps=({"n": np.int64(3)},)), "json")
    doc = json.loads(text)  # would raise on NaN: the renderer uses allow_nan=False
    run = doc["runs"][0]
    assert run["findings"][0]["start_step"] == 5 and run["findings"][0]["evidence"] == {
        "arr": [1, 2], "nan": None, "np": 0.5}
    assert run["loss_preview"] == [1.0, None] and run["extras"]["lr_range_test"]["curve"] == [0.1, None]
    assert doc["sweeps"] == [{"n": 3}]


# --------------------------------------------------------------------------- junit


def _junit(report, fail_on="error"):
    return ET.fromstring(render(report, "junit", fail_on=fail_on).encode())


def test_junit_structure(sample_report):
    root = _junit(sample_report)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["runs/diverged", "overfit", "short", "good", "lrdoctor: sweeps",
                                              "lrdoctor: reading"]
    assert "suggested LR 0.001" in suites[-2].find("testcase/system-out").text
    diverged = suites[0]
    cases = {c.get("name"): c for c in diverged.findall("testcase")}
    assert set(cases) == {"DV01 loss-diverged", "SP01 loss-spikes", "OF01 val-loss-rising"}
    assert len(cases["DV01 loss-diverged"].findall("failure")) == 1
    assert cases["SP01 loss-spikes"].find("failure") is None  # a warning, below fail-on=error
    assert "3 spikes" in cases["SP01 loss-spikes"].find("system-out").text
    assert cases["OF01 val-loss-rising"].find("skipped").get("message") == "missing val_loss"
    assert (diverged.get("tests"), diverged.get("failures"), diverged.get("skipped")) == ("3", "1", "1")
    assert suites[-1].find("testcase/error").get("message") == "not a log file: unknown format"
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites))


@pytest.mark.parametrize("fail_on, failures", [("info", 4), ("warning", 3), ("error", 1), ("never", 0)])
def test_junit_failures_follow_fail_on(sample_report, fail_on, failures):
    root = _junit(sample_report, fail_on)
    assert len(root.findall(".//failure")) == failures
    assert root.get("failures") == str(failures)  # one finding per rule here, so failed cases = findings


def test_junit_one_failure_per_finding():
    findings = tuple(Finding("SP01", "loss-spikes", "spike", Severity.ERROR, f"spike {i}", start_step=i)
                     for i in range(3))
    root = _junit(Report(runs=(RunResult("r", "r", "csv", findings, rules_run=(("SP01", "loss-spikes"),)),)))
    case = root.find("testsuite/testcase")
    assert [f.get("message") for f in case.findall("failure")] == ["spike 0", "spike 1", "spike 2"]
    assert root.find("testsuite").get("failures") == "1"


def test_junit_strips_xml_invalid_characters():
    f = Finding("X01", "x", "spike", Severity.ERROR, "bad \x00\x1b char")
    root = ET.fromstring(render(Report(runs=(RunResult("r", "r", "csv", (f,)),)), "junit").encode())
    assert root.find(".//failure").get("message") == "bad ?? char"


# --------------------------------------------------------------------------- markdown

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def test_markdown_tables_are_well_formed(sample_report):
    text = render(sample_report, "markdown")
    lines = text.splitlines()
    assert lines[0].startswith("## lrdoctor:")
    assert "| Run | Status | Action | LR now → new | Why | Loss |" in lines
    table = None
    for line in lines:
        if line.startswith("|"):
            cells = len(_CELL_SPLIT.split(line)) - 2
            table = table or cells
            assert cells == table, f"ragged row: {line}"
            assert line.endswith("|")
        else:
            table = None
    assert "\\|" in text and "&lt;worst&gt;" in text  # the pipe and the angle brackets were escaped
    assert "### `runs/diverged` — ❌ error" in text and "### `good`" not in text  # sections only with findings
    assert "### `short`" not in text  # only a data-quality note: said once, in the notes
    assert "- No validation loss in short: overfitting was not checked (DQ02)" in lines


def test_markdown_sections_stop_at_the_size_limit(sample_report):
    full = render(sample_report, "markdown")
    cut = render(sample_report, "markdown", max_bytes=len(full.split("### `overfit`")[0].encode()))
    assert "### `runs/diverged`" in cut and "### `overfit`" not in cut
    assert "*1 more run with findings is not shown here (size limit)" in cut


# --------------------------------------------------------------------------- github

_COMMAND = re.compile(r"^::(error|warning|notice)( title=[^,:\r\n]*)?::[^\r\n]*$")


def test_github_lines_are_workflow_commands(sample_report):
    lines = render(sample_report, "github").splitlines()
    assert all(_COMMAND.match(line) for line in lines[:-1]), lines
    assert lines[-1].startswith("lrdoctor: 4 runs checked")
    kinds = [line.split(" ", 1)[0] for line in lines[:-1]]
    assert kinds == ["::error", "::warning", "::warning", "::notice", "::notice", "::warning"]
    assert lines[3] == "::notice title=lrdoctor DQ02 no-validation::No validation loss in short: overfitting was not checked"
    assert lines[4].startswith("::notice title=lrdoctor sweep runs::") and "suggested LR 0.001" in lines[4]
    assert "%0Asecond line" in lines[1] and "100%25" in lines[1]


def test_github_respects_the_ten_per_kind_limit():
    errors = tuple(Finding("DV01", "x", "divergence", Severity.ERROR, f"boom {i}") for i in range(25))
    warnings = tuple(Finding("SP01", "y", "spike", Severity.WARNING, f"spike {i}") for i in range(3))
    lines = render(Report(runs=(RunResult("r", "r", "csv", errors + warnings),)), "github").splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert sum(line.startswith("::error ") for line in commands) == 10
    assert sum(line.startswith("::warning ") for line in commands) == 3
    assert "16 more error annotations" in commands[-1]
    plain = [line for line in lines if not line.startswith("::")]
    assert len(plain) == 17 and plain[0].startswith("lrdoctor: error: lrdoctor DV01 x (r): r: boom 9")


def test_github_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a: b, c%") == "a%3A b%2C c%25"


# --------------------------------------------------------------------------- text


def test_text_summary_table_first_then_blocks(sample_report):
    text = render(sample_report, "text")
    blocks = text.split("\n\n")
    assert blocks[0].splitlines()[0].split() == ["RUN", "STATUS", "ACTION", "LR", "NOW", "→", "NEW", "WHY"]
    assert blocks[1].startswith("runs/diverged  ERROR")
    assert blocks[1].splitlines()[1] == "  → decrease the LR 0.0155 → 0.00155 (÷10)"
    assert "\x1b[" not in text
    assert text.rstrip().endswith("4 runs checked: 1 ERROR, 1 WARNING, 2 OK; 2 reading problems")
    assert "\x1b[" in render(sample_report, "text", color=True)


def test_sparkline_shows_shape_and_nan():
    assert fmt.sparkline([3, 2, 1]) == "█▅▁"
    assert fmt.sparkline([1, 1]) == "▁▁"
    assert fmt.sparkline([1, float("nan"), None, 2]) == "▁××█"
    assert fmt.sparkline([100, 10, 1]) == "█▅▁"  # log scale: one decade per step


def test_number_and_step_formatting():
    assert (fmt.num(1200), fmt.num(0.0031234), fmt.num(None)) == ("1,200", "0.00312", "–")
    assert fmt.steps(5, 5) == "step 5" and fmt.steps(1000, 2000) == "steps 1,000–2,000" and fmt.steps(None, None) == ""
    rec = {"action": "increase", "current_lr": 1e-4, "suggested_lr": 1e-3, "factor": 10.0}
    assert fmt.recommendation(rec) == "increase the LR 0.0001 → 0.001 (×10)"
    assert fmt.recommendation({**rec, "current_lr": None, "suggested_lr": None}) == (
        "increase the LR ×10 (the LR is not logged; --lr gives it)")
    assert [fmt.factor(x) for x in (0.0316, 0.01, 0.5, 1.0, 36.2, 3160.0, None)] == [
        "÷32", "÷100", "÷2", "×1", "×36", "×3,200", ""]


def test_unknown_format_is_an_error(sample_report):
    with pytest.raises(ValueError, match="unknown format"):
        render(sample_report, "yaml")
