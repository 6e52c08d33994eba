"""Every record states the preprocessing block its samples were computed in, and a re-ingest
under another ``--file-memory-limit`` ingests again exactly the recordings whose blocks (and so
whose quantized bytes) would differ (docs/store-format.md, "Reproducibility")."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from eegprep import open_store
from eegprep.ingestion.block_lengths import block_change, block_seconds
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.index import read_index
from eegprep.store.record_details import block_problem
from eegprep.store.validate_recording import recording_problems
from eegprep.testing.edf_writer import write_edf

MiB = 1024**2
GiB = 1024**3
LABELS = ["EEG FP1-REF", "EEG FP2-REF", "EEG C3-REF", "EEG C4-REF"]
REL = "edf/000/{s}/s001_2015/01_tcp_ar/{s}_s001_t000.edf"
TIGHT = 2 * MiB  # 4 channels at 250 Hz: 30 s blocks (a 60 s one and its margins need 2.4 MB)


def _tuh_edf(root: Path, subject: str, seconds: float) -> None:
    path = root / REL.format(s=subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([*subject.encode(), int(seconds)])  # each subject its own bytes
    t = np.arange(int(250 * seconds)) / 250
    signals = [20 * np.sin(2 * np.pi * 10 * t) + 5 * rng.standard_normal(t.size) for _ in LABELS]
    write_edf(path, signals, labels=LABELS, sfreqs=250.0)


def _blocks(store: Path) -> dict[str, Any]:
    return {rid: r.get("block_seconds") for rid, r in read_index(Location.parse(store)).items()}


def _record(store: Path, rid: str) -> dict[str, Any]:
    return read_index(Location.parse(store))[rid]


def test_a_reingest_under_another_limit_redoes_only_the_recordings_it_would_cut_otherwise(
    tmp_path: Path,
) -> None:
    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa", seconds=120.0)  # four 30 s blocks under TIGHT, one of 240 s
    _tuh_edf(root, "bbbbbbbb", seconds=30.0)  # one block either way: the same bytes
    store = tmp_path / "s.zarr"
    tight = IngestConfig(workers=0, file_memory_limit=TIGHT)
    first = ingest("tuh", src=root, out=store, config=tight)
    assert first.n_ingested == 2, first.failed
    assert set(_blocks(store).values()) == {30.0}
    again = ingest("tuh", src=root, out=store, config=tight)
    assert (again.n_ingested, again.n_current) == (0, 2)

    default = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (default.n_ingested, default.n_current) == (1, 1), default.failed
    (rel, notes), *more = sorted(default.warnings.items())
    assert not more and "aaaaaaaa" in rel
    assert any("30 s blocks, this run's would be 240 s (--file-memory-limit 2 GiB)" in n
               for n in notes), notes  # fmt: skip
    assert _blocks(store) == {"tuh/aaaaaaaa_s001_t000": 240.0, "tuh/bbbbbbbb_s001_t000": 30.0}
    fresh = tmp_path / "fresh.zarr"
    ingest("tuh", src=root, out=fresh, config=IngestConfig(workers=0))
    a, b = open_store(store), open_store(fresh)
    for rid in ("tuh/aaaaaaaa_s001_t000", "tuh/bbbbbbbb_s001_t000"):  # the bytes a fresh one has
        assert np.array_equal(a.read(rid), b.read(rid)), rid
        assert _record(store, rid)["chunk_crc32c"] == _record(fresh, rid)["chunk_crc32c"], rid
    last = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    assert (last.n_ingested, last.n_current) == (0, 2)


def test_a_record_without_a_block_is_current_only_where_no_block_cuts_it() -> None:
    """An earlier version's record states no block, and its ingest may have shortened the
    recipe's under a tight budget: it was taken to have used the recipe's, so a store written
    under a smaller limit and re-ingested under a larger one kept its shortened recordings."""
    recipe = Recipe()
    record: dict[str, Any] = {"channels": ["FP1"] * 4, "orig_sfreq": 250.0, "n_samples": 24000}
    assert block_change(record, recipe, 60.0, 2 * GiB) == (None, 240.0)  # 30 s blocks, maybe
    assert block_change(record, recipe, 60.0, TIGHT) == (None, 30.0)
    rateless = {"channels": ["FP1"] * 4, "n_samples": 24000}  # no rate to plan by
    (stated, planned) = block_change(rateless, recipe, 60.0, TIGHT) or (0.0, 0.0)
    assert stated is None and math.isnan(planned)
    short = {**record, "n_samples": 2000}  # 10 s: one block, whatever block was used
    assert block_change(short, recipe, 60.0, 2 * GiB) is None
    assert block_change({**rateless, "n_samples": 2000}, recipe, 60.0, TIGHT) is None
    assert block_change({**short, "n_samples": 2001}, recipe, 60.0, 2 * GiB) == (None, 240.0)
    joined = {**record, "n_samples": 4000, "joins": [2000]}  # two 10 s stretches
    assert block_change(joined, recipe, 60.0, 2 * GiB) is None
    assert block_change({**joined, "joins": [1999]}, recipe, 60.0, 2 * GiB) == (None, 240.0)
    rates = {**short, "orig_sfreq": [250.0, 500.0]}  # several rates: not judged by stretches
    assert block_change(rates, recipe, 60.0, 2 * GiB) is not None
    assert block_change(record, recipe.with_(mode="mne"), 60.0, TIGHT) is None  # no blocks
    assert block_change({**record, "block_seconds": 30.0}, recipe, 60.0, TIGHT) is None
    assert block_change({**record, "block_seconds": 30.0}, recipe, 60.0, 2 * GiB) == (30.0, 240.0)
    stated_short = {**record, "n_samples": 6000, "block_seconds": 30.0}  # one 30 s block
    assert block_change(stated_short, recipe, 60.0, 2 * GiB) is None
    stated_joined = {**stated_short, "n_samples": 12000, "joins": [6000]}  # two 30 s stretches
    assert block_change(stated_joined, recipe, 60.0, 2 * GiB) is None
    assert block_change({**stated_joined, "joins": [7000]}, recipe, 60.0, 2 * GiB) == (
        30.0, 240.0
    )  # fmt: skip


def test_a_recording_of_several_rates_is_current_only_when_any_split_plans_its_block() -> None:
    recipe = Recipe()
    record: dict[str, Any] = {"channels": ["FP1"] * 4, "orig_sfreq": [250.0, 500.0],
                              "n_samples": 24000, "block_seconds": 240.0}  # fmt: skip
    assert block_change(record, recipe, 60.0, 2 * GiB) is None
    # 3 channels at 500 Hz would need shorter blocks under 4 MiB, 1 channel would not
    assert block_seconds([(500.0, 3)], 60.0, recipe, 4 * MiB) < 240.0
    assert block_seconds([(500.0, 1)], 60.0, recipe, 4 * MiB) == 240.0
    assert block_change(record, recipe, 60.0, 4 * MiB) is not None


def test_a_block_no_ingest_writes_is_ingested_again_and_named_by_validate(
    tmp_path: Path,
) -> None:
    recipe = Recipe()
    record: dict[str, Any] = {"channels": ["FP1"] * 4, "orig_sfreq": 250.0, "n_samples": 24000}
    for bad in ("240", True, float("nan")):
        assert block_change({**record, "block_seconds": bad}, recipe, 60.0, 2 * GiB) is not None
    assert block_problem(240.0) is None and block_problem(None) is None
    assert block_problem("240") == (
        "block_seconds '240' is not a block length in seconds of 10 or more"
    )
    assert block_problem(0) is not None and block_problem(float("inf")) is not None
    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa", seconds=30.0)
    store = tmp_path / "s.zarr"
    ingest("tuh", src=root, out=store, config=IngestConfig(workers=0))
    loc = Location.parse(store)
    (listed,) = read_index(loc).values()
    assert listed["block_seconds"] == 240.0 and recording_problems(loc, listed) == []
    problems = recording_problems(loc, {**listed, "block_seconds": "240"})
    assert any("block_seconds '240' is not a block length" in p for p in problems), problems
