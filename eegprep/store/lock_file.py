"""A store's lock file, ``_eegprep/lock``: who it says holds it, and whether that holder is
gone.

The writer (:class:`eegprep.store.writer.StoreWriter`) takes the lock for an ingest and, when
another's is there, asks this module whether it may take it over; ``validate`` asks whether a
live ingest is writing the store beside it. The file holds ``{"host", "pid", "since"}``.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreLockedError
from eegprep.store.fs import Location

LOCK = ("_eegprep", "lock")
"""The lock file, from the store's root."""


def lock_holder(data: bytes) -> dict[str, Any] | None:
    """Who holds the lock, as its file says: ``{"host": str, "pid": int, "since": float}``;
    None when the file is empty or damaged (cut short by a kill, a flipped bit): a ``host``
    that is not text, a ``pid`` that is not a positive process id. A ``since`` that is not a
    plausible time is left out (it only decorates the message)."""
    try:
        other = strict_json.loads(data)
    except ValueError:
        return None
    if not isinstance(other, dict):
        return None
    host, pid, since = other.get("host"), other.get("pid"), other.get("since")
    if not isinstance(host, str) or type(pid) is not int or not 0 < pid < 2**31:
        return None
    holder: dict[str, Any] = {"host": host, "pid": pid}
    if isinstance(since, int | float) and not isinstance(since, bool) and 0 <= since < 2**31:
        holder["since"] = float(since)
    return holder


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 123 on host, since 2026-12-02 14:57:56`` (the time when the lock states one)."""
    text = f"pid {holder['pid']} on {holder['host']}"
    if "since" in holder:
        text += ", since " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["since"]))
    return text


def lock_is_stale(lock: dict[str, Any], *, flocked: bool = False) -> bool:
    """A lock held by a process on this host that no longer runs (``lock`` from
    :func:`lock_holder`).

    A process id is reused once its process is gone (soon, in a container restarted with the
    same host name), so a live process with the lock's pid is not proof: with ``flocked``
    (this process holds the store's ``flock``, which every writer on this host holds for its
    life) no writer on this host runs; otherwise a process that started after the lock was
    taken is not its writer (Linux, from ``/proc``)."""
    if lock.get("host") != socket.gethostname():
        return False
    pid = lock.get("pid", 0)
    if type(pid) is not int or not 0 < pid < 2**31:
        return True
    if flocked:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = _process_start(pid)
    since = lock.get("since")
    return started is not None and since is not None and started > since + PID_REUSE_SLACK


PID_REUSE_SLACK = 60.0
"""Seconds by which a process must have started after a lock's ``since`` to count as another
process that reuses the writer's pid (generous: the start time is computed from the boot time
in whole seconds, and the wall clock may have been set since)."""


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started, seconds since the epoch (Linux); None where unknown."""
    try:
        with open("/proc/stat", "rb") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat_line = fh.read()
        # the fields after the command name (in parentheses, which may hold anything)
        fields = stat_line[stat_line.rindex(b")") + 2 :].split()
        ticks = int(fields[19])  # field 22 of proc(5): starttime, in clock ticks since boot
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return None


def ingest_running(loc: Location) -> bool:
    """Whether an ingest holds the store's lock now (a lock on another host counts; one whose
    process is gone, or a damaged one, does not). Its recording groups are not listed until it
    commits them: on an object store it writes them in place under ``recordings/``, and a
    local one renames each there just before listing it."""
    try:
        holder = lock_holder(loc.read_bytes(*LOCK))
    except (OSError, ValueError):
        return False
    return holder is not None and not lock_is_stale(holder)


EXCLUSIVE_PUT = {"s3", "s3a", "memory"}
"""fsspec protocols whose ``pipe_file(..., mode="create")`` fails when the object exists,
in one request (S3's ``If-None-Match: *``; the memory file system, in one process). fsspec
does it for the others by a check, then a write: two writers can both pass the check."""


def create_remote_lock(loc: Location, data: bytes) -> None:
    """Create the lock object of a store on an fsspec backend (not a local folder) holding
    ``data``, failing with :class:`StoreLockedError` when it exists: an exclusive put where the
    backend has one (:data:`EXCLUSIVE_PUT`), else fsspec's check then write. Either way the
    object is read back: a second writer that wrote its own in between (a backend without an
    exclusive put, an S3-compatible server that ignores ``If-None-Match``) is found, and this
    one gives way."""
    path = loc.path(*LOCK)
    taken = StoreLockedError(
        f"{loc.display}: another ingest took the lock just now ({loc.shown(path)}); wait for "
        "it, or run one ingest at a time"
    )
    try:
        loc.fs.pipe_file(path, data, mode="create")
    except FileExistsError:
        raise taken from None
    try:
        ours = loc.read_bytes(*LOCK) == data
    except FileNotFoundError:
        ours = False
    if not ours:
        raise taken


def exclusive_put(loc: Location) -> bool:
    """Whether ``loc``'s backend creates an object exclusively in one request."""
    protocol = loc.fs.protocol
    names = {protocol} if isinstance(protocol, str) else set(protocol)
    return bool(names & EXCLUSIVE_PUT)
