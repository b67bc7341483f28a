"""The text report's layout: summary table first, blocks only where there is something to say, notes
said once, -v/-q, width, the run id, and numbers that agree between the table, the block and the JSON."""
from __future__ import annotations

import dataclasses
import json

import pytest

from lrdoctor.findings import Finding, Recommendation, Severity
from lrdoctor.report import Report, RunResult
from lrdoctor.reporters import render
from lrdoctor.reporters.records import report_to_dict, run_id
from lrdoctor.reporters.text_report import closing_line, table_rows


def _note(code="DQ04", name="lr-not-logged", run="r"):
    return Finding(code, name, "data_quality", Severity.INFO, "the learning rate is not logged", run=run,
                   evidence={"lr_from_hparams": 0})


KEEP = Recommendation("keep", 1.0, None, None, "no learning-rate problem found", "medium")


def _healthy(n: int) -> tuple[RunResult, ...]:
    return tuple(RunResult(f"healthy/run{i}", f"/logs/healthy/run{i}", "csv", (_note(run=f"healthy/run{i}"),), KEEP,
                           loss_preview=(2.0, 1.0 - i / 100, 0.5)) for i in range(n))


def test_summary_table_columns_are_pinned(sample_report):
    doc = report_to_dict(sample_report)
    assert table_rows(doc["runs"]) == [
        ("runs/diverged", "ERROR", "decrease", "0.0155 → 0.00155", "loss became NaN/inf at step 100"),
        ("overfit", "WARNING", "stop-early", "0.0003", "val loss rose after step 60 (overfitting)"),
        ("short", "OK", "keep", "0.001", "no LR problem found"),  # its only finding is a data-quality note
        ("good", "OK", "keep", "0.001", "no LR problem found"),
    ]


def test_quiet_is_one_line_per_run(sample_report):
    lines = render(sample_report, "text", verbosity=-1).splitlines()
    assert len(lines) == len(sample_report.runs) + 1
    assert [line.split()[0] for line in lines[:-1]] == ["runs/diverged", "overfit", "short", "good"]
    assert lines[-1] == "4 runs checked: 1 ERROR, 1 WARNING, 2 OK; 2 reading problems"


def test_default_hides_statistics_verbose_shows_them(sample_report):
    default, verbose = render(sample_report, "text"), render(sample_report, "text", verbosity=1)
    assert "evidence:" not in default and "advice (" not in default
    assert "evidence: lr_at_start=0.0155, ratio=1.98e+03, start_step=100" in verbose
    assert "advice (high confidence): diverged at step 100 with lr 0.0155" in verbose
    assert "\ngood  OK" not in default and "\ngood  OK  (hf_trainer)" in verbose  # healthy: table row only


def test_data_quality_notes_are_said_once():
    report = Report(runs=_healthy(46))
    text = render(report, "text")
    assert text.count("LR not logged") == 1
    assert "LR not logged in 46 runs: pass --lr or log it [DQ04]" in text
    # healthy runs: the table row, no block; the whole report is a table, a note, a closing line
    assert len(text.splitlines()) == 1 + 46 + 1 + 2 + 1 + 1
    assert text.rstrip().endswith("46 runs checked: 46 OK")
    verbose = render(report, "text", verbosity=1)
    assert "healthy/run0, healthy/run1, healthy/run2" in verbose  # -v names the runs


def test_a_note_about_one_run_names_it():
    text = render(Report(runs=_healthy(1)), "text")
    assert "LR not logged in healthy/run0: pass --lr or log it" in text


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_table_fits_the_width(width):
    long = "tensorboard/SomeUser__a-rather-long-repository-name__project/lightning_logs/version_12/tf"
    div = Finding("DV02", "loss-blew-up", "divergence", Severity.ERROR, "loss climbed " * 20, run=long,
                  start_step=659, end_step=749)
    rec = Recommendation("decrease", 1 / 31.6, 0.00554, 0.000175, "DV02: ...", "medium", rule="DV02")
    runs = (RunResult(long, "/x/" + long, "tensorboard", (div,), rec),) + _healthy(3)
    text = render(Report(runs=runs), "text", width=width)
    width = max(width, 80)  # the least the report uses
    table = text.split("\n\n")[0].splitlines()
    assert all(len(line) <= width for line in table), table
    assert all(len(line) <= width for line in text.splitlines() if not line.startswith(long))  # blocks wrapped
    name = table[1].split()[0]  # a cut name keeps its start and its end
    assert name.startswith("tens") and "…" in name and name.endswith("/tf") and len(name) < len(long)


def test_numbers_agree_between_table_block_and_json():
    div = Finding("DV02", "loss-blew-up", "divergence", Severity.ERROR, "m", start_step=659)
    rec = Recommendation("decrease", 0.0316228, 0.00553999, 0.000175188, "r", "medium", rule="DV02")
    report = Report(runs=(RunResult("a", "/a", "csv", (div,), rec),))
    text, doc = render(report, "text"), json.loads(render(report, "json"))
    assert doc["runs"][0]["recommendation"]["suggested_lr"] == pytest.approx(0.000175188)
    assert "0.00554 → 0.000175" in text.splitlines()[1]  # table
    assert "  → decrease the LR 0.00554 → 0.000175 (÷32)" in text  # block headline
    assert "loss blew up from step 659" in text and doc["runs"][0]["recommendation"]["rule"] == "DV02"


@dataclasses.dataclass(frozen=True)
class _CrashedResult(RunResult):  # what the engine's RunResult.crashed adds (failclosed), before it exists here
    crashed: tuple[str, ...] = ()


def test_a_crashed_run_is_the_worst_status():
    crashed = _CrashedResult("c", "/c", "csv", (_note(run="c"),), KEEP, crashed=("DV02",))
    report = Report(runs=_healthy(1) + (crashed,))
    doc = report_to_dict(report)
    assert doc["runs"][1]["verdict"] == "crashed" and doc["runs"][1]["crashed"] == ["DV02"]
    assert doc["summary"]["status"] == "crashed" and doc["summary"]["verdicts"] == {"crashed": 1, "ok": 1}
    text = render(report, "text")
    assert "c  CRASHED" in text and "DV02 could not run" in text
    assert closing_line(doc["summary"]) == "2 runs checked: 1 CRASHED, 1 OK"
    assert "::error title=lrdoctor%3A crashed (c)::" in render(report, "github")


def test_stop_early_names_the_step():
    of = Finding("OF01", "validation-turns-up", "overfitting", Severity.WARNING, "m", start_step=1564,
                 end_step=9375, evidence={"best_step": 1564})
    rec = Recommendation("stop-early", 1.0, 2e-5, 2e-5, "OF01: ...", "medium", rule="OF01")
    report = Report(runs=(RunResult("e", "/e", "tb", (of,), rec),))
    assert report_to_dict(report)["runs"][0]["recommendation"]["stop_step"] == 1564
    assert "→ stop earlier at step 1,564 (LR 2e-05 is fine)" in render(report, "text")


def test_abstain_gives_no_lr_and_says_why():
    rec = Recommendation("abstain", None, 0.001, None, "a GAN: the generator and critic losses do not say whether "
                         "the LR is right -> no LR advice", "low")
    report = Report(runs=(RunResult("gan", "/gan", "tb", (), rec),))
    row = table_rows(report_to_dict(report)["runs"])[0]
    assert row[2:] == ("abstain", "–", "a GAN: the generator and critic losses do not say whether the LR is right")
    assert "→ no LR advice" in render(report, "text", verbosity=1)


def test_run_id_is_stable_across_logdirs_and_tells_runs_apart():
    a = RunResult("exp/run1", "/srv/a/logs/exp/run1", "tensorboard", loss_preview=(2.0, 1.0, 0.5),
                  roles={"train_loss": "loss"})
    same_elsewhere = dataclasses.replace(a, run="run1", source="/mnt/ci/checkout/logs/exp/run1")
    other_data = dataclasses.replace(a, loss_preview=(2.0, 1.0, 0.6))
    assert run_id(a) == run_id(same_elsewhere) != run_id(other_data)
    assert len(run_id(a)) == 16 and int(run_id(a), 16) >= 0
    ids = [r["id"] for r in report_to_dict(Report(runs=(a, same_elsewhere, other_data)))["runs"]]
    assert ids == [run_id(a), run_id(a) + "-2", run_id(other_data)]  # identical copies numbered


@dataclasses.dataclass(frozen=True)
class _NotedResult(RunResult):  # a reader's notes about the run (split trainings, copies), when the engine adds them
    notes: tuple[str, ...] = ()


def test_reader_notes_about_a_run_are_shown_once_in_its_block():
    note = "two trainings were glued in this file: the second restarts at step 0 (line 812)"
    noted = _NotedResult("glued", "/glued", "csv", (), KEEP, notes=(note,))
    report = Report(runs=_healthy(2) + (noted,))
    text = render(report, "text")
    assert text.count(note) == 1 and "\nglued  OK  (csv)\n" in text  # an OK run, but it gets a block
    assert report_to_dict(report)["runs"][2]["notes"] == [note]
    assert render(report, "markdown").count(note) == 1 and render(report, "html").count(note) == 1


def test_cut_run_names_still_tell_runs_apart():
    """One layout in several repositories cut in the middle read the same in a 120-column table
    (``lightning_cs…ogs/version_0/metrics.csv`` three times).  Colliding names keep more of their start."""
    from lrdoctor.reporters.text_report import _cut_names

    names = [f"lightning_csv/{repo}__project__x/lightning_logs/version_0/metrics.csv"
             for repo in ("AIRI-Institute", "Goreg12345", "KRS-dev")] + ["tensorboard/short"]
    cuts = _cut_names(names, 38)
    assert len(set(cuts)) == len(cuts) and all(len(c) <= 38 for c in cuts)
    assert cuts[-1] == "tensorboard/short"
    assert all(c.endswith("version_0/metrics.csv") for c in cuts[:3])
