"""Neuroscan CNT files written byte by byte as SCAN 4 lays them out (the 900-byte SETUP header,
one 75-byte ELECTLOC per channel, multiplexed 16- or 32-bit samples, an event table), and each
sample's microvolts computed here from the format's definition: ``(code - baseline) *
sensitivity * calibration / 204.8``."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.mne_formats import MneReader, clear_cache


def _cnt(
    path: Path,
    codes: np.ndarray,
    *,
    width: int,
    baselines: list[int],
    sensitivities: list[float],
    calibrations: list[float],
    stated_samples: int | None = None,
    block: int = 0,
) -> None:
    """A CNT file of ``codes``, shape (n_channels, n_samples), ``width`` bytes per sample,
    multiplexed (one sample of every channel in turn; ``block``: ChannelOffset in bytes, that
    many bytes of one channel at a time); an empty type-2 event table after the samples."""
    n_channels, n_samples = codes.shape
    setup = bytearray(900)
    setup[0:12] = b"Version 3.0\0"
    struct.pack_into("<H", setup, 370, n_channels)
    struct.pack_into("<H", setup, 376, 500)
    struct.pack_into("<i", setup, 864, n_samples if stated_samples is None else stated_samples)
    data_start = 900 + 75 * n_channels
    struct.pack_into("<i", setup, 886, data_start + codes.size * width)
    struct.pack_into("<i", setup, 894, block)
    chans = bytearray(75 * n_channels)
    for i in range(n_channels):
        chans[75 * i : 75 * i + 3] = f"C{i}".encode().ljust(3, b"\0")
        struct.pack_into("<h", chans, 75 * i + 47, baselines[i])
        struct.pack_into("<f", chans, 75 * i + 59, sensitivities[i])
        struct.pack_into("<f", chans, 75 * i + 71, calibrations[i])
    dtype = "<i2" if width == 2 else "<i4"
    per = block // width if block > 1 else 1
    blocks = codes.reshape(n_channels, n_samples // per, per).transpose(1, 0, 2)
    table = struct.pack("<Bii", 2, 0, 0)
    path.write_bytes(bytes(setup) + bytes(chans) + blocks.astype(dtype).tobytes() + table)


def _expected(
    codes: np.ndarray, base: list[int], sens: list[float], cal: list[float]
) -> np.ndarray:
    """Microvolts by the definition, float64, from the float32 fields as stored."""
    scale = np.float32(sens).astype(float) * np.float32(cal).astype(float) / 204.8
    return (codes - np.array(base)[:, None]) * scale[:, None]


def _read(path: Path, **options: object) -> np.ndarray:
    clear_cache()
    header = MneReader.read_header(str(path), **options)
    n = header.signals[0].n_samples
    return MneReader.read_segment(header, range(len(header.signals)), 0, n)


@pytest.mark.parametrize("width", [2, 4])
@pytest.mark.parametrize("block", [0, 8])
def test_cnt_calibration_per_channel(tmp_path: Path, width: int, block: int) -> None:
    """Each channel's baseline, sensitivity and calibration; 16 and 32-bit samples, inferred
    from the header; samples multiplexed one at a time or in blocks (ChannelOffset)."""
    rng = np.random.default_rng(1)
    high = 30000 if width == 2 else 3_000_000
    codes = rng.integers(-high, high, size=(3, 40))
    base, sens, cal = [0, 12, -7], [200.0, 50.0, 1.0], [1.0, 0.5, 2.5]
    path = tmp_path / "x.cnt"
    _cnt(path, codes, width=width, baselines=base, sensitivities=sens, calibrations=cal,
         block=block * width // 2)  # fmt: skip
    np.testing.assert_allclose(_read(path), _expected(codes, base, sens, cal), rtol=1e-6)


_PLAIN = {"baselines": [0, 0], "sensitivities": [204.8, 204.8], "calibrations": [1.0, 1.0]}


@pytest.mark.parametrize(("width", "given"), [(4, "int16"), (2, "int32")])
def test_cnt_data_format_against_the_header(tmp_path: Path, width: int, given: str) -> None:
    """``data_format`` naming the other width than the header's sample count and event table
    give: 32-bit samples read as 16-bit gave every value as two halves, without a word (16-bit
    read as 32-bit failed when samples were read); both are one line naming the option."""
    codes = np.arange(2 * 40).reshape(2, 40) * 700 - 27000
    path = tmp_path / "x.cnt"
    _cnt(path, codes, width=width, **_PLAIN)
    clear_cache()
    with pytest.raises(SourceError, match=rf'x\.cnt: the reader\'s data_format is "{given}"'):
        MneReader.read_header(str(path), data_format=given)
    np.testing.assert_allclose(
        _read(path, data_format={2: "int16", 4: "int32"}[width]), codes, rtol=1e-6
    )


def test_cnt_sample_count_past_the_event_table(tmp_path: Path) -> None:
    """A header counting 60 samples where 40 lie before the event table: refused when the
    header is read (MNE failed later, reading samples: ``cannot reshape array``), naming
    ``recompute_n_samples``, which reads the 40."""
    codes = np.arange(2 * 40).reshape(2, 40) - 40
    path = tmp_path / "x.cnt"
    _cnt(path, codes, width=2, stated_samples=60, **_PLAIN)
    clear_cache()
    with pytest.raises(SourceError, match=r"x\.cnt: the header's sample count.*is 60.*after 40"):
        MneReader.read_header(str(path), data_format="int16")
    np.testing.assert_allclose(_read(path, data_format="int16", recompute_n_samples=True), codes)


def test_cnt_more_samples_than_counted_warns(tmp_path: Path) -> None:
    """30 samples counted, 40 before the event table: the header's 30 are read, as MNE reads
    them, with a warning (before: the last 10 left out without one)."""
    codes = np.arange(2 * 40).reshape(2, 40) - 40
    path = tmp_path / "x.cnt"
    _cnt(path, codes, width=2, stated_samples=30, **_PLAIN)
    clear_cache()
    header = MneReader.read_header(str(path), data_format="int16")
    assert header.signals[0].n_samples == 30
    assert any("hold 40 samples per channel" in w for w in header.warnings)
    np.testing.assert_allclose(_read(path, data_format="int16"), codes[:, :30])
