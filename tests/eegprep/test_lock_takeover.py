"""Writers racing for an object store's lock: at most one ever holds it.

The lock object is created with an exclusive put; but taking over a *stale* lock (its process
gone, on this host) was a check, then a delete and a put: two ingests that judged the same
stale lock at once could both take it, the second deleting the lock the first had just made.
A takeover is now claimed first, by an exclusive put of an object named after the stale lock's
bytes (``_eegprep/lock.takeover-*``): one writer wins the claim, checks that the lock is still
the one it judged, and replaces it; the others are refused.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import StoreLockedError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.lock_file import LOCK
from eegprep.store.writer import StoreWriter
from tests.eegprep.test_remote_store import s3  # noqa: F401 (the fixture)

GONE = 2**31 - 2  # a process id no process has (beyond every pid_max)


def _lock_bytes(kind: str, n: int) -> bytes | None:
    """What the lock object holds at a round's start: a stale lock (its process gone, on this
    host; distinct bytes each round), a damaged one (a kill cut it short), or none."""
    if kind == "stale":
        return json.dumps({"host": socket.gethostname(), "pid": GONE, "since": float(n)}).encode()
    if kind == "damaged":
        return b'{"host": "' + str(n).encode()
    return None


def _reset(loc: Location, kind: str, n: int) -> None:
    for name in loc.list("_eegprep"):
        if name.startswith("lock"):
            loc.remove("_eegprep", name)
    blob = _lock_bytes(kind, n)
    if blob is not None:
        loc.write_bytes(blob, *LOCK)


def _attempt(url: str) -> bytes | None:
    """Take the lock as an ingest does; what this writer put there, or None when refused."""
    writer = StoreWriter(url, Recipe())
    try:
        writer._lock()
    except StoreLockedError:
        return None
    time.sleep(0.005)  # a holder that lost its lock to a second taker finds it replaced
    return writer.loc.read_bytes(*LOCK)


KINDS = ("stale", "damaged", "none")


def _thread_race(url: str, rounds: int) -> None:
    """``rounds`` rounds of 3 threads taking the lock at once (stale, damaged, none: in turn)."""
    loc = Location.parse(url)
    winners = {kind: 0 for kind in KINDS}
    try:
        for n in range(rounds):
            kind = KINDS[n % 3]
            _reset(loc, kind, n)
            barrier = threading.Barrier(3)
            held: list[bytes] = []

            def run(held: list[bytes] = held, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                got = _attempt(url)
                if got is not None:
                    held.append(got)

            threads = [threading.Thread(target=run) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(held) <= 1, (n, kind, held)
            winners[kind] += len(held)
            if held:  # the holder's own lock is the one in the store, and no claim is left
                assert loc.read_bytes(*LOCK) == held[0]
                assert [n for n in loc.list("_eegprep") if n.startswith("lock")] == ["lock"]
    finally:
        loc.fs.rm(loc.root, recursive=True)
    assert all(count >= rounds // 4 for count in winners.values()), winners  # someone takes it


def test_threads_racing_for_a_memory_stores_lock_never_both_hold_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fsspec.implementations.memory import MemoryFileSystem

    for name in ("cat_file", "pipe_file", "rm", "exists", "ls"):  # widen every window
        real = getattr(MemoryFileSystem, name)

        def slowed(self: Any, *args: Any, _real: Any = real, **kw: Any) -> Any:
            time.sleep(random.random() * 0.002)
            return _real(self, *args, **kw)

        monkeypatch.setattr(MemoryFileSystem, name, slowed)
    _thread_race("memory://lock-race/s.zarr", 120)


@pytest.mark.slow  # over 5 s on two cores
def test_threads_racing_for_an_s3_stores_lock_never_both_hold_it(
    request: pytest.FixtureRequest,
) -> None:
    """S3 (moto's server on loopback): the exclusive put is ``If-None-Match: *``."""
    import fsspec

    url = request.getfixturevalue("s3") + "/race.zarr"
    fsspec.get_filesystem_class("s3").clear_instance_cache()  # (one made for another server)
    _thread_race(url, 30)


def _process(url: str, rounds: int, barrier: Any, results: Any) -> None:
    for n in range(rounds):
        barrier.wait()  # the lock is set for round n
        results.put((n, _attempt(url)))
        barrier.wait()  # every attempt of round n done


def test_processes_racing_for_a_local_fsspec_stores_lock_never_both_hold_it(
    tmp_path: Path,
) -> None:
    """Through fsspec's local file system (``local://``: a folder as an object store), where
    the exclusive put is a hard link of a complete temporary file (``link`` fails when the
    name exists, in one system call)."""
    (tmp_path / "s.zarr" / "_eegprep").mkdir(parents=True)  # (fsspec's local puts make none)
    url = f"local://{tmp_path / 's.zarr'}"
    loc = Location.parse(url)
    ctx = multiprocessing.get_context("fork")
    rounds, n_proc = 45, 3
    barrier, results = ctx.Barrier(n_proc + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_process, args=(url, rounds, barrier, results)) for _ in range(n_proc)
    ]
    _reset(loc, KINDS[0], 0)
    for p in procs:
        p.start()
    try:
        taken = 0
        for n in range(rounds):
            barrier.wait(timeout=60)
            barrier.wait(timeout=60)
            held = [blob for _ in range(n_proc) for m, blob in [results.get(timeout=60)] if blob]
            assert len(held) <= 1, (n, KINDS[n % 3], held)
            if held:
                assert loc.read_bytes(*LOCK) == held[0]
                assert not [x for x in loc.list("_eegprep") if x.startswith("lock.")]
            taken += len(held)
            if n + 1 < rounds:
                _reset(loc, KINDS[(n + 1) % 3], n + 1)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert taken >= rounds * 2 // 3, taken
    assert all(p.exitcode == 0 for p in procs)


def _claim(loc: Location, stale: bytes, holder: dict[str, Any]) -> None:
    name = "lock.takeover-" + hashlib.sha256(stale).hexdigest()[:16]
    loc.write_bytes(json.dumps(holder).encode(), "_eegprep", name)


def test_a_takeover_claimed_by_a_live_ingest_is_refused() -> None:
    url = "memory://lock-claims/live.zarr"
    loc = Location.parse(url)
    try:
        _reset(loc, "stale", 1)
        me = {"host": socket.gethostname(), "pid": __import__("os").getpid(), "since": time.time()}
        _claim(loc, _lock_bytes("stale", 1) or b"", me)
        with pytest.raises(StoreLockedError, match=r"another ingest \(pid \d+ on .*\) is taking"):
            StoreWriter(url, Recipe())._lock()
        assert loc.read_bytes(*LOCK) == _lock_bytes("stale", 1)  # untouched
    finally:
        loc.fs.rm(loc.root, recursive=True)


def test_a_takeover_claimed_by_an_ingest_that_died_is_taken_over() -> None:
    """A claim left by a process killed in the middle of its takeover blocked no one for
    good: its own claim is claimed (the same exclusive put, one level up)."""
    url = "memory://lock-claims/dead.zarr"
    loc = Location.parse(url)
    try:
        _reset(loc, "stale", 2)
        dead = {"host": socket.gethostname(), "pid": GONE, "since": 5.0}
        _claim(loc, _lock_bytes("stale", 2) or b"", dead)
        writer = StoreWriter(url, Recipe())
        writer._lock()
        assert json.loads(loc.read_bytes(*LOCK))["pid"] == __import__("os").getpid()
        assert [n for n in loc.list("_eegprep") if n.startswith("lock")] == ["lock"]
    finally:
        loc.fs.rm(loc.root, recursive=True)


def test_claims_left_by_killed_ingests_are_swept_by_the_next_holder() -> None:
    url = "memory://lock-claims/left.zarr"
    loc = Location.parse(url)
    try:
        _reset(loc, "none", 0)
        dead = {"host": socket.gethostname(), "pid": GONE, "since": 5.0}
        _claim(loc, b"a lock long gone", dead)
        StoreWriter(url, Recipe())._lock()
        assert [n for n in loc.list("_eegprep") if n.startswith("lock")] == ["lock"]
    finally:
        loc.fs.rm(loc.root, recursive=True)


@pytest.mark.parametrize("backend", ["local", "fsspec"])
def test_removing_what_another_process_just_removed_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """Two writers sweeping the same takeover claims: the second one's delete finds the object
    gone after its check said it was there. That is the end ``remove`` wants, not an error (it
    was a ``FileNotFoundError`` out of the ingest, found by the racing test above)."""
    import os

    url = str(tmp_path / "s.zarr") if backend == "local" else f"local://{tmp_path / 's.zarr'}"
    loc = Location.parse(url)
    (tmp_path / "s.zarr" / "_eegprep").mkdir(parents=True)
    loc.write_bytes(b"claim", "_eegprep", "lock.takeover-x")
    target = loc.path("_eegprep", "lock.takeover-x")
    if loc.local:
        real_unlink = os.unlink

        def unlink_gone(path: Any, *a: Any, **k: Any) -> None:
            real_unlink(path)  # the other process was first
            real_unlink(path)

        monkeypatch.setattr(os, "unlink", unlink_gone)
    else:
        real_rm = loc.fs.rm

        def rm_gone(path: Any, *a: Any, **k: Any) -> None:
            real_rm(path, *a, **k)
            real_rm(path, *a, **k)

        monkeypatch.setattr(loc.fs, "rm", rm_gone)
    loc.remove("_eegprep", "lock.takeover-x")
    monkeypatch.undo()
    assert not os.path.exists(target)
