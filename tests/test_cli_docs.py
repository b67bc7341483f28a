"""The docs' recipes work: the CI command line runs, the configuration example validates; progress bar."""
from __future__ import annotations

import io
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lrdoctor import progress

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _blocks(name: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), flags=re.S)


def test_ci_workflow_is_yaml_and_its_command_runs(fake_logs, run_cli, tmp_path, monkeypatch):
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(next(b for b in _blocks("ci.md", "yaml") if "smoke-train" in b))
    steps = workflow["jobs"]["smoke-train"]["steps"]
    command = next(s["run"] for s in steps if s.get("id") == "lrdoctor")
    args = shlex.split(command)
    assert args[:3] == ["lrdoctor", "diagnose", "runs/"]
    monkeypatch.chdir(tmp_path)
    args[2] = fake_logs["dir"]
    out, _ = run_cli(args[1:], 1)  # the fake logs hold an error-level finding: the job fails
    assert out.startswith("::error title=")
    assert ET.parse(tmp_path / "lrdoctor.xml").getroot().get("failures") == "1"
    assert (tmp_path / "lrdoctor.md").read_text().startswith("## lrdoctor:")
    plots = {p.name for p in (tmp_path / "lrdoctor-plots").glob("*.png")}
    assert plots >= {"diverged.png", "good.png", "overfit.png", "short.png"}  # (+ one per sweep)


def test_configuration_example_is_valid():
    from lrdoctor.config import parse_settings
    from lrdoctor.rules import find_rule

    text = _blocks("configuration.md", "toml")[0]
    table = tomllib.loads(text)["tool"]["lrdoctor"]
    if find_rule("loss-spikes") is None:
        pytest.skip("the example's rules are not in the catalogue")
    settings = parse_settings(table, "docs/configuration.md")
    assert settings["fail_on"] == "error" and settings["tag_roles"]["val_loss"] == ("loss/val",)


def test_progress_bar_only_when_wanted():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert not progress.wanted(100, io.StringIO())  # piped: silent
    assert not progress.wanted(3, Tty())  # few items: silent
    assert progress.wanted(100, Tty()) and progress.wanted(1, io.StringIO(), enabled=True)
    stream = Tty()
    with progress.bar(list(range(20)), "diagnosing", stream=stream) as items:
        assert list(items) == list(range(20))
    assert "diagnosing" in stream.getvalue()
    quiet = io.StringIO()
    with progress.bar(list(range(20)), "diagnosing", stream=quiet) as items:
        assert list(items) == list(range(20))
    assert quiet.getvalue() == ""


def test_reading_counter_draws_a_bar_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream, quiet = Tty(), io.StringIO()
    for out in (stream, quiet):
        with progress.counter("reading", stream=out) as tick:
            for done in range(1, 21):
                tick(done, 20)
    assert "reading" in stream.getvalue() and "20/20" in stream.getvalue()
    assert quiet.getvalue() == ""
