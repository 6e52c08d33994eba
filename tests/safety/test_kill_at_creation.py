"""Promise: a kill at any moment of creating a store is followed by a re-run that completes.

A kill is simulated exactly at every object write of the store's creation (and the lock), with
what a kill can leave behind: nothing of that object, a temporary file cut short, or an empty
lock file. A real SIGKILL is in tests/eegprep/test_crash_safety.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.store.fs import Location
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf


class Killed(BaseException):
    """What the process sees of SIGKILL: nothing after this point runs."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, n: int, leave_tmp: bool) -> None:
    real = Location.write_bytes
    calls = [0]

    def write_bytes(self: Location, data: bytes, *parts: str) -> None:
        calls[0] += 1
        if calls[0] == n:
            if leave_tmp:  # the temporary file the atomic write was filling
                target = Path(self.path(*parts))
                target.parent.mkdir(parents=True, exist_ok=True)
                (target.parent / f"{target.name}.tmp-deadbeef").write_bytes(data[: len(data) // 2])
            raise Killed
        real(self, data, *parts)

    monkeypatch.setattr(Location, "write_bytes", write_bytes)


def _as_if_the_process_died(out: Path) -> None:
    """The lock names this (live) test process: make it name a process that has exited."""
    import json
    import subprocess

    lock = out / "_eegprep" / "lock"
    if lock.exists():
        gone = subprocess.Popen(["true"])
        gone.wait()
        lock.write_text(json.dumps({**json.loads(lock.read_text()), "pid": gone.pid}))


@pytest.mark.parametrize("leave_tmp", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_kill_during_creation_is_completed_by_the_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, leave_tmp: bool
) -> None:
    src = tmp_path / "src"
    write_edf(src, "a.edf", seed=1)
    write_edf(src, "b.edf", seed=2)
    reference = tmp_path / "ref.zarr"
    ingest_folder(src, reference)
    out = tmp_path / "s.zarr"
    with monkeypatch.context() as m:
        _kill_at(m, n, leave_tmp)
        with pytest.raises(Killed):
            ingest_folder(src, out)
    assert out.is_dir() and not (out / "zarr.json").exists()
    _as_if_the_process_died(out)
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.failed) == (2, [])
    assert validate(str(out)) == (2, [])
    got, ref = open_store(out), open_store(reference)
    assert [r.id for r in got] == [r.id for r in ref]
    for r in ref:
        np.testing.assert_array_equal(got.read(r.id), ref.read(r.id))


def test_an_empty_lock_left_by_a_kill_is_stale(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    (out / "_eegprep").mkdir(parents=True)
    lock = out / "_eegprep" / "lock"
    lock.write_bytes(b"")
    import os

    os.utime(lock, (1, 1))  # written long ago
    assert ingest_folder(src, out).n_ingested == 1
    assert not lock.exists()


def test_a_foreign_folder_is_still_refused(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    (out / "recordings").mkdir(parents=True)
    (out / "recordings" / "zarr.json").write_text("{}")
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(StoreFormatError, match="not an eegprep store"):
        ingest_folder(src, out)
    assert (out / "thesis.tex").read_text() == "years of work"


def test_temporary_files_of_killed_writes_are_swept_by_the_next_run(tmp_path: Path) -> None:
    """A kill between an atomic write's temporary file and its rename leaves ``*.tmp-*``
    beside the index, the retired list, a report or a zarr.json (found by the SIGKILL test: an
    index segment's). The next ingest removes them: the store equals an uninterrupted one."""
    from tests.safety.corpus import files_under

    src = tmp_path / "src"
    write_edf(src, "a.edf", seed=1)
    write_edf(src, "b.edf", seed=2)
    reference, out = tmp_path / "ref.zarr", tmp_path / "s.zarr"
    ingest_folder(src, reference)
    ingest_folder(src, out)
    planted = [
        "_eegprep/index/0000000009.jsonl.tmp-3ef67012",
        "_eegprep/retired.json.tmp-00000001",
        "_eegprep/reports/r.json.tmp-00000002",
        "zarr.json.tmp-00000003",
        "recordings/zarr.json.tmp-00000004",
        "recordings/folder/zarr.json.tmp-00000005",
    ]
    for rel in planted:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b'{"half": ')
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.failed) == (0, [])  # nothing to do but sweep
    assert not any((out / rel).exists() for rel in planted)
    assert validate(str(out)) == (2, [])

    def without_reports(root: Path) -> dict[str, bytes]:
        return {k: v for k, v in files_under(root).items() if "/reports/" not in f"/{k}"}

    assert without_reports(out) == without_reports(reference)
