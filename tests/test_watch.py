"""``lrdoctor watch``: a writer appends to an event file and a CSV while watch runs (in-process through
lrdoctor.watch.watch, and end to end through the CLI in a subprocess); a divergence written mid-way stops
it with the findings exit code soon after it is written, never before; each finding is said once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_tfevents import frame, scalar_event

from lrdoctor.findings import Finding, Severity
from lrdoctor.report import EXIT_ERROR, EXIT_FINDINGS
from lrdoctor.reporters.watch_lines import json_line, text_line
from lrdoctor.watch import Watcher, watch

REPO = Path(__file__).resolve().parents[1]


def _healthy(n: int, seed: int = 0) -> np.ndarray:
    """A loss falling smoothly to a floor, with 3% noise: no error at any prefix once 10 points are in."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return 0.3 + 2.0 * np.exp(-steps / 40.0) * (1 + 0.03 * rng.standard_normal(n))


def _event_records(steps, losses) -> bytes:
    out = []
    for step, loss in zip(steps, losses):
        out.append(frame(scalar_event("train/loss", float(loss), int(step), wall=1.0e9 + step).SerializeToString()))
        out.append(frame(scalar_event("lr", 0.01, int(step), wall=1.0e9 + step).SerializeToString()))
    return b"".join(out)


def _csv_lines(steps, losses) -> str:
    return "".join(f"{step},{loss:.6f},0.01\n" for step, loss in zip(steps, losses))


class _Writer(threading.Thread):
    """Appends 20 steps at a time to an event file (tensorboardX's SummaryWriter, flushed) and a CSV; after
    ``diverge_at`` steps the event-file run's loss becomes NaN.  ``diverged_at``: when that was first written."""

    def __init__(self, logdir: Path, n: int = 200, diverge_at: int = 120, pause: float = 0.08):
        super().__init__(daemon=True)
        self.logdir, self.n, self.diverge_at, self.pause = logdir, n, diverge_at, pause
        self.diverged_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(self.logdir / "tb_run"), flush_secs=3600)
        loss = _healthy(self.n)
        csv_path = self.logdir / "csv_run" / "metrics.csv"
        csv_path.parent.mkdir()
        csv_path.write_text("step,train_loss,lr\n")
        for start in range(0, self.n, 20):
            if self.stop.is_set():
                break
            for step in range(start, start + 20):
                if step == self.diverge_at:
                    self.diverged_at = time.monotonic()  # before it can reach the file
                writer.add_scalar("train/loss", float("nan") if step >= self.diverge_at else loss[step], step)
                writer.add_scalar("lr", 0.01, step)
            writer.flush()
            with open(csv_path, "a") as handle:
                handle.write(_csv_lines(range(start, start + 20), loss[start:start + 20]))
            time.sleep(self.pause)
        writer.close()


def test_watch_stops_soon_after_a_divergence_is_written_and_not_before(tmp_path):
    pytest.importorskip("tensorboardX")
    writer = _Writer(tmp_path)
    writer.start()
    said, polls = [], 0
    try:
        for poll in watch(str(tmp_path), interval=0.05, timeout=20):
            polls += 1
            said += [(r.run, f.code, f.tag, f.start_step) for r, f in poll.new_findings]
            if poll.exit_code("error") is not None:
                stopped_at, code, report = time.monotonic(), poll.exit_code("error"), poll.report
                break
        else:
            pytest.fail(f"no divergence caught in {polls} polls; said: {said}")
    finally:
        writer.stop.set()
        writer.join()
    assert code == EXIT_FINDINGS
    assert writer.diverged_at is not None and stopped_at >= writer.diverged_at
    assert stopped_at - writer.diverged_at < 5.0
    assert ("tb_run", "DV01", "train/loss", 120) in said
    assert not any(severity_of(report, run, c) >= Severity.ERROR for run, c, _, _ in said if c != "DV01"), said
    assert len(said) == len(set(said))  # each finding said once
    assert {r.run for r in report.runs} == {"tb_run", "csv_run/metrics.csv"}  # the CSV was followed too


def severity_of(report, run: str, code: str) -> Severity:
    return max(f.severity for r in report.runs if r.run == run for f in r.findings if f.code == code)


def _start_cli(logdir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "lrdoctor", "watch", str(logdir), "--interval", "0.1", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(logdir))


def test_cli_exits_with_the_findings_code_on_a_divergence(tmp_path):
    """End to end: `lrdoctor watch --format json` in a subprocess, beside a writer appending records."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = run_dir / "events.out.tfevents.1.host"
    loss = _healthy(200)
    proc = _start_cli(tmp_path, "--format", "json", "--timeout", "60")
    try:
        for start in range(0, 160, 40):
            with open(path, "ab") as handle:
                handle.write(_event_records(range(start, start + 40), loss[start:start + 40]))
            time.sleep(0.4)
            assert proc.poll() is None, proc.communicate()  # healthy so far: still watching
        with open(path, "ab") as handle:
            handle.write(_event_records([160, 161], [float("nan"), float("nan")]))
        written = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_FINDINGS, err
    assert time.monotonic() - written < 15
    lines = [json.loads(line) for line in out.splitlines()]
    dv01 = [line for line in lines if line["code"] == "DV01"]
    assert len(dv01) == 1 and dv01[0]["run"] == "run" and dv01[0]["start_step"] == 160
    assert dv01[0]["severity"] == "error" and dv01[0]["source"].endswith("run")
    assert "Traceback" not in err


def test_ctrl_c_stops_watching_cleanly(tmp_path):
    (tmp_path / "metrics.csv").write_text("step,train_loss\n" + _csv_lines(range(50), _healthy(50)).replace(",0.01", ""))
    proc = _start_cli(tmp_path, "-v")
    try:
        deadline = time.monotonic() + 20
        line = ""
        while "poll 1:" not in line and time.monotonic() < deadline:  # it has read the logs once
            line = proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped watching" in err


def test_finished_logs_are_judged_as_diagnose_judges_them(run_cli, tmp_path):
    """--settle 0: every run taken as finished, so the findings said are the report's own."""
    sample = REPO / "sample_logs"
    out, _ = run_cli(["watch", sample, "--settle", "0", "--max-polls", "2", "--interval", "0",
                      "--format", "json", "--fail-on", "never"])
    said = [(line["run"], line["code"], line["start_step"]) for line in map(json.loads, out.splitlines())]
    report, _ = run_cli(["diagnose", sample, "--format", "json", "--fail-on", "never"])
    want = [(run["run"], f["code"], f["start_step"]) for run in json.loads(report)["runs"] for f in run["findings"]
            if "same training as" not in f["message"]]
    assert sorted(said) == sorted(want) and len(said) == len(set(said))


def test_no_runs_found_is_exit_2(run_cli, tmp_path):
    _, err = run_cli(["watch", tmp_path, "--max-polls", "2", "--interval", "0"], exit_code=EXIT_ERROR)
    assert "no runs found" in err


def test_a_logdir_that_does_not_exist_yet_is_waited_for(run_cli, tmp_path):
    _, err = run_cli(["watch", tmp_path / "later", "--max-polls", "1", "--interval", "0"], exit_code=EXIT_ERROR)
    assert "does not exist yet" in err


# --------------------------------------------------------------------------- which findings are new


def _finding(code="OF01", severity=Severity.WARNING, start=10, end=20, tag="val_loss") -> Finding:
    return Finding(code=code, name="n", kind="overfitting", severity=severity, message="m", run="r", tag=tag,
                   start_step=start, end_step=end)


def test_a_finding_is_said_once_and_again_when_its_severity_rises():
    watcher = Watcher(None, source=object())
    key = ("r", "OF01", "val_loss")
    assert watcher._is_new(key, _finding())
    assert not watcher._is_new(key, _finding(start=12, end=40))  # the same episode, grown
    assert not watcher._is_new(key, _finding(severity=Severity.INFO))
    assert watcher._is_new(key, _finding(severity=Severity.ERROR, start=15, end=40))  # worse: new
    assert watcher._is_new(key, _finding(start=100, end=120))  # another episode
    assert watcher._is_new(("r", "OF01", "other_tag"), _finding(tag="other_tag"))


def test_a_finding_waits_for_the_run_to_grow_unless_it_is_immediate_or_the_run_finished():
    watcher = Watcher(None, source=object(), confirm_growth=1.5)
    plateau = _finding(code="PL01", severity=Severity.ERROR)
    key = ("r", "PL01", "val_loss")
    assert not watcher._ready(key, plateau, idle=False, last_step=100)
    assert not watcher._ready(key, plateau, idle=False, last_step=149)
    assert watcher._ready(key, plateau, idle=False, last_step=150)
    assert watcher._ready(("r", "DV01", "loss"), _finding(code="DV01"), idle=False, last_step=5)
    assert not watcher._ready(("r", "SC01", "loss"), _finding(code="SC01"), idle=False, last_step=10 ** 6)
    assert watcher._ready(("r", "SC01", "loss"), _finding(code="SC01"), idle=True, last_step=10)


def test_lines_escape_control_characters():
    finding = _finding(code="DV01", severity=Severity.ERROR)
    finding = Finding(**{**finding.__dict__, "message": "loss\nNaN \x1b[31m"})
    line = text_line("run\x1b]0;x\x07", finding)
    assert "\x1b" not in line and "\n" not in line and "\\x1b" in line
    record = json.loads(json_line("run\udcff", "/src", finding, 3))
    assert record["run"] == "run\\xff" and record["poll"] == 3 and record["code"] == "DV01"


def test_text_lines_say_the_same_findings_as_json(run_cli):
    sample = REPO / "sample_logs"
    common = ["watch", sample, "--settle", "0", "--max-polls", "1", "--fail-on", "never", "--no-color"]
    text, _ = run_cli(common)
    records, _ = run_cli([*common, "--format", "json"])
    records = [json.loads(line) for line in records.splitlines()]
    assert len(text.splitlines()) == len(records) > 0
    for line, record in zip(text.splitlines(), records):
        assert line.startswith(f"{record['run']}: {record['code']} (")
        assert line.endswith(record["message"])


def test_select_and_timeout_work_as_for_diagnose(run_cli):
    started = time.monotonic()
    out, err = run_cli(["watch", REPO / "sample_logs", "--settle", "0", "--select", "DV01", "--timeout", "2",
                        "--interval", "0.1", "--fail-on", "never", "-v", "--format", "json"])
    report, _ = run_cli(["diagnose", REPO / "sample_logs", "--select", "DV01", "--format", "json", "--fail-on", "never"])
    want = sorted(f["code"] for run in json.loads(report)["runs"] for f in run["findings"])
    assert "DV01" in want and "DV02" not in want  # (RT01, the range-test analysis, is no rule: always there)
    assert sorted(json.loads(line)["code"] for line in out.splitlines()) == want  # each said once, at the first poll
    assert err.count("new finding(s)") >= 3 and time.monotonic() - started < 10  # polled until the timeout


def test_a_check_that_crashes_exits_2_and_is_said(run_cli, monkeypatch):
    import lrdoctor.rules as rules_mod
    from lrdoctor.rules.base import Rule

    class Crashes(Rule):
        """Test rule that always crashes."""

        code, name, kind, severity, requires = "TC01", "test-crashes", "divergence", Severity.ERROR, ()

        def check(self, run, options):
            raise RuntimeError("boom")

    monkeypatch.setattr(rules_mod, "ALL_RULES", [Crashes])
    out, _ = run_cli(["watch", REPO / "sample_logs" / "healthy_tbx", "--settle", "0", "--max-polls", "3",
                      "--interval", "0"], exit_code=EXIT_ERROR)
    assert out.count("TC01 (error") == 1 and "could not run" in out


def test_when_the_training_process_exits_every_run_is_judged_as_finished(run_cli):
    """SC01 ('still falling when the run ended') waits for the end: here, the --pid's exit."""
    training = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    reaper = threading.Thread(target=training.wait, daemon=True)  # a zombie would still answer kill(pid, 0)
    reaper.start()
    started = time.monotonic()
    out, _ = run_cli(["watch", REPO / "sample_logs" / "lr_too_low_keras_tb", "--settle", "1e9", "--pid", training.pid,
                      "--interval", "0.2", "--timeout", "30"], exit_code=EXIT_FINDINGS)
    assert time.monotonic() - started >= 1.0  # not before the training ended
    assert out.count("SC01 (error") == 1
    reaper.join()
