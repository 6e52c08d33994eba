"""Promise: a kill at any moment of taking a store's lock never leaves an empty or part-written
lock under its name; an immediate re-run takes the lock and goes on.

A child process opens a :class:`StoreWriter` and SIGKILLs itself just before its k-th file
system call inside the store while it takes the lock (an audit hook sees every ``open``, the
``open`` of a descriptor included, ``link``, ``rename``, ``remove`` and ``mkdir``), or just
after the lock is taken. The lock was created empty with ``O_EXCL`` and written after: a kill
in between left an empty file, and every ingest within the next 5 s was refused as "another
ingest is taking the lock just now" (the grace for writers on other hosts, whose content may
not be visible yet)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eegprep.base.files import TMP_MARK
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter

REPO = Path(__file__).resolve().parents[2]

_CHILD = r"""
import os, signal, sys
from eegprep.pipeline.recipe import Recipe
from eegprep.store import writer

STORE, AT = os.path.abspath(sys.argv[1].removeprefix("local://")), int(sys.argv[2])
count, active = [0], [False]
EVENTS = {"open": 1, "os.link": 2, "os.rename": 2, "os.remove": 1, "os.mkdir": 1}

def name(p):
    if isinstance(p, int):
        try:
            return os.readlink(f"/proc/self/fd/{p}")
        except OSError:
            return ""
    try:
        return os.path.abspath(os.fsdecode(p))
    except TypeError:
        return ""

def hook(event, args):
    if not active[0] or event not in EVENTS:
        return
    active[0] = False  # (the hook's own calls are not counted)
    try:
        names = [name(p) for p in args[: EVENTS[event]]]
        if any(n == STORE or n.startswith(STORE + "/") for n in names):
            count[0] += 1
            if count[0] == AT:
                os.kill(os.getpid(), signal.SIGKILL)
    finally:
        active[0] = True

sys.addaudithook(hook)
real = writer.StoreWriter._lock

def _lock(self):
    active[0] = True
    try:
        real(self)
    finally:
        active[0] = False
    if AT == count[0] + 1:  # the lock taken, nothing after it done
        os.kill(os.getpid(), signal.SIGKILL)

writer.StoreWriter._lock = _lock
w = writer.StoreWriter(sys.argv[1], Recipe())
w.open()
print(count[0] + 1, flush=True)
os._exit(0)
"""


def _child(url: str, at: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(at)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )  # fmt: skip


def _kill_points(url: str) -> int:
    """How many kill points taking the lock has (the calls inside the store, and after)."""
    done = _child(url, 0)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.mark.parametrize("kind", ["new", "existing", "fsspec-local"])
def test_a_kill_at_every_step_of_taking_the_lock_then_an_immediate_rerun(
    tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "s.zarr"
    url = f"local://{out}" if kind == "fsspec-local" else str(out)
    if kind != "new":
        with StoreWriter(url, Recipe()):
            pass
    n = _kill_points(url)
    with StoreWriter(url, Recipe()):  # (the counting run's lock, left by os._exit)
        pass
    assert n >= 3
    for at in range(1, n + 1):
        killed = _child(url, at)
        assert killed.returncode == -9, (at, killed.stderr)
        lock = out / "_eegprep" / "lock"
        if lock.exists():  # whole, never empty or cut short
            assert lock.read_bytes().startswith(b"{") and lock.read_bytes().endswith(b"}"), at
        rerun = StoreWriter(url, Recipe())
        rerun.open()  # at once: within the 5 s granted to a lock being written
        rerun.close()
        assert not lock.exists(), at
        left = [p.name for p in (out / "_eegprep").iterdir() if TMP_MARK in p.name]
        assert left == [], (at, left)


def test_an_empty_lock_just_written_elsewhere_is_still_waited_for(tmp_path: Path) -> None:
    """The grace stays for a lock whose content is not there yet: another host's writer (on a
    shared file system) or an earlier version's, which created it empty first."""
    from eegprep.base.errors import StoreLockedError

    out = tmp_path / "s.zarr"
    with StoreWriter(str(out), Recipe()):
        pass
    (out / "_eegprep" / "lock").write_bytes(b"")
    with pytest.raises(StoreLockedError, match="taking the lock just now"):
        StoreWriter(str(out), Recipe()).open()
