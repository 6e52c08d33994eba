"""EEGLAB event latencies before the first sample, whatever order MNE checks them in.

MNE's ``RawEEGLAB`` refuses a file whose event latencies fall more than a sample before the
first ("At least one event sample index is negative", its private ``_check_latencies``);
eegprep lets the event rule drop or cut such events instead. It did so by moving the onsets of
the annotations MNE had just handed to ``set_annotations``, counting on MNE checking that same
object afterwards: an MNE checking first (or checking a copy) refused every such file again,
and one whose ``set_annotations`` kept the object would have stored the moved onsets. Now the
check itself lets them pass while eegprep opens a ``.set`` (and only then), in whatever order
MNE calls it, and the annotations MNE built are never touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mne.io.eeglab import eeglab as mne_eeglab

from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.readers.mne_pauses import BEFORE
from eegprep.readers.set_raw import read_raw_eeglab
from tests.eegprep.test_event_times_differential import _set

EVENTS = [("early", -250.0, 0.0), ("long", -3.0, 30.0), ("later", 11.0, 0.0)]
"""(type, EEGLAB latency from 1, duration in samples): one wholly before the first sample, one
reaching into it, one inside."""


def test_the_installed_mne_s_check_passes_them_while_eegprep_opens_only() -> None:
    """The MNE installed here has the check eegprep lets pass (a release without it fails this
    test, naming what to look at); outside eegprep's opening of a ``.set`` it refuses as MNE's."""
    check = getattr(mne_eeglab, "_check_latencies", None)
    assert check is not None, "MNE no longer has _check_latencies: see eegprep/readers/set_raw.py"
    assert getattr(check, "eegprep_passes", False), "set_raw.py did not wrap MNE's latency check"
    with pytest.raises(ValueError, match="sample index is negative"):
        check(np.array([-250.0, 10.0]))


@pytest.mark.parametrize("order", ["check-after", "check-first"])
def test_early_events_open_whatever_order_mne_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """MNE 1.13 sets the annotations, then checks their latencies; an MNE checking as it builds
    them ("check-first", simulated) refused the file. Both open, the early events counted as
    before the first sample (one dropped, one cut), the annotations as the file gives them."""
    if order == "check-first":
        build = mne_eeglab._read_annotations_eeglab

        def checked_first(eeg: Any, *args: Any, **kwargs: Any) -> Any:
            annot = build(eeg, *args, **kwargs)
            mne_eeglab._check_latencies(np.round(annot.onset * float(eeg.srate)))
            return annot

        monkeypatch.setattr(mne_eeglab, "_read_annotations_eeglab", checked_first)
    path = _set(tmp_path / "r.set", EVENTS)
    raw = read_raw_eeglab(str(path), preload=False, verbose="error")
    assert getattr(raw, BEFORE) == (1, 1)
    assert [str(d) for d in raw.annotations.description] == ["long", "later"]
    clear_cache()
    header = MneReader.read_header(str(path))
    assert [a.description for a in header.annotations] == ["long", "later"]


def test_the_annotations_mne_built_are_not_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The annotations object MNE builds from ``EEG.event`` keeps the file's onsets (it was
    moved to a sample before the first, which an MNE keeping the object would have stored)."""
    built: list[Any] = []
    build = mne_eeglab._read_annotations_eeglab

    def kept(eeg: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(build(eeg, *args, **kwargs))
        return built[-1]

    monkeypatch.setattr(mne_eeglab, "_read_annotations_eeglab", kept)
    read_raw_eeglab(str(_set(tmp_path / "r.set", EVENTS)), preload=False, verbose="error")
    np.testing.assert_array_equal(built[0].onset, (np.array([-250.0, -3.0, 11.0]) - 1) / 250.0)
