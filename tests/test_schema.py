"""The JSON report's published schema (`lrdoctor schema`): valid, matching the records, enforced.

conftest validates every JSON report the other tests produce against it as well."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lrdoctor.findings import ACTIONS
from lrdoctor.report import SCHEMA_VERSION, Report, RunResult
from lrdoctor.reporters import json_report, records, render, schema

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_logs"


def _validate(doc):
    jsonschema.Draft202012Validator(schema.SCHEMA).validate(doc)


def test_schema_is_a_valid_json_schema_and_printed_by_the_cli(run_cli):
    jsonschema.Draft202012Validator.check_schema(schema.SCHEMA)
    out, _ = run_cli(["schema"])
    assert json.loads(out) == json.loads(json.dumps(schema.SCHEMA))
    assert schema.SCHEMA["properties"]["version"] == {"const": SCHEMA_VERSION}
    assert "additive change" in schema.SCHEMA["description"] and "bumps" in schema.SCHEMA["description"]


def test_schema_names_every_field_the_records_have(sample_report):
    doc = records.report_to_dict(sample_report)
    props = schema.SCHEMA["properties"]
    assert set(doc) == set(props)
    run_schema = props["runs"]["items"]
    for run in doc["runs"]:
        assert set(run) == set(run_schema["properties"]) == set(run_schema["required"])
        for f in run["findings"]:
            assert set(f) == set(run_schema["properties"]["findings"]["items"]["properties"])
        assert set(run["recommendation"]) == set(schema.RECOMMENDATION["properties"])
    assert set(doc["summary"]) == set(props["summary"]["properties"])
    for action in ACTIONS:
        assert action in schema.RECOMMENDATION["properties"]["action"]["description"]


def test_the_conftest_hook_validates_reports():
    assert json_report.report_to_dict is not records.report_to_dict  # wrapped by the autouse fixture
    with pytest.raises(jsonschema.ValidationError):
        _validate({**records.report_to_dict(Report(runs=())), "version": 2})
    bad = records.report_to_dict(Report(runs=(RunResult("r", "r", "csv"),)))
    bad["runs"][0]["verdict"] = None
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)


def test_an_additive_field_stays_valid(sample_report):
    doc = records.report_to_dict(sample_report)
    doc["runs"][0]["some_future_field"] = {"x": 1}
    doc["runs"][0]["recommendation"]["action"] = "some-future-action"
    _validate(doc)  # readers must ignore what they do not know: the schema allows it


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_logs is not here")
def test_the_real_corpus_report_validates():
    out = subprocess.run([sys.executable, "-m", "lrdoctor", "diagnose", str(REAL), "--format", "json",
                          "--fail-on", "never", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    _validate(doc)
    assert len({r["id"] for r in doc["runs"]}) == len(doc["runs"])


def test_json_render_goes_through_the_records(sample_report):
    _validate(json.loads(render(sample_report, "json")))
