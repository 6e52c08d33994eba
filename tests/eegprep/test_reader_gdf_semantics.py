"""GDF files written byte by byte as other writers lay them out (GDF 1.x with a text unit per
channel, GDF 2.x with a PhysDimCode), and each sample's expected microvolts computed here from
the format's own definition: ``phys = phys_min + (code - dig_min) * (phys_max - phys_min) /
(dig_max - dig_min)`` in the channel's unit, the rate ``samples per record / (num / den) s``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader, clear_cache

# GDF 2 PhysDimCode: volt is 4256, the low 5 bits a decimal prefix (18 milli, 19 micro, 20 nano)
_VOLT_CODES = {"V": 4256, "mV": 4256 + 18, "uV": 4256 + 19, "nV": 4256 + 20}
_TO_UV = {"V": 1e6, "mV": 1e3, "uV": 1.0, "nV": 1e-3}
# GDF's sample type codes and the little-endian types they name (the GDF 2 specification)
_SAMPLE_TYPES = {1: "<i1", 2: "<u1", 3: "<i2", 4: "<u2", 5: "<i4", 6: "<u4", 7: "<i8",
                 8: "<u8", 16: "<f4", 17: "<f8"}  # fmt: skip


def _gdf(
    path: Path,
    version: str,
    units: list[str],
    codes: np.ndarray | list[np.ndarray],
    *,
    duration: tuple[int, int] = (1, 1),
    ranges: tuple[float, float, float, float] = (-3200.0, 3200.0, -32768.0, 32767.0),
    events: bytes = b"\x01" + b"\0" * 7,
    sample_type: int = 3,
) -> None:
    """A GDF file of int16 samples; ``codes``: shape (n_records, n_channels, n_per_record), or
    one array per channel, shape (n_records, its samples per record); ``events``: the event
    table after the records (default: mode 1, no events); ``sample_type``: GDF's code of every
    channel's sample type (3: int16)."""
    channels = (
        [codes[:, c] for c in range(codes.shape[1])] if isinstance(codes, np.ndarray) else codes
    )
    n_records, ns = len(channels[0]), len(channels)
    gdf2 = version >= "GDF 1.9"
    head = bytearray(256)
    head[0:8] = version.encode()
    if gdf2:
        struct.pack_into("<H", head, 184, ns + 1)  # header length in 256-byte blocks
        struct.pack_into("<H", head, 252, ns)
    else:
        struct.pack_into("<q", head, 184, 256 * (ns + 1))
        struct.pack_into("<I", head, 252, ns)
    struct.pack_into("<q", head, 236, n_records)
    struct.pack_into("<II", head, 244, *duration)
    pmin, pmax, dmin, dmax = ranges
    chans = b"".join(f"ch{i}".encode().ljust(16, b"\0") for i in range(ns))
    chans += b"\0" * 80 * ns  # transducer
    if gdf2:
        chans += b"\0" * 6 * ns + b"".join(struct.pack("<H", _VOLT_CODES[u]) for u in units)
        chans += struct.pack(f"<{4 * ns}d", *[pmin] * ns, *[pmax] * ns, *[dmin] * ns, *[dmax] * ns)
        chans += b"\0" * 68 * ns + b"\0" * 12 * ns  # prefiltering; low, high, notch
    else:
        chans += b"".join(u.encode("latin-1").ljust(8, b"\0") for u in units)
        chans += struct.pack(f"<{2 * ns}d", *[pmin] * ns, *[pmax] * ns)
        chans += struct.pack(f"<{2 * ns}q", *[int(dmin)] * ns, *[int(dmax)] * ns)
        chans += b"\0" * 80 * ns
    chans += struct.pack(f"<{ns}i", *[c.shape[1] for c in channels])
    chans += struct.pack(f"<{ns}i", *[sample_type] * ns)
    chans += b"\0" * 32 * ns
    assert len(chans) == 256 * ns
    dtype = _SAMPLE_TYPES[sample_type]
    records = b"".join(c[r].astype(dtype).tobytes() for r in range(n_records) for c in channels)
    path.write_bytes(bytes(head) + chans + records + events)


def _expected_uv(codes: np.ndarray, units: list[str], ranges: tuple[float, ...]) -> np.ndarray:
    """Microvolts by the definition, shape (n_channels, n_samples)."""
    pmin, pmax, dmin, dmax = ranges
    per_channel = codes.transpose(1, 0, 2).reshape(codes.shape[1], -1).astype(np.float64)
    phys = pmin + (per_channel - dmin) * (pmax - pmin) / (dmax - dmin)
    return phys * np.array([_TO_UV[u] for u in units])[:, None]


def _read(path: Path) -> tuple[object, np.ndarray]:
    clear_cache()
    header = MneReader.read_header(str(path))
    n = header.signals[0].n_samples
    return header, MneReader.read_segment(header, range(len(header.signals)), 0, n)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_channel_units_scale_each_channel(tmp_path: Path, version: str) -> None:
    """A channel in mV, V or nV is read in its own unit (MNE knows only uV, and mV in GDF 2,
    and takes any other for volts: mV read 1000x too large in GDF 1)."""
    units = ["uV", "mV", "V", "nV"]
    rng = np.random.default_rng(0)
    codes = rng.integers(-30000, 30000, size=(3, len(units), 10))
    ranges = (-3.2, 3.2, -32768.0, 32767.0)
    path = tmp_path / "x.gdf"
    _gdf(path, version, units, codes, ranges=ranges)
    header, data = _read(path)
    expected = _expected_uv(codes, units, ranges)
    np.testing.assert_allclose(data, expected, rtol=1e-6, atol=1e-9)
    assert [s.unit for s in header.signals] == units


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_rational_record_duration_and_asymmetric_range(tmp_path: Path, version: str) -> None:
    """Records of 1/3 s holding 85 samples: 255 Hz; a physical range with an offset."""
    codes = np.arange(2 * 2 * 85).reshape(2, 2, 85) - 100
    ranges = (-100.0, 500.0, -2048.0, 2047.0)
    path = tmp_path / "x.gdf"
    _gdf(path, version, ["uV", "uV"], codes, duration=(1, 3), ranges=ranges)
    header, data = _read(path)
    assert header.signals[0].sfreq == 255.0
    np.testing.assert_allclose(data, _expected_uv(codes, ["uV", "uV"], ranges), rtol=1e-6)


def _table(version: str, rate: float, positions: list[int], mode: int = 1) -> bytes:
    """An event table: GDF 1 and GDF 2 before 1.94 write the rate in 3 bytes and the count in
    4, later versions the count in 3 bytes and the rate as float32; positions count from 1."""
    n = len(positions)
    if version < "GDF 1.94":
        head = bytes([mode]) + int(rate).to_bytes(3, "little") + struct.pack("<I", n)
    else:
        head = bytes([mode]) + n.to_bytes(3, "little") + struct.pack("<f", rate)
    body = struct.pack(f"<{n}I", *positions) + struct.pack(f"<{n}H", *range(1, n + 1))
    if mode == 3:
        body += struct.pack(f"<{n}H", *[0] * n) + struct.pack(f"<{n}I", *[250] * n)
    return head + body


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_events_timed_at_their_table_rate(tmp_path: Path, version: str) -> None:
    """Samples at 100 Hz, an event table at 1000 Hz (its positions are at that rate, from 1):
    position 501 is 0.5 s, position 1501 is 1.5 s (MNE: 5 s and 15 s, past the 2-s end, both
    dropped with a warning that the samples were cut)."""
    path = tmp_path / "x.gdf"
    events = _table(version, 1000.0, [501, 1501], mode=3)
    _gdf(path, version, ["uV"], np.zeros((2, 1, 100), dtype=int), events=events)
    header, _ = _read(path)
    assert header.signals[0].sfreq == 100.0
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (0.5, 0.25, "1"),
        (1.5, 0.25, "2"),
    ]
    assert not header.warnings


def test_gdf_events_past_the_end_at_their_rate_are_named(tmp_path: Path) -> None:
    """An event at 2.5 s of a 2-s file (table at 1000 Hz) is dropped with a warning; one at
    0.1 s is kept."""
    path = tmp_path / "x.gdf"
    events = _table("GDF 2.20", 1000.0, [101, 2501])
    _gdf(path, "GDF 2.20", ["uV"], np.zeros((2, 1, 100), dtype=int), events=events)
    header, _ = _read(path)
    assert [a.onset for a in header.annotations] == [0.1]
    assert "1 event" in header.warnings[0] and "1000 Hz" in header.warnings[0]


def test_gdf1_without_an_event_table_is_one_line(tmp_path: Path) -> None:
    """A GDF 1 file that ends with its records (MNE: ``IndexError: index 0 is out of bounds``)
    is refused naming what is missing and what to do; with an empty table it is read."""
    from eegprep.base.errors import SourceError

    path = tmp_path / "x.gdf"
    codes = np.arange(20).reshape(2, 1, 10)
    _gdf(path, "GDF 1.25", ["uV"], codes, events=b"")
    clear_cache()
    with pytest.raises(SourceError, match=r"x\.gdf.*without the event table.*empty table"):
        MneReader.read_header(str(path))
    _gdf(path, "GDF 1.25", ["uV"], codes)
    _, data = _read(path)
    np.testing.assert_allclose(data, _expected_uv(codes, ["uV"], (-3200, 3200, -32768, 32767)))


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_gdf_slower_channel_at_its_own_rate(tmp_path: Path, version: str) -> None:
    """Records of 1/10 s: one channel of 10 samples (100 Hz), one of 5 (50 Hz) holding a
    ramp. The slower channel is read at 50 Hz, each sample the definition's value (MNE
    resampled it to 100 Hz by FFT: -220 uV for 50 at its second sample, 950 for 1950 at its
    last); the faster one as before; a segment in the middle of a record alike."""
    fast = np.arange(40).reshape(4, 10) * 3 - 50
    slow = np.arange(20).reshape(4, 5) * 100 - 700
    ranges = (-3200.0, 3200.0, -32768.0, 32767.0)
    path = tmp_path / "x.gdf"
    _gdf(path, version, ["uV", "mV"], [fast, slow], duration=(1, 10), ranges=ranges)
    clear_cache()
    header = MneReader.read_header(str(path))
    assert [(s.sfreq, s.n_samples) for s in header.signals] == [(100.0, 40), (50.0, 20)]
    pmin, pmax, dmin, dmax = ranges
    phys = pmin + (slow.ravel() - dmin) * (pmax - pmin) / (dmax - dmin)
    got = MneReader.read_segment(header, [1], 0, 20)[0]
    np.testing.assert_allclose(got, phys * 1e3, rtol=1e-6)
    np.testing.assert_allclose(MneReader.read_segment(header, [1], 3, 13)[0], got[3:13])
    fast_phys = pmin + (fast.ravel() - dmin) * (pmax - pmin) / (dmax - dmin)
    np.testing.assert_allclose(MneReader.read_segment(header, [0], 0, 40)[0], fast_phys, rtol=1e-6)


@pytest.mark.parametrize("sample_type", sorted(_SAMPLE_TYPES))
def test_gdf_sample_types_at_one_and_at_two_rates(tmp_path: Path, sample_type: int) -> None:
    """Every sample type GDF defines (int8 ... uint64, float32, float64), each code scaled by
    the channel's ranges: read through MNE when the channels share a rate, by eegprep for the
    slower one when they do not (a float type is scaled as an integer one: GDF defines one
    formula)."""
    info = np.iinfo(_SAMPLE_TYPES[sample_type]) if sample_type < 16 else None
    low, high = (-100, 100) if info is None else (max(info.min, -100), min(info.max, 100))
    rng = np.random.default_rng(sample_type)
    fast = rng.integers(low, high, size=(3, 8))
    slow = rng.integers(low, high, size=(3, 4))
    ranges = (-500.0, 1500.0, -1000.0, 1000.0)
    pmin, pmax, dmin, dmax = ranges
    path = tmp_path / "x.gdf"
    for channels in ([fast, fast[:, ::-1]], [fast, slow]):
        _gdf(path, "GDF 2.20", ["uV", "uV"], channels, ranges=ranges, sample_type=sample_type)
        clear_cache()
        header = MneReader.read_header(str(path))
        for i, codes in enumerate(channels):
            n = header.signals[i].n_samples
            got = MneReader.read_segment(header, [i], 0, n)[0]
            expected = pmin + (codes.ravel() - dmin) * (pmax - pmin) / (dmax - dmin)
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_gdf1_micro_sign_unit(tmp_path: Path, encoding: str) -> None:
    """GDF 1's unit field written ``µV`` (Latin-1 0xB5, or UTF-8 0xC2 0xB5): microvolts (MNE
    knows only ``uV`` and read these as volts, 10^6 times too large)."""
    codes = np.arange(-10, 10).reshape(2, 1, 10) * 1000
    path = tmp_path / "x.gdf"
    _gdf(path, "GDF 1.25", ["uV"], codes)
    blob = bytearray(path.read_bytes())
    blob[256 + 96 : 256 + 104] = "µV".encode(encoding).ljust(8, b"\0")  # 1 channel's unit
    path.write_bytes(bytes(blob))
    _, data = _read(path)
    np.testing.assert_allclose(
        data, _expected_uv(codes, ["uV"], (-3200, 3200, -32768, 32767)), rtol=1e-6
    )


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("option", [{"exclude": ["ch0"]}, {"include": ["ch1", "ch2"]},
                                    {"exclude": "ch0"}])  # fmt: skip
def test_gdf_channels_left_out_by_the_mne_options_are_refused_in_one_line(
    tmp_path: Path, version: str, option: dict[str, object]
) -> None:
    """MNE's ``exclude``/``include`` on a GDF file gave the kept channels the first channels'
    samples (``ch1`` read ``ch0``'s): a file in uV was ingested with every sample under the
    wrong site, unsaid. Refused in one line naming the option and what to use instead; the
    same file read whole is right, channel by channel."""
    from eegprep.base.errors import SourceError

    units = ["uV", "uV", "uV"]
    codes = np.random.default_rng(1).integers(-30000, 30000, size=(2, 3, 10))
    ranges = (-3.2, 3.2, -32768.0, 32767.0)
    path = tmp_path / "x.gdf"
    _gdf(path, version, units, codes, ranges=ranges)
    clear_cache()
    said = r"x\.gdf: .*option '(ex|in)clude' on a GDF file.*\[channels\] exclude"
    with pytest.raises(SourceError, match=said):
        MneReader.read_header(str(path), **option)
    header, data = _read(path)
    assert header.labels == ["ch0", "ch1", "ch2"]
    np.testing.assert_allclose(data, _expected_uv(codes, units, ranges), rtol=1e-5)
