"""W&B run directory (``wandb/run-*/run-*.wandb``, ``wandb/offline-run-*/...``) -> Run.

A ``.wandb`` file is W&B's transaction log: a 7-byte ``:W&B`` header, then records framed as in
LevelDB's log format (32 KiB blocks; each fragment a 7-byte header ``crc32 u32, length u16, type
u8`` -- full, first, middle, last -- the CRC being zlib's CRC-32 of the type byte then the data).
Each record is a ``wandb.proto.wandb_internal_pb2.Record`` and is decoded with wandb's own
protobuf classes (extra ``lrdoctor[wandb]``).  wandb >= 0.2x no longer ships a Python reader of
the log (its ``DataStore`` went with the legacy ``wandb sync``; wandb-core reads it in Go), so the
framing is read here.

What becomes the Run:

* every ``history`` record is one row: ``_step`` is the step (else the record's ``step.num``),
  ``_timestamp`` the wall time; every other key not starting with ``_`` whose value is a number
  is a point of the curve of that name.  Nested keys (``wandb.log({"eval": {"loss": x}})``) are
  named with dots as W&B shows them (``eval.loss``); media, tables and histograms are skipped
  (a note names them).
* the run's config (the run record's, then each ``config`` record's updates and removals) goes to
  ``Run.hparams``, nested dicts flattened to ``a/b`` as for ``hparams.yaml``.

A damaged record (bad checksum, impossible length or type, undecodable protobuf) is reported with
its byte offset and skipped to the next 32 KiB block, as LevelDB's reader does; every good record
before and after it is kept.  A file cut while being written keeps every record before the cut.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import re
import stat
import struct
import zlib
from array import array
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..model import Problem, Run
from .merge import Chunk, first_few, merge_tags

INSTALL_HINT = "install lrdoctor[wandb] to read W&B runs"

_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_IDENT, _MAGIC = b":W&B", 0xBEE1
_FRAGMENT = struct.Struct("<IHB")  # crc32, data length, type
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_CRC = {t: zlib.crc32(bytes([t])) for t in (_FULL, _FIRST, _MIDDLE, _LAST)}


@dataclass(frozen=True)
class WandbJob:
    name: str
    path: str  # the .wandb file


def is_wandb_file(filename: str) -> bool:
    return filename.startswith("run-") and filename.endswith(".wandb")


_RUN_DIR = re.compile(r"(offline-)?run-\d{8}_\d{6}-\w+")
_OWN_FILES = ("debug.log", "debug-internal.log", "debug-cli.log")


def skip_wandb_own(dirpath: str, dirnames: list[str], filenames: list[str]) -> None:
    """W&B's own files, removed from the walk in place.  In a ``wandb/`` directory (one holding W&B
    run directories): ``latest-run``, a symlink to one of them, and ``debug*.log``, W&B's chatter
    (symlinks into the latest run's ``logs/``).  In a run directory: its ``logs/`` and ``tmp/`` -- when
    its ``.wandb`` is gone (git-ignored, say), ``files/output.log``, the console, is still read."""
    if _RUN_DIR.fullmatch(os.path.basename(dirpath)):
        dirnames[:] = [d for d in dirnames if d not in ("logs", "tmp")]
    if any(_RUN_DIR.fullmatch(d) for d in dirnames):
        dirnames[:] = [d for d in dirnames if d != "latest-run"]
        filenames[:] = [f for f in filenames if f not in _OWN_FILES and not f.startswith("debug-cli")]


# --------------------------------------------------------------------------- framing


class _Damage:
    """Damaged spots of one file: the first is reported with its offset, the others counted."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None
        self.count = 0

    def add(self, offset: int, why: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = (offset, why)

    def problem(self, path: str) -> Problem | None:
        if self.first is None:
            return None
        offset, why = self.first
        more = f"; {self.count - 1} more damaged spot(s) after it" if self.count > 1 else ""
        return Problem(path, f"damaged record skipped ({why}){more}; the records around it kept",
                       partial=True, offset=offset)


def _records(data: bytes, damage: _Damage) -> Iterator[tuple[int, bytes]]:
    """(offset, payload) of every whole record after the file header; damaged spots go to ``damage``,
    a record cut by the end of the file raises ``_Cut`` with its offset."""
    offset, pending, pending_at, resyncing = _HEADER.size, None, 0, False
    while offset < len(data):
        in_block = _BLOCK - offset % _BLOCK
        if in_block < _FRAGMENT.size or not any(data[offset:offset + _FRAGMENT.size]):
            offset += in_block  # block trailer, or zeros (preallocated space): next block
            continue
        if offset + _FRAGMENT.size > len(data):
            raise _Cut(offset)
        crc, length, kind = _FRAGMENT.unpack_from(data, offset)
        start, end = offset + _FRAGMENT.size, offset + _FRAGMENT.size + length
        if end > len(data) and kind in _TYPE_CRC and end - offset <= in_block:
            raise _Cut(pending_at if pending is not None else offset)
        why = _fragment_fault(data, crc, length, kind, start, end, in_block)
        if why is None and resyncing and kind in (_MIDDLE, _LAST):
            offset = end  # the rest of the damaged record, after a resynchronisation: dropped
            continue
        resyncing = False
        if why is None and (kind in (_MIDDLE, _LAST)) != (pending is not None):
            why = "record fragment out of order"
        if why is not None:
            damage.add(offset, why)
            offset, pending, resyncing = offset + in_block, None, True  # resynchronise at the next block
            continue
        chunk = data[start:end]
        if kind == _FULL:
            yield offset, chunk
        elif kind == _FIRST:
            pending, pending_at = [chunk], offset
        else:
            pending.append(chunk)
            if kind == _LAST:
                yield pending_at, b"".join(pending)
                pending = None
        offset = end
    if pending is not None:
        raise _Cut(pending_at)


def _fragment_fault(data: bytes, crc: int, length: int, kind: int, start: int, end: int, in_block: int) -> str | None:
    if kind not in _TYPE_CRC:
        return f"unknown fragment type {kind}"
    if end - start + _FRAGMENT.size > in_block:
        return "fragment longer than its block"
    if zlib.crc32(data[start:end], _TYPE_CRC[kind]) != crc:
        return "checksum mismatch"
    return None


class _Cut(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


# --------------------------------------------------------------------------- records -> Run


def _number(value_json: str) -> float | None | object:
    """The value as a float; a decoded JSON value when it is not a number."""
    try:
        return float(value_json)  # "2", "0.001", "NaN", "Infinity": the common case, fast
    except ValueError:
        try:
            return json.loads(value_json)
        except ValueError:
            return None


def _item_key(item) -> str:
    return ".".join(item.nested_key) if item.nested_key else item.key


class _History:
    """Rows of ``history`` records gathered into per-key point lists."""

    def __init__(self) -> None:
        self.points: dict[str, tuple[array, array, array]] = {}  # 8 bytes a number, not a Python float
        self.skipped: set[str] = set()

    def add(self, history) -> None:
        row: dict[str, object] = {}
        for item in history.item:
            self._flatten(_item_key(item), _number(item.value_json), row)
        step = row.pop("_step", None)
        whole = isinstance(step, float) and step.is_integer() and abs(step) < 2.0 ** 63
        step = int(step) if whole else history.step.num
        wall = row.get("_timestamp")
        wall = wall if isinstance(wall, float) else math.nan
        for key, value in row.items():
            if not key.startswith("_"):
                steps, values, walls = self.points.setdefault(key, (array("q"), array("d"), array("d")))
                steps.append(step)
                values.append(value)
                walls.append(wall)

    def _flatten(self, key: str, value: object, row: dict) -> None:
        if isinstance(value, float):
            row[key] = value
        elif isinstance(value, bool) or value is None:
            self.skipped.add(key)
        elif isinstance(value, int):
            row[key] = float(value)
        elif isinstance(value, dict) and "_type" not in value:
            for sub, inner in value.items():
                self._flatten(f"{key}.{sub}", inner, row)
        elif not key.startswith("_"):
            self.skipped.add(key)  # media, tables, histograms, strings

    def chunks(self) -> dict[str, list[Chunk]]:
        return {key: [Chunk.from_lists(steps, values, None if np.isnan(walls).all() else walls)]
                for key, (steps, values, walls) in self.points.items()}


def _config_value(value_json: str) -> object:
    try:
        value = json.loads(value_json)
    except ValueError:
        return value_json
    if isinstance(value, dict) and set(value) <= {"value", "desc"} and "value" in value:
        return value["value"]  # older SDKs wrapped every config value so
    return value


def _apply_config(config, hparams: dict) -> None:
    for item in config.update:
        key = "/".join(item.nested_key) if item.nested_key else item.key
        if key and not key.startswith("_wandb"):
            hparams[key] = _config_value(item.value_json)
    for item in config.remove:
        hparams.pop("/".join(item.nested_key) if item.nested_key else item.key, None)


def _flat_hparams(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat_hparams(value, f"{prefix}{key}/"))
        elif isinstance(value, (list, tuple)):
            flat[f"{prefix}{key}"] = json.dumps(value)
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _mapped(path: str) -> tuple[mmap.mmap | bytes | None, str | None]:
    """The file's bytes, mapped rather than copied (a long run's log is hundreds of MB)."""
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None, "not a regular file"
            if os.fstat(fh.fileno()).st_size == 0:
                return b"", None
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), None
    except (OSError, ValueError) as exc:
        return None, f"cannot read: {getattr(exc, 'strerror', None) or exc}"


def _header_fault(data: bytes) -> str | None:
    if len(data) < _HEADER.size:
        return "empty file" if not data else "file shorter than the W&B header (cut while being written?)"
    ident, magic, _version = _HEADER.unpack_from(data)
    if ident != _IDENT or magic != _MAGIC:
        return "not a W&B transaction log (no ':W&B' header)"
    return None


def read_wandb_run(path: str, name: str) -> Run | Problem:
    """The run in one ``.wandb`` file, or a Problem when it cannot be read at all."""
    data, error = _mapped(path)
    error = error or _header_fault(data) or _wandb_missing()
    if error:
        if isinstance(data, mmap.mmap):
            data.close()
        return Problem(path, error)
    from wandb.proto import wandb_internal_pb2
    history, hparams, problems = _History(), {}, []
    damage = _Damage()
    try:
        for offset, payload in _records(data, damage):
            _take_record(wandb_internal_pb2, payload, offset, history, hparams, damage)
    except _Cut as cut:
        problems.append(Problem(path, "file ends inside a record (cut while being written?)",
                                partial=True, offset=cut.offset))
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
    problems += [p for p in [damage.problem(path)] if p is not None]
    series, restarts, notes = merge_tags(history.chunks())
    if history.skipped:
        skipped = sorted(history.skipped)
        notes.append(f"{len(skipped)} W&B key(s) that are not numbers skipped ({first_few(skipped)})")
    return Run(name=name, source=os.path.abspath(path), format="wandb", series=series, problems=problems,
               restarts=restarts, notes=notes, hparams=_flat_hparams(hparams))


def _wandb_missing() -> str | None:
    """Why wandb's record classes cannot be used, or None when they can."""
    try:
        from wandb.proto import wandb_internal_pb2  # noqa: F401
    except ImportError as exc:
        return f"{INSTALL_HINT} ({exc})"
    except Exception as exc:  # noqa: BLE001 - e.g. a protobuf runtime too old for wandb's generated code
        return f"wandb is installed but its record classes cannot be loaded: {type(exc).__name__}: {exc}"
    return None


def _take_record(pb, payload: bytes, offset: int, history: _History, hparams: dict, damage: _Damage) -> None:
    from google.protobuf.message import DecodeError

    record = pb.Record()
    try:
        record.ParseFromString(payload)
    except DecodeError:
        damage.add(offset, "record not decodable")
        return
    kind = record.WhichOneof("record_type")
    if kind == "history":
        history.add(record.history)
    elif kind == "run":
        _apply_config(record.run.config, hparams)
    elif kind == "config":
        _apply_config(record.config, hparams)
