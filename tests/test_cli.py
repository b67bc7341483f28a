"""The CLI through ``main(argv)``: exit codes 0/1/2 for each path, config files, outputs.

Runs come from the ``fake_logs`` fixture (hand-made runs, three test rules: TD01 error on
"diverged", TO01 warning on "overfit", TQ01 info on "short"), so these tests do not depend on
the real rules' tuning.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

import pytest

from lrdoctor.errors import ReadError

PY = sys.executable


@pytest.mark.parametrize("args, code", [
    ([], 1),  # TD01 is an error; default --fail-on error
    (["--fail-on", "never"], 0),
    (["--fail-on", "error", "--ignore", "TD01"], 0),  # TO01 warning and TQ01 info remain
    (["--fail-on", "warning", "--ignore", "TD01"], 1),
    (["--fail-on", "warning", "--select", "TQ"], 0),  # prefix select: only the info rule
    (["--fail-on", "info", "--select", "TQ"], 1),
    (["--fail-on", "info", "--select", "test-few-points"], 1),  # by name
    (["--ignore", "TD01,TO01", "--fail-on", "warning"], 0),  # comma-separated
])
def test_exit_codes_follow_fail_on(fake_logs, run_cli, args, code):
    out, _ = run_cli(["diagnose", fake_logs["dir"], *args], code)
    assert "runs checked" in out


def test_stdout_is_only_the_report(fake_logs, run_cli):
    fake_logs["problems"] = [__import__("lrdoctor.model", fromlist=["Problem"]).Problem("/x/bad.bin", "garbage")]
    out, err = run_cli(["diagnose", fake_logs["dir"], "--format", "json"], 1)
    doc = json.loads(out)
    assert [r["run"] for r in doc["runs"]][0] == "diverged" and doc["summary"]["errors"] == 1
    assert "lrdoctor: warning: /x/bad.bin: garbage" in err


@pytest.mark.parametrize("args, message", [
    (["diagnose", "{dir}", "--bogus"], "No such option"),
    (["diagnose", "{dir}", "--format", "yaml"], "Invalid value for '--format'"),
    (["diagnose", "{dir}", "--fail-on", "sometimes"], "Invalid value for '--fail-on'"),
    (["diagnose", "/no/such/dir"], "does not exist"),
    (["diagnose"], "Missing argument"),
    (["diagnose", "{dir}", "--select", "XX99"], "'XX99' matches no rule"),
    (["diagnose", "{dir}", "--ignore", "test-diverge"], "did you mean 'test-diverged'?"),
    (["diagnose", "{dir}", "--tag", "train_los=x"], "did you mean 'train_loss'?"),
    (["diagnose", "{dir}", "--tag", "nonsense"], "expected ROLE=TAG"),
    (["diagnose", "{dir}", "--save", "xml=a.xml"], "expected FORMAT=FILE"),
    (["diagnose", "{dir}", "--lr", "-1"], "Invalid value for '--lr'"),
    (["nope"], "No such command"),
])
def test_usage_errors_exit_2(fake_logs, run_cli, args, message):
    _, err = run_cli([a.format(dir=fake_logs["dir"]) for a in args], 2)
    assert message in err


def test_no_runs_found_exits_2_and_still_reports(fake_logs, run_cli):
    from lrdoctor.model import Problem

    fake_logs["runs"], fake_logs["problems"] = [], [Problem("/logs/x.csv", "no header")]
    out, err = run_cli(["diagnose", fake_logs["dir"], "--format", "json"], 2)
    assert json.loads(out)["problems"][0]["message"] == "no header"
    assert "no runs found under" in err and "/logs/x.csv: no header" in err


def test_unreadable_input_exits_2(fake_logs, run_cli, monkeypatch):
    import lrdoctor.readers as readers

    def broken(path, tag_roles=None, progress=None):
        raise ReadError(f"{path}: permission denied")

    monkeypatch.setattr(readers, "read_runs", broken)
    out, err = run_cli(["diagnose", fake_logs["dir"]], 2)
    assert out == "" and "lrdoctor: error:" in err and "permission denied" in err


def test_internal_error_is_exit_2_not_1(fake_logs, run_cli, monkeypatch):
    import lrdoctor.readers as readers

    monkeypatch.setattr(readers, "read_runs", lambda path, tag_roles=None, progress=None: 1 / 0)
    _, err = run_cli(["diagnose", fake_logs["dir"]], 2)
    assert "ZeroDivisionError" in err and "internal error" in err


def test_config_command_with_defaults_only(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, _ = run_cli(["config"], 0)
    assert out.startswith("# source: defaults and command-line flags") and 'fail-on = "error"' in out


def test_output_file_and_save(fake_logs, run_cli, tmp_path):
    report, junit = tmp_path / "r.md", tmp_path / "r.xml"
    out, err = run_cli(["diagnose", fake_logs["dir"], "--format", "markdown", "-o", report,
                        "--save", f"junit={junit}", "--fail-on", "never"], 0)
    assert out == "" and f"wrote {report}" in err
    assert report.read_text().startswith("## lrdoctor:")
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0"  # --fail-on never: nothing is a failure
    assert {s.get("name") for s in root} == {"good", "diverged", "overfit", "short"}


def test_junit_failures_match_fail_on(fake_logs, run_cli, tmp_path):
    out, _ = run_cli(["diagnose", fake_logs["dir"], "--format", "junit", "--fail-on", "warning"], 1)
    root = ET.fromstring(out.encode())
    assert {f.get("type") for f in root.iter("failure")} == {"TD01 error", "TO01 warning"}
    short = next(s for s in root if s.get("name") == "short")
    assert short.find("testcase[@name='TO01 test-overfit']/skipped").get("message") == "missing val_loss"


def test_colour_only_when_asked_or_on_a_tty(fake_logs, run_cli):
    plain, _ = run_cli(["diagnose", fake_logs["dir"]], 1)  # captured stdout is not a TTY
    coloured, _ = run_cli(["diagnose", fake_logs["dir"], "--color"], 1)
    assert "\x1b[" not in plain and "\x1b[" in coloured


def test_colour_on_by_default_on_a_tty_unless_no_color(fake_logs, run_cli, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    coloured, _ = run_cli(["diagnose", fake_logs["dir"]], 1)
    monkeypatch.setenv("NO_COLOR", "1")
    plain, _ = run_cli(["diagnose", fake_logs["dir"]], 1)
    assert "\x1b[" in coloured and "\x1b[" not in plain


def test_tag_flag_reaches_the_readers(fake_logs, run_cli):
    run_cli(["diagnose", fake_logs["dir"], "--tag", "train_loss=my_loss,other", "--fail-on", "never"], 0)
    assert fake_logs["tag_roles"] == {"train_loss": ("my_loss", "other")}


def test_help_and_version(run_cli):
    out, _ = run_cli(["--help"], 0)
    assert "diagnose" in out and "Exit codes" in out
    out, _ = run_cli(["--version"], 0)
    assert "lrdoctor" in out
    _, err = run_cli([], 2)  # no command: usage, and never 1
    assert "Usage" in err or "Commands" in err


# --------------------------------------------------------------------------- configuration files


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_pyproject_settings_apply_and_flags_override(fake_logs, run_cli, tmp_path):
    _write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.lrdoctor]\nfail-on = "never"\n')
    run_cli(["diagnose", fake_logs["dir"]], 0)
    run_cli(["diagnose", fake_logs["dir"], "--fail-on", "error"], 1)


def test_lrdoctor_toml_rule_options_and_per_run_ignores(fake_logs, run_cli, tmp_path):
    toml = _write(tmp_path / "lrdoctor.toml", 'fail-on = "info"\n[rules.test-few-points]\nmin_points = 2\n')
    out, _ = run_cli(["diagnose", fake_logs["dir"], "--select", "TQ"], 0)  # 4 points >= 2: no finding
    assert "TQ01" not in out and "4 runs checked: 4 OK" in out
    _write(toml, '[per-run-ignores]\n"diverg*" = ["TD01"]\n')
    run_cli(["diagnose", fake_logs["dir"], "--select", "TD"], 0)
    _write(toml, '[rules.TD01]\nmin_points = 1000\n')  # by code too; the rule no longer fires
    run_cli(["diagnose", fake_logs["dir"]], 0)


def test_explicit_config_file(fake_logs, run_cli, tmp_path):
    cfg = _write(tmp_path / "ci.toml", 'ignore = ["TD"]\n')
    run_cli(["diagnose", fake_logs["dir"], "--config", cfg], 0)
    run_cli(["diagnose", "--config", cfg, fake_logs["dir"]], 0)  # order of option and argument


@pytest.mark.parametrize("text, message", [
    ('fial-on = "warning"\n', "unknown key 'fial-on'; did you mean 'fail-on'?"),
    ('fail-on = "sometimes"\n', "expected one of info, warning, error, never"),
    ('select = ["ZZ"]\n', "'ZZ' matches no rule"),
    ('[rules.test-divergd]\nfactor = 3\n', "unknown rule 'test-divergd'; did you mean 'test-diverged'?"),
    ('[rules.test-diverged]\nfactr = 3\n', "unknown option 'factr'; did you mean 'factor'?"),
    ('[rules.test-diverged]\nmin_points = "10"\n', "expected int, got '10'"),
    ('[rules.test-diverged]\nmin_points = 2.5\n', "expected int"),
    ('[tags]\nval_los = ["v"]\n', "did you mean 'val_loss'?"),
    ('lr = -3\n', "expected a positive number"),
    ('fail-on = \n', "invalid TOML"),
])
def test_bad_config_exits_2_with_a_suggestion(fake_logs, run_cli, tmp_path, text, message):
    path = _write(tmp_path / "lrdoctor.toml", text)
    out, err = run_cli(["diagnose", fake_logs["dir"]], 2)
    assert out == "" and message in err and str(path) in err


def test_missing_config_file_exits_2(fake_logs, run_cli, tmp_path):
    _, err = run_cli(["diagnose", fake_logs["dir"], "--config", tmp_path / "absent.toml"], 2)
    assert "cannot read" in err


def test_config_command_shows_effective_settings(fake_logs, run_cli, tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.lrdoctor]\nignore = ["TQ"]\nlr = 0.01\n'
           '[tool.lrdoctor.tags]\ntrain_loss = "my_loss"\n[tool.lrdoctor.rules.test-diverged]\nfactor = 3\n')
    out, _ = run_cli(["config", fake_logs["dir"], "--fail-on", "warning"], 0)
    shown = tomllib.loads(out)
    assert shown["ignore"] == ["TQ"] and shown["fail-on"] == "warning" and shown["lr"] == 0.01
    assert shown["tags"] == {"train_loss": ["my_loss"]} and shown["rules"]["test-diverged"] == {"factor": 3.0}
    assert "# min_points = 3  (default)" in out  # the defaults of every rule, as comments
    assert out.startswith(f"# source: {tmp_path / 'pyproject.toml'}\n# rules enabled (2 of 3): TD01, TO01\n")


# --------------------------------------------------------------------------- process level


def _run(args, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=60)


def test_cli_import_is_light():
    code = ("import sys, lrdoctor.cli; heavy = [m for m in ('matplotlib', 'scipy', 'pandas') if m in sys.modules];"
            "print(heavy)")
    assert _run([PY, "-c", code]).stdout.strip() == "[]"


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from lrdoctor.cli import main; rc = main(['diagnose', '--help']);"
            "print(rc, [m for m in ('matplotlib', 'scipy', 'pandas') if m in sys.modules], file=sys.stderr)")
    # The last line: numpy may warn on stderr first (e.g. about NPY_DISABLE_CPU_FEATURES).
    assert _run([PY, "-c", code]).stderr.strip().splitlines()[-1] == "0 []"


def test_console_script_exits_with_the_code(tmp_path):
    script = os.path.join(os.path.dirname(PY), "lrdoctor")
    if not os.path.exists(script):
        pytest.skip("console script not installed")
    assert _run([script, "diagnose", str(tmp_path / "absent")]).returncode == 2
    assert _run([script, "--version"]).returncode == 0
    assert _run([PY, "-m", "lrdoctor", "diagnose", "--fail-on", "x", "."]).returncode == 2
