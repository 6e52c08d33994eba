"""How long a recording paused at each of its joins, where the file states it.

A BrainVision ``New Segment`` marker gives the time its segment's acquisition began
(``Mk2=New Segment,,5001,1,0,20231010120005123456``: ``YYYYMMDDhhmmssuuuuuu``), so the pause
before each segment after the first is its start less the previous one's start and length
(its samples over the rate). An EEGLAB ``boundary`` event's ``EEG.event.duration`` counts the
samples removed there (MNE gives it in seconds). :func:`stated_gaps` turns them into
:attr:`~eegprep.readers.base.Header.gaps` (spans of the recording's clock), marked
:attr:`~eegprep.readers.base.Header.gaps_stated`: the file's own markers and events count the
samples kept (a BrainVision position, an EEGLAB latency), and so does MNE's time, which puts
the segments end to end, and a sidecar written from it (mne-bids' ``events.tsv``: MNE's onsets
and samples), so none of them is moved by these gaps. Where a file does not state every pause
(no date, a NaN duration, a negative or absurd pause, a ``boundary`` MNE cut at the end), no
gap length is given and the warning says why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.readers.companions import BRAINVISION_HEADERS, missing_markers
from eegprep.readers.kept_time import clock_gaps
from eegprep.readers.vhdr import read_vhdr
from eegprep.readers.vmrk import segment_dates

if TYPE_CHECKING:
    from mne.io import BaseRaw

KEPT = "eegprep_uncut_boundaries"
"""The attribute on a Raw that :mod:`eegprep.readers.set_raw` opened holding its ``.set``'s
``boundary`` events as MNE read them from ``EEG.event``, uncut: ``[(onset s, duration s)]``."""

BEFORE = "eegprep_before_first_sample"
"""The attribute on a Raw that :mod:`eegprep.readers.set_raw` opened holding how many of its
``.set``'s events other than ``boundary`` lie before the first sample, as MNE read them from
``EEG.event``: ``(dropped, cut)``, those wholly before it and those reaching into the samples
(MNE's Raw drops and cuts them; ``boundary`` events there are :data:`KEPT`'s)."""

MAX_PAUSE = 86_400.0
"""The longest pause (s) read as stated: a longer one between two segments of one recording is
taken for a damaged date."""


def stated_gaps(
    path: str, raw: BaseRaw, joins: Sequence[float], sfreq: float | None = None
) -> tuple[tuple[tuple[float, float], ...], str]:
    """The spans of the recording's clock (s from its first sample as acquired) that its
    ``joins`` (s on the samples read) left out, as the file ``path`` states them, and the
    words for the joins' warning line; ``()`` and the reason where it does not state them.
    ``sfreq``: the rate read, where a rounded field's differs from MNE's
    (:mod:`eegprep.readers.mne_rates`)."""
    suffix = PurePath(path).suffix.lower()
    sfreq = float(raw.info["sfreq"]) if sfreq is None else sfreq
    if suffix in BRAINVISION_HEADERS:
        pauses, why = _segment_pauses(path, sfreq, raw.n_times)
    elif suffix == ".set":
        pauses, why = _boundary_pauses(path, raw, sfreq)
    else:
        return (), ""
    if pauses is None:
        return (), f"; how long it paused is not stated ({why}): a sidecar's times are not moved"
    at = {round(j * sfreq): 0.0 for j in joins}
    for sample, seconds in pauses:
        if sample in at:
            at[sample] += seconds
    gaps = clock_gaps([(k / sfreq, at[k]) for k in sorted(at)])
    total = sum(b - a for a, b in gaps)
    if not gaps:  # (the file states pauses of 0 s: no time left out, nothing to say)
        return (), ""
    return gaps, f"; {total:g} s of its clock lie between them, as the file states"


def _segment_pauses(
    path: str, sfreq: float, n_samples: int
) -> tuple[list[tuple[int, float]] | None, str]:
    """``(first sample, pause s before it)`` of each ``New Segment`` after the first, from the
    marker file's dates; None and the reason where one is missing or not believable."""
    if missing_markers(path):
        return None, "no marker file"
    segments = segment_dates(path, read_vhdr(path).n_channels)
    if not segments or segments[0][0] != 0:
        return None, "no 'New Segment' marker at the first sample gives the recording's start"
    out = []
    for (before, start), (sample, date) in itertools.pairwise(segments):
        if sample >= n_samples or sample == before:
            continue
        if start is None or date is None:
            return None, f"the 'New Segment' at sample {sample} or the one before has no date"
        pause = (date - start).total_seconds() - (sample - before) / sfreq
        if abs(pause) <= 0.5 / sfreq:
            pause = 0.0
        if not 0 <= pause <= MAX_PAUSE:
            return None, (
                f"the dates give a pause of {pause:g} s before the 'New Segment' at sample "
                f"{sample}, not 0 to {MAX_PAUSE:g} s"
            )
        out.append((sample, pause))
    return out, ""


def _boundary_pauses(
    path: str, raw: BaseRaw, sfreq: float
) -> tuple[list[tuple[int, float]] | None, str]:
    """``(first sample after it, seconds removed)`` of each EEGLAB ``boundary`` inside the
    samples, from ``EEG.event.duration``; None and the reason where one states no length.
    MNE's Raw cuts an event at the samples' end and gives a NaN duration as 0, so where a
    ``boundary`` reaches the end (its removed samples outlast the stretch after it) or lasts
    0, the events are read again from the file, uncut (:func:`uncut_boundaries`)."""
    first = float(raw.first_time)
    end = raw.n_times / sfreq
    ann = raw.annotations
    found = [
        (float(onset) - first, float(duration))
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if str(desc) == "boundary"
    ]
    if any(d == 0 or abs(t + d - end) < 0.5 / sfreq for t, d in found):
        # (MNE's Raw gives a NaN duration as 0, cuts one at the end)
        uncut = uncut_boundaries(path, raw)
        if uncut is None:
            return None, "a boundary's duration is 0, NaN, or cut by MNE at the samples' end"
        found = uncut
    out = []
    for t, seconds in found:
        sample = math.ceil(t * sfreq - 1e-6)
        if not 0 < sample < raw.n_times:
            continue
        if not math.isfinite(seconds) or seconds < 0:
            return None, f"the 'boundary' at {sample / sfreq:g} s has the duration {seconds:g}"
        out.append((sample, seconds))
    return out, ""


def uncut_boundaries(path: str, raw: BaseRaw | None = None) -> list[tuple[float, float]] | None:
    """The ``boundary`` events of the ``.set`` ``path`` as ``(onset s, duration s)``, uncut
    (MNE's own reading of ``EEG.event``, before a Raw crops it: one before the first sample
    keeps its negative onset, a NaN duration stays NaN); None where it fails. Those ``raw``
    kept as MNE opened the file (:mod:`eegprep.readers.set_raw`) where it did, else the file
    read again."""
    kept = getattr(raw, KEPT, None) if raw is not None else None
    if kept is not None:
        return list(kept)
    import warnings

    import mne

    try:
        # (what MNE says of the file it said on opening it)
        with warnings.catch_warnings(), mne.utils.use_log_level("error"):
            warnings.simplefilter("ignore")
            ann = mne.read_annotations(path)
    except Exception:  # (a name MNE does not take, a file changed since): length unknown
        return None
    return [
        (float(onset), float(duration))
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if str(desc) == "boundary"
    ]
