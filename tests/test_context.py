"""Evidence across runs (lrdoctor/context/): sweep-aware verdicts, grouping of numbered siblings,
and --baseline, on seeded generated curves and small runs written at test time."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.config import Config
from lrdoctor.context import baseline, groups
from lrdoctor.engine import diagnose_runs
from lrdoctor.model import LR, TRAIN_LOSS, VAL_LOSS, Run, Series

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"
GRID = 10.0 ** (np.arange(-8, 1) / 2.0)  # 1e-4 .. 1, half-decade steps


def curve_run(name, lr, *, seed=0, optimum=10**-2.5, diverge=False, slow=1.0, gap=0.0, explode=False) -> Run:
    """A healthy-looking run (smooth exponential fall) whose best loss depends on its LR: a valley
    in log10(LR) around ``optimum``; ``slow`` stretches its time constant; ``gap`` lifts its val loss."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 400, 4)
    floor = 0.2 + 0.3 * (math.log10(lr) - math.log10(optimum)) ** 2
    train = floor + 2.0 * np.exp(-steps / (40.0 * slow)) + 0.01 * rng.standard_normal(steps.shape[0])
    if diverge:
        train[len(train) // 2:] = np.nan
    if explode:  # a finite blow-up: only a finding says it diverged
        train[len(train) // 2:] *= 100.0
    epochs = steps[::10]
    val = floor + gap + 2.0 * np.exp(-epochs / (40.0 * slow)) + 0.005 * rng.standard_normal(epochs.shape[0])
    if diverge:
        val[len(val) // 2:] = np.nan
    series = {"loss": Series.from_lists(steps, train), "val_loss": Series.from_lists(epochs, val),
              "lr": Series.from_lists(steps, np.full(steps.shape[0], lr))}
    return Run(name=name, source=name, format="test", series=series,
               roles={TRAIN_LOSS: "loss", VAL_LOSS: "val_loss", LR: "lr"})


def sweep_report(seed=0):
    runs = [curve_run(f"sweep/lr_{lr:.4g}", lr, seed=seed + k, diverge=lr >= 0.99) for k, lr in enumerate(GRID)]
    return diagnose_runs(runs, Config())


def at(report, lr):
    """The result of the run at ``lr`` (matched within 1 %: LRs are logged as float32)."""
    found = [r for r in report.runs if abs(math.log(r.recommendation.current_lr / lr)) < 0.01]
    assert len(found) == 1
    return found[0]


# --------------------------------------------------------------------------- sweep-aware verdicts


def test_a_healthy_curve_far_from_the_sweeps_best_is_told_the_sweeps_direction():
    report = sweep_report()
    assert len(report.sweeps) == 1
    low = at(report, 1e-4)
    rec = low.recommendation
    assert rec.action == "increase" and rec.rule == "SW01"
    assert "SW01" in {f.code for f in low.findings}
    assert abs(math.log10(rec.suggested_lr / 10**-2.5)) <= 0.25  # the sweep's optimum, not a guess
    high = at(report, 10**-0.5)
    assert high.recommendation.action == "decrease"


def test_runs_within_the_sweeps_noise_keep_and_a_diverged_run_still_decreases():
    report = sweep_report()
    near = at(report, 10**-2.5)
    assert near.recommendation.action == "keep"
    assert "within" in near.recommendation.reason
    crashed = at(report, 1.0)
    assert crashed.recommendation.action == "decrease"
    assert crashed.recommendation.rule.startswith("DV")


def test_disagreement_between_the_run_and_its_sweep_is_named_in_the_reason():
    from lrdoctor.context.verdict import SweepJudgement, combine
    from lrdoctor.findings import Recommendation

    sweep = {"runs": [{"run": "a", "lr": 1e-3}], "fit": {"optimum_lr": 1e-2, "best_lr": 1e-2, "edge": None},
             "loss": "val_loss", "group": "g"}
    point = {"run": "a", "lr": 1e-3}
    own = Recommendation("keep", 1.0, 1e-3, 1e-3, "no learning-rate problem found")
    judged = SweepJudgement("increase", 0.5, 0.05, -1.0, "in its sweep of 1 runs: worse")
    rec, finding = combine(own, judged, sweep, point)
    assert rec.action == "increase" and rec.suggested_lr == pytest.approx(1e-2)
    assert "its own curve shows no LR problem" in rec.reason and finding.code == "SW01"
    diverged = Recommendation("decrease", 0.01, 1e-3, 1e-5, "DV01: loss became NaN", rule="DV01")
    rec, finding = combine(diverged, judged, sweep, point)
    assert rec.action == "decrease" and "the sweep disagrees" in rec.reason and finding is None


def test_seed_noise_widens_the_band():
    from lrdoctor.context.sweep import sweep_noise

    def pts(losses):
        return [{"lr": lr, "best_loss": v, "diverged": False} for lr, v in losses]

    quiet = sweep_noise(pts([(1e-3, 1.0), (1e-2, 0.5), (1e-1, 0.9)]), 0.5)
    noisy = sweep_noise(pts([(1e-3, 1.0), (1e-2, 0.5), (1e-2, 0.9), (1e-1, 0.9)]), 0.5)
    assert noisy["source"].startswith("seeds") and noisy["tolerance"] > quiet["tolerance"]


# --------------------------------------------------------------------------- grouping


def test_numbered_sibling_folders_with_two_lrs_and_seeds_form_a_sweep():
    runs = [curve_run(f"exp/runs/run{k}", lr, seed=k) for k, lr in enumerate([1e-3, 1e-3, 1e-3, 1e-3, 1e-2])]
    report = diagnose_runs(runs, Config())
    assert len(report.sweeps) == 1
    assert "differ only in a number" in report.sweeps[0]["formed"]
    assert {p["lr_source"] for p in report.sweeps[0]["runs"]} == {"logged (peak)"}


def test_many_numbered_runs_at_one_lr_are_a_collection_not_a_sweep():
    runs = [curve_run(f"bench/r{k:04d}", lr, seed=k) for k, lr in enumerate([1e-3] * 8 + [1e-2] * 8 + [1e-1] * 8)]
    assert diagnose_runs(runs, Config()).sweeps == ()
    assert not groups.numbered_siblings([curve_run("a/bert1", 1e-3), curve_run("a/gpt2", 1e-3)])


def test_the_logged_lr_wins_over_a_folder_name():
    run = curve_run("sweep/lr_0.1", 1e-3)
    assert groups.run_lr(run) == (pytest.approx(1e-3), "logged (peak)")


# --------------------------------------------------------------------------- --baseline


def _pair(run, ref):
    ref_result, = diagnose_runs([ref], Config()).runs
    result, = diagnose_runs([run], Config()).runs
    return {f.code for f in baseline.compare(run, result, [(ref, ref_result)])}


@pytest.mark.parametrize("seed", range(4))
def test_another_seed_of_the_same_setup_gives_no_finding(seed):
    assert _pair(curve_run("new", 10**-2.5, seed=seed + 100), curve_run("ref", 10**-2.5, seed=seed)) == set()


def test_a_worse_a_slower_a_diverged_and_an_overfitting_run_are_found():
    ref = curve_run("ref", 10**-2.5)
    assert "BL02" in _pair(curve_run("new", 1e-4, seed=1), ref)  # another LR: worse best loss
    assert "BL03" in _pair(curve_run("new", 10**-2.5, seed=1, slow=3.0), ref)
    assert "BL01" in _pair(curve_run("new", 10**-2.5, seed=1, diverge=True), ref)
    assert "BL04" in _pair(curve_run("new", 10**-2.5, seed=1, gap=1.0), ref)


def _write_csv(folder: Path, run: Run) -> None:
    folder.mkdir(parents=True)
    loss, lr = run.get(TRAIN_LOSS), run.get(LR)
    with open(folder / "log.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss", "lr"])
        for s, v, r in zip(loss.steps, loss.values, lr.values):
            w.writerow([int(s), f"{v:.6g}", f"{r:.6g}"])


def test_cli_baseline_fails_ci_for_a_regression_and_passes_another_seed(tmp_path, run_cli):
    _write_csv(tmp_path / "ref", curve_run("ref", 10**-2.5, seed=0))
    _write_csv(tmp_path / "seed", curve_run("seed", 10**-2.5, seed=7))
    _write_csv(tmp_path / "bad", curve_run("bad", 10**-2.5, seed=7, diverge=True))
    out, _ = run_cli(["diagnose", tmp_path / "seed", "--baseline", tmp_path / "ref", "--format", "json"], exit_code=0)
    assert not [f for r in json.loads(out)["runs"] for f in r["findings"] if f["code"].startswith("BL")]
    out, _ = run_cli(["diagnose", tmp_path / "bad", "--baseline", tmp_path / "ref", "--format", "json"], exit_code=1)
    codes = {f["code"] for r in json.loads(out)["runs"] for f in r["findings"]}
    assert "BL01" in codes


def test_an_empty_baseline_is_a_clear_error(tmp_path, run_cli):
    _write_csv(tmp_path / "run", curve_run("run", 1e-3))
    (tmp_path / "empty").mkdir()
    _, err = run_cli(["diagnose", tmp_path / "run", "--baseline", tmp_path / "empty"], exit_code=2)
    assert "--baseline" in err and "Traceback" not in err


# --------------------------------------------------------------------------- bench pairs (skip without ../shared)


def _bench_rows():
    if not (BENCH / "labels.csv").exists():
        pytest.skip("../shared/bench is not available")
    with open(BENCH / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


def _bench_codes(run_id, ref_id):
    from lrdoctor import read_diagnosable

    run, = read_diagnosable(str(BENCH / "runs" / run_id))[0]
    ref, = read_diagnosable(str(BENCH / "runs" / ref_id))[0]
    return _pair(run, ref)


def test_bench_pairs_seeds_quiet_other_lr_and_diverged_found():
    rows = _bench_rows()
    key = lambda r: (r["task"], r["optimizer"], r["schedule"], r["format"])  # noqa: E731
    seeds = [(a, b) for a in rows for b in rows if key(a) == key(b) and a["lr"] == b["lr"] and a["seed"] < b["seed"]
             and a["truth"] == b["truth"] == "ok" and a["diverged"] == b["diverged"] == "0"]
    assert seeds
    for a, b in seeds[:4]:
        assert _bench_codes(b["run_id"], a["run_id"]) == set(), (a["run_id"], b["run_id"])
    ref = seeds[0][0]
    same = [r for r in rows if key(r) == key(ref) and r["seed"] == ref["seed"]]
    diverged = [r for r in rows if r["diverged"] == "1" and key(r)[:3] == key(ref)[:3] and r["seed"] == ref["seed"]]
    mis_set = [r for r in same if r["truth"] != "ok"]
    for other in (mis_set[:2] + diverged[:1]):
        assert _bench_codes(other["run_id"], ref["run_id"]), other["run_id"]


@pytest.mark.parametrize("names, formed", [
    (["mlruns/1/3fa9c0d2", "mlruns/1/b71e44aa", "mlruns/1/0c5d9e13"], "runs of one folder"),  # MLflow run ids
    (["out/bert-lr-1e-3/trainer_state.json", "out/bert-lr-1e-2/trainer_state.json",
      "out/bert-lr-1e-4/trainer_state.json"], "differ only in the LR"),
    (["study/trial_0", "study/trial_1", "study/trial_2"], "differ only in a number"),
    (["out/bert-1e-3/checkpoint-500/trainer_state.json", "out/bert-1e-2/checkpoint-500/trainer_state.json",
      "out/bert-1e-4/checkpoint-400/trainer_state.json"], "differ only in a number"),  # HF output_dirs
    (["exp/lightning_logs/version_0/metrics.csv", "exp/lightning_logs/version_1/metrics.csv"], "differ only in a number"),
])
def test_common_sweep_layouts_are_found_and_say_how(names, formed):
    lrs = [1e-3, 1e-2, 1e-4][:len(names)]
    runs = [curve_run(name, lr, seed=k) for k, (name, lr) in enumerate(zip(names, lrs))]
    for run in runs:
        run.hparams.update({"batch_size": 32, "optimizer": "adam"})
    sweeps = diagnose_runs(runs, Config()).sweeps
    assert len(sweeps) == 1 and len(sweeps[0]["runs"]) == len(names)
    assert formed in sweeps[0]["formed"]


def test_hyper_parameters_other_than_the_lr_split_a_folder():
    runs = [curve_run(f"mlruns/1/run{k}x", lr, seed=k) for k, lr in enumerate([1e-3, 1e-2, 1e-4, 1e-3, 1e-2, 1e-4])]
    for k, run in enumerate(runs):
        run.hparams.update({"model": "small" if k < 3 else "large"})
    sweeps = diagnose_runs(runs, Config()).sweeps
    assert sorted(len(s["runs"]) for s in sweeps) == [3, 3]


def test_what_could_not_be_read_in_the_reference_is_reported(tmp_path):
    _write_csv(tmp_path / "ref" / "good", curve_run("ref", 10**-2.5, seed=0))
    (tmp_path / "ref" / "notes.csv").write_text("who,what\nme,a note\n")
    report = diagnose_runs([curve_run("new", 10**-2.5, seed=3)], Config(baseline=(str(tmp_path / "ref"),)))
    assert any("(--baseline)" in p.message and p.path.endswith("notes.csv") for p in report.problems)


def test_select_and_ignore_name_the_context_codes(tmp_path, run_cli):
    report = diagnose_runs([curve_run(f"sweep/lr_{lr:.4g}", lr, seed=k) for k, lr in enumerate(GRID[:-1])],
                           Config(ignore=("SW01",)))
    assert report.sweeps and not [f for r in report.runs for f in r.findings if f.code == "SW01"]
    assert all(r.recommendation.rule != "SW01" and "sweep" not in r.recommendation.reason for r in report.runs)
    _write_csv(tmp_path / "ref", curve_run("ref", 10**-2.5, seed=0))
    _write_csv(tmp_path / "slow", curve_run("slow", 10**-2.5, seed=7, slow=3.0))
    out, _ = run_cli(["diagnose", tmp_path / "slow", "--baseline", tmp_path / "ref", "--format", "json",
                      "--fail-on", "warning"], exit_code=1)
    assert "BL03" in {f["code"] for r in json.loads(out)["runs"] for f in r["findings"]}
    out, _ = run_cli(["diagnose", tmp_path / "slow", "--baseline", tmp_path / "ref", "--format", "json",
                      "--ignore", "slower-than-baseline"], exit_code=0)
    assert "BL03" not in {f["code"] for r in json.loads(out)["runs"] for f in r["findings"]}
    run_cli(["diagnose", tmp_path / "slow", "--select", "BL,DV"], exit_code=0)


def _with_epochs(run: Run, steps_per_epoch: int) -> Run:
    import dataclasses

    loss = run.series["loss"]
    run.series["loss"] = dataclasses.replace(loss, epochs=loss.steps / steps_per_epoch)
    return run


def _stretched(run: Run, factor: int) -> Run:
    """The same curve logged with ``factor`` times as many steps (a smaller batch size)."""
    loss = run.series["loss"]
    run.series["loss"] = Series.from_lists(loss.steps * factor, loss.values)
    return run


def test_slower_is_read_in_epochs_when_every_run_logs_them():
    ref = _with_epochs(curve_run("ref", 10**-2.5), 40)
    small_batch = _with_epochs(_stretched(curve_run("new", 10**-2.5, seed=3), 4), 160)  # 4x the steps per epoch
    assert "BL03" not in _pair(small_batch, ref)
    assert "BL03" in _pair(_stretched(curve_run("new", 10**-2.5, seed=3), 4), curve_run("ref", 10**-2.5))


def test_reference_seeds_with_the_same_run_name_are_kept_apart(tmp_path, run_cli):
    _write_csv(tmp_path / "ref0" / "run", curve_run("ref", 10**-2.5, seed=0))
    _write_csv(tmp_path / "ref1" / "run", curve_run("ref", 10**-2.5, seed=1, explode=True))
    _write_csv(tmp_path / "new" / "run", curve_run("new", 10**-2.5, seed=7, diverge=True))
    # One reference seed diverged too, so diverging is not a regression against this reference.
    out, _ = run_cli(["diagnose", tmp_path / "new", "--baseline", tmp_path / "ref0", "--baseline", tmp_path / "ref1",
                      "--format", "json", "--fail-on", "never"])
    assert "BL01" not in {f["code"] for r in json.loads(out)["runs"] for f in r["findings"]}


def test_the_sweep_never_moves_a_run_the_wrong_way():
    from lrdoctor.context.verdict import SweepJudgement, combine
    from lrdoctor.findings import Recommendation

    # Judged by a reference sweep: worse than its best, LR just above its best grid LR but below the vertex.
    sweep = {"runs": [], "fit": {"optimum_lr": 1.5e-2, "best_lr": 1e-2, "edge": None}, "loss": "val_loss", "group": "g"}
    point = {"run": "a", "lr": 1.2e-2}
    own = Recommendation("keep", 1.0, 1.2e-2, 1.2e-2, "no learning-rate problem found")
    judged = SweepJudgement("decrease", 0.5, 0.05, -0.1, "in its sweep of 0 runs: worse")
    rec, _ = combine(own, judged, sweep, point)
    assert rec.suggested_lr == pytest.approx(1e-2) and rec.action == "decrease"  # the best grid LR, below it
    point = {"run": "a", "lr": 0.9e-2}
    own = Recommendation("keep", 1.0, 0.9e-2, 0.9e-2, "no learning-rate problem found")
    rec, finding = combine(own, judged, sweep, point)
    assert rec.action == "keep" and finding is None


def test_a_diverged_or_all_nan_reference_is_refused(tmp_path, run_cli):
    """Found in review: a reference whose loss is all NaN made the comparison check nothing and pass;
    a diverged one made healthy runs 'slower'.  Neither can say what a good run is: exit 2, naming it."""
    _write_csv(tmp_path / "run", curve_run("run", 10**-2.5, seed=7))
    _write_csv(tmp_path / "diverged", curve_run("diverged", 10**-2.5, seed=0, diverge=True))
    (tmp_path / "nan").mkdir()
    (tmp_path / "nan" / "log.csv").write_text("step,loss,lr\n" + "".join(f"{s},nan,0.003\n" for s in range(50)))
    for ref, why in (("diverged", "diverged"), ("nan", "no finite loss")):
        _, err = run_cli(["diagnose", tmp_path / "run", "--baseline", tmp_path / ref], exit_code=2)
        assert why in err and "Traceback" not in err


def test_a_comparison_that_crashes_fails_closed(monkeypatch):
    """Found in review: a crashing comparison was an error finding but the run was not 'crashed' and
    the advice still said 'no problem found'.  Now: status crashed, no LR advice, exit 2."""
    from lrdoctor.report import EXIT_ERROR

    def broken(*args, **kwargs):
        raise RuntimeError("comparison bug")

    monkeypatch.setattr(baseline, "compare", broken)
    monkeypatch.setattr(baseline, "_reference", lambda refs, config: (
        [curve_run("ref", 10**-2.5)], list(diagnose_runs([curve_run("ref", 10**-2.5)], Config()).runs), ()))
    import dataclasses

    report = diagnose_runs([curve_run("run", 10**-2.5, seed=3)], dataclasses.replace(Config(), baseline=("ref",)))
    (run,) = report.runs
    assert run.crashed == ("BL00",) and run.status == "crashed" and run.recommendation.action == "abstain"
    assert report.exit_code("error") == EXIT_ERROR


def test_a_run_is_not_compared_with_itself(monkeypatch):
    """Found in review: --baseline pointing at the sweep being diagnosed gave every SW01 twice."""
    import dataclasses

    runs = [curve_run(f"sweep/lr_{lr:.4g}", lr, seed=k) for k, lr in enumerate(GRID) if lr < 0.99]
    reference = (runs, list(diagnose_runs(runs, Config()).runs), ())
    monkeypatch.setattr(baseline, "_reference", lambda refs, config: reference)
    report = diagnose_runs(runs, dataclasses.replace(Config(), baseline=("sweep",)))
    assert any(f.code == "SW01" for r in report.runs for f in r.findings)
    for r in report.runs:
        codes = [f.code for f in r.findings]
        assert codes.count("SW01") <= 1, (r.run, codes)


def _abstained_rl_run(folder: Path) -> None:
    """An SB3 progress.csv whose return moved 1 %: lrdoctor abstains on it (test_returns_scale.py)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    returns = -200 + 2 * np.linspace(0, 1, 300) + 0.05 * rng.standard_normal(300)
    loss = np.abs(0.5 + 0.1 * rng.standard_normal(300))
    rows = "".join(f"{(i + 1) * 2048},{r:.6g},{v:.6g},0.0003\n" for i, (r, v) in enumerate(zip(returns, loss)))
    (folder / "progress.csv").write_text(
        "time/total_timesteps,rollout/ep_rew_mean,train/loss,train/learning_rate\n" + rows)


def test_a_reference_lrdoctor_cannot_judge_is_refused_or_left_out(tmp_path, run_cli):
    """Found in review: an RL reference lrdoctor itself abstains on was accepted as what 'good' is."""
    _write_csv(tmp_path / "run", curve_run("run", 10**-2.5, seed=7))
    _abstained_rl_run(tmp_path / "rl")
    _, err = run_cli(["diagnose", tmp_path / "run", "--baseline", tmp_path / "rl"], exit_code=2)
    assert "cannot judge the reference" in err and "Traceback" not in err
    # Beside a reference it can judge, the abstained one is left out, and said so; the comparison runs.
    _write_csv(tmp_path / "slow", curve_run("slow", 10**-2.5, seed=7, slow=3.0))
    _write_csv(tmp_path / "refs" / "good", curve_run("good", 10**-2.5, seed=3))
    _abstained_rl_run(tmp_path / "refs" / "rl")
    out, err = run_cli(["diagnose", tmp_path / "slow", "--baseline", tmp_path / "refs", "--format", "json",
                        "--fail-on", "never"], exit_code=0)
    assert "not used as a reference" in err and "progress.csv" in err
    assert "BL03" in {f["code"] for f in json.loads(out)["runs"][0]["findings"]}
