"""A process's peak resident memory since a moment it chooses, as Linux counts it.

``resource.getrusage(...).ru_maxrss`` cannot measure a fresh child process: Linux carries the
parent's high-water mark over its ``exec`` (the child's starts at the test process's size, 1.2
GB late in the suite), so a child's growth below that reads as 0 and one above it as too much.
``VmHWM`` in ``/proc/self/status`` is the high-water mark of this process's own memory, and
writing ``5`` to ``/proc/self/clear_refs`` sets it back to what is resident now.
"""

from __future__ import annotations


def _status_bytes(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # (kB)
    raise LookupError(f"{field} is not in /proc/self/status")


def start() -> int:
    """Set the high-water mark back to what is resident now (where the kernel allows it);
    returns the bytes resident now."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass  # then the mark holds this process's peak since its exec, imports included
    return _status_bytes("VmRSS")


def peak() -> int:
    """The most bytes resident since :func:`start` (or the process's start)."""
    return _status_bytes("VmHWM")
