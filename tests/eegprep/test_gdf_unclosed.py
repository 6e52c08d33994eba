"""A GDF file whose header counts -1 records (a recording never closed) is read for the whole
records it holds where the bytes after them are exactly an event table (or, GDF 2, nothing), as
an EDF file of count -1 is: the samples and events of the same file with its count written in,
and one warning. MNE's own reader fails on it (``No data in this range``). Where the records
cannot be told apart from the table, or no count fits, it is refused in one line saying why."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.reader_checks import check_source_error
from tests.eegprep.test_reader_gdf_semantics import _expected_uv, _gdf, _table

_RANGES = (-3200.0, 3200.0, -32768.0, 32767.0)


def _unclosed(path: Path) -> Path:
    """A copy of ``path`` beside it whose record count is -1."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<q", data, 236, -1)
    out = path.with_name("unclosed_" + path.name)
    out.write_bytes(bytes(data))
    return out


def _read(path: Path) -> tuple[object, np.ndarray]:
    clear_cache()
    header = MneReader.read_header(str(path))
    n = header.signals[0].n_samples
    return header, MneReader.read_segment(header, list(range(len(header.signals))), 0, n)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("n_events", [0, 3])
def test_an_unclosed_gdf_reads_as_the_same_file_closed(
    tmp_path: Path, version: str, n_events: int
) -> None:
    """It was refused as damaged (`record count is -1 (unknown: a recording never closed):
    the header is damaged`); now every sample and event of the closed file, each sample the
    format's definition of its code, and a warning naming the count read."""
    codes = np.arange(-90, 90).reshape(6, 3, 10) * 7
    events = _table(version, 100.0, [5, 22, 41][:n_events])
    closed = tmp_path / "x.gdf"
    _gdf(closed, version, ["uV", "mV", "uV"], codes, events=events)
    expected_header, expected = _read(closed)
    header, got = _read(_unclosed(closed))
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(got, _expected_uv(codes, ["uV", "mV", "uV"], _RANGES), rtol=1e-6)
    assert header.signals == expected_header.signals
    assert header.annotations == expected_header.annotations
    assert len(header.annotations) == n_events
    assert header.warnings == (
        "the header's record count is -1 (unknown: a recording never closed): read the 6 whole "
        f"records of 60 bytes the file holds, then its event table ({len(events)} bytes)",
    )


def test_an_unclosed_gdf2_without_an_event_table_reads_to_its_end(tmp_path: Path) -> None:
    codes = np.arange(40).reshape(4, 1, 10)
    closed = tmp_path / "x.gdf"
    _gdf(closed, "GDF 2.20", ["uV"], codes, events=b"")
    header, got = _read(_unclosed(closed))
    np.testing.assert_allclose(got, _expected_uv(codes, ["uV"], _RANGES), rtol=1e-6)
    assert header.warnings == (
        "the header's record count is -1 (unknown: a recording never closed): read the 4 whole "
        "records of 20 bytes the file holds",
    )


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_an_unclosed_gdf_cut_inside_a_record_is_one_line(tmp_path: Path, version: str) -> None:
    """A record cut short, no table after it: no count of whole records fits."""
    closed = tmp_path / "x.gdf"
    _gdf(closed, version, ["uV"], np.arange(40).reshape(4, 1, 10), events=b"")
    path = _unclosed(closed)
    path.write_bytes(path.read_bytes() + b"\x05" * 7)
    clear_cache()
    end = "an event table" if version < "GDF 1.9" else "an event table or the file's end"
    check_source_error(
        MneReader, str(path), rf"^{re.escape(str(path))}: the header's record count is -1 "
        r"\(unknown: a recording never closed\), and no count of whole records of 20 bytes is "
        rf"followed by {end}: the file is cut or damaged; re-export it$",
    )  # fmt: skip


def test_records_that_also_read_as_an_event_table_are_one_line(tmp_path: Path) -> None:
    """Records of 8 bytes, the third last of which holds the head of a table of 4 events
    (mode 1, count 4, rate 1000 Hz: its 32 bytes end where the file ends), then an empty
    table, 8 bytes, which GDF 2 also reads as a 9th record with no table: 9, 8 or 5 records
    could each be the recording; it is refused, not guessed."""
    head = np.frombuffer(bytes([1, 4, 0, 0]) + struct.pack("<f", 1000.0), dtype="<i2")
    codes = np.arange(32).reshape(8, 1, 4) - 16
    codes[5, 0] = head
    closed = tmp_path / "x.gdf"
    _gdf(closed, "GDF 2.20", ["uV"], codes, events=_table("GDF 2.20", 100.0, []))
    assert _read(closed)[1].shape == (1, 32)  # (closed, its count tells them apart)
    path = _unclosed(closed)
    clear_cache()
    check_source_error(
        MneReader, str(path), rf"^{re.escape(str(path))}: the header's record count is -1 "
        r"\(unknown: a recording never closed\), and its records cannot be told apart from the "
        r"event table after them \(9 records or 8 records or 5 records each leave bytes that "
        r"read as a whole table\): re-export it closed$",
    )  # fmt: skip


def test_another_negative_count_is_still_damage(tmp_path: Path) -> None:
    closed = tmp_path / "x.gdf"
    _gdf(closed, "GDF 2.20", ["uV"], np.arange(40).reshape(4, 1, 10))
    data = bytearray(closed.read_bytes())
    struct.pack_into("<q", data, 236, -2)
    closed.write_bytes(bytes(data))
    clear_cache()
    check_source_error(MneReader, str(closed), r"the header's record count is -2: the header")
