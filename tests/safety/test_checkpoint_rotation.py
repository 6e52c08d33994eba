"""A checkpoint save over ``last.pt`` and ``previous.pt`` whose write, flush, link or rename
fails (``EIO``, ``ENOSPC``) at each of its calls in turn: ``last.pt`` and ``previous.pt`` are
each the file they were, or (once the new ``last.pt`` is in place) the checkpoint it replaced;
never a copy that pushed out an older one.

Found: the save renamed a hard link of ``last.pt`` over ``previous.pt`` before renaming the new
file in; a failed rename of the new ``last.pt`` (not its flush) then left ``previous.pt`` a copy
of ``last.pt``, and the checkpoint before it was gone. Where hard links are refused, ``last.pt``
itself was moved to ``previous.pt`` first: a failed rename left no ``last.pt`` at all, and
``--resume`` started the run again from step 0. The first save and the first rotation are
swept too (the rotation as it was fails them: a ``last.pt`` missing, or older than the one
before), and a failed save whose deletions fail as well leaves its temporary files to the
next save.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from eegprep.base.files import TMP_MARK
from labram.train.checkpoint import atomic_save
from tests.full_disk import snapshot, temporaries
from tests.io_faults import DELETE_OPS, OPS, failing_calls, nth


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


def _saved(folder: Path, n: int) -> None:
    """``n`` saves (steps 1..n) into a new ``folder``."""
    folder.mkdir()
    for step in range(1, n + 1):
        atomic_save(_ckpt(step), folder / "last.pt")


@pytest.mark.parametrize("n_saved", [0, 1, 2])
def test_a_save_failing_at_any_call_leaves_last_pt_the_newest_or_the_one_before(
    tmp_path: Path, n_saved: int
) -> None:
    """The first save (no ``last.pt`` yet), the first rotation (no ``previous.pt`` yet) and a
    later one, each failing at every call in turn (the write of the temporary file, its
    flush, the link of the kept one, the rename of the new ``last.pt``, the folder's flush,
    the rename over ``previous.pt``): ``last.pt`` loads and is the new checkpoint or the one
    before (absent only when there was none), ``previous.pt`` is never newer than the
    checkpoint ``last.pt`` replaced, no temporary file is left, and the next save rotates."""
    new = n_saved + 1
    (tmp_path / "count").mkdir()
    _saved(tmp_path / "count" / "run", n_saved)
    with failing_calls(lambda n, call: False, under=tmp_path / "count") as calls:
        atomic_save(_ckpt(new), tmp_path / "count" / "run" / "last.pt")
    for k, call in enumerate(list(calls), 1):
        folder = tmp_path / f"k{k}"
        _saved(folder, n_saved)
        with failing_calls(nth(k), under=folder), pytest.raises(OSError) as info:
            atomic_save(_ckpt(new), folder / "last.pt")
        assert Path(info.value.filename).name in ("last.pt", "previous.pt"), (call, info.value)
        assert not temporaries(folder), call
        last = _step(folder / "last.pt") if (folder / "last.pt").exists() else None
        assert last in (new, n_saved or None), call  # never older, never missing
        if (folder / "previous.pt").exists():
            assert last is not None and _step(folder / "previous.pt") < last, call
        atomic_save(_ckpt(new + 1), folder / "last.pt")
        assert _step(folder / "last.pt") == new + 1, call
        if last is None:
            assert not (folder / "previous.pt").exists(), call
        else:
            assert _step(folder / "previous.pt") == last, call


def test_a_save_whose_cleanup_fails_too_leaves_its_temporaries_to_the_next_save(
    tmp_path: Path,
) -> None:
    """A failing call and then every deletion refused (the disk failing on): the temporary
    files the failed save could not delete are removed by the next save that succeeds."""
    _two_saved(tmp_path / "count")
    with failing_calls(lambda n, call: False, under=tmp_path / "count") as calls:
        atomic_save(_ckpt(3), tmp_path / "count" / "last.pt")
    left = []  # the calls whose failed save left a temporary file
    for k, call in enumerate(list(calls), 1):
        folder = tmp_path / f"k{k}"
        before = _two_saved(folder)

        def fails(n: int, what: str, k: int = k) -> bool:
            return n == k or (n > k and what.split()[0] in DELETE_OPS)

        with failing_calls(fails, ops=(*OPS, *DELETE_OPS), under=folder), pytest.raises(OSError):
            atomic_save(_ckpt(3), folder / "last.pt")
        assert _step(folder / "last.pt") in (2, 3), call
        left += [call] if temporaries(folder) else []
        if _step(folder / "last.pt") == 2:
            assert {n: b for n, b in snapshot(folder).items() if TMP_MARK not in n} == before
        atomic_save(_ckpt(4), folder / "last.pt")
        assert not temporaries(folder), call
        assert _step(folder / "last.pt") == 4, call
    assert left, "no failed save left a temporary file: the sweep was never tested"
