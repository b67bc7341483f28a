"""One recommendation per run: direction, factor, current/suggested LR and a reason with numbers."""
from __future__ import annotations

import math

import pytest

from lrdoctor.advice import recommend
from lrdoctor.config import Config
from lrdoctor.engine import diagnose_run
from lrdoctor.findings import Finding, Recommendation, Severity
from lrdoctor.rules import all_rules

import curves as C
import curves_real as CR
import curves_rl as R


def advise(run, lr=None):
    return diagnose_run(run, all_rules(), Config(lr=lr)).recommendation


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("make,action", [
    (C.make_healthy, "keep"),
    (C.make_too_low, "increase"),
    (C.make_too_low_epochs, "increase"),  # 8-15 epoch means: the last half is only 4-8 points
    (C.make_healthy_epochs, "keep"),
    (C.make_frozen_too_low, "increase"),  # a nearly frozen model is not "stuck at the start"
    (C.make_nan, "decrease"),
    (C.make_blow_up, "decrease"),
    (C.make_exploded, "decrease"),
    (C.make_stuck, "decrease"),
    (C.make_decay_only, "decrease"),  # PL02 wins over SC01's "improving at the end"
    (C.make_overfit, "stop-early"),
    (C.make_overfit_epochs, "stop-early"),  # the steep first epochs are not a spike (no add-warmup)
    (C.make_one_spike, "keep"),
    (C.make_keras_running_mean, "keep"),  # Keras' per-epoch running mean: resets are not spikes or blow-ups
    (C.make_spiky, "keep"),
    (C.make_early_spikes, "add-warmup"),
    (C.make_drop_after_decay, "keep"),  # PL03 is evidence, not a verdict: step schedules are built to drop
    (C.make_mild_step_decay, "keep"),
    (C.make_warmup_healthy, "keep"),
    (C.make_lm_healthy, "keep"),
    (C.make_acc_collapsed, "decrease"),
    (C.make_acc_pinned_recovering, "decrease"),
    (C.make_imbalanced_prior, "keep"),
    (C.make_too_low_acc, "increase"),
    (C.make_healthy_acc, "keep"),
    (C.make_train_acc_broke_in_epoch_0, "decrease"),
    (C.make_blown_logits, "decrease"),
    (C.make_step0_running_average, "keep"),  # a step-0 point logged as one batch / interval is no reference
    (C.make_train_acc_rising_minibatch, "keep"),
    (C.make_finetune, "keep"),
    (R.make_rl_returns_grow, "keep"),  # an agent's loss rises with its returns: not a blow-up; the returns rose and held
    (R.make_rl_returns_flat, "abstain"),  # no rise in the returns: the log cannot say
    (R.make_rl_returns_fell_back, "abstain"),  # rose, then gave back half: neither held (RL01) nor collapsed (DV06)
    (CR.make_finetune_crawl, "increase"),  # fell 8 % in strict order at 4.4e-5: too low, not PL01's too high
    (CR.make_finetune_settled, "keep"),  # fell 4 % in order at 4.4e-5, then settled: nothing wrong
    (R.make_rl_nan, "decrease"),
    (R.make_rl_exploded, "decrease"),
    (R.make_preference_blow_up, "decrease"),  # DPO's rewards/* tags do not make it RL
], ids=lambda x: getattr(x, "__name__", x))
def test_action_per_shape(make, action, seed):
    assert advise(make(seed=seed)).action == action


def test_keep_repeats_the_current_lr():
    rec = advise(C.make_healthy(lr=3e-3))
    assert rec.current_lr == pytest.approx(3e-3) and rec.suggested_lr == pytest.approx(3e-3) and rec.factor == 1.0


def test_decrease_and_increase_move_the_right_way_with_a_reason():
    down = advise(C.make_nan(lr=1.0))
    assert down.suggested_lr < down.current_lr and down.factor < 1
    assert "step 320" in down.reason
    up = advise(C.make_too_low(lr=1e-4))
    assert up.suggested_lr > up.current_lr and 3 <= up.factor <= 3000
    assert "%" in up.reason


def test_collapsed_training_accuracy_is_a_divergence_and_moves_a_decade_and_a_half():
    rec = advise(C.make_train_acc_broke_in_epoch_0())
    assert rec.reason.startswith("DV04") and "from about step" in rec.reason
    assert rec.factor == pytest.approx(10 ** -1.5) and rec.suggested_lr == pytest.approx(10 ** -1.5)


def test_decay_only_suggests_the_lr_where_learning_began():
    rec = advise(C.make_decay_only(peak=1.0))
    assert rec.suggested_lr == pytest.approx(0.1)


def test_current_lr_log_then_override_then_hparams():
    assert advise(C.make_healthy(lr=1e-2), lr=0.5).current_lr == pytest.approx(1e-2)  # the log wins
    assert advise(C.make_no_lr(hparam_lr=0.02)).current_lr == pytest.approx(0.02)
    assert advise(C.make_no_lr(hparam_lr=0.02), lr=0.5).current_lr == pytest.approx(0.5)
    assert advise(C.make_no_lr()).current_lr is None
    assert advise(C.make_no_lr(), lr=0.5).current_lr == pytest.approx(0.5)


def test_crashed_rule_is_not_evidence():
    crash = Finding("DV01", "non-finite-loss", "data_quality", Severity.INFO, "crashed", evidence={"crashed": 1})
    assert recommend(C.make_healthy(), [crash]).action == "keep"


def test_one_early_spike_is_not_enough_for_a_warmup():
    def spike(count, early):
        return Finding("SP01", "loss-spikes", "spike", Severity.WARNING, "spikes",
                       evidence={"count": count, "early_count": early, "early_share": early / count, "has_warmup": 0})
    assert recommend(C.make_healthy(), [spike(1, 1)]).action == "keep"
    assert recommend(C.make_healthy(), [spike(3, 2)]).action == "add-warmup"
    assert recommend(C.make_healthy(), [spike(5, 2)]).action == "keep"  # most spikes later in the run


def test_increase_factor_follows_the_time_constant_argument():
    from lrdoctor.advice import increase_factor

    # Small gains: 3 time constants needed, -ln(1 - g) ~ g done -> ~3 / g.
    assert increase_factor(0.04) == pytest.approx(3 / 0.04, rel=0.03)
    assert increase_factor(0.1) == pytest.approx(3 / -math.log(0.9))
    # Monotone: the less a run gained, the larger the step up; bounded on both sides.
    gains = [0.0, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.9]
    factors = [increase_factor(g) for g in gains]
    assert all(a >= b for a, b in zip(factors, factors[1:]))
    # Capped at two decades per round: the linear start of a curve says nothing about a 100x larger step.
    assert factors[0] == pytest.approx(100.0) and factors[-1] == pytest.approx(2.5)


def test_increase_is_worded_as_a_lower_bound():
    # Converging in the budget is necessary, not sufficient: the estimate is the least move.
    sc = Finding("SC01", "still-improving", "slow_convergence", Severity.ERROR, "slow",
                 evidence={"late_share": 0.3, "improvement": 0.1, "train_improvement": 0.1})
    rec = recommend(C.make_too_low(lr=1e-4), [sc])
    assert "at least ×28" in rec.reason and rec.suggested_lr == pytest.approx(1e-4 * 3 / -math.log(0.9))
    # A run that has barely moved (below PL01's 10 % margin) gets an estimate, not a lower bound.
    frozen = Finding("SC01", "still-improving", "slow_convergence", Severity.ERROR, "slow",
                     evidence={"late_share": 0.3, "improvement": 0.002, "train_improvement": 0.002})
    rec = recommend(C.make_too_low(lr=1e-4), [frozen])
    assert "at least" not in rec.reason and "barely moved" in rec.reason
    assert rec.factor == pytest.approx(100.0) and "capped at two decades" in rec.reason


def test_increase_uses_the_smaller_read_of_the_gain():
    sc = Finding("SC01", "still-improving", "slow_convergence", Severity.ERROR, "slow",
                 evidence={"late_share": 0.3, "improvement": 0.05, "train_improvement": 0.4})
    rec = recommend(C.make_too_low(lr=1e-4), [sc])
    assert rec.action == "increase" and rec.factor == pytest.approx(3 / -math.log(0.95))


def test_advice_docstring_examples():
    import doctest

    import lrdoctor.advice

    result = doctest.testmod(lrdoctor.advice)
    assert result.attempted > 0 and result.failed == 0


def test_keep_on_too_few_points_is_low_confidence_and_says_why():
    few = Finding("DQ01", "too-few-points", "data_quality", Severity.INFO,
                  "the train loss has only 3 points; shape checks were skipped")
    rec = recommend(C.make_too_low(lr=1e-3), [few])
    assert rec.action == "keep" and rec.confidence == "low"
    assert "too little to judge" in rec.reason and "3 points" in rec.reason
    assert recommend(C.make_too_low(lr=1e-3), []).confidence != "low"

