"""Neuroscan CNT files written byte by byte as SCAN 4 lays them out (the 900-byte SETUP header,
one 75-byte ELECTLOC per channel, multiplexed 16- or 32-bit samples, an event table), and each
sample's microvolts computed here from the format's definition: ``(code - baseline) *
sensitivity * calibration / 204.8``; each event at the sample its table entry names (the first
byte of that sample's frame, or the sample number in a type-3 table: docs/corpora.md)."""

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
    table: bytes = struct.pack("<Bii", 2, 0, 0),
    labels: list[str] | None = None,
    sfreq: int = 500,
) -> None:
    """A CNT file of ``codes``, shape (n_channels, n_samples), ``width`` bytes per sample at
    ``sfreq`` Hz, multiplexed (one sample of every channel in turn; ``block``: ChannelOffset
    in bytes, that many bytes of one channel at a time); ``table`` (its bytes) after the
    samples: an empty type-2 event table unless given."""
    n_channels, n_samples = codes.shape
    setup = bytearray(900)
    setup[0:12] = b"Version 3.0\0"
    struct.pack_into("<H", setup, 370, n_channels)
    struct.pack_into("<H", setup, 376, sfreq)
    struct.pack_into("<i", setup, 864, n_samples if stated_samples is None else stated_samples)
    data_start = 900 + 75 * n_channels
    struct.pack_into("<i", setup, 886, data_start + codes.size * width)
    struct.pack_into("<i", setup, 894, block)
    chans = bytearray(75 * n_channels)
    for i in range(n_channels):
        name = labels[i] if labels else f"C{i}"
        chans[75 * i : 75 * i + len(name)] = name.encode()
        struct.pack_into("<h", chans, 75 * i + 47, baselines[i])
        struct.pack_into("<f", chans, 75 * i + 59, sensitivities[i])
        struct.pack_into("<f", chans, 75 * i + 71, calibrations[i])
    dtype = "<i2" if width == 2 else "<i4"
    per = block // width if block > 1 else 1
    blocks = codes.reshape(n_channels, n_samples // per, per).transpose(1, 0, 2)
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


def _event_table(
    kind: int, events: list[tuple[int, int]], n_channels: int, width: int, accept: tuple[int, ...]
) -> bytes:
    """SCAN's event table of ``kind`` 1, 2 or 3: a 9-byte head (type, bytes of entries, 0), then
    per ``(sample, code)``: StimType (uint16), KeyBoard, KeyPad_Accept (one byte each), Offset
    (int32): the byte at which that sample's frame (``width`` bytes of each channel) starts,
    ``900 + 75 * n_channels + sample * width * n_channels`` (types 1 and 2), or the sample
    itself (type 3); types 2 and 3 then Type, Code (int16), Latency (float32), EpochEvent,
    Accept2, Accuracy (one byte each): 8 or 19 bytes an entry."""
    entries = b""
    for i, (sample, code) in enumerate(events):
        offset = sample if kind == 3 else 900 + 75 * n_channels + sample * width * n_channels
        entries += struct.pack("<HBBi", code, 0, accept[i] if accept else 0, offset)
        entries += b"" if kind == 1 else struct.pack("<hhfBBB", 0, 0, 0.0, 0, 0, 0)
    return struct.pack("<Bii", kind, len(entries), 0) + entries


_LABELS = ["FP1", "FP2", "CZ"]


def _with_events(
    path: Path, kind: int, width: int, events: list[tuple[int, int]], accept: tuple[int, ...] = ()
) -> Path:
    """A 3-channel CNT of 400 samples at 200 Hz with ``events`` in a table of ``kind``, each
    event's KeyPad_Accept byte in ``accept`` (0 without one)."""
    codes = np.arange(3 * 400).reshape(3, 400) % 97 - 48
    table = _event_table(kind, events, 3, width, accept)
    path.parent.mkdir(parents=True, exist_ok=True)
    _cnt(path, codes, width=width, table=table, labels=_LABELS, sfreq=200, **_PLAIN3)
    return path


_PLAIN3 = {"baselines": [0] * 3, "sensitivities": [204.8] * 3, "calibrations": [1.0] * 3}
_AT = [(0, 11), (1, 12), (137, 13), (399, 14)]  # the first frame, the next, one inside, the last


@pytest.mark.parametrize("width", [2, 4])
@pytest.mark.parametrize("kind", [1, 2, 3])
def test_cnt_events_lie_at_the_samples_their_table_names(
    tmp_path: Path, kind: int, width: int
) -> None:
    """Each event at the sample its entry names, in tables of type 1, 2 and 3, 16- and 32-bit
    (before: MNE's, one sample early for types 1 and 2, 95 or 189 early for type 3 with these
    3 channels, and the event at the first frame and the next both at sample 0)."""
    path = _with_events(tmp_path / "x.cnt", kind, width, _AT)
    clear_cache()
    header = MneReader.read_header(str(path))
    got = [(round(a.onset * 200, 6), a.description) for a in header.annotations]
    assert got == [(float(s), str(c)) for s, c in _AT]
    assert header.warnings == ()


@pytest.mark.parametrize(("kind", "width"), [(1, 2), (2, 4), (3, 4)])
def test_cnt_event_times_in_the_ingested_store(tmp_path: Path, kind: int, width: int) -> None:
    """The store's events of an ingested CNT (the folder corpus, at the store's 200 Hz) lie
    at their samples' times: ``sample / 200`` s from the first sample."""
    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest

    _with_events(tmp_path / "src" / "alice" / "r.cnt", kind, width, _AT)
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    rep = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    assert (rep.failed, rep.n_ingested) == ([], 1)
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert [(e.onset, e.label) for e in rec.events] == [(s / 200, str(c)) for s, c in _AT]


@pytest.mark.parametrize("kind", [0, 4, 255])
def test_cnt_event_table_of_an_unknown_type_is_one_line_naming_the_file(
    tmp_path: Path, kind: int
) -> None:
    """An event table whose type byte is none of SCAN's 1, 2 and 3 (entries of 8 or 19
    bytes): no reader knows its entries' size, so its events cannot be placed; the file is one
    line naming it and the type (MNE: ``Unexpected event size``), in the header and in an
    ingest, which goes on with the others. (Types 1, 2 and 3: the test above, a guard.)"""
    from eegprep.ingestion.driver import IngestConfig, ingest

    events = _event_table(2, [(10, 1)], 3, 2, ())
    bad = struct.pack("<Bii", kind, len(events) - 9, 0) + events[9:]
    good = _with_events(tmp_path / "src" / "alice" / "good.cnt", 2, 2, [(10, 1)])
    path = good.with_name("odd.cnt")
    path.write_bytes(good.read_bytes()[: -len(events)] + bad)
    clear_cache()
    with pytest.raises(SourceError, match=rf"event table at byte \d+ is of type {kind}, not 1"):
        MneReader.read_header(str(path))
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    rep = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    assert rep.n_ingested == 1 and len(rep.failed) == 1
    assert "odd.cnt" in rep.failed[0] and f"of type {kind}" in rep.failed[0]
    assert "\n" not in rep.failed[0]


def test_cnt_rejected_span_runs_from_its_marker_to_the_next_accept(tmp_path: Path) -> None:
    """A rejected span (KeyPad_Accept 0xC0 at sample 50, 0xD0 at 80) is ``BAD_`` from sample
    50 for 30 samples, the accept marker not an event; a keypad response is named so."""
    events = [(50, 0), (80, 0), (120, 7), (200, 0)]
    path = _with_events(tmp_path / "x.cnt", 2, 4, events, accept=(0xC0, 0xD0, 0, 0x02))
    clear_cache()
    header = MneReader.read_header(str(path))
    got = [(round(a.onset * 200, 6), round(a.duration * 200, 6), a.description)
           for a in header.annotations]  # fmt: skip
    assert got == [(50, 30, "BAD_0"), (120, 0, "7"), (200, 0, "KeyPad Response 2")]


def test_cnt_event_after_the_last_sample_is_dropped_with_a_warning(tmp_path: Path) -> None:
    """An entry one frame past the event table (sample 401 of 400) lies after the samples:
    dropped, with the warning of events outside them (before: MNE put it at sample 400, the
    recording's end, unsaid)."""
    path = _with_events(tmp_path / "x.cnt", 2, 2, [(10, 1), (401, 2)])
    clear_cache()
    header = MneReader.read_header(str(path))
    assert [(round(a.onset * 200, 6), a.description) for a in header.annotations] == [(10, "1")]
    assert any("1 event of the file lies outside them" in w for w in header.warnings)


@pytest.mark.parametrize("width", [2, 4])
@pytest.mark.parametrize("kind", [1, 2, 3])
def test_the_fixture_writer_lays_events_out_as_the_format_does(
    tmp_path: Path, kind: int, width: int
) -> None:
    """The fixtures' CNT writer puts each event where :func:`_event_table` (the layout, written
    here) does: its fixtures encode the format, not a reader's reading of it."""
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    events = [(0, 3), (5, 4), (399, 5)]
    path = write_cnt(tmp_path / "w.cnt", np.zeros((3, 400)), _LABELS, 200, events=events,
                     n_bytes=width, table_type=kind)  # fmt: skip
    table = 900 + 75 * 3 + 3 * 400 * width
    assert path.read_bytes()[table:] == _event_table(kind, events, 3, width, ())
