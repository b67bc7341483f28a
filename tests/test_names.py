"""File names that are not UTF-8, and plot names that must not collide."""
from __future__ import annotations

import json
import os
import sys

import pytest

from lrdoctor.names import shown, unique_file_names

NAMES = [b"r\xff\xfe", b"a b", b"a_b", b"a#b", b"ok"]


def test_shown_writes_undecodable_bytes_as_escapes():
    name = os.fsdecode(b"run-\xff/metrics.csv") if sys.getfilesystemencoding() == "utf-8" else "run-\udcff/metrics.csv"
    assert shown(name) == "run-\\xff/metrics.csv"
    assert shown(name).encode("utf-8")  # encodable
    assert shown("naïve ü") == "naïve ü"


def test_plot_file_names_are_unique_and_stable():
    names = ["a b", "a_b", "a#b", "A_B", "c", "c"]
    files = unique_file_names(names)
    assert len({f.lower() for f in files}) == len(files)
    assert files[4] != files[5] and files[4].startswith("c-")
    # a run's file name does not depend on which other runs are there
    assert unique_file_names(["a b", "a_b"])[0] == unique_file_names(["a b", "a#b", "x"])[0]
    assert unique_file_names(["solo"]) == ["solo.png"]


@pytest.fixture
def odd_logdir(tmp_path):
    if sys.platform == "darwin" or sys.getfilesystemencoding() != "utf-8":
        pytest.skip("the file system must accept any bytes in a name")
    root = os.fsencode(str(tmp_path / "logs"))
    for name in NAMES:
        directory = os.path.join(root, name)
        os.makedirs(directory)
        with open(os.path.join(directory, b"metrics.csv"), "w") as fh:
            fh.write("step,loss,lr\n" + "".join(f"{i},{2 * 0.95 ** i},0.01\n" for i in range(50)))
    return tmp_path / "logs"


def test_non_utf8_names_in_every_output(odd_logdir, tmp_path, run_cli):
    out_txt, out_md, out_json = tmp_path / "r.txt", tmp_path / "r.md", tmp_path / "r.json"
    _, err = run_cli(["diagnose", odd_logdir, "-o", out_txt, "--save", f"markdown={out_md}",
                      "--save", f"json={out_json}", "--save", f"junit={tmp_path / 'r.xml'}"])
    assert "Traceback" not in err
    assert "r\\xff\\xfe/metrics.csv" in out_txt.read_text(encoding="utf-8")
    assert "r\\xff\\xfe/metrics.csv" in out_md.read_text(encoding="utf-8")
    runs = [r["run"] for r in json.loads(out_json.read_text(encoding="utf-8"))["runs"]]
    assert "r\\xff\\xfe/metrics.csv" in runs and len(runs) == len(NAMES)
    for fmt in ("markdown", "text", "junit"):
        out, _ = run_cli(["diagnose", odd_logdir, "--format", fmt])
        assert "\\xff\\xfe" in out
    # GitHub annotations name a run only for a finding; a note said once for all runs names none here.
    out, _ = run_cli(["diagnose", odd_logdir, "--format", "github"])
    assert "\udcff" not in out and "::notice" in out


def test_every_run_gets_its_own_plot_and_the_count_is_true(odd_logdir, tmp_path, run_cli):
    plots = tmp_path / "plots"
    _, err = run_cli(["diagnose", odd_logdir, "--plot", plots])
    written = sorted(os.listdir(plots))
    assert len(written) == len(NAMES), written
    assert f"wrote {len(NAMES)} plot(s)" in err and "could not plot" not in err
