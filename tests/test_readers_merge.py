"""merge.py: file order, restarts (later data wins), repeated steps, all-zero steps."""
from __future__ import annotations

import numpy as np

from lrdoctor.model import Restart
from lrdoctor.readers.merge import Chunk, merge_chunks, merge_tags


def test_restart_keeps_all_data_later_wins_and_is_recorded():
    first = Chunk.from_lists([0, 10, 20, 30], [4.0, 3.0, 2.0, 1.0], [1, 2, 3, 4])
    resumed = Chunk.from_lists([20, 30, 40], [2.5, 1.5, 0.5], [5, 6, 7])
    merged = merge_chunks("loss", [first, resumed])
    assert list(merged.series.steps) == [0, 10, 20, 30, 40]
    assert list(merged.series.values) == [4.0, 3.0, 2.5, 1.5, 0.5]
    assert list(merged.series.wall_times) == [1, 2, 5, 6, 7]
    assert merged.restarts == [Restart("loss", 30, 20, 2)]


def test_repeated_step_going_forward_is_not_a_restart():
    merged = merge_chunks("train/epoch", [Chunk.from_lists([5, 5, 10], [0.1, 0.2, 0.3])])
    assert list(merged.series.steps) == [5, 10] and list(merged.series.values) == [0.2, 0.3]
    assert merged.restarts == []


def test_restart_to_an_unseen_step_overwrites_nothing():
    merged = merge_chunks("eval/loss", [Chunk.from_lists([100, 200, 50], [1.0, 0.9, 0.8])])
    assert merged.restarts == [Restart("eval/loss", 200, 50, 0)]
    assert list(merged.series.steps) == [50, 100, 200]


def test_all_zero_steps_are_ordered_by_wall_time_and_numbered_with_a_note():
    chunks = {"acc": [Chunk.from_lists([0, 0, 0], [0.3, 0.1, 0.2], [30.0, 10.0, 20.0])]}
    series, restarts, notes = merge_tags(chunks)
    assert list(series["acc"].steps) == [0, 1, 2]
    assert list(series["acc"].values) == [0.1, 0.2, 0.3]
    assert restarts == [] and len(notes) == 1 and "every step is 0" in notes[0] and "acc" in notes[0]


def test_all_zero_steps_without_a_clock_are_a_plain_restart():
    merged = merge_chunks("loss", [Chunk.from_lists([0, 0, 0], [3.0, 2.0, 1.0])])
    assert list(merged.series.values) == [1.0]  # nothing to order by: the last run wins


def test_epochs_follow_their_points_and_missing_ones_stay_nan():
    a = Chunk.from_lists([0, 1], [1.0, 2.0], None, [0.0, 0.5])
    b = Chunk.from_lists([2], [3.0])
    merged = merge_chunks("x", [a, b])
    assert merged.series.epochs[:2].tolist() == [0.0, 0.5] and np.isnan(merged.series.epochs[2])
    assert merged.series.wall_times is None


def test_empty_chunks_give_an_empty_series():
    assert len(merge_chunks("x", [Chunk.from_lists([], [])]).series) == 0
