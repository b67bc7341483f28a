"""Coverage-guided fuzzing of the event-file reader with atheris, checked against TensorBoard.

    pip install atheris
    python fuzz/fuzz_tfevents.py fuzz/corpus/tfevents -runs=100000      # libFuzzer options after the corpus
    python fuzz/fuzz_tfevents.py --no-atheris --runs 2000               # without atheris: the seeded mutation loop

Each input is written to a temporary event file and read by ``read_tfevents``; an exception out of the
reader, or any disagreement with TensorBoard's own parsing (fuzz/tfevents_differential.py), is a crash
that libFuzzer saves as ``crash-*``.  Add every crashing input found to tests/test_tfevents_odd.py.
"""
from __future__ import annotations

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

_PATH = os.path.join(tempfile.mkdtemp(prefix="lrdoctor-fuzz-"), "events.out.tfevents.1.fuzz")


def test_one_input(data: bytes) -> None:
    import tfevents_differential

    with open(_PATH, "wb") as fh:
        fh.write(data)
    verdict = tfevents_differential.check(_PATH)
    if verdict.discrepancies:
        raise AssertionError("; ".join(verdict.discrepancies))


def main() -> int:
    if "--no-atheris" in sys.argv:
        import tfevents_mutate

        sys.argv.remove("--no-atheris")
        return tfevents_mutate.main()
    import atheris

    with atheris.instrument_imports():
        import lrdoctor.readers._tfdecode  # noqa: F401
        import lrdoctor.readers._tfframing  # noqa: F401
        import lrdoctor.readers._tffast  # noqa: F401
        import lrdoctor.readers._tfproto  # noqa: F401
        import lrdoctor.readers.tfevents  # noqa: F401
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
