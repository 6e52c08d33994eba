"""A re-ingest never takes a recording for current by guessing what its record, written
before a field existed, does not state: each field that decides "current" (the block its
samples were computed in, the recipe and manifest hashes, each file's content hash) is taken
out of a listed record through the store's own writers (its group's attributes, the index's
append), and the next ingest redoes that
recording with a report line naming what is missing; what was listed stays readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.store.fs import Location
from eegprep.store.index import append, read_index
from eegprep.store.record import RecordingRecord
from eegprep.store.recording_writer import write_group_attrs
from tests.eegprep.test_block_records import TIGHT, _tuh_edf

A, B, C = ("tuh/aaaaaaaa_s001_t000", "tuh/bbbbbbbb_s001_t000", "tuh/cccccccc_s001_t000")


def _older(store: Path, rid: str, *keys: str, files_hash: bool = False) -> None:
    """Write ``rid``'s record again without ``keys`` (and, ``files_hash``, without any content
    hash of its files), in its group's attributes and in the index: the record an earlier
    version wrote."""
    loc = Location.parse(store)
    record: dict[str, Any] = {k: v for k, v in read_index(loc)[rid].items() if k not in keys}
    if files_hash:
        record = {k: v for k, v in record.items() if k not in ("source_blake3", "source_sha256")}
        record["source_files"] = [
            {k: v for k, v in f.items() if k not in ("blake3", "sha256")}
            for f in record["source_files"]
        ]
    write_group_attrs(str(store), record["group"], RecordingRecord.from_dict(record))
    append(loc, [record])


def _notes(report: IngestReport, subject: str) -> list[str]:
    return [n for rel, notes in report.warnings.items() if subject in rel for n in notes]


def test_a_record_stating_no_block_is_ingested_again_unless_no_block_could_cut_it(
    tmp_path: Path,
) -> None:
    """Written under a tight --file-memory-limit (30 s blocks), its records then stripped of
    ``block_seconds``: a re-ingest under the default limit took each for 240 s blocks, the
    same as its own, and kept the 30 s bytes as current."""
    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa", seconds=120.0)  # four 30 s blocks under TIGHT
    _tuh_edf(root, "bbbbbbbb", seconds=30.0)  # one 30 s block: cut by a 10 s one
    _tuh_edf(root, "cccccccc", seconds=8.0)  # one block whatever its length
    store = tmp_path / "s.zarr"
    tight = IngestConfig(workers=0, file_memory_limit=TIGHT)
    first = ingest("tuh", src=root, out=store, config=tight)
    assert first.n_ingested == 3, first.failed
    for rid in (A, B, C):
        _older(store, rid, "block_seconds")
    before = {rid: open_store(store).read(rid) for rid in (A, B, C)}
    again = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (again.n_ingested, again.n_current) == (2, 1), again.failed
    for subject in ("aaaaaaaa", "bbbbbbbb"):
        (note,) = _notes(again, subject)
        assert "blocks its record does not state" in note and "would be 240 s" in note, note
    assert _notes(again, "cccccccc") == []
    fresh = tmp_path / "fresh.zarr"
    ingest("tuh", src=root, out=fresh, config=IngestConfig(workers=0))
    now, want = open_store(store), open_store(fresh)
    for rid in (A, B, C):  # the bytes a fresh ingest under this limit has
        assert np.array_equal(now.read(rid), want.read(rid)), rid
        assert np.allclose(now.read(rid), before[rid], atol=1.0), rid  # the same recording
    records = read_index(Location.parse(store))
    assert (records[A]["block_seconds"], records[C].get("block_seconds")) == (240.0, None)
    last = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (last.n_ingested, last.n_current) == (0, 3)


@pytest.mark.parametrize(
    ("keys", "files_hash", "named"),
    [
        (("recipe_hash",), False, "states no recipe_hash"),
        (("manifest_hash",), False, "states no manifest_hash"),
        ((), True, "states no content hash of edf/000/aaaaaaaa/"),
    ],
)
def test_a_record_stating_no_hash_to_tell_by_is_ingested_again_and_named(
    tmp_path: Path, keys: tuple[str, ...], files_hash: bool, named: str
) -> None:
    """A file entry without a content hash was judged by its size and mtime alone (current,
    though a rewrite with its mtime set back keeps both); a record without a recipe or
    manifest hash was ingested again without a word."""
    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa", seconds=30.0)
    _tuh_edf(root, "bbbbbbbb", seconds=30.0)
    store = tmp_path / "s.zarr"
    assert ingest("tuh", src=root, out=store, config=IngestConfig(workers=0)).n_ingested == 2
    kept = open_store(store).read(A)
    _older(store, A, *keys, files_hash=files_hash)
    again = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (again.n_ingested, again.n_current) == (1, 1), again.failed
    (note,) = _notes(again, "aaaaaaaa")
    assert named in note and "cannot be told" in note, note
    assert _notes(again, "bbbbbbbb") == []
    assert np.array_equal(open_store(store).read(A), kept)  # the same source: the same bytes
    last = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (last.n_ingested, last.n_current) == (0, 2)
