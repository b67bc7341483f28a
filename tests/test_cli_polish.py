"""CLI details a new user meets first: help that is not cut, an aligned rules table, readable rule docs,
only the options that apply, runs named after their directory, -v/-q, the schema command."""
from __future__ import annotations

import re

import pytest

from lrdoctor.cli_plots import display_name as _display_name
from lrdoctor.cli_plots import plot_name as _plot_name


def test_command_list_is_not_cut(run_cli):
    out, _ = run_cli(["--help"])
    commands = out.split("Commands:")[1].strip().splitlines()
    assert {line.split()[0] for line in commands} >= {"diagnose", "findlr", "plot", "rules", "runs", "schema"}
    assert not any(line.rstrip().endswith("...") for line in commands), commands


def test_rules_table_columns_line_up(run_cli):
    out, _ = run_cli(["rules"])
    rows = [line for line in out.splitlines() if re.match(r"^[A-Z]{2}\d{2}  ", line)]
    assert len(rows) >= 10
    severity_at = {re.search(r"  (error|warning|info) ", row).start() for row in rows}
    kind_at = {re.search(r"  (error|warning|info) +(\S+)", row).start(2) for row in rows}
    assert len(severity_at) == 1 and len(kind_at) == 1, rows


def test_rule_doc_is_plain_and_wrapped(run_cli):
    out, _ = run_cli(["rules", "DV02"])
    assert "``" not in out and "rise_over_start" in out
    assert all(len(line) <= 120 for line in out.splitlines() if " " in line.strip())


@pytest.mark.parametrize("command, absent", [
    ("findlr", ["--fail-on", "--group-by", "--select", "--ignore"]),
    ("plot", ["--fail-on", "--group-by"]),
    ("runs", ["--fail-on", "--group-by", "--select", "--lr"]),
])
def test_commands_list_only_options_that_apply(run_cli, command, absent):
    out, _ = run_cli([command, "--help"])
    assert "--config" in out and "--tag" in out
    assert not [opt for opt in absent if opt + " " in out], out


def test_a_run_given_as_a_file_is_named_after_its_directory(tmp_path, monkeypatch):
    log = tmp_path / "exp1" / "training.log"
    log.parent.mkdir()
    log.write_text("epoch,loss\n")
    assert _display_name(".", str(log)) == "exp1" and _plot_name(".", str(log)) == "exp1.png"
    assert _display_name(".", str(log.parent)) == "exp1"
    assert _display_name("a/b", str(tmp_path)) == "a/b"
    monkeypatch.chdir(log.parent)  # the file is in the current directory: its stem is all there is
    assert _display_name(".", "training.log") == "training"


def test_verbose_and_quiet_exclude_each_other(fake_logs, run_cli):
    _, err = run_cli(["diagnose", fake_logs["dir"], "-v", "-q"], 2)
    assert "exclude each other" in err


def test_quiet_prints_one_line_per_run(fake_logs, run_cli):
    out, _ = run_cli(["diagnose", fake_logs["dir"], "-q", "--fail-on", "never"], 0)
    lines = out.splitlines()
    assert len(lines) == len(fake_logs["runs"]) + 1 and lines[-1].startswith("4 runs checked: ")


def test_text_width_follows_the_terminal(monkeypatch):
    from lrdoctor.cli import _render_options

    monkeypatch.setenv("COLUMNS", "137")
    assert _render_options("text", False, None)["width"] == 137
    assert _render_options("text", False, "report.txt")["width"] == 100  # a file: a fixed, readable width
    assert _render_options("json", None, None) == {}
