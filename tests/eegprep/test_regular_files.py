"""eegprep.base.regular_files: corpus files opened without waiting, checked through the open
descriptor, then read as usual."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular, regular_path, shown_as


def test_a_regular_file_is_handed_back_blocking(tmp_path: Path) -> None:
    """The descriptor is opened with ``O_NONBLOCK`` (a FIFO's open must not wait) and handed
    back without it: a reader's later reads behave as a plain ``open``'s."""
    path = tmp_path / "a.txt"
    path.write_text("first\nsecond\n", encoding="utf-8")
    with open_regular(str(path)) as raw:
        assert not fcntl.fcntl(raw.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
        assert raw.read() == b"first\nsecond\n"
    with open_regular(str(path), buffering=-1) as fh:
        assert fh.readline() == b"first\n"
    with open_regular(str(path), "r", encoding="utf-8", newline="") as text:
        assert text.read().splitlines() == ["first", "second"]


def test_what_is_no_regular_file_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f")
    for opening in (lambda p: open_regular(p), lambda p: regular_path(p).__enter__()):
        with pytest.raises(SourceError, match="a FIFO, not a file"):
            opening(str(tmp_path / "f"))
        with pytest.raises(SourceError, match="a folder, not a file"):
            opening(str(tmp_path))
    with pytest.raises(ValueError, match="mode 'rb' or 'r'"):
        open_regular(str(tmp_path / "f"), "wb")  # type: ignore[call-overload]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd here")
def test_a_library_opening_by_name_opens_the_file_checked(tmp_path: Path) -> None:
    """The name is the checked descriptor's (``/proc/self/fd/N``): the file it opens is the
    one checked, whatever the path names by then (here: a FIFO)."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"checked")
    with regular_path(str(path)) as name:
        assert name.startswith("/proc/self/fd/")
        path.unlink()
        os.mkfifo(path)
        with open(name, "rb") as fh:  # (a FIFO's open would wait here)
            assert fh.read() == b"checked"
    assert shown_as(f"{name}: bad header", name, str(path)) == f"{path}: bad header"
