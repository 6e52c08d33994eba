"""The one exclusive-flock helper (eegprep/base/flocks.py): its three outcomes."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from eegprep.base.flocks import FlockOutcome, try_exclusive

fcntl = pytest.importorskip("fcntl")


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[list[int]]:
    """Descriptors a test opens, closed after it."""
    fds: list[int] = []
    yield fds
    for fd in fds:
        os.close(fd)


def _open(path: Path, fds: list[int]) -> int:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    fds.append(fd)
    return fd


def test_held_then_busy_for_a_second_descriptor_then_held_again_once_closed(
    tmp_path: Path, opened: list[int]
) -> None:
    path = tmp_path / "x.lock"
    first = _open(path, opened)
    assert try_exclusive(first) == FlockOutcome("held")
    second = _open(path, opened)
    assert try_exclusive(second) == FlockOutcome("busy")  # (another open: not waited for)
    opened.remove(first)
    os.close(first)  # closing releases it
    assert try_exclusive(second) == FlockOutcome("held")


def test_a_folder_is_locked_as_a_file_is(tmp_path: Path, opened: list[int]) -> None:
    one = os.open(tmp_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    two = os.open(tmp_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    opened += [one, two]
    assert try_exclusive(one).state == "held" and try_exclusive(two).state == "busy"


def test_a_file_system_without_flock_is_unsupported_with_its_reason(
    tmp_path: Path, opened: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(fd: int, op: int) -> None:  # what some network mounts answer
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", refused)
    got = try_exclusive(_open(tmp_path / "x.lock", opened))
    assert got == FlockOutcome("unsupported", os.strerror(errno.ENOLCK))


def test_no_flock_on_the_system_is_unsupported(
    tmp_path: Path, opened: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fcntl", None)  # (as on Windows: the import fails)
    got = try_exclusive(_open(tmp_path / "x.lock", opened))
    assert got.state == "unsupported" and got.reason.startswith("no flock on ")
