"""Side files and event data of absurd size are refused in one line naming the file, in time
and memory that do not grow with the file: marker files and text sidecars over the bound of
events, or with a line no such file holds, a BrainVision header or marker file of megabytes, a
header whose ``SkipLines`` passes its data file's end, an EDF+ annotation signal of megabytes of
padding. Each is read a chunk or a line at a time, or refused from its size, never read whole.

Measured before (2 cores, docs/benchmarks.md section 12): a BrainVision marker file of
1,000,000 markers (30 MB) was read whole and decoded to count them (the ingest's peak 173 MiB);
a TUH label file of 1,000,000 rows was parsed into as many events (13.7 CPU s, 724 MiB) before
the event rule refused it; a label file of one 100 MB line was held whole (229 MiB); a header of
15 MB of comment took 1.4 CPU s and 259 MiB; a marker file of 137 MB of comments 7.8 s and
756 MiB; ``SkipLines=10000000000`` hours; an annotation signal 40 MB wide 9.3 s and 449 MiB.
"""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import event_count

JUNK_BYTES = 8 * 2**20  # a side file's bulk: what a whole read would hold (twice, as text)
PEAK_BYTES = 4 * 2**20  # a chunk or a line at a time stays under this


def _peak(read: Callable[[], Any], *, traced: bool = True) -> tuple[str, int]:
    """``read``'s one-line refusal and the most bytes Python held while it ran (0 where not
    ``traced``)."""
    if traced:
        tracemalloc.start()
    try:
        with pytest.raises(SourceError) as err:
            read()
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        if traced:
            tracemalloc.stop()
    said = str(err.value)
    assert "\n" not in said, said
    return said, peak


# -- BrainVision marker files -------------------------------------------------------------------

_VMRK_HEAD = (
    "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
    "DataFile=r.eeg\n"
)


def test_a_marker_file_over_the_bound_is_refused_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: the whole file read and decoded (here 16 MB held) before its Mk lines were counted
    from eegprep.readers import vmrk

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    path = tmp_path / "r.vmrk"
    marks = "".join(f"Mk{k}=Stimulus,S  1,{k},1,0\n" for k in range(1, 7))
    path.write_text(f"{_VMRK_HEAD}; {'x' * JUNK_BYTES}\n[Marker Infos]\n{marks}", "utf-8")
    said, peak = _peak(lambda: vmrk.read_vmrk("r.vhdr", str(path), n_channels=4))
    assert said == (
        "r.vhdr: its marker file r.vmrk gives 6 events, over the 5 a recording may store: "
        "split the recording into shorter files, or thin its markers"
    )
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to refuse it"


def test_a_marker_file_of_megabytes_beside_its_markers_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: read whole by eegprep and twice by MNE, up to the per-file memory limit (137 MB of
    # comment lines beside 10 markers: 7.8 CPU s and 756 MiB)
    from eegprep.readers import vmrk

    monkeypatch.setattr(vmrk, "MAX_VMRK_BYTES", 64 * 1024, raising=False)
    path = tmp_path / "r.vmrk"
    marks = "".join(f"Mk{k}=Stimulus,S  1,{k},1,0\n" for k in range(1, 4))
    comment = "".join(f"; line {k} of a comment\n" for k in range(4000))
    path.write_text(f"{_VMRK_HEAD}{comment}[Marker Infos]\n{marks}", "utf-8")
    size = path.stat().st_size
    said, _ = _peak(lambda: vmrk.read_vmrk("r.vhdr", str(path), n_channels=4))
    assert said == (
        f"r.vhdr: its marker file r.vmrk is {size:,} bytes, over the 65,536 read of a marker "
        "file (the 100,000 markers a recording may store take a few MB): the file is "
        "damaged, or not a marker file"
    )
    path.write_text(f"{_VMRK_HEAD}[Marker Infos]\n{marks}", "utf-8")
    assert len(vmrk.read_vmrk("r.vhdr", str(path), n_channels=4).markers) == 3


_MK = re.compile(r"^Mk(\d+)=(.*)", re.MULTILINE)  # as MNE (and read_vmrk) find marker lines


@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 1 << 20])
def test_markers_counted_a_chunk_at_a_time_are_those_of_the_text(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from eegprep.readers import vmrk

    monkeypatch.setattr(vmrk, "_CHUNK_BYTES", chunk)
    long_number = "Mk" + "1" * 90 + "=Stimulus,S  1,5,1,0"
    for text in (
        "Mk1=a,b,1,1\n[Marker Infos]\nMk1=a,b,1,1\r\nMk2=a,b,2,1",  # one before the section
        "[marker infos]Mk1=a,b,1,1\nMk\nMk2\n Mk3=a\nxMk4=a\n\nMk5=" + "y" * 300,
        f"[Marker Infos]\n{long_number}\n{'z' * 200}Mk6=a\nMk7=a,b,7,1\n",
        "no section\nMk1=a,b,1,1\n",
    ):
        hit = re.search(r"\[Marker Infos\]", text, re.IGNORECASE)
        want = 0 if hit is None else len(_MK.findall(text[hit.end() :]))
        assert vmrk._counted_markers(io.BytesIO(text.encode())) == want, text


# -- text sidecars: label files, event tables, marker lists --------------------------------------

N_ROWS = 200_000  # rows written; the bound is patched to 5: reading must stop at the sixth


def _header(path: Path) -> Any:
    from eegprep.readers.base import Header, Signal

    signal = Signal("Fp1", 100.0, 6000, "uV", 1.0)
    meta = (("start", "2020-01-01T10:00:00"),)
    return Header(path=str(path), reader="edf", signals=(signal,), duration=60.0, meta=meta)


# parser, sidecar name, options, the text before the rows, one row (from its number)
SIDECARS: list[tuple[str, str, dict[str, Any], str, Callable[[int], str]]] = [
    ("tuh_csv", "x.csv", {}, "# version = csv_v1.0.0\nchannel,start_time,stop_time,label\n",
     lambda k: f"TERM,{k}.0,{k}.5,seiz\n"),
    ("tuev_rec", "x.rec", {}, "", lambda k: f"0,{k}.0,{k}.5,1\n"),
    ("marker_file", "x.bdf.mrk", {}, "", lambda k: f"{k} 1\n"),
    ("bids_events", "x_events.tsv", {}, "onset\tduration\ttrial_type\n",
     lambda k: f"{k}.0\t0\tgo\n"),
    ("bids_events", "x_channels.tsv", {}, "name\ttype\tstatus\n", lambda k: f"C{k}\tEEG\tgood\n"),
    ("siena_seizures", "Seizures-list-PN00.txt", {}, "",
     lambda k: f"Seizure n {k}\nFile name: PN00-1.edf\nRegistration start time: 10.00.00\n"
     "Registration end time: 10.59.00\nSeizure start time: 10.00.01\n"
     "Seizure end time: 10.00.02\n"),
    ("inria_feedback", "TrainLabels.csv", {"session": "S02_Sess01"}, "IdFeedBack,Prediction\n",
     lambda k: f"S02_Sess01_FB{k + 1:03d},1\n"),
    ("event_columns_csv", "x_events.csv", {}, "id,HandStart\n",
     lambda k: f"x_{2 * k},1\nx_{2 * k + 1},0\n"),
]  # fmt: skip
_IDS = [f"{parser}-{name}" for parser, name, *_ in SIDECARS]


def _parse(path: Path, parser: str, options: dict[str, Any]) -> Any:
    from eegprep.corpus.sidecars import load_parsers

    return load_parsers()[parser]([str(path)], _header(path.parent / "PN00-1.edf"), options)


@pytest.mark.parametrize(("parser", "name", "options", "head", "row"), SIDECARS, ids=_IDS)
def test_a_sidecar_over_the_bound_of_events_stops_being_read_there(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parser: str,
    name: str,
    options: dict[str, Any],
    head: str,
    row: Callable[[int], str],
) -> None:
    # was: read whole (fh.read().splitlines(): a TUH label file of 1,000,000 rows held
    # 457 MiB), or every row built as an event, the bound applied only by the ingest's rule
    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    path = tmp_path / name
    path.write_text(head + "".join(row(k) for k in range(N_ROWS)), encoding="utf-8")
    assert path.stat().st_size > 2**20
    # (numpy reads event_columns_csv's table whole: counted, then refused; its peak is not
    # checked, so it is read untraced: tracemalloc made that read 3.9 s, 0.6 s without)
    whole = parser == "event_columns_csv"
    said, peak = _peak(lambda: _parse(path, parser, options), traced=not whole)
    assert said.startswith(f"{path}: "), said
    bounded = "more than the 5 rows of events a recording may store (reading stopped on line"
    assert bounded in said or "events, over the 5 a recording may store" in said, said
    if not whole:
        assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to refuse it"
    path.write_text(head + "".join(row(k) for k in range(5)), encoding="utf-8")
    _parse(path, parser, options)  # at the bound: read


TABLES = [  # sidecars of a value per sample: no bound of rows, a bound of each line
    ("mobi_joints", "joints.txt", {"n_targets": 2}, "Time a b\ndeg deg deg\n",
     lambda k: f"{k / 100} 1.0 2.0\n"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("parser", "name", "options", "head", "row"),
    SIDECARS + TABLES,
    ids=_IDS + [f"{parser}-{name}" for parser, name, *_ in TABLES],
)
def test_a_sidecar_line_of_junk_is_refused_without_holding_it(
    tmp_path: Path,
    parser: str,
    name: str,
    options: dict[str, Any],
    head: str,
    row: Callable[[int], str],
) -> None:
    # was: the line (binary junk, or a file whose lines have no ends) held whole, as text,
    # then a parser's or the csv module's own words ("field larger than field limit")
    path = tmp_path / name
    junk = "\t".join(["y" * 1000] * (JUNK_BYTES // 1001))  # no line end in 8 MB
    path.write_text(head + row(0) + junk, encoding="utf-8")
    n = (head + row(0)).count("\n") + 1
    said, peak = _peak(lambda: _parse(path, parser, options))
    assert said == (
        f"{path}: line {n} is longer than 1,048,576 characters, which no row of a "
        "label file or event table is (binary data, or lines without ends?): fix or remove the "
        "file"
    )
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to refuse it"


# -- BrainVision headers --------------------------------------------------------------------------


def test_a_header_of_megabytes_of_comment_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # was: a header up to 16 MiB read, through MNE's parser (15 MB: 1.4 CPU s, 259 MiB)
    from eegprep.readers import get_reader

    head = (
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=r.eeg\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\nNumberOfChannels=1\n"
        "SamplingInterval=4000\n[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n[Channel Infos]\n"
        "Ch1=Fp1,,1,µV\n[Comment]\n"
    )
    path = tmp_path / "r.vhdr"
    (tmp_path / "r.eeg").write_bytes(bytes(4 * 250))
    path.write_text(head, encoding="utf-8")
    assert get_reader("mne").read_header(str(path)).signals[0].label == "Fp1"  # (MNE imported)
    path.write_text(head + "".join(f"note {k}\n" for k in range(200_000)), encoding="utf-8")
    size = path.stat().st_size
    said, peak = _peak(lambda: get_reader("mne").read_header(str(path)))
    assert said == (
        f"{path}: the header is {size:,} bytes; a BrainVision header is text of a few kB (at "
        "most 1,048,576 bytes are read): this is not one"
    )
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to refuse it"


# -- EDF+ annotation signals ----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["after", "between"])
def test_an_annotation_signal_padded_with_megabytes_of_zeros_is_read_in_bounded_memory(
    where: str,
) -> None:
    # was: split at every byte 0, a list item each: a record's signal 40 MB wide (one long
    # annotation) took 9 CPU s and 450 MiB, here 64 MiB for 8 MB of padding
    from eegprep.readers.edf_records import parse_tals

    pad = b"\x00" * JUNK_BYTES
    tals = b"+0\x14\x14\x00" + (pad + b"+1.5\x150.5\x14go\x14\x00" if where == "between" else pad)
    tracemalloc.start()
    try:
        found, keeping = parse_tals(tals)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert keeping == 0.0
    assert found == ([(1.5, 0.5, "go")] if where == "between" else [])
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to read it"


def test_a_header_skipping_more_lines_than_its_text_data_file_holds_is_refused_at_once(
    tmp_path: Path,
) -> None:
    # was: MNE skipped SkipLines=10^12 lines one readline at a time, past the file's end: hours
    import subprocess
    import sys

    (tmp_path / "r.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=r.txt\nDataFormat=ASCII\nDataOrientation=MULTIPLEXED\nNumberOfChannels=1\n"
        "SamplingInterval=4000\n[ASCII Infos]\nDecimalSymbol=.\nSkipLines=1000000000000\n"
        "[Channel Infos]\nCh1=Fp1,,1,µV\n",
        encoding="utf-8",
    )
    (tmp_path / "r.txt").write_text("1.0\n" * 500, encoding="ascii")
    code = (
        "import sys\nfrom eegprep.readers import get_reader\nfrom eegprep.base.errors import "
        "SourceError\ntry:\n    get_reader('mne').read_header(sys.argv[1])\nexcept SourceError "
        "as exc:\n    print(exc)\n"
    )
    run = [sys.executable, "-c", code, str(tmp_path / "r.vhdr")]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == (
        f"{tmp_path / 'r.vhdr'}: its data file r.txt ends after 500 lines, before the "
        "SkipLines=1,000,000,000,000 its header skips (MNE spun on such a header for hours, "
        "skipping lines past the end): correct SkipLines in [ASCII Infos]"
    ), done.stderr[-2000:]
