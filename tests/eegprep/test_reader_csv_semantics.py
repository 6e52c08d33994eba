"""Text tables written as other programs write them (a spreadsheet's units in the column
names, quoted names holding the separator, a decimal comma first met on a later row, a value
missing from the first row), each value's expected microvolts and each time base computed here
from the text itself, not by the reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.csv_table import CsvReader, clear_cache
from tests.eegprep.reader_checks import read_whole

_UV_PER = {"V": 1e6, "mV": 1e3, "uV": 1.0, "µV": 1.0, "nV": 1e-3}


def _read(path: Path, **options: object) -> tuple[object, np.ndarray]:
    return read_whole(CsvReader, path, clear_cache, **options)


@pytest.mark.parametrize("brackets", ["()", "[]"])
def test_units_in_column_names_scale_each_column(tmp_path: Path, brackets: str) -> None:
    """``Fp1 (mV)``, ``Cz [V]``: each column in the unit its name states (before: every column
    taken for microvolts, mV 1000 times too small), the unit reported per signal."""
    units = ["mV", "uV", "V", "nV", "µV"]
    names = [f"ch{i} {brackets[0]}{u}{brackets[1]}" for i, u in enumerate(units)]
    rows = [[round(0.25 * (r + 1) * (c - 2), 4) for c in range(len(units))] for r in range(4)]
    text = ",".join(names) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    header, data = _read(path, sfreq=250)
    expected = np.array(rows, dtype=np.float64).T * np.array([_UV_PER[u] for u in units])[:, None]
    np.testing.assert_allclose(data, expected, rtol=1e-6)
    assert [s.unit for s in header.signals] == units


def test_unit_option_that_disagrees_with_a_column_is_one_line(tmp_path: Path) -> None:
    """``unit = 'uV'`` for a column named ``Fp1 (mV)``: refused naming both; a ``unit`` that
    agrees is read, ``scale`` applied on top."""
    path = tmp_path / "t.csv"
    path.write_text("Fp1 (mV),Cz\n1.5,2\n-3,4\n", encoding="utf-8")
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv.*'Fp1 \(mV\)'.*mV.*`unit` is 'uV'"):
        CsvReader.read_header(str(path), sfreq=100, unit="uV")
    _, data = _read(path, sfreq=100, unit="mV", scale=2)
    np.testing.assert_allclose(data, [[3000.0, -6000.0], [4000.0, 8000.0]])


def test_time_column_unit_from_its_name(tmp_path: Path) -> None:
    """``Time (ms)`` stepping 4 ms is 250 Hz (before: 0.25 Hz, the steps taken for seconds);
    a ``time_unit`` that disagrees is refused."""
    path = tmp_path / "t.csv"
    path.write_text("Time (ms),Fp1\n0,1\n4,2\n8,3\n12,4\n", encoding="utf-8")
    header, _ = _read(path, time_column="Time (ms)")
    assert header.signals[0].sfreq == 1000 / 4
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv.*'Time \(ms\)'.*ms.*`time_unit` is 's'"):
        CsvReader.read_header(str(path), time_column="Time (ms)", time_unit="s")


def test_value_missing_from_the_first_row_is_no_text_column(tmp_path: Path) -> None:
    """A channel whose first value is empty was taken for a text column and left out without
    a word; it is now a signal, and the row missing its sample is refused naming line and
    column. A column empty in every row read is still left out, and named."""
    path = tmp_path / "t.csv"
    path.write_text("Fp1,Fp2,Note\n1,,\n3,4,\n5,6,\n", encoding="utf-8")
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv: line 2, column 'Fp2': '' is not a number"):
        CsvReader.read_header(str(path), sfreq=100)
    path.write_text("Fp1,Fp2,Note\n1,2,\n3,4,\n5,6,\n", encoding="utf-8")
    header, data = _read(path, sfreq=100)
    assert header.labels == ["Fp1", "Fp2"]
    assert dict(header.meta)["dropped_columns"] == "Note"
    np.testing.assert_array_equal(data, [[1, 3, 5], [2, 4, 6]])


def test_quoted_name_holding_the_separator(tmp_path: Path) -> None:
    """A quoted column name holding a comma (``"Fp1, left"``, RFC 4180) is one name (before: a
    refused file, 3 names for 2 fields)."""
    path = tmp_path / "t.csv"
    path.write_text('"Fp1, left","Cz"\n"1.5","2"\n"3","-4"\n', encoding="utf-8")
    header, data = _read(path, sfreq=100)
    assert header.labels == ["Fp1, left", "Cz"]
    np.testing.assert_array_equal(data, [[1.5, 3.0], [2.0, -4.0]])


def test_decimal_comma_first_met_on_a_later_row(tmp_path: Path) -> None:
    """A semicolon table whose first row is whole numbers (``0;0``) and later rows ``3,5``:
    the decimal comma is seen in the rows read, not the first alone (before: refused)."""
    path = tmp_path / "t.csv"
    path.write_text("Fp1;Fp2\n0;0\n3,5;-4\n-0,25;1,125\n", encoding="utf-8")
    _, data = _read(path, sfreq=100)
    np.testing.assert_array_equal(data, [[0.0, 3.5, -0.25], [0.0, -4.0, 1.125]])


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_text_export(tmp_path: Path, codec: str) -> None:
    """Excel's "Unicode Text" export: UTF-16 with a byte-order mark, tab-separated, CRLF
    (before: refused as "no numeric signal columns among 'ÿþF\\x00p\\x001\\x00'")."""
    path = tmp_path / "t.txt"
    text = "\ufeffFp1 [µV]\tCz (mV)\r\n1,5\t-2\r\n3\t0,25\r\n"
    path.write_bytes(text.encode(codec))
    header, data = _read(path, sfreq=100)
    assert header.labels == ["Fp1 [µV]", "Cz (mV)"]
    np.testing.assert_allclose(data, [[1.5, 3.0], [-2000.0, 250.0]])


@pytest.mark.parametrize(
    ("tail", "warned"), [("\n", False), ("\r\n", False), ("", True)], ids=["lf", "crlf", "none"]
)
def test_a_last_row_without_its_line_end_is_named(tmp_path: Path, tail: str, warned: bool) -> None:
    """``...\\n5,6.2`` where the writer wrote ``5,6.25\\n``: the cut value still parses, so the
    row is read, with a warning that the last row may be cut; a file ending its last row with
    a line end has none."""
    path = tmp_path / "t.csv"
    path.write_text("Fp1,Fp2\n1,2\n3,4\n5,6.2" + tail, encoding="utf-8", newline="")
    header, data = _read(path, sfreq=100)
    np.testing.assert_allclose(data, [[1, 3, 5], [2, 4, 6.2]], rtol=1e-6)
    assert any("does not end with a line end" in w for w in header.warnings) is warned


def test_a_gap_in_the_time_column_is_one_line(tmp_path: Path) -> None:
    """Time 0, 5, 10, 50, 55 ms at 200 Hz: 7 samples missing between 10 and 50 ms. The rows
    were read as continuous (the rate from the median step), every later sample stored 35 ms
    early; refused naming the rows and the step. Jitter below half a period is read."""
    path = tmp_path / "t.csv"
    path.write_text("Time,Fp1\n0,1\n0.005,2\n0.010,3\n0.050,4\n0.055,5\n", encoding="utf-8")
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv: time column 'Time' steps from 0\.01 to 0\.05"):
        CsvReader.read_header(str(path), time_column="Time", sfreq=200)
    times = "0 0.007 0.010 0.015 0.020 0.023 0.030".split()  # steps 0.6 to 1.4 periods
    path.write_text("Time,Fp1\n" + "".join(f"{t},{i}\n" for i, t in enumerate(times)))
    header, data = _read(path, time_column="Time", sfreq=200)
    assert header.signals[0].sfreq == 200
    np.testing.assert_array_equal(data, [range(7)])


@pytest.mark.parametrize(
    "text",
    [
        '"Fp1, left";"Cz"\n1,5;2\n-3;4\n',  # a comma inside a quoted name, decimal commas
        "Time;Fp1,ref;Cz\n0;1,5;2\n0,005;-3;4\n",  # a comma in a bare name
    ],
    ids=["quoted", "bare"],
)
def test_separator_sniffed_past_commas_in_names(tmp_path: Path, text: str) -> None:
    """A semicolon table whose names hold a comma was split at the comma (the first separator
    found in the name line), and refused (names and fields did not match)."""
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    header, data = _read(path, sfreq=200, drop=["Time"] if text.startswith("Time") else [])
    assert dict(header.meta)["delimiter"] == ";"
    np.testing.assert_array_equal(data, [[1.5, -3.0], [2.0, 4.0]])


@pytest.mark.parametrize(
    ("where", "blank"),
    [("before the names", "\n"), ("after the names", "\r\n"), ("after the names", " \t\n"),
     ("among the rows", "  \n"), ("at the end", "\t\n"), ("at the end", " \r\n")],
)  # fmt: skip
def test_blank_lines_anywhere_are_no_rows(tmp_path: Path, where: str, blank: str) -> None:
    """A line of blanks alone (empty, or spaces and tabs, as editors and exporters leave them)
    is no row wherever it stands. One after the column names was "no data rows after 1 header
    line", one of a space or a tab among the rows or at the end "a data row cannot be parsed as
    numbers": the whole file refused."""
    values = np.round(np.random.default_rng(5).normal(0, 30, (2, 40)), 3)
    rows = [f"{a:.3f},{b:.3f}\n" for a, b in values.T]
    lines = ["Fp1,Cz\n", *rows]
    at = {"before the names": 0, "after the names": 1, "among the rows": 21, "at the end": 41}
    lines.insert(at[where], blank)
    path = tmp_path / "t.csv"
    path.write_text("".join(lines), newline="")
    header, data = _read(path, sfreq=100)
    assert [s.label for s in header.signals] == ["Fp1", "Cz"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(data, values, atol=1e-3)


def test_a_table_of_blank_lines_after_its_names_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# note\nFp1,Cz\n \n\n")
    with pytest.raises(SourceError, match=r"no data rows after 2 header lines"):
        _read(path, sfreq=100, header_lines=1)


def _line_of(text: str, marked: str) -> int:
    """The line an editor shows ``marked`` on (from 1; ``\\r\\n``, ``\\r`` and ``\\n`` each end
    one)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n").index(marked) + 1


_SPACED = ["", "   ", "# exported by a spreadsheet", "\t"]
"""Lines that hold no row: blank ones and a comment (numpy reads neither)."""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    ("rows", "bad", "options", "message"),
    [
        (
            ["0,1", "1,nan", "2,3"], "1,nan", {"sfreq": 1},
            "non-finite value (nan/inf) on line {}, column 'Fp1': NaN",
        ),
        (
            ["0.0,1", "0.1,2", "0.05,3"], "0.05,3", {"time_column": "Time"},
            "time column 'Time' does not increase on line {}",
        ),
        (["0,1", "1,x", "2,3"], "1,x", {"sfreq": 1}, "line {}, column 'Fp1': 'x' is not a number"),
    ],
)  # fmt: skip
def test_a_row_is_cited_by_the_line_an_editor_shows(
    tmp_path: Path, newline: str, rows: list[str], bad: str, options: dict, message: str
) -> None:
    """Blank lines and comments before a bad row: the message named its index among the rows
    numpy read plus the header's lines (``line 3`` for a row on line 9), or, for a time
    column, its data row."""
    lines = ["Time,Fp1", *_SPACED]
    for row in rows:
        lines += [row, *_SPACED[: 1 + len(lines) % 3]]
    text = newline.join(lines) + newline
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    clear_cache()
    with pytest.raises(SourceError) as caught:
        CsvReader.read_header(str(path), **options)
    assert str(caught.value) == f"{path}: " + message.format(_line_of(text, bad))


def test_a_time_step_is_cited_by_the_lines_an_editor_shows(tmp_path: Path) -> None:
    """A skipped sample between two rows parted by blank lines: both rows' lines (before: their
    places among the data rows)."""
    lines = ["Time,Fp1", "", "0.0,1", "0.1,2", "", "", "# resumed", "0.4,3", "0.5,4"]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv: time column 'Time' steps from 0\.1 to 0\.4"):
        CsvReader.read_header(str(path), time_column="Time")
    with pytest.raises(SourceError) as caught:
        CsvReader.read_header(str(path), time_column="Time")
    before, after = _line_of(text, "0.1,2"), _line_of(text, "0.4,3")
    assert f"between lines {before} and {after}:" in str(caught.value)


def test_a_first_row_of_other_fields_names_both_lines(tmp_path: Path) -> None:
    """The column names and the first data row, apart after ``header_lines`` and blank lines:
    the message said "the first data row" and no line; it names each line."""
    lines = ["exported 2024-01-02", "", "Time,Fp1,Cz", "", "   ", "0.0,1"]
    text = "\r\n".join(lines) + "\r\n"
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    clear_cache()
    with pytest.raises(SourceError) as caught:
        CsvReader.read_header(str(path), sfreq=10, header_lines=1)
    names, row = _line_of(text, "Time,Fp1,Cz"), _line_of(text, "0.0,1")
    assert str(caught.value) == (
        f"{path}: the column-name line (line {names}) has 3 names but the first data row has "
        f"2 fields (line {row}): check `delimiter` and `header_lines`"
    )
