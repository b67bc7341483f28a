"""Seeded mutation fuzzing of the event-file reader, each input checked against TensorBoard.

    python fuzz/tfevents_mutate.py --runs 100000 --seed 1 --save-failures /tmp/tfevents-failures
    python fuzz/tfevents_mutate.py --runs 2000            # a quick run

Inputs are mutations of the seed corpus (fuzz/corpus/tfevents; made by fuzz/tfevents_seeds.py).  Half
the mutations work on the raw file (bit flips, interesting bytes, inserted/deleted/duplicated runs,
truncation, length fields up to 2^64-1, splices of two seeds): they exercise the framing and mostly end
at a CRC.  The other half mutate the *data* of one to three records and then fix their CRCs, so the
damage reaches the protobuf decoder.  Every input goes through ``tfevents_differential.check``; the run
ends with counts and exits 1 if any input escaped an exception or disagreed with TensorBoard.
Needs no atheris (see fuzz/fuzz_tfevents.py for the coverage-guided harness).
"""
from __future__ import annotations

import argparse
import collections
import os
import struct
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import tfevents_differential  # noqa: E402

CORPUS = os.path.join(HERE, "corpus", "tfevents")
_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x08, 0x0A, 0x10, 0x12, 0x15, 0x22, 0x2A, 0x42, 0x4A)


def seeds() -> list[bytes]:
    return [open(os.path.join(CORPUS, name), "rb").read() for name in sorted(os.listdir(CORPUS))]


def _masked(data: bytes) -> int:
    from lrdoctor.readers._crc32c_np import masked_crc

    return masked_crc(data)


def frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", _masked(header)) + data + struct.pack("<I", _masked(data))


def split_records(data: bytes) -> list[bytes]:
    """The records of a well-formed file (seeds are)."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append(data[pos + 12:pos + 12 + length])
        pos += 16 + length
    return out


def _mutate_bytes(rng: np.random.Generator, data: bytearray, other: bytes) -> bytearray:
    kind = int(rng.integers(0, 9))
    n = len(data)
    if n == 0:
        return bytearray(other[: int(rng.integers(0, len(other) + 1))])
    at = int(rng.integers(0, n))
    if kind == 0:
        data[at] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:
        data[at] = int(rng.choice(_INTERESTING))
    elif kind == 2:
        del data[at:at + int(rng.integers(1, 9))]
    elif kind == 3:
        data[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
    elif kind == 4:
        piece = data[at:at + int(rng.integers(1, 65))]
        to = int(rng.integers(0, n))
        data[to:to] = piece
    elif kind == 5:
        del data[at:]
    elif kind == 6:  # a varint-sized run of 0xff/0x80 (long varints, huge lengths)
        data[at:at + 1] = bytes([0xFF] * int(rng.integers(1, 11))) + bytes([int(rng.integers(0, 128))])
    elif kind == 7:
        cut = int(rng.integers(0, len(other) + 1))
        data[at:] = other[cut:]
    else:
        data[at:at + 8] = struct.pack("<Q", (0, 1, 2**31, 2**32 - 1, 2**63, 2**64 - 1)[int(rng.integers(0, 6))])
    return data


def mutate(rng: np.random.Generator, corpus: list[bytes]) -> bytes:
    base = corpus[int(rng.integers(0, len(corpus)))]
    other = corpus[int(rng.integers(0, len(corpus)))]
    if rng.random() < 0.5:  # raw file mutations: framing
        data = bytearray(base)
        for _ in range(int(rng.integers(1, 4))):
            data = _mutate_bytes(rng, data, other)
        return bytes(data)
    records = split_records(base) or [b""]
    for _ in range(int(rng.integers(1, 4))):  # record data mutations with fixed CRCs: decoding
        i = int(rng.integers(0, len(records)))
        donor = split_records(other) or [b""]
        records[i] = bytes(_mutate_bytes(rng, bytearray(records[i]), donor[int(rng.integers(0, len(donor)))]))
    return b"".join(frame(r) for r in records)


def run(runs: int, seed: int, save: str | None = None, report_every: int = 10_000) -> collections.Counter:
    rng = np.random.default_rng(seed)
    corpus = seeds()
    counts: collections.Counter = collections.Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.out.tfevents.1.fuzz")
        for i in range(runs):
            data = mutate(rng, corpus)
            with open(path, "wb") as fh:
                fh.write(data)
            verdict = tfevents_differential.check(path)
            counts["inputs"] += 1
            counts["reported a problem" if verdict.problems else "no problem reported"] += 1
            counts["TensorBoard read cleanly" if verdict.tb_clean else "TensorBoard stopped at damage"] += 1
            for d in verdict.discrepancies:
                counts["DISCREPANCY " + d.split("[")[0].split("(")[0].strip()] += 1
            if verdict.discrepancies:
                counts["inputs with a discrepancy"] += 1
                if save:
                    os.makedirs(save, exist_ok=True)
                    with open(os.path.join(save, f"seed{seed}-{i}.tfevents"), "wb") as fh:
                        fh.write(data)
            if report_every and (i + 1) % report_every == 0:
                print(f"{i + 1:,} inputs, {time.perf_counter() - start:.0f} s, {counts['inputs with a discrepancy']} with a discrepancy",
                      file=sys.stderr, flush=True)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-failures", default=None, help="directory for the inputs that disagreed")
    opts = parser.parse_args()
    start = time.perf_counter()
    counts = run(opts.runs, opts.seed, opts.save_failures)
    for key, value in sorted(counts.items()):
        print(f"{value:>9,}  {key}")
    print(f"{time.perf_counter() - start:.0f} s")
    return 1 if counts["inputs with a discrepancy"] else 0


if __name__ == "__main__":
    sys.exit(main())
