"""Marker values in text sidecars: an event column holding anything but 0 and 1 (Grasp-and-Lift
``*_events.csv``) and a trigger position float64 cannot hold exactly (beyond 2^53) are one
line naming the file, never an event at a ``nan`` or a silently rounded sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import event_columns_csv
from eegprep.corpus.sidecars.misc import marker_file
from tests.eegprep.test_mat_sidecars import _header


@pytest.mark.parametrize(("value", "shown"), [("nan", "nan"), ("2", "2"), ("-1", "-1"),
                                              ("0.5", "0.5")])  # fmt: skip
def test_an_event_column_holding_other_than_0_or_1_is_one_line(
    tmp_path: Path, value: str, shown: str
) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart,LiftOff"] + [f"s_{i},0,{1 if 3 <= i < 6 else 0}" for i in range(10)]
    rows[5] = f"s_4,{value},1"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SourceError) as caught:
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    line = str(caught.value)
    assert line == (
        f"{path}: event column 'HandStart' holds {shown} on line 6: expected 0 or 1 (1 while "
        "the event lasts); fix the file"
    )


@pytest.mark.parametrize("value", ["1e-400", "-1e-999", "0." + "0" * 400 + "1"])
def test_an_event_cell_that_underflows_to_0_is_one_line(tmp_path: Path, value: str) -> None:
    """numpy reads ``1e-400`` as 0.0: a cell no flag (as ``2`` is none) was taken as no event."""
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart,LiftOff"] + [f"s_e-100_{i},0,{1 if 3 <= i < 6 else 0}" for i in range(10)]
    rows[5] = f"s_4,{value},1"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SourceError) as caught:
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    assert str(caught.value) == (
        f"{path}: line 6: event cell {value[:30]!r} is not zero, yet a 64-bit float reads it as 0 "
        "(it underflows): expected 0 or 1 (1 while the event lasts); fix the file"
    )
    path.write_text(path.read_text().replace(value, "0.000e-999"))  # a zero spelled so: a zero
    assert event_columns_csv([str(path)], _header(path, 100.0, 10), {}).events == [
        [0.03, 0.03, "LiftOff", ""]
    ]


def test_sound_event_columns_still_give_their_runs(tmp_path: Path) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart"] + [f"s_{i},{1 if 3 <= i < 6 else 0}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    out = event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    assert out.events == [[0.03, 0.03, "HandStart", ""]]


def test_a_trigger_position_beyond_2_53_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.bdf.mrk"
    path.write_text(f"100 7\n{2**53 + 1} 8\n")
    with pytest.raises(SourceError, match=r"trigger position 9007199254740993 is beyond 2\^53"):
        marker_file([str(path)], _header(path, 100.0, 1000), {})
    path.write_text(f"100 7\n{2**53} 8\n")
    assert len(marker_file([str(path)], _header(path, 100.0, 1000), {}).events) == 2


def test_large_event_codes_keep_every_digit(tmp_path: Path) -> None:
    """A code of 1234567 was labelled ``1.23457e+06``, as was 1234568: two classes became one
    (the csv reader's marker column, the mat reader's event labels, BCI cue codes)."""
    import numpy as np
    import scipy.io

    from eegprep.readers.csv_table import CsvReader
    from eegprep.readers.matlab import MatReader

    codes = [1234567, 1234568, 0.5]
    rows = ["Fp1,code"] + [f"0,{codes[i // 10] if i % 10 == 0 else 0}" for i in range(30)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    header = CsvReader.read_header(str(tmp_path / "r.csv"), sfreq=10, marker_column="code")
    assert [a.description for a in header.annotations] == [
        "code/1234567", "code/1234568", "code/0.5"
    ]  # fmt: skip
    content = {"x": np.zeros((1, 100)), "pos": np.array([[1.0, 2.0, 3.0]]), "y": [codes]}
    scipy.io.savemat(tmp_path / "r.mat", content)
    header = MatReader.read_header(
        str(tmp_path / "r.mat"), data="x", sfreq=10.0, events={"onsets": "pos", "labels": "y"}
    )
    assert [a.description for a in header.annotations] == ["1234567", "1234568", "0.5"]
    mrk = {"pos": np.array([[1.0, 2.0]]), "y": np.array([[1234567.0, 1234568.0]])}
    scipy.io.savemat(tmp_path / "c.mat", {"mrk": mrk, "nfo": {"fs": 10.0}})
    from eegprep.corpus.sidecars.bci import bci_markers

    labels = [e[2] for e in bci_markers([str(tmp_path / "c.mat")], _header(tmp_path), {}).events]
    assert labels == ["cue/1234567", "cue/1234568"]


def test_an_event_cell_after_blank_lines_is_cited_by_its_line(tmp_path: Path) -> None:
    """A blank line before the bad row: the message named its data row plus the header's line
    (the line before it in an editor)."""
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart,LiftOff"] + [f"s_{i},0,{1 if 3 <= i < 6 else 0}" for i in range(10)]
    rows[5] = "s_4,2,1"
    text = "\r\n".join([*rows[:3], "", *rows[3:5], "", "", *rows[5:]]) + "\r\n"
    path.write_bytes(text.encode())
    with pytest.raises(SourceError) as caught:
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    line = text.split("\r\n").index("s_4,2,1") + 1
    assert f"holds 2 on line {line}:" in str(caught.value)


def test_an_underflowing_cell_is_cited_by_its_line_whatever_the_line_ends(
    tmp_path: Path,
) -> None:
    """Lines ended by a carriage return alone (classic Mac OS), as the rows are read: the line
    was counted by its line feeds alone (line 1 for every cell); CRLF is one line end."""
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart,LiftOff"] + [f"s_{i},0,{1 if 3 <= i < 6 else 0}" for i in range(10)]
    rows[7] = "s_6,1e-400,0"
    line = rows.index("s_6,1e-400,0") + 1
    for newline in ("\r", "\r\n"):
        path.write_bytes((newline.join(rows) + newline).encode())
        with pytest.raises(SourceError) as caught:
            event_columns_csv([str(path)], _header(path, 100.0, 10), {})
        assert str(caught.value).startswith(f"{path}: line {line}: event cell '1e-400' is not")
