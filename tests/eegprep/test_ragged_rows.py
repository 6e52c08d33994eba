"""A table row with a field too many or one missing, in every reader that reads some of a
table's columns with numpy: one line naming the file and the line as an editor numbers it
(before: read as if whole, its values taken from the wrong columns unsaid). A delimiter ending
every line and blanks at a line's end are what real exports hold: no field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import load_parsers
from eegprep.readers.base import Header, Signal
from eegprep.readers.csv_table import CsvReader, clear_cache
from tests.eegprep.reader_checks import read_whole

GAL_EVENTS = "id,HandStart,FirstDigitTouch\ns_0,0,0\ns_1,1,0\ns_2,1,1\ns_3,0,1\n"
GAL_DATA = "id,Fp1,Fp2\ns_0,1,2\ns_1,3,4\ns_2,5,6\ns_3,7,8\n"


def _events(tmp_path: Path, text: str) -> list[list[object]]:
    path = tmp_path / "x_events.csv"
    path.write_text(text)
    header = Header(path=str(tmp_path / "x_data.csv"), reader="csv",
                    signals=(Signal("Fp1", 500.0, 4, "uV", 1.0),), duration=4 / 500)  # fmt: skip
    return load_parsers()["event_columns_csv"]([str(path)], header, {}).events


def _data(tmp_path: Path, text: str) -> np.ndarray:
    path = tmp_path / "x_data.csv"
    path.write_text(text)
    return read_whole(CsvReader, path, clear_cache, sfreq=500)[1]


def _edit(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("row", "message"), [
    ("s_2,1,1,1", r"line 4 has 4 fields, the header 3: a stray delimiter"),
    ("s_2,1", r"line 4 has 2 fields, the header 3: a cut row"),
])  # fmt: skip
def test_a_ragged_grasp_and_lift_events_row_is_one_line(
    tmp_path: Path, row: str, message: str
) -> None:
    with pytest.raises(SourceError, match=r"x_events\.csv: " + message):
        _events(tmp_path, _edit(GAL_EVENTS, 4, row))


def test_a_ragged_csv_data_row_is_one_line(tmp_path: Path) -> None:
    """The ``id`` column is text, not read: a row of a field too many was read whole."""
    with pytest.raises(SourceError, match=r"x_data\.csv: line 3 has 4 fields, the header 3"):
        _data(tmp_path, _edit(GAL_DATA, 3, "s_1,3,4,9"))


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("\n", ",\n"),  # a delimiter ending every line
    lambda t: t.replace("\n", " \n"),  # blanks ending every line
    lambda t: t.replace("\n", ",\n", 2),  # the header and one row only
])  # fmt: skip
def test_what_real_exports_end_a_line_with_is_no_field(tmp_path: Path, edit: object) -> None:
    plain_events = _events(tmp_path, GAL_EVENTS)
    assert _events(tmp_path, edit(GAL_EVENTS)) == plain_events  # type: ignore[operator]
    plain = _data(tmp_path, GAL_DATA)
    np.testing.assert_array_equal(_data(tmp_path, edit(GAL_DATA)), plain)  # type: ignore[operator]


TUH_CSV = (
    "# version = csv_v1.0.0\n"
    "channel,start_time,stop_time,label,confidence\n"
    "FP1-F7,0.0000,10.0000,seiz,1.0000\n"
    "FP1-F7,10.0000,20.0000,seiz,1.0000\n"
)


def _tuh(tmp_path: Path, name: str, text: str) -> list[list[object]]:
    from eegprep.corpus.sidecars.tuh import _read_any

    path = tmp_path / name
    path.write_text(text)
    _, rows, bad = _read_any(str(path), "TERM")
    bad.check()
    return rows


def test_a_ragged_tuh_csv_row_is_one_line(tmp_path: Path) -> None:
    """A row of four cells under a header of five: no confidence, or a cell lost from the
    middle (its label read from the stop time's column, once the columns are reordered). A
    row without its confidence in NEDC's order is read; one whose cells cannot be the row's
    refuses the file in one line naming it (tests/eegprep/test_tuh_label_lines.py)."""
    assert len(_tuh(tmp_path, "a.csv", TUH_CSV)) == 2
    assert len(_tuh(tmp_path, "a.csv", TUH_CSV.replace("20.0000,seiz,1.0000", "20.0000,seiz"))) == 2
    reordered = (
        TUH_CSV.replace("stop_time,label", "label,stop_time")
        .replace("10.0000,seiz", "seiz,10.0000")
        .replace("20.0000,seiz", "seiz,20.0000")
    )
    cut = reordered.replace("FP1-F7,0.0000,seiz,10.0000,1.0000\n", "FP1-F7,0.0000,10.0000,1.0\n")
    with pytest.raises(
        SourceError, match=r"a\.csv: line 3: the row has 4 fields, the header 5: a cut"
    ):
        _tuh(tmp_path, "a.csv", cut)


def test_a_tse_row_of_no_probability_among_others_is_read(tmp_path: Path) -> None:
    text = "version = tse_v1.0.0\n\n0.0 10.0 bckg 1.0\n10.0 20.0 seiz\n"
    assert [row[2] for row in _tuh(tmp_path, "a.tse", text)] == ["bckg", "seiz"]


@pytest.mark.parametrize(("row", "message"), [
    ("1004.5", r"line 3 has 1 field, the header \(Time, Event\) 2: a cut row"),
    ("1004.5\tturn\t7", r"line 3 has 3 fields, the header \(Time, Event\) 2: a stray"),
])  # fmt: skip
def test_a_ragged_conductor_row_is_one_line(tmp_path: Path, row: str, message: str) -> None:
    """A time with no event was passed over unsaid; a field more was part of the event."""
    from eegprep.corpus.sidecars.misc import conductor_events

    path = tmp_path / "conductor.txt"
    path.write_text("Time\tEvent\n1003.0\tstart walking\t\n1004.5\tturn\n")
    assert conductor_events(str(path), 1002.0, 10.0)[0][1][2] == "turn"
    path.write_text(f"Time\tEvent\n1003.0\tstart walking\n{row}\n")
    with pytest.raises(SourceError, match=r"conductor\.txt: " + message):
        conductor_events(str(path), 1002.0, 10.0)


def test_a_ragged_joints_row_is_one_line(tmp_path: Path) -> None:
    """``joints.txt`` is read whole (no ``usecols``): numpy refuses the row, the line named."""
    from eegprep.corpus.sidecars.misc import _read_table

    path = tmp_path / "joints.txt"
    path.write_text("h1\nh2\n0.0 1 2\n0.1 1 2 3\n0.2 1 2\n")
    with pytest.raises(SourceError, match=r"joints\.txt: .*line 4 has 4 fields, the first row 3"):
        _read_table(str(path), 2)


@pytest.mark.parametrize(("text", "message"), [
    ("100 1\n200 2 7\n", r"line 2 has 3 fields, the first row 2: a stray delimiter"),
    ("100 1 7\n200 2\n", r"line 1 has 3 fields, a marker row \(sample, code\) 2"),
    ("100 1\n200\n300 3\n", r"line 2 has 1 field, the first row 2: a cut row"),
])  # fmt: skip
def test_a_ragged_marker_row_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    """Emobrain's ``.bdf.mrk`` (``<sample> [<code>]``): a third field was passed over, and a
    code missing from one row among coded rows stored a trigger of no code."""
    path = tmp_path / "x.bdf.mrk"
    path.write_text("100 1\n200 2 \n300 3\n")
    header = Header(path=str(tmp_path / "x.bdf"), reader="edf",
                    signals=(Signal("Fp1", 100.0, 1000, "uV", 1.0),), duration=10.0)  # fmt: skip
    parse = load_parsers()["marker_file"]
    assert [e[2] for e in parse([str(path)], header, {}).events] == [f"trigger/{k}" for k in "123"]
    path.write_text(text)
    with pytest.raises(SourceError, match=r"x\.bdf\.mrk: " + message):
        parse([str(path)], header, {})
