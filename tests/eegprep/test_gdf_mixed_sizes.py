"""GDF files whose channels store samples of different sizes (int16 EEG beside an int32 status
channel, float32 and float64 channels, ...), written byte by byte from the GDF 1.x and 2.x
layouts, read by eegprep (MNE does not open them), each channel in its own type and rate; the
expected values computed here from the format's definition: ``phys = phys_min + (code -
dig_min) * (phys_max - phys_min) / (dig_max - dig_min)`` in the channel's unit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import gdf_records
from eegprep.readers.mne_formats import MneReader, clear_cache

# GDF's sample type codes and the little-endian types they name (the GDF 2 specification)
_TYPES = {"int8": (1, "<i1"), "uint8": (2, "<u1"), "int16": (3, "<i2"), "uint16": (4, "<u2"),
          "int32": (5, "<i4"), "uint32": (6, "<u4"), "int64": (7, "<i8"), "uint64": (8, "<u8"),
          "float32": (16, "<f4"), "float64": (17, "<f8")}  # fmt: skip
_UNITS = {"uV": 4256 + 19, "mV": 4256 + 18, "": 0}  # GDF 2 PhysDimCode (volt + prefix)
_TO_UV = {"uV": 1.0, "mV": 1e3, "": 1.0}


@dataclass
class _Channel:
    label: str
    sample_type: str
    n_per_record: int
    unit: str = "uV"
    ranges: tuple[float, float, float, float] = (-100.0, 100.0, -100.0, 100.0)


def _codes(channel: _Channel, n_records: int, seed: int) -> np.ndarray:
    """Codes within the channel's type and digital range, shape (n_records, n_per_record)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(_TYPES[channel.sample_type][1])
    _, _, dmin, dmax = channel.ranges
    shape = (n_records, channel.n_per_record)
    if dtype.kind == "f":
        return (rng.uniform(dmin, dmax, size=shape)).astype(dtype)
    return rng.integers(int(dmin), int(dmax), size=shape, endpoint=True).astype(dtype)


def _write(
    path: Path,
    version: str,
    channels: list[_Channel],
    codes: list[np.ndarray],
    *,
    duration: tuple[int, int] = (1, 1),
    events: bytes = b"\x01" + b"\0" * 7,
    n_records: int | None = None,
    filters: list[str] | list[tuple[float, float, float]] | None = None,
) -> None:
    """A GDF file: fixed header, 256 bytes per channel (GDF 1 or 2 layout), the records (each
    channel's samples of a record in turn, in its own type), then ``events``; ``filters`` each
    channel's prefiltering text (GDF 1) or (low-pass, high-pass, notch) in Hz (GDF 2)."""
    ns, gdf2 = len(channels), version >= "GDF 1.9"
    head = bytearray(256)
    head[0:8] = version.encode()
    head[168:184] = b"2024010212304550" if not gdf2 else bytes(16)
    if gdf2:
        struct.pack_into("<H", head, 184, ns + 1)
        struct.pack_into("<H", head, 252, ns)
    else:
        struct.pack_into("<q", head, 184, 256 * (ns + 1))
        struct.pack_into("<I", head, 252, ns)
    struct.pack_into("<q", head, 236, len(codes[0]) if n_records is None else n_records)
    struct.pack_into("<II", head, 244, *duration)
    pmin, pmax, dmin, dmax = (np.array([c.ranges[k] for c in channels]) for k in range(4))
    out = b"".join(c.label.encode().ljust(16, b"\0") for c in channels) + b"\0" * 80 * ns
    if gdf2:
        out += b"\0" * 6 * ns + struct.pack(f"<{ns}H", *[_UNITS[c.unit] for c in channels])
        out += struct.pack(f"<{4 * ns}d", *pmin, *pmax, *dmin, *dmax)
        stated = filters or [(0.0, 0.0, 0.0)] * ns
        out += b"\0" * 68 * ns + struct.pack(f"<{3 * ns}f", *np.array(stated, "<f4").T.ravel())
    else:
        out += b"".join(c.unit.encode().ljust(8, b"\0") for c in channels)
        out += struct.pack(f"<{2 * ns}d", *pmin, *pmax)
        out += struct.pack(f"<{2 * ns}q", *dmin.astype(int), *dmax.astype(int))
        out += b"".join(str(t).encode().ljust(80, b"\0") for t in filters or [""] * ns)
    out += struct.pack(f"<{ns}i", *[c.n_per_record for c in channels])
    out += struct.pack(f"<{ns}i", *[_TYPES[c.sample_type][0] for c in channels])
    out += b"\0" * 32 * ns
    assert len(out) == 256 * ns
    records = b"".join(c[r].tobytes() for r in range(len(codes[0])) for c in codes)
    path.write_bytes(bytes(head) + out + records + events)


def _expected(channel: _Channel, codes: np.ndarray) -> np.ndarray:
    """Microvolts (a unitless channel: its physical values) by the definition."""
    pmin, pmax, dmin, dmax = channel.ranges
    phys = pmin + (codes.ravel().astype(np.float64) - dmin) * (pmax - pmin) / (dmax - dmin)
    return phys * _TO_UV[channel.unit]


def _table(version: str, rate: float, positions: list[int], durations: list[int]) -> bytes:
    """A mode-3 event table (positions from 1, codes 1, 2, ...); GDF before 1.94: the rate in
    3 bytes and the count in 4; later: the count in 3 bytes and the rate as float32."""
    n = len(positions)
    if version < "GDF 1.94":
        head = b"\x03" + int(rate).to_bytes(3, "little") + struct.pack("<I", n)
    else:
        head = b"\x03" + n.to_bytes(3, "little") + struct.pack("<f", rate)
    body = struct.pack(f"<{n}I", *positions) + struct.pack(f"<{n}H", *range(1, n + 1))
    return head + body + struct.pack(f"<{n}H", *[0] * n) + struct.pack(f"<{n}I", *durations)


_MIXED = [
    _Channel("Fz", "int16", 8, "uV", (-3276.8, 3276.7, -32768.0, 32767.0)),
    _Channel("Cz", "float32", 8, "uV", (-500.0, 500.0, -500.0, 500.0)),
    _Channel("Pz", "float64", 4, "mV", (-2.0, 2.0, -4.0, 4.0)),
    _Channel("A8", "int8", 2, "uV", (-50.0, 77.0, -128.0, 127.0)),
    _Channel("U8", "uint8", 8, "uV", (0.0, 255.0, 0.0, 255.0)),
    _Channel("U16", "uint16", 8, "mV", (-1.0, 1.0, 0.0, 65535.0)),
    _Channel("I32", "int32", 8, "uV", (-1e4, 1e4, -(2.0**31), 2.0**31 - 1)),
    _Channel("U32", "uint32", 4, "uV", (0.0, 429.4967295, 0.0, 2.0**32 - 1)),
    _Channel("I64", "int64", 8, "uV", (-1000.0, 1000.0, -1e6, 1e6)),
    _Channel("U64", "uint64", 2, "uV", (0.0, 1000.0, 0.0, 1e6)),
    _Channel("Status", "int32", 8, "", (0.0, 65535.0, 0.0, 65535.0)),
]


def _read(path: Path) -> tuple[object, dict[float, np.ndarray]]:
    """The header and every channel's samples, read rate by rate (float32 microvolts)."""
    clear_cache()
    header = MneReader.read_header(str(path))
    data = {}
    for i, signal in enumerate(header.signals):
        data[i] = MneReader.read_segment(header, [i], 0, signal.n_samples)[0]
    return header, data


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20", "GDF 2.51"])
def test_gdf_channels_of_different_sizes_read_as_written(tmp_path: Path, version: str) -> None:
    """Every sample type GDF defines, side by side in one file of 3 records of 1/2 s (so rates
    16, 8 and 4 Hz): each channel's labels, rate, length and values (to float32 precision) as
    written; a ``Status`` channel is a stim channel of codes; events at the table's rate."""
    path = tmp_path / "mixed.gdf"
    codes = [_codes(c, 3, seed) for seed, c in enumerate(_MIXED)]
    events = _table(version, 32.0, [1, 17, 33], [8, 16, 0])
    _write(path, version, _MIXED, codes, duration=(1, 2), events=events)
    header, data = _read(path)
    assert [s.label for s in header.signals] == [c.label for c in _MIXED]
    assert [s.sfreq for s in header.signals] == [2.0 * c.n_per_record for c in _MIXED]
    assert [s.n_samples for s in header.signals] == [3 * c.n_per_record for c in _MIXED]
    assert [s.kind for s in header.signals] == ["eeg"] * 10 + ["stim"]
    assert header.duration == 1.5
    start = "" if version > "GDF 1.9" else "2024-01-02T12:30:45.500000+00:00"  # (as written)
    assert dict(header.meta)["meas_date"] == start
    for i, channel in enumerate(_MIXED):
        expected = _expected(channel, codes[i])
        np.testing.assert_allclose(data[i], expected, rtol=1e-6, atol=1e-6, err_msg=channel.label)
    floats = {i for i, c in enumerate(_MIXED) if c.sample_type.startswith("float")}
    assert all((header.signals[i].resolution == 0.0) == (i in floats) for i in range(11))
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (0.0, 0.25, "1"),
        (0.5, 0.5, "2"),
        (1.0, 1 / 16, "3"),  # (mode 3, duration 0: one sample of the fastest channel)
    ]


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_mixed_sizes_segments_equal_the_whole(
    tmp_path: Path, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment that starts and ends inside records equals the whole read sliced, also when
    the records are read a few at a time (memory bounded: pieces of ``_CHUNK_BYTES``)."""
    channels = [
        _Channel("Fz", "int16", 25),
        _Channel("T", "float64", 5),
        _Channel("S", "int32", 25),
    ]
    codes = [_codes(c, 40, seed) for seed, c in enumerate(channels)]
    path = tmp_path / "x.gdf"
    _write(path, version, channels, codes)
    header, whole = _read(path)
    monkeypatch.setattr(gdf_records, "_CHUNK_BYTES", 3 * (50 + 40 + 100))  # 3 records a piece
    for i, start, stop in ((0, 13, 987), (1, 7, 193), (2, 0, 1000), (0, 400, 401)):
        part = MneReader.read_segment(header, [i], start, stop)[0]
        np.testing.assert_array_equal(part, whole[i][start:stop])
    np.testing.assert_allclose(whole[1], _expected(channels[1], codes[1]), rtol=1e-6)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_mixed_sizes_damaged_refused_in_one_line(tmp_path: Path, version: str) -> None:
    """A file of mixed sizes cut inside its records, or claiming 2^40 records, is refused in
    one line naming the file and what is wrong; nothing is read past its end."""
    channels = [_Channel("Fz", "int16", 10), _Channel("S", "int32", 10)]
    codes = [_codes(c, 4, seed) for seed, c in enumerate(channels)]
    for n_records, cut, expected in ((None, 30, "truncated"), (2**40, 0, "truncated")):
        path = tmp_path / f"bad{n_records}.gdf"
        _write(path, version, channels, codes, n_records=n_records)
        if cut:
            path.write_bytes(path.read_bytes()[:-cut])
        clear_cache()
        with pytest.raises(SourceError) as err:
            MneReader.read_header(str(path))
        message = str(err.value)
        assert str(path) in message and expected in message and "\n" not in message


def test_gdf_mixed_sizes_header_claims_checked_per_channel(tmp_path: Path) -> None:
    """The record's size is the sum of each channel's samples times its own type's size: a
    file one int32 sample longer than that, with no event table (GDF 2), is read with a
    warning that it is longer, not refused or misread."""
    channels = [_Channel("Fz", "int16", 4), _Channel("S", "int32", 4), _Channel("F", "float64", 2)]
    codes = [_codes(c, 5, seed) for seed, c in enumerate(channels)]
    path = tmp_path / "x.gdf"
    _write(path, "GDF 2.20", channels, codes, events=b"\x01" + b"\0" * 7 + b"\0\0\0\0")
    header, data = _read(path)
    assert any("longer than its header says" in w for w in header.warnings), header.warnings
    for i, channel in enumerate(channels):
        np.testing.assert_allclose(data[i], _expected(channel, codes[i]), rtol=1e-6, atol=1e-6)


def test_gdf_mixed_sizes_kinds_follow_mne_options(tmp_path: Path) -> None:
    """The ``eog``, ``misc`` and ``stim_channel`` options of MNE's GDF reader give the kinds
    they give a file MNE opens: an EOG channel in its unit, a stim channel's codes as they
    are (its physical values, ``to_uv`` 1)."""
    channels = [_Channel("Fz", "int16", 4), _Channel("HEOG", "float32", 4, "mV"),
                _Channel("Trig", "int32", 4, "uV", (0.0, 255.0, 0.0, 255.0))]  # fmt: skip
    codes = [_codes(c, 3, seed) for seed, c in enumerate(channels)]
    path = tmp_path / "x.gdf"
    _write(path, "GDF 2.20", channels, codes)
    clear_cache()
    header = MneReader.read_header(str(path), eog=["HEOG"], stim_channel="trig")
    assert [s.kind for s in header.signals] == ["eeg", "eog", "stim"]
    assert [s.to_uv for s in header.signals] == [1.0, 1000.0, 1.0]
    trig = MneReader.read_segment(header, [2], 0, 12)[0]
    np.testing.assert_array_equal(trig, codes[2].ravel())
