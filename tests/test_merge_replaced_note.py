"""Nothing is dropped without a word: a step logged again with another value keeps the later value, and
the reader says how many points that replaced (found in review: four DDP ranks printing the same steps
lost three lines in four silently).  An identical repeat loses nothing and says nothing."""
from __future__ import annotations

from lrdoctor.readers.merge import Chunk, merge_tags


def test_points_replaced_at_a_repeated_step_are_counted_in_a_note():
    steps = [s for s in range(0, 50, 10) for _rank in range(4)]
    values = [1.0 / (s + 1) + 0.01 * rank for s in range(0, 50, 10) for rank in range(4)]
    series, restarts, notes = merge_tags({"loss": [Chunk.from_lists(steps, values)]})
    assert len(series["loss"]) == 5 and not restarts
    assert any(note.startswith("15 point(s) logged again") and "(loss)" in note for note in notes)


def test_an_identical_repeat_is_not_a_loss():
    series, _, notes = merge_tags({"train/epoch": [Chunk.from_lists([0, 10, 10, 20], [0.0, 1.0, 1.0, 2.0])]})
    assert len(series["train/epoch"]) == 3 and notes == []
