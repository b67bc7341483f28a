"""Write sample_logs/: tiny MLPs trained for real on scikit-learn's digits, logged by real writers.

    python bench/make_sample_logs.py                 # regenerates sample_logs/
    python bench/make_sample_logs.py --out /tmp/x    # somewhere else

Needs the `samples` extra (`pip install -e '.[samples]'`: scikit-learn, tensorboardX, pyyaml).
The training (a small numpy MLP, seeded) is bench/sample_training.py; this script picks the runs,
trains them and writes each with its format's real writer: the logged values are reproducible,
only wall times and event-file names change between regenerations. Each run is written in one of
the layouts described in ../shared/bench/public/README.md ("Log formats"). See docs/sample_logs.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
from sample_training import LOG_EVERY, History, Spec, load_digits_split, sweep, train

RUNS = (
    Spec("healthy_tbx", "tbx", "the LR the sweep picked, constant"),
    Spec("lr_too_high_lightning", "lightning", "100x the picked LR: diverges", lr_factor=100.0),
    Spec("lr_too_low_keras_tb", "keras_tb", "1/1000 of the picked LR: barely moves",
         lr_factor=1e-3),
    Spec("overfit_keras_csv", "keras_csv",
         "64-512-512-10 for 120 epochs on 100 digits, 20% wrong labels",
         epochs=120, hidden=(512, 512), batch=16, n_train=100, flip_frac=0.2),
    Spec("warmup_cosine_hf", "hf", "3x the picked LR as peak, warmup + cosine",
         lr_factor=3.0, schedule="warmup_cosine"),
    Spec("lr_range_test_tbx", "range_tbx",
         "LR from 1e-6 towards 10 over 200 steps, stops when the loss blows up",
         lr=1e-6, schedule="range_test"),
)


# ---------------------------------------------------------------------------------------- writers
def _logged(hist: History, every: int, offset: int = 0) -> list[dict]:
    return [s for s in hist.steps if s["step"] % every == offset]


def write_tbx(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """tensorboardX.SummaryWriter: train/loss, train/lr every k steps; val/* after each epoch."""
    from tensorboardX import SummaryWriter

    with SummaryWriter(logdir=str(run_dir)) as w:
        for s in _logged(hist, LOG_EVERY):
            w.add_scalar("train/loss", s["loss"], s["step"], walltime=s["wall"])
            w.add_scalar("train/lr", s["lr"], s["step"], walltime=s["wall"])
        for e in hist.epochs:
            w.add_scalar("val/loss", e["val_loss"], e["step"], walltime=e["wall"])
            w.add_scalar("val/acc", e["val_acc"], e["step"], walltime=e["wall"])


def write_range_tbx(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """tensorboardX, as an lr_find callback logs it: raw `loss` and `learning_rate` every step."""
    from tensorboardX import SummaryWriter

    with SummaryWriter(logdir=str(run_dir)) as w:
        for s in hist.steps:
            w.add_scalar("loss", s["loss"], s["step"], walltime=s["wall"])
            w.add_scalar("learning_rate", s["lr"], s["step"], walltime=s["wall"])


def _keras_writer(path: Path):
    """tensorboard.summary.Writer (TF2 tensor scalars), files named `*.v2` as Keras names them."""
    from tensorboard.summary import DirectoryOutput, Writer
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    class KerasOutput(DirectoryOutput):
        def __init__(self, logdir):  # noqa: super() would open a second file without the suffix
            self._ev_writer = EventFileWriter(logdir, filename_suffix=".v2")

    return Writer(KerasOutput(str(path)))


def write_keras_tb(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """Keras TensorBoard callback layout: run/train/ and run/validation/, epoch-level tags."""
    train_w, val_w = _keras_writer(run_dir / "train"), _keras_writer(run_dir / "validation")
    for e in hist.epochs:
        ep, wall = e["epoch"], e["wall"]
        train_w.add_scalar("epoch_loss", e["train_loss"], ep, wall_time=wall)
        train_w.add_scalar("epoch_accuracy", e["train_acc"], ep, wall_time=wall)
        train_w.add_scalar("epoch_learning_rate", e["lr"], ep, wall_time=wall)
        val_w.add_scalar("epoch_loss", e["val_loss"], ep, wall_time=wall)
        val_w.add_scalar("epoch_accuracy", e["val_acc"], ep, wall_time=wall)
        val_w.add_scalar("evaluation_loss_vs_iterations", e["val_loss"], e["step"], wall_time=wall)
        val_w.add_scalar("evaluation_accuracy_vs_iterations", e["val_acc"], e["step"],
                         wall_time=wall)
    train_w.close(), val_w.close()


def _write_csv(path: Path, rows: list[dict], fieldnames: list[str], delimiter: str = ",") -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def write_lightning(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """Lightning CSVLogger + LearningRateMonitor: sparse rows, columns sorted, version_0/."""
    import yaml

    rows = []
    for s in _logged(hist, LOG_EVERY, offset=LOG_EVERY - 1):
        rows.append({"lr-SGD": s["lr"], "step": s["step"]})
        rows.append({"epoch": s["epoch"], "step": s["step"], "train_loss": s["loss"]})
    for e in hist.epochs:
        if e["complete"]:  # the NaN check stops the fit before validation runs
            rows.append({"epoch": e["epoch"], "step": e["step"] - 1,
                         "val_acc": e["val_acc"], "val_loss": e["val_loss"]})
    rows.sort(key=lambda r: (r["step"], "val_loss" in r))
    version = run_dir / "version_0"
    version.mkdir(parents=True)
    _write_csv(version / "metrics.csv", rows, sorted({k for r in rows for k in r}))
    hparams = {"lr": base_lr, "batch_size": spec.batch, "optimizer": "SGD",
               "max_epochs": spec.epochs}
    (version / "hparams.yaml").write_text(yaml.safe_dump(hparams))


def write_keras_csv(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """keras.callbacks.CSVLogger: training.log, one row per epoch, epoch first then sorted keys."""
    rows = [{"epoch": e["epoch"], "accuracy": e["train_acc"], "loss": e["train_loss"],
             "learning_rate": float(np.float32(e["lr"])),  # Keras logs the optimizer's float32 LR
             "val_accuracy": e["val_acc"], "val_loss": e["val_loss"]} for e in hist.epochs]
    keys = ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    run_dir.mkdir(parents=True)
    _write_csv(run_dir / "training.log", rows, keys)


def write_hf(hist: History, spec: Spec, run_dir: Path, base_lr: float) -> None:
    """HuggingFace Trainer's trainer_state.json (logging_steps = k, evaluation every epoch)."""
    per_epoch, n_val = hist.steps_per_epoch, 540  # digits' validation split
    log = []
    for s in _logged(hist, LOG_EVERY, offset=LOG_EVERY - 1):
        window = [t["loss"] for t in hist.steps[s["step"] - LOG_EVERY + 1: s["step"] + 1]]
        log.append({"epoch": round((s["step"] + 1) / per_epoch, 2), "grad_norm": s["grad_norm"],
                    "learning_rate": s["lr_after"], "loss": round(float(np.mean(window)), 4),
                    "step": s["step"] + 1})
    for e in hist.epochs:
        eval_time = max(e["eval_runtime"], 1e-4)
        log.append({"epoch": round(e["step"] / per_epoch, 2), "eval_accuracy": e["val_acc"],
                    "eval_loss": e["val_loss"], "eval_runtime": round(eval_time, 4),
                    "eval_samples_per_second": round(n_val / eval_time, 3),
                    "eval_steps_per_second": round(math.ceil(n_val / 8) / eval_time, 3),
                    "step": e["step"]})
    log.sort(key=lambda r: (r["step"], "eval_loss" in r))
    n_steps = len(hist.steps)
    log.append({"epoch": round(n_steps / per_epoch, 2), "step": n_steps, "total_flos": 0.0,
                "train_loss": float(np.mean([s["loss"] for s in hist.steps])),
                "train_runtime": round(hist.runtime, 4),
                "train_samples_per_second": round(n_steps * spec.batch / hist.runtime, 3),
                "train_steps_per_second": round(n_steps / hist.runtime, 3)})
    state = {"best_metric": None, "best_model_checkpoint": None,
             "epoch": round(n_steps / per_epoch, 2),
             "eval_steps": per_epoch, "global_step": n_steps, "is_hyper_param_search": False,
             "is_local_process_zero": True, "is_world_process_zero": True, "log_history": log,
             "logging_steps": LOG_EVERY, "max_steps": per_epoch * spec.epochs,
             "num_train_epochs": spec.epochs, "save_steps": 500, "total_flos": 0.0,
             "train_batch_size": spec.batch, "trial_name": None, "trial_params": None}
    run_dir.mkdir(parents=True)
    (run_dir / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


WRITERS = {"tbx": write_tbx, "range_tbx": write_range_tbx, "keras_tb": write_keras_tb,
           "lightning": write_lightning, "keras_csv": write_keras_csv, "hf": write_hf}


# ------------------------------------------------------------------------------------------ main
def run_lr(spec: Spec, picked_lr: float) -> float:
    return spec.lr if spec.lr is not None else picked_lr * spec.lr_factor


def generate(out: Path, runs: tuple[Spec, ...] = RUNS, picked_lr: float | None = None) -> dict:
    """Sweep (unless `picked_lr` is given), train every run and write it under `out`.

    Returns a summary: the sweep, and per run its LR, first/last logged loss and best val loss.
    Only the directories of `runs` are replaced; anything else under `out` is left alone.
    """
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    # One BLAS thread: the same sums in the same order on every machine, and no thread
    # oversubscription (with it, the 512-wide overfit run is ten times slower).
    with threadpool_limits(limits=1):
        base = load_digits_split()
        best_by_lr = sweep(base) if picked_lr is None else {}
        if picked_lr is None:
            picked_lr = min(best_by_lr, key=lambda lr: (best_by_lr[lr], lr))
        summary = {"sweep": best_by_lr, "picked_lr": picked_lr, "runs": {}}
        for spec in runs:
            data = base if spec.n_train is None else load_digits_split(spec.n_train, spec.flip_frac)
            lr = run_lr(spec, picked_lr)
            hist = train(spec, data, lr)
            run_dir = out / spec.name
            shutil.rmtree(run_dir, ignore_errors=True)
            WRITERS[spec.fmt](hist, spec, run_dir, lr)
            summary["runs"][spec.name] = _summarize(hist, lr)
    return summary


def _summarize(hist: History, lr: float) -> dict:
    vals = [e["val_loss"] for e in hist.epochs if math.isfinite(e["val_loss"])]
    return {"lr": lr, "steps": len(hist.steps), "epochs": len(hist.epochs),
            "first_loss": hist.steps[0]["loss"], "last_loss": hist.steps[-1]["loss"],
            "last_lr": hist.steps[-1]["lr"], "best_val_loss": min(vals) if vals else None,
            "final_val_loss": hist.epochs[-1]["val_loss"] if hist.epochs else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "sample_logs"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    summary = generate(args.out)
    stale = sorted(p.name for p in args.out.iterdir() if p.name not in summary["runs"])
    if stale:
        print(f"note: {args.out} also holds {stale}, which this script did not write")
    print("sweep (best val loss per LR): "
          + ", ".join(f"{lr:.3g}: {v:.4f}" for lr, v in summary["sweep"].items()))
    print(f"picked LR: {summary['picked_lr']:.4g}")
    for name, r in summary["runs"].items():
        print(f"{name:26s} lr={r['lr']:.3g} steps={r['steps']} epochs={r['epochs']} "
              f"loss {r['first_loss']:.4f} -> {r['last_loss']:.4g} (last lr {r['last_lr']:.3g}) "
              f"best val {r['best_val_loss']} final val {r['final_val_loss']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
