"""Symlinked directories during discovery: followed, each real directory entered once, loops cut.

A folder of symlinks to runs is a common way to compare runs in TensorBoard, so links are followed.
A directory is known by its device and inode: a second path to it (two links, or a link and the
real path) is not entered again, and a link back to a directory above it is not followed round.
What was followed or left out is said in the notes of the runs concerned (``lrdoctor runs`` shows
them); what no run can carry becomes a Problem, so nothing is left out without a word.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..model import Problem, Run


@dataclass(frozen=True)
class _NotEntered:
    link: str       # the path not entered, relative to the root
    first: str      # where the same real directory was (or is being) read, relative to the root
    loop: bool      # it is a directory above the link: following it would go round


@dataclass
class LinkedWalk:
    """Decides, directory by directory, which subdirectories an ``os.walk(followlinks=True)`` enters."""

    root: str
    _seen: dict[tuple[int, int], str] = field(default_factory=dict)
    followed: list[tuple[str, str]] = field(default_factory=list)  # (link, its target), relative link
    not_entered: list[_NotEntered] = field(default_factory=list)

    def __post_init__(self) -> None:
        key = _identity(self.root)
        if key is not None:
            self._seen[key] = "."

    def _relative(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def _walked_name(self, dirpath: str, link: str) -> str:
        """The name, as walked, of the directory above ``dirpath`` that ``link`` leads to (relative
        to the root; outside the root, its real path relative to the root)."""
        target, here = os.path.realpath(link), dirpath
        while True:
            if os.path.realpath(here) == target:
                return self._relative(here)
            parent = os.path.dirname(here)
            if parent == here or os.path.realpath(here) == os.path.realpath(self.root):
                return self._relative(target)
            here = parent

    def entered(self, dirpath: str, names: list[str]) -> list[str]:
        """The subdirectories of ``dirpath`` to walk into: those whose real directory is new."""
        keep = []
        for name in names:
            path = os.path.join(dirpath, name)
            key = _identity(path)
            if key is None:  # cannot be stat'ed: let os.walk report it
                keep.append(name)
                continue
            if _is_above(path, dirpath):  # a link to "..", or to the logdir's own parent: never go round
                self.not_entered.append(_NotEntered(self._relative(path), self._walked_name(dirpath, path), True))
                continue
            first = self._seen.get(key)
            if first is not None:
                self.not_entered.append(_NotEntered(self._relative(path), first, False))
                continue
            self._seen[key] = self._relative(path)
            if os.path.islink(path):
                self.followed.append((self._relative(path), os.path.realpath(path)))
            keep.append(name)
        return keep

    def unnoted_problems(self, names: list[str]) -> list[Problem]:
        """``add_notes``' problems for runs known only by name (the streamed diagnosis: diagnose
        reports no run notes, only what no run could carry)."""
        return self.add_notes([Run(name=name, source="", format="") for name in names])

    def add_notes(self, runs: list[Run]) -> list[Problem]:
        """Note on each run read through a link, or whose directory another path also leads to; a
        Problem for a path not entered that no run can carry the note of."""
        problems = []
        for link, target in self.followed:
            for run in _under(runs, link):
                run.notes.append(f"read through the symlink {link} -> {target}")
        for skipped in self.not_entered:
            if skipped.loop:
                text = f"the symlink {skipped.link} leads back to {skipped.first}, a directory above it: not followed"
                carriers = _beside(runs, _parent(skipped.link))
            else:
                text = f"also reached as {skipped.link}: the same directory, read once (as {skipped.first})"
                carriers = _under(runs, skipped.first)
            for run in carriers:
                run.notes.append(text)
            if not carriers:
                problems.append(Problem(os.path.join(self.root, skipped.link), "not entered: " + text))
        return problems


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_above(path: str, dirpath: str) -> bool:
    """Is the real directory of ``path`` that of ``dirpath`` or one of its ancestors?"""
    target, here = os.path.realpath(path), os.path.realpath(dirpath)
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)


def _parent(relative: str) -> str:
    return relative.rsplit("/", 1)[0] if "/" in relative else "."


def _beside(runs: list[Run], directory: str) -> list[Run]:
    """The runs that are ``directory`` itself or lie directly in it (a loop is noted there only)."""
    return [r for r in runs if r.name.split("#")[0] == directory or _parent(r.name) == directory]


def _under(runs: list[Run], prefix: str) -> list[Run]:
    """The runs read from ``prefix`` (a name relative to the root; "." is every run): the directory
    itself, what lies below it, and the separate trainings found there ("NAME#2")."""
    if prefix == ".":
        return list(runs)
    return [r for r in runs if r.name == prefix or r.name.startswith((prefix + "/", prefix + "#"))]
