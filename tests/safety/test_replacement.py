"""Promise: re-ingesting a recording never pulls bytes from under a reader. The new version is
written beside the old one and switched in the index; a reader that opened the store before
keeps reading the old bytes until it reopens; old versions go only after ``keep_replaced``."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np

from eegprep import open_store
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf


def _touch(path: Path, seed: int) -> None:
    """New samples in the same file (so the recording is re-ingested): written in a later tick
    of the file clock than its stamps (write_edf), so its mtime is later too. (It was set
    ``seed`` seconds ahead as well: the next rewrite then waited those seconds for the clock to
    pass it, 36 s of the reader test's 4 rewrites.)"""
    write_edf(path.parent, path.name, seed=seed)


def test_a_reader_looping_through_reingests_never_fails(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for i in range(3):
        write_edf(src, f"r{i}.edf", seed=i)
    ingest_folder(src, out)
    first = open_store(out)
    old = {r.id: first.read(r.id) for r in first}
    errors: list[str] = []
    reads = [0]
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                for snapshot in (first, open_store(out)):
                    for rec in snapshot:
                        x = snapshot.read(rec.id)
                        assert x.shape == (rec.n_channels, rec.n_samples)
                        reads[0] += 1
                        if snapshot is first:
                            np.testing.assert_array_equal(x, old[rec.id])
            except Exception as exc:  # any failure at all is the defect
                errors.append(f"{type(exc).__name__}: {exc}")
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for k in range(1, 5):
            _touch(src / "r1.edf", seed=10 + k)
            rep = ingest_folder(src, out)
            assert (rep.n_ingested, rep.failed) == (1, [])
    finally:
        stop.set()
        thread.join(60)
    assert errors == [] and reads[0] > 0
    now = open_store(out)
    assert now.recording("folder/r1").group == "recordings/folder/r1@5"
    assert not np.array_equal(now.read("folder/r1"), old["folder/r1"])
    np.testing.assert_array_equal(now.read("folder/r0"), old["folder/r0"])
    # every replaced version is still there for readers holding an older index
    assert sorted(p.name for p in (out / "recordings" / "folder").iterdir() if p.is_dir()) == [
        "r0",
        "r1",
        "r1@2",
        "r1@3",
        "r1@4",
        "r1@5",
        "r2",
    ]
    assert validate(str(out)) == (3, [])


def test_replaced_versions_go_after_keep_replaced(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf", seed=1)
    ingest_folder(src, out)
    holder = open_store(out)
    _touch(src / "a.edf", seed=2)
    ingest_folder(src, out)
    assert (out / "recordings" / "folder" / "a").is_dir()  # kept: the default is a day
    ingest_folder(src, out, keep_replaced=0.0)  # nothing to ingest; expired versions go
    assert not (out / "recordings" / "folder" / "a").exists()
    assert (out / "recordings" / "folder" / "a@2").is_dir()
    assert validate(str(out)) == (1, [])
    try:
        holder.read("folder/a")
    except Exception as exc:  # a reader older than keep_replaced is told, not given garbage
        assert "a/data" in str(exc) or "missing" in str(exc)
    else:
        raise AssertionError("a deleted version was read")
    assert open_store(out).read("folder/a").shape[1] == 4 * 200


def test_an_unlisted_group_left_by_a_kill_is_retired_not_listed(tmp_path: Path) -> None:
    """A kill between the rename of a new version and its index segment leaves an orphan."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf", seed=1)
    ingest_folder(src, out)
    # what the kill leaves: a complete group in the next version's place, listed nowhere
    shutil.copytree(out / "recordings" / "folder" / "a", out / "recordings" / "folder" / "a@2")
    rep = ingest_folder(src, out)
    assert rep.n_current == 1
    assert open_store(out).recording("folder/a").group == "recordings/folder/a"
    retired = (out / "_eegprep" / "retired.json").read_text()
    assert "recordings/folder/a@2" in retired
    _touch(src / "a.edf", seed=3)  # the next version skips the retired orphan's number
    ingest_folder(src, out)
    assert open_store(out).recording("folder/a").group == "recordings/folder/a@3"
    ingest_folder(src, out, keep_replaced=0.0)
    assert sorted(p.name for p in (out / "recordings" / "folder").iterdir() if p.is_dir()) == [
        "a@3"
    ]
