"""Stimulus, trigger and marker channels under the names real systems write them: one rule
(:data:`~eegprep.pipeline.channels.MARKER_LABEL`) makes each non-EEG (``marker``) whatever
reader gave it, so that it is never stored, never named as a channel not in the vocabulary,
and never refuses a file whose manifest says ``on_unknown = "raise"``.

Files are written in each format's real layout here: EDF, BioSemi's BDF (``Status`` at 24
bits, unit ``Boolean``), BrainVision (header, float32 samples), FIF, GDF and a CSV table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mne
import numpy as np
import pytest

from eegprep.corpus.manifest import load_manifest, parse_manifest
from eegprep.ingestion.source_channels import open_source
from eegprep.pipeline.channels import classify_channel, map_channels
from eegprep.readers.mne_formats import clear_cache
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures.gdf_writer import write_gdf

MARKER_NAMES = [
    "STI 014", "STI014", "STI 101", "STIM", "STIM1", "Status", "Status1", "STATUS_1",
    "TRIGGER", "Trigger", "TRIG", "Trig1", "Trig 1", "DI", "DIN", "DIN1", "DIN8", "Sync",
    "Event", "Marker", "Markers", "MkIdx", "EEG Status", " Status\x00",
]  # fmt: skip
"""Labels of trigger and marker channels as Neuromag (``STI 014``), MNE exports, BioSemi
(``Status``), EGI (``DI``, ``DIN1``..), Brain Products (``MkIdx``) and others write them."""

EEG = ["Fp1", "Cz", "O2"]
FILE_MARKERS = ["STIM", "DIN1", "Sync", "Status1", "Trig 1", "MkIdx"]
"""The markers each file below carries beside its three EEG channels (those that the rule
before took as channels not in the vocabulary)."""


@pytest.mark.parametrize("label", MARKER_NAMES)
def test_a_trigger_or_marker_label_is_a_marker(label: str) -> None:
    """``STIM``, ``DIN1``, ``Sync``, ``Status1``, ``MkIdx`` ... were unknown channels: named in
    the report's ``channels not in the vocabulary`` line, and a file holding one refused
    where the manifest raises on unknown channels. Each is now a marker, as ``STI 014`` was."""
    match = classify_channel(label)
    assert (match.kind, match.detail) == ("non_eeg", "marker")


@pytest.mark.parametrize("label", ["Fp1", "Cz", "T7", "DC1", "Fpz-Cz", "Stim Fp1", "E1"])
def test_no_site_or_other_label_is_a_marker(label: str) -> None:
    """The rule takes no 10-20 site, another signal (``DC1``) or an unknown label for one."""
    assert classify_channel(label).detail != "marker"


def test_a_file_typed_eeg_marker_channel_is_dropped_as_a_marker() -> None:
    """A marker a format types EEG (a BrainVision channel in ``µV``) is left to its label: a
    marker, dropped; one typed ``stim`` stays dropped for its type."""
    labels = [*EEG, "DIN1", "STI 014"]
    mapping = map_channels(labels, kinds=["eeg"] * 4 + ["stim"], on_unknown="raise")
    assert mapping.names == ("FP1", "CZ", "O2")
    assert dict(mapping.dropped) == {
        "DIN1": "non-EEG (marker)", "STI 014": "non-EEG (typed stim in the file)"
    }  # fmt: skip


def _manifest(reader: str, **options: Any) -> Any:
    raw = dict(load_manifest("folder").raw)
    raw["reader"] = {"name": reader, "options": options}
    raw["channels"] = {"on_unknown": "raise"}
    return parse_manifest(raw, "my.toml")


def _signals(n: int) -> np.ndarray:
    """EEG-like microvolts for the EEG channels, trigger codes (0, 1..255) for the markers."""
    rng = np.random.default_rng(0)
    eeg = rng.normal(0, 30, (len(EEG), n))
    codes = np.zeros((len(FILE_MARKERS), n))
    codes[:, n // 4 :: n // 8] = np.arange(1, len(FILE_MARKERS) + 1)[:, None]
    return np.vstack([eeg, codes])


def _edf(path: Path, bdf: bool) -> tuple[Path, str, dict[str, Any]]:
    """EDF, or BioSemi's BDF layout: markers at 24 bits in unit ``Boolean``."""
    x, k = _signals(512), len(EEG)
    dims = ["uV"] * k + ["Boolean" if bdf else ""] * len(FILE_MARKERS)
    write_edf(path / f"x.{'bdf' if bdf else 'edf'}", list(x), labels=[*EEG, *FILE_MARKERS],
              sfreqs=256.0, physical_dims=dims, physical_min=-500.0, physical_max=500.0,
              bdf=bdf)  # fmt: skip
    return path / f"x.{'bdf' if bdf else 'edf'}", "edf", {}


def _brainvision(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A BrainVision header, float32 multiplexed samples, every channel in ``µV``."""
    x, labels = _signals(500), [*EEG, *FILE_MARKERS]
    chans = "\n".join(f"Ch{i + 1}={label},,1,µV" for i, label in enumerate(labels))
    (path / "x.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=x.eeg\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        f"NumberOfChannels={len(labels)}\nSamplingInterval=4000\n\n[Binary Infos]\n"
        f"BinaryFormat=IEEE_FLOAT_32\n\n[Channel Infos]\n{chans}\n",
        encoding="utf-8",
    )
    x.T.astype("<f4").tofile(path / "x.eeg")
    return path / "x.vhdr", "mne", {}


def _fif(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A FIF file whose markers MNE types ``misc`` (as an export of unknown channels does)."""
    x = _signals(512) * 1e-6
    info = mne.create_info([*EEG, *FILE_MARKERS], 256.0, ["eeg"] * 3 + ["misc"] * 6)
    mne.io.RawArray(x, info, verbose=0).save(path / "x_raw.fif", verbose=0)
    return path / "x_raw.fif", "mne", {}


def _gdf(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A GDF 1.25 file, every channel int16 in ``uV`` (MNE types them EEG)."""
    write_gdf(path / "x.gdf", _signals(512), [*EEG, *FILE_MARKERS], 256)
    return path / "x.gdf", "mne", {}


def _csv(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A table whose header row names every column, markers among them."""
    x = _signals(400)
    rows = [",".join([*EEG, *FILE_MARKERS])] + [",".join(f"{v:.3f}" for v in row) for row in x.T]
    (path / "x.csv").write_text("\n".join(rows) + "\n")
    return path / "x.csv", "csv", {"sfreq": 200}


WRITERS = {
    "edf": lambda p: _edf(p, False), "bdf": lambda p: _edf(p, True),
    "brainvision": _brainvision, "fif": _fif, "gdf": _gdf, "csv": _csv,
}  # fmt: skip


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_reader_drops_marker_channels_as_markers(tmp_path: Path, fmt: str) -> None:
    """A file carrying ``STIM``, ``DIN1``, ``Sync``, ``Status1``, ``Trig 1`` and ``MkIdx``
    beside Fp1, Cz, O2 was refused by a manifest with ``on_unknown = "raise"`` (``channels not
    in the vocabulary, dropped: STIM, DIN1, ...``), and named so in every report. Whatever the
    reader, the markers are now dropped as markers, and the three EEG channels alone kept."""
    clear_cache()
    path, reader, options = WRITERS[fmt](tmp_path)
    header, mapping, warnings = open_source(str(path), _manifest(reader, **options), None)
    assert mapping.names == ("FP1", "CZ", "O2")
    assert [header.labels[i] for i in mapping.source_indices] == EEG
    reasons = dict(mapping.dropped)
    assert sorted(reasons) == sorted(FILE_MARKERS)
    assert set(reasons.values()) == {"non-EEG (marker)"}, reasons
    assert not [w for w in warnings if "vocabulary" in w or "unit" in w]
