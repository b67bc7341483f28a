"""Generate a held-out labelled LR benchmark: other tasks, nets, optimisers; the public rules.

    python bench/heldout.py --out /tmp/heldout [--suite a|b|c|d] [--jobs 2]
    lrdoctor diagnose /tmp/heldout/runs --format json > /tmp/heldout/pred.json
    python ../shared/bench/public/score.py --labels /tmp/heldout/labels.csv \
        --pred /tmp/heldout/pred.json
    python bench/heldout.py --out /tmp/heldout --report   # false alarms, missed divergences, tables

Every run is trained for real (numpy, bench/heldout_training.py), as half-decade LR sweeps with
2 seeds per (task, optimizer, schedule) of the chosen suite (bench/heldout_suites.py; suites a,
b and c have all been looked at while developing the rules, suite d is the last validation of the
finished rules: do not tune on it), written
in one of the six log layouts of ../shared/bench/public/README.md (round-robin over a seeded
shuffle), and labelled by that README's rules (lr_star, tolerance, ok band as an interval,
diverged, overfit).  Layout: OUT/runs/<shuffled id>/..., OUT/labels.csv (the public columns),
OUT/manifest.json.
See docs/heldout.md.  Needs the `samples` extra (scikit-learn, tensorboardX, pyyaml).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heldout_suites import SUITES, Suite  # noqa: E402
from heldout_training import Optimizer, baseline_loss, label_group, run_facts, train  # noqa: E402
from make_sample_logs import _keras_writer, _write_csv  # noqa: E402

FORMATS = ("tb_torch", "tbx", "keras_tb", "lightning_csv", "keras_csv", "hf_trainer")


# ----------------------------------------------------------------------------------------- writers
def _every(hist, k: int, offset: int = 0) -> list[dict]:
    return [s for s in hist.steps if s["step"] % k == offset]


def _complete(hist) -> list[dict]:
    return [e for e in hist.epochs if e["complete"]]


def write_tb(hist, job, run_dir: Path, torch_style: bool) -> list[str]:
    """tb_torch (train/loss, train/lr, val/*) or tbx (loss, learning_rate, val_*) event files."""
    import logging

    from tensorboardX import SummaryWriter

    # tensorboardX writes NaN/inf as they are, but warns on each; crashed runs log them on purpose
    logging.getLogger("tensorboardX.x2num").setLevel(logging.ERROR)

    k, classify = job["task"].log_every, job["task"].loss == "ce"
    names = (("train/loss", "train/lr", "val/loss", "val/acc") if torch_style
             else ("loss", "learning_rate", "val_loss", "val_acc"))
    epoch_x = torch_style and job["rng"].random() < 0.3  # some scripts log val against the epoch
    suffix = f".{os.getpid()}.0" if torch_style else ""
    with SummaryWriter(logdir=str(run_dir), filename_suffix=suffix) as w:
        for s in _every(hist, k):
            w.add_scalar(names[0], s["loss"], s["step"], walltime=s["wall"])
            w.add_scalar(names[1], s["lr"], s["step"], walltime=s["wall"])
        for e in _complete(hist):
            x = e["epoch"] if epoch_x else e["step"]
            w.add_scalar(names[2], e["val_loss"], x, walltime=e["wall"])
            if classify:
                w.add_scalar(names[3], e["val_acc"], x, walltime=e["wall"])
    return sorted(names if classify else names[:3])


def write_keras_tb(hist, job, run_dir: Path) -> list[str]:
    """Keras TensorBoard callback layout (TF2 tensor scalars); half the runs add batch_loss."""
    k, classify = job["task"].log_every, job["task"].loss == "ce"
    train_w, val_w = _keras_writer(run_dir / "train"), _keras_writer(run_dir / "validation")
    tags = {"train/epoch_loss", "train/epoch_learning_rate", "validation/epoch_loss",
            "validation/evaluation_loss_vs_iterations"}
    if job["rng"].random() < 0.5:
        tags.add("train/batch_loss")
        for s in hist.steps:
            if (s["step"] + 1) % k == 0:  # Keras' running mean over the current epoch, 1-based
                epoch_losses = [t["loss"] for t in hist.steps if t["epoch"] == s["epoch"]
                                and t["step"] <= s["step"]]
                with np.errstate(all="ignore"):
                    train_w.add_scalar("batch_loss", float(np.mean(epoch_losses)), s["step"] + 1,
                                       wall_time=s["wall"])
    for e in hist.epochs:  # the partial epoch of a crashed run too (TerminateOnNaN)
        ep, wall = e["epoch"], e["wall"]
        train_w.add_scalar("epoch_loss", e["train_loss"], ep, wall_time=wall)
        train_w.add_scalar("epoch_learning_rate", float(np.float32(e["lr"])), ep, wall_time=wall)
        val_w.add_scalar("epoch_loss", e["val_loss"], ep, wall_time=wall)
        val_w.add_scalar("evaluation_loss_vs_iterations", e["val_loss"], e["step"], wall_time=wall)
        if classify:
            train_w.add_scalar("epoch_accuracy", e["train_acc"], ep, wall_time=wall)
            val_w.add_scalar("epoch_accuracy", e["val_acc"], ep, wall_time=wall)
            val_w.add_scalar("evaluation_accuracy_vs_iterations", e["val_acc"], e["step"],
                             wall_time=wall)
    if classify:
        tags |= {"train/epoch_accuracy", "validation/epoch_accuracy",
                 "validation/evaluation_accuracy_vs_iterations"}
    train_w.close(), val_w.close()
    return sorted(tags)


def write_lightning(hist, job, run_dir: Path) -> list[str]:
    """CSVLogger + LearningRateMonitor: sparse rows, sorted columns; 30% on_step+on_epoch."""
    import yaml

    k, classify = job["task"].log_every, job["task"].loss == "ce"
    lr_col = "lr-" + Optimizer.TORCH_NAMES[job["optimizer"]]
    both = job["rng"].random() < 0.3
    train_col = "train_loss_step" if both else "train_loss"
    rows = []  # (step, order within the step, row)
    for s in _every(hist, k, offset=k - 1):
        rows.append((s["step"], 0, {lr_col: s["lr"], "step": s["step"]}))
        rows.append((s["step"], 1, {"epoch": s["epoch"], "step": s["step"], train_col: s["loss"]}))
    for e in _complete(hist):  # the NaN check stops the fit before validation runs
        val = {"epoch": e["epoch"], "step": e["step"] - 1, "val_loss": e["val_loss"]}
        if classify:
            val["val_acc"] = e["val_acc"]
        rows.append((e["step"] - 1, 2, val))
        if both:
            rows.append((e["step"] - 1, 3, {"epoch": e["epoch"], "step": e["step"] - 1,
                                             "train_loss_epoch": e["train_loss"]}))
    rows = [r for _, _, r in sorted(rows, key=lambda t: t[:2])]
    version = run_dir / "version_0"
    version.mkdir(parents=True)
    columns = sorted({c for r in rows for c in r})
    _write_csv(version / "metrics.csv", rows, columns)
    hparams = {"lr": job["lr"], "batch_size": job["task"].batch,
               "optimizer": Optimizer.TORCH_NAMES[job["optimizer"]].lower(),
               "max_epochs": job["task"].epochs}
    (version / "hparams.yaml").write_text(yaml.safe_dump(hparams))
    return [c for c in columns if c not in ("epoch", "step")]


def write_keras_csv(hist, job, run_dir: Path) -> list[str]:
    """keras.callbacks.CSVLogger: one row per epoch (the partial one too), epoch first."""
    classify = job["task"].loss == "ce"
    keys = ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    keys = keys if classify else ["learning_rate", "loss", "val_loss"]
    rows = [{"epoch": e["epoch"], "accuracy": e["train_acc"], "loss": e["train_loss"],
             "learning_rate": float(np.float32(e["lr"])), "val_accuracy": e["val_acc"],
             "val_loss": e["val_loss"]} for e in hist.epochs]
    rows = [{c: r[c] for c in ["epoch", *keys]} for r in rows]
    run_dir.mkdir(parents=True)
    name = "training.log" if job["rng"].random() < 0.5 else "log.csv"
    _write_csv(run_dir / name, rows, ["epoch", *keys])
    return keys


def write_hf(hist, job, run_dir: Path) -> list[str]:
    """HuggingFace Trainer's trainer_state.json; a crashed run has no final summary entry."""
    task, k, spe = job["task"], job["task"].log_every, hist.steps_per_epoch
    n_val, classify = job["n_val"], job["task"].loss == "ce"
    log = []
    for s in _every(hist, k, offset=k - 1):
        window = [t["loss"] for t in hist.steps[s["step"] - k + 1: s["step"] + 1]]
        with np.errstate(all="ignore"):
            loss = round(float(np.mean(window)), 4)
        log.append({"epoch": (s["step"] + 1) / spe, "grad_norm": s["grad_norm"],
                    "learning_rate": s["lr_after"], "loss": loss, "step": s["step"] + 1})
    for e in _complete(hist):
        t = max(e["eval_runtime"], 1e-4)
        entry = {"epoch": e["step"] / spe, "eval_loss": e["val_loss"], "eval_runtime": round(t, 4),
                 "eval_samples_per_second": round(n_val / t, 3),
                 "eval_steps_per_second": round(math.ceil(n_val / 8) / t, 3), "step": e["step"]}
        if classify:
            entry["eval_accuracy"] = e["val_acc"]
        log.append(entry)
    log.sort(key=lambda r: (r["step"], "eval_loss" in r))
    n_steps, crashed = len(hist.steps), not all(math.isfinite(s["loss"]) for s in hist.steps)
    if not crashed:
        log.append({"epoch": n_steps / spe, "step": n_steps, "total_flos": 0.0,
                    "train_loss": float(np.mean([s["loss"] for s in hist.steps])),
                    "train_runtime": round(hist.runtime, 4),
                    "train_samples_per_second": round(n_steps * task.batch / hist.runtime, 3),
                    "train_steps_per_second": round(n_steps / hist.runtime, 3)})
    state = {"best_metric": None, "best_model_checkpoint": None, "epoch": n_steps / spe,
             "eval_steps": 500, "global_step": n_steps, "is_hyper_param_search": False,
             "is_local_process_zero": True, "is_world_process_zero": True, "log_history": log,
             "logging_steps": k, "max_steps": spe * task.epochs, "num_input_tokens_seen": 0,
             "num_train_epochs": task.epochs, "save_steps": 500, "total_flos": 0.0,
             "train_batch_size": task.batch, "trial_name": None, "trial_params": None}
    run_dir.mkdir(parents=True)
    (run_dir / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return sorted({key for r in log for key in r} - {"epoch", "step"})


def write_run(hist, job, run_dir: Path) -> list[str]:
    fmt = job["format"]
    if fmt in ("tb_torch", "tbx"):
        run_dir.mkdir(parents=True)
        return write_tb(hist, job, run_dir, torch_style=fmt == "tb_torch")
    return {"keras_tb": write_keras_tb, "lightning_csv": write_lightning,
            "keras_csv": write_keras_csv, "hf_trainer": write_hf}[fmt](hist, job, run_dir)


# ---------------------------------------------------------------------------------- run and label
@lru_cache(maxsize=None)
def _data(suite: str, task_name: str):
    return SUITES[suite].load(task_name)


def run_job(job: dict) -> dict:
    """Train one run, write its logs, return the per-run facts the labels need."""
    from threadpoolctl import threadpool_limits

    task = job["task"]
    data = _data(job["suite"], task.name)
    seed = SUITES[job["suite"]].seed
    job = dict(job, rng=np.random.default_rng([seed, job["index"]]), n_val=len(data.y_val))
    with threadpool_limits(limits=1):  # same sums in the same order: reproducible values
        hist = train(task, data, job["optimizer"], job["schedule"], job["lr"], job["seed"])
    tags = write_run(hist, job, job["out"] / "runs" / job["run_id"])
    return dict(run_facts(hist, baseline_loss(data, task.loss)), tags=";".join(tags))


def make_jobs(out: Path, suite: Suite) -> list[dict]:
    jobs = []
    for task_name, opt, schedule, lo, hi in suite.groups:
        for seed in suite.seeds:
            for e in range(lo, hi + 1):
                jobs.append(dict(task=suite.tasks[task_name], optimizer=opt, schedule=schedule,
                                 seed=seed, lr=10 ** (e / 2), out=out, suite=suite.name))
    rng = np.random.default_rng(suite.seed)
    ids = rng.permutation(len(jobs))
    fmt_order = rng.permutation(len(jobs))
    for i, job in enumerate(jobs):
        job.update(index=i, run_id=f"r{ids[i] + 1:04d}", format=FORMATS[fmt_order[i] % 6])
    return jobs


COLUMNS = ("run_id task optimizer schedule seed batch_size lr lr_star log10_ratio truth diverged "
           "overfit format scenario group_id best_val_loss group_best_val_loss baseline_loss "
           "tolerance best_epoch epochs_completed epochs_planned n_steps init_train_loss "
           "final_train_loss tags").split()


def label_row(job: dict, r: dict) -> dict:
    task = job["task"]
    g = f"{task.name}|{job['optimizer']}|{job['schedule']}|s{job['seed']}|bs{task.batch}"
    return dict(run_id=job["run_id"], task=task.name, optimizer=job["optimizer"],
                schedule=job["schedule"], seed=job["seed"], batch_size=task.batch,
                lr=f"{job['lr']:.6g}", lr_star=f"{r['lr_star']:.6g}",
                log10_ratio=f"{math.log10(job['lr'] / r['lr_star']):.6g}", truth=r["truth"],
                diverged=int(r["diverged"]), overfit=int(r["overfit"]), format=job["format"],
                scenario=task.scenario, group_id=g, best_val_loss=f"{r['best_val']:.6g}",
                group_best_val_loss=f"{r['group_best']:.6g}",
                baseline_loss=f"{r['baseline']:.6g}", tolerance=f"{r['tolerance']:.6g}",
                best_epoch=r["best_epoch"], epochs_completed=r["epochs_completed"],
                epochs_planned=task.epochs, n_steps=r["n_steps"],
                init_train_loss=f"{r['init_train_loss']:.6g}",
                final_train_loss=f"{r['final_train_loss']:.6g}", tags=r["tags"])


def generate(out: Path, suite: Suite, n_jobs: int = 2) -> list[dict]:
    shutil.rmtree(out / "runs", ignore_errors=True)
    (out / "runs").mkdir(parents=True)
    jobs = make_jobs(out, suite)
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        facts = list(pool.map(run_job, jobs, chunksize=4))
    groups: dict[tuple, list[dict]] = {}
    for job, f in zip(jobs, facts):
        f["lr"] = job["lr"]
        groups.setdefault((job["task"].name, job["optimizer"], job["schedule"], job["seed"]),
                          []).append(f)
    for rows in groups.values():
        label_group(rows)
    rows = sorted((label_row(j, f) for j, f in zip(jobs, facts)), key=lambda r: r["run_id"])
    with open(out / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


# ------------------------------------------------------------------------------------------ report
SEVERITY = {"error": 3, "warning": 2, "info": 1, "ok": 0}
EXPECT = {"too_high": "decrease", "too_low": "increase", "ok": "keep/other"}


def load_predictions(path: Path) -> dict[str, dict]:
    """{run id: {"action", "reason", "kinds"}}, entries merged the way score.py merges them."""
    merged: dict[str, dict] = {}
    for ent in json.loads(path.read_text())["runs"]:
        rid = ent["run"].replace("\\", "/").split("/")[0]
        m = merged.setdefault(rid, {"kinds": set(), "codes": [], "sev": -1, "rec": None})
        m["kinds"] |= {f.get("kind") for f in ent.get("findings") or []}
        m["codes"] += [f.get("code") for f in ent.get("findings") or []]
        sev = SEVERITY.get(ent.get("status"), 0)
        if ent.get("recommendation") and sev > m["sev"]:
            m["rec"], m["sev"] = ent["recommendation"], sev
    for m in merged.values():
        action = (m["rec"] or {}).get("action")
        m["action"] = action if action in ("decrease", "increase") else "keep/other"
        m["reason"] = (m["rec"] or {}).get("reason") or ""
    return merged


def _setting(r: dict) -> str:
    return f"{r['task']}/{r['optimizer']}/{r['schedule']} s{r['seed']} lr={float(r['lr']):.3g}"


def _breakdown(rows: list[dict], pred: dict, key: str) -> list[str]:
    lines = [f"| {key} | n | accuracy | too_high recall | too_low recall | ok false alarms "
             "| divergence recall |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for value in sorted({r[key] for r in rows}):
        sub = [r for r in rows if r[key] == value]
        hit = lambda t: [pred[r["run_id"]]["action"] == EXPECT[t] for r in sub  # noqa: E731
                         if r["truth"] == t]
        ratio = lambda xs: f"{sum(xs)}/{len(xs)}" if xs else "-"  # noqa: E731
        div = ["divergence" in pred[r["run_id"]]["kinds"] for r in sub if r["diverged"] == "1"]
        acc = sum(pred[r["run_id"]]["action"] == EXPECT[r["truth"]] for r in sub) / len(sub)
        ok_alarms = [not h for h in hit("ok")]
        lines.append(f"| {value} | {len(sub)} | {acc:.3f} | {ratio(hit('too_high'))} "
                     f"| {ratio(hit('too_low'))} | {ratio(ok_alarms)} | {ratio(div)} |")
    return lines


def _table(title: str, header: list[str], rows: list[dict], pred: dict, pick, cells) -> list[str]:
    """A markdown table of the runs `pick(row, prediction)` selects, one `cells(...)` per row."""
    lines = ["", f"### {title}", "", "| " + " | ".join(header) + " |",
             "|" + " --- |" * len(header)]
    for r in sorted(rows, key=_setting):
        if pick(r, pred[r["run_id"]]):
            lines.append("| " + " | ".join(cells(r, pred[r["run_id"]])) + " |")
    return lines


def _code(p: dict) -> str:
    """The finding code that drove the recommendation: the prefix of its reason."""
    return p["reason"].split(":")[0]


def report(out: Path) -> list[str]:
    """Markdown: false alarms on ok runs, missed divergences, wrong directions, breakdowns."""
    with open(out / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    empty = {"action": "keep/other", "reason": "", "kinds": set(), "codes": []}
    pred = load_predictions(out / "pred.json")
    pred = {r["run_id"]: pred.get(r["run_id"], empty) for r in rows}
    head = ["run", "format", "setting"]
    base = lambda r: [r["run_id"], r["format"], _setting(r)]  # noqa: E731
    lines = _table("False alarms: ok runs told to increase or decrease",
                   head + ["action", "code", "reason"], rows, pred,
                   lambda r, p: r["truth"] == "ok" and p["action"] != "keep/other",
                   lambda r, p: base(r) + [p["action"], _code(p), p["reason"][:110]])
    lines += _table("Diverged runs without a `divergence` finding",
                    head + ["truth", "why labelled diverged", "findings", "action"], rows, pred,
                    lambda r, p: r["diverged"] == "1" and "divergence" not in p["kinds"],
                    lambda r, p: base(r) + [r["truth"], _why_diverged(r),
                                            ", ".join(p["codes"]) or "-", p["action"]])
    lines += _table("Wrong direction: too_high told to increase, too_low told to decrease",
                    head + ["truth", "action", "code", "reason"], rows, pred,
                    lambda r, p: r["truth"] != "ok"
                    and p["action"] not in (EXPECT[r["truth"]], "keep/other"),
                    lambda r, p: base(r) + [r["truth"], p["action"], _code(p), p["reason"][:90]])
    for key in ("task", "optimizer", "schedule", "format"):
        lines += ["", f"### By {key}", ""] + _breakdown(rows, pred, key)
    return lines[1:]


def _why_diverged(r: dict) -> str:
    init, final = float(r["init_train_loss"]), float(r["final_train_loss"])
    best, base = float(r["best_val_loss"]), float(r["baseline_loss"])
    why = []
    if not (math.isfinite(final) and math.isfinite(best)):
        why.append("non-finite loss")
    if final > 1.2 * init:
        why.append(f"final train {final:.3g} > 1.2 x initial {init:.3g}")
    if final > 2 * base or best > 2 * base:
        why.append(f"loss > 2 x baseline {base:.3g}")
    return "; ".join(why) or "non-finite val loss"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--suite", choices=sorted(SUITES), default="a",
                        help="a, b, c: held-out suites already looked at during development; "
                             "d: an independent one for the last validation of the finished "
                             "rules only (bench/heldout_suites.py)")
    parser.add_argument("--jobs", type=int, default=2, help="training processes")
    parser.add_argument("--report", action="store_true",
                        help="do not generate: print the misses of OUT/pred.json as markdown")
    args = parser.parse_args(argv)
    if args.report:
        print("\n".join(report(args.out)))
        return 0
    t0 = time.time()
    suite = SUITES[args.suite]
    rows = generate(args.out, suite, args.jobs)
    counts = {key: dict(sorted(Counter(r[key] for r in rows).items()))
              for key in ("task", "optimizer", "schedule", "format", "truth", "scenario")}
    counts["diverged"] = sum(int(r["diverged"]) for r in rows)
    counts["overfit"] = sum(int(r["overfit"]) for r in rows)
    name = "heldout" if suite.name == "a" else f"heldout_{suite.name}"
    manifest = {"suite": name, "seed": suite.seed, "n_runs": len(rows), "counts": counts,
                "seconds": round(time.time() - t0, 1)}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
