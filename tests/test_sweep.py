"""Sweeps: the fit on seeded synthetic sweeps with a known optimum, grouping, the report section,
rendering, and a few bench groups laid out the way bench/sweep_eval.py does."""
from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.context import groups as sweep_groups
from lrdoctor.context import sweep
from lrdoctor.engine import diagnose_runs
from lrdoctor.model import LR, TRAIN_LOSS, VAL_LOSS, Run, Series
from lrdoctor.signal.sweepfit import fit_sweep, per_lr_loss

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"
GRID = 10.0 ** (np.arange(-8, 1) / 2.0)  # half-decade grid 1e-4 .. 1, nine points


def valley(lr, *, optimum=10**-2.3, width=1.0, floor=0.2):
    """Best loss of a run at ``lr``: a parabola in log10(LR) around ``optimum``."""
    return floor + (np.log10(lr) - math.log10(optimum)) ** 2 / width


def err(a, b):
    return abs(math.log10(a / b))


# --------------------------------------------------------------------------- fit


def test_vertex_recovers_an_optimum_between_grid_points():
    fit = fit_sweep(GRID, valley(GRID))
    assert fit.method == "quadratic"
    assert err(fit.best_lr, 10**-2.5) < 1e-9  # nearest grid point
    assert err(fit.optimum_lr, 10**-2.3) < 1e-6  # exact on a parabola
    assert fit.curvature == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(5))
def test_noisy_vertex_stays_within_half_a_step_of_the_best_point(seed):
    rng = np.random.default_rng(seed)
    loss = valley(GRID) * (1 + 0.1 * rng.standard_normal(GRID.shape[0]))
    fit = fit_sweep(GRID, loss)
    assert err(fit.optimum_lr, fit.best_lr) <= 0.25 + 1e-9


def test_edges_say_which_way_to_extend():
    low = fit_sweep(GRID, valley(GRID, optimum=1e-6))
    high = fit_sweep(GRID, valley(GRID, optimum=10.0))
    assert (low.edge, low.best_lr, low.method) == ("low", GRID[0], "grid")
    assert (high.edge, high.best_lr) == ("high", GRID[-1])


def test_diverged_neighbour_prevents_the_parabola():
    loss = valley(GRID, optimum=GRID[-2])
    loss[-1] = math.inf
    fit = fit_sweep(GRID, loss)
    assert fit.method == "grid" and fit.edge is None and fit.best_lr == GRID[-2]


def test_ties_go_to_the_smaller_lr_and_flat_minimum_is_flat():
    fit = fit_sweep([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.5, 0.5, 2.0])
    assert fit.best_lr == 1e-2 and fit.sharpness == "flat" and fit.near_best == (1e-2, 1e-1)


def test_sharp_minimum():
    assert fit_sweep(GRID, valley(GRID, width=0.1)).sharpness == "sharp"


def test_repeats_are_averaged_and_all_nan_gives_nothing():
    grid, loss = per_lr_loss([1e-2, 1e-2, 1e-1], [1.0, math.nan, 2.0])
    assert grid.tolist() == [1e-2, 1e-1] and loss.tolist() == [1.0, 2.0]
    assert fit_sweep([1e-2, 1e-1], [math.nan, math.inf]) is None


# --------------------------------------------------------------------------- runs


def make_run(name, lr, *, seed=0, optimum=10**-2.3, diverge=False, hparams=None, with_lr=True, val=True) -> Run:
    """A run whose validation loss bottoms out at ``valley(lr)`` (plus seeded noise)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 200, 5)
    best = float(valley(np.array([lr]), optimum=optimum)[0])
    train = best + 2.0 * np.exp(-steps / 40.0) + 0.02 * rng.standard_normal(steps.shape[0])
    if diverge:
        train[len(train) // 2:] = np.nan
    series = {"loss": Series.from_lists(steps, train)}
    roles = {TRAIN_LOSS: "loss"}
    if val:
        epochs = steps[::8]
        series["val_loss"] = Series.from_lists(epochs, best + 2.0 * np.exp(-epochs / 40.0) + 0.01 * rng.random(epochs.shape[0]))
        roles[VAL_LOSS] = "val_loss"
    if with_lr:
        series["lr"] = Series.from_lists(steps, np.full(steps.shape[0], lr))
        roles[LR] = "lr"
    return Run(name=name, source=name, format="test", series=series, roles=roles, hparams=hparams or {})


def sweep_runs(prefix="sweep/", seed=0, **kw):
    return [make_run(f"{prefix}lr_{lr:.6g}", lr, seed=seed + k, diverge=lr >= 0.99, **kw) for k, lr in enumerate(GRID)]


def test_find_sweeps_ranks_marks_and_recommends():
    sweeps = sweep.find_sweeps(sweep_runs())
    assert len(sweeps) == 1
    s = sweeps[0]
    assert s["group"] == "sweep/lr_*" and s["loss"] == VAL_LOSS
    assert [r["rank"] for r in s["runs"]] == list(range(1, len(GRID) + 1))
    assert s["runs"][0]["lr"] == pytest.approx(10**-2.5)
    assert [r["diverged"] for r in s["runs"] if r["lr"] >= 0.99] == [True]
    assert err(s["recommendation"]["suggested_lr"], 10**-2.3) < 0.15
    assert s["recommendation"]["note"] is None
    json.dumps(s, allow_nan=False)


def test_best_at_the_grid_edge_asks_to_extend_the_sweep():
    from lrdoctor.reporters import render

    report = diagnose_runs([make_run(f"s/lr_{lr:.3g}", lr, optimum=1e-6) for lr in GRID])
    s = report.sweeps[0]
    assert "extend the sweep downward" in s["recommendation"]["note"]
    assert s["recommendation"]["confidence"] == "low"
    for fmt in ("text", "markdown", "junit", "github"):
        assert "extend the sweep downward" in render(report, fmt), fmt


def test_lr_comes_from_name_then_hparams_then_logged_lr():
    # The logged LR wins over a folder name or a hyper-parameter that may lie about it.
    assert sweep_groups.run_lr(make_run("a/lr=1e-3", 0.5)) == (0.5, "logged (peak)")
    assert sweep_groups.run_lr(make_run("a/lr=1e-3", 0.5, with_lr=False)) == (1e-3, "name")
    assert sweep_groups.run_lr(make_run("a/run1", 0.5, hparams={"learning_rate": "3e-4"}, with_lr=False)) == (3e-4, "hparams:learning_rate")
    assert sweep_groups.run_lr(make_run("a/run1", 0.5)) == (0.5, "logged (peak)")
    assert sweep_groups.run_lr(make_run("a/run1", 0.5, with_lr=False)) == (None, "")


def test_train_loss_is_used_when_a_run_has_no_validation_loss():
    runs = sweep_runs()
    runs[0] = make_run(runs[0].name, GRID[0], val=False)
    assert sweep.find_sweeps(runs)[0]["loss"] == TRAIN_LOSS


def test_two_setups_in_one_folder_are_split_by_hparams():
    runs = sweep_runs(prefix="x/", hparams={"optimizer": "adam"})
    runs += [make_run(f"x/sgd_{lr:.3g}", lr, hparams={"optimizer": "sgd", "lr": lr}, optimum=0.1) for lr in GRID]
    for run in runs[: len(GRID)]:
        run.name = run.name.replace("lr_", "adam_")
        run.hparams = {"optimizer": "adam", "lr": float(run.name.split("_")[-1])}
    groups = sweep.find_sweeps(runs)
    assert len(groups) == 2
    best = sorted(round(math.log10(g["fit"]["best_lr"]), 1) for g in groups)
    assert best == [-2.5, -1.0]


def test_a_folder_of_unrelated_runs_is_not_a_sweep():
    # Numbered siblings may repeat an LR up to 2 x MAX_REPEATS times (seeds); 7 is a collection.
    runs = [make_run(f"runs/r{k:03d}", lr, seed=k) for k, lr in enumerate(np.repeat(GRID, 7))]
    assert sweep.find_sweeps(runs) == []
    assert len(sweep.find_sweeps(runs, group_by="all")) == 1


def test_runs_written_by_different_code_are_not_one_sweep():
    """The sample_logs case: four unrelated runs (formats, tags) with distinct LRs in one folder."""
    runs = [make_run(f"logs/run{k}", lr, seed=k) for k, lr in enumerate(GRID[:4])]
    for run, fmt in zip(runs, ("tensorboard", "keras_csv", "lightning_csv", "hf_trainer_state")):
        run.format = fmt
    assert sweep.find_sweeps(runs) == []
    assert len(sweep.find_sweeps(runs, group_by="dir")) == 1  # the user says it is a sweep


def test_other_tags_for_a_role_split_the_folder():
    runs = sweep_runs(prefix="x/")
    for run in runs[::2]:
        run.series["train_loss"] = run.series.pop("loss")
        run.roles[TRAIN_LOSS] = "train_loss"
    assert sorted(len(s["runs"]) for s in sweep.find_sweeps(runs)) == [4, 5]


def test_a_run_without_a_validation_curve_still_joins_its_sweep():
    runs = sweep_runs()
    runs[-1] = make_run(runs[-1].name, GRID[-1], val=False, diverge=True)  # crashed before evaluating
    (s,) = sweep.find_sweeps(runs)
    assert len(s["runs"]) == len(GRID)


def test_runs_of_different_length_are_not_a_sweep_but_a_diverged_short_run_is_fine():
    runs = sweep_runs(prefix="x/")
    short = runs[1]
    short.series["loss"] = Series.from_lists(short.series["loss"].steps[:10], short.series["loss"].values[:10])
    assert sweep.find_sweeps(runs) == []
    short.series["loss"].values[-1] = math.nan  # it stopped because it diverged
    assert len(sweep.find_sweeps(runs)) == 1


def test_group_by_is_a_config_key_and_a_flag():
    from lrdoctor.config import config_from_mapping
    from lrdoctor.config_toml import to_toml
    from lrdoctor.errors import ConfigError

    assert config_from_mapping({"group-by": "dir"}).group_by == "dir"
    assert 'group-by = "hparams:opt"' in to_toml(config_from_mapping({"group-by": "hparams:opt"}))
    with pytest.raises(ConfigError, match="group-by.*invalid regular expression"):
        config_from_mapping({"group-by": "name:("})
    with pytest.raises(ConfigError, match="must be auto"):
        config_from_mapping({"group-by": "folder"})


def test_group_by_modes():
    runs = sweep_runs(prefix="a/") + sweep_runs(prefix="b/", seed=50)
    assert sweep.find_sweeps(runs, group_by="none") == []
    assert [s["group"] for s in sweep.find_sweeps(runs, group_by="dir")] == ["a", "b"]
    assert [s["group"] for s in sweep.find_sweeps(runs, group_by=r"name:^(\w)/")] == ["a", "b"]
    for run in runs:
        run.hparams = {"opt": run.name[0]}
    assert [s["group"] for s in sweep.find_sweeps(runs, group_by="hparams:opt")] == ["opt=a", "opt=b"]
    from lrdoctor.errors import ConfigError

    with pytest.raises(ConfigError, match="group-by"):
        sweep.find_sweeps(runs, group_by="bogus")


def test_name_helpers():
    assert sweep_groups.lr_from_name("lr1e-3") == 1e-3
    assert sweep_groups.lr_from_name("learning_rate-0.3") == 0.3
    assert sweep_groups.lr_from_name("clr_0.1") is None  # 'clr' is not 'lr'
    assert sweep_groups.run_dir("g/lr_0.1/version_3/metrics.csv") == "g/lr_0.1"


def test_engine_puts_sweeps_in_the_report_and_every_renderer_can_show_them():
    from lrdoctor.reporters import FORMATS, render

    report = diagnose_runs(sweep_runs())
    assert len(report.sweeps) == 1
    doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    suggested = doc["sweeps"][0]["recommendation"]["suggested_lr"]
    assert err(suggested, 10**-2.3) < 0.15
    shown = f"suggested LR {suggested:.3g}"
    outputs = {fmt: render(report, fmt) for fmt in FORMATS}
    assert shown in outputs["text"] and "1. sweep/lr_0.00316228  lr 0.00316" in outputs["text"]
    assert shown in outputs["markdown"] and "diverged" in outputs["text"]


def test_sweep_plot(tmp_path):
    from lrdoctor.plots_lr import plot_sweep

    path = plot_sweep(sweep.find_sweeps(sweep_runs())[0], str(tmp_path / "sweep.png"))
    assert Path(path).stat().st_size > 10_000


# --------------------------------------------------------------------------- the bench


@pytest.mark.parametrize("group", ["digits_mlp|sgd|constant|0|32", "diabetes_mlp|adam|step|1|16"])
def test_bench_group_best_run_is_lr_star(group, tmp_path):
    if not (BENCH / "labels.csv").exists():
        pytest.skip("../shared/bench is not available")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import sweep_eval
    finally:
        sys.path.pop(0)
    import lrdoctor

    rows = sweep_eval.read_groups(str(BENCH))[group]
    sweep_eval.lay_out(str(BENCH), rows, str(tmp_path / "g"))
    report = lrdoctor.diagnose(str(tmp_path / "g"), config={"group-by": "dir"})  # formats are mixed: say it
    assert len(report.sweeps) == 1
    s = report.sweeps[0]
    assert len(s["runs"]) == len(rows)
    lr_star = float(rows[0]["lr_star"])
    assert err(s["fit"]["best_lr"], lr_star) < 0.01
    assert err(s["recommendation"]["suggested_lr"], lr_star) <= 0.25 + 1e-9
