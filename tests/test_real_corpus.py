"""Every log file of ../shared/real_logs is read into a run with the roles its tags call for,
or gives a clear Problem naming it.  Skips when ../shared is absent."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from lrdoctor.readers import read_runs
from lrdoctor.readers.csvlog import CLOCK_COLUMNS, STEP_COLUMNS
from lrdoctor.tags import classify

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"
pytestmark = pytest.mark.skipif(not (CORPUS / "MANIFEST.csv").exists(), reason="../shared/real_logs is absent")

_INDEX_COLUMNS = {"epoch", *STEP_COLUMNS, *CLOCK_COLUMNS}
_PART_DIRS = {"train", "validation", "eval"}


@pytest.fixture(scope="module")
def corpus():
    runs, problems = read_runs(CORPUS)
    with open(CORPUS / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["format"].endswith("-aux")]
    return runs, problems, rows


def run_for(runs, path: Path):
    """The run whose source is the file itself or the closest directory above it."""
    path = os.path.abspath(path)
    best = None
    for run in runs:
        if path == run.source or path.startswith(run.source + os.sep):
            if best is None or len(run.source) > len(best.source):
                best = run
    return best


def manifest_tags(row) -> list[str]:
    return [re.sub(r"\(\d+\)$", "", t) for t in row["tags"].split(";") if t]


def expected_key(run, path: Path, tag: str) -> str:
    part = path.parent.name
    if run.format == "keras_tensorboard" or (part in _PART_DIRS and run.source == os.path.abspath(path.parent.parent)):
        return f"{part}/{tag}"
    return tag


def test_only_the_manifest_is_a_problem_outside_runs_and_every_log_file_has_its_run(corpus):
    runs, problems, rows = corpus
    assert [(os.path.basename(p.path), p.message.split(" (")[0]) for p in problems] == [
        ("MANIFEST.csv", "not a training log: no numeric metric columns")]  # a table, said once
    assert not any(r.name == "MANIFEST.csv" for r in runs)
    assert len(rows) == 97
    missing = [r["path"] for r in rows if run_for(runs, CORPUS / r["path"]) is None]
    assert missing == []


def test_every_scalar_tag_the_manifest_lists_was_read(corpus):
    runs, _, rows = corpus
    lost = []
    for row in rows:
        if row["loadable"].startswith("misparsed"):  # its manifest tags are pandas' misreading
            continue
        path = CORPUS / row["path"]
        run = run_for(runs, path)
        series = {k for r in runs if r.source == run.source for k in r.series}  # trainings split apart share it
        for tag in manifest_tags(row):
            key = expected_key(run, path, tag)
            if tag in _INDEX_COLUMNS or key in series or f"summary/{tag}" in series:
                continue
            if any(tag in note for note in run.notes):  # text columns are named in a note
                continue
            lost.append((row["path"], key))
    assert lost == []


def test_roles_the_tags_call_for_are_assigned(corpus):
    runs, _, rows = corpus
    wrong = []
    for row in rows:
        path = CORPUS / row["path"]
        run = run_for(runs, path)
        for tag in manifest_tags(row):
            key = expected_key(run, path, tag)
            found = classify(key)
            if found and key in run.series and found[0] not in run.roles:
                wrong.append((row["path"], key, found[0]))
    assert wrong == []


def test_unloadable_files_give_a_clear_problem_naming_them(corpus):
    runs, _, rows = corpus
    for row in rows:
        if row["loadable"].startswith("no"):
            run = run_for(runs, CORPUS / row["path"])
            assert run.problems and os.path.basename(row["path"]) in run.problems[0].describe()
            assert "1-byte file" in run.problems[0].message


def test_files_without_scalars_say_so(corpus):
    runs, _, rows = corpus
    for row in rows:
        run = run_for(runs, CORPUS / row["path"])
        assert run.series or run.problems or run.notes, row["path"]


@pytest.mark.parametrize("fragment, roles", [
    ("keras_csv/Agusbs98", {"train_loss": "loss", "val_loss": "val_loss", "lr": "lr"}),
    ("keras_csv/ManuMollon", {"train_loss": "loss", "val_loss": "val_loss", "val_acc": "val_accuracy"}),
    ("keras_csv/infinity052", {"train_loss": "loss", "val_acc": "val_acc"}),
    ("lightning_csv/Eve-ning__opal-v2__opal/lightning_logs/version_0", {"lr": "lr-Adam", "val_loss": "val/rmse_loss"}),
    ("lightning_csv/0Xero7__slm_training__slm/lightning_logs/version_0", {"train_loss": "train_loss_step"}),
    ("hf_trainer_state/10844110", {"train_loss": "loss", "lr": "learning_rate", "grad_norm": "grad_norm"}),
    ("mlflow/", {"train_loss": "loss", "lr": "hparams/opt_learning_rate"}),
    ("huangyuan3h", {"train_loss": "train/epoch_loss", "val_loss": "validation/epoch_loss"}),
    ("tylerkf", {"train_loss": "loss", "val_loss": "eval/loss", "val_acc": "eval/accuracy"}),
    ("static_rotation_5e5", {"train_loss": "train/loss", "lr": "train/learning_rate"}),
    ("tensorboard/CursedSeraphim__process-tensorboard-logs__ray-ppo",
     {"train_loss": "ray/tune/info/learner/default_policy/total_loss", "lr": "ray/tune/info/learner/default_policy/cur_lr"}),
    ("t5-summ/runs", {"train_loss": "train/loss", "lr": "train/learning_rate", "val_loss": "eval/loss"}),
])
def test_spot_checks_from_the_corpus_notes(corpus, fragment, roles):
    runs, _, _ = corpus
    matching = [r for r in runs if fragment in r.source]
    assert matching, fragment
    for role, tag in roles.items():
        assert matching[0].roles.get(role) == tag, (matching[0].name, role, matching[0].roles)


def test_odd_cases_are_resolved_and_shown(corpus):
    runs, _, _ = corpus
    by_fragment = lambda f: next(r for r in runs if f in r.source)  # noqa: E731
    multi = by_fragment("JeremiahGelb")
    assert len(multi.series["Loss"]) == 15 and multi.problems[0].partial and multi.problems[0].line
    assert len(by_fragment("ManuMollon").series["loss"]) == 17
    assert [r.name.rsplit("/", 1)[-1] for r in runs if "huangyuan3h" in r.source] == [
        "20220213-124139", "20220213-124139#2"]  # repeated fit() calls: two trainings (test_trainings.py)
    tf1 = by_fragment("tf-zoo/training")
    assert any("every step is 0" in n for n in tf1.notes)
    nan_run = by_fragment("genrisk/lightning_logs/version_0")
    assert nan_run.get("train_loss") is not None
