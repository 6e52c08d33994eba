"""A run's ``log.csv`` ends with a line break after every append, also after an append that
a failure or Ctrl-C cut in the middle, so that the next row (of this run, or of the run that
resumes it) never continues a part of one.

Found: an append interrupted between two writes (``KeyboardInterrupt``) was not cut back, and
a part of a row left at the end (an append whose cut back failed too) was continued by the
next append: the glued row fails its checksum, and ``--resume`` refused the whole log.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labram.train import runlog as runlog_module
from labram.train.runlog import RunLog, checked_rows

TODO = "restore it"


def _rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode()
    assert text.endswith("\n"), repr(text[-40:])
    return checked_rows(path, text, TODO)  # (every row matches its checksum)


def _log(path: Path, steps: range, **kwargs: Any) -> RunLog:
    log = RunLog(path, total=100, **kwargs)
    for step in steps:
        log.log({"step": step, "loss": 1.0 / step, "lr": 1e-3})
    return log


def _half_then(fail: BaseException) -> Callable[..., int]:
    """An ``os.write`` that writes half of what it is given, then raises ``fail`` at its
    next call."""
    real = os.write
    calls: list[int] = []

    def write(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 1:
            view = memoryview(data)
            return real(fd, view[: len(view) // 2])
        raise fail

    return write


@pytest.mark.parametrize(
    "fail", [KeyboardInterrupt(), OSError(errno.EIO, os.strerror(errno.EIO))], ids=["ctrl-c", "eio"]
)
def test_an_append_cut_in_the_middle_leaves_the_log_ending_with_a_line_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: BaseException
) -> None:
    path = tmp_path / "log.csv"
    log = _log(path, range(1, 4))
    with monkeypatch.context() as m:
        m.setattr(runlog_module.os, "write", _half_then(fail))
        with pytest.raises(type(fail)):
            log.log({"step": 4, "loss": 0.25, "lr": 1e-3})
    assert [int(r["step"]) for r in _rows(path)] == [1, 2, 3]
    log.log({"step": 5, "loss": 0.2, "lr": 1e-3})  # this run goes on: a whole row follows
    assert [int(r["step"]) for r in _rows(path)] == [1, 2, 3, 5]


@pytest.mark.parametrize("cut", ["5,0.2", "5,0.2,0.001,abc\r"])
def test_a_part_of_a_row_left_at_the_end_is_never_continued(tmp_path: Path, cut: str) -> None:
    """The part a kill (or an append whose cut back failed) left: the next append of the same
    run starts on a line of its own, and so does the first of a run that resumes."""
    path = tmp_path / "log.csv"
    log = _log(path, range(1, 5))
    with open(path, "ab") as fh:
        fh.write(cut.encode())
    log.log({"step": 5, "loss": 0.2, "lr": 1e-3})
    assert [int(r["step"]) for r in _rows(path)] == [1, 2, 3, 4, 5]
    with open(path, "ab") as fh:
        fh.write(cut.encode())
    resumed = _log(path, range(5, 7), resume_step=4)
    assert [int(r["step"]) for r in _rows(path)] == [1, 2, 3, 4, 5, 6]
    assert resumed.rows[-1]["step"] == 6
