"""Incremental reading (readers/tails.py, readers/incremental.py): what a poll after poll reads equals what
a full read of the final files gives, whatever the cut points -- mid-record and mid-line included -- and a
file that shrinks, is replaced or rewritten is read again from its start."""
from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tfevents import frame, scalar_event

from lrdoctor.readers import read_runs
from lrdoctor.readers.incremental import Follower
from lrdoctor.readers.tails import EventTail, TextTail
from lrdoctor.readers.textfile import read_text
from lrdoctor.readers.tfevents import read_tfevents


def _event_bytes(n: int, seed: int = 0) -> bytes:
    """``n`` steps of a loss and an lr (every 5th step), as a writer frames them."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(n):
        out.append(frame(scalar_event("train/loss", float(2.0 / (step + 1) + 0.01 * rng.random()), step,
                                      wall=1.0e9 + step).SerializeToString()))
        if step % 5 == 0:
            out.append(frame(scalar_event("lr", 0.01, step, wall=1.0e9 + step).SerializeToString()))
    return b"".join(out)


def _csv_bytes(n: int) -> bytes:
    rows = ["epoch,step,train_loss,val_loss,lr"]
    rows += [f"{i // 10},{i},{1.0 / (i + 1):.6f},{'' if i % 10 else f'{1.2 / (i + 1):.6f}'},0.001" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _append(path: str, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def _same_scalars(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for tag in want:
        for attr in ("steps", "wall_times", "values"):
            assert np.array_equal(getattr(got[tag], attr), getattr(want[tag], attr)), (tag, attr)


def _same_runs(got: list, want: list) -> None:
    assert [r.name for r in got] == [r.name for r in want]
    for a, b in zip(got, want):
        assert (a.format, a.source, a.roles, a.restarts) == (b.format, b.source, b.roles, b.restarts)
        assert sorted(a.series) == sorted(b.series)
        for tag, series in b.series.items():
            assert np.array_equal(a.series[tag].steps, series.steps)
            assert np.allclose(a.series[tag].values, series.values, rtol=0, atol=0, equal_nan=True)
        assert [p.describe() for p in a.problems] == [p.describe() for p in b.problems]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_event_file_read_in_pieces_equals_a_full_read(cuts):
    data = _event_bytes(120)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.out.tfevents.1.host")
        open(path, "wb").close()
        tail, written = EventTail(path), 0
        for cut in sorted(int(c * len(data)) for c in cuts) + [len(data)]:
            _append(path, data[written:cut])
            written = max(written, cut)
            tail.poll()
            scalars, problems = tail.scalars()
            assert problems == []  # a record cut at the end is being written: never reported as damage
            assert tail.offset <= written
        _same_scalars(tail.scalars()[0], read_tfevents(path)[0])
        assert tail.bytes_read <= len(data) + len(cuts) * 200  # only a record being written is read twice


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_logdir_followed_in_pieces_equals_read_runs(cuts):
    """An event-file run and a CSV run, both cut at the same random places (mid-record, mid-line)."""
    events, table = _event_bytes(80, seed=1), _csv_bytes(150)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "tb"))
        event_path, csv_path = os.path.join(tmp, "tb", "events.out.tfevents.1.host"), os.path.join(tmp, "metrics.csv")
        follower, done = Follower(tmp), 0.0
        for cut in sorted(cuts) + [1.0]:
            _append(event_path, events[int(done * len(events)):int(cut * len(events))])
            _append(csv_path, table[int(done * len(table)):int(cut * len(table))])
            done = max(done, cut)
            snapshot = follower.poll()
            for run in snapshot.runs:  # what is held is always a prefix of the final curve, never a cut value
                for series in run.series.values():
                    assert np.all(np.diff(series.steps) > 0)
        full, _ = read_runs(tmp)
        _same_runs(follower.poll().runs, full)


def test_only_the_appended_bytes_are_read(tmp_path):
    path = str(tmp_path / "events.out.tfevents.1.host")
    data = _event_bytes(2000)
    _append(path, data)
    tail = EventTail(path)
    assert tail.poll()
    more = _event_bytes(2010)[len(data):]
    _append(path, more)
    before = tail.bytes_read
    assert tail.poll()
    assert tail.bytes_read - before == len(more)
    assert not tail.poll() and tail.bytes_read - before == len(more)  # nothing new: nothing read
    _same_scalars(tail.scalars()[0], read_tfevents(path)[0])


def test_a_cut_record_is_waited_for_and_then_read(tmp_path):
    path = str(tmp_path / "events.out.tfevents.1.host")
    data = _event_bytes(10)
    _append(path, data[:-7])
    tail = EventTail(path)
    tail.poll()
    assert tail.scalars()[1] == []
    assert read_tfevents(path)[1]  # the full reader, which takes the file as finished, says it is cut
    _append(path, data[-7:])
    assert tail.poll()
    _same_scalars(tail.scalars()[0], read_tfevents(path)[0])


def test_damage_inside_the_file_is_reported_like_the_full_reader(tmp_path):
    path = str(tmp_path / "events.out.tfevents.1.host")
    data = bytearray(_event_bytes(30))
    data[200] ^= 0xFF  # inside a record: its data CRC no longer matches
    _append(path, bytes(data[:150]))
    tail = EventTail(path)
    tail.poll()
    _append(path, bytes(data[150:]))
    tail.poll()
    scalars, problems = tail.scalars()
    want_scalars, want_problems = read_tfevents(path)
    _same_scalars(scalars, want_scalars)
    assert [p.describe() for p in problems] == [p.describe() for p in want_problems] != []


@pytest.mark.parametrize("how", ["truncated", "replaced", "rewritten"])
def test_a_file_truncated_replaced_or_rewritten_is_read_again(tmp_path, how):
    path = str(tmp_path / "events.out.tfevents.1.host")
    first, second = _event_bytes(50, seed=1), _event_bytes(60, seed=2)
    _append(path, first)
    tail = EventTail(path)
    tail.poll()
    if how == "truncated":
        os.truncate(path, 0)
        tail.poll()
        assert tail.scalars()[0] == {}
        _append(path, second)
    elif how == "replaced":
        _append(path + ".new", second)
        os.replace(path + ".new", path)
    else:  # same inode, longer: only the bytes already read tell
        with open(path, "r+b") as handle:
            handle.write(second)
    assert tail.poll()
    assert tail.resets == 1
    _same_scalars(tail.scalars()[0], read_tfevents(path)[0])


def test_text_log_held_to_its_last_complete_line(tmp_path):
    path = str(tmp_path / "metrics.csv")
    data = _csv_bytes(40)
    cut = data.index(b"\n", len(data) // 2) + 4  # four bytes into a line
    _append(path, data[:cut])
    tail = TextTail(path)
    tail.poll()
    assert tail.text().text == data[:cut - 3].decode()  # up to and with the line end
    _append(path, data[cut:])
    tail.poll()
    assert tail.text().text == read_text(path).text


def test_csv_rewritten_with_a_new_header_is_read_again(tmp_path):
    """Lightning's CSVLogger writes the whole file again when a new metric appears."""
    path = tmp_path / "metrics.csv"
    path.write_text("step,train_loss\n0,1.0\n1,0.9\n")
    follower = Follower(str(tmp_path))
    follower.poll()
    path.write_text("step,train_loss,val_loss\n0,1.0,\n1,0.9,\n2,0.8,0.85\n")
    snapshot = follower.poll()
    assert snapshot.stats.read_again == [str(path)]
    _same_runs(snapshot.runs, read_runs(str(tmp_path))[0])


def test_json_documents_are_read_whole_when_they_change(tmp_path):
    path = tmp_path / "trainer_state.json"
    history = [{"step": i, "loss": 1.0 / (i + 1), "learning_rate": 1e-3} for i in range(1, 30)]
    import json

    path.write_text(json.dumps({"log_history": history[:10]}, indent=2))
    follower = Follower(str(tmp_path))
    follower.poll()
    path.write_text(json.dumps({"log_history": history}, indent=2))
    snapshot = follower.poll()
    assert snapshot.stats.read_whole == [str(path)]
    _same_runs(snapshot.runs, read_runs(str(tmp_path))[0])


def test_new_runs_are_picked_up_and_changed_runs_named(tmp_path):
    follower = Follower(str(tmp_path))
    assert follower.poll().runs == []
    (tmp_path / "a").mkdir()
    _append(str(tmp_path / "a" / "events.out.tfevents.1.host"), _event_bytes(20))
    snapshot = follower.poll()
    assert [r.name for r in snapshot.runs] == ["a"] and snapshot.changed == {"a"}
    (tmp_path / "b.csv").write_bytes(_csv_bytes(20))
    snapshot = follower.poll()
    assert [r.name for r in snapshot.runs] == ["a", "b.csv"] and snapshot.changed == {"b.csv"}
    assert follower.poll().changed == set()


def test_a_second_training_in_the_same_directory_becomes_its_own_run(tmp_path):
    """tensorboard_follow takes the path of read_tensorboard_trainings when a tag goes back."""
    first = tmp_path / "events.out.tfevents.1.host"
    _append(str(first), _event_bytes(60, seed=1))
    follower = Follower(str(tmp_path))
    follower.poll()
    second = b"".join(frame(scalar_event("train/loss", 3.0 / (s + 1), s, wall=2.0e9 + s).SerializeToString())
                      for s in range(40))
    _append(str(tmp_path / "events.out.tfevents.2.host"), second)
    snapshot = follower.poll()
    full, _ = read_runs(str(tmp_path))
    assert [r.name for r in snapshot.runs] == [".", ".#2"] and snapshot.changed == {".", ".#2"}
    _same_runs(snapshot.runs, full)
