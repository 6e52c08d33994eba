"""The readers' lines on a file's size count records and bytes in the number each count takes:
a file holding one whole record was said to hold "1 whole records", one byte past a sample
"1 bytes over" (eegprep/base/wording.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader
from eegprep.testing.edf_writer import field_span, write_edf
from eegprep.testing.fixtures.gdf_writer import write_gdf
from tests.eegprep.test_reader_vhdr_semantics import _binary, _values, _write


def _one_record_edf(path: Path) -> bytes:
    """An EDF of one 1-s record of one 256 Hz signal: its bytes."""
    x = np.random.default_rng(0).normal(0, 20, 256)
    return write_edf(path, [x], labels=["Fp1"], sfreqs=256).read_bytes()


def _with_count(data: bytes, count: bytes) -> bytes:
    span = field_span("n_records", n_signals=1)
    return data[: span.start] + count.ljust(span.stop - span.start) + data[span.stop :]


def test_an_edf_holding_one_whole_record_of_two_claimed(tmp_path: Path) -> None:
    path = tmp_path / "a.edf"
    data = _one_record_edf(path)
    path.write_bytes(_with_count(data, b"2") + b"\0" * 100)
    with pytest.raises(SourceError) as caught:
        EdfReader.read_header(str(path))
    said = str(caught.value)
    assert "claims 2 data records" in said and "(1 whole record)" in said, said


def test_an_edf_one_byte_longer_than_its_one_record(tmp_path: Path) -> None:
    path = tmp_path / "a.edf"
    path.write_bytes(_one_record_edf(path) + b"\0")
    (said,) = EdfReader.read_header(str(path)).warnings
    assert "counts 1 data record (" in said and "(1 whole record); only the first 1 was read" in (
        said
    ), said


def test_an_unclosed_edf_of_one_record_and_one_byte(tmp_path: Path) -> None:
    path = tmp_path / "a.edf"
    path.write_bytes(_with_count(_one_record_edf(path), b"-1") + b"\0")
    (said,) = EdfReader.read_header(str(path)).warnings
    assert "read the 1 whole record of 512 bytes" in said, said
    assert "not the 1 byte of a record cut short" in said, said


def test_a_brainvision_data_file_one_byte_past_its_samples(tmp_path: Path) -> None:
    channels = ["Fp1,,0.1,µV", "Cz,,0.5,µV", "O1,,2,µV"]
    data = _binary(_values("INT_16"), "INT_16", "MULTIPLEXED") + b"\x01"
    path = _write(tmp_path, channels, data)
    with pytest.raises(SourceError, match=r"its 241 bytes are not .*, 1 byte over\)"):
        MneReader.read_header(path)


@pytest.mark.parametrize("version", ["1.25", "2.20"])
def test_a_gdf_one_byte_longer_and_one_record_short(tmp_path: Path, version: str) -> None:
    x = np.random.default_rng(0).normal(0, 20, (2, 500))  # two 1-s records
    path = write_gdf(tmp_path / "a.gdf", x, ["FP1", "FP2"], 250, version=version)
    data = path.read_bytes()
    path.write_bytes(data[:-8] + b"\0")  # one byte in place of the event table
    if version == "1.25":  # (a GDF 1 reader takes it for no table)
        said = " ".join(MneReader.read_header(str(path)).warnings)
        assert "1 byte follows its 2 data records" in said, said
    else:
        with pytest.raises(SourceError, match=r"after its 2 data records .* cut: 1 byte, less"):
            MneReader.read_header(str(path))
    record = 2 * 250 * 2
    path.write_bytes(data[: -8 - record // 2])  # the event table and half the last record cut
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(path))
    assert "claims 2 data records" in str(caught.value), str(caught.value)
    assert "(1 whole record)" in str(caught.value), str(caught.value)


def test_a_csv_time_column_skipping_samples_once(tmp_path: Path) -> None:
    from eegprep.readers.csv_table import CsvReader, clear_cache

    times = [i / 100 for i in range(50)] + [i / 100 for i in range(60, 110)]  # one gap
    rows = "\n".join(f"{t:.2f},{i % 7}" for i, t in enumerate(times))
    path = tmp_path / "a.csv"
    path.write_text(f"Time,Fp1\n{rows}\n")
    clear_cache()
    with pytest.raises(SourceError, match=r"read as continuous samples \(1 such step\)"):
        CsvReader.read_header(str(path), time_column="Time")
