"""Events of a store an earlier version wrote (uncut before 2026-12-01, a negative duration
kept until 2026-12-04) open, and every consumer reads them inside the recording
(:func:`eegprep.store.event_span.events_inside`): no event window is built from an event
outside it, whatever ``edge_events`` says, and ``to_mne`` gets annotations MNE takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eegprep
from eegprep import open_store
from eegprep.pipeline.recipe import Recipe
from eegprep.store.event_span import events_inside
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record
from eegprep.tools.stats import store_stats
from labram.data.tasks import _windows, get_task

N = 2000  # 10 s at 200 Hz
EARLIER = [
    [-1.5, 1.0, "pled", ""],  # wholly before the first sample
    [1.0, -0.5, "eyem", ""],  # a negative duration (read as 0)
    [5.0, 1.0, "spsw", ""],
    [8.0, 5.0, "emotion/2", ""],  # straddles the end
    [10.002, 0.0, "end", ""],  # under a sample past the end: at it
    [11.0, 1.0, "gped", ""],  # wholly after the last sample
]


def _store(tmp_path: Path, events: list[list[Any]]) -> str:
    """A store of one 10 s recording whose record holds ``events`` as given."""
    url = str(tmp_path / "s.zarr")
    rec = hand_record("c/r", ["FP1", "FP2"], N, events=events)
    x = np.random.default_rng(0).standard_normal((2, N)).astype(np.float32) * 20
    with StoreWriter(url, Recipe()) as w:
        staged = w.staging_path()
        write_recording(url, staged, record=rec, channels=list(rec.channels), n_samples=N,
                        blocks=iter([x]), sfreq=200.0)  # fmt: skip
        w.commit([(staged, rec)])
    return url


def test_an_earlier_stores_events_open_and_are_read_inside(tmp_path: Path) -> None:
    store = open_store(_store(tmp_path, EARLIER))
    (rec,) = store.recordings
    assert len(rec.events) == len(EARLIER)  # the record is read as written
    inside = [(round(e.onset, 6), round(e.duration, 6), e.label) for e in events_inside(rec)]
    assert inside == [(1.0, 0.0, "eyem"), (5.0, 1.0, "spsw"), (8.0, 2.0, "emotion/2"),
                      (10.0, 0.0, "end")]  # fmt: skip
    counted = store_stats(store)["corpora"]["c"]["labels"]["events"]
    assert counted == {"emotion/2": 1, "end": 1, "eyem": 1, "spsw": 1}  # was: pled, gped too


@pytest.mark.parametrize("edge", ["drop", "wrap"])
def test_event_windows_come_only_from_events_inside(tmp_path: Path, edge: str) -> None:
    # was: under "wrap", the events before 0 (pled) and after the end (gped) gave windows of
    # samples that are not theirs
    store = open_store(_store(tmp_path, EARLIER))
    (rec,) = store.recordings
    starts, labels = _windows(store, rec, get_task("tuev"), 5, edge)
    classes = [get_task("tuev").classes[int(c[0])] for c in labels]
    if edge == "drop":  # the whole window inside: only spsw's (eyem's starts at -1 s)
        assert (starts, classes) == ([600], ["SPSW"])
    else:  # wrapped: an event inside whose window leaves the recording
        assert (starts, classes) == ([-200, 600], ["EYEM", "SPSW"])
    assert all(-N < s < N for s in starts)


def test_trial_windows_stay_inside_the_recording(tmp_path: Path) -> None:
    store = open_store(_store(tmp_path, EARLIER))
    (rec,) = store.recordings
    starts, labels = _windows(store, rec, get_task("seed_v"), 1, "drop")
    assert starts == [1600, 1800] and labels == [[2.0], [2.0]]  # 8-10 s, not to 13 s


def test_to_mne_takes_an_earlier_stores_events(tmp_path: Path) -> None:
    # was: MNE's bare AssertionError on the negative duration
    raw = eegprep.to_mne(_store(tmp_path, EARLIER), "c/r")
    ann = raw.annotations
    assert list(ann.description) == ["eyem", "spsw", "emotion/2", "end"]
    assert list(ann.duration) == pytest.approx([0.0, 1.0, 2.0, 0.0])
    assert all(0 <= o <= raw.times[-1] + 1 / 200 for o in ann.onset)
