"""A ``;`` comment after a number or keyword in a BrainVision header is passed over; a ``;`` in a
name stays part of it, and one after a marker's number is refused saying why.

Before: ``NumberOfChannels=3 ; three`` was ``NumberOfChannels='3 ; three' is not a whole
number``, ``BinaryFormat=INT_16 ; 16 bit`` ``MNE reads INT_16, ...``: a third-party writer's
trailing comment refused the recording. A marker's ``0 ; trigger`` was refused without saying
that the ``;`` starts no comment there.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.reader_checks import read_whole
from tests.eegprep.test_reader_vhdr_semantics import FIRST, LABELS, _binary, _values, _write

KEYS = ("NumberOfChannels", "SamplingInterval", "DataPoints", "DataFormat", "DataOrientation",
        "DataType", "SegmentationType", "Averaged", "Codepage", "BinaryFormat", "SkipLines",
        "SkipColumns")  # fmt: skip
"""The keys whose value is a number or a keyword (BrainVision Core Data Format 1.0)."""
COMMENTS = [" ; a comment", ";x", "\t;\t", " ; a = b ; c"]


def _recording(folder: Path, **kw: object) -> str:
    values = _values("INT_16")
    return _write(folder, [f"{c},,0.5,µV" for c in LABELS],
                  _binary(values, "INT_16", "MULTIPLEXED"), **kw)  # type: ignore[arg-type]  # fmt: skip


def _commented(path: str, comment: str) -> list[str]:
    """Each line of a value-comment key in ``path``'s header given ``comment`` after its value;
    the keys so commented."""
    text = Path(path).read_bytes().decode("utf-8")
    done: list[str] = []
    lines = text.split("\r\n")
    for i, line in enumerate(lines):
        key, eq, _ = line.partition("=")
        if eq and key in KEYS:
            lines[i] = line + comment
            done.append(key)
    Path(path).write_bytes("\r\n".join(lines).encode("utf-8"))
    clear_cache()
    return done


EXTRA = ["Codepage=UTF-8", "DataPoints=40", "DataType=TIMEDOMAIN", "Averaged=NO",
         "SegmentationType=NOTSEGMENTED"]  # fmt: skip


@pytest.mark.parametrize("comment", COMMENTS)
def test_a_comment_after_a_number_or_keyword_is_passed_over(tmp_path: Path, comment: str) -> None:
    plain = _recording(tmp_path / "plain", common=EXTRA)
    path = _recording(tmp_path / "commented", common=EXTRA)
    done = _commented(path, comment)
    assert {"NumberOfChannels", "SamplingInterval", "BinaryFormat", "DataOrientation",
            "DataFormat", "Codepage", "DataPoints", "Averaged"} <= set(done)  # fmt: skip
    expected, want = read_whole(MneReader, plain, clear_cache)
    header, data = read_whole(MneReader, path, clear_cache)
    assert header.labels == expected.labels == LABELS
    assert [s.sfreq for s in header.signals] == [s.sfreq for s in expected.signals]
    np.testing.assert_array_equal(data, want)


def test_a_text_header_takes_them_on_its_skip_lines_too(tmp_path: Path) -> None:
    rows = "\r\n".join(" ".join(str(v) for v in row) for row in _values("INT_16").T) + "\r\n"
    kw = {"fmt": "ASCII", "ascii_infos": ["DecimalSymbol=.", "SkipLines=1", "SkipColumns=0"]}
    folder = tmp_path / "text"
    plain = _write(folder / "a", [f"{c},,0.5,µV" for c in LABELS], "x\r\n" + rows, **kw)  # type: ignore[arg-type]
    path = _write(folder / "b", [f"{c},,0.5,µV" for c in LABELS], "x\r\n" + rows, **kw)  # type: ignore[arg-type]
    assert "SkipLines" in _commented(path, " ; the title row")
    np.testing.assert_array_equal(
        read_whole(MneReader, path, clear_cache)[1], read_whole(MneReader, plain, clear_cache)[1]
    )


def test_a_semicolon_in_a_name_stays_in_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "r", ["Fp1;a,,0.5,µV", "Cz,,0.5,µV", "O1,,0.5,µV"],
                  _binary(_values("INT_16"), "INT_16", "MULTIPLEXED"))  # fmt: skip
    header, _ = read_whole(MneReader, path, clear_cache)
    assert header.labels == ["Fp1;a", "Cz", "O1"]


MARKERS = ["Stimulus,S  1,5,3,0", "Comment,a;b,9,1,2", "Response,R  2,12,1"]
"""Marker values: one of size 3, one whose description holds a ``;``, one of four fields."""


@pytest.mark.parametrize("comment", [" ; trigger", ";x, y", "\t; a = b"])
def test_a_comment_after_a_markers_numbers_is_passed_over(tmp_path: Path, comment: str) -> None:
    first = FIRST + comment
    plain = _recording(
        tmp_path / "plain", markers=[FIRST, *(f"Mk{i}={m}" for i, m in enumerate(MARKERS, 2))]
    )
    path = _recording(
        tmp_path / "commented",
        markers=[first, *(f"Mk{i}={m}{comment}" for i, m in enumerate(MARKERS, 2))],
    )
    expected, _ = read_whole(MneReader, plain, clear_cache)
    header, _ = read_whole(MneReader, path, clear_cache)
    assert header.annotations == expected.annotations
    assert [a.description for a in header.annotations] == [
        "Stimulus/S  1", "Comment/a;b", "Response/R  2"]  # fmt: skip
    assert header.annotations[0].duration == 3 / 500
    dates = [dict(h.meta).get("meas_date") for h in (header, expected)]  # type: ignore[attr-defined]
    assert dates[0] == dates[1] is not None


def test_a_semicolon_in_a_markers_position_is_refused_saying_why(tmp_path: Path) -> None:
    line = "Mk2=Stimulus,S  1,5 ; here,1,0"
    path = _recording(tmp_path / "r", markers=[FIRST, line])
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(path)
    said = str(caught.value)
    assert re.search(rf"line \d+ \({re.escape(repr(line))}\): its position ", said), said
    assert "a `;` after a value is no comment in a marker file" in said
    assert "\n" not in said
