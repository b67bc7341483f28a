"""sample_logs/ holds what bench/make_sample_logs.py says: each run's label is true of its curves.

The committed files are read with each format's own reader (TensorBoard's EventFileLoader, csv,
json, yaml), never with lrdoctor. The generator is re-run (without its sweep) into tmp_path and must
reproduce the committed values. lrdoctor's diagnosis of these logs is tested elsewhere.
"""
from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"


def _load_generator():
    path = ROOT / "bench" / "make_sample_logs.py"
    spec = importlib.util.spec_from_file_location("make_sample_logs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(path.parent))  # its sibling sample_training.py, as when run as a script
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


gen = _load_generator()
training = sys.modules["sample_training"]


# ------------------------------------------------------------------------------ format readers
def read_events(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tag -> (steps, values) from the event files directly in run_dir, by TensorBoard's loader."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.util import tensor_util

    points: dict[str, list] = {}
    files = sorted(run_dir.glob("events.out.tfevents.*"))
    assert files, f"no event file in {run_dir}"
    for path in files:
        for event in LegacyEventFileLoader(str(path)).Load():
            for v in event.summary.value:
                value = (float(tensor_util.make_ndarray(v.tensor)) if v.HasField("tensor")
                         else v.simple_value)
                points.setdefault(v.tag, []).append((event.step, value))
    return {tag: (np.array([s for s, _ in p]), np.array([x for _, x in p]))
            for tag, p in points.items()}


def value_kinds(run_dir: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    return {v.WhichOneof("value") for path in run_dir.glob("events.out.tfevents.*")
            for event in LegacyEventFileLoader(str(path)).Load() for v in event.summary.value}


def read_csv_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def column(rows: list[dict], name: str) -> np.ndarray:
    return np.array([float(r[name]) for r in rows if r[name] != ""])


def read_trainer_state(path: Path) -> dict:
    return json.loads(path.read_text())


def trainer_state_series(state: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    entries = [e for e in state["log_history"] if key in e]
    return np.array([e["step"] for e in entries]), np.array([e[key] for e in entries], float)


PICKED_LR = 10 ** -1.5  # the sweep's pick; test_sweep_picks_the_committed_lr_... checks it


def spec_named(name: str):
    return next(s for s in gen.RUNS if s.name == name)


# ------------------------------------------------------------------------- the committed logs
def test_sample_logs_hold_exactly_the_generators_runs_and_stay_small():
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(s.name for s in gen.RUNS)
    assert len({s.fmt for s in gen.RUNS} - {"range_tbx"}) >= 3
    size = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert size < 300_000, f"sample_logs/ grew to {size} bytes"


def test_overfit_run_uses_the_pick_and_the_others_scale_it():
    rows = read_csv_rows(SAMPLES / "overfit_keras_csv" / "training.log")[1]
    np.testing.assert_allclose(column(rows, "learning_rate"), np.float32(PICKED_LR), rtol=1e-7)
    assert {s.name: s.lr_factor for s in gen.RUNS if s.lr is None} == {
        "healthy_tbx": 1.0, "lr_too_high_lightning": 100.0, "lr_too_low_keras_tb": 1e-3,
        "overfit_keras_csv": 1.0, "warmup_cosine_hf": 3.0}


def test_healthy_run_learns_with_the_picked_lr():
    tags = read_events(SAMPLES / "healthy_tbx")
    assert set(tags) == {"train/loss", "train/lr", "val/loss", "val/acc"}
    assert value_kinds(SAMPLES / "healthy_tbx") == {"simple_value"}
    steps, loss = tags["train/loss"]
    assert list(steps[:3]) == [0, gen.LOG_EVERY, 2 * gen.LOG_EVERY]
    assert loss[0] > 2.0 and np.median(loss[-10:]) < 0.2
    np.testing.assert_allclose(tags["train/lr"][1], PICKED_LR, rtol=1e-6)
    val_steps, val_loss = tags["val/loss"]
    assert len(val_loss) == training.SWEEP_EPOCHS and val_steps[0] == 40  # global step after epoch 0
    assert val_loss[-1] < 0.25 and tags["val/acc"][1][-1] > 0.9


def test_lr_too_high_run_blows_up_to_nan():
    version = SAMPLES / "lr_too_high_lightning" / "version_0"
    header, rows = read_csv_rows(version / "metrics.csv")
    assert header == ["epoch", "lr-SGD", "step", "train_loss", "val_acc", "val_loss"]  # sorted
    lr_rows = [r for r in rows if r["lr-SGD"] != ""]
    assert all(r["epoch"] == r["train_loss"] == "" for r in lr_rows)  # sparse LR-monitor rows
    np.testing.assert_allclose(column(rows, "lr-SGD"), 100 * PICKED_LR, rtol=1e-9)
    loss = column(rows, "train_loss")
    assert np.isnan(loss).any()
    assert np.nanmax(loss) > 1e6 * loss[0]
    assert column(rows, "val_loss")[0] > 1e6  # already exploded at the first validation
    import yaml

    hparams = yaml.safe_load((version / "hparams.yaml").read_text())
    assert hparams == {"lr": pytest.approx(100 * PICKED_LR), "batch_size": 32, "optimizer": "SGD",
                       "max_epochs": training.SWEEP_EPOCHS}


def test_lr_too_low_run_barely_moves():
    run = SAMPLES / "lr_too_low_keras_tb"
    train, val = read_events(run / "train"), read_events(run / "validation")
    assert value_kinds(run / "train") == value_kinds(run / "validation") == {"tensor"}
    assert all(p.name.endswith(".v2") for p in run.rglob("events.out.tfevents.*"))
    assert set(train) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    np.testing.assert_allclose(train["epoch_learning_rate"][1], PICKED_LR / 1000, rtol=1e-6)
    _, val_loss = val["epoch_loss"]
    assert list(val["epoch_loss"][0]) == list(range(training.SWEEP_EPOCHS))
    assert np.all(np.diff(val_loss) < 0)  # it learns ...
    assert val_loss[-1] > 0.85 * val_loss[0] and val_loss[-1] > 2.0  # ... hardly (healthy: < 0.25)
    assert val["epoch_accuracy"][1][-1] < 0.3


def test_overfit_run_val_loss_turns_up_while_train_loss_falls():
    header, rows = read_csv_rows(SAMPLES / "overfit_keras_csv" / "training.log")
    assert header == ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    train, val = column(rows, "loss"), column(rows, "val_loss")
    n = len(val)
    assert n == 120 and np.isfinite(val).all() and np.isfinite(train).all()
    best = int(np.argmin(val))
    assert best <= n - 1 - max(2, math.ceil(0.2 * n))  # the bench's overfit criteria
    assert val[-1] > 1.10 * val[best] and val[best] < 2.30  # below chance, then up
    assert train[-1] < train[best] and train[-1] < val[-1]
    assert train[-1] < 0.01  # memorised, wrong labels included


def test_warmup_cosine_run_warms_up_decays_and_ends_well():
    state = read_trainer_state(SAMPLES / "warmup_cosine_hf" / "trainer_state.json")
    steps, lr = trainer_state_series(state, "learning_rate")
    peak = int(np.argmax(lr))
    assert 0 < peak < len(lr) - 1 and lr[peak] == pytest.approx(3 * PICKED_LR, rel=0.02)
    assert np.all(np.diff(lr[: peak + 1]) > 0) and np.all(np.diff(lr[peak:]) < 0)
    assert lr[-1] < 0.01 * lr[peak]
    _, eval_loss = trainer_state_series(state, "eval_loss")
    assert len(eval_loss) == training.SWEEP_EPOCHS and eval_loss.min() < 0.25
    assert state["log_history"][-1]["train_loss"] > 0 and state["global_step"] == steps[-1]


def test_range_test_grows_the_lr_exponentially_until_the_loss_blows_up():
    tags = read_events(SAMPLES / "lr_range_test_tbx")
    steps, lr = tags["learning_rate"]
    _, loss = tags["loss"]
    assert list(steps) == list(range(len(steps))) and 50 < len(steps) < training.RANGE_STEPS
    assert lr[0] == pytest.approx(1e-6, rel=1e-6) and lr[-1] < 10
    ratios = lr[1:] / lr[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-4)
    assert not np.isfinite(loss[-1]) or loss[-1] > 4 * loss.min()


# ------------------------------------------------------------------------------- the generator
OVERFIT_PREFIX_EPOCHS = 40  # all 120 epochs of the 512-wide net take 2-7 s; its start is enough


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Every run regenerated from the committed pick (the sweep is tested on its own below)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("tensorboardX")
    out = tmp_path_factory.mktemp("samples")
    runs = tuple(dataclasses.replace(s, epochs=OVERFIT_PREFIX_EPOCHS)
                 if s.name.startswith("overfit") else s for s in gen.RUNS)
    return out, gen.generate(out, runs, picked_lr=PICKED_LR)


def test_generator_reproduces_the_committed_curves(regenerated):
    out, _ = regenerated
    for name, tag in (("healthy_tbx", "train/loss"), ("healthy_tbx", "val/loss"),
                      ("lr_range_test_tbx", "loss"), ("lr_range_test_tbx", "learning_rate")):
        np.testing.assert_allclose(read_events(out / name)[tag][1],
                                   read_events(SAMPLES / name)[tag][1], rtol=1e-3,
                                   err_msg=f"{name} {tag}")
    low = "lr_too_low_keras_tb/validation"
    np.testing.assert_allclose(read_events(out / low)["epoch_loss"][1],
                               read_events(SAMPLES / low)["epoch_loss"][1], rtol=1e-4)
    fresh = read_csv_rows(out / "overfit_keras_csv" / "training.log")[1]
    committed = read_csv_rows(SAMPLES / "overfit_keras_csv" / "training.log")[1]
    for key in ("loss", "val_loss", "learning_rate"):
        np.testing.assert_allclose(column(fresh, key),
                                   column(committed, key)[:OVERFIT_PREFIX_EPOCHS],
                                   rtol=1e-3, atol=1e-5, err_msg=key)
    state = "warmup_cosine_hf/trainer_state.json"
    fresh, committed = (read_trainer_state(d / state) for d in (out, SAMPLES))
    for key in ("loss", "learning_rate", "eval_loss"):
        np.testing.assert_allclose(trainer_state_series(fresh, key)[1],
                                   trainer_state_series(committed, key)[1],
                                   rtol=1e-3, atol=1e-4, err_msg=key)


def test_generator_reproduces_the_blow_up(regenerated):
    out, summary = regenerated
    path = "lr_too_high_lightning/version_0/metrics.csv"
    fresh, committed = (column(read_csv_rows(d / path)[1], "train_loss") for d in (out, SAMPLES))
    np.testing.assert_allclose(fresh[:3], committed[:3], rtol=1e-3)  # chaotic later: compare starts
    assert np.isnan(fresh).any()
    assert summary["runs"]["lr_too_high_lightning"]["lr"] == pytest.approx(100 * PICKED_LR)


def test_generator_is_deterministic(regenerated, tmp_path):
    out, _ = regenerated
    gen.generate(tmp_path, (spec_named("healthy_tbx"),), picked_lr=PICKED_LR)
    first, again = read_events(out / "healthy_tbx"), read_events(tmp_path / "healthy_tbx")
    assert first.keys() == again.keys()
    for tag in first:
        np.testing.assert_array_equal(first[tag][1], again[tag][1], err_msg=tag)


def test_generator_only_replaces_its_own_run_directories(tmp_path):
    pytest.importorskip("sklearn")
    (tmp_path / "someone_elses_run").mkdir()
    (tmp_path / "healthy_tbx").mkdir()
    (tmp_path / "healthy_tbx" / "events.out.tfevents.0.stale").write_bytes(b"")
    gen.generate(tmp_path, (spec_named("lr_too_low_keras_tb"),), picked_lr=PICKED_LR)
    assert (tmp_path / "someone_elses_run").is_dir()
    assert (tmp_path / "healthy_tbx" / "events.out.tfevents.0.stale").exists()
    assert (tmp_path / "lr_too_low_keras_tb" / "train").is_dir()


def test_sweep_picks_the_committed_lr_and_brackets_it():
    pytest.importorskip("sklearn")
    best = gen.sweep(gen.load_digits_split())
    pick = min(best, key=lambda lr: (best[lr], lr))
    assert pick == pytest.approx(PICKED_LR)
    assert best[min(best)] > best[pick] and best[max(best)] > 10 * best[pick]  # an interior optimum


def test_docs_describe_every_run():
    docs = (ROOT / "docs" / "sample_logs.md").read_text()
    missing = [s.name for s in gen.RUNS if f"`{s.name}/`" not in docs]
    assert not missing, f"docs/sample_logs.md does not describe {missing}"
