"""eegprep/base/held_leftovers.py: the held folders a killed process left are removed by the
next ingest, and nothing else is. Before, a SIGKILLed ingest (or pool worker) left its
``eegprep-held-*`` folders in ``/dev/shm`` until the machine restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import eegprep.base.held_files as held_files
from eegprep.base import held_leftovers
from eegprep.base.held_leftovers import PREFIX, folder_prefix, start_time, sweep
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.fixtures.tuh import write_tusz
from tests.stat_results import with_device

pytestmark = pytest.mark.skipif(not held_files.supported(), reason="no /proc on this system")

_HOLDER = """
import os, sys, time
import eegprep.base.held_files as held_files

root, source, outside, name = sys.argv[1:]
with open("/proc/self/comm", "w") as fh:
    fh.write(name)  # a process name holding ") " (field 2 of /proc/PID/stat)
held_files._root = lambda: root
held = held_files.HeldFiles()
held.link(source, "r.eeg")
os.symlink(outside, os.path.join(held.folder, "outside"))
print(held.folder, flush=True)
time.sleep(120)
"""


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Held folders made, and swept, in ``tmp_path/shm`` and ``tmp_path/tmp`` only."""
    shm, tmp = tmp_path / "shm", tmp_path / "tmp"
    shm.mkdir()
    tmp.mkdir()
    monkeypatch.setattr(held_files, "_root", lambda: str(shm))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield shm


def _holder(shm: Path, tmp_path: Path, name: str) -> tuple[subprocess.Popen[str], Path]:
    """A process holding a held folder in ``shm`` (a file linked, and a link out): it and the
    folder."""
    (tmp_path / "r.eeg").write_bytes(b"samples")
    code = textwrap.dedent(_HOLDER)
    args = [str(shm), str(tmp_path / "r.eeg"), str(tmp_path / "outside"), name]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    assert folder.parent == shm and folder.is_dir()
    return proc, folder


def test_the_next_ingest_removes_a_killed_process_s_folder_and_nothing_else(
    tmp_path: Path, roots: Path
) -> None:
    shm = roots
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours")
    killed, dead = _holder(shm, tmp_path, "a) b (c")
    live, alive = _holder(shm, tmp_path, "live")
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.communicate(timeout=60)
        assert dead.is_dir()  # what a kill leaves
        ns, pid, start = folder_prefix()[len(PREFIX) :].split("-")[:3]
        reused = shm / f"{PREFIX}{ns}-{pid}-{int(start) + 1}-abcd1234"  # this pid, another start
        others = [shm / f"{PREFIX}x1y2z3w4", shm / f"{PREFIX}{ns}-{pid}-{start}-abcd1234"]
        others += [shm / f"{PREFIX}1-{killed.pid}-1-abcd1234", shm / "other-folder"]
        for folder in [reused, *others]:
            folder.mkdir()
            (folder / "f").write_text("x")
        linked = shm / f"{PREFIX}{ns}-{killed.pid}-1-abcd1234"  # a link named as a dead one's
        linked.symlink_to(outside)

        src = write_tusz(tmp_path / "corpus")
        cfg = IngestConfig(workers=0, progress=False)
        assert ingest("tusz", src=src, out=tmp_path / "s.zarr", config=cfg).n_ingested == 3

        assert not os.path.lexists(dead) and not reused.exists()
        assert os.readlink(alive / "r.eeg").startswith("/proc/self/fd/")  # alive: kept whole
        assert all((folder / "f").read_text() == "x" for folder in others)  # other names
        assert linked.is_symlink() and (outside / "keep.txt").read_text() == "not ours"
    finally:
        live.kill()
        live.communicate(timeout=60)


def test_a_folder_of_another_user_is_left(roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns, _, _ = folder_prefix()[len(PREFIX) :].split("-")[:3]
    folder = roots / f"{PREFIX}{ns}-{2**22 + 7}-1-abcd1234"  # no such pid (pid_max 2**22)
    folder.mkdir()
    monkeypatch.setattr(held_leftovers.os, "getuid", lambda: os.geteuid() + 1)
    assert sweep([str(roots)]) == [] and folder.is_dir()
    monkeypatch.undo()
    assert sweep([str(roots)]) == [str(folder)] and not folder.exists()


def test_a_held_folder_is_named_after_its_process(roots: Path) -> None:
    with held_files.HeldFiles() as held:
        assert os.path.basename(held.folder).startswith(folder_prefix())
        assert held_files.sweep_left() == [] and os.path.isdir(held.folder)  # alive: kept
    assert folder_prefix().split("-")[-2] == start_time(os.getpid()) == start_time("self")
    assert start_time(2**22 + 7) is None


def test_a_folder_of_a_namespace_differing_only_in_its_device_is_left(
    roots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pid namespaces are one when the device and the inode of ``/proc/self/ns/pid`` are
    (namespaces(7)): a folder whose maker's namespace has this one's inode on another device
    names a process this one cannot see. It was taken as this namespace's, its pid as gone,
    and removed."""
    real_stat = os.stat

    def other_device(path: object, *args: object, **kwargs: object) -> os.stat_result:
        st = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if path != "/proc/self/ns/pid":
            return st
        return with_device(st, st.st_dev + 1)

    with monkeypatch.context() as m:
        m.setattr(held_leftovers, "_PREFIXES", {})
        m.setattr(held_leftovers.os, "stat", other_device)
        theirs = folder_prefix()  # a process of that other namespace names its folders so
    ours = folder_prefix()
    gone = 2**22 + 7  # no such pid here (pid_max 2**22)

    def made_by_a_gone_process(prefix: str) -> Path:
        ns, _pid, start = prefix[len(PREFIX) :].split("-")[:3]
        folder = roots / f"{PREFIX}{ns}-{gone}-{start}-abcd1234"
        folder.mkdir()
        return folder

    theirs_left = made_by_a_gone_process(theirs)
    assert sweep([str(roots)]) == [] and theirs_left.is_dir()
    ours_left = made_by_a_gone_process(ours)  # this namespace's: swept
    assert sweep([str(roots)]) == [str(ours_left)] and theirs_left.is_dir()
