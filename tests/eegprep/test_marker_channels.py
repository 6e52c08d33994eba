"""Stimulus, trigger and marker channels under the names real systems write them: one rule
(:data:`~eegprep.pipeline.channels.MARKER_LABEL`) makes each non-EEG (``marker``) whatever
reader gave it, so that it is never stored, never named as a channel not in the vocabulary,
and never refuses a file whose manifest says ``on_unknown = "raise"``.

Files are written in each format's real layout here: EDF, BioSemi's BDF (``Status`` at 24
bits, unit ``Boolean``), BrainVision (header, float32 samples), FIF, GDF (one sample size, read
by MNE; mixed sizes, read by eegprep's own GDF reader), EEGLAB (``.set`` and ``.fdt``, every
channel's ``chanlocs`` type ``EEG``), Neuroscan CNT and a CSV table. A reader that types its
channels itself types a marker ``stim`` by the same rule
(:func:`~eegprep.readers.channel_labels.marker_kind`): no reader counts one as EEG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mne
import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest, parse_manifest
from eegprep.ingestion.source_channels import open_source
from eegprep.pipeline.channels import classify_channel, map_channels
from eegprep.readers import get_reader
from eegprep.readers.mne_formats import clear_cache
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures.cnt_writer import write_cnt
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
    marker, dropped; so is one typed ``stim`` (by the file, or by a reader's own typing of
    markers, which is the same rule): the reason is one whatever the reader. Another label
    typed ``stim`` stays dropped for its type."""
    labels = [*EEG, "DIN1", "STI 014", "Fz"]
    mapping = map_channels(labels, kinds=["eeg"] * 4 + ["stim"] * 2, on_unknown="raise")
    assert mapping.names == ("FP1", "CZ", "O2")
    assert dict(mapping.dropped) == {
        "DIN1": "non-EEG (marker)", "STI 014": "non-EEG (marker)",
        "Fz": "non-EEG (typed stim in the file)",
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


def _mixed_gdf(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A GDF 2.20 file of int16 EEG beside int32 markers: sizes MNE cannot open, read by
    eegprep's own GDF reader (:mod:`eegprep.readers.gdf_own`)."""
    from tests.eegprep.test_gdf_mixed_sizes import _Channel, _codes, _write

    eeg = [_Channel(label, "int16", 256, "uV", (-3276.8, 3276.7, -32768.0, 32767.0))
           for label in EEG]  # fmt: skip
    marks = [_Channel(label, "int32", 256, "", (0.0, 255.0, 0.0, 255.0)) for label in FILE_MARKERS]
    channels = [*eeg, *marks]
    _write(path / "x.gdf", "GDF 2.20", channels, [_codes(c, 2, i) for i, c in enumerate(channels)])
    return path / "x.gdf", "mne", {}


def _eeglab(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """An EEGLAB ``.set`` whose samples are in an ``.fdt``, every channel typed ``EEG`` in
    ``chanlocs`` (as EEGLAB's import of a whole amplifier file types them)."""
    from tests.eegprep.test_reader_set_semantics import _chanlocs, _write_set

    labels = [*EEG, *FILE_MARKERS]
    _write_set(path, _signals(500), struct=True, fdt=True, srate=250.0, name="x",
               mat="5", chanlocs=_chanlocs(labels))  # fmt: skip
    return path / "x.set", "mne", {}


def _cnt(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A Neuroscan CNT file (32-bit samples, 0.1 uV a count): MNE types every channel EEG."""
    write_cnt(path / "x.cnt", _signals(500), [*EEG, *FILE_MARKERS], 250)
    return path / "x.cnt", "mne", {}


def _csv(path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A table whose header row names every column, markers among them."""
    x = _signals(400)
    rows = [",".join([*EEG, *FILE_MARKERS])] + [",".join(f"{v:.3f}" for v in row) for row in x.T]
    (path / "x.csv").write_text("\n".join(rows) + "\n")
    return path / "x.csv", "csv", {"sfreq": 200}


WRITERS = {
    "edf": lambda p: _edf(p, False), "bdf": lambda p: _edf(p, True),
    "brainvision": _brainvision, "fif": _fif, "gdf": _gdf, "gdf mixed sizes": _mixed_gdf,
    "eeglab": _eeglab, "cnt": _cnt, "csv": _csv,
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


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_no_reader_types_a_marker_channel_eeg(tmp_path: Path, fmt: str) -> None:
    """MNE's GDF, CNT, EEGLAB and BrainVision readers, and eegprep's own GDF reader after them,
    typed ``STIM``, ``DIN1``, ``Sync``, ``Trig 1``... EEG (only ``Status`` and ``Trigger`` were
    ``stim``), so that the header counted them among its EEG channels (its ``ch_types``, the
    refusal naming the channels typed EEG) until the label rule dropped them. Each reader
    that types channels now types a marker ``stim``; the others type none."""
    clear_cache()
    path, reader, options = WRITERS[fmt](tmp_path)
    header = get_reader(reader).read_header(str(path), **options)
    kinds = {s.label: s.kind for s in header.signals}
    assert {kinds[label] for label in FILE_MARKERS} <= {"stim", ""}, kinds
    assert {kinds[label] for label in EEG} <= {"eeg", ""}, kinds
    types = dict(header.meta).get("ch_types", "")
    assert types.count("eeg") <= len(EEG), types


@pytest.mark.parametrize("fmt", ["gdf", "gdf mixed sizes", "brainvision", "eeglab", "cnt"])
def test_a_file_of_no_site_counts_no_marker_among_its_eeg_channels(
    tmp_path: Path, fmt: str
) -> None:
    """A file whose EEG channels name no site is refused in one line naming the channels the
    file types EEG (to map with ``rename``): the markers beside them were named there too."""
    clear_cache()
    path, reader, options = WRITERS[fmt](tmp_path)
    manifest = _manifest(reader, **options)
    renamed = dict(manifest.raw)
    renamed["channels"] = {**renamed["channels"], "exclude": EEG}
    with pytest.raises(SourceError, match="has 3 channels typed EEG") as info:
        open_source(str(path), parse_manifest(renamed, "my.toml"), None)
    assert not [label for label in FILE_MARKERS if label in str(info.value)], str(info.value)


@pytest.mark.parametrize("fmt", ["gdf", "brainvision", "eeglab", "cnt"])
def test_a_marker_label_renamed_to_a_site_keeps_its_values_scale(tmp_path: Path, fmt: str) -> None:
    """A manifest may name a channel a site whatever its label (``rename``: ``Sync = "Fz"``,
    an input a lab labelled so). Typing a marker ``stim`` changes only what it is counted as:
    its values keep the scale the file gives them (MNE's volts read as microvolts: the code 3
    written as 3 uV), not a stim channel's values as they are (3e-6)."""
    clear_cache()
    path, reader, options = WRITERS[fmt](tmp_path)
    raw = dict(_manifest(reader, **options).raw)
    raw["channels"] = {"on_unknown": "raise", "rename": {"Sync": "Fz"}}
    header, mapping, _ = open_source(str(path), parse_manifest(raw, "my.toml"), None)
    assert mapping.names == ("FP1", "CZ", "O2", "FZ")
    sync = mapping.source_indices[3]
    values = get_reader(reader).read_segment(header, [sync], 0, header.signals[sync].n_samples)
    assert np.abs(values).max() == pytest.approx(3.0, rel=1e-3)  # Sync's code, 3
