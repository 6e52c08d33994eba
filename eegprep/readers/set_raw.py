"""An EEGLAB ``.set`` opened through MNE once, its ``boundary`` events kept as the file gives them.

MNE's Raw keeps a dataset's events cut to its samples: a ``boundary`` before the first sample
is dropped or cut to start there, one reaching past the end is cut, a NaN duration becomes 0.
eegprep needs them as the file gives them (:func:`~eegprep.readers.mne_lead.eeglab_lead`,
:func:`~eegprep.readers.mne_pauses.uncut_boundaries`), and had them by parsing the file a second
time (``mne.read_annotations``): for a legal set of 900,000 events, ~17 of ~60 CPU s of its
header and a second 1.3 GB peak. :func:`read_raw_eeglab` opens the file as
``mne.io.read_raw_eeglab`` does, as :class:`RawEEGLABKept`, which keeps the ``boundary`` events
of the annotations MNE builds from ``EEG.event`` as MNE sets them, before it cuts them: one
parse gives both.

While it opens a file, the ``EEG`` MNE loaded is completed as EEGLAB's ``eeg_checkset`` completes
it (:func:`eeglab_defaults`): a dataset saved without ``chanlocs`` (EEGLAB's empty set has
``chanlocs = []``) has channels named from ``EEG.nbchan`` alone, as one with an empty
``chanlocs`` (MNE failed on it: ``'Bunch' object has no attribute 'chanlocs'``), and a label
that is a number is that number as a whole number's text (EEGLAB's ``int2str``: 2 is ``'2'``;
MNE failed: ``each entry in ch_names must be an instance of str``), as is an empty label
(``''``, an empty array: ``""``, a channel of no site, which the ingest drops). Each event's
latency and duration stored as text, in a cell or empty are read as numbers where they are
(:mod:`eegprep.readers.set_events`), an event whose latency is none left out and named in one
warning (attribute :data:`~eegprep.readers.set_events.UNREAD`).

Imports MNE: import this module only where MNE is wanted (the mne reader's opening of a file).

Events before the first sample (an EEGLAB latency below 0.5), which MNE's check of latencies
refuses, pass that check while a file is opened here (:func:`_passing`), whenever MNE calls it:
the event rule drops or cuts them. It was done by moving the onsets of the annotations MNE had
just set, counting on MNE checking that object after ``set_annotations``: an MNE checking first,
or checking a copy, refused such files again (``tests/eegprep/test_set_latency_check.py`` pins
it against the MNE installed).

Concurrency contract: each Raw keeps its own; nothing is shared. MNE's ``_check_load_mat`` and
``_check_latencies`` are wrapped once, at import; the wrappers complete the ``EEG`` and let
early events pass only while this thread opens a :class:`RawEEGLABKept` (a thread-local flag),
so any other use of MNE is untouched.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from mne.io.eeglab import eeglab as _mne_eeglab
from mne.io.eeglab.eeglab import RawEEGLAB

from eegprep.base.wording import of_total
from eegprep.readers.mne_lead import BOUNDARY
from eegprep.readers.mne_pauses import BEFORE, KEPT
from eegprep.readers.mne_problems import SaidProblem
from eegprep.readers.set_events import UNREAD, numeric_events

_OPENING = threading.local()
"""``depth``: how many :class:`RawEEGLABKept` this thread is opening (0: MNE is left as it is);
``unread``: the warning of the events whose latency is no number, of the file last loaded."""


def eeglab_defaults(eeg: Any) -> Any:
    """``eeg`` (MNE's ``Bunch`` of the file's ``EEG``) with what EEGLAB fills in: an empty
    ``chanlocs`` where the file has none; each label that is one real, finite number as
    EEGLAB's ``int2str`` writes it (rounded half away from zero); each event's latency and
    duration a number where it is one (:func:`~eegprep.readers.set_events.numeric_events`: the
    warning of those that are none kept as ``_OPENING.unread``)."""
    if "event" in eeg:
        eeg["event"], _OPENING.unread = numeric_events(eeg["event"])
    if "chanlocs" not in eeg:
        eeg["chanlocs"] = np.zeros((0,))
    locs = eeg["chanlocs"]
    if isinstance(locs, dict) and "labels" in locs:
        labels = locs["labels"]
        many = isinstance(labels, list | tuple)
        named = [_int2str(label) for label in (labels if many else [labels])]
        locs["labels"] = named if many else named[0]
    return eeg


def _int2str(label: Any) -> Any:
    """A label that is one real, finite number as MATLAB's ``int2str`` gives it; anything else
    as it is (MNE, then eegprep, names what is wrong); an empty one (MATLAB's ``''``, an
    empty array: MNE failed on it) as ``""``, a channel of no site, dropped."""
    if isinstance(label, np.ndarray) and label.size == 0:
        return ""
    value = np.asarray(label) if isinstance(label, int | float | np.generic) else None
    if value is None or value.dtype.kind not in "iuf" or value.dtype == np.bool_:
        return label
    number = float(value)
    if not math.isfinite(number):
        return label
    return str(int(math.copysign(math.floor(abs(number) + 0.5), number)))


def _completing(check_load_mat: Callable[..., Any]) -> Callable[..., Any]:
    """MNE's ``_check_load_mat``, completing the ``EEG`` it returns (:func:`eeglab_defaults`)
    while this thread opens a :class:`RawEEGLABKept`."""

    def completed(*args: Any, **kwargs: Any) -> Any:
        eeg = check_load_mat(*args, **kwargs)
        return eeglab_defaults(eeg) if getattr(_OPENING, "depth", 0) else eeg

    completed.eegprep_completes = True  # type: ignore[attr-defined]
    return completed


_LOADER = getattr(_mne_eeglab, "_check_load_mat", None)
if _LOADER is not None and not getattr(_LOADER, "eegprep_completes", False):
    # (a release of MNE without it: the EEG as MNE reads it, such datasets refused as before)
    _mne_eeglab._check_load_mat = _completing(_LOADER)


def _passing(check_latencies: Callable[..., Any]) -> Callable[..., Any]:
    """MNE's ``_check_latencies`` (event samples from the first, rounded), letting those more
    than a sample before the first pass while this thread opens a :class:`RawEEGLABKept`: MNE
    refused the whole file for them ("At least one event sample index is negative"), one at
    latency 0 it dropped. The event rule drops an event wholly before the first sample and cuts
    one reaching into the samples (docs/corpora.md "Events"), as MNE's Raw has them. Only the
    check's own array is clipped, whenever MNE calls it: the annotations are never touched."""

    def passing(latencies: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_OPENING, "depth", 0):
            latencies = np.maximum(np.asarray(latencies, dtype=float), -1.0)
        return check_latencies(latencies, *args, **kwargs)

    passing.eegprep_passes = True  # type: ignore[attr-defined]
    return passing


_LATENCIES = getattr(_mne_eeglab, "_check_latencies", None)
if _LATENCIES is not None and not getattr(_LATENCIES, "eegprep_passes", False):
    # (a release of MNE without it: tests/eegprep/test_set_latency_check.py says so)
    _mne_eeglab._check_latencies = _passing(_LATENCIES)


class RawEEGLABKept(RawEEGLAB):
    """MNE's ``RawEEGLAB``, keeping ``(onset s, duration s)`` of each ``boundary`` event of
    ``EEG.event`` as MNE read it, uncut (attribute :data:`~eegprep.readers.mne_pauses.KEPT`;
    None where MNE set no annotations while opening the file)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._eegprep_opening = True
        _OPENING.depth = getattr(_OPENING, "depth", 0) + 1
        _OPENING.unread = None
        try:
            super().__init__(*args, **kwargs)
            setattr(self, UNREAD, _OPENING.unread)
        finally:
            _OPENING.depth -= 1
            self._eegprep_opening = False

    def set_annotations(self, annotations: Any, *args: Any, **kwargs: Any) -> Any:
        if annotations is not None and getattr(self, "_eegprep_opening", False):
            # MNE's own, from EEG.event, before it cuts them to the samples
            _check_durations(annotations)
            is_boundary = np.asarray(annotations.description, dtype=object) == BOUNDARY
            kept = zip(
                np.asarray(annotations.onset)[is_boundary],
                np.asarray(annotations.duration)[is_boundary],
                strict=True,
            )
            setattr(self, KEPT, [(float(t), float(d)) for t, d in kept])
            setattr(self, BEFORE, _before(annotations, ~is_boundary))
            return super().set_annotations(annotations, *args, **kwargs)  # (a copy, cut)
        return super().set_annotations(annotations, *args, **kwargs)


def _before(annotations: Any, counted: np.ndarray) -> tuple[int, int]:
    """Of ``annotations`` (onsets s from the first sample) where ``counted``, those MNE's Raw
    drops as wholly before the first sample (ending before it) and those it cuts to start
    there (starting before it, ending at or after it): ``(dropped, cut)``."""
    onset = np.asarray(annotations.onset, dtype=float)[counted]
    stop = onset + np.asarray(annotations.duration, dtype=float)[counted]
    return int(np.count_nonzero(stop < 0)), int(np.count_nonzero((onset < 0) & (stop >= 0)))


def _check_durations(annotations: Any) -> None:
    """Refuse an ``EEG.event`` of negative duration, naming the first, by the event rule
    (docs/corpora.md, "Events"): MNE failed on it with a bare ``AssertionError``, said as
    "MNE cannot read this EEGLAB file: AssertionError: no message; check it is complete"."""
    durations = np.asarray(annotations.duration, dtype=float)
    negative = np.flatnonzero(durations < 0)
    if len(negative):
        i = int(negative[0])
        label = str(annotations.description[i])
        also = (
            f" ({of_total(len(negative), len(durations), 'event', 'is', the=True)} so)"
            if len(negative) > 1
            else ""
        )
        raise SaidProblem(
            f"EEG.event({i + 1}) ({label!r} at {float(annotations.onset[i]):g} s) has a "
            f"negative duration ({float(durations[i]):g} s), which no event can have: give it "
            f"a duration of 0 or more in EEGLAB and save the dataset again{also}"
        )


def read_raw_eeglab(path: str, **options: Any) -> RawEEGLABKept:
    """``mne.io.read_raw_eeglab(path, **options)``, as :class:`RawEEGLABKept`."""
    return RawEEGLABKept(path, **options)
