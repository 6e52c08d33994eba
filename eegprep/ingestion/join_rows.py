"""A sidecar's rows of the markers that say where a data file's samples stop following on.

An EEGLAB dataset's ``boundary`` events, a BrainVision file's ``New Segment`` markers and a
FIF's ``boundary`` / ``EDGE boundary`` annotations are read from the data file itself: they
give the recording's joins and gaps (:attr:`~eegprep.readers.base.Header.joins`) and its own
events of those names, each at its place on the samples stored (a ``New Segment`` opening the
recording is no event; a ``boundary`` lasts no time there). A BIDS ``events.tsv`` written from
such a file (mne-bids writes every marker MNE read) repeats them, at times and lengths of its
own: a ``boundary`` lasting the time removed (moved onto the samples kept it covered stored
samples, ``0.0 10.0 boundary`` as 9 s), the opening ``New Segment`` as an event, one at a join
lasting its marker's size (moved into the gap, 0 s). Each was stored beside the file's own.

The rule: a sidecar's rows never make a join or a gap (the data file is the authority on its
own continuity). Where the data file is of a format whose own markers give its joins (EEGLAB,
BrainVision, FIF) and its own events are kept, the sidecar's rows of those names are left out:
a row at a time the file marks (one of its own events of that name, the first sample, or a
join; its onset as written or moved by the gaps, within a sample) is the file's marker again,
left out unsaid as an exact repeat is; a row at no such time, a marker the file does not have,
is left out with one warning line. Another format's data file (EDF, BDF, GDF, CNT, ...) keeps
such rows as plain events: its continuity is its own (an EDF's record stamps).

Used by :func:`eegprep.ingestion.events.recording_events`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from eegprep.readers.base import Header
from eegprep.readers.kept_time import Removed

_MARKER_FORMATS = (".set", ".vhdr", ".ahdr", ".fif", ".fif.gz")
"""Data files whose own markers give their joins (the ``mne`` reader's)."""
_NAMES = ("boundary", "EDGE boundary", "BAD boundary")
"""EEGLAB's and MNE's names of a join (MNE writes both ``EDGE`` and ``BAD boundary``)."""
_SEGMENT = "New Segment"
"""BrainVision's marker type of a segment's start (MNE's description ``New Segment/...``)."""


def is_join_marker(label: Any) -> bool:
    """Whether ``label`` names a marker of where samples stop following on."""
    text = str(label).strip()
    return text in _NAMES or text == _SEGMENT or text.startswith(f"{_SEGMENT}/")


def marks_own_joins(path: str) -> bool:
    """Whether the data file at ``path`` is of a format whose own markers give its joins."""
    return PurePath(path).name.lower().endswith(_MARKER_FORMATS)


def without_join_rows(
    header: Header, rows: Sequence[Sequence[Any]]
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The sidecar's ``rows`` (``[onset s, duration s, label, channel]``, onsets on the
    time the data file counts: :attr:`~eegprep.readers.base.Header.sidecar_gaps`) less those
    of the data file's own join markers (module docstring), and those left out that mark no
    time the file marks (for the warning). Every row is kept for a data file of another
    format."""
    if not marks_own_joins(header.path) or not any(is_join_marker(r[2]) for r in rows):
        return [list(r) for r in rows], []
    tol = 1.0 / max((s.sfreq for s in header.signals), default=1.0) + 1e-9
    gaps = Removed(header.sidecar_gaps) if header.sidecar_gaps else None
    marked = _marked_times(header)
    kept: list[list[Any]] = []
    unmatched: list[list[Any]] = []
    for row in rows:
        label = str(row[2]).strip()
        if not is_join_marker(label):
            kept.append(list(row))
            continue
        onset = float(row[0])
        times = (onset, gaps.seconds(onset)) if gaps is not None else (onset,)
        spots = (marked.get(label, []), marked[""])
        if not any(_near(t, spot, tol) for t in times for spot in spots):
            unmatched.append(list(row))
    return kept, unmatched


def _marked_times(header: Header) -> dict[str, list[float]]:
    """The times the data file marks, s on the samples kept, ascending: of its own join-marker
    events by name, and (key ``""``) the first sample and each join."""
    out: dict[str, list[float]] = {"": sorted([0.0, *header.joins])}
    for a in header.annotations:
        name = a.description.strip()
        if name and is_join_marker(name):
            out.setdefault(name, []).append(float(a.onset))
    for times in out.values():
        times.sort()
    return out


def _near(t: float, times: list[float], tol: float) -> bool:
    """Whether one of ``times`` (ascending) lies within ``tol`` of ``t``."""
    k = bisect.bisect_left(times, t - tol)
    return k < len(times) and times[k] <= t + tol


__all__ = ["is_join_marker", "marks_own_joins", "without_join_rows"]
