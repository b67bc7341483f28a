"""Scalar points of one event file as parallel arrays, and how they become per-tag series."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._tfproto import SCALARS_PLUGIN


@dataclass
class Columns:
    """Scalar points as parallel arrays; ``record`` is the index of the event they came from."""

    record: np.ndarray
    tag_id: np.ndarray
    steps: np.ndarray
    walls: np.ndarray
    values: np.ndarray
    from_tensor: np.ndarray
    tags: list[str]
    plugins: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "Columns":
        ints, floats = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return cls(ints, ints.astype(np.int32), ints, floats, floats, np.zeros(0, bool), [])

    def by_tag(self, factory) -> dict:
        """{tag: factory(steps, wall_times, values)} in file order, dropping tensors of tags
        whose metadata names another plugin."""
        keep = ~self.from_tensor | ~np.isin(self.tag_id, self._foreign_plugin_tags())
        return {tag: factory(self.steps[i], self.walls[i], self.values[i]) for tag, i in self._tag_indices(keep)}

    def by_tag_unfiltered(self) -> dict[str, tuple]:
        """{tag: (steps, wall_times, values, from_tensor)} in file order, every point (one window of a
        file: which tags another plugin owns is decided once the whole file is read)."""
        keep = np.ones(len(self.steps), bool)
        return {tag: (self.steps[i], self.walls[i], self.values[i], self.from_tensor[i])
                for tag, i in self._tag_indices(keep)}

    def foreign_tags(self) -> set[str]:
        """Tags whose metadata names a plugin other than scalars: their tensors are not scalars."""
        return {tag for tag, names in self.plugins.items() if names - {SCALARS_PLUGIN, ""}}

    def _tag_indices(self, keep: np.ndarray) -> list[tuple[str, np.ndarray]]:
        order = np.flatnonzero(keep)
        if len(order) > 1 and np.any(np.diff(self.record[order]) < 0):
            order = order[np.argsort(self.record[order], kind="stable")]
        ids = self.tag_id[order]
        order = order[np.argsort(ids.astype(np.uint16) if len(self.tags) < 65536 else ids, kind="stable")]
        ids = self.tag_id[order]
        bounds = np.flatnonzero(np.diff(ids)) + 1
        chunks = np.split(order, bounds) if len(order) else []
        chunks.sort(key=lambda chunk: int(self.record[chunk[0]]))  # tags in order of first appearance
        return [(self.tags[int(self.tag_id[chunk[0]])], chunk) for chunk in chunks]

    def _foreign_plugin_tags(self) -> list[int]:
        index = {tag: i for i, tag in enumerate(self.tags)}
        return [index[tag] for tag, names in self.plugins.items()
                if tag in index and names - {SCALARS_PLUGIN, ""}]


def concat(parts: list[Columns]) -> Columns:
    """Join column sets, renumbering tag ids into one tag table."""
    tags: dict[str, int] = {}
    plugins: dict[str, set[str]] = {}
    remapped = []
    for part in parts:
        mapping = np.array([tags.setdefault(tag, len(tags)) for tag in part.tags] or [0], np.int32)
        remapped.append(mapping[part.tag_id] if len(part.tag_id) else part.tag_id)
        for tag, names in part.plugins.items():
            plugins.setdefault(tag, set()).update(names)
    return Columns(
        np.concatenate([p.record for p in parts]), np.concatenate(remapped),
        np.concatenate([p.steps for p in parts]), np.concatenate([p.walls for p in parts]),
        np.concatenate([p.values for p in parts]), np.concatenate([p.from_tensor for p in parts]),
        list(tags), plugins)


class Progression:
    """A column piece that is an arithmetic progression (an event file's steps 0, 1, 2, ... for a tag
    logged every step; a tag's all-False "from a tensor" flags), kept as three numbers instead of 8 (or 1)
    bytes a point while the file is read; ``array()`` gives the exact values back."""

    __slots__ = ("first", "stride", "n", "dtype")

    def __init__(self, first: int, stride: int, n: int, dtype):
        self.first, self.stride, self.n, self.dtype = first, stride, n, np.dtype(dtype)

    def __len__(self) -> int:
        return self.n

    def key(self) -> tuple:
        return self.first, self.stride, self.n, self.dtype.str

    def array(self) -> np.ndarray:
        # int64 arithmetic, as ``compact`` checked it: the same values, wrapped the same way
        values = np.int64(self.first) + np.int64(self.stride) * np.arange(self.n, dtype=np.int64)
        return values.astype(self.dtype, copy=False)

    def follows(self, other: "Progression") -> bool:
        """Does this piece continue ``other`` (one progression end to end)?"""
        return self.dtype == other.dtype and self.stride == other.stride and \
            self.first == other.first + other.stride * other.n


def compact(piece: np.ndarray):
    """``piece`` as a Progression when it is one (int64 steps, or bool flags all False), else as is."""
    n = piece.shape[0]
    if n < 2:
        return piece
    if piece.dtype == bool:
        return Progression(0, 0, n, bool) if not piece.any() else piece
    if piece.dtype != np.int64:
        return piece
    first, stride = piece[0], piece[1] - piece[0]
    if np.array_equal(piece, first + stride * np.arange(n, dtype=np.int64)):
        return Progression(int(first), int(stride), n, np.int64)
    return piece


def join(pieces: list, *, keep_compact: bool = False):
    """The pieces (arrays and Progressions) end to end: one array (a Progression when every piece
    continues the one before and ``keep_compact``)."""
    chained = []
    for piece in pieces:
        if isinstance(piece, Progression) and chained and isinstance(chained[-1], Progression) \
                and piece.follows(chained[-1]):
            last = chained[-1]
            chained[-1] = Progression(last.first, last.stride, last.n + piece.n, last.dtype)
        else:
            chained.append(piece)
    if keep_compact and len(chained) == 1:
        return chained[0]
    arrays = [p.array() if isinstance(p, Progression) else p for p in chained]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
