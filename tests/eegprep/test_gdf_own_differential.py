"""eegprep's own GDF reader (:mod:`eegprep.readers.gdf_own`, for a file whose channels store
samples of different sizes, which MNE does not open) against the MNE-read GDF path, on files of
one sample size that both read: the same filter settings recorded from the header (GDF 1's
prefiltering text, GDF 2's float fields), the same channels left out as NaN at every sample,
with the same warning, the same one line where every channel is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.base import Header
from eegprep.readers.gdf_own import gdf_own_header
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.test_gdf_mixed_sizes import _Channel, _codes, _write

_FACTS = ("highpass", "lowpass")


def _both(path: Path, **options: object) -> tuple[Header, Header]:
    """The header the MNE-read path gives and the one eegprep's own GDF reader gives."""
    clear_cache()
    mne_read = MneReader.read_header(str(path), **options)
    return mne_read, gdf_own_header(str(path), dict(options), None, "uV", "mne")


def _filters(header: Header) -> tuple[str, ...]:
    return tuple(header.meta_dict()[k] for k in _FACTS)


_GDF1 = [
    ["HP:0.1Hz LP:70Hz N:50Hz"] * 3,
    ["HP:0.5Hz LP:40Hz", "HP:0,1Hz LP:100Hz", "HP:DC LP:35Hz"],  # differing: 0.5 and 35
    ["HP: DC LP: 45 Hz", "", "none"],
    ["HP:0.1Hz LP:200Hz", "HP:0.1Hz LP:200Hz", "HP:5Hz LP:1Hz"],  # (the third: a stim's)
    ["HP:30Hz LP:10Hz"] * 3,  # a high-pass above the low-pass: none recorded
    ["LP:0Hz"] * 3,
]
_GDF2 = [
    [(70.0, 0.1, 50.0)] * 3,
    [(40.0, 0.5, 50.0), (100.0, 0.1, 60.0), (35.0, 0.0, 0.0)],
    [(np.nan, np.nan, np.nan), (45.0, np.nan, 50.0), (0.0, 0.0, 0.0)],
    [(200.0, 0.1, 0.0), (200.0, 0.1, 0.0), (1.0, 5.0, 0.0)],
    [(10.0, 30.0, 0.0)] * 3,
    [(-5.0, -1.0, 0.0)] * 3,
]


@pytest.mark.parametrize(
    ("version", "filters"),
    [("GDF 1.25", f) for f in _GDF1] + [("GDF 2.20", f) for f in _GDF2],
)
@pytest.mark.parametrize("stim", ["Status", "C4"])
def test_filters_recorded_as_the_mne_read_path_records_them(
    tmp_path: Path, version: str, filters: list, stim: str
) -> None:
    """Each channel's high-pass and low-pass: the highest high-pass and lowest low-pass of the
    channels but the stim channel (``Status``, faster than the others, whose half-rate is then
    no default), none stated giving 0 Hz and half the rate."""
    channels = [
        _Channel("Fz", "int16", 256, "uV", (-3276.8, 3276.7, -32768.0, 32767.0)),
        _Channel("Cz", "int16", 256, "uV", (-3276.8, 3276.7, -32768.0, 32767.0)),
        _Channel(stim, "int16", 512, "", (0.0, 255.0, 0.0, 255.0)),
    ]
    codes = [_codes(c, 2, seed) for seed, c in enumerate(channels)]
    path = tmp_path / "filters.gdf"
    _write(path, version, channels, codes, filters=filters)
    mne_read, own = _both(path)
    assert _filters(own) == _filters(mne_read)


def test_filters_were_read_from_the_header(tmp_path: Path) -> None:
    """The values themselves (not only the agreement): GDF 1 text and GDF 2 floats."""
    channels = [_Channel("Fz", "int16", 100), _Channel("Cz", "int16", 100)]
    codes = [_codes(c, 2, seed) for seed, c in enumerate(channels)]
    for version, filters in (("GDF 1.25", _GDF1[1][:2]), ("GDF 2.20", _GDF2[1][:2])):
        path = tmp_path / f"{version[4]}.gdf"
        _write(path, version, channels, codes, filters=filters)
        own = gdf_own_header(str(path), {}, None, "uV", "mne")
        assert _filters(own) == ("0.5", "40")


def _floats(version: str, nan_at: list[int], partly: int | None) -> tuple[list, list]:
    """Four float32 channels (one size, which MNE opens), some NaN at every sample, one NaN
    at all but its last sample (past the first samples read of each)."""
    channels = [_Channel(name, "float32", 1000, "uV", (-500.0, 500.0, -500.0, 500.0))
                for name in ("Fp1", "Fp2", "C3", "C4")]  # fmt: skip
    codes = [_codes(c, 6, seed) for seed, c in enumerate(channels)]
    for i in nan_at:
        codes[i][:] = np.nan
    if partly is not None:
        codes[partly].ravel()[:-1] = np.nan
    return channels, codes


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("nan_at", [[0], [2], [1, 3]])
def test_a_float_channel_nan_at_every_sample_is_left_out_as_mne_read(
    tmp_path: Path, version: str, nan_at: list[int]
) -> None:
    partly = next(i for i in range(4) if i not in nan_at)
    channels, codes = _floats(version, nan_at, partly)
    path = tmp_path / "nan.gdf"
    _write(path, version, channels, codes)
    mne_read, own = _both(path)
    names = [c.label for c in channels]
    assert own.empty_channels == mne_read.empty_channels == tuple(names[i] for i in nan_at)
    assert own.labels == mne_read.labels == [n for i, n in enumerate(names) if i not in nan_at]
    said = [w for w in own.warnings if "holds no samples" in w or "hold no samples" in w]
    assert said == [w for w in mne_read.warnings if w in said] and len(said) == 1
    kept = [i for i in range(4) if i not in nan_at]
    n = own.signals[0].n_samples
    got = MneReader.read_segment(own, list(range(len(kept))), 0, n)
    want = MneReader.read_segment(mne_read, list(range(len(kept))), 0, n)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_every_channel_nan_is_one_line_as_mne_read(tmp_path: Path, version: str) -> None:
    channels, codes = _floats(version, [0, 1, 2, 3], None)
    path = tmp_path / "all_nan.gdf"
    _write(path, version, channels, codes)
    messages = []
    for read in (lambda: MneReader.read_header(str(path)),
                 lambda: gdf_own_header(str(path), {}, None, "uV", "mne")):  # fmt: skip
        clear_cache()
        with pytest.raises(SourceError) as err:
            read()
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "every sample of every channel is NaN" in messages[0] and "\n" not in messages[0]


def test_a_nan_channel_of_a_mixed_sizes_file_is_left_out(tmp_path: Path) -> None:
    """The file MNE does not open (int16 beside float64): its NaN float channel is left out,
    the integer and the other channels read as written."""
    channels = [_Channel("Fz", "int16", 8, "uV", (-3276.8, 3276.7, -32768.0, 32767.0)),
                _Channel("Cz", "float64", 8), _Channel("Pz", "float32", 4)]  # fmt: skip
    codes = [_codes(c, 3, seed) for seed, c in enumerate(channels)]
    codes[1][:] = np.nan
    path = tmp_path / "mixed.gdf"
    _write(path, "GDF 2.20", channels, codes)
    clear_cache()
    header = MneReader.read_header(str(path))
    assert header.labels == ["Fz", "Pz"] and header.empty_channels == ("Cz",)
    assert "channel 'Cz' holds no samples (every sample NaN): left out" in header.warnings
    pz = MneReader.read_segment(header, [1], 0, 12)[0]
    np.testing.assert_allclose(pz, codes[2].ravel(), rtol=1e-6)


def test_a_nan_float_channel_beside_integers_of_its_size_is_left_out(tmp_path: Path) -> None:
    """MNE opens a file of int32 and float32 channels (one size) but reads the floats' bits as
    integers, so its NaN channel was kept as numbers; read in its own type, it is left out."""
    channels = [_Channel("Fz", "int32", 100, "uV", (-1e4, 1e4, -(2.0**31), 2.0**31 - 1)),
                _Channel("Cz", "float32", 100), _Channel("Pz", "float32", 100)]  # fmt: skip
    codes = [_codes(c, 3, seed) for seed, c in enumerate(channels)]
    codes[1][:] = np.nan
    path = tmp_path / "same_size.gdf"
    _write(path, "GDF 2.20", channels, codes)
    mne_read, own = _both(path)
    assert mne_read.labels == own.labels == ["Fz", "Pz"]
    assert mne_read.empty_channels == own.empty_channels == ("Cz",)
    pz = MneReader.read_segment(mne_read, [1], 0, 300)[0]
    np.testing.assert_allclose(pz, codes[2].ravel(), rtol=1e-6)
