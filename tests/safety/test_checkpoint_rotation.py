"""A checkpoint save over ``last.pt`` and ``previous.pt`` whose write, flush, link or rename
fails (``EIO``, ``ENOSPC``) at each of its calls in turn: ``last.pt`` and ``previous.pt`` are
each the file they were, or (once the new ``last.pt`` is in place) the checkpoint it replaced;
never a copy that pushed out an older one.

Found: the save renamed a hard link of ``last.pt`` over ``previous.pt`` before renaming the new
file in; a failed rename of the new ``last.pt`` (not its flush) then left ``previous.pt`` a copy
of ``last.pt``, and the checkpoint before it was gone. Where hard links are refused, ``last.pt``
itself was moved to ``previous.pt`` first: a failed rename left no ``last.pt`` at all, and
``--resume`` started the run again from step 0.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from labram.train.checkpoint import atomic_save
from tests.full_disk import snapshot, temporaries
from tests.io_faults import OPS, failing_calls, nth


def _ckpt(step: int) -> dict[str, object]:
    return {"format": 1, "step": step, "model": {"w": torch.full((64, 64), float(step))}}


def _two_saved(folder: Path) -> dict[str, bytes]:
    """``last.pt`` (step 2) and ``previous.pt`` (step 1) in ``folder``: their bytes."""
    folder.mkdir()
    atomic_save(_ckpt(1), folder / "last.pt")
    atomic_save(_ckpt(2), folder / "last.pt")
    return snapshot(folder)


def _step(path: Path) -> int:
    return int(torch.load(path, weights_only=True)["step"])


def _count_calls(tmp_path: Path, ops: tuple[str, ...] = OPS) -> list[str]:
    _two_saved(tmp_path / "count")
    with failing_calls(lambda n, call: False, ops=ops) as calls:
        atomic_save(_ckpt(3), tmp_path / "count" / "last.pt")
    return list(calls)


def _check_after_a_failure(folder: Path, before: dict[str, bytes], call: str) -> None:
    """What a failed third save must leave: the two old files as they were, or the new
    ``last.pt`` with the old ``last.pt`` (or the ``previous.pt`` before it) as ``previous.pt``;
    no temporary file; and the next save works."""
    after = snapshot(folder)
    assert sorted(after) == ["last.pt", "previous.pt"], call
    last, prev = _step(folder / "last.pt"), _step(folder / "previous.pt")
    if last == 2:  # the new one is not in place: nothing changed
        assert after == before, call
    else:
        assert last == 3 and after["previous.pt"] in (before["last.pt"], before["previous.pt"])
        assert prev in (1, 2), call
    assert not temporaries(folder), call
    atomic_save(_ckpt(4), folder / "last.pt")
    assert (_step(folder / "last.pt"), _step(folder / "previous.pt")) == (4, last), call


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
def test_a_save_failing_at_any_call_keeps_the_last_two_checkpoints(
    tmp_path: Path, code: int
) -> None:
    calls = _count_calls(tmp_path)
    assert {op.split()[0] for op in calls} >= {"fsync", "replace", "link", "write"}, calls
    for k, call in enumerate(calls, 1):
        folder = tmp_path / f"k{k}"
        before = _two_saved(folder)
        with failing_calls(nth(k), code=code), pytest.raises(OSError) as info:
            atomic_save(_ckpt(3), folder / "last.pt")
        assert info.value.errno == code, call
        assert Path(info.value.filename).name in ("last.pt", "previous.pt"), (call, info.value)
        _check_after_a_failure(folder, before, call)


def test_a_failed_rename_of_the_new_last_pt_keeps_previous_pt(tmp_path: Path) -> None:
    """The rename of the new ``last.pt`` fails (not its flush): ``previous.pt`` was already a
    copy of the old ``last.pt``, the checkpoint before it lost."""
    before = _two_saved(tmp_path / "run")
    last = str(tmp_path / "run" / "last.pt")
    with (
        failing_calls(lambda n, call: call == f"replace {last}"),
        pytest.raises(OSError, match=r"last\.pt"),
    ):
        atomic_save(_ckpt(3), tmp_path / "run" / "last.pt")
    assert snapshot(tmp_path / "run") == before
    assert _step(tmp_path / "run" / "previous.pt") == 1


@pytest.mark.parametrize("op", ["replace", "fsync", "write"])
def test_where_hard_links_are_refused_a_failed_save_keeps_last_pt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    """No hard links (``EPERM``, as some file systems answer): ``last.pt`` was moved to
    ``previous.pt`` before the new one was renamed in, so a failed rename left no ``last.pt``
    for ``--resume``. Now ``previous.pt`` is a flushed copy, made before any final name
    changes; each failing call of that kind leaves a save to resume from."""
    import os

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    ops = tuple(o for o in OPS if o != "link")
    calls = _count_calls(tmp_path, ops)
    for k, call in enumerate(calls, 1):
        if not call.startswith(op):
            continue
        folder = tmp_path / f"k{k}"
        before = _two_saved(folder)
        with failing_calls(nth(k), ops=ops), pytest.raises(OSError):
            atomic_save(_ckpt(3), folder / "last.pt")
        _check_after_a_failure(folder, before, call)
