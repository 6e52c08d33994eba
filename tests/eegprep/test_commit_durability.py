"""An ingest's commit puts a recording on the disk before the index lists it.

Each shard of a recording group is written without a flush, in a staging folder, then the group
is renamed into place and an index segment (flushed) lists it. Nothing flushed the shards nor
the folder the rename changed: after a power cut the index could list a recording whose shards
were empty or whose group was not there (a CRC-32C failure, or a missing group, for every
reader). Every call of ``os.fsync`` and ``os.replace`` is recorded here: each file of a listed
group must be flushed before the group's rename, and its new folder after it, both before the
index segment that lists it. The groups are flushed in a thread while the next file runs
(``eegprep/store/early_flush.py``), a thread that no ingest leaves behind.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.safety.corpus import ingest_folder, write_edf


def test_every_file_of_a_group_and_its_rename_are_flushed_before_the_index_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(os.path.realpath(tmp_path))
    src, out = root / "src", root / "s.zarr"
    write_edf(src, "a.edf", seed=1)
    write_edf(src, "b.edf", seed=2)
    events: list[tuple[Any, ...]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(
            ("fsync", os.readlink(f"/proc/self/fd/{fd}"), threading.current_thread().name)
        )
        real_fsync(fd)

    def replace(a: Any, b: Any, *args: Any, **kwargs: Any) -> None:
        real_replace(a, b, *args, **kwargs)
        events.append(("replace", os.path.abspath(a), os.path.abspath(b)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    assert ingest_folder(src, out).n_ingested == 2
    monkeypatch.undo()

    index = str(out / "_eegprep" / "index")
    listed = next(i for i, e in enumerate(events) if e[0] == "replace" and e[2].startswith(index))
    staging, recordings = "/_eegprep/staging/", "/recordings/"
    groups = [
        (i, e)
        for i, e in enumerate(events[:listed])
        if e[0] == "replace" and recordings in e[2] and staging in e[1]
    ]
    assert len(groups) == 2
    for at, (_, staged, final) in groups:
        files = [p for p in Path(final).rglob("*") if p.is_file()]
        assert any("/data/" in str(p) for p in files)
        flushed = {e[1]: e[2] for e in events[:at] if e[0] == "fsync"}
        for path in files:
            assert staged + str(path)[len(final) :] in flushed, f"{path} not flushed"
            # while the ingest went on: in the flush thread, not at the commit
            assert flushed[staged + str(path)[len(final) :]].startswith("eegprep-flush")
        after = {e[1] for e in events[at:listed] if e[0] == "fsync"}
        assert os.path.dirname(final) in after, "the rename is not flushed"


def _flush_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("eegprep-flush")]


def test_no_flush_thread_outlives_the_ingest(tmp_path: Path) -> None:
    """A thread left behind would make a later ingest in this process start its pool workers
    from a forkserver instead of forking them (a thread at a fork may hold a lock)."""
    write_edf(tmp_path / "src", "a.edf", seed=1)
    write_edf(tmp_path / "src", "b.edf", seed=2)
    assert ingest_folder(tmp_path / "src", tmp_path / "s.zarr").n_ingested == 2
    assert _flush_threads() == []


def test_a_group_whose_flush_fails_is_not_listed_and_the_others_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep import open_store
    from eegprep.store import early_flush

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf", seed=1)
    write_edf(src, "b.edf", seed=2)
    real = early_flush.sync_tree

    def failing(root: Any) -> None:
        if any(p.name == "zarr.json" for p in Path(root).iterdir()) and "a" in _source_of(root):
            raise OSError(errno.EIO, "Input/output error", os.path.join(root, "data", "c.0.0"))
        real(root)

    monkeypatch.setattr(early_flush, "sync_tree", failing)
    rep = ingest_folder(src, out)
    assert rep.n_ingested == 1, rep.failed
    # the file whose flush failed is named (it was "Input/output error" alone)
    assert [f for f in rep.failed if "a.edf" in f and "Input/output error (" in f], rep.failed
    assert [f for f in rep.failed if "data/c.0.0)" in f], rep.failed
    assert [r.source for r in open_store(out).recordings] == ["b.edf"]
    assert not list((out / "_eegprep" / "staging").glob("*/zarr.json"))


def _source_of(group: Any) -> str:
    """The source file a staged group was made from (its ``zarr.json`` attributes)."""
    import json

    attrs = json.loads((Path(group) / "zarr.json").read_text()).get("attributes", {})
    return Path(str(attrs.get("source", ""))).stem
