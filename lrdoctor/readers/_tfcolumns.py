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
