"""A store's lock file, ``_eegprep/lock``: who it says holds it, and whether that holder is
gone.

The writer (:class:`eegprep.store.writer.StoreWriter`) takes the lock for an ingest and, when
another's is there, asks this module whether it may take it over; ``validate`` asks whether a
live ingest is writing the store beside it. The file holds ``{"host", "pid", "since", "token"}``
(the token, random, is its writer's own: threads share a pid; earlier versions wrote none) and,
on Linux, ``"start_ticks"`` and ``"boot_id"`` (:func:`own_start`), which tell the writer from a
reuse of its pid whatever the wall clock does.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import socket
import threading
import time
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreLockedError
from eegprep.base.files import TMP_MARK, discard, is_temporary_name, named_error
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
    ticks, boot = other.get("start_ticks"), other.get("boot_id")
    if type(ticks) is int and ticks >= 0 and isinstance(boot, str):
        holder["start_ticks"], holder["boot_id"] = ticks, boot
    return holder


def own_start() -> dict[str, Any]:
    """What tells this process from any other with its pid, whatever the wall clock does:
    ``{"start_ticks": its start in clock ticks since boot, "boot_id": the kernel's boot id}``
    (Linux, ``/proc``; empty elsewhere). A lock states it beside ``since``."""
    ticks, boot = _start_ticks(os.getpid()), _boot_id()
    return {} if ticks is None or boot is None else {"start_ticks": ticks, "boot_id": boot}


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
    if _same_process(lock, pid):
        return False  # the writer itself, however the clock was set since (own_start)
    started = _process_start(pid)
    since = lock.get("since")
    return started is not None and since is not None and started > since + PID_REUSE_SLACK


PID_REUSE_SLACK = 60.0
"""Seconds by which a process must have started after a lock's ``since`` to count as another
process that reuses the writer's pid (generous: the start time is computed from the boot time
in whole seconds, and the wall clock may have been set since)."""


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started, seconds since the epoch (Linux); None where unknown. The
    boot time it is counted from moves with the wall clock: a clock set forward makes every
    process look younger (:func:`_same_process` is immune)."""
    ticks = _start_ticks(pid)
    try:
        with open("/proc/stat", "rb") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        return None if ticks is None else btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return None


def _start_ticks(pid: int) -> int | None:
    """Process ``pid``'s start, in clock ticks since boot (field 22 of ``/proc/PID/stat``);
    None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat_line = fh.read()
        # the fields after the command name (in parentheses, which may hold anything)
        return int(stat_line[stat_line.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip() or None
    except (OSError, ValueError):
        return None


def _same_process(lock: dict[str, Any], pid: int) -> bool:
    """Whether the live process ``pid`` is the one that wrote ``lock``: it states this boot and
    the process's start in ticks since boot (:func:`own_start`), which no clock change alters.
    False when it cannot be told (a lock of an earlier version, another system): the caller
    judges by ``since`` then."""
    ticks = lock.get("start_ticks")
    return ticks is not None and lock.get("boot_id") == _boot_id() and _start_ticks(pid) == ticks


def ingest_running(loc: Location) -> bool:
    """Whether an ingest holds the store's lock now (a lock on another host counts; one whose
    process is gone, or a damaged one, does not). Its recording groups are not listed until it
    commits them: on an object store it writes them in place under ``recordings/``, and a
    local one renames each there just before listing it; the first of a corpus's is preceded by
    that corpus's folder, made a moment before its ``zarr.json`` is written in."""
    return live_holder(loc) is not None


def live_holder(loc: Location) -> dict[str, Any] | None:
    """Who holds the store's lock now (:func:`lock_holder`), when that ingest still runs
    (:func:`ingest_running`); None otherwise."""
    try:
        holder = lock_holder(loc.read_bytes(*LOCK))
    except (OSError, ValueError):
        return None
    return holder if holder is not None and not lock_is_stale(holder) else None


def creating(loc: Location) -> str | None:
    """The line for a store that a running ingest is creating now (it holds the lock, and has
    not yet written the root ``zarr.json``, which it writes last): readers and ``validate`` say
    that, not 'no eegprep store here' nor a missing root; None when no ingest holds it."""
    holder = live_holder(loc)
    if holder is None:
        return None
    return (
        f"{loc.named}: an ingest ({describe_holder(holder)}) is creating this store now; run "
        "the command again once it has finished"
    )


EXCLUSIVE_PUT = {"s3", "s3a", "memory", "file", "local"}
"""fsspec protocols on which :func:`put_new` creates an object only where none exists, in one
step: S3's ``If-None-Match: *`` (``pipe_file(..., mode="create")``, one request), the memory
file system (its check and write, made one step in this process) and fsspec's local file
system (a complete temporary file hard-linked to the name: ``link`` fails when the name
exists). fsspec does it for the others by a check, then a write: two writers can both pass
the check."""

_MEMORY_PUTS = threading.Lock()  # makes the memory file system's check-then-write one step

TAKEOVER = "lock.takeover-"
"""``_eegprep/lock.takeover-{16 hex digits}``: the claim to take over the lock object whose
bytes hash (SHA-256) to those digits, created by :func:`put_new` and holding its claimer, as
the lock does. One writer creates it; the others find it and give way (or, when its claimer is
gone, claim the claim: :func:`take_over_remote_lock`)."""


def put_new(loc: Location, parts: tuple[str, ...], data: bytes) -> bool:
    """Create the object ``parts`` of a store on an fsspec backend holding ``data``; False
    when it exists. In one step on the backends of :data:`EXCLUSIVE_PUT`, else fsspec's check
    then write. Either way the object is read back: a second writer that wrote its own in
    between (a backend without an exclusive put, an S3-compatible server that ignores
    ``If-None-Match``) is found, and this one gives way (False)."""
    path = loc.path(*parts)
    names = _protocols(loc)
    try:
        with loc.calling("write", *parts):  # (the service's error: which store file)
            if names & {"file", "local"}:
                link_new(path, data)
            elif "memory" in names:
                with _MEMORY_PUTS:
                    loc.fs.pipe_file(path, data, mode="create")
            else:
                loc.fs.pipe_file(path, data, mode="create")
    except FileExistsError:
        return False
    try:
        return loc.read_bytes(*parts) == data
    except FileNotFoundError:
        return False


def link_new(path: str, data: bytes) -> None:
    """Create the local file ``path`` holding ``data`` whole, or raise ``FileExistsError``.

    The bytes go to a temporary file beside ``path`` (its name, :data:`~eegprep.base.files.TMP_MARK`
    and 8 hex digits), flushed to the disk, which is then hard-linked to
    ``path`` (``link`` fails when the name exists) and unlinked. So ``path`` is never seen
    empty or part-written, whatever moment a kill lands at: before the link, only the
    temporary file is there (the next writer to hold the lock removes it); after it, the
    whole content. (A lock created with ``O_EXCL`` and then written left an empty file to a
    kill in between, which refused every ingest for 5 s as "taking the lock just now".) A
    temporary file removed under this writer (the sweep of a writer that took the lock
    first) is ``FileExistsError`` too. The temporary file is removed on every way out: after
    a failure (the error raised is the failure's), and after the link, where a removal that
    fails leaves it to the sweep of the lock's holder, and never fails the taking."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}{TMP_MARK}{secrets.token_hex(4)}"
    made = False  # (a name taken already, EEXIST at the open, is another's: left alone)
    try:
        try:
            with open(tmp, "xb") as fh:
                made = True
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # (a full disk, a file size limit: the kernel names no file)
            raise named_error(exc, path) from exc
        try:
            os.link(tmp, path)
        except FileNotFoundError:
            if os.path.exists(tmp):
                raise
            raise FileExistsError(errno.EEXIST, "taken while it was written", path) from None
        except OSError as exc:  # (EEXIST stays FileExistsError; the disk's names the lock)
            raise named_error(exc, path) from exc
    except BaseException:
        if made:
            discard(tmp)  # (the error to report is the one raised)
        raise
    # ``path`` is taken: a temporary the disk will not delete now does not undo that (raising
    # here left the lock, and its temporary, behind a writer that took itself for no holder);
    # the lock's holder sweeps its folder's temporaries next (StoreWriter, sweep_claims)
    discard(tmp)


def create_remote_lock(loc: Location, data: bytes) -> None:
    """Create the lock object of a store on an fsspec backend (not a local folder) holding
    ``data`` (:func:`put_new`), failing with :class:`StoreLockedError` when it exists."""
    if not put_new(loc, LOCK, data):
        raise _taken(loc)


def _taken(loc: Location) -> StoreLockedError:
    return StoreLockedError(
        f"{loc.named}: another ingest took the lock just now ({loc.shown(loc.path(*LOCK))}); "
        "wait for it, or run one ingest at a time"
    )


def take_over_remote_lock(loc: Location, seen: bytes, data: bytes) -> None:
    """Replace the lock object of a store on an fsspec backend, which held ``seen`` when it was
    judged stale (its process gone) or damaged, by one holding ``data``; or fail with
    :class:`StoreLockedError`, when another writer takes it over first or took the lock since.

    Judging, deleting and creating are three requests: two writers that judge the same stale
    lock at once would both delete it and create their own, the second deleting the first's.
    So a takeover is claimed first, by :func:`put_new` of ``lock.takeover-{digest of seen}``
    (:data:`TAKEOVER`), which one writer alone creates; it then checks that the lock still
    holds ``seen`` (or is gone) before it replaces it. A claim whose claimer is gone (a kill in
    the middle of a takeover) is claimed in turn, named after the claim's bytes, so that it
    blocks no one for good. The claims are deleted once the lock is taken: a writer that comes
    to one later finds the lock no longer holding what it judged, and gives way."""
    claims: list[tuple[str, ...]] = []  # passed on the way: gone claimers' (then ours)
    mine: tuple[str, ...] | None = None
    try:
        target = seen
        for _ in range(8):  # (each step past a claimer that is gone)
            claim: tuple[str, ...] = (
                "_eegprep",
                TAKEOVER + hashlib.sha256(target).hexdigest()[:16],
            )
            if put_new(loc, claim, data):
                mine = claim
                break
            try:
                other = loc.read_bytes(*claim)
            except FileNotFoundError:  # claimed and given back just now: the lock moved on
                raise _taken(loc) from None
            holder = lock_holder(other)
            if holder is not None and not lock_is_stale(holder):
                raise StoreLockedError(
                    f"{loc.named}: another ingest ({describe_holder(holder)}) is taking over "
                    f"the lock just now ({loc.shown(loc.path(*claim))}); wait for it"
                )
            claims.append(claim)
            target = other
        if mine is None:
            raise _taken(loc)
        try:
            now: bytes | None = loc.read_bytes(*LOCK)
        except FileNotFoundError:
            now = None
        if now is not None:
            if now != seen:  # another writer took it since it was judged
                raise _taken(loc)
            loc.remove(*LOCK)
        create_remote_lock(loc, data)
    finally:
        if mine is not None:
            loc.remove(*mine)
    for claim in claims:  # a gone claimer's; the lock is ours now (above)
        loc.remove(*claim)


def sweep_claims(loc: Location) -> None:
    """Delete the takeover claims that writers killed in the middle of one left in a store on
    an fsspec backend, and the temporary files of :func:`link_new` (the lock's or a claim's
    name, :data:`~eegprep.base.files.TMP_MARK` and 8 hex digits) that a kill before its link
    left on fsspec's local file system.
    Only the lock's holder calls it: a writer still taking over an older lock finds, once its
    claim is gone, a lock other than the one it judged, and gives way; one whose temporary file
    is removed under it gives way too (:func:`link_new`)."""
    for name in loc.list("_eegprep"):
        claim = name.startswith(TAKEOVER) and TMP_MARK not in name
        if claim or (name.startswith(LOCK[1]) and is_temporary_name(name)):
            loc.remove("_eegprep", name)


def _protocols(loc: Location) -> set[str]:
    protocol = loc.fs.protocol
    return {protocol} if isinstance(protocol, str) else set(protocol)


def exclusive_put(loc: Location) -> bool:
    """Whether ``loc``'s backend creates an object exclusively in one step (:func:`put_new`)."""
    return bool(_protocols(loc) & EXCLUSIVE_PUT)
