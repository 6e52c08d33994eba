"""Keep glibc from handing large freed buffers back to the kernel between blocks.

Each preprocessing block allocates a few arrays of 5-80 MB (source samples, their spectrum, the
output) and frees them before the next block. glibc serves allocations above its mmap threshold
(128 kB, rising to at most 32 MB) with fresh ``mmap`` pages and unmaps them on free, so every
block page-faults its buffers in again: ~30,000 minor faults and ~0.1 s of kernel time per hour
of EEG, 10% of an ingest (docs/benchmarks.md). Raising the mmap and trim thresholds lets freed
blocks be reused from the heap instead. Peak memory is unchanged (the same buffers, reused);
the process keeps its high-water mark until it exits.

Only glibc is tuned (``mallopt``); elsewhere, or with ``EEGPREP_MALLOC_TUNING=0`` in the
environment, :func:`reuse_freed_memory` does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 256 * 2**20
TRIM_THRESHOLD_BYTES = 1024 * 2**20

_done = False


def reuse_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they were set."""
    global _done
    if _done:
        return True
    if os.environ.get("EEGPREP_MALLOC_TUNING", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    _done = ok
    return ok
