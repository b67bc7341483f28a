"""The README's example output is real output: `lrdoctor diagnose sample_logs/` in a 132-column terminal.

It is what a new user compares their first run with, so it must not drift from what the tool prints.
Numbers in the text report have three significant digits, which no CPU or library version moves.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-output -->\n```text\n(.*?)```", text, flags=re.S)
    assert match, "README.md has no example-output block"
    return match.group(1)


def test_readme_example_output_is_what_diagnose_prints(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "132")
    monkeypatch.chdir(ROOT)
    out, _ = run_cli(["diagnose", "sample_logs/", "--no-color"], exit_code=1)
    assert out == _readme_block(), "README example output is stale: regenerate it from the command above"
