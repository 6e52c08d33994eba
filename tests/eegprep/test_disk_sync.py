"""eegprep/base/disk_sync.py and the durable writes: the data flushed before its rename, the
folder after it (a rename not flushed could be undone by a power cut, the record of a file
written lost with it); a folder the system cannot flush is passed over, an I/O error is not."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from eegprep.base import disk_sync
from eegprep.base.files import write_atomically


def _record(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        real_replace(src, dst, *a, **kw)
        events.append(("replace", os.path.abspath(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.parametrize("scratch", [False, True])
def test_a_durable_write_flushes_the_file_then_renames_then_flushes_the_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch: bool
) -> None:
    folder = Path(os.path.realpath(tmp_path))
    target, spare = folder / "a" / "x.json", folder / "spare"
    events = _record(monkeypatch)
    write_atomically(target, b"{}", durable=True, scratch=spare if scratch else None)
    monkeypatch.undo()
    kinds = [kind for kind, _ in events]
    assert kinds[:2] == ["fsync", "replace"] and events[1][1] == str(target)
    flushed = {path for kind, path in events[2:] if kind == "fsync"}
    assert str(target.parent) in flushed
    assert (str(spare) in flushed) == scratch


def test_a_write_that_is_not_durable_flushes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _record(monkeypatch)
    write_atomically(tmp_path / "x", b"1")
    assert [kind for kind, _ in events] == ["replace"]


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOTSUP])
def test_a_folder_the_system_cannot_flush_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)
    disk_sync.sync_folder(tmp_path)


def test_an_io_error_flushing_a_folder_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="Input/output error"):
        disk_sync.sync_folder(tmp_path)


def test_sync_tree_flushes_every_file_then_the_folders_deepest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(os.path.realpath(tmp_path)) / "r"
    (root / "a" / "b").mkdir(parents=True)
    (root / "skip").mkdir()
    for rel in ("f", "a/g", "a/b/h", "skip/k"):
        (root / rel).write_bytes(b"x")
    os.mkfifo(root / "a" / "fifo")  # (never opened: it would wait for a writer)
    events = _record(monkeypatch)
    disk_sync.sync_tree(root, skip=["skip"])
    monkeypatch.undo()
    paths = [p for _, p in events]
    files = {str(root / r) for r in ("f", "a/g", "a/b/h")}
    assert set(paths[:3]) == files
    assert paths[3:] == [str(root / "a" / "b"), str(root / "a"), str(root)]


def test_sync_tree_fails_on_a_folder_it_cannot_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``os.walk`` passes over a folder it cannot list (an I/O error): its files were never
    flushed, and the recording group was listed as on the disk."""
    group = tmp_path / "g"
    (group / "data").mkdir(parents=True)
    (group / "data" / "c.0.0").write_bytes(b"x")
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if os.fspath(path).endswith("data"):
            raise OSError(errno.EIO, os.strerror(errno.EIO), os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(OSError) as info:
        disk_sync.sync_tree(group)
    assert info.value.errno == errno.EIO


def test_a_failed_flush_names_its_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's error names no file: an ingest skipped a recording with "cannot be moved
    into place: Input/output error", saying nothing of which file."""
    (tmp_path / "f").write_bytes(b"x")

    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", fsync)
    for flush, path in ((disk_sync.sync_file, tmp_path / "f"), (disk_sync.sync_folder, tmp_path)):
        with pytest.raises(OSError) as info:
            flush(path)
        assert info.value.errno == errno.EIO and info.value.filename == str(path)
