"""Issue 10, classes 3-5: missed failures, false alarms and runs the log cannot judge, on reductions of real logs.

The seeded shapes are in curves_real.py (each names the log it reduces); the last part runs the same
checks on the real logs themselves and skips when ../shared/real_logs is absent.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import pytest

from lrdoctor.config import Config
from lrdoctor.engine import diagnose_run
from lrdoctor.findings import Severity
from lrdoctor.rules import all_rules
from lrdoctor.tags import gan_markers, metric_direction, validation_metrics

import curves as C
import curves_real as CR

SEEDS = (0, 1, 2)


def result_of(run):
    return diagnose_run(run, all_rules(), Config())


def finding(result, code):
    return next(f for f in result.findings if f.code == code)


# --- class 5: not a learning-rate question -> abstain, with the reason -------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("make,code,words", [
    (CR.make_gan_broken_from_step0, "DV01", "code or data"),
    (CR.make_gan_signed, "DQ08", "GAN"),
    (CR.make_val_never_finite, "DQ07", "validation"),
    (CR.make_unbounded, "DQ09", "lower bound"),
    (CR.make_frozen_degenerate, "PL05", "barely moved"),
], ids=lambda x: getattr(x, "__name__", x))
def test_runs_the_log_cannot_judge_abstain_and_say_why(make, code, words, seed):
    rec = result_of(make(seed=seed)).recommendation
    assert rec.action == "abstain" and rec.rule == code
    assert rec.reason.startswith("no LR advice: ") and words in rec.reason
    assert rec.factor is None and rec.suggested_lr is None  # no LR is suggested at all


def test_a_loss_broken_at_step_0_is_a_bug_not_a_divergence():
    r = result_of(CR.make_gan_broken_from_step0())
    f = finding(r, "DV01")
    assert f.evidence["broken_from_start"] == 1 and f.evidence["onset_step"] == 0
    assert "decrease" != r.recommendation.action


def test_a_nan_after_some_updates_is_still_a_divergence():
    # The same GAN, finite for its first 20 steps: a NaN during training is the step size's doing.
    run = CR.make_gan_signed()
    tag = run.roles["train_loss"]
    s = run.series[tag]
    values = s.values.copy()
    values[200:] = float("nan")
    run.series[tag] = type(s).from_lists(s.steps, values)
    r = result_of(run)
    assert r.recommendation.action == "decrease" and r.recommendation.rule == "DV01"
    assert "broken_from_start" not in finding(r, "DV01").evidence


def test_an_epoch_mean_nan_at_epoch_0_is_still_a_divergence():
    # An epoch-level point averages a whole epoch of updates: NaN there can be a rate far too high.
    run = CR.make_val_never_finite()
    tag = run.roles["train_loss"]
    s = run.series[tag]
    run.series[tag] = type(s).from_lists(s.steps, [float("nan")] * len(s), None, s.epochs)
    assert result_of(run).recommendation.action == "decrease"


def test_a_frozen_loss_reports_how_little_it_moved():
    f = finding(result_of(CR.make_frozen_degenerate()), "PL05")
    assert f.evidence["change"] == pytest.approx(0.0008, rel=0.3)  # Jhko725: 0.08 % over the run
    assert f.evidence["late_share"] < 0.1


def test_gan_markers_need_both_networks():
    assert gan_markers(["loss_G", "loss_D", "val_loss"]) == ("loss_D", "loss_G")
    assert gan_markers(["g_loss", "d_loss"]) == ("d_loss", "g_loss")
    assert gan_markers(["gen_loss"]) == () and gan_markers(["disc_loss", "loss"]) == ()
    assert gan_markers(["d_model", "g_norm"]) == ()  # sizes and norms are not losses
    assert gan_markers(["errD", "errG"]) == ("errD", "errG")  # the PyTorch DCGAN example
    assert gan_markers(["Loss/Discriminator", "Loss/Generator"]) == ("Loss/Discriminator", "Loss/Generator")
    assert gan_markers(["critic_loss", "actor_loss"]) == ()  # actor-critic RL, not a GAN


# --- class 3: missed failures ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_a_burst_hidden_by_a_huge_first_loss_is_an_explosion(seed):
    r = result_of(CR.make_burst_after_huge_start(seed=seed))
    f = finding(r, "DV03")
    assert f.evidence["step"] == 29 and f.evidence["onset_step"] == 25  # KRS-dev: burst at steps 25-30
    assert f.evidence["peak"] == pytest.approx(2.3e6, rel=0.01) and f.evidence["ratio"] > 1e4
    assert r.recommendation.action == "decrease"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_heavy_tailed_minibatch_loss_near_0_is_no_burst(seed):
    assert "DV03" not in {f.code for f in result_of(CR.make_heavy_tailed_near_zero(seed=seed)).findings}


@pytest.mark.parametrize("seed", SEEDS)
def test_finetune_overfit_with_a_wer_stops_at_the_metrics_best(seed):
    r = result_of(CR.make_finetune_wer(seed=seed))
    f = finding(r, "OF01")
    assert f.severity == Severity.WARNING and f.evidence["best_step"] == 3000
    assert f.evidence["metric_best"] == pytest.approx(0.7432) and f.evidence["metric_still_improving"] == 0
    assert r.recommendation.action == "stop-early" and "3,000" in r.recommendation.reason


def test_a_flat_metric_does_not_excuse_a_rising_validation_loss():
    r = result_of(CR.make_flat_metric_overfit())
    assert finding(r, "OF01").evidence["best_step"] == 6  # the loss's best: the metric gained nothing since
    assert r.recommendation.action == "stop-early"


def test_a_frozen_fall_spread_over_the_run_is_still_too_low_not_degenerate():
    # A rate far too small: the same negligible change, but falling steadily to the end (SC01's).
    r = result_of(C.make_frozen_too_low())
    assert "PL05" not in {f.code for f in r.findings} and r.recommendation.action == "increase"


# --- class 4: false alarms ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_a_rising_validation_loss_with_an_improving_metric_is_over_confidence(seed):
    r = result_of(CR.make_overconfident(seed=seed))
    f = finding(r, "OF01")
    assert f.severity == Severity.INFO and f.evidence["metric_still_improving"] == 1
    assert "over-confidence" in f.message and "val_accuracy" in f.message
    assert r.recommendation.action == "keep"


def test_without_the_metric_the_same_run_is_told_to_stop():
    run = CR.make_overconfident()
    del run.series["val_accuracy"]
    run.roles.pop("val_acc", None)
    assert result_of(run).recommendation.action == "stop-early"


def test_metric_directions():
    assert [metric_direction(t) for t in ("eval/wer", "val_cer", "val/mAP50", "eval_bleu", "val_f1", "eval_rouge2",
                                          "val/top1", "val_error")] == \
        ["lower", "lower", "higher", "higher", "higher", "higher", "higher", "lower"]
    assert [metric_direction(t) for t in ("val_loss", "val_mae", "eval/perplexity", "learning_rate")] == [None] * 4
    assert [t for t, _ in validation_metrics(["train_acc", "eval/wer", "val_acc", "loss"])] == ["val_acc", "eval/wer"]


# --- the real logs themselves (skipped without ../shared) --------------------------------------------

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"

REAL = [  # (path under real_logs, expected action, driving rule) -- JUDGEMENTS.csv gives the practitioner's reasons
    ("lightning_csv/AIRI-Institute__genrisk__genrisk/lightning_logs/version_0", "abstain", "DV01"),
    ("lightning_csv/AIRI-Institute__genrisk__genrisk/lightning_logs/version_5", "abstain", "DV01"),
    ("lightning_csv/AIRI-Institute__genrisk__genrisk/lightning_logs/version_10", "abstain", "DQ08"),
    ("keras_csv/Agusbs98__Interface_of_automatic-ecg-diagnosis__ecg-diagnosis", "abstain", "DQ09"),
    ("lightning_csv/Jhko725__Contact-Point-Detection__contact-pt/lightning_logs/version_0", "abstain", "PL05"),
    ("lightning_csv/KRS-dev__irradiance_estimation__irradiance/lightning_logs/version_0", "decrease", "DV03"),
    ("hf_trainer_state/P4P4N1CK__whisper-large-v2-japanese-5k-steps__whisper-ja/trainer_state.json", "stop-early", "OF01"),
    ("keras_csv/ManuMollon261297__Speech-Digit-Detector__speech-digit", "stop-early", "OF01"),
]


@pytest.mark.parametrize("path,action,rule", REAL, ids=[p.split("/")[1].split("__")[0] for p, _, _ in REAL])
def test_real_log(path, action, rule):
    if not (CORPUS / path).exists():
        pytest.skip("../shared/real_logs is absent")
    from lrdoctor import read_runs

    found = read_runs(str(CORPUS / path))
    runs = found[0] if isinstance(found, tuple) else found
    assert len(runs) == 1
    rec = diagnose_run(runs[0], all_rules(), Config()).recommendation
    assert (rec.action, rec.rule) == (action, rule), rec.reason


@pytest.mark.parametrize("seed", SEEDS)
def test_a_return_collapse_after_a_loss_jump_is_a_finding_but_no_lr_verdict(seed):
    r = result_of(CR.make_ppo_collapse(seed=seed))
    f = finding(r, "DV06")
    assert f.evidence["lost"] > 1.0 and f.evidence["loss_jump"] >= 3  # ray-ppo: lost 328 % after a 24x loss jump
    assert f.evidence["best_step"] < f.evidence["onset_step"]
    assert 250 <= f.evidence["onset_step"] <= 262
    rec = r.recommendation
    assert rec.action == "abstain" and rec.rule == "DV06" and "smaller LR" in rec.reason


def test_real_ppo_collapse():
    path = CORPUS / "other_csv/CursedSeraphim__process-tensorboard-logs__ray-ppo"
    if not path.exists():
        pytest.skip("../shared/real_logs is absent")
    from lrdoctor import read_runs

    found = read_runs(str(path))
    runs = found[0] if isinstance(found, tuple) else found
    r = diagnose_run(runs[0], all_rules(), Config())
    f = finding(r, "DV06")
    assert f.evidence["best"] == pytest.approx(2208, rel=0.02) and f.evidence["low"] < -1500
    assert r.recommendation.action == "abstain"


@pytest.mark.parametrize("seed", SEEDS)
def test_swings_that_calm_when_the_lr_drops_mean_the_peak_lr_was_too_high(seed):
    r = result_of(CR.make_swings_shrink_with_lr(seed=seed))
    f = finding(r, "OS02")
    assert f.evidence["ratio"] == pytest.approx(10, rel=0.4) and f.evidence["lr_settled"] == pytest.approx(0.03)
    rec = r.recommendation
    assert rec.action == "decrease" and rec.suggested_lr == pytest.approx(0.03)


def test_a_quantised_loss_has_no_scatter_to_compare():
    # whisper-ja logs its loss to four decimals: 0.0001-0.0002 after the decay is not "calm".
    from lrdoctor.signal.noise import scatter_by_lr

    lr = np.r_[np.full(50, 1.0), np.full(50, 0.1)]
    y = np.r_[np.linspace(0.3, 0.01, 50), np.tile([0.0001, 0.0002], 25)]
    assert scatter_by_lr(y, np.r_[np.linspace(0.3, 0.01, 50), np.full(50, 0.00015)], lr) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_a_loss_that_turns_up_as_warmup_peaks_caps_the_lr_where_it_turned(seed):
    r = result_of(CR.make_rises_at_warmup_peak(seed=seed))
    f = finding(r, "DV07")
    assert f.evidence["rise"] > 0.3 and f.evidence["lr_at_low"] < f.evidence["lr_at_high"]
    assert 0.15 < f.evidence["lr_at_low"] < 0.6  # the loss was lowest while the LR was still climbing
    rec = r.recommendation
    assert rec.action == "decrease" and rec.rule == "DV07"
    assert rec.suggested_lr == pytest.approx(f.evidence["lr_at_low"], rel=1e-6)
