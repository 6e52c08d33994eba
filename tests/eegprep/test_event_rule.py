"""One rule for every event, through the real readers and sidecar parsers
(:mod:`eegprep.ingestion.events`, docs/corpora.md "Events"): an event outside the recording is
dropped (an onset past the end, even by less than a sample), one that straddles an end is cut,
each with one warning line per file; a negative or non-finite onset or duration, or more
events than :data:`~eegprep.ingestion.events.MAX_EVENTS`, refuses the file in one line while
the rest of the corpus ingests; a label's unprintable characters become spaces and a huge label
is cut; a label file too large for the memory limit is refused before it is parsed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.ingestion import events as event_rule
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.store.recording import Recording
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures import write_fixture

BIDS = IngestConfig(workers=0, progress=False, mains=50.0)
ODDBALL = "bids/sub-01_ses-02_task-oddball"
ODDBALL_SOURCE = "sub-01/ses-02/eeg/sub-01_ses-02_task-oddball_eeg.vhdr"
END_S = 6.0  # the bids fixture's recordings: 6 s at 250 Hz, stored at 200 Hz


@pytest.fixture(scope="module")
def bids_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mne_bids")
    return write_fixture("bids", tmp_path_factory.mktemp("bids"))


def _with_row(src: Path, tmp: Path, onset: str, duration: str, label: str) -> Path:
    """A copy of the bids corpus whose oddball run (sub-01 ses-02) has one more events.tsv
    row."""
    out = tmp / "src"
    shutil.copytree(src, out)
    (tsv,) = out.glob("**/sub-01_ses-02_task-oddball_events.tsv")
    lines = tsv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    cells = dict.fromkeys(header, "n/a") | {"onset": onset, "duration": duration}
    cells["trial_type"] = label
    lines.append("\t".join(cells[h] for h in header))
    tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _ingest(src: Path, tmp: Path) -> tuple[IngestReport, dict[str, Recording]]:
    report = ingest("bids", src=src, out=tmp / "s.zarr", config=BIDS)
    return report, {r.id: r for r in open_store(tmp / "s.zarr").recordings}


def _mine(rec: Recording, label: str) -> list[tuple[float, float]]:
    return [(round(e.onset, 6), round(e.duration, 6)) for e in rec.events if e.label == label]


@pytest.mark.parametrize(
    ("onset", "duration", "problem"),
    [
        ("2.0", "-0.5", r"event 'neg' at 2\.0 s: its duration -0\.5 s is negative"),
        ("2.0", "inf", r"events\[\d+\]\[1\] is inf"),
        ("2.0", "1e999", r"events\[\d+\]\[1\] is inf"),
        ("2.0", "nan", r"events\[\d+\]\[1\] is nan"),
        ("nan", "0", r"line 5: onset 'nan' is not seconds"),
    ],
)
def test_a_damaged_time_refuses_its_file_alone(
    bids_source: Path, tmp_path: Path, onset: str, duration: str, problem: str
) -> None:
    # was: a negative, inf or NaN duration stored as 0 unsaid
    src = _with_row(bids_source, tmp_path, onset, duration, "neg")
    report, recs = _ingest(src, tmp_path)
    (line,) = report.failed
    assert line.startswith(f"{ODDBALL_SOURCE}: ") and "\n" not in line
    assert re.search(problem, line), line
    assert ODDBALL not in recs and len(recs) == 2  # the rest of the corpus went on


def test_an_onset_just_past_the_end_is_dropped(bids_source: Path, tmp_path: Path) -> None:
    # 6.002 s is under one 200 Hz sample past the 6 s end: dropped, as MNE's readers drop a
    # marker there (was: moved to the end by this rule alone; stored at 6.002 s before that)
    src = _with_row(bids_source, tmp_path, "6.002", "0", "late")
    report, recs = _ingest(src, tmp_path)
    assert report.failed == [] and _mine(recs[ODDBALL], "late") == []
    (line,) = [w for w in report.warnings[ODDBALL_SOURCE] if "late" in w]
    assert line == "1 event outside the stored 0-6 s dropped: 'late' at 6.002 s"
    # and nothing else: the markers inside (0.004 s long) are not "cut" by rounding
    assert report.warnings[ODDBALL_SOURCE] == [line]
    assert "sub-02/eeg/sub-02_task-oddball_eeg.vhdr" not in report.warnings


@pytest.mark.parametrize(
    ("onset", "duration", "stored", "what"),
    [
        ("-1.0", "0.5", [], "dropped"),
        ("7.0", "0", [], "dropped"),
        ("5.5", "2.0", [(5.5, 0.5)], "cut at the recording's ends"),
        ("-0.5", "1.0", [(0.0, 0.5)], "cut at the recording's ends"),
    ],
)
def test_an_event_outside_is_dropped_or_cut(
    bids_source: Path, tmp_path: Path, onset: str, duration: str, stored: list, what: str
) -> None:
    src = _with_row(bids_source, tmp_path, onset, duration, "edge")
    report, recs = _ingest(src, tmp_path)
    assert report.failed == [] and _mine(recs[ODDBALL], "edge") == stored
    (line,) = [w for w in report.warnings[ODDBALL_SOURCE] if "edge" in w]
    assert line.startswith(f"1 event outside the stored 0-6 s {what}: 'edge' at ")


def test_labels_print_on_one_line_and_are_bounded(bids_source: Path, tmp_path: Path) -> None:
    # a control character (TSV holds no newline in a cell) and a 1,000-character label; was
    # both stored as given, reaching the stats table, the HTML page and CSV outputs
    src = _with_row(bids_source, tmp_path, "3.0", "0", "a\x07b\x1b[2Jc")
    (tsv,) = src.glob("**/sub-01_ses-02_task-oddball_events.tsv")
    with tsv.open("a", encoding="utf-8") as fh:
        fh.write("\t".join(["3.5", "0", "x" * 1000] + ["n/a"] * 2) + "\n")
    report, recs = _ingest(src, tmp_path)
    labels = {e.label for e in recs[ODDBALL].events}
    assert "a b [2Jc" in labels and "x" * event_rule.MAX_LABEL_CHARS in labels
    assert all(label.isprintable() and len(label) <= 256 for label in labels)
    warned = " | ".join(report.warnings[ODDBALL_SOURCE])
    assert "1 event with characters that do not print (now spaces): 'a\\x07b" in warned
    assert "1 event with labels over 256 characters (cut): 'xxx" in warned


def test_more_events_than_the_limit_refuse_the_file(
    bids_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_rule, "MAX_EVENTS", 5)  # the oddball runs hold 6 events each
    report, recs = _ingest(bids_source, tmp_path)
    assert len(report.failed) == 2 and list(recs) == ["bids/sub-01_ses-01_task-rest"]
    assert all("6 distinct events, over the 5 a recording may store" in f for f in report.failed)


def test_edf_annotations_take_the_same_rule(tmp_path: Path) -> None:
    """The file's own annotations (EDF+ TALs) pass through the same rule as sidecars'."""
    rng = np.random.default_rng(0)
    chans = ["Fp1", "Fp2", "C3", "C4", "O1", "O2"]
    folder = tmp_path / "lab" / "alice"
    folder.mkdir(parents=True)
    notes = [(-0.5, 0.0, "before"), (4.0, 3.0, "straddle"), (1.0, 0.0, "tab\there"),
             (5.002, None, "last"), (9.0, 1.0, "after")]  # fmt: skip
    x = rng.normal(0, 20, (6, 5 * 250))
    write_edf(folder / "rest.edf", list(x), labels=chans, sfreqs=250, edf_plus=True,
              annotations=notes)  # fmt: skip
    cfg = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("folder", src=tmp_path / "lab", out=tmp_path / "s.zarr", config=cfg)
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    got = [(round(e.onset, 6), round(e.duration, 6), e.label) for e in rec.events]
    # ("last", 2 ms past the end, is dropped as MNE's readers drop it; it was moved to 5 s)
    assert got == [(1.0, 0.0, "tab here"), (4.0, 1.0, "straddle")]
    assert all(0 <= e.onset <= e.onset + e.duration <= 5.0 for e in rec.events)
    warned = report.warnings["alice/rest.edf"]
    assert any(w.startswith("3 events outside the stored 0-5 s dropped") for w in warned)


def test_tuh_label_stopping_before_its_start_refuses_the_file(tmp_path: Path) -> None:
    # was: stored with a duration of 0 unsaid (TUEV's .rec refused the same row)
    src = write_fixture("tuar", tmp_path / "src")
    csvs = sorted(src.glob("**/*.csv"))
    with csvs[0].open("a", encoding="utf-8") as fh:
        fh.write("T3-T5,4.0000,3.0000,eyem,1.0000\n")
    cfg = IngestConfig(workers=0, progress=False)
    report = ingest("tuar", src=src, out=tmp_path / "s.zarr", config=cfg)
    (line,) = report.failed
    # (refused by its parser, which names the line: the events rule named the event alone)
    assert "the event stops (3 s) before it starts (4 s)" in line
    assert f"{csvs[0].name}: line " in line
    assert report.n_ingested > 0  # the rest of the corpus went on


def test_a_label_file_of_many_short_lines_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    """The memory a sidecar parser needs grows with its lines (~220 bytes an event): a 10^7-line
    label file of 100 MB held 2.3 GB while parsed, its 10-bytes-per-byte estimate 1 GB. Scaled
    down: 10^5 lines of 10 bytes (1 MB) under a 16 MiB limit (was: parsed, 10^5 events)."""
    src = write_fixture("tuar", tmp_path / "src")
    csvs = sorted(src.glob("**/*.csv"))
    with csvs[0].open("a", encoding="utf-8") as fh:
        fh.write("T,0,1,a,1\n" * 100_000)
    cfg = IngestConfig(workers=0, progress=False, file_memory_limit=16 * 1024**2)
    report = ingest("tuar", src=src, out=tmp_path / "s.zarr", config=cfg)
    (line,) = report.failed
    assert "reading this sidecar needs" in line and "--file-memory-limit" in line
    assert report.n_ingested > 0  # the rest of the corpus went on


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ([float("nan"), 0.0, "a", ""], "its onset nan s is not a finite number"),
        ([float("-inf"), 0.0, "a", ""], "its onset -inf s is not a finite number"),
        ([1.0, float("inf"), "a", ""], "its duration inf s is not a finite number"),
        ([1.0, -1e-9, "a", ""], "its duration -1e-09 s is negative"),
    ],
)
def test_the_rule_refuses_what_a_header_reader_passes_on(event: list, problem: str) -> None:
    """A reader's own annotations (FIF, EEGLAB, GDF through MNE) meet no strict-JSON check
    before the rule: its refusal names the file and the event."""
    with pytest.raises(SourceError, match=problem) as err:
        event_rule.settle_events([[0.5, 0.0, "ok", ""], event], 1000, 200.0, "x/rec.fif")
    assert str(err.value).startswith("x/rec.fif: event 'a' at ")


def test_the_rule_keeps_overlaps_sorts_and_drops_repeats() -> None:
    events = [[3.0, 2.0, "b", "T3"], [1.0, 4.0, "a", ""], [3.0, 2.0, "b", "T3"], [2.0, 0.0, "", ""]]
    settled = event_rule.settle_events(events, 2000, 200.0, "rec.edf")
    assert settled.events == [[1.0, 4.0, "a", ""], [2.0, 0.0, "", ""], [3.0, 2.0, "b", "T3"]]
    assert settled.warnings == []  # an empty label is kept; overlaps are no change


def test_brainvision_markers_take_the_same_rule(bids_source: Path, tmp_path: Path) -> None:
    """The file's own markers (.vmrk, through the BrainVision reader) as a sidecar's rows: a
    tab and a bell in a comment print as spaces, a marker running past the end is cut."""
    src = tmp_path / "src"
    shutil.copytree(bids_source, src)
    (vmrk,) = src.glob("**/sub-01_ses-02_task-oddball_eeg.vmrk")
    with vmrk.open("a", encoding="utf-8") as fh:  # 250 Hz: sample 1251 is 5 s, 500 samples 2 s
        fh.write("Mk4=Comment,tab\there\x07,501,1,0\nMk5=Comment,long,1251,500,0\n")
    report, recs = _ingest(src, tmp_path)
    assert report.failed == []
    assert _mine(recs[ODDBALL], "Comment/tab here") == [(2.0, 0.004)]
    assert _mine(recs[ODDBALL], "Comment/long") == [(5.0, 1.0)]
    assert all(0 <= e.onset + e.duration <= END_S for e in recs[ODDBALL].events)


def test_event_labels_keep_the_characters_record_text_keeps() -> None:
    # was: every character str.isprintable refuses became a space, the joiners U+200C/U+200D
    # too ("می\u200cخواهم", a Persian word, stored as two), which the record text rule keeps
    from eegprep.base.field_text import text_problem

    persian, devanagari = "می\u200cخواهم", "क्\u200dष"
    events = [[0.0, 0.0, persian, ""], [1.0, 0.0, devanagari, ""], [2.0, 0.0, "a\u202eb", ""]]
    settled = event_rule.settle_events(events, 800, 200.0, "r.edf")
    assert [e[2] for e in settled.events] == [persian, devanagari, "a b"]
    assert settled.warnings == ["1 event with characters that do not print (now spaces): "
                                "'a\\u202eb' at 2 s"]  # fmt: skip
    for char in "\u200c\u200d\u00a0\u3000\ue000\u0378\n\t\x1b\x85\u200b\u202e\ufeff\u2028\ud800":
        label = f"x{char}y"
        (ev,) = event_rule.settle_events([[0.0, 0.0, label, ""]], 800, 200.0, "r.edf").events
        assert (ev[2] == label) == (text_problem(label) is None), ascii(char)


def test_each_distinct_label_is_cleaned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # was: each event's label and channel went through the text rule on its own, 1.8 million
    # times for a .set of 900,000 events holding two labels (~6 of ~160 profiled s of its
    # ingest); counted, and the events and warnings are those of one rule per event
    from eegprep.base import field_text

    calls = []
    spaced = field_text.spaced_text

    def counted(text: str) -> str:
        calls.append(text)
        return spaced(text)

    monkeypatch.setattr(event_rule, "spaced_text", counted)
    long = "L" * (event_rule.MAX_LABEL_CHARS + 5)
    labels = ["stim", "a\u202eb", long, "resp"]
    events = [[k * 0.01, 0.0, labels[k % 4], "T3" if k % 2 else ""] for k in range(4_000)]
    settled = event_rule.settle_events(events, 8000, 200.0, "r.set")
    assert len(calls) <= 6, f"{len(calls)} texts cleaned for 6 distinct ones"
    cut = long[: event_rule.MAX_LABEL_CHARS]
    assert [e[2:] for e in settled.events[:4]] == [
        ["stim", ""], ["a b", "T3"], [cut, ""], ["resp", "T3"]]  # fmt: skip
    assert settled.warnings == [
        "1000 events with characters that do not print (now spaces): 'a\\u202eb' at 0.01 s, "
        "'a\\u202eb' at 0.05 s, 'a\\u202eb' at 0.09 s and 997 more",
        f"1000 events with labels over {event_rule.MAX_LABEL_CHARS} characters (cut): "
        f"{event_rule._shown(long)} at 0.02 s, {event_rule._shown(long)} at 0.06 s, "
        f"{event_rule._shown(long)} at 0.1 s and 997 more",
    ]
