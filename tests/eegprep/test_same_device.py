"""Every decision that two names are one file (or one namespace) compares the device as well
as the inode: an inode number is unique only within its file system, and a path on another
mounted file system with the same inode number is another file. Each decision is fed a stat
result differing only in ``st_dev`` and must tell the two apart (the held folders' namespace:
``tests/eegprep/test_held_leftovers.py``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base import same_files, unchanged_reads
from eegprep.corpus import walk
from eegprep.store import own_flock
from tests.stat_results import with_device


def _on_another_device(
    monkeypatch: pytest.MonkeyPatch, module: Any, other: str
) -> Callable[..., os.stat_result]:
    """Make ``module``'s ``os.stat`` give ``other`` a device one above its real one (the
    inode and every other field as they are)."""
    real = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        st = real(path, *args, **kwargs)
        if os.fspath(path) != other:
            return st
        return with_device(st, st.st_dev + 1)

    monkeypatch.setattr(module.os, "stat", stat)
    return stat


def test_without_repeats_keeps_a_file_of_another_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").write_text("x")
    os.link(tmp_path / "a", tmp_path / "b")  # one inode, two names
    kept, dropped = same_files.without_repeats([str(tmp_path / "a"), str(tmp_path / "b")])
    assert len(kept) == 1 and len(dropped) == 1  # the same file: one kept
    _on_another_device(monkeypatch, same_files, str(tmp_path / "b"))
    kept, dropped = same_files.without_repeats([str(tmp_path / "a"), str(tmp_path / "b")])
    assert len(kept) == 2 and dropped == []


def test_the_corpus_walk_tells_folders_of_two_devices_apart(tmp_path: Path) -> None:
    st = os.stat(tmp_path)
    other = with_device(st, st.st_dev + 1)
    assert walk._identity(str(tmp_path), st) != walk._identity(str(tmp_path), other)


def test_a_lock_file_at_its_name_on_another_device_is_not_the_one_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lock.flock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        assert own_flock._still_named(str(path), fd)
        _on_another_device(monkeypatch, own_flock, str(path))
        assert not own_flock._still_named(str(path), fd)
    finally:
        os.close(fd)


def test_a_file_read_twice_is_changed_when_its_device_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    path.write_text("{}")
    before = unchanged_reads._named(path)
    _on_another_device(monkeypatch, unchanged_reads, str(path))
    assert unchanged_reads._moved(path, before)
