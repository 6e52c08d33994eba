"""A real user's copy of a label file: the variants a spreadsheet, an editor, a cut download or
a hand edit leave. Each gives exactly the labels of the plain file, or one line naming the
file, the line and the problem: never a silently different label.

(UTF-16 and Latin-1 copies of every corpus's text files: ``test_text_sidecars.py``.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import load_parsers
from eegprep.readers.base import Header, Signal

TUH_CSV = (
    "# version = csv_v1.0.0\n"
    "# bname = aaaaaaac_s001_t000\n"
    "# duration = 300.00 secs\n"
    "#\n"
    "channel,start_time,stop_time,label,confidence\n"
    "TERM,0.0000,10.0000,bckg,1.0000\n"
    "TERM,10.0000,20.5000,seiz,1.0000\n"
    "TERM,20.5000,300.0000,bckg,1.0000\n"
)
TUEV_REC = "0,10.0,11.0,6\n1,11.0,12.0,1\n"
TUH_SITES = ("FP1", "F7", "T3", "T5", "O1", "C3", "CZ")


def _header(path: Path, sites: tuple[str, ...] = TUH_SITES) -> Header:
    signals = tuple(Signal(f"EEG {s}-REF", 250.0, 250 * 300, "uV", 1.0) for s in sites)
    return Header(path=str(path), reader="edf", signals=signals, duration=300.0)


def _parse(tmp_path: Path, parser: str, name: str, data: str | bytes) -> Any:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    options = {"skip_labels": ["bckg"]} if parser == "tuh_csv" else {}
    return load_parsers()[parser](
        [str(path)], _header(tmp_path / "aaaaaaac_s001_t000.edf"), options
    )


def _rows(text: str, edit: Callable[[str], str]) -> str:
    """``text`` with ``edit`` applied to each data row (not to comments nor the header)."""
    lines = text.splitlines()
    data = [i for i, line in enumerate(lines) if line and not line.startswith(("#", "channel"))]
    for i in data:
        lines[i] = edit(lines[i])
    return "\n".join(lines) + "\n"


def _quoted(row: str) -> str:
    return ",".join(f'"{cell}"' for cell in row.split(","))


SAME = {
    "quoted cells": lambda t: _rows(t, _quoted),
    "a trailing comma": lambda t: _rows(t, lambda r: r + ","),
    "tabs for commas": lambda t: t.replace(",", "\t"),
    "blanks around cells": lambda t: _rows(t, lambda r: r.replace(",", " , ")),
    "CR line ends, no final one": lambda t: t.replace("\n", "\r").rstrip("\r"),
    "the header again in the middle": lambda t: t + "channel,start_time,stop_time,label\n",
    "columns in another order": lambda t: _columns_reordered(t),
}


def _columns_reordered(text: str) -> str:
    """``text`` with its columns in the order label, stop, start, channel, confidence, as a
    spreadsheet's user may move them (the header row says which is which)."""

    def move(row: str) -> str:
        cells = row.split(",")
        return ",".join([cells[3], cells[2], cells[1], cells[0], *cells[4:]])

    lines = [move(line) if not line.startswith("#") else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


HEADER_VARIANTS = ("the header again in the middle", "columns in another order")
FILES = {
    "tuh_csv": ("aaaaaaac_s001_t000.csv_bi", TUH_CSV),
    "tuev_rec": ("aaaaaaac_s001_t000.rec", TUEV_REC),
}
SAME_CASES = [
    (parser, variant)
    for parser in sorted(FILES)
    for variant in sorted(SAME)
    if not (parser == "tuev_rec" and variant in HEADER_VARIANTS)  # (a .rec has no header)
]


@pytest.mark.parametrize(("parser", "variant"), SAME_CASES)
def test_a_spreadsheet_s_copy_gives_the_same_events(
    tmp_path: Path, parser: str, variant: str
) -> None:
    """Quoted cells and a trailing comma (a spreadsheet's CSV), tabs (its "Text" export):
    the same events. A quoted time was refused as no number, a trailing comma as a sixth
    cell, tabs as a row of one cell."""
    name, text = FILES[parser]
    plain = _parse(tmp_path, parser, name, text)
    assert plain.events
    assert _parse(tmp_path, parser, name, SAME[variant](text)).events == plain.events


BAD = {
    "an empty label": (
        lambda t: t.replace("20.5000,seiz,", "20.5000,,"),
        r"line 7: the label cell is empty",
    ),
    "an empty channel": (
        lambda t: t.replace("TERM,10.0000", " ,10.0000"),
        r"line 7: the channel cell is empty",
    ),
    "a stop before its start": (
        lambda t: t.replace("10.0000,20.5000", "20.5000,10.0000"),
        r"line 7: the event stops \(10 s\) before it starts \(20.5 s\)",
    ),
    "a time with an underscore": (
        lambda t: t.replace("10.0000,20.5000", "1_0.0000,20.5000"),
        r"line 7: expected a time in seconds, got '1_0.0000'",
    ),
    "a time in Arabic-Indic digits": (
        lambda t: t.replace("10.0000,20.5000", "\u0661\u0660.0,20.5000"),
        r"line 7: expected a time in seconds",
    ),
    "a decimal comma": (
        lambda t: t.replace("10.0000,20.5000", '"10,0","20,5"'),
        r"line 7: expected a time in seconds, got '10,0'",
    ),
}
EMPTY = {
    "an empty file": lambda t: "",
    "a file of its header alone": lambda t: t.split("TERM")[0],
}


@pytest.mark.parametrize("variant", sorted(BAD))
def test_a_damaged_tuh_label_row_is_one_line_naming_the_line(tmp_path: Path, variant: str) -> None:
    """Each was stored as something else: an empty label as a class ``""``, an empty channel
    as the whole recording's, ``1_0.0`` as 10 s (Python's float takes underscores). A stop
    before its start named no line. The recording is refused naming the file and the line: the
    row left out, its stretch would be stored as background."""
    edit, message = BAD[variant]
    name = "aaaaaaac_s001_t000.csv_bi"
    with pytest.raises(SourceError, match=r"aaaaaaac_s001_t000\.csv_bi: " + message):
        _parse(tmp_path, "tuh_csv", name, edit(TUH_CSV))


@pytest.mark.parametrize("variant", sorted(EMPTY))
def test_a_tuh_label_file_of_no_rows_is_one_line(tmp_path: Path, variant: str) -> None:
    """An empty file was stored as a recording with no seizure."""
    name = "aaaaaaac_s001_t000.csv_bi"
    with pytest.raises(SourceError, match=r"csv_bi: no label rows \(an empty or cut file\)"):
        _parse(tmp_path, "tuh_csv", name, EMPTY[variant](TUH_CSV))


@pytest.mark.parametrize(("text", "message"), [
    ("", r"no label rows"),
    ("0,1_0.0,11.0,6\n", r"line 1: expected a time in seconds, got '1_0.0'"),
    ("0,10.0,11.0,1_0\n", r"line 1: class code '1_0' is not one of 1..6"),
])  # fmt: skip
def test_a_damaged_tuev_rec_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    """An empty ``.rec`` gave a recording with no events; ``1_0`` was class 10's refusal only
    by luck of the value (``1_1`` was class 11, ``0_1`` class 1: spsw)."""
    with pytest.raises(SourceError, match=r"\.rec: " + message):
        _parse(tmp_path, "tuev_rec", "aaaaaaac_s001_t000.rec", text)


def test_a_tuev_code_with_an_underscore_is_no_class(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"line 1: class code '0_1' is not one of 1..6"):
        _parse(tmp_path, "tuev_rec", "aaaaaaac_s001_t000.rec", "0,10.0,11.0,0_1\n")


@pytest.mark.parametrize(("edit", "said"), [
    (lambda t: t.replace(",seiz,", ",sei,"),
     r"1 row with a label TUH does not define .*: 'sei' on line 7"),
    (lambda t: t.replace("TERM,10.0000", "FP1-ZZ,10.0000"),
     r"1 row naming a channel the recording does not have .*: 'FP1-ZZ' on line 7"),
])  # fmt: skip
def test_a_label_or_channel_tuh_does_not_know_is_said(
    tmp_path: Path, edit: Callable[[str], str], said: str
) -> None:
    """A label cut inside a word (``sei``) or a channel pair of electrodes the recording does
    not have is stored as written, and said once in the report (it was stored unsaid)."""
    got = _parse(tmp_path, "tuh_csv", "aaaaaaac_s001_t000.csv_bi", edit(TUH_CSV))
    assert len(got.events) == 1
    assert any(__import__("re").search(said, p) for p in got.problems), got.problems


def test_known_labels_and_channels_say_nothing(tmp_path: Path) -> None:
    """TUH's own classes, combinations of them and montage pairs of the recording's sites."""
    text = TUH_CSV.replace(",seiz,", ",eyem_musc,").replace("TERM,10.0000", "FP1-F7,10.0000")
    got = _parse(tmp_path, "tuh_csv", "aaaaaaac_s001_t000.csv_bi", text)
    assert got.problems == []
    assert got.events == [[10.0, 10.5, "eyem_musc", "FP1-F7"]]


EVENTS_TSV = "onset\tduration\ttrial_type\tvalue\n1.5\t0.5\tgo\t1\n3.0\tn/a\tstop\t2\n"
BIDS_NAME = "sub-01_task-x_events.tsv"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t + "5.0\n", r"line 4 has 1 cell, the header 4: a cut row\?"),
    (lambda t: t + "5.0\t0\tgo\t1\tlate\n", r"line 4 has 5 cells, the header 4: a tab inside"),
    (lambda t: t.replace("1.5\t", "1_5\t"), r"line 2: onset '1_5' is not seconds"),
    (lambda t: t.replace("\t0.5\t", "\t0_5\t"), r"line 2: duration '0_5' is not seconds"),
    (lambda t: t.replace("\t", ","), r"events.tsv has no 'onset' column .*not separated by tabs"),
    (lambda t: t.replace("\n1.5", "\n\n\n1_5"), r"line 4: onset '1_5'"),
])  # fmt: skip
def test_a_damaged_events_tsv_is_one_line_naming_the_line(
    tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    """A row cut short was stored as an event labelled ``n/a``; a row with a cell too many
    dropped it; ``1_5`` was 15 s; blank lines shifted the line named. (The last case: blank
    lines before a damaged row, whose line is then counted as the file counts it.)"""
    text = edit(EVENTS_TSV)
    with pytest.raises(SourceError, match=r"_events\.tsv: " + message):
        _parse(tmp_path, "bids_events", BIDS_NAME, text)


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("onset\t", " onset \t"),  # blanks around a column's name
    lambda t: t.replace("\n1.5\t0.5\tgo\t1", "\n1.5\t0.5\tgo\t1\t"),  # a trailing tab
])  # fmt: skip
def test_an_events_tsv_with_blanks_gives_the_same_events(
    tmp_path: Path, edit: Callable[[str], str]
) -> None:
    plain = _parse(tmp_path, "bids_events", BIDS_NAME, EVENTS_TSV).events
    assert plain == [[1.5, 0.5, "go", ""], [3.0, 0.0, "stop", ""]]
    assert _parse(tmp_path, "bids_events", BIDS_NAME, edit(EVENTS_TSV)).events == plain


def test_an_empty_events_tsv_is_said(tmp_path: Path) -> None:
    got = _parse(tmp_path, "bids_events", BIDS_NAME, "")
    assert got.events == []
    assert got.problems == [f"{BIDS_NAME}: an empty file (no header row): no events"]


def test_a_marker_position_with_a_decimal_comma_is_refused(tmp_path: Path) -> None:
    """``1,5 3`` was position 1 with code 5 (commas are taken as blanks)."""
    with pytest.raises(SourceError, match=r"x\.bdf\.mrk: line 2: '1,5 3' has a decimal comma"):
        _parse(tmp_path, "marker_file", "x.bdf.mrk", "100 1\n1,5 3\n")


def test_a_marker_line_of_no_position_among_positions_is_said(tmp_path: Path) -> None:
    """``nan 2`` or ``0x10 2`` among positions: a trigger lost, which was skipped unsaid."""
    got = _parse(tmp_path, "marker_file", "x.bdf.mrk", "pos code\n100 1\nnan 2\n300 3\n")
    assert [e[2] for e in got.events] == ["trigger/1", "trigger/3"]
    assert got.problems == [
        "x.bdf.mrk: 1 line among the trigger positions holds no position (skipped: no "
        "trigger read from them): line 3 'nan 2'"
    ]


SIENA = (
    "Seizure n 1\nFile name: PN00-1.edf\nRegistration start time: 19.39.33\n"
    "Registration end time: 20.22.58\nSeizure start time: 19.58.36\nSeizure end time: 19.59.46\n"
)


def _siena(tmp_path: Path, text: str) -> Any:
    (tmp_path / "PN00-1.edf").write_bytes(b"")
    path = tmp_path / "Seizures-list-PN00.txt"
    path.write_text(text)
    signal = Signal("Fp1", 512.0, 512 * 2605, "uV", 1.0)
    header = Header(
        path=str(tmp_path / "PN00-1.edf"), reader="edf", signals=(signal,), duration=2605.0
    )
    return load_parsers()["siena_seizures"]([str(path)], header, {})


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("end time: 19.59.46", "end time: 19.57.46"),
     r"line 1: the seizure from 19\.58\.36 to 19\.57\.46 ends before it starts"),
    (lambda t: t.replace("Seizure start time: 19.58.36", "Seizure start time: 19.38.36"),
     r"line 1: the seizure from 19\.38\.36 to 19\.59\.46 starts outside its registration"),
    (lambda t: t.replace("Seizure end time: 19.59.46\n", ""),
     r"line 1: the seizure block has no seizure end time"),
])  # fmt: skip
def test_a_siena_seizure_read_across_midnight_by_mistake_is_refused(
    tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    """An end written before its start was a seizure of 23 h 59 min (the rest of the
    recording stored as seizure, cut and said only as such); a start before the registration
    a seizure 23 h later (dropped, while ``n_seizures`` still counted it). A missing seizure
    end was named a missing registration time."""
    with pytest.raises(SourceError, match=r"Seizures-list-PN00\.txt: " + message):
        _siena(tmp_path, edit(SIENA))


def test_a_siena_block_listed_twice_is_one_seizure(tmp_path: Path) -> None:
    """The events rule stores the repeat once; ``n_seizures`` said 2."""
    got = _siena(tmp_path, SIENA + SIENA.replace("Seizure n 1", "Seizure n 2"))
    assert got.labels == {"n_seizures": 1}


INRIA = "IdFeedBack,Prediction\nS02_Sess01_FB001,1\nS02_Sess01_FB002,0\nS02_Sess01_FB003,1\n"
INRIA_EVENTS = [[5.0, 0.0, "feedback/1", ""], [10.0, 0.0, "feedback/0", ""],
                [15.0, 0.0, "feedback/1", ""]]  # fmt: skip


def _inria(tmp_path: Path, text: str) -> Any:
    from eegprep.readers.base import Annotation

    path = tmp_path / "TrainLabels.csv"
    path.write_text(text)
    marks = tuple(Annotation(t, 0.0, "FeedBackEvent/1") for t in (5.0, 10.0, 15.0))
    signal = Signal("Fp1", 200.0, 200 * 60, "uV", 1.0)
    header = Header(path=str(tmp_path / "Data_S02_Sess01.csv"), reader="csv",
                    signals=(signal,), duration=60.0, annotations=marks)  # fmt: skip
    return load_parsers()["inria_feedback"]([str(path)], header, {"session": "S02_Sess01"})


@pytest.mark.parametrize("edit", [
    lambda t: t.replace(",", ";"),  # a European spreadsheet's CSV (was a traceback)
    lambda t: t.replace(",", "\t"),  # its "Text" export (was a traceback)
    lambda t: t.replace("FB001,1", "FB001,1.0"),  # was a third class, feedback/1.0
    lambda t: t.replace("FB002,0\n", "FB002,0\nS02_Sess01_FB002,0\n"),  # shifted FB003's
    lambda t: t.replace("FB001,1\nS02_Sess01_FB002,0", "FB002,0\nS02_Sess01_FB001,1"),
    lambda t: t.replace("S02_Sess01_FB002,0", '"S02_Sess01_FB002"," 0 "'),  # quoted
])  # fmt: skip
def test_an_inria_label_table_s_copy_gives_the_same_labels(
    tmp_path: Path, edit: Callable[[str], str]
) -> None:
    assert _inria(tmp_path, INRIA).events == INRIA_EVENTS
    got = _inria(tmp_path, edit(INRIA))
    assert (got.events, got.problems) == (INRIA_EVENTS, [])


def test_an_inria_row_missing_moves_no_other_label(tmp_path: Path) -> None:
    """FB002 missing: marker 3 took FB003's label, marker 2 was labelled FB003's too."""
    got = _inria(tmp_path, INRIA.replace("S02_Sess01_FB002,0\n", ""))
    assert got.events == [INRIA_EVENTS[0], INRIA_EVENTS[2]]
    assert got.problems == [
        "2 labels of session S02_Sess01 in TrainLabels.csv for 3 feedback markers: 1 marker "
        "left unlabelled, 0 labels of no marker"
    ]


@pytest.mark.parametrize(("edit", "line"), [
    (lambda t: t.replace("FB002,0", "FB002,"), 3),  # was the label "feedback/"
    (lambda t: t.replace("FB002,0", "FB002,2"), 3),  # was a class "feedback/2"
    (lambda t: t.replace("FB002,0", "FB002,yes"), 3),
    (lambda t: t.replace("FB002,0", "FBx2,0"), 3),
    (lambda t: t + "S02_Sess01_FB002,1\n", 5),  # the same feedback labelled both ways
])  # fmt: skip
def test_a_damaged_inria_row_is_one_line(
    tmp_path: Path, edit: Callable[[str], str], line: int
) -> None:
    with pytest.raises(SourceError, match=rf"TrainLabels\.csv: line {line}: "):
        _inria(tmp_path, edit(INRIA))


GAL = "id,HandStart,FirstDigitTouch\ns_0,0,0\ns_1,1,0\ns_2,1,1\ns_3,0,1\n"


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("HandStart", '"HandStart"'),  # was the label '"HandStart"'
    lambda t: t.replace("\n", ",\n"),  # a trailing comma (was refused)
])  # fmt: skip
def test_a_grasp_and_lift_events_csv_s_copy_gives_the_same_events(
    tmp_path: Path, edit: Callable[[str], str]
) -> None:
    plain = _parse(tmp_path, "event_columns_csv", "x_events.csv", GAL).events
    assert [e[2] for e in plain] == ["HandStart", "FirstDigitTouch"]
    assert _parse(tmp_path, "event_columns_csv", "x_events.csv", edit(GAL)).events == plain


def _joints(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Any:
    eeg = tmp_path / "eeg.txt"
    eeg.write_text("Time\tFp1\n" + "".join(f"{i / 100:.2f}\t0\n" for i in range(100)))
    path = tmp_path / "joints.txt"
    path.write_text("h1\nh2\n" + "".join(" ".join(r) + "\n" for r in rows))
    header = Header(path=str(eeg), reader="csv", signals=(Signal("Fp1", 100.0, 100, "uV", 1.0),),
                    duration=1.0)  # fmt: skip
    return load_parsers()["mobi_joints"]([str(path)], header, {"n_targets": 2})


JOINTS = [(f"{i / 10:g}", f"{i}", f"{2 * i}") for i in range(11)]


@pytest.mark.parametrize(("rows", "message"), [
    ([*JOINTS[:5], JOINTS[6], JOINTS[5], *JOINTS[7:]],
     r"line 9: its time 0\.5 does not follow"),
    (JOINTS[:6] + JOINTS[5:], r"line 9: its time 0\.5 does not follow"),
    ([*JOINTS[:5], ("0.5", "nan", "10"), *JOINTS[6:]], r"line 8 holds .*no finite number"),
    ([*JOINTS[:5], ("0.5", "5", "1e400"), *JOINTS[6:]], r"line 8 holds .*no finite number"),
])  # fmt: skip
def test_a_joints_table_out_of_order_or_not_finite_is_one_line(
    tmp_path: Path, rows: list[tuple[str, str, str]], message: str
) -> None:
    """Rows out of order or repeated were interpolated between unsaid (numpy's interp needs
    increasing times: its result is then undefined); a ``nan`` angle was a NaN target."""
    assert _joints(tmp_path, JOINTS).targets["joints"][0].shape == (2, 100)
    with pytest.raises(SourceError, match=r"joints\.txt: " + message):
        _joints(tmp_path, rows)


def test_a_channels_tsv_row_cut_short_is_one_line(tmp_path: Path) -> None:
    """``Cz\\tEEG`` under ``name type status``: its ``bad`` was lost, the channel kept."""
    from eegprep.corpus.sidecars.misc import bids_channels

    path = tmp_path / "sub-01_task-x_channels.tsv"
    path.write_text("name\ttype\tstatus\nFp1\tEEG\tgood\nCz\tEEG\n")
    with pytest.raises(SourceError, match=r"channels\.tsv: line 3 has 2 cells, the header 3"):
        bids_channels(str(path))
    path.write_text(" name \ttype\tstatus\nFp1\tEEG\tgood\nCz\tEEG\tbad\t\n")
    assert bids_channels(str(path)) == {"Fp1": ("EEG", "good", ""), "Cz": ("EEG", "bad", "")}


@pytest.mark.parametrize("corpus", ["tusz", "tuar", "emobrain"])
def test_a_label_file_of_no_recording_is_listed_as_skipped(tmp_path: Path, corpus: str) -> None:
    """A label file whose recording is not there (the EDF left out of a copy) was passed over
    unsaid; a file of another kind that ends the same (``DOCS/notes.csv``) is no label file."""
    import shutil

    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.fixtures import write_fixture

    src = write_fixture(corpus, tmp_path / "src")
    suffixes = (".csv_bi", ".csv", ".mrk")
    label = sorted(p for p in src.rglob("*") if p.suffix.lower() in suffixes)[0]
    data = next(p for p in label.parent.iterdir() if p.suffix.lower() in (".edf", ".bdf"))
    stem = label.name.split(".")[0]
    if corpus != "emobrain":
        stem = data.stem  # (TUAR's _seiz.csv is its recording's too)
    (src / "DOCS").mkdir()
    (src / "DOCS" / "notes.csv").write_text("x\n")
    config = IngestConfig(workers=0, progress=False)
    whole = ingest(corpus, src=src, out=tmp_path / "a.zarr", config=config)
    assert whole.unmatched == []
    moved = tmp_path / data.name
    shutil.move(data, moved)
    rep = ingest(corpus, src=src, out=tmp_path / "b.zarr", config=config)
    assert rep.n_ingested == whole.n_ingested - 1
    skipped = [line.split(": ", 1) for line in rep.unmatched]
    skipped = [(rel.rpartition("/")[2], why) for rel, why in skipped]
    assert skipped and all(name.startswith(stem) for name, _ in skipped)
    assert all(f"a label file of no recording: {data.name} is not beside it" in why
               for _, why in skipped)  # fmt: skip


def test_a_label_file_with_a_case_twin_of_other_labels_is_one_line(tmp_path: Path) -> None:
    """``x.csv_bi`` and ``x.CSV_BI`` (two copies merged on a case-sensitive disk): the one the
    manifest spells was read and the other passed over unsaid, whichever held the right
    labels. A twin of the same bytes changes nothing; one of other bytes is one line."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.fixtures import write_fixture

    src = write_fixture("tusz", tmp_path / "src")
    bi = sorted(src.rglob("*.csv_bi"))[0]
    twin = bi.with_name(bi.stem + ".CSV_BI")
    twin.write_bytes(bi.read_bytes())
    config = IngestConfig(workers=0, progress=False)
    same = ingest("tusz", src=src, out=tmp_path / "a.zarr", config=config)
    assert (same.failed, same.n_ingested) == ([], 3)
    twin.write_text(bi.read_text() + "TERM,1.0000,2.0000,seiz,1.0000\n")
    rep = ingest("tusz", src=src, out=tmp_path / "b.zarr", config=config)
    assert rep.n_ingested == 2
    (line,) = rep.failed
    assert (
        f"has 1 copy beside it differing in letter case alone and in content ('{twin.name}')"
        in line
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_tiny_flag_in_an_event_csv_is_refused_in_any_encoding(
    tmp_path: Path, encoding: str
) -> None:
    """``1e-400`` reads as 0 (no event) though it is no flag: refused in UTF-8, and now in
    a UTF-16 copy too (the check looked for its spelling in the file's bytes)."""
    path = tmp_path / "x_events.csv"
    path.write_bytes(GAL.replace("s_1,1,0", "s_1,1e-400,0").encode(encoding))
    with pytest.raises(SourceError, match=r"x_events\.csv: line 3: event cell '1e-400'"):
        load_parsers()["event_columns_csv"]([str(path)], _header(tmp_path / "x.csv"), {})


@pytest.mark.parametrize("bad", [("0.5", "nan", "10"), ("0.4", "5", "10")])
def test_a_joints_row_after_blank_lines_is_cited_by_its_line(
    tmp_path: Path, bad: tuple[str, str, str]
) -> None:
    """Blank lines and a comment between the rows: the message named the data row after the
    header lines ("data row 6"), not the line an editor shows it on."""
    rows = [*JOINTS[:5], bad, *JOINTS[6:]]
    text = "h1\nh2\n" + "".join(" ".join(r) + ("\n\n# next\n" if i % 2 else "\n")
                                for i, r in enumerate(rows))  # fmt: skip
    _joints(tmp_path, JOINTS)
    (tmp_path / "joints.txt").write_text(text)
    header = Header(path=str(tmp_path / "eeg.txt"), reader="csv",
                    signals=(Signal("Fp1", 100.0, 100, "uV", 1.0),), duration=1.0)  # fmt: skip
    with pytest.raises(SourceError) as caught:
        load_parsers()["mobi_joints"]([str(tmp_path / "joints.txt")], header, {"n_targets": 2})
    line = text.split("\n").index(" ".join(bad)) + 1
    assert str(caught.value).startswith(f"{tmp_path / 'joints.txt'}: line {line}")
