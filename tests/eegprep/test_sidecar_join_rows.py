"""Promise: a sidecar's ``boundary`` and ``New Segment`` rows never make a join, and the
markers a data file gives its own joins by are stored once.

A BIDS ``events.tsv`` written from an EEGLAB dataset or a BrainVision file (mne-bids writes
every marker MNE read) repeats the file's ``boundary`` events and ``New Segment`` markers at
times and lengths of its own. Before, each was stored beside the file's own: a leading
``boundary`` lasting the 10 s removed became a 9 s event over stored samples, one at a join a
second ``boundary`` lasting 2 ms, the opening ``New Segment`` (no event of the file) an event at
0 s, and one at a join a second ``New Segment`` of 0 s. Now the file's own are the ones kept;
a row of such a name at no place the file marks is left out with one line; a data file whose
continuity is its own (an EDF's) keeps such rows as plain events, and no row makes a join.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.edf_writer import write_edf
from tests.eegprep.test_leading_markers import LATER, START, _brainvision
from tests.eegprep.test_reader_set_semantics import LABELS, SRATE, _write_set

N_TIMES = 2500  # 10 s at 250 Hz
STEM = "sub-01_task-rest_eeg"
UNMATCHED = (
    "of the sidecar marking where the samples stop following on, at no such place of "
    "the data file, left out (its own markers say where; a sidecar's rows never make a join)"
)


def _ingest(src: Path, rows: list[str]) -> tuple[object, object]:
    """``rows`` as the ``events.tsv`` of the one BIDS recording under ``src``, ingested:
    (its record, the report's warnings for it)."""
    eeg = src / "sub-01" / "eeg"
    lines = ["onset\tduration\ttrial_type", *rows]
    (eeg / "sub-01_task-rest_events.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    out = src.parent / "s.zarr"
    report = ingest("bids", src=src, out=out, config=config)
    assert report.failed == []
    (rec,) = open_store(out).recordings
    (said,) = report.warnings.values() if report.warnings else ([],)
    return rec, said


def _stored(rec: object) -> list[tuple[float, float, str]]:
    return sorted((round(e.onset, 6), round(e.duration, 6), str(e.label)) for e in rec.events)  # type: ignore[attr-defined]


def _eeglab(src: Path) -> None:
    """An EEGLAB dataset cut 10 s before its first sample and 1 s at 4 s, a stimulus at 6 s."""
    eeg = src / "sub-01" / "eeg"
    x = np.round(np.random.default_rng(6).normal(0, 25, (3, N_TIMES)), 2)
    events = [("boundary", 0.5, 2500.0), ("boundary", 1000.5, 250.0), ("S 1", 1500, 0)]
    _write_set(eeg, x, struct=False, events=events, name=STEM)


def test_an_eeglab_dataset_s_boundary_rows_are_its_own_stored_once(tmp_path: Path) -> None:
    """The rows mne-bids writes (MNE's times and lengths: 0 s lasting 10 s, 3.998 s lasting
    1 s) and the same at the join's time on the clock (4 s) are the file's own boundaries."""
    _eeglab(tmp_path / "src")
    rows = ["0.0\t10.0\tboundary", "3.998\t1.0\tboundary", "4.0\t0\tboundary"]
    rec, said = _ingest(tmp_path / "src", rows)
    assert rec.joins == (800,)  # type: ignore[attr-defined]
    assert _stored(rec) == [(0.0, 0.0, "boundary"), (3.998, 0.0, "boundary"), (5.996, 0.0, "S 1")]
    assert not any(UNMATCHED in w for w in said)  # type: ignore[attr-defined]


def test_a_boundary_row_where_the_file_has_none_is_left_out_in_one_line(tmp_path: Path) -> None:
    _eeglab(tmp_path / "src")
    rec, said = _ingest(tmp_path / "src", ["7.0\t0\tboundary", "8.5\t0\tBAD boundary", "2\t0\tcue"])
    assert rec.joins == (800,)  # type: ignore[attr-defined]
    assert _stored(rec) == [(0.0, 0.0, "boundary"), (2.0, 0.0, "cue"), (3.998, 0.0, "boundary"),
                            (5.996, 0.0, "S 1")]  # fmt: skip
    assert [w for w in said if UNMATCHED in w] == [  # type: ignore[attr-defined]
        f"2 events {UNMATCHED}: 'boundary' at 7 s, 'BAD boundary' at 8.5 s"
    ]


def test_a_brainvision_file_s_new_segment_rows_are_its_own_stored_once(tmp_path: Path) -> None:
    """The opening ``New Segment`` is no event of the file, and its row none either; the one
    at the join (8 s, lasting its marker's 4 ms) is stored once, as the file gives it."""
    eeg = tmp_path / "src" / "sub-01" / "eeg"
    markers = [f"Mk1=New Segment,,1,1,0,{START}", "Mk2=Stimulus,S  1,100,1,0",
               f"Mk3=New Segment,,2001,1,0,{LATER}"]  # fmt: skip
    Path(_brainvision(eeg, markers)).rename(eeg / f"{STEM}.vhdr")
    rows = ["0.0\t0.004\tNew Segment/", "0.396\t0.004\tStimulus/S  1", "8.0\t0.004\tNew Segment/"]
    rec, said = _ingest(tmp_path / "src", rows)
    assert rec.joins == (1600,)  # type: ignore[attr-defined]
    assert _stored(rec) == [(0.396, 0.004, "Stimulus/S  1"), (8.0, 0.004, "New Segment/")]
    assert not any(UNMATCHED in w for w in said)  # type: ignore[attr-defined]


def test_an_edf_s_boundary_rows_are_plain_events_and_make_no_join(tmp_path: Path) -> None:
    """An EDF's continuity is its records' stamps: a sidecar's ``boundary`` is an event."""
    eeg = tmp_path / "src" / "sub-01" / "eeg"
    eeg.mkdir(parents=True)
    signals = list(np.random.default_rng(2).normal(0, 20, (3, N_TIMES)))
    write_edf(eeg / f"{STEM}.edf", signals, labels=LABELS, sfreqs=SRATE)
    rec, said = _ingest(tmp_path / "src", ["4.0\t1.0\tboundary", "6.0\t0\tNew Segment/"])
    assert rec.joins == ()  # type: ignore[attr-defined]
    assert _stored(rec) == [(4.0, 1.0, "boundary"), (6.0, 0.0, "New Segment/")]
    assert not any(UNMATCHED in w for w in said)  # type: ignore[attr-defined]
