"""CRC-32C (Castagnoli) of many equal-length byte strings at once, with numpy.

TFRecord framing stores ``masked_crc32c`` of every record's length field and data.  Calling
the C-backed ``crc32c`` package once per record costs ~0.7 µs of Python overhead each, which
for a million-record file is most of the read time.  Here a whole group of records of the
same length is checked in one go: CRC is affine in its input, so for records that differ from
a reference record only at a few byte positions (wall time, step, value - the tag and the
message structure are identical), ``crc(x) = crc(ref) ^ crc_linear(x ^ ref)`` and the linear
part is a XOR of one 256-entry table lookup per *differing* position.
"""
from __future__ import annotations

import crc32c as _crc32c
import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_MASK_DELTA = 0xA282EAD8


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _byte_table()


def mask(crc):
    """TFRecord's rotate-and-add mask; works on ints and uint32 arrays."""
    if isinstance(crc, np.ndarray):
        crc = crc.astype(np.uint32)
        return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(_MASK_DELTA)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc(data) -> int:
    """Masked CRC-32C of one byte string (the C library; for single records)."""
    return mask(_crc32c.crc32c(data))


def rows(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``buf[s:s+width]`` for every s in ``starts`` as one (n, width) array.

    Fancy-indexing the first axis of a strided window view copies each row with one memcpy,
    which is ~10x faster than indexing with an (n, width) array of positions."""
    windows = np.lib.stride_tricks.as_strided(buf, (len(buf) - width + 1, width), (1, 1), writeable=False)
    return windows[starts]


_MAX_VECTOR_LENGTH = 512  # longer records are rare (histograms, graphs): the C library is faster
_positions = np.zeros((0, 256), np.uint32)


def _position_tables(length: int) -> np.ndarray:
    """Row d: linear CRC contribution of each byte value followed by d zero bytes (d < length)."""
    global _positions
    if len(_positions) < length:
        tables = list(_positions) or [_TABLE]
        while len(tables) < length:
            tables.append(_TABLE[tables[-1] & 0xFF] ^ (tables[-1] >> np.uint32(8)))
        _positions = np.array(tables, np.uint32)
    return _positions


def crc_rows(block: np.ndarray) -> np.ndarray:
    """Plain CRC-32C of every row of a (records x length) uint8 matrix."""
    count, length = block.shape
    if count <= 16 or length > _MAX_VECTOR_LENGTH:
        return np.array([_crc32c.crc32c(row.tobytes()) for row in block], np.uint32)
    reference = block[0]
    crc = np.full(count, _crc32c.crc32c(reference.tobytes()), np.uint32)
    diff = block ^ reference
    tables = _position_tables(length)
    for offset in np.flatnonzero(diff.any(axis=0)).tolist():
        crc ^= tables[length - 1 - offset][diff[:, offset]]
    return crc


def masked_crc_equal_length(buf: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Masked CRC-32C of ``buf[s:s+length]`` for every s in ``starts`` (crc_rows on ~4 MB at a time)."""
    chunk = max(1, (1 << 22) // max(length, 1))  # ~4 MB of record bytes at a time
    parts = [crc_rows(rows(buf, starts[lo:lo + chunk], length)) for lo in range(0, len(starts), chunk)]
    return mask(np.concatenate(parts) if parts else np.zeros(0, np.uint32))
