"""Keep glibc from handing large freed buffers back to the kernel between blocks.

Each preprocessing block allocates a few arrays of 5-80 MB (source samples, their spectrum, the
output) and frees them before the next block. glibc serves allocations above its mmap threshold
(128 kB, rising to at most 32 MB) with fresh ``mmap`` pages and unmaps them on free, so every
block page-faults its buffers in again: ~30,000 minor faults and ~0.1 s of kernel time per hour
of EEG, 10% of an ingest (docs/benchmarks.md). Raising the mmap and trim thresholds lets freed
blocks be reused from the heap instead. Peak memory is unchanged (the same buffers, reused);
the process keeps its high-water mark until it exits.

Only glibc is tuned (``mallopt``); elsewhere, or with ``EEGPREP_MALLOC_TUNING=0`` (``false``,
``no``, ``off``) in the environment, :func:`reuse_freed_memory` does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Iterator

from eegprep.base.env_values import env_flag

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 256 * 2**20
TRIM_THRESHOLD_BYTES = 1024 * 2**20

_done = False


TUNING_VARIABLE = "EEGPREP_MALLOC_TUNING"
"""The switch that turns :func:`reuse_freed_memory` off (``0``, ``false``, ``no``, ``off``)."""


def tuning_wanted() -> bool:
    """Whether :data:`TUNING_VARIABLE` leaves the tuning on (it is, unless the variable says
    off); :class:`~eegprep.base.errors.ConfigError` for a value that is neither
    (:func:`~eegprep.base.env_values.env_flag`). Commands call it before their work, so that
    such a value is one line, not one per process or task."""
    return env_flag(TUNING_VARIABLE, default=True, what="raise glibc's mmap and trim thresholds")


def reuse_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they were set."""
    global _done
    if _done:
        return True
    if not tuning_wanted():
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


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Numpy's new arrays on ordinary 4 KiB pages inside the block.

    numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every array
    of 4 MiB or more. On this project's virtual machines, first touching fresh huge pages is
    what makes building a window index of 10^7 windows (~300 MB of new arrays) slow at times:
    the kernel's page clearing took 0.04-0.79 s of system time from run to run for the same
    arrays, against 0.12-0.16 s with small pages, which fault more often but steadily
    (docs/benchmarks.md, section 8). The setting is restored on leaving the block; a numpy
    without the switch is left as it is."""
    from numpy._core import multiarray

    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)
