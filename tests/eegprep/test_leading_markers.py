"""Promise: a pause or boundary marker at or before a recording's first sample means one thing,
whichever format and reader gives it.

EEGLAB writes a ``boundary`` at latency 0.5 (before the first sample) where it removed samples
at the very start, lasting the samples removed; a BrainVision ``New Segment`` at position 1
opens the recording and dates it. Such a marker joins nothing (no stretch lies before it), and
the clock of the recording, by which its events and a sidecar's are timed, starts at the first
sample kept; the time removed before it moves the recording's start that much later, where the
file gives one. Before: MNE cut such a ``boundary`` to start at 0 s, or dropped it where it
stated no length, warning that the file was cut short (re-download it); the time removed was
said nowhere; a FIF's start (MNE's, saved from such a dataset) was the removed samples' start;
a BrainVision recording's start was the first dated ``New Segment`` of the marker file, a later
segment's where the one at the first sample had no date or was listed after it, and which
``New Segment`` was an event depended on its order in the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader
from tests.eegprep.test_reader_set_semantics import LABELS, SRATE, _write_set

N_TIMES = 2500  # 10 s at 250 Hz
LEAD = "1 EEGLAB 'boundary' marker at or before the first sample"


def _set(tmp_path: Path, events: list[tuple[Any, float, float]]) -> str:
    x = np.round(np.random.default_rng(1).normal(0, 25, (len(LABELS), N_TIMES)), 2)
    return _write_set(tmp_path, x, struct=False, events=events)


@pytest.mark.parametrize("latency", [0.5, 1.0, 0.0])
@pytest.mark.parametrize("duration", [500.0, 1.0])
def test_an_eeglab_boundary_at_the_start_is_time_removed_before_the_first_sample(
    tmp_path: Path, latency: float, duration: float
) -> None:
    events = [("boundary", latency, duration), ("S  1", 251, 0), ("boundary", 1000.5, 250)]
    header = MneReader.read_header(_set(tmp_path, events))
    assert header.joins == (4.0,)  # the boundary inside the samples alone
    assert header.gaps == ((4.0, 5.0),)  # its 250 samples: the leading one is on no clock
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.0, "boundary"), (1.0, "S  1"), (3.998, "boundary")]  # fmt: skip
    seconds = duration / SRATE
    lead = [w for w in header.warnings if w.startswith(LEAD)]
    assert lead == [
        f"{LEAD}: {seconds:g} s removed before it (no join: the times of its events and its "
        "sidecar's count from the first sample kept; the recording's start, where the file "
        f"gives one, is moved {seconds:g} s later)"
    ]
    assert not any("re-download" in w for w in header.warnings), header.warnings


@pytest.mark.parametrize("duration", [float("nan"), 0.0])
def test_a_leading_boundary_of_no_length_is_kept_and_says_nothing_of_a_cut_file(
    tmp_path: Path, duration: float
) -> None:
    """MNE dropped it as outside the samples, and the reader said the file was cut short."""
    header = MneReader.read_header(_set(tmp_path, [("boundary", 0.5, duration), ("S  1", 251, 0)]))
    assert header.joins == () and header.gaps == ()
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.0, "boundary"), (1.0, "S  1")]  # fmt: skip
    assert not any("re-download" in w for w in header.warnings), header.warnings
    said = [w for w in header.warnings if w.startswith(LEAD)]
    if np.isnan(duration):  # (EEGLAB's "unknown": the start, were there one, is unknown)
        assert said and "is not stated" in said[0] and "start is unknown" in said[0]
    else:
        assert said == []  # no time removed: nothing to say


def test_the_start_of_a_fif_moves_by_the_time_removed_before_its_first_sample(
    tmp_path: Path,
) -> None:
    """A FIF MNE saved from such a dataset keeps its ``boundary`` at 0 s and a start: the
    first sample kept was taken that long after it."""
    mne = pytest.importorskip("mne")
    start = dt.datetime(2020, 3, 4, 10, 0, 0, tzinfo=dt.UTC)
    info = mne.create_info(LABELS, SRATE, "eeg")
    raw = mne.io.RawArray(np.zeros((3, N_TIMES)), info, verbose="error")
    raw.set_meas_date(start)
    raw.set_annotations(mne.Annotations([0.0, 4.0], [2.0, 0.0], ["boundary", "boundary"]))
    raw.save(tmp_path / "r_raw.fif", verbose="error")
    header = MneReader.read_header(str(tmp_path / "r_raw.fif"))
    assert header.joins == (4.0,)
    assert header.meta_dict()["meas_date"] == (start + dt.timedelta(seconds=2)).isoformat()
    assert any(w.startswith(f"{LEAD}: 2 s removed before it") for w in header.warnings)


def _brainvision(folder: Path, markers: list[str]) -> str:
    """``r.vhdr``/``.vmrk``/``.eeg``: 3 channels, 20 s at 250 Hz, the ``markers`` given."""
    folder.mkdir(parents=True, exist_ok=True)
    header = ["Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
              "DataFile=r.eeg", "MarkerFile=r.vmrk", "DataFormat=BINARY",
              "DataOrientation=MULTIPLEXED", "NumberOfChannels=3", "SamplingInterval=4000",
              "[Binary Infos]", "BinaryFormat=INT_16", "[Channel Infos]",
              "Ch1=Fp1,,1,µV", "Ch2=Cz,,1,µV", "Ch3=O1,,1,µV"]  # fmt: skip
    (folder / "r.vhdr").write_text("\r\n".join(header) + "\r\n", encoding="utf-8")
    x = np.random.default_rng(5).integers(-200, 200, size=(5000, 3)).astype("<i2")
    (folder / "r.eeg").write_bytes(x.tobytes())
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "[Common Infos]",
             "Codepage=UTF-8", "DataFile=r.eeg", "[Marker Infos]", *markers]  # fmt: skip
    (folder / "r.vmrk").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return str(folder / "r.vhdr")


START, LATER = "20231010120000000000", "20231010120030000000"
STIM = "Stimulus,S  1,100,1,0"
# markers as a file lists them -> (start, joins, events): one meaning whatever their order
BRAINVISION = {
    "opening first": (
        [f"New Segment,,1,1,0,{START}", STIM],
        ("2023-10-10T12:00:00", (), [(0.396, "Stimulus/S  1")]),
    ),
    "opening listed second": (  # was: an event 'New Segment/' at 0 s
        [STIM, f"New Segment,,1,1,0,{START}"],
        ("2023-10-10T12:00:00", (), [(0.396, "Stimulus/S  1")]),
    ),
    "opening at position 0": (
        [f"New Segment,,0,1,0,{START}", STIM],
        ("2023-10-10T12:00:00", (), [(0.396, "Stimulus/S  1")]),
    ),
    "opening undated": (  # was: the start of the segment at 8 s
        ["New Segment,,1,1,0", f"New Segment,,2001,1,0,{LATER}", STIM],
        ("", (8.0,), [(0.396, "Stimulus/S  1"), (8.0, "New Segment/")]),
    ),
    "join listed first": (  # was: that segment's start, and no event at its join
        [f"New Segment,,2001,1,0,{LATER}", f"New Segment,,1,1,0,{START}", STIM],
        ("2023-10-10T12:00:00", (8.0,), [(0.396, "Stimulus/S  1"), (8.0, "New Segment/")]),
    ),
}


@pytest.mark.parametrize("case", list(BRAINVISION))
def test_a_new_segment_at_the_first_sample_opens_the_recording_whatever_its_place_in_the_file(
    tmp_path: Path, case: str
) -> None:
    listed, (start, joins, events) = BRAINVISION[case]
    markers = [f"Mk{i}={m}" for i, m in enumerate(listed, 1)]
    header = MneReader.read_header(_brainvision(tmp_path / "bv", markers))
    assert header.meta_dict()["meas_date"] == start
    assert header.joins == joins
    assert [(round(a.onset, 6), a.description) for a in header.annotations] == events


def test_a_sidecar_is_not_moved_by_time_removed_before_the_first_sample(tmp_path: Path) -> None:
    """Through the ingest: a BIDS ``events.tsv`` beside a dataset EEGLAB cut at the start and
    inside: its onsets count from the first sample kept (BIDS: the first data point stored),
    on the samples stored as the file's own latencies are (mne-bids writes MNE's time), so
    neither the time removed before the first sample nor the 4 s removed at 4 s moves them
    (``test_sidecar_time_base.py``; 'after' was moved back to 5 s)."""
    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest

    eeg, stem = tmp_path / "src" / "sub-01" / "eeg", "sub-01_task-rest_eeg"
    x = np.round(np.random.default_rng(6).normal(0, 25, (3, N_TIMES)), 2)
    events = [("boundary", 0.5, 2500.0), ("boundary", 1000.5, 1000.0)]
    _write_set(eeg, x, struct=False, events=events, name=stem)
    rows = ["onset\tduration\ttrial_type", "1.5\t0\tbefore", "9.0\t0\tafter"]
    (eeg / "sub-01_task-rest_events.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("bids", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    got = sorted((round(e.onset, 6), str(e.label)) for e in rec.events)
    assert got == [(0.0, "boundary"), (1.5, "before"), (3.998, "boundary"), (9.0, "after")]
    said = report.warnings[f"sub-01/eeg/{stem}.set"]
    assert any(w.startswith(f"{LEAD}: 10 s removed before it") for w in said), said


@pytest.mark.parametrize("ignore_marker_types", [False, True])
@pytest.mark.parametrize("stimulus_first", [True, False])
def test_a_stimulus_at_the_first_sample_described_as_the_opening_new_segment_is_kept(
    tmp_path: Path, ignore_marker_types: bool, stimulus_first: bool
) -> None:
    """Under ``ignore_marker_types`` MNE describes a ``Stimulus`` ``S  1`` and a ``New
    Segment`` ``S  1`` alike, ``S  1``: the one removed as the recording's opening must be the
    ``New Segment`` (50 samples), not the ``Stimulus`` (1 sample, 4 ms). It was the first MNE
    listed of the two: the Stimulus was stored lasting the New Segment's 0.2 s."""
    stim, seg = "Stimulus,S  1,1,1,0", f"New Segment,S  1,1,50,0,{START}"
    listed = [stim, seg] if stimulus_first else [seg, stim]
    markers = [f"Mk{i}={m}" for i, m in enumerate([*listed, "Stimulus,S  2,100,1,0"], 1)]
    path = _brainvision(tmp_path / "bv", markers)
    header = MneReader.read_header(path, ignore_marker_types=ignore_marker_types)
    kind = "" if ignore_marker_types else "Stimulus/"
    assert [(round(a.onset, 6), round(a.duration, 6), a.description)
            for a in header.annotations] == [
        (0.0, 0.004, f"{kind}S  1"), (0.396, 0.004, f"{kind}S  2")]  # fmt: skip
    assert header.joins == () and header.meta_dict()["meas_date"] == "2023-10-10T12:00:00"


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
def test_an_eeglab_set_is_parsed_once_for_its_events_and_its_uncut_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, struct: bool
) -> None:
    # was: the uncut boundaries (before the first sample, past the end, NaN lengths) came from
    # a second parse of the file (mne.read_annotations): ~17 of ~60 CPU s of a 900,000-event
    # header. Counted: MNE builds EEG.event's annotations once, and the boundaries kept from
    # that parse are those the second parse gave
    import mne.io.eeglab.eeglab as mne_eeglab

    from eegprep.readers.mne_formats import clear_cache
    from eegprep.readers.mne_pauses import uncut_boundaries

    events = [("boundary", 0.5, 500.0), ("S  1", 251, 0), ("boundary", 1000.5, float("nan")),
              ("boundary", 2400.5, 250), ("S  2", 2600, 0)]  # fmt: skip
    x = np.round(np.random.default_rng(1).normal(0, 25, (len(LABELS), N_TIMES)), 2)
    path = _write_set(tmp_path, x, struct=struct, events=events)
    builds = []
    build = mne_eeglab._read_annotations_eeglab

    def counted(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(mne_eeglab, "_read_annotations_eeglab", counted)
    clear_cache()
    header = MneReader.read_header(path)
    assert len(builds) == 1, f"EEG.event built {len(builds)} times"
    from eegprep.readers.mne_formats import _raw

    kept = uncut_boundaries(path, _raw(path, header.options))
    again = uncut_boundaries(path)  # (the file read again, as before)
    assert kept is not None and again is not None
    assert np.array_equal(np.array(kept), np.array(again), equal_nan=True)
    assert [t for t, _ in kept] == [-0.5 / SRATE, 999.5 / SRATE, 2399.5 / SRATE]


def test_an_mne_without_the_eeglab_class_still_opens_a_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The opener that keeps a .set's boundary events subclasses MNE's ``RawEEGLAB`` from
    ``mne.io.eeglab.eeglab``; where a release of MNE moved it (the opener's module then fails
    to import), the .set is opened by MNE's own function, its boundaries read from the file
    again, to the same joins, gaps and words, not refused."""
    import sys

    import mne

    from eegprep.readers import mne_formats

    events = [("boundary", 0.5, 500.0), ("S  1", 251, 0), ("boundary", 1000.5, 250)]
    kept = MneReader.read_header(_set(tmp_path / "kept", events))
    mne_formats.clear_cache()
    monkeypatch.setitem(sys.modules, "eegprep.readers.set_raw", None)  # (its import fails)
    assert mne_formats._opener("EEGLAB", "read_raw_eeglab") is mne.io.read_raw_eeglab
    again = MneReader.read_header(_set(tmp_path / "again", events))
    assert (again.joins, again.gaps) == (kept.joins, kept.gaps) == ((4.0,), ((4.0, 5.0),))
    assert [w for w in again.warnings if w.startswith(LEAD)] == [
        w for w in kept.warnings if w.startswith(LEAD)
    ]
