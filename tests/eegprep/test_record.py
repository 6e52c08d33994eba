"""The typed recording record: JSON round trips, what a store holds, records of older stores."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR, append
from eegprep.store.record import RecordingRecord
from eegprep.store.recording_writer import group_json, write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record

INGESTED_KEYS = {
    "id", "group", "corpus", "name", "subject", "session", "split", "subject_key",
    "channels", "channel_index", "n_samples", "sfreq", "labels", "events", "source", "part",
    "source_size", "source_mtime_ns", "source_blake3", "source_files", "orig_sfreq",
    "orig_duration_s", "mains_hz", "encoding", "quantum_uv", "max_error_uv", "recipe_hash",
    "block_seconds", "band_hz", "dropped_channels", "targets", "manifest_hash", "chunk_crc32c",
    "qc",
}  # fmt: skip
"""The keys an ingest writes (docs/store-format.md)."""

OLD_RECORD = {  # as eegprep wrote it before encoding, max_error_uv, source_files and band_hz
    "id": "tuh/old",
    "group": "recordings/tuh/old",
    "corpus": "tuh",
    "name": "old",
    "subject": "s1",
    "session": "",
    "split": "",
    "subject_key": "tuh:s1",
    "channels": ["FP1", "CZ"],
    "channel_index": [0, 41],
    "n_samples": 400,
    "sfreq": 200.0,
    "labels": {},
    "events": [[0.5, 1.0, "seiz", ""]],
    "source": "old.edf",
    "part": None,
    "source_size": 1000,
    "source_mtime_ns": 1,
    "source_sha256": "0" * 64,
    "orig_sfreq": 250.0,
    "orig_duration_s": 2.0,
    "mains_hz": 60.0,
    "quantum_uv": None,
    "recipe_hash": "x",
    "dropped_channels": [],
    "targets": [],
    "manifest_hash": "y",
    "qc": {"median_rms_uv": 20.0},
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RecordingRecord]]:
    """A store ingested from the TUH fixture, and the records the ingest committed."""
    from tests.conftest import write_tuh_edf

    root = tmp_path_factory.mktemp("src") / "tuh_eeg"
    write_tuh_edf(root / "edf/000/aaaaaaaa/s001_2015/01_tcp_ar/aaaaaaaa_s001_t000.edf",
                  sfreq=250, seconds=20, seed=1)  # fmt: skip
    write_tuh_edf(root / "edf/000/aaaaaaab/s002_2015/02_tcp_le/aaaaaaab_s002_t001.edf",
                  sfreq=256, seconds=15, montage="02_tcp_le", seed=2)  # fmt: skip
    out = tmp_path_factory.mktemp("out") / "s.zarr"
    committed: list[RecordingRecord] = []
    commit = StoreWriter.commit

    def spy(self: StoreWriter, items: list[tuple[str, RecordingRecord]]) -> list[tuple[str, str]]:
        committed.extend(rec for _, rec in items)
        return commit(self, items)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(StoreWriter, "commit", spy)
        rep = ingest("tuh", src=root, out=out, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested == 2 and not rep.failed
    return out, committed


def _index_lines(store: Path) -> list[dict]:
    """The index's records as its lines hold them (one compacted segment: sorted by id)."""
    (segment,) = (store / Path(*INDEX_DIR)).glob("*.jsonl")
    rows = [json.loads(line) for line in segment.read_text().splitlines()]
    return [row for row in rows if "_base" not in row]


def test_json_round_trip_is_exact(ingested: tuple[Path, list[RecordingRecord]]) -> None:
    _, committed = ingested
    hand = hand_record("c/r", ["FP1", "CZ"], 400, labels={"a": 1}, extra={"later": [1, 2]})
    for rec in [*committed, hand]:
        assert RecordingRecord.from_dict(rec.to_dict()) == rec
        assert pickle.loads(pickle.dumps(rec)) == rec  # workers send records to the driver
    assert hand.to_dict()["later"] == [1, 2]  # an unknown key is kept and written back


def test_a_record_read_back_equals_the_one_written(
    ingested: tuple[Path, list[RecordingRecord]],
) -> None:
    out, committed = ingested
    store = open_store(out)
    assert sorted(r.id for r in committed) == [r.id for r in store.recordings]
    for rec in committed:
        got = store.recording(rec.id)
        assert got.record == rec and got.meta == rec.to_dict()
        attrs = json.loads((out / rec.group / "zarr.json").read_bytes())["attributes"]
        assert RecordingRecord.from_dict(attrs) == rec
    assert [RecordingRecord.from_dict(row) for row in _index_lines(out)] == sorted(
        committed, key=lambda r: r.id
    )


def test_to_dict_holds_exactly_the_keys_the_writer_stores(
    ingested: tuple[Path, list[RecordingRecord]],
) -> None:
    out, committed = ingested
    for rec, row in zip(sorted(committed, key=lambda r: r.id), _index_lines(out), strict=True):
        attrs = json.loads((out / rec.group / "zarr.json").read_bytes())["attributes"]
        assert set(rec.to_dict()) == set(row) == set(attrs) == INGESTED_KEYS
        assert rec.to_dict() == row == attrs
    fields = {f.name for f in dataclasses.fields(RecordingRecord)}
    # one field per key, the SHA-256 that records of earlier versions state instead of BLAKE3,
    # the joins that only a recording whose samples do not follow on in time states, and the
    # CRC-32Cs of target series that only a recording with targets states
    assert fields - {"extra"} == INGESTED_KEYS | {"source_sha256", "joins", "target_crc32c"}


def test_a_hand_written_record_reads_back(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    x = np.ones((2, 400), dtype=np.float32)
    rec = hand_record(
        "c/r", ["FP1", "CZ"], 400, events=[[0.5, 1.0, "seiz", ""]], encoding="float32"
    )
    with StoreWriter(url, Recipe()) as w:
        staged = w.staging_path()
        write_recording(url, staged, record=rec, channels=["FP1", "CZ"], n_samples=400,
                        blocks=iter([x]), sfreq=200.0)  # fmt: skip
        w.commit([(staged, rec)])
    got = open_store(url).recording("c/r")
    assert got.record == rec and got.events[0].label == "seiz" and got.channel_index == (0, 41)


def test_records_are_frozen() -> None:
    rec = hand_record("c/r", ["CZ"], 200)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.n_samples = 1  # type: ignore[misc]
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        rec.other = 1  # type: ignore[attr-defined]
    new = rec.replace(n_samples=400, qc={"median_rms_uv": 5.0})
    assert (rec.n_samples, rec.qc) == (200, None)
    assert (new.n_samples, new.qc) == (400, {"median_rms_uv": 5.0})
    with pytest.raises(ValueError, match="record fields"):
        rec.replace(extra={"n_samples": 3}).to_dict()


def test_a_record_of_an_older_store_loads(tmp_path: Path) -> None:
    rec = RecordingRecord.from_dict(OLD_RECORD)
    assert (rec.encoding, rec.quantum_uv, rec.max_error_uv) == (None, None, None)
    assert rec.source_files is None and rec.band_hz is None and rec.extra == {}
    assert rec.block_seconds is None  # (a re-ingest takes the recipe's: test_block_records.py)
    # written back, it still says nothing of what it did not state (no source_files: the
    # source alone decides whether it is current; no encoding: the store's recipe says)
    assert set(rec.to_dict()) == set(OLD_RECORD) - {"quantum_uv"}
    minimal = {k: OLD_RECORD[k] for k in ("id", "group", "corpus", "channels", "channel_index",
                                          "n_samples", "sfreq")}  # fmt: skip
    bare = RecordingRecord.from_dict(minimal)
    assert (bare.subject, bare.labels, bare.events, bare.qc) == ("", {}, [], None)
    with pytest.raises(KeyError):
        RecordingRecord.from_dict({k: v for k, v in minimal.items() if k != "channels"})
    # a store listing it opens and reads
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        x = np.ones((2, 400), dtype=np.float32)
        write_recording(url, "recordings/tuh/old", record=None, channels=["FP1", "CZ"],
                        n_samples=400, blocks=iter([x]), sfreq=200.0)  # fmt: skip
        # a complete group holds its record as its attributes (reads check that the copies agree)
        Location.parse(url).write_bytes(group_json(OLD_RECORD), "recordings/tuh/old", "zarr.json")
        append(Location.parse(url), [OLD_RECORD])
    store = open_store(url)
    got = store.recording("tuh/old")
    assert got.record == rec and got.subject_key == "tuh:s1" and got.qc == {"median_rms_uv": 20.0}
    assert got.events[0].label == "seiz" and store.read("tuh/old").shape == (2, 400)


def test_the_store_format_page_lists_every_key_of_a_record() -> None:
    """docs/store-format.md's table of a recording group's attributes (its index record) names
    each key an ingest writes, and those some records alone state, and no other: it left out
    `band_hz`, which every record of this version holds."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "store-format.md").read_text()
    table = page.split("Group attributes, identical to the recording's index record", 1)[1]
    rows = re.findall(r"^\| (`[^|]*`) \|", table.split("\n\n", 2)[1], flags=re.M)
    listed = {key for row in rows for key in re.findall(r"`(\w+)`", row)}
    assert listed == INGESTED_KEYS | {"joins", "target_crc32c"}
