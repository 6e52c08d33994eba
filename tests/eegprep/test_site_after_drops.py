"""Two channels of one site (``T3`` and ``T7``, docs/corpora.md "Channel names") are resolved
after the channels an ingest leaves out (a rate too low for the band, a ``channels.tsv`` bad, a
channel NaN at every sample): the copy stored is the first that is not left out. Before, the
first copy in the file was chosen first, then left out, and the site was lost with the second
copy dropped as its duplicate. Each case is checked against a file holding the second copy
alone: its row in the store is that file's, sample for sample."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.testing.edf_writer import write_edf
from tests.eegprep.test_gdf_mixed_sizes import _Channel, _codes, _write
from tests.safety.corpus import ingest_folder

SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)
_SECONDS = 20


def _wave(seed: int, rate: float) -> np.ndarray:
    """Microvolts: a random EEG-like signal of ``_SECONDS`` at ``rate``."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 4, int(_SECONDS * rate))) % 200 - 100


def _edf(path: Path, labels: list[str], rates: list[float], seeds: list[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    values = [_wave(s, r) for s, r in zip(seeds, rates, strict=True)]
    return write_edf(path, values, labels=labels, sfreqs=rates, physical_min=-200.0,
                     physical_max=200.0)  # fmt: skip


def _stored(out: Path) -> dict[str, np.ndarray]:
    """Each stored channel's samples (float32 microvolts) of the store's one recording."""
    store = open_store(out)
    [rec] = store.recordings
    return dict(zip(rec.channels, store.read(rec.id), strict=True))


def _record(out: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    [rec] = open_store(out).recordings
    return rec.channels, dict(tuple(d) for d in rec.meta["dropped_channels"])


def test_a_copy_too_slow_for_the_band_leaves_the_site_to_the_next(tmp_path: Path) -> None:
    """EDF (eegprep's own reader): ``T3`` at 128 Hz, below the 75 Hz low-pass, then ``T7``
    and a third copy ``EEG T3-REF``: ``T7`` is stored at the site, the third copy is its
    duplicate, and the report's line says so."""
    labels, rates = ["T3", "T7", "EEG T3-REF", "Cz"], [128.0, 256.0, 256.0, 256.0]
    _edf(tmp_path / "a/rec.edf", labels, rates, [1, 2, 3, 4])
    _edf(tmp_path / "b/rec.edf", ["T7", "Cz"], [256.0, 256.0], [2, 4])
    report = ingest_folder(tmp_path / "a", tmp_path / "a.zarr")
    ingest_folder(tmp_path / "b", tmp_path / "b.zarr")
    assert report.failed == []
    channels, dropped = _record(tmp_path / "a.zarr")
    assert channels == ("T7", "CZ")
    assert dropped["T3"] == "128 Hz cannot carry the 75 Hz low-pass"
    assert dropped["EEG T3-REF"].startswith("duplicate of 'T7': T7 and T3 name one site")
    said = [w for w in report.warnings["rec.edf"] if w.startswith("duplicate channels")]
    assert len(said) == 1 and "EEG T3-REF (duplicate of 'T7'" in said[0]
    got, alone = _stored(tmp_path / "a.zarr"), _stored(tmp_path / "b.zarr")
    np.testing.assert_array_equal(got["T7"], alone["T7"])


def test_the_in_memory_path_keeps_the_next_copy_as_the_ingest_does(tmp_path: Path) -> None:
    """``labram predict``'s path (:func:`read_preprocessed`): the same channels, the same
    samples as a file of the second copy alone."""
    _edf(tmp_path / "a.edf", ["T3", "T7", "Cz"], [128.0, 256.0, 256.0], [1, 2, 4])
    _edf(tmp_path / "b.edf", ["T7", "Cz"], [256.0, 256.0], [2, 4])
    manifest = dataclasses.replace(load_manifest("folder"), mains=50.0)  # (an ingest's --mains)
    got = read_preprocessed(tmp_path / "a.edf", manifest)
    alone = read_preprocessed(tmp_path / "b.edf", manifest)
    assert got.channels == alone.channels == ["T7", "CZ"]
    np.testing.assert_array_equal(got.data, alone.data)


def _bids(root: Path, chans: list[str], seeds: list[int], bads: list[str]) -> Path:
    """A BIDS BrainVision recording (MNE-read) whose channels.tsv marks ``bads`` bad."""
    mne = pytest.importorskip("mne")
    mne_bids = pytest.importorskip("mne_bids")
    x = np.stack([_wave(s, 250.0) for s in seeds]) * 1e-6
    raw = mne.io.RawArray(x, mne.create_info(chans, 250.0, "eeg"), verbose="error")
    raw.info["bads"] = bads
    path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=root)
    mne_bids.write_raw_bids(raw, path, format="BrainVision", allow_preload=True,
                            verbose="error")  # fmt: skip
    return root


def test_a_copy_bad_in_channels_tsv_leaves_the_site_to_the_next(tmp_path: Path) -> None:
    """BrainVision (MNE-read) in BIDS: ``T3`` bad in channels.tsv, ``T7`` good: ``T7``'s
    samples are stored at the site, as in a recording of ``T7`` alone; no duplicate named."""
    a = _bids(tmp_path / "a", ["T3", "T7", "Cz"], [1, 2, 4], ["T3"])
    b = _bids(tmp_path / "b", ["T7", "Cz"], [2, 4], [])
    report = ingest("bids", src=a, out=tmp_path / "a.zarr", config=SERIAL)
    ingest("bids", src=b, out=tmp_path / "b.zarr", config=SERIAL)
    assert report.failed == []
    channels, dropped = _record(tmp_path / "a.zarr")
    assert channels == ("T7", "CZ") and dropped["T3"].startswith("bad in channels.tsv")
    assert not [w for ws in report.warnings.values() for w in ws if "duplicate" in w]
    got, alone = _stored(tmp_path / "a.zarr"), _stored(tmp_path / "b.zarr")
    np.testing.assert_array_equal(got["T7"], alone["T7"])


def test_a_nan_copy_of_a_gdf_file_leaves_the_site_to_the_next(tmp_path: Path) -> None:
    """A GDF file of mixed sample sizes (eegprep's own GDF reader): ``T3`` a float channel
    NaN at every sample, then ``T7``: ``T7``'s samples are stored at the site (the file was
    refused for its non-finite samples)."""
    uv = (-500.0, 500.0, -500.0, 500.0)
    fz = _Channel("Fz", "int16", 256, "uV", (-3276.8, 3276.7, -32768.0, 32767.0))
    t3, t7 = _Channel("T3", "float32", 256, "uV", uv), _Channel("T7", "float64", 256, "uV", uv)
    codes = [_codes(c, _SECONDS, seed) for seed, c in enumerate([fz, t3, t7])]
    codes[1][:] = np.nan
    for name, channels, rows in (("a", [fz, t3, t7], codes), ("b", [fz, t7], codes[::2])):
        (tmp_path / name).mkdir()
        _write(tmp_path / name / "rec.gdf", "GDF 2.20", channels, rows)
    report = ingest_folder(tmp_path / "a", tmp_path / "a.zarr")
    ingest_folder(tmp_path / "b", tmp_path / "b.zarr")
    assert report.failed == []
    channels, dropped = _record(tmp_path / "a.zarr")
    assert channels == ("FZ", "T7") and dropped["T3"] == "holds no samples"
    got, alone = _stored(tmp_path / "a.zarr"), _stored(tmp_path / "b.zarr")
    np.testing.assert_array_equal(got["T7"], alone["T7"])
