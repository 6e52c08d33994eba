"""A text sidecar's line, cited in a message, is the line an editor shows: only ``\\n``,
``\\r\\n`` and ``\\r`` end one (eegprep/base/text.py ``editor_lines``).

Before: the TUH label and TUEV ``.rec`` readers and the Siena seizure list split their lines
with ``str.splitlines``, which also ends a line at a form feed, a vertical tab,
``\\x1c``-``\\x1e``, ``\\x85``, U+2028 and U+2029: a comment holding one was cut and its tail
read as a row (``line 3: expected channel,start_time,...; got 'more'``), and every line below
was cited one too far; a BrainVision header's syntax error quoted another line's text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.physionet import read_seizure_list
from eegprep.corpus.sidecars.tuh import read_tuev_rec, read_tuh_csv
from eegprep.readers.mne_formats import MneReader, clear_cache

SEPARATORS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
ENDS = ["\n", "\r\n", "\r"]


def _line_of(text: str, marked: str) -> int:
    """The line an editor shows ``marked`` on (from 1)."""
    return re.split(r"\r\n|\r|\n", text).index(marked) + 1


def _write(path: Path, lines: list[str], end: str) -> str:
    text = end.join(lines) + end
    path.write_bytes(text.encode("utf-8"))
    return text


@pytest.mark.parametrize("end", ENDS, ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_a_tuh_label_file_cites_the_editors_line(tmp_path: Path, sep: str, end: str) -> None:
    bad = "FP1-F7,0.0,x,seiz,1.0"
    lines = ["# version = csv_v1.0.0", f"# exported{sep}by a tool", "",
             "channel,start_time,stop_time,label,confidence", bad]  # fmt: skip
    text = _write(tmp_path / "a.csv", lines, end)
    with pytest.raises(SourceError, match=rf": line {_line_of(text, bad)}: expected a time"):
        read_tuh_csv(str(tmp_path / "a.csv"))


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_a_tuev_rec_cites_the_editors_line(tmp_path: Path, sep: str) -> None:
    bad = "0,1.0,2.0"
    text = _write(tmp_path / "a.rec", [f"# a{sep}note", "0,0.0,1.0,6", bad], "\n")
    with pytest.raises(SourceError, match=rf": line {_line_of(text, bad)}: expected channel"):
        read_tuev_rec(str(tmp_path / "a.rec"))


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_a_seizure_list_cites_the_editors_line(tmp_path: Path, sep: str) -> None:
    block = "Seizure n 1"
    lines = [f"Patient id: PN00{sep}(age 55)", "", block, "File name: PN00-1.edf",
             "Registration start time: 19.39.33", "Start time: 19.58.36"]  # fmt: skip
    text = _write(tmp_path / "Seizures-list-PN00.txt", lines, "\n")
    with pytest.raises(SourceError, match=rf": line {_line_of(text, block)}: the seizure block"):
        read_seizure_list(str(tmp_path / "Seizures-list-PN00.txt"))


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_a_brainvision_syntax_error_quotes_its_own_line(tmp_path: Path, sep: str) -> None:
    lines = ["Brain Vision Data Exchange Header File Version 1.0", f"; a{sep}comment",
             "[Common Infos]", "DataFile=rec.eeg", "not a key value line",
             "NumberOfChannels=1"]  # fmt: skip
    text = _write(tmp_path / "rec.vhdr", lines, "\r\n")
    (tmp_path / "rec.eeg").write_bytes(b"\0\0")
    clear_cache()
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(tmp_path / "rec.vhdr"))
    line = _line_of(text, "not a key value line")
    assert f"line {line} ('not a key value line') is not a key=value line" in str(caught.value)


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_editor_lines_end_lines_at_line_ends_alone(sep: str) -> None:
    from eegprep.base.text import editor_lines

    text = f"a{sep}b\r\nc\rd\n\ne"
    assert editor_lines(text) == [f"a{sep}b", "c", "d", "", "e"]
    assert editor_lines(text + "\n") == editor_lines(text)
