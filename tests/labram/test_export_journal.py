"""The journal of an export (labram.checkpoints.export_journal): what the next command does with
one a kill left, a damaged one, one naming other files, one it cannot complete here.

The kills themselves (a real SIGKILL at every write of `labram export`) are in
tests/safety/test_kill_during_export.py."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints import export_journal
from labram.checkpoints.export_journal import journal_path
from labram.checkpoints.layouts import convert_file, save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.export import export


class _Killed(BaseException):
    """A kill -9 at the first rename of the three files (nothing after it runs)."""


def _checkpoint(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    return path


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """An export over an earlier one, killed right after its journal is in place, made once
    for the module (four exports took 1 to 2 s a test): (its folder, old id, new id). Each
    test takes a copy (:func:`_killed_export`)."""
    root = tmp_path_factory.mktemp("killed")
    out = root / "out" / "m.safetensors"
    old_id = export(_checkpoint(root / "a.pt", 0), out)["export_id"]
    new = _checkpoint(root / "b.pt", 1)
    real = os.replace

    def replace(src: object, dst: object) -> None:
        if str(dst).endswith(".card.md"):
            raise _Killed
        real(src, dst)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(os, "replace", replace)
        with pytest.raises(_Killed):
            export(new, out, force=True)
    assert journal_path(out).exists()
    return root, old_id, export(new, root / "ref" / out.name)["export_id"]


def _killed_export(tmp_path: Path, killed: tuple[Path, str, str]) -> tuple[Path, str, str]:
    """A copy in ``tmp_path`` of the module's killed export (:func:`killed`): ``a.pt`` and
    ``b.pt``, the two checkpoints, and ``out/m.safetensors`` as the kill left it; returns
    (weights, old id, new id)."""
    root, old_id, new_id = killed
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return tmp_path / "out" / "m.safetensors", old_id, new_id


def _ids(out: Path) -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = read_checkpoint(out)["export_id"]
    return {weights, json.loads(out.with_suffix(".card.json").read_text())["export_id"]}


def test_a_reader_completes_the_export_and_says_so(
    tmp_path: Path, killed: tuple[Path, str, str]
) -> None:
    out, _, new_id = _killed_export(tmp_path, killed)
    with pytest.warns(UserWarning, match=r"m\.safetensors: completed an export that was"):
        assert read_checkpoint(out)["export_id"] == new_id
    assert not journal_path(out).exists() and _ids(out) == {new_id}


@pytest.mark.parametrize(
    "damage",
    [
        b"{not json",
        b'{"files": [["m.safetensors", "../elsewhere.tmp-0123abcd"]]}',  # outside the folder
        b'{"files": [["other.pt", "other.pt.tmp-0123abcd"]]}',  # not a file of this export
        b'{"files": [["m.safetensors", "m.card.md.tmp-0123abcd"]]}',  # another file's temporary
    ],
)
def test_a_damaged_journal_renames_nothing_and_export_force_replaces_it(
    tmp_path: Path, killed: tuple[Path, str, str], damage: bytes
) -> None:
    out, old_id, new_id = _killed_export(tmp_path, killed)
    journal_path(out).write_bytes(damage)
    before = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    with pytest.warns(UserWarning, match=r"m\.safetensors\.journal: damaged"):
        read_checkpoint(out)
    assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == before
    assert _ids(out) == {old_id}
    export(tmp_path / "b.pt", out, force=True)
    assert _ids(out) == {new_id}
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "m.card.json",
        "m.card.md",
        "m.safetensors",
    ]


def test_a_journal_that_cannot_be_completed_here_is_a_warning(
    tmp_path: Path, killed: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder held by another export for longer than the wait (or a read-only one): the
    reader says the export is unfinished and reads the files as they are."""
    out, _, new_id = _killed_export(tmp_path, killed)
    monkeypatch.setattr(export_journal, "LOCK_WAIT_S", 0.05)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.warns(UserWarning, match="was interrupted and cannot be completed here"):
            read_checkpoint(out)
        assert journal_path(out).exists()
    finally:
        os.close(fd)
    with pytest.warns(UserWarning, match="completed an export"):
        read_checkpoint(out)
    assert _ids(out) == {new_id} and not journal_path(out).exists()


def test_convert_completes_an_interrupted_export_before_writing_its_dst(
    tmp_path: Path, killed: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else the journal would later rename the export's files over what convert wrote."""
    from labram.checkpoints.layouts import load_ours, save_official

    out, _, _ = _killed_export(tmp_path, killed)
    released = tmp_path / "released.pt"
    save_official(load_ours(tmp_path / "a.pt"), released)
    with pytest.warns(UserWarning) as seen:
        convert_file(released, out, force=True)
    said = " ".join(str(w.message) for w in seen)  # (and the export's cards deleted with it)
    assert "completed an export" in said and "deleted its model cards" in said
    assert not journal_path(out).exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (nothing left to complete)
        assert "export_id" not in read_checkpoint(out)  # convert's file, not an export's


def _order(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[tuple[str, str]]:
    """Each rename into, flush of, and deletion in ``folder`` (renames and deletions by the
    name they touch, flushes by the path their descriptor names), in order."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, os.unlink

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        real_replace(src, dst, *a, **kw)
        events.append(("replace", os.path.basename(os.fspath(dst))))

    def unlink(path: Any, *a: Any, **kw: Any) -> None:
        real_unlink(path, *a, **kw)
        events.append(("unlink", os.path.basename(os.fspath(path))))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    return events


def _renames_flushed_before_the_journal_goes(events: list[tuple[str, str]], out: Path) -> None:
    gone = events.index(("unlink", journal_path(out).name))
    renamed = [i for i, e in enumerate(events[:gone]) if e[0] == "replace"]
    assert renamed, events
    flushed = [i for i, e in enumerate(events[:gone]) if e == ("fsync", str(out.parent))]
    assert flushed and flushed[-1] > renamed[-1], "the renames are not flushed before"


def test_an_export_flushes_its_renames_before_it_deletes_its_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut after the journal's deletion, with the renames not on the disk, left the
    weights of one export beside the cards of another, and no journal to complete it."""
    tmp = Path(os.path.realpath(tmp_path))
    out = tmp / "out" / "m.safetensors"
    export(_checkpoint(tmp / "a.pt", 0), out)
    new = _checkpoint(tmp / "b.pt", 1)
    events = _order(monkeypatch, out.parent)
    export(new, out, force=True)
    monkeypatch.undo()
    _renames_flushed_before_the_journal_goes(events, out)


def test_completing_a_journal_flushes_its_renames_before_deleting_it(
    tmp_path: Path, killed: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _old, _new = _killed_export(Path(os.path.realpath(tmp_path)), killed)
    events = _order(monkeypatch, out.parent)
    export_journal.finish(out, [p.name for p in (out, *export_journal.card_paths(out))])
    monkeypatch.undo()
    _renames_flushed_before_the_journal_goes(events, out)
