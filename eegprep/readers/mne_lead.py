"""Markers at or before a recording's first sample, one rule for every format MNE opens.

A marker where the samples stop following on in time (:data:`~eegprep.readers.mne_problems`'s
joins) placed at or before the first sample joins nothing: there is no stretch before it. An
EEGLAB ``boundary`` there (latency 1 or below; EEGLAB writes 0.5 where it removed samples at
the very start) says how long was removed before the first sample kept (its duration); a
BrainVision ``New Segment`` there (position 1, or 0) opens the recording and gives its start
(its date). One meaning for both, whichever way the file lists them:

- no join, and no gap: the recording's clock, and so every time of its events and of a
  sidecar's (a BIDS onset counts from the first data point stored), starts at the first
  sample kept; nothing is moved;
- the time removed before it moves the recording's start (the header's ``meas_date``) that
  much later, where the file gives a start; where the removed time is not stated (a ``NaN``
  or negative duration), the start is unknown (``""``);
- an EEGLAB ``boundary`` there is an event at 0 s lasting no time (MNE cut one that reached
  into the samples to start there, and dropped one that did not, saying the file was cut
  short); a BrainVision ``New Segment`` there is no event (MNE dropped it only when it was the
  file's first marker);
- one warning line says how much was removed before the first sample.

Used by :mod:`eegprep.readers.mne_formats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.base.wording import noun
from eegprep.readers.base import Annotation
from eegprep.readers.companions import BRAINVISION_HEADERS, missing_markers
from eegprep.readers.mne_pauses import uncut_boundaries
from eegprep.readers.vhdr import read_vhdr
from eegprep.readers.vmrk import SEGMENT as SEGMENT_KIND
from eegprep.readers.vmrk import marker_file, parsed_vmrk, segment_dates

if TYPE_CHECKING:
    from mne.io import BaseRaw

BOUNDARY = "boundary"
"""EEGLAB's event for samples removed (MNE's description of it)."""
SEGMENT = "New Segment/"
"""MNE's description of a BrainVision ``New Segment`` marker (its own description after it)."""


@dataclass(frozen=True)
class Lead:
    """The markers at or before a recording's first sample.

    Attributes
    ----------
    n_markers : int
        EEGLAB ``boundary`` events there.
    seconds : float or None
        Time they say was removed before the first sample, s (their durations summed); None
        where one states none it can be (``NaN``, negative): the start is then unknown.
    dropped : int
        Of the ``boundary`` events there, those MNE dropped as lying outside the samples (it
        said so as it does of a file cut short): given back as events at 0 s.
    cut : int
        Of them, those MNE dropped or cut at the first sample (before it in the file): no
        sign of a file cut short (:func:`~eegprep.readers.mne_events.cropped_events`).
    """

    n_markers: int = 0
    seconds: float | None = 0.0
    dropped: int = 0
    cut: int = 0

    def warning(self) -> str | None:
        """The header's line on them; None where none removed any time."""
        if not self.n_markers or self.seconds == 0:
            return None
        said = (
            f"{self.seconds:g} s removed before it"
            if self.seconds is not None
            else "how long was removed before it is not stated (a NaN or negative duration)"
        )
        start = (
            f"the recording's start, where the file gives one, is moved {self.seconds:g} s later"
            if self.seconds is not None
            else "the recording's start is unknown"
        )
        return (
            f"{self.n_markers} EEGLAB 'boundary' {noun(self.n_markers, 'marker')} at or before "
            f"the first sample: {said} (no join: the times of its events and its sidecar's count "
            f"from the first sample kept; {start})"
        )

    def events(self, events: list[Annotation]) -> list[Annotation]:
        """``events`` with the ``boundary`` events MNE dropped given back, at 0 s."""
        back = [Annotation(0.0, 0.0, BOUNDARY) for _ in range(self.dropped)]
        return back + events if back else events


def at_first_sample(seconds: float, sfreq: float) -> bool:
    """Whether a marker ``seconds`` from the first sample lies at or before it: the stretch
    it would start starts at sample 0 (a marker between two samples starts it at the later
    one, as :func:`eegprep.readers.mne_problems.joins` places it)."""
    return math.ceil(seconds * sfreq - 1e-6) <= 0


def eeglab_lead(path: str, raw: BaseRaw) -> Lead:
    """The ``boundary`` events at or before the first sample of the file MNE opened as
    ``raw``: of an EEGLAB ``.set``, as the file gives them (MNE's Raw cut them at the first
    sample, or dropped them: :func:`~eegprep.readers.mne_pauses.uncut_boundaries`); of
    another format (a FIF saved from one), as MNE keeps them."""
    sfreq = float(raw.info["sfreq"])
    first = float(raw.first_time)
    ann = raw.annotations
    kept = [
        (float(onset) - first, float(duration))
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if str(desc) == BOUNDARY and at_first_sample(float(onset) - first, sfreq)
    ]
    found = kept
    cut = sum(1 for t, d in kept if d > 0 and abs(t) < 0.5 / sfreq)  # (as MNE leaves them)
    if PurePath(path).suffix.lower() == ".set":
        uncut = uncut_boundaries(path, raw)
        if uncut is not None:
            found = [(t, d) for t, d in uncut if at_first_sample(t, sfreq)]
            cut = sum(1 for t, _ in found if t < -1e-6 / sfreq)
    if not found:
        return Lead()
    stated = all(math.isfinite(d) and d >= 0 for _, d in found)
    seconds = sum(d for _, d in found) if stated else None
    return Lead(len(found), seconds, max(0, len(found) - len(kept)), cut)


def moved_start(when: str, lead: Lead) -> str:
    """The recording's start ``when`` (ISO 8601; ``""``: unknown) moved later by the time
    ``lead`` says was removed before the first sample; ``""`` where that is not stated."""
    if not when or not lead.n_markers:
        return when
    if lead.seconds is None:
        return ""
    return (datetime.fromisoformat(when) + timedelta(seconds=lead.seconds)).isoformat()


def segment_start(path: str) -> datetime | None:
    """The start of the BrainVision recording of header ``path``: the date of the ``New
    Segment`` at its first sample (position 1, or 0), the first such one that has a date, in
    file order; None where none has one, or there is no marker file. (MNE took the first
    dated ``New Segment`` of the file wherever it lies: a later segment's start, whose pauses
    before it are not counted, or none given.)"""
    if missing_markers(path):
        return None
    for sample, date in segment_dates(path, read_vhdr(path).n_channels):
        if sample == 0 and date is not None:
            return date
    return None


def segment_events(
    path: str,
    events: list[Annotation],
    sfreq: float,
    n_samples: int,
    *,
    ignore_marker_types: bool = False,
) -> list[Annotation]:
    """``events`` of the BrainVision header ``path`` with its ``New Segment`` markers as
    events by their place, not by their order in the marker file: one at or before the first
    sample opens the recording and is no event; one after it (a join) is. (MNE dropped the
    file's first marker when it was a ``New Segment``, wherever it lay, and kept any other:
    one at the first sample listed second was an event at 0 s, a join's listed first none.)
    ``n_samples``: the samples MNE read (a marker past them is dropped, as MNE drops it);
    ``ignore_marker_types``: MNE's option of that name (descriptions without the type).
    Other formats' events as they are."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS or missing_markers(path):
        return events
    vmrk = marker_file(path)
    if vmrk is None:
        return events
    markers = parsed_vmrk(path, vmrk, n_channels=read_vhdr(path).n_channels).markers
    out = list(events)
    for i, m in enumerate(markers):
        if m.kind != SEGMENT_KIND:
            continue
        text = m.description.replace("\\1", ",")
        name = text if ignore_marker_types else f"{SEGMENT}{text}"
        onset = (m.position - 1) / sfreq
        if at_first_sample(onset, sfreq) and i > 0:  # MNE kept it: an event at 0 s
            hit = _opening(out, name, m.size / sfreq, sfreq)
            if hit is not None:
                del out[hit]
        elif not at_first_sample(onset, sfreq) and i == 0 and m.position <= n_samples:
            out.append(Annotation(onset, m.size / sfreq, name))  # (MNE dropped a join's)
    return sorted(out, key=lambda ev: ev.onset)


def _opening(events: list[Annotation], name: str, duration: float, sfreq: float) -> int | None:
    """Which of ``events`` MNE made of a ``New Segment`` at the first sample, described
    ``name`` and lasting ``duration`` s: one at the first sample with that description and
    length, else with that description. (Under ``ignore_marker_types`` another marker there,
    a ``Stimulus`` of the same description, is described alike: by description alone it was
    removed in the ``New Segment``'s place where MNE listed it first, and the ``New
    Segment``'s length stored as its own.)"""
    alike = [k for k, ev in enumerate(events)
             if ev.description == name and at_first_sample(ev.onset, sfreq)]  # fmt: skip
    same = [k for k in alike if abs(events[k].duration - duration) <= 0.5 / sfreq]
    found = same or alike
    return found[0] if found else None


__all__ = [
    "Lead",
    "at_first_sample",
    "eeglab_lead",
    "moved_start",
    "segment_events",
    "segment_start",
]
