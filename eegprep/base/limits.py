"""Per-file resource limits: a memory budget and a time limit for ingesting one source file.

A hostile or damaged file must not take a worker down with it: a 3.7 MB zlib stream can claim
4 GB, a header can claim 500 kHz or 99,999,999 data records. Readers and the preprocessing loop
ask :func:`check_allocation` before they allocate anything whose size a file decides, and
refuse with one line (a :class:`~eegprep.base.errors.SourceError`) when it is over the budget; the
ingest loop calls :func:`check_time` between blocks.

The budget is for what one step allocates at once (a decompressed MATLAB variable, a block of
samples and its FFT), not for the whole file: recordings are streamed, so a 2 h, 256-channel,
2 kHz recording ingests under the default 2 GiB in blocks of 120 s (about 2.0 GB each).

Concurrency contract: the limits in force are per thread (:func:`activated` sets them for the
duration of one task, in whichever process or thread runs it); with no task active the defaults
apply.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from eegprep.base.bounds import MOST_SIZE, check_number
from eegprep.base.errors import SourceError, UsageError

DEFAULT_MEMORY_BYTES = 2 * 1024**3
"""2 GiB: a worker per core on a machine with 4 GB per core keeps half for everything else."""

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one source file may cost.

    Attributes
    ----------
    memory_bytes : int
        Most bytes a reader or the preprocessing may allocate at once for this file
        (``--file-memory-limit``); default :data:`DEFAULT_MEMORY_BYTES`.
    seconds : float or None
        Wall-clock seconds the file's ingest may take (``--file-time-limit``); ``None``: no limit.
    """

    memory_bytes: int = DEFAULT_MEMORY_BYTES
    seconds: float | None = None

    def __post_init__(self) -> None:
        # (10**30 bytes or 1e300 s was taken, True was one byte or one second; the bounds of
        # --file-memory-limit and --file-time-limit, eegprep/base/bounds.py)
        for name, key in (("memory_bytes", "file_memory_limit"), ("seconds", "file_time_limit")):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, check_number(key, value))


class _State(threading.local):
    limits: Limits = Limits()
    started: float = 0.0


_STATE = _State()


def current() -> Limits:
    """The limits in force in this thread."""
    return _STATE.limits


@contextmanager
def activated(limits: Limits) -> Iterator[Limits]:
    """Make ``limits`` current in this thread, and start its clock, until the block ends."""
    previous, started = _STATE.limits, _STATE.started
    _STATE.limits, _STATE.started = limits, time.monotonic()
    try:
        yield limits
    finally:
        _STATE.limits, _STATE.started = previous, started


def check_allocation(path: str, n_bytes: float, what: str) -> None:
    """Refuse, before allocating, ``n_bytes`` for ``what`` when over the memory budget.

    Raises
    ------
    SourceError
        Naming ``path``, what needed the memory, how much, and the option that raises it.
    """
    budget = _STATE.limits.memory_bytes
    if n_bytes > budget:
        raise SourceError(
            path,
            f"{what} needs {format_bytes(n_bytes)}, over the per-file memory limit of "
            f"{format_bytes(budget)}: if the file is genuine, raise --file-memory-limit",
        )


def check_time(path: str) -> None:
    """Refuse a file whose ingest has run past the time limit in force."""
    seconds = _STATE.limits.seconds
    if seconds is not None and time.monotonic() - _STATE.started > seconds:
        raise SourceError(
            path, f"took longer than the per-file limit of {seconds:g} s (--file-time-limit)"
        )


# MOST_SIZE (eegprep.base.bounds): the largest size :func:`parse_size` takes, 1 PiB (``10**30``
# overflowed float to an internal error; no machine has more to give one file).


def parse_size(text: str | int) -> int:
    """Bytes from ``'2G'``, ``'512M'``, ``'1.5GiB'``, ``'4096'`` (binary units: K = 1024),
    written in ASCII digits.

    Raises :class:`~eegprep.base.errors.UsageError` for anything else, a size that is not
    positive, or one above :data:`MOST_SIZE`.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        size = r"\s*([0-9]{1,40}(?:\.[0-9]{0,40})?)\s*([KMGT]?)(?:i?B)?\s*"  # (ASCII: not ５)
        hit = re.fullmatch(size, str(text), re.IGNORECASE)
        if hit is None:
            raise UsageError(
                f"Invalid size {str(text)[:40]!r}: expected a number with an optional unit K, M, "
                "G or T (e.g. 512M, 2G)."
            )
        value = int(float(hit.group(1)) * _UNITS[hit.group(2).upper()])
    if value <= 0:
        raise UsageError(f"Invalid size {str(text)[:40]!r}: expected more than 0 bytes.")
    if value > MOST_SIZE:
        shown = str(text)[:40]
        raise UsageError(f"Invalid size {shown!r}: expected at most 1 PiB ({MOST_SIZE} bytes).")
    return value


def format_bytes(n_bytes: float) -> str:
    """``'1.5 GiB'``, ``'512 MiB'``, ``'12 KiB'``, ``'300 B'``."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= factor:
            return f"{n_bytes / factor:.3g} {unit}"
    return f"{int(n_bytes)} B"
