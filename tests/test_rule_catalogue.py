"""Meta-test over the rule catalogue: codes, names, docs, options and test cases."""
from __future__ import annotations

import dataclasses
import re

import pytest

from lrdoctor.findings import KINDS, Severity
from lrdoctor.model import ROLES
from lrdoctor.rules import all_rules, find_rule
from lrdoctor.rules.catalogue import RULES

from test_rules_cases import CASES

SECTIONS = ("What it detects", "Why it matters", "Evidence", "Options")


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"(DV|SP|OS|PL|SC|OF|DQ|RL)\d\d", rule.code), rule.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_shape(rule):
    assert rule.kind in KINDS
    assert isinstance(rule.severity, Severity)
    assert all(role in ROLES for role in rule.requires)
    assert dataclasses.is_dataclass(rule.Options)
    assert rule.Options.__dataclass_params__.frozen, f"{rule.code}.Options must be frozen"
    rule.Options()  # every option has a default


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docstring_is_user_documentation(rule):
    doc = rule.__doc__ or ""
    for section in SECTIONS:
        assert re.search(rf"^\s*{section}\s*$", doc, re.M), f"{rule.code} docstring lacks '{section}'"
    for field in dataclasses.fields(rule.Options):
        assert f"``{field.name}``" in doc or field.name == "min_points", f"{rule.code} option {field.name} undocumented"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_pass_and_fail_cases(rule):
    fails, passes = CASES.get(rule.code, ([], []))
    assert fails, f"{rule.code} has no fail case in test_rules_cases.CASES"
    assert passes, f"{rule.code} has no pass case in test_rules_cases.CASES"


def test_lookup_by_code_and_name():
    assert find_rule("dv01") is find_rule("non-finite-loss")
    assert find_rule("nope") is None
    assert len(all_rules()) == len(RULES)


def test_rules_command_lists_and_explains(capsys):
    from lrdoctor.cli import main

    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert all(rule.code in out for rule in RULES)
    assert main(["rules", "DV01"]) == 0
    out = capsys.readouterr().out
    assert "What it detects" in out and "non-finite-loss" in out
    assert main(["rules", "XX99"]) == 2


def test_docs_rules_md_has_the_current_table():
    from pathlib import Path

    from lrdoctor.rules.docs import markdown_table

    doc = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    if not doc.exists():
        pytest.skip("docs/rules.md not present")
    assert markdown_table() in doc.read_text(), "docs/rules.md rules table is stale: regenerate it from markdown_table()"
    readme = doc.parents[1] / "README.md"
    assert markdown_table() in readme.read_text(encoding="utf-8"), "README.md rules table is stale: regenerate it"
