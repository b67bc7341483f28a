"""Plots: a PNG of the documented size per run, from hand-made runs and from every sample log."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import plots
from lrdoctor.engine import diagnose_runs

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"


def png_size(path) -> tuple[int, int]:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def assert_plot(path) -> None:
    assert Path(path).stat().st_size > 10_000  # a blank canvas of this size is ~5 kB
    assert png_size(path) == (plots.WIDTH_PX, plots.HEIGHT_PX)


def test_plot_hand_made_runs(hand_runs, fake_rules, tmp_path):
    runs = [r for r in hand_runs if r.name in ("diverged", "overfit")]  # NaN + findings; val + LR (~0.5 s each)
    report = diagnose_runs(runs)
    by_name = {r.run: r for r in report.runs}
    for run in runs:
        path = plots.plot_run(run, by_name[run.name], str(tmp_path / plots.file_name(run.name)))
        assert_plot(path)


def test_plot_without_result_or_curves(tmp_path):
    from lrdoctor.model import Run

    assert_plot(plots.plot_run(Run("empty", "/x", "csv"), None, str(tmp_path / "e.png")))


@pytest.mark.parametrize("values", [np.full(40, 1e308), np.r_[np.linspace(2.0, 1.0, 20), np.full(20, -1e307)]])
def test_plot_survives_values_near_the_float_limit(values, tmp_path):
    # matplotlib's axis arithmetic overflows on such values; they are drawn as blown up instead.
    from lrdoctor.model import TRAIN_LOSS, Run, Series

    run = Run("huge", "/x", "csv", series={"loss": Series.from_lists(np.arange(len(values)), values)})
    run.roles[TRAIN_LOSS] = "loss"
    assert_plot(plots.plot_run(run, None, str(tmp_path / "huge.png")))


def test_file_names_are_flat_and_safe():
    assert plots.file_name("a/b c/ok.csv") == "a__b_c__ok.csv.png"
    assert plots.file_name(".") == "run.png"


def test_smoothing_is_debiased_and_skips_nan():
    values = np.array([2.0] * 50 + [np.nan] + [2.0] * 49)
    out = plots.smooth(values)
    assert np.allclose(out, 2.0)  # debiased: no ramp-up from 0, NaN carried over
    decades = 10.0 ** -np.arange(100) / 10  # falls one decade per point
    lin, geo = plots.smooth(decades), plots.smooth(decades, log=True)
    assert np.all(geo[1:] < lin[1:]) and geo[-1] < 1e-90  # the log-space average follows the fall


def test_cli_plot_dir_and_plot_command(fake_logs, run_cli, tmp_path):
    fake_logs["runs"] = [r for r in fake_logs["runs"] if r.name in ("good", "short")]
    run_cli(["diagnose", fake_logs["dir"], "--plot", tmp_path / "png", "--fail-on", "never"], 0)
    assert {p.name for p in (tmp_path / "png").iterdir()} >= {"good.png", "short.png"}  # (+ sweeps, if any)
    _, err = run_cli(["plot", fake_logs["dir"]], 2)  # two runs: must pick one
    assert "--run" in err and "good, short" in err
    run_cli(["plot", fake_logs["dir"], "--run", "short", "-o", tmp_path / "one.png"], 0)
    assert_plot(tmp_path / "one.png")


def _sample_runs():
    if not SAMPLE_LOGS.is_dir():
        return []
    return sorted(p.name for p in SAMPLE_LOGS.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", _sample_runs() or [pytest.param(None, marks=pytest.mark.skip("sample_logs/ empty"))])
def test_plot_every_sample_log(name, tmp_path):
    from lrdoctor import read_runs

    runs, _ = read_runs(SAMPLE_LOGS / name)
    assert runs, f"no run read from sample_logs/{name}"
    report = diagnose_runs(runs)
    by_name = {r.run: r for r in report.runs}
    for run in runs:
        assert_plot(plots.plot_run(run, by_name[run.name], str(tmp_path / plots.file_name(run.name))))
