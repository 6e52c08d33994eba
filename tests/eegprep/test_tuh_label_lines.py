"""TUH label files as other tools and hands leave them: ``.tse``/``.tse_bi`` rows with and without
their probability in one file (``start stop label [probability]``: NEDC's writer gives one,
hand-made and converted files often none), trailing blanks, CRLF line ends, a version line and
comment lines; ``.csv``/``.csv_bi`` rows with and without their confidence; ``.lbl`` files. All
are read (a file mixing rows with and without probabilities was refused for the mix). A
malformed line (a time that is no number, a stop before its start, a field too few) refuses the
recording in one line naming the file, the line and how many more there are: a stretch no row
names is stored as background, so a row left out could store a seizure as background."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import load_parsers
from eegprep.readers.base import Header, Signal

STEM = "00000077_s003_t000"


def _header(tmp_path: Path) -> Header:
    sites = ("FP1", "F7", "T3", "T5", "C3")
    signals = tuple(
        Signal(label=f"EEG {s}-REF", sfreq=250.0, n_samples=7500, unit="uV", to_uv=1.0)
        for s in sites
    )
    return Header(path=str(tmp_path / f"{STEM}.edf"), reader="edf", signals=signals, duration=30.0)


def _parse(tmp_path: Path, suffix: str, text: str) -> tuple[list, list]:
    path = tmp_path / f"{STEM}{suffix}"
    path.write_bytes(text.encode())
    res = load_parsers()["tuh_csv"]([str(path)], _header(tmp_path), {})
    return res.events, res.problems


TSE = (
    "version = tse_v1.0.0\r\n"
    "# written by hand, then by NEDC's tools\r\n"
    "\r\n"
    "0.0000 10.0000 bckg 1.0000  \r\n"
    "10.0000 15.0000 seiz\r\n"
    "# a comment between rows\r\n"
    "15.0000 20.0000 cpsz 0.8000 bckg 0.2000 \r\n"
    "20.0000 30.0000 bckg\t\r\n"
)
TSE_READ = [
    [0.0, 10.0, "bckg", ""], [10.0, 5.0, "seiz", ""], [15.0, 5.0, "cpsz", ""],
    [15.0, 5.0, "bckg", ""], [20.0, 10.0, "bckg", ""],
]  # fmt: skip


@pytest.mark.parametrize("suffix", [".tse", ".tse_bi"])
@pytest.mark.parametrize("ends", ["\r\n", "\n", "\r"], ids=["CRLF", "LF", "CR"])
def test_a_tse_mixing_rows_with_and_without_probabilities_is_read_whole(
    tmp_path: Path, suffix: str, ends: str
) -> None:
    events, problems = _parse(tmp_path, suffix, TSE.replace("\r\n", ends))
    assert events == TSE_READ
    assert problems == []


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("10.0000 abc seiz 1.0000", "expected a time in seconds, got 'abc'"),
        ("15.0000 10.0000 seiz", "the event stops (10 s) before it starts (15 s)"),
        ("10.0000 15.0000", "expected start_time stop_time label"),
        ("10.0000 15.0000 seiz 1.0000 bckg", "expected start_time stop_time label"),
        ("10.0000 15.0000 seiz 1.5000", "the probability of 'seiz' is '1.5000'"),
        ("10.0000 -5.0000 seiz", "negative time"),
    ],
    ids=["time-text", "stop-before-start", "no-label", "odd-pairs", "probability", "negative"],
)
def test_a_malformed_tse_line_refuses_the_recording_naming_it(
    tmp_path: Path, row: str, why: str
) -> None:
    with pytest.raises(SourceError) as err:
        _parse(tmp_path, ".tse", TSE.replace("10.0000 15.0000 seiz", row))
    said = str(err.value)
    assert f"{STEM}.tse: line 5: " in said and why in said, said
    assert "stored as background" in said and "\n" not in said


def test_many_malformed_tse_lines_are_one_line_naming_the_first(tmp_path: Path) -> None:
    text = TSE.replace("10.0000 15.0000 seiz", "10.0000 x seiz").replace("bckg\t", "bckg 7")
    with pytest.raises(
        SourceError, match=rf"{STEM}\.tse: line 5: .*\(and 1 more malformed line: 8\)"
    ):
        _parse(tmp_path, ".tse", text)


def test_a_tse_of_malformed_lines_alone_is_refused_naming_the_first(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"\.tse: line 2: expected a time in seconds, got 'x'"):
        _parse(tmp_path, ".tse", "version = tse_v1.0.0\n0.0 x bckg 1.0\n1.0 y bckg\n")


CSV = (
    "# version = csv_v1.0.0\r\n"
    f"# bname = {STEM}\r\n"
    "# duration = 30.00 secs\r\n"
    "#\r\n"
    "channel,start_time,stop_time,label,confidence\r\n"
    "TERM,0.0000,10.0000,bckg,1.0000 \r\n"
    "FP1-F7,10.0000,15.0000,seiz\r\n"
    "TERM,15.0000,30.0000,bckg,1.0000\r\n"
)
CSV_READ = [[0.0, 10.0, "bckg", ""], [10.0, 5.0, "seiz", "FP1-F7"], [15.0, 15.0, "bckg", ""]]


@pytest.mark.parametrize("suffix", [".csv", ".csv_bi"])
def test_a_csv_mixing_rows_with_and_without_confidence_is_read_whole(
    tmp_path: Path, suffix: str
) -> None:
    events, problems = _parse(tmp_path, suffix, CSV)
    assert events == CSV_READ
    assert problems == []


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("FP1-F7,10.0000,seiz,1.0000", "expected a time in seconds, got 'seiz'"),
        ("FP1-F7,15.0000,10.0000,seiz,1.0000", "stops (10 s) before it starts (15 s)"),
        ("FP1-F7,10.0000,15.0000", "has 3 fields, the header 5"),
        ("FP1-F7,10.0000,15.0000,,1.0000", "the label cell is empty"),
        ("FP1-F7,10.0000,15.0000,1.0000", "the label '1.0000' is a number"),
    ],
    ids=["cell-lost", "stop-before-start", "cut", "empty-label", "label-lost"],
)
def test_a_malformed_csv_line_refuses_the_recording_naming_it(
    tmp_path: Path, row: str, why: str
) -> None:
    with pytest.raises(SourceError) as err:
        _parse(tmp_path, ".csv", CSV.replace("FP1-F7,10.0000,15.0000,seiz", row))
    said = str(err.value)
    assert f"{STEM}.csv: line 7: " in said and why in said, said


LBL = (
    "version = lbl_v1.0.0\r\n\r\n"
    "montage = 0, FP1-F7: EEG FP1-REF -- EEG F7-REF  \r\n"
    "montage = 1, F7-T3: EEG F7-REF -- EEG T3-REF\r\n\r\n"
    "number_of_levels = 1\r\nlevel[0] = 1\r\n\r\n"
    "symbols[0] = {0: '(null)', 1: 'bckg', 2: 'seiz'}\r\n\r\n"
    "label = {0, 0, 0.0000, 10.0000, 0, [0.0, 1.0, 0.0]}\r\n"
    "label = {0, 0, 10.0000, 15.0000, 1, [0.0, 0.0, 1.0]} \r\n"
    "label = {0, 0, 15.0000, 30.0000, 0, [0.0, 1.0, 0.0]}\r\n"
)
LBL_READ = [[0.0, 10.0, "bckg", "FP1-F7"], [10.0, 5.0, "seiz", "F7-T3"],
            [15.0, 15.0, "bckg", "FP1-F7"]]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("label = {0, 0, 15.0000, 10.0000, 1, [0.0, 0.0, 1.0]}", "stops (10 s) before it starts"),
        ("label = {0, 0, 10.0000, 15.0000, 7, [0.0, 0.0, 1.0]}", "channel 7 is not one of"),
        ("label = {0, 0, 10.0000, 15.0000, 1, [0.0, 1.0]}", "the vector has 2 entries"),
        ("label = {0, 0, 10.0000, 15.0000, 1}", "expected label = {level, sublevel"),
    ],
    ids=["stop-before-start", "channel", "vector", "no-vector"],
)
def test_a_malformed_lbl_line_refuses_the_recording_naming_it(
    tmp_path: Path, row: str, why: str
) -> None:
    assert _parse(tmp_path, ".lbl", LBL) == (LBL_READ, [])
    line = "label = {0, 0, 10.0000, 15.0000, 1, [0.0, 0.0, 1.0]}"
    with pytest.raises(SourceError) as err:
        _parse(tmp_path, ".lbl", LBL.replace(line, row))
    said = str(err.value)
    assert f"{STEM}.lbl: line 12: " in said and why in said, said
