"""tags.py: real names -> roles, predictable preference, never-roles, overrides, LR from hparams."""
from __future__ import annotations

import pytest

from lrdoctor.model import Run, Series
from lrdoctor.tags import assign_roles, classify


@pytest.mark.parametrize("tag, role", [
    # train loss
    ("loss", "train_loss"), ("train_loss", "train_loss"), ("train/loss", "train_loss"), ("Train/Loss", "train_loss"),
    ("Metrics/Loss", "train_loss"), ("train_loss_step", "train_loss"), ("train_loss_epoch", "train_loss"),
    ("epoch_loss", "train_loss"), ("train/epoch_loss", "train_loss"), ("train/batch_loss", "train_loss"),
    ("train/nll_loss", "train_loss"), ("train_gen_loss", "train_loss"), ("train/value_loss", "train_loss"),
    ("info/learner/default_policy/total_loss", "train_loss"), ("policy_loss", "train_loss"),
    ("Loss/train", "train_loss"),
    # val loss
    ("val_loss", "val_loss"), ("eval_loss", "val_loss"), ("eval/loss", "val_loss"), ("val/loss", "val_loss"),
    ("validation/epoch_loss", "val_loss"), ("validation/evaluation_loss_vs_iterations", "val_loss"),
    ("val/rmse_loss", "val_loss"), ("Loss/val", "val_loss"),
    # lr
    ("lr", "lr"), ("learning_rate", "lr"), ("train/learning_rate", "lr"), ("train/lr", "lr"), ("lr-Adam", "lr"),
    ("lr-SGD", "lr"), ("lr-Ranger", "lr"), ("train/epoch_learning_rate", "lr"), ("lr-AdamW/pg1", "lr"),
    ("ray/tune/info/learner/default_policy/cur_lr", "lr"), ("info/learner/default_policy/cur_lr", "lr"),
    # accuracy
    ("acc", "train_acc"), ("accuracy", "train_acc"), ("train_acc", "train_acc"), ("categorical_accuracy", "train_acc"),
    ("train/epoch_accuracy", "train_acc"), ("Metrics/Accuracy", "train_acc"), ("train_top1", "train_acc"),
    ("mean_token_accuracy", "train_acc"), ("Percentage_Accuracy", "train_acc"),
    ("val_acc", "val_acc"), ("val_accuracy", "val_acc"), ("eval_accuracy", "val_acc"), ("eval/accuracy", "val_acc"),
    ("val_categorical_accuracy", "val_acc"), ("val_top1", "val_acc"), ("eval_mean_token_accuracy", "val_acc"),
    ("validation/evaluation_accuracy_vs_iterations", "val_acc"), ("val_Percentage_Accuracy", "val_acc"),
    # grad norm
    ("grad_norm", "grad_norm"), ("train/grad_norm", "grad_norm"),
])
def test_real_names_get_their_role(tag, role):
    assert classify(tag)[0] == role


@pytest.mark.parametrize("tag", [
    "hp_metric", "hparam/Final_Val_Loss", "train/train_loss", "summary/train_loss", "rollout/exploration rate",
    "train/clip_range", "global_step/sec", "lr-SGD-momentum", "epoch", "train/epoch", "step", "train_top5",
    "eval_f1", "eval_wer", "epoch_mae", "rollout/ep_rew_mean", "eval_runtime", "total_flos",
])
def test_names_that_never_get_a_role(tag):
    assert classify(tag) is None


def series(n, start=0, every=1):
    return Series.from_lists(range(start, start + n * every, every), [1.0] * n)


def test_plain_loss_beats_qualified_and_more_points_wins_within_a_rank():
    run = Run("r", "r", "csv", series={"train/value_loss": series(100), "train/loss": series(10),
                                       "train_loss_epoch": series(5)})
    assert classify("train_loss_epoch")[1] == classify("train/loss")[1] == 0
    assert classify("train/value_loss")[1] > 0
    assert_roles(run, train_loss="train/loss")
    assert "train/value_loss" in run.role_notes["train_loss"] and "train_loss_epoch" in run.role_notes["train_loss"]


def test_val_curve_on_the_train_axis_is_preferred():
    keras = {"train/epoch_loss": series(10), "train/batch_loss": series(100, 1),
             "validation/epoch_loss": series(10), "validation/evaluation_loss_vs_iterations": series(10, 10, 10)}
    run = Run("r", "r", "keras_tensorboard", series=dict(keras))
    assert_roles(run, train_loss="train/batch_loss", val_loss="validation/evaluation_loss_vs_iterations")
    del keras["train/batch_loss"]
    run = Run("r", "r", "keras_tensorboard", series=keras)
    assert_roles(run, train_loss="train/epoch_loss", val_loss="validation/epoch_loss")


def test_test_curves_are_a_last_resort_for_validation():
    run = Run("r", "r", "csv", series={"test_loss": series(10), "val_loss": series(3)})
    assert_roles(run, val_loss="val_loss")


def test_overrides_win_and_accept_globs_and_unknown_names_are_noted():
    run = Run("r", "r", "csv", series={"loss": series(5), "my/objective": series(5), "val_loss": series(5)})
    assign_roles(run, {"train_loss": ["my/*"], "lr": ["nope"]})
    assert run.roles["train_loss"] == "my/objective" and "override" in run.role_notes["train_loss"]
    assert "lr" not in run.roles and "matched no tag" in run.role_notes["lr"]
    assert run.roles["val_loss"] == "val_loss"


def test_lr_from_hyper_parameters_when_no_lr_curve():
    run = Run("r", "r", "lightning_csv", series={"train_loss": series(4, 0, 10)}, hparams={"model/lr": 0.03})
    assign_roles(run)
    lr = run.get("lr")
    assert run.roles["lr"] == "hparams/model/lr" and list(lr.steps) == [0, 10, 20, 30] and lr.values[0] == 0.03
    assert "constant" in run.role_notes["lr"]


def test_lr_hparam_is_not_used_when_lr_is_logged_or_not_a_number():
    run = Run("r", "r", "csv", series={"loss": series(3), "lr": series(3)}, hparams={"lr": 0.5})
    assert_roles(run, lr="lr")
    run = Run("r", "r", "csv", series={"loss": series(3)}, hparams={"lr": "auto"})
    assign_roles(run)
    assert "lr" not in run.roles


def assert_roles(run, **expected):
    assign_roles(run)
    for role, tag in expected.items():
        assert run.roles.get(role) == tag, (role, run.roles, run.role_notes)


def test_one_lookup_of_the_lr_hyper_parameter_for_every_consumer():
    import doctest

    from lrdoctor import tags
    from lrdoctor.context import groups as sweep_groups
    from lrdoctor.model import Run, Series
    from lrdoctor.rules._view import build_view

    assert doctest.testmod(tags).failed == 0
    hparams = {"min_lr": 1e-6, "warmup_lr": 1e-5, "model.optim.lr": "3e-4", "lr_decay": 0.5}
    assert tags.lr_hparam(hparams) == ("model.optim.lr", 3e-4)
    assert tags.lr_hparam({"lr": 0.1, "base_lr": 0.2}) == ("lr", 0.1)
    assert tags.lr_hparam({"lr": "nan", "learning_rate": -1, "max_lr": "1e-3"}) == ("max_lr", 1e-3)
    assert tags.lr_hparam({"lr": True}) is None  # a switch, not a rate
    run = Run(name="r", source="<memory>", format="generated", hparams=hparams,
              series={"loss": Series.from_lists([0, 1, 2], [1.0, 0.9, 0.8])})
    tags.assign_roles(run)
    assert sweep_groups.run_lr(run) == (3e-4, "hparams:model.optim.lr")
    assert build_view(run).current_lr == 3e-4
    # The schedule's bounds describe the setup; the rate itself does not.
    assert set(sweep_groups._setup(run)) >= {"min_lr", "warmup_lr", "lr_decay"}
    assert "model.optim.lr" not in sweep_groups._setup(run)


def test_camel_case_names_are_words():
    """Found on blind-labelled real logs: a CSV of ``Epoch,TrainLoss,ValLoss,mIoU,...,LR`` was set aside as
    holding no loss.  camelCase / PascalCase split into words; a lone lower-case letter before a capital
    (``mAP``) does not."""
    from lrdoctor.tags import classify, words

    assert words("TrainLoss") == ["train", "loss"] and words("MSELoss") == ["mse", "loss"]
    assert words("valLossEpoch") == ["val", "loss", "epoch"] and words("F1Score") == ["f1", "score"]
    assert words("mAP50") == ["map50"] and words("val_loss") == ["val", "loss"]
    assert classify("TrainLoss")[0] == "train_loss" and classify("ValLoss")[0] == "val_loss"
    assert classify("ValAcc")[0] == "val_acc" and classify("learningRate")[0] == "lr"
    assert classify("lr-AdamW/pg1") == ("lr", 1)
