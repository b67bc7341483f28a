"""File and tag names come from the logs: their control characters must not reach a terminal, a CI log
or a page raw (terminal escape injection, forged workflow commands, reordered text)."""
from __future__ import annotations

import json

import pytest

from lrdoctor.findings import Finding, Recommendation, Severity
from lrdoctor.model import Problem
from lrdoctor.report import Report, RunResult
from lrdoctor.reporters import render
from lrdoctor.reporters._format import visible

EVIL = "runs/\x1b]0;pwned\x07evil\x1b[2J\r\n::error::forged\u202egnp.exe\x9b31m"


def _report() -> Report:
    f = Finding("DV01", "non-finite-loss", "divergence", Severity.ERROR,
                f"{EVIL}/loss became NaN at step 3", run=EVIL, tag=f"{EVIL}/loss", start_step=3)
    rec = Recommendation("decrease", 0.01, None, None, f"DV01: {EVIL} -> use /100", "high", rule="DV01")
    note = Finding("DQ04", "lr-not-logged", "data_quality", Severity.INFO, "no lr", run=EVIL)
    return Report(runs=(RunResult(EVIL, f"/logs/{EVIL}", "tb", (f, note), rec,
                                  problems=(Problem(f"/logs/{EVIL}/events", "truncated", partial=True),)),),
                  problems=(Problem(f"/logs/{EVIL}.bin", f"bad {EVIL}"),))


def test_visible_escapes_every_control_character():
    assert visible("a\x1bb\x07c\x00d\x7fe\x9bf\u202eg\tz") == "a\\x1bb\\x07c\\x00d\\x7fe\\x9bf\\u202eg\\tz"
    assert visible("line\nnext") == "line\\nnext" and visible("line\nnext", keep_newlines=True) == "line\nnext"
    assert visible("ünïcode → ok ▁█") == "ünïcode → ok ▁█"  # printable text is left alone


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "html"])
def test_human_formats_show_control_characters_escaped(fmt):
    out = render(_report(), fmt, verbosity=1)
    raw = [c for c in out if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0 or c == "\u202e"]
    assert raw == [], f"raw control characters in {fmt}: {raw!r}"
    assert "\\x1b]0;pwned\\x07evil\\x1b[2J" in out and "\\u202e" in out


def test_github_cannot_be_made_to_forge_a_command():
    lines = render(_report(), "github").splitlines()
    assert not any(line.startswith("::error::forged") for line in lines)
    assert all(line.startswith(("::", "lrdoctor: ")) for line in lines)


def test_json_keeps_the_names_as_they_are():
    doc = json.loads(render(_report(), "json"))
    assert doc["runs"][0]["run"] == EVIL  # JSON escapes them itself; a program gets the real name


def test_cli_stderr_shows_control_characters_escaped(fake_logs, run_cli):
    fake_logs["problems"] = [Problem("/x/\x1b[31mbad.bin", "garbage \x07")]
    _, err = run_cli(["diagnose", fake_logs["dir"], "--fail-on", "never"], 0)
    assert "\x1b" not in err and "\x07" not in err
    assert "lrdoctor: warning: /x/\\x1b[31mbad.bin: garbage \\x07" in err


def test_runs_listing_shows_control_characters_escaped(fake_logs, run_cli):
    from lrdoctor.model import Series

    run = fake_logs["runs"][0]
    run.series["loss\x1b[2J"] = Series.from_lists([0, 1], [1.0, 0.5])
    out, _ = run_cli(["runs", fake_logs["dir"]], 0)
    assert "\x1b" not in out and "loss\\x1b[2J" in out


def test_error_messages_show_control_characters_escaped(run_cli, tmp_path):
    bad = tmp_path / "cfg\x1b[31m.toml"
    bad.write_text("fial-on = 1\n")
    _, err = run_cli(["config", "--config", bad], 2)
    assert "\x1b" not in err and "cfg\\x1b[31m.toml" in err
