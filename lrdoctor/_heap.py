"""The C heap of the lrdoctor process: large arrays get memory of their own, returned when freed.

glibc's malloc serves a request from its heap unless it is at least the "mmap threshold", and it
raises that threshold (up to 32 MB) each time a large block is freed.  A long curve's diagnosis then
serves its many temporaries of a few to 32 MB from the heap, which keeps their memory after they are
freed and fragments: on the 10M-point case of ``bench/scale.py`` the peak resident set varied between
300 and 338 MB from one launch to the next with the same input.  A fixed threshold of ``LARGE`` gives
every array of that size or more its own mapping, returned to the system when freed (291-300 MB over
8 launches, for up to ~1 s more CPU on that case); smaller temporaries, such as the 2 MB blocks of
``signal/smoothing.py``, are reused from the heap.  Elsewhere than glibc this does nothing.
"""
from __future__ import annotations

import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
LARGE = 4 << 20  # bytes


def give_large_blocks_their_own_memory() -> bool:
    """Fix glibc's mmap threshold at ``LARGE`` for this process (see the module doc); whether it was
    set (nothing is done elsewhere than on Linux with a C library that has mallopt)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):  # no C library to ask, or no mallopt in it
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Fixing one threshold also fixes the other, at its default of 128 KB: the heap's free top would be
    # given back and taken again all the time (+4 s of system time on 1,000 runs). glibc's own rule
    # when it raises the mmap threshold is a trim threshold twice as large.
    return mallopt(M_MMAP_THRESHOLD, LARGE) == 1 and mallopt(M_TRIM_THRESHOLD, 2 * LARGE) == 1
