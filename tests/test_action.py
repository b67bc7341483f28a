"""The GitHub Action (action.yml): its inputs, and its steps' commands run here as a runner would run them
(the install step is checked, not run: this test already runs inside an install of lrdoctor)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
SAMPLE_LOGS = ROOT / "sample_logs"
BASH = shutil.which("bash")


def _step(step_id: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("id") == step_id)


def _expand(text: str, inputs: dict) -> str:
    """${{ inputs.x }} as the runner substitutes it (the only expressions the steps' env use)."""
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: str(inputs[m.group(1)]), text)


def test_the_action_is_composite_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"logdir", "fail-on", "args"} <= set(ACTION["inputs"])
    assert ACTION["inputs"]["logdir"]["required"] is True and ACTION["inputs"]["fail-on"]["default"] == "error"
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"])
    install = _step("install")["run"]
    assert "pip install" in install and "$GITHUB_ACTION_PATH" in install  # this checkout by default
    assert set(ACTION["outputs"]) == {"exit-code", "html", "junit"}


def _run_diagnose(tmp_path: Path, **inputs) -> tuple[subprocess.CompletedProcess, dict, str]:
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs = {**defaults, **{k.replace("_", "-"): v for k, v in inputs.items()}}
    step = _step("diagnose")
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**os.environ, **{k: _expand(v, inputs) for k, v in step["env"].items()},
           "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTION_PATH": str(ROOT),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), "MPLBACKEND": "Agg"}
    proc = subprocess.run([BASH, "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return proc, outputs, summary.read_text(encoding="utf-8") if summary.exists() else ""


@pytest.mark.skipif(BASH is None or shutil.which("lrdoctor", path=os.path.dirname(sys.executable)) is None,
                    reason="needs bash and the lrdoctor console script beside this Python")
def test_the_diagnose_step_annotates_summarises_and_saves_the_reports(tmp_path):
    proc, outputs, summary = _run_diagnose(tmp_path, logdir=SAMPLE_LOGS)
    assert proc.returncode == 1, proc.stderr  # sample_logs has error findings; fail-on error
    assert outputs["exit-code"] == "1"
    assert any(line.startswith("::error title=lrdoctor ") for line in proc.stdout.splitlines())
    assert "| Run | Status | Action | LR now → new | Why | Loss |" in summary
    html, junit = tmp_path / outputs["html"], tmp_path / outputs["junit"]
    assert outputs["html"] == "lrdoctor-report/lrdoctor.html" and html.read_text().startswith("<!DOCTYPE html>")
    assert ET.parse(junit).getroot().tag == "testsuites"

    diverged = SAMPLE_LOGS / "lr_too_high_lightning"
    proc, outputs, _ = _run_diagnose(tmp_path, logdir=diverged, fail_on="never", report_dir="out")
    assert proc.returncode == 0 and outputs["exit-code"] == "0" and (tmp_path / "out" / "lrdoctor.xml").exists()

    # args: several options in one input reach lrdoctor (only the data-quality rules: nothing fails)
    proc, outputs, _ = _run_diagnose(tmp_path, logdir=diverged, args="--select DQ --no-color")
    assert proc.returncode == 0 and outputs["exit-code"] == "0", proc.stdout + proc.stderr


def _ci_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_action_step_uses_real_inputs():
    block = next(b for b in _ci_blocks() if "uses: OWNER/lrdoctor" in b)
    steps = yaml.safe_load(block)
    step = next(s for s in steps if "lrdoctor" in s.get("uses", ""))
    assert set(step["with"]) <= set(ACTION["inputs"]) and "logdir" in step["with"]
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == ACTION["inputs"]["report-dir"]["default"]


def test_the_gitlab_recipe_writes_the_junit_report_it_declares(fake_logs, run_cli, tmp_path, monkeypatch):
    import shlex

    job = yaml.safe_load(next(b for b in _ci_blocks() if "artifacts:" in b and "reports:" in b))["lrdoctor"]
    command = shlex.split(next(line for line in job["script"] if line.startswith("lrdoctor ")))
    junit = job["artifacts"]["reports"]["junit"]
    assert f"junit={junit}" in command and job["artifacts"]["when"] == "always"
    monkeypatch.chdir(tmp_path)
    command[2] = fake_logs["dir"]
    run_cli(command[1:], 1)  # the fake logs hold an error-level finding: the job fails, the report is there
    assert ET.parse(tmp_path / junit).getroot().get("failures") == "1"
    assert all((tmp_path / path).exists() for path in job["artifacts"]["paths"])
