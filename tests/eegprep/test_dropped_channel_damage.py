"""A channel eegprep does not keep (a BDF's ``Status``, an EOG, a channel of no 10-20 site) with
a damaged header field never refuses a file whose EEG channels are sound: the EEG is ingested
with at most one warning naming the channel; the same damage on a kept EEG channel is refused
in one line naming it (its samples have no physical values)."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest, parse_manifest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.readers.mne_formats import clear_cache
from eegprep.testing.edf_writer import field_span, write_edf
from eegprep.testing.fixtures.gdf_writer import write_gdf

LABELS = ["Fp1", "Cz", "O1", "Status"]
SECONDS = 20

# field -> (min text, max text) for the calibration fields; "unit"/"label" -> text
CALIBRATION = {
    "physical equal": ("physical", b"0", b"0"),
    "digital equal": ("digital", b"0", b"0"),
    "absurd range": ("physical", b"-1e300", b"1e300"),
    "above 1e15 uV": ("physical", b"-2e16", b"2e16"),
    "nan": ("physical", b"nan", b"nan"),
    "inf": ("physical", b"-inf", b"inf"),
    "text": ("physical", b"n/a", b"n/a"),
    "empty": ("digital", b"", b""),
    "words": ("physical", b"-100uV", b"unknown"),
    "digital nan": ("digital", b"nan", b"1"),
}
OTHER = {"unit garbage": ("physical_dim", b"#?\xff%"), "empty label": ("label", b""),
         "blank label": ("label", b"    ")}  # fmt: skip


def _file(tmp_path: Path, suffix: str, channel: int, damage: str) -> Path:
    rng = np.random.default_rng(4)
    signals = [20 * rng.standard_normal(256 * SECONDS) for _ in LABELS]
    path = write_edf(
        tmp_path / f"rec{suffix}", signals, labels=LABELS, sfreqs=256, bdf=suffix == ".bdf"
    )
    data = bytearray(path.read_bytes())
    patches = []
    if damage in CALIBRATION:
        kind, low, high = CALIBRATION[damage]
        patches = [(f"{kind}_min", low), (f"{kind}_max", high)]
    else:
        patches = [OTHER[damage]]
    for name, value in patches:
        span = field_span(name, n_signals=len(LABELS), channel=channel)
        data[span] = value.ljust(span.stop - span.start, b" ")
    path.write_bytes(bytes(data))
    return path


def _edf_manifest(through: str) -> Any:
    """TUAB's manifest, read by eegprep's own EDF reader (``own``) or, given an MNE option, by
    MNE's (``mne``: :meth:`~eegprep.readers.mne_formats.MneReader.read_header`)."""
    if through == "own":
        return load_manifest("tuab")
    raw = dict(load_manifest("tuab").raw)
    raw["reader"] = {"name": "mne", "options": {"eog": ["EOG"]}}
    return parse_manifest(raw, "my.toml")


THROUGH = ["own", "mne"]
"""The two paths an EDF/BDF file is read by: eegprep's own reader, MNE's given MNE options.
MNE's parser failed on a calibration field that is no number (``n/a``): the file was refused
(``could not convert string to float``) though the field was a dropped channel's."""


@pytest.mark.parametrize("through", THROUGH)
@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
@pytest.mark.parametrize("damage", [*CALIBRATION, *OTHER])
def test_a_damaged_dropped_channel_leaves_the_eeg_ingested(
    tmp_path: Path, suffix: str, damage: str, through: str
) -> None:
    clear_cache()
    path = _file(tmp_path, suffix, 3, damage)
    pre = read_preprocessed(path, _edf_manifest(through))
    assert pre.channels == ["FP1", "CZ", "O1"]
    assert np.isfinite(pre.data).all()
    about = [w for w in pre.warnings if any(k in w for k in ("Status", "calibration", "compliant"))]
    assert len(about) <= 1, pre.warnings
    assert all("\n" not in w for w in pre.warnings)


@pytest.mark.parametrize("through", THROUGH)
@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
@pytest.mark.parametrize("damage", list(CALIBRATION))
def test_the_same_damage_on_a_kept_channel_is_refused_in_one_line(
    tmp_path: Path, suffix: str, damage: str, through: str
) -> None:
    clear_cache()
    path = _file(tmp_path, suffix, 1, damage)
    with pytest.raises(SourceError, match="'Cz'") as info:
        read_preprocessed(path, _edf_manifest(through))
    assert "\n" not in str(info.value) and info.value.path == str(path)


def _folder(reader: str) -> Any:
    raw = dict(load_manifest("folder").raw)
    raw["reader"], raw["mains"] = {"name": reader, "options": {}}, 50
    return parse_manifest(raw, "my.toml")


def _vhdr(tmp_path: Path, channel: int, line: str) -> Path:
    """A BrainVision header (INT_16 multiplexed samples, resolution 0.1 uV) whose channel
    ``channel`` is written ``line`` (``<name>,<reference>,<resolution>,<unit>``)."""
    rng = np.random.default_rng(5)
    codes = np.round(rng.normal(0, 200, (len(LABELS), 250 * SECONDS))).astype("<i2")
    rows = [f"{label},,0.1,µV" for label in LABELS]
    rows[channel] = line.replace("{label}", LABELS[channel])
    chans = "\n".join(f"Ch{i + 1}={row}" for i, row in enumerate(rows))
    (tmp_path / "x.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=x.eeg\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        f"NumberOfChannels={len(LABELS)}\nSamplingInterval=4000\n\n[Binary Infos]\n"
        f"BinaryFormat=INT_16\n\n[Channel Infos]\n{chans}\n",
        encoding="utf-8",
    )
    codes.T.tofile(tmp_path / "x.eeg")
    return tmp_path / "x.vhdr"


VHDR_DAMAGE = {
    "resolution 0": "{label},,0,µV", "resolution negative": "{label},,-0.1,µV",
    "resolution absent": "{label},,,µV", "resolution text": "{label},,abc,µV",
    "resolution nan": "{label},,nan,µV", "resolution inf": "{label},,inf,µV",
    "resolution absurd": "{label},,1e300,µV", "unit garbage": "{label},,0.1,#?%",
    "empty label": ",,0.1,µV", "blank label": "   ,,0.1,µV",
}  # fmt: skip
VHDR_REFUSED = ("resolution 0", "resolution text", "resolution nan", "resolution inf",
                "resolution absurd")  # fmt: skip
"""The damage that leaves a channel no physical values: refused on a kept channel."""


@pytest.mark.parametrize("damage", list(VHDR_DAMAGE))
def test_a_damaged_dropped_brainvision_channel_leaves_the_eeg_ingested(
    tmp_path: Path, damage: str
) -> None:
    clear_cache()
    path = _vhdr(tmp_path, 3, VHDR_DAMAGE[damage])
    pre = read_preprocessed(path, _folder("mne"))
    assert pre.channels == ["FP1", "CZ", "O1"]
    assert np.isfinite(pre.data).all()
    about = [w for w in pre.warnings if "Status" in w or "resolution" in w]
    assert len(about) <= 1, pre.warnings


@pytest.mark.parametrize("damage", VHDR_REFUSED)
def test_the_same_brainvision_damage_on_a_kept_channel_is_refused_in_one_line(
    tmp_path: Path, damage: str
) -> None:
    clear_cache()
    path = _vhdr(tmp_path, 1, VHDR_DAMAGE[damage])
    with pytest.raises(SourceError, match="'Cz'") as info:
        read_preprocessed(path, _folder("mne"))
    assert "\n" not in str(info.value) and info.value.path == str(path)


GDF_DAMAGE = {
    "physical equal": ("physical", 0.0, 0.0), "digital equal": ("digital", 0.0, 0.0),
    "absurd range": ("physical", -1e300, 1e300), "above 1e15 uV": ("physical", -2e16, 2e16),
    "nan": ("physical", math.nan, math.nan), "inf": ("physical", -math.inf, math.inf),
    "digital nan": ("digital", math.nan, 1.0),
}  # fmt: skip


def _gdf(tmp_path: Path, version: str, channel: int, damage: str) -> Path:
    """A GDF file (int16 samples, +-3276.7 uV) whose channel ``channel`` has the calibration
    ``damage`` (GDF 1.25 keeps its digital range as int64: NaN is 2.20's alone)."""
    rng = np.random.default_rng(6)
    path = write_gdf(tmp_path / "x.gdf", rng.normal(0, 30, (4, 256 * SECONDS)), LABELS, 256,
                     version=version)  # fmt: skip
    data, n = bytearray(path.read_bytes()), len(LABELS)
    kind, low, high = GDF_DAMAGE[damage]
    at = 256 + 104 * n + (0 if kind == "physical" else 16 * n) + 8 * channel
    code = "<d" if kind == "physical" or version == "2.20" else "<q"
    data[at : at + 8] = struct.pack(code, low if code == "<d" else int(low))
    data[at + 8 * n : at + 8 * n + 8] = struct.pack(code, high if code == "<d" else int(high))
    path.write_bytes(bytes(data))
    return path


GDF_CASES = [
    (v, d) for v in ("1.25", "2.20") for d in GDF_DAMAGE if v == "2.20" or d != "digital nan"
]


@pytest.mark.parametrize(("version", "damage"), GDF_CASES)
def test_a_damaged_dropped_gdf_channel_leaves_the_eeg_ingested(
    tmp_path: Path, version: str, damage: str
) -> None:
    clear_cache()
    path = _gdf(tmp_path, version, 3, damage)
    pre = read_preprocessed(path, _folder("mne"))
    assert pre.channels == ["FP1", "CZ", "O1"]
    assert np.isfinite(pre.data).all()
    assert len([w for w in pre.warnings if "Status" in w]) <= 1, pre.warnings


@pytest.mark.parametrize(("version", "damage"), GDF_CASES)
def test_the_same_gdf_damage_on_a_kept_channel_is_refused_in_one_line(
    tmp_path: Path, version: str, damage: str
) -> None:
    clear_cache()
    path = _gdf(tmp_path, version, 1, damage)
    with pytest.raises(SourceError, match="'Cz'") as info:
        read_preprocessed(path, _folder("mne"))
    assert "\n" not in str(info.value) and info.value.path == str(path)


MIXED_RANGES = {
    "physical equal": (0.0, 0.0, -32768.0, 32767.0), "digital equal": (-100.0, 100.0, 0.0, 0.0),
    "absurd range": (-1e300, 1e300, -32768.0, 32767.0), "nan": (math.nan, 1.0, -32768.0, 32767.0),
}  # fmt: skip


def _mixed_gdf(tmp_path: Path, channel: int, damage: str) -> Path:
    """A GDF 2.20 file of int16 EEG beside an int32 ``Status`` (sizes MNE cannot open: read by
    eegprep's own GDF reader), channel ``channel``'s ranges damaged."""
    from tests.eegprep.test_gdf_mixed_sizes import _Channel, _codes, _write

    sound = (-3276.8, 3276.7, -32768.0, 32767.0)
    channels = [_Channel(label, "int16", 256, "uV", sound) for label in LABELS[:3]]
    channels.append(_Channel("Status", "int32", 256, "", (0.0, 65535.0, 0.0, 65535.0)))
    codes = [_codes(c, SECONDS, seed) for seed, c in enumerate(channels)]
    channels[channel].ranges = MIXED_RANGES[damage]
    path = tmp_path / "mixed.gdf"
    _write(path, "GDF 2.20", channels, codes)
    return path


@pytest.mark.parametrize("damage", list(MIXED_RANGES))
@pytest.mark.parametrize("channel", [3, 1])
def test_a_mixed_sizes_gdf_refuses_only_a_damaged_kept_channel(
    tmp_path: Path, damage: str, channel: int
) -> None:
    clear_cache()
    path = _mixed_gdf(tmp_path, channel, damage)
    if channel == 1:
        with pytest.raises(SourceError, match="'Cz'") as info:
            read_preprocessed(path, _folder("mne"))
        assert "\n" not in str(info.value) and info.value.path == str(path)
        return
    pre = read_preprocessed(path, _folder("mne"))
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    assert len([w for w in pre.warnings if "Status" in w]) <= 1, pre.warnings


@pytest.mark.parametrize("label", ["", "   "])
def test_an_eeglab_channel_of_an_empty_label_is_dropped_not_refusing_the_file(
    tmp_path: Path, label: str
) -> None:
    """EEGLAB saves an empty label as an empty char array, which MNE took for no text (``each
    entry in ch_names must be an instance of str``): the file was refused though its other
    channels were EEG. The channel is now a channel of no site, dropped with one line."""
    from eeglabio.raw import export_set

    clear_cache()
    rng = np.random.default_rng(7)
    path = tmp_path / "x.set"
    export_set(str(path), rng.normal(0, 30e-6, (4, 256 * SECONDS)), 256.0, [*LABELS[:3], label])
    pre = read_preprocessed(path, _folder("mne"))
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    assert len([w for w in pre.warnings if "dropped" in w]) <= 1, pre.warnings


MNE_READ = tuple(CALIBRATION)
"""Every damage: MNE's EDF reader is given a stand-in number for a field it cannot parse
(``n/a``: :func:`~eegprep.readers.edf_mne_copy.calibrated_copy`)."""


@pytest.mark.parametrize("channel", [3, 1])
@pytest.mark.parametrize("damage", MNE_READ)
def test_an_edf_read_through_mne_refuses_only_a_damaged_kept_channel(
    tmp_path: Path, damage: str, channel: int
) -> None:
    """Given MNE options, a BDF is read through MNE, which read an EEG channel without
    calibration by a stand-in gain (1.2e9 uV for an empty digital range, stored unsaid)."""
    clear_cache()
    path = _file(tmp_path, ".bdf", channel, damage)
    raw = dict(load_manifest("folder").raw)
    raw["reader"], raw["mains"] = {"name": "mne", "options": {"eog": ["EOG"]}}, 50
    manifest = parse_manifest(raw, "my.toml")
    if channel == 1:
        with pytest.raises(SourceError, match="'Cz'") as info:
            read_preprocessed(path, manifest)
        assert "\n" not in str(info.value) and info.value.path == str(path)
        return
    pre = read_preprocessed(path, manifest)
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    assert len([w for w in pre.warnings if "Status" in w]) <= 1, pre.warnings


@pytest.mark.parametrize("head", ["Fp1,Cz,O1,", "Fp1,Cz,O1,   ", 'Fp1,Cz,O1,""', ",Fp1,Cz,O1"])
def test_a_csv_column_of_an_empty_name_is_dropped_not_an_internal_error(
    tmp_path: Path, head: str
) -> None:
    """A table one of whose columns has an empty name (a trailing separator, as spreadsheets
    write one; a blank index column) without a time column took that column for the time
    column and failed with ``KeyError: 'time_column'``. CSV and MATLAB tables carry one
    ``scale`` for every column: no per-channel calibration to damage."""
    raw = dict(load_manifest("folder").raw)
    raw["reader"], raw["mains"] = {"name": "csv", "options": {"sfreq": 256}}, 50
    x = np.random.default_rng(8).normal(0, 30, (256 * SECONDS, 4))
    path = tmp_path / "x.csv"
    path.write_text(head + "\n" + "\n".join(",".join(f"{v:.3f}" for v in r) for r in x) + "\n")
    pre = read_preprocessed(path, parse_manifest(raw, "my.toml"))
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    assert pre.warnings == ["channels not in the vocabulary, dropped: ''"]


@pytest.mark.parametrize("label", ["", "   "])
def test_a_mat_channel_of_an_empty_label_is_dropped_not_refusing_the_file(
    tmp_path: Path, label: str
) -> None:
    """MATLAB saves ``''`` in a cell of labels as an empty array: the file was refused
    (``holds no channel labels (expected strings)``) though its other channels were EEG."""
    from scipy.io import savemat

    raw = dict(load_manifest("folder").raw)
    options = {"data": "eeg", "sfreq": 256, "channels_variable": "clab"}
    raw["reader"], raw["mains"] = {"name": "mat", "options": options}, 50
    clab = np.empty((1, 4), dtype=object)
    clab[0, :] = [*LABELS[:3], label]
    path = tmp_path / "x.mat"
    eeg = np.random.default_rng(9).normal(0, 30, (4, 256 * SECONDS))
    savemat(path, {"eeg": eeg, "clab": clab})
    pre = read_preprocessed(path, parse_manifest(raw, "my.toml"))
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    assert pre.warnings == ["channels not in the vocabulary, dropped: ''"]


@pytest.mark.parametrize("channel", [3, 1])
def test_brainvision_text_data_refuses_only_a_channel_of_a_damaged_resolution(
    tmp_path: Path, channel: int
) -> None:
    """Text data (``DataFormat=ASCII``), which MNE is given as a rewritten header: the damaged
    channel's resolution is 1 there too; its samples alone are refused."""
    from eegprep.readers.mne_formats import MneReader
    from tests.eegprep.test_reader_vhdr_semantics import _write

    clear_cache()
    rows = [f"{label},,0.5,µV" for label in LABELS]
    rows[channel] = f"{LABELS[channel]},,abc,µV"
    values = np.round(np.random.default_rng(10).normal(0, 30, (4, 500)), 3)
    data = "\r\n".join(" ".join(f"{v:.3f}" for v in col) for col in values.T) + "\r\n"
    path = _write(tmp_path, rows, data, fmt="ASCII", common=["DataPoints=500"])
    header = MneReader.read_header(path)
    assert header.labels == LABELS
    (note,) = [w for w in header.warnings if "abc" in w]
    assert f"'{LABELS[channel]}'" in note
    sound = [i for i in range(4) if i != channel]
    got = MneReader.read_segment(header, sound, 0, 500)
    np.testing.assert_allclose(got, values[sound] * 0.5, atol=1e-3)
    with pytest.raises(SourceError, match=f"'{LABELS[channel]}'.*'abc'"):
        MneReader.read_segment(header, [channel], 0, 10)


def _unlabelled(path: Path, at: int, width: int) -> Path:
    """``path`` with the label field of ``width`` bytes at byte ``at`` blank."""
    data = bytearray(path.read_bytes())
    data[at : at + width] = b" " * width
    path.write_bytes(bytes(data))
    return path


def _unnamed_edf(tmp_path: Path, suffix: str) -> Path:
    path = _file(tmp_path, suffix, 3, "text")
    span = field_span("label", n_signals=len(LABELS), channel=3)
    return _unlabelled(path, span.start, span.stop - span.start)


UNNAMED: dict[str, Any] = {
    "edf": lambda p: (_unnamed_edf(p, ".edf"), _edf_manifest("own")),
    "bdf": lambda p: (_unnamed_edf(p, ".bdf"), _edf_manifest("own")),
    "edf through mne": lambda p: (_unnamed_edf(p, ".edf"), _edf_manifest("mne")),
    "brainvision": lambda p: (_vhdr(p, 3, ",,abc,µV"), _folder("mne")),
    "gdf": lambda p: (_unlabelled(_gdf(p, "2.20", 3, "nan"), 256 + 16 * 3, 16), _folder("mne")),
    "gdf mixed sizes": lambda p: (
        _unlabelled(_mixed_gdf(p, 3, "nan"), 256 + 16 * 3, 16),
        _folder("mne"),
    ),
}
"""A file of each format whose fourth channel has no label and a damaged calibration."""


@pytest.mark.parametrize("fmt", list(UNNAMED))
def test_an_unnamed_damaged_channel_is_said_in_one_line(tmp_path: Path, fmt: str) -> None:
    """A channel of no label whose calibration is damaged was named twice: once among the
    channels without a usable calibration, once among those not in the vocabulary. One line
    now names it with both problems."""
    clear_cache()
    path, manifest = UNNAMED[fmt](tmp_path)
    pre = read_preprocessed(path, manifest)
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()
    about = [w for w in pre.warnings if "''" in w or "calibration" in w or "vocabulary" in w]
    assert len(about) == 1, pre.warnings
    assert about[0].startswith("channels not in the vocabulary, dropped: '' (and without a "
                               "usable calibration: "), about[0]  # fmt: skip
