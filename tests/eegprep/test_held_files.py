"""eegprep/base/held_files.py: names for a library of files opened without waiting and checked,
and what is left of them after (nothing)."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.base.held_files import HeldFiles, shown_name, supported

pytestmark = pytest.mark.skipif(not supported(), reason="no /proc/self/fd on this system")


def _fd(link: str) -> int:
    """The descriptor a name of a held folder links to."""
    return int(os.readlink(link).rsplit("/", 1)[1])


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_a_name_opens_the_file_checked_whatever_its_path_holds_later(tmp_path: Path) -> None:
    (tmp_path / "r.eeg").write_bytes(b"checked")
    (tmp_path / "other").write_bytes(b"swapped")
    with HeldFiles() as held:
        name = held.link(str(tmp_path / "r.eeg"), "d/r.eeg")
        os.replace(tmp_path / "other", tmp_path / "r.eeg")
        assert Path(name).read_bytes() == b"checked"
        assert stat.S_IMODE(os.stat(held.folder).st_mode) == 0o700
        assert held.shown(f"cannot read {name}") == f"cannot read {tmp_path / 'r.eeg'}"
        assert shown_name(name) == str(tmp_path / "r.eeg")


@pytest.mark.parametrize("kind", ["a FIFO", "a device"])
def test_what_is_no_regular_file_is_refused_without_waiting(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "r.eeg"
    if kind == "a FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with HeldFiles() as held, pytest.raises(SourceError, match=f"r.eeg: {kind}, not a file"):
        held.link(str(path), "r.eeg")


@pytest.mark.parametrize("fails", [False, True])
def test_the_block_leaves_no_folder_and_no_descriptor(tmp_path: Path, fails: bool) -> None:
    (tmp_path / "r.gdf").write_bytes(b"x")
    expected = pytest.raises(RuntimeError) if fails else contextlib.nullcontext()
    with expected, HeldFiles() as held:
        fd = _fd(held.link(str(tmp_path / "r.gdf"), "r.gdf"))
        held.write("r.vhdr", b"header", str(tmp_path / "r.vhdr"))
        if fails:
            raise RuntimeError("the library failed")
    assert not os.path.exists(held.folder) and not _is_open(fd)


def test_what_an_owner_keeps_goes_with_it(tmp_path: Path) -> None:
    """A lazy reader (MNE's Raw) keeps the folder and descriptors after the block, until it is
    garbage collected."""

    class Owner:
        pass

    (tmp_path / "r.fdt").write_bytes(b"x")
    owner = Owner()
    with HeldFiles() as held:
        name = held.link(str(tmp_path / "r.fdt"), "r.fdt")
        held.keep_with(owner)
    assert Path(name).read_bytes() == b"x"
    fd = _fd(name)
    del owner
    gc.collect()
    assert not os.path.exists(held.folder) and not _is_open(fd)


def test_a_process_stopped_by_sigterm_leaves_no_folder(tmp_path: Path) -> None:
    """The commands turn SIGTERM into an exception (``stop_on_signals``): what a lazy reader
    still held is removed as the process exits."""
    (tmp_path / "r.cnt").write_bytes(b"x")
    code = textwrap.dedent(
        f"""
        import sys, time
        from eegprep.base.held_files import HeldFiles
        from eegprep.cli_group import stop_on_signals

        class Owner:
            pass

        owner = Owner()
        with stop_on_signals():
            with HeldFiles() as held:
                held.link({str(tmp_path / "r.cnt")!r}, "r.cnt")
                held.keep_with(owner)
            print(held.folder, flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    folder = proc.stdout.readline().strip()
    assert os.path.isdir(folder)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert not os.path.exists(folder)


def test_a_full_held_folder_is_the_recordings_problem_not_a_full_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rewritten header that cannot be written in the held folder (``/dev/shm`` full) is
    the recording's one line, with no ``ENOSPC`` the ingest would take for its store's disk
    (which stops the whole ingest)."""
    import errno

    import eegprep.base.held_files as held_files

    real_open = os.open

    def full(path: str, flags: int, *args: object) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real_open(path, flags, *args)

    with HeldFiles() as held:
        monkeypatch.setattr(held_files.os, "open", full)
        with pytest.raises(SourceError, match="No space left on device") as caught:
            held.write("r.vhdr", b"header", str(tmp_path / "r.vhdr"))
    assert str(tmp_path / "r.vhdr") in str(caught.value)
    assert not isinstance(caught.value, OSError)


def test_a_held_folder_falls_back_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the memory folder cannot hold a new folder, the system's temporary folder does."""
    import tempfile

    import eegprep.base.held_files as held_files

    monkeypatch.setattr(held_files, "_root", lambda: str(tmp_path / "gone"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with HeldFiles() as held:
        assert os.path.dirname(held.folder) == str(tmp_path / "tmp")
    assert not os.listdir(tmp_path / "tmp")
