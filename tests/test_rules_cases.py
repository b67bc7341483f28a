"""Every rule against seeded curves with known answers: it fires on its fail cases, stays quiet on its pass cases.

CASES is also read by test_rule_catalogue.py, which checks that every rule has both kinds.
"""
from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.engine import diagnose_run
from lrdoctor.config import Config
from lrdoctor.model import LR, Series
from lrdoctor.rules import all_rules, find_rule

import curves as C
import curves_real as CR
import curves_rl as R

# code -> (fail cases: the rule must fire, pass cases: it must not)
CASES = {
    "DV01": ([C.make_nan, R.make_rl_nan, CR.make_gan_broken_from_step0], [C.make_healthy, C.make_stuck, C.make_too_low]),
    "DV02": ([C.make_blow_up, R.make_preference_blow_up, CR.make_kl_model_blew_up],
             [CR.make_kl_annealed, C.make_healthy, C.make_too_low, C.make_overfit, C.make_stuck, C.make_lm_healthy, C.make_finetune,
              C.make_keras_running_mean, R.make_rl_returns_grow, C.make_noisy_minibatch_slow]),
    "DV03": ([C.make_exploded, R.make_rl_exploded, CR.make_burst_after_huge_start],
             [C.make_healthy, C.make_overfit, C.make_spiky, C.make_too_low, C.make_keras_running_mean, R.make_rl_returns_grow,
              C.make_fast_learner, C.make_step0_running_average, CR.make_heavy_tailed_near_zero]),
    "DV04": ([C.make_train_acc_broke_in_epoch_0, C.make_train_acc_gave_back],
             [C.make_train_acc_rising_minibatch, C.make_train_acc_flat_minibatch, C.make_train_acc_overfit,
              C.make_healthy_acc, C.make_too_low, C.make_class_weighted_epochs]),
    "DV05": ([C.make_blown_logits],
             [C.make_acc_falls_while_memorising, C.make_healthy_acc, C.make_acc_pinned, C.make_acc_gave_back,
              C.make_prior_slow_learner, C.make_too_low_acc, C.make_label_smoothed_easy, C.make_summed_val_loss]),
    "SP01": ([C.make_spiky, C.make_early_spikes, C.make_one_spike],
             [C.make_healthy, C.make_too_low, C.make_stuck, C.make_overfit_epochs, C.make_keras_running_mean,
              R.make_rl_returns_grow]),
    "OS01": ([C.make_erratic_val], [C.make_healthy, C.make_too_low, C.make_overfit]),
    "OS02": ([CR.make_swings_shrink_with_lr], [CR.make_calm_step_decay, C.make_healthy, C.make_mild_step_decay,
                                              C.make_warmup_healthy, C.make_lm_healthy]),
    "PL01": ([C.make_stuck, C.make_exploded, CR.make_finetune_at_chance], [CR.make_finetune_crawl, CR.make_tiny_lr_finetune, CR.make_finetune_settled, C.make_healthy, C.make_too_low, C.make_overfit, C.make_warmup_healthy,
                                               C.make_lm_healthy, C.make_finetune, C.make_too_low_epochs,
                                               C.make_frozen_too_low, R.make_rl_returns_grow]),
    "PL02": ([C.make_decay_only], [C.make_healthy, C.make_too_low, C.make_stuck, C.make_mild_step_decay]),
    "PL03": ([C.make_drop_after_decay], [C.make_mild_step_decay, C.make_healthy, C.make_warmup_healthy]),
    "PL04": ([C.make_acc_pinned, C.make_acc_collapsed, C.make_acc_pinned_recovering, C.make_acc_gave_back], [C.make_healthy_acc, C.make_too_low_acc, C.make_healthy,
                                                                                        C.make_imbalanced_prior, C.make_acc_last_eval_bad,
                                                                                        C.make_acc_falls_while_memorising,
                                                                                        C.make_prior_slow_learner]),
    "SC01": ([C.make_too_low, C.make_too_low_epochs, C.make_frozen_too_low], [C.make_healthy, C.make_healthy_epochs, C.make_stuck, C.make_overfit, C.make_warmup_healthy,
                                C.make_mild_step_decay, C.make_lm_healthy, C.make_finetune, R.make_rl_returns_grow]),
    "SC02": ([CR.make_finetune_crawl, CR.make_tiny_lr_finetune],
             [C.make_stuck, CR.make_finetune_at_chance, CR.make_finetune_settled, C.make_healthy, C.make_too_low, C.make_finetune,
              C.make_frozen_too_low, R.make_rl_returns_grow]),
    "RL01": ([R.make_rl_returns_grow, CR.make_ppo_returns_hold],
             [R.make_rl_returns_flat, R.make_rl_returns_fell_back, CR.make_ppo_collapse, CR.make_sparse_reward_blips,
              C.make_healthy]),
    "DQ10": ([CR.make_kl_annealed], [C.make_healthy, C.make_blow_up, CR.make_kl_model_blew_up, C.make_too_low]),
    "OF01": ([C.make_overfit, C.make_overfit_epochs, C.make_overfit_fast_epochs, C.make_acc_falls_while_memorising,
              CR.make_finetune_wer, CR.make_flat_metric_overfit], [C.make_healthy, C.make_too_low, C.make_stuck]),
    "DQ01": ([C.make_short], [C.make_healthy]),
    "DQ02": ([C.make_no_val], [C.make_healthy]),
    "DQ03": ([C.make_restarted], [C.make_healthy]),
    "DQ04": ([C.make_no_lr], [C.make_healthy]),
    "DQ05": ([C.make_negative], [C.make_healthy, C.make_too_low]),
    "DQ06": ([R.make_rl_returns_grow, R.make_rl_nan, R.make_rl_exploded],
             [C.make_healthy, C.make_negative, R.make_preference_blow_up]),
    "PL05": ([CR.make_frozen_degenerate],
             [C.make_healthy, C.make_too_low, C.make_frozen_too_low, C.make_stuck, C.make_finetune, C.make_lm_healthy,
              C.make_too_low_epochs]),
    "DV07": ([CR.make_rises_at_warmup_peak], [C.make_warmup_healthy, C.make_lm_healthy, C.make_finetune, C.make_healthy,
                                              CR.make_finetune_wer]),
    "DV06": ([CR.make_ppo_collapse], [R.make_rl_returns_grow, CR.make_sparse_reward_blips, C.make_healthy]),
    "DQ07": ([CR.make_val_never_finite], [C.make_healthy, C.make_nan, C.make_no_val]),
    "DQ08": ([CR.make_gan_signed, CR.make_gan_broken_from_step0], [C.make_healthy, C.make_negative, R.make_rl_returns_grow]),
    "DQ09": ([CR.make_unbounded], [C.make_healthy, C.make_negative, CR.make_gan_signed]),
}
SEEDS = (0, 1, 2)


def codes_for(run):
    result = diagnose_run(run, all_rules(), Config())
    return {f.code for f in result.findings}, result


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("code,make", [(c, m) for c, (fails, _) in CASES.items() for m in fails],
                         ids=lambda x: getattr(x, "__name__", x))
def test_rule_fires_on_its_fail_case(code, make, seed):
    codes, result = codes_for(make(seed=seed))
    assert code in codes, f"{code} did not fire on {make.__name__}(seed={seed}); got {sorted(codes)}"
    finding = next(f for f in result.findings if f.code == code)
    assert finding.message and finding.kind == find_rule(code).kind


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("code,make", [(c, m) for c, (_, passes) in CASES.items() for m in passes],
                         ids=lambda x: getattr(x, "__name__", x))
def test_rule_stays_quiet_on_its_pass_case(code, make, seed):
    codes, _ = codes_for(make(seed=seed))
    assert code not in codes, f"{code} fired on {make.__name__}(seed={seed})"


def test_findings_carry_numeric_evidence_and_steps():
    _, result = codes_for(C.make_nan())
    f = next(f for f in result.findings if f.code == "DV01")
    assert f.start_step == 320 and f.evidence["onset_step"] == 320  # 40 % of 160 points, every 5 steps
    assert f.evidence["lr_at_onset"] == pytest.approx(1.0)


ALL_SHAPES = sorted({m for fails, passes in CASES.values() for m in (*fails, *passes)}, key=lambda m: m.__name__)


@pytest.mark.parametrize("make", ALL_SHAPES, ids=lambda m: m.__name__)
def test_evidence_holds_numbers_only(make):
    _, result = codes_for(make(seed=0))
    for f in result.findings:
        odd = {k: v for k, v in f.evidence.items() if isinstance(v, bool) or not isinstance(v, (int, float))}
        assert not odd, f"{f.code} evidence has non-numbers: {odd}"


def test_what_could_not_be_measured_is_left_out_of_the_evidence():
    run = C.make_nan()
    del run.series["train/lr"], run.roles[LR]  # no LR logged: DV01 has no LR at the onset to report
    _, result = codes_for(run)
    f = next(f for f in result.findings if f.code == "DV01")
    assert f.evidence["onset_step"] == 320
    assert "lr_at_onset" not in f.evidence and "lr_onset_over_peak" not in f.evidence


def test_overfit_reports_the_best_step():
    _, result = codes_for(C.make_overfit())
    f = next(f for f in result.findings if f.code == "OF01")
    # the validation minimum is at 30 % of 20 epochs -> epoch index 5 or 6 (steps 240-280)
    assert 200 <= f.evidence["best_step"] <= 320


def test_decay_only_reports_where_learning_began():
    _, result = codes_for(C.make_decay_only())
    f = next(f for f in result.findings if f.code == "PL02")
    assert f.evidence["lr_at_onset"] == pytest.approx(0.1)
    assert 400 <= f.evidence["onset_step"] <= 480


@pytest.mark.parametrize("seed", SEEDS)
def test_one_spike_is_info_and_several_are_a_warning(seed):
    _, one = codes_for(C.make_one_spike(seed=seed))
    _, three = codes_for(C.make_spiky(seed=seed))
    sp_one = next(f for f in one.findings if f.code == "SP01")
    sp_three = next(f for f in three.findings if f.code == "SP01")
    assert sp_one.evidence["count"] == 1 and sp_one.severity.name == "INFO"
    assert sp_three.evidence["count"] == 3 and sp_three.severity.name == "WARNING"


@pytest.mark.parametrize("seed", SEEDS)
def test_still_improving_reports_how_fast_the_end_still_falls(seed):
    _, result = codes_for(C.make_too_low(seed=seed))
    f = next(f for f in result.findings if f.code == "SC01")
    # make_too_low's validation loss is 0.1 + 2.18 exp(-t / 5), t = 0..1 over steps 40..800 (760 steps),
    # judged on validation; mid-way through its last half (t = 0.75) that falls 2.18 / 5 * exp(-0.15) per
    # run = 0.375 per 760 steps, i.e. -0.49 per 1,000 steps.
    assert f.evidence["end_slope_per_1k_steps"] == pytest.approx(-0.49, rel=0.1)


def test_a_give_back_is_read_when_validation_is_too_short_to_vouch_for_the_end():
    """DV02's give-back is set aside only when 5+ validation evaluations end at their best; with three
    (0.9, 0.6, 1.3: a clear rise at the end) the blow-up stands."""
    run = C.make_blow_up()
    v = run.series["val/loss"]
    run.series["val/loss"] = Series.from_lists(v.steps[[5, 11, 19]], [0.9, 0.6, 1.3])
    codes, _ = codes_for(run)
    assert "DV02" in codes


def test_blown_logits_advice_uses_the_peak_lr_not_the_lr_at_the_best_evaluation():
    """The break came before the first logged point: a cosine schedule's decayed LR at the evaluation
    DV05 reports is no basis; the move is two decades from the peak."""
    run = C.make_blown_logits()
    lr = run.series["train/lr"]
    run.series["train/lr"] = Series.from_lists(lr.steps, 0.1 * 0.5 * (1 + np.cos(np.pi * np.linspace(0, 1, len(lr)))))
    _, result = codes_for(run)
    rec = result.recommendation
    assert rec.reason.startswith("DV05") and rec.suggested_lr == pytest.approx(0.1 / 100)


def test_nan_validation_next_to_an_empty_train_series_does_not_crash_dv01():
    run = C.make_nan()
    run.series["train/loss"] = Series.from_lists([], [])
    v = run.series["val/loss"]
    run.series["val/loss"] = Series.from_lists(v.steps, np.r_[v.values[:5], np.full(len(v) - 5, np.nan)])
    result = diagnose_run(run, all_rules(), Config())
    assert not [f for f in result.findings if f.evidence.get("crashed")]
    assert "DV01" in {f.code for f in result.findings}


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_logged_in_per_cent_is_read_as_a_fraction(seed):
    run = C.make_acc_pinned(seed=seed)
    acc = run.series["val/acc"]
    run.series["val/acc"] = Series.from_lists(acc.steps, 100 * acc.values)
    codes, result = codes_for(run)
    f = next(f for f in result.findings if f.code == "PL04")
    assert f.evidence["first"] == pytest.approx(0.102)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_run_that_got_most_of_the_way_and_still_falls_is_no_slow_lr(seed):
    """Blind label on a real log: GPT-2 on a small corpus, 8.46 -> 0.12 and still falling (memorising), no
    validation; SC01 said "increase x2.5, high confidence".  Falling 90 % or more below the start, it is
    info ('more steps would help') with no LR advice; the too-low curve, 95 % of the way at its end on
    the step axis but judged on its validation loss (60 % below start), is still told to increase."""
    rng = np.random.default_rng(seed)
    steps = np.arange(10, 4580, 10)
    t = (steps - steps[0]) / (steps[-1] - steps[0])
    loss = 8.5 * np.exp(-1.5 * t) * (1 - 0.98 * t ** 2) + 0.1 + 0.02 * rng.standard_normal(t.shape[0])
    from lrdoctor.model import TRAIN_LOSS, Run

    run = Run("memorising", "memorising", "test", series={"loss": Series.from_lists(steps, loss)},
              roles={TRAIN_LOSS: "loss"})
    _, result = codes_for(run)
    sc01 = [f for f in result.findings if f.code == "SC01"]
    assert sc01 and sc01[0].severity.name == "INFO" and sc01[0].evidence["improvement"] >= 0.9
    assert result.recommendation.action == "keep"
    _, slow = codes_for(C.make_too_low(seed=seed))
    assert slow.recommendation.action == "increase" and slow.recommendation.rule == "SC01"


@pytest.mark.parametrize("seed", SEEDS)
def test_an_untrained_first_loss_long_before_the_first_evaluation_is_no_explosion(seed):
    """Blind label on a real log: an HF fine-tune logging its train loss every 2 steps fell from 5.28
    (step 2) to ~0.3 before its first evaluation at step 200 (0.304); DV03 called the first point an
    explosion, 17x its 'typical' level, and advised /100.  The same fall with the first evaluation
    within the first points keeps the evaluation as the start, and a first point standing alone above
    the ones after it still counts."""
    from lrdoctor.model import TRAIN_LOSS, VAL_LOSS, Run

    rng = np.random.default_rng(seed)
    steps = np.arange(2, 2002, 2)
    train = 0.25 + 5.0 * np.exp(-steps / 40.0) + 0.02 * rng.standard_normal(steps.shape[0])
    evals = np.arange(200, 2001, 200)
    val = 0.29 + 0.003 * (-1.0) ** np.arange(evals.shape[0])  # settled: no trend, no rise

    def run_with(train_values, eval_steps):
        return Run("hf", "hf", "test", series={"loss": Series.from_lists(steps, train_values),
                                               "eval_loss": Series.from_lists(eval_steps, val[: len(eval_steps)])},
                   roles={TRAIN_LOSS: "loss", VAL_LOSS: "eval_loss"})

    codes, result = codes_for(run_with(train, evals))
    assert "DV03" not in codes and result.recommendation.action == "keep"
    spiked = train.copy()
    spiked[0] = 400.0  # one huge first point, the next ones at their untrained level: an explosion
    codes, _ = codes_for(run_with(spiked, evals))
    assert "DV03" in codes


def test_a_best_in_the_last_points_gave_nothing_back():
    """Blind label on a real log: a loss flat at ln 2 whose smoothed minimum fell 2 points before the end
    was told DV02 'climbed back, lost 61 % of its progress'.  A climb back needs a stretch after the best."""
    from lrdoctor.model import TRAIN_LOSS, Run

    steps = np.arange(0, 2150, 10)
    loss = 0.70 + 0.004 * (-1.0) ** np.arange(steps.shape[0])
    loss[-6:-1] = [0.66, 0.655, 0.65, 0.655, 0.66]  # a dip among the last points, then the level again
    run = Run("flat", "flat", "test", series={"loss": Series.from_lists(steps, loss)}, roles={TRAIN_LOSS: "loss"})
    codes, _ = codes_for(run)
    assert "DV02" not in codes
    # The same dip with a stretch after it, back at the level, is a give-back
    loss2 = np.concatenate([np.linspace(0.9, 0.70, 60), loss[:-40], np.full(40, 0.70)])
    loss2[150:175] = 0.62
    loss2[175:] = 0.86
    run2 = Run("gave-back", "gave-back", "test", series={"loss": Series.from_lists(np.arange(loss2.shape[0]) * 10, loss2)},
               roles={TRAIN_LOSS: "loss"})
    codes, _ = codes_for(run2)
    assert "DV02" in codes


def test_a_fragment_of_a_step_level_log_is_not_judged_slow_but_a_short_epoch_log_is():
    """Blind label on a real log: 13 lines of an LLM's first 260 batches (10.98 -> 8.39, still in its first
    fall) were told "increase x11".  A step-level log needs 15 points for SC01; twelve epochs of a slow
    fall are a whole training and still get it."""
    from lrdoctor.model import TRAIN_LOSS, Run

    steps = np.arange(20, 280, 20)
    fall = 11.0 - 2.6 * (steps - 20) / 240.0
    run = Run("fragment", "fragment", "test", series={"loss": Series.from_lists(steps, fall)}, roles={TRAIN_LOSS: "loss"})
    codes, _ = codes_for(run)
    assert len(steps) == 13 and "SC01" not in codes
    epochs = np.arange(1, 13)
    slow = 0.1 + 2.2 * np.exp(-epochs / 30.0)
    run = Run("epochs", "epochs", "test", series={"epoch_loss": Series.from_lists(epochs, slow, epochs=epochs)},
              roles={TRAIN_LOSS: "epoch_loss"})
    codes, result = codes_for(run)
    assert "SC01" in codes and result.recommendation.action == "increase"


def test_an_evaluation_before_training_counts_as_where_it_started():
    """Blind label on a real log (HF Trainer, eval at step 0): eval loss 5.74 before training, 1.11 after the
    first epoch, then rising to 2.7 as the train loss fell 1.1 -> 0.05, with the accuracy sliding
    0.71 -> 0.59.  The model learned (5.74 -> 1.11) and then memorised: PL04 must not call the sliding
    accuracy a collapse and divide the LR by 32; OF01 says stop early, though the accuracy never beat its
    pre-training value."""
    from lrdoctor.model import TRAIN_LOSS, VAL_ACC, VAL_LOSS, Run

    evals = np.arange(0, 12031, 401)
    val = np.concatenate([[5.74], 1.11 + 1.6 * (1 - np.exp(-np.arange(evals.shape[0] - 1) / 10.0))])
    acc = np.concatenate([[0.708], 0.70 - 0.11 * (1 - np.exp(-np.arange(evals.shape[0] - 1) / 8.0))])
    steps = evals[1:]
    train = 0.05 + 1.06 * np.exp(-(steps - 401) / 1200.0)
    run = Run("hf", "hf", "test", series={"loss": Series.from_lists(steps, train),
                                           "eval_loss": Series.from_lists(evals, val),
                                           "eval_accuracy": Series.from_lists(evals, acc)},
              roles={TRAIN_LOSS: "loss", VAL_LOSS: "eval_loss", VAL_ACC: "eval_accuracy"})
    codes, result = codes_for(run)
    assert "PL04" not in codes and result.recommendation.action == "stop-early" and result.recommendation.rule == "OF01"


def test_a_loss_bit_identical_at_every_point_is_no_lr_question():
    """Blind label on a real log: train_loss_batch 16.74222755432129 at all 74 logged batches; PL01 said
    "divide the LR by 32".  Nothing training does reaches such a loss: PL05, abstain.  The same level
    with minibatch scatter (a stuck run) is still PL01's."""
    from lrdoctor.model import TRAIN_LOSS, Run

    steps = np.arange(1299, 4999, 50)
    frozen = np.full(steps.shape[0], 16.74222755432129)
    run = Run("frozen", "frozen", "test", series={"loss": Series.from_lists(steps, frozen)}, roles={TRAIN_LOSS: "loss"})
    codes, result = codes_for(run)
    assert "PL05" in codes and result.recommendation.action == "abstain" and result.recommendation.rule == "PL05"
    scattered = frozen + 0.05 * np.random.default_rng(0).standard_normal(steps.shape[0])
    run = Run("stuck", "stuck", "test", series={"loss": Series.from_lists(steps, scattered)}, roles={TRAIN_LOSS: "loss"})
    _, result = codes_for(run)
    assert result.recommendation.rule == "PL01"


def test_a_first_epoch_that_fell_a_thousandfold_then_levelled_is_no_explosion_nor_stuck():
    """Blind label on a real log: a weather model's epoch losses 3415, 2.2, 2.4, ... about 2.5 for 500 epochs,
    no validation.  The first epoch's mean holds the untrained loss and the whole first fall: DV03 called
    it an explosion, then PL01 'stayed at its starting level', both /32.  The same flat run without that
    first epoch is still stuck (PL01)."""
    from lrdoctor.model import TRAIN_LOSS, Run

    rng = np.random.default_rng(0)
    epochs = np.arange(0, 120)
    loss = 2.5 + 0.2 * rng.standard_normal(epochs.shape[0])
    loss[0] = 3415.0
    run = Run("meteo", "meteo", "test", series={"train_loss_epoch": Series.from_lists(epochs, loss, epochs=epochs)},
              roles={TRAIN_LOSS: "train_loss_epoch"})
    codes, result = codes_for(run)
    assert not {"DV03", "PL01"} & codes and result.recommendation.action != "decrease"
    run = Run("flat", "flat", "test", series={"train_loss_epoch": Series.from_lists(epochs[1:], loss[1:], epochs=epochs[1:])},
              roles={TRAIN_LOSS: "train_loss_epoch"})
    codes, _ = codes_for(run)
    assert "PL01" in codes
