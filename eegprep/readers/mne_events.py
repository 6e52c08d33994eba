"""The events of a file MNE opened, on eegprep's terms: onsets from the first sample, and what
MNE makes of a format's events set right where the format defines them otherwise.

An EEGLAB ``boundary`` (samples cut out there) lasts no time on the samples kept, though its
``EEG.event.duration`` counts the samples removed and MNE gives that as a span; an EEGLAB
numeric event type is its code (``7``), not MNE's text of a float (``7.0``). A BrainVision
recording's pauses (``New Segment`` markers after the first sample) are found in the marker
file as eegprep reads it (:func:`segment_onsets`). :func:`cropped_events` says which events MNE
dropped or cut at the samples' ends. Used by :mod:`eegprep.readers.mne_formats`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

import numpy as np

from eegprep.base.wording import counted, noun
from eegprep.readers.base import Annotation, code_label
from eegprep.readers.companions import BRAINVISION_HEADERS, missing_markers
from eegprep.readers.fif_part_events import every_part
from eegprep.readers.gdf_values import gdf_events
from eegprep.readers.mne_pauses import BEFORE
from eegprep.readers.vhdr import read_vhdr
from eegprep.readers.vmrk import channel_markers, segment_starts

if TYPE_CHECKING:
    from mne.io import BaseRaw

_GAP_LENGTHS = {".set": "boundary"}
"""Events whose duration is the length of a stretch no longer in the file's samples, by suffix:
EEGLAB's ``boundary`` (its ``EEG.event.duration`` counts the samples cut out there), which MNE
gives as a span of the samples after it."""


_FLOAT_TEXT = re.compile(r"[+-]?[0-9]+\.0|[+-]?[0-9](?:\.[0-9]+)?e[+-][0-9]+")
"""How Python writes a float that is a whole number (``7.0``, ``1e+16``): MNE's text of an
EEGLAB event type stored as a number (a MATLAB double, as EEGLAB stores numeric types). ASCII
digits alone: Python writes no others, and a type stored as the text ``٧.0`` is that text
(``\\d`` and ``float`` read it as 7)."""


_EMPTY_TEXT = "[]"
"""MNE's text of an EEGLAB event type that is empty (MATLAB's ``[]`` or ``''``): ``str()`` of an
empty array."""


def _event_text(suffix: str, description: str) -> str:
    """An event's description as eegprep writes event codes: an EEGLAB numeric type
    ``EEG.event.type`` = 7 is ``'7'`` (:func:`~eegprep.readers.base.code_label`), as EEGLAB
    shows it and every other reader writes codes, not MNE's ``'7.0'``. (A type stored as the
    text ``'7.0'``, which MNE gives alike, is ``'7'`` too.) An empty type is an empty label,
    not MNE's ``'[]'`` (a type written as the text ``[]`` reads so too: MNE gives both alike)."""
    if suffix == ".set" and description == _EMPTY_TEXT:
        return ""
    if suffix == ".set" and _FLOAT_TEXT.fullmatch(description):
        value = float(description)
        if value == int(value):
            return code_label(value)
    return description


def file_events(
    path: str, raw: BaseRaw, sfreq: float | None = None, *, plain: bool = False
) -> tuple[Annotation, ...]:
    """MNE annotations with onsets in seconds from the first sample of the recording; an event
    marking where samples were cut out (:data:`_GAP_LENGTHS`) lasts no time on the samples
    kept; an EEGLAB numeric type is written as a code (:func:`_event_text`). ``sfreq``: the
    file's rate where MNE counted the events' samples at another (a BrainVision header's
    rounded ``SamplingInterval``: :mod:`eegprep.readers.mne_rates`), their times then counted
    at ``sfreq`` (the samples as MNE counted them, to the nearest millionth). A BrainVision
    marker's channel is its marker file's (:func:`marker_channels`; ``plain``: MNE's
    ``ignore_marker_types``)."""
    ann = raw.annotations
    first = float(raw.first_time)
    per = 1.0 if sfreq is None else float(raw.info["sfreq"])

    def timed(seconds: float) -> float:
        return seconds if sfreq is None else round(seconds * per, 6) / sfreq

    suffix = PurePath(path).suffix.lower()
    gap = _GAP_LENGTHS.get(suffix)
    marked = marker_channels(path, raw, plain=plain)
    texts: dict[str, str] = {}  # (each distinct description written once: 900,000 events
    out = []  # of a .set carry a handful)
    for onset, duration, desc, chans in zip(
        ann.onset, ann.duration, ann.description, ann.ch_names, strict=True
    ):
        desc = str(desc)
        text = texts.get(desc)
        if text is None:
            text = texts[desc] = _event_text(suffix, desc)
        out.append(
            Annotation(
                onset=timed(float(onset) - first),
                duration=0.0 if desc == gap else timed(float(duration)),
                description=text,
                channel=",".join(chans) or _marked(marked, float(onset) - first, desc, raw),
            )
        )
    return tuple(out)


_Marked = dict[tuple[int, str], list[str]]
"""Channel names of a BrainVision file's markers, by (first sample from 0, MNE's
description), each key's in file order (MNE's order among equal ones)."""


def marker_channels(path: str, raw: BaseRaw, *, plain: bool = False) -> _Marked:
    """The channel each BrainVision marker that names one marks (the ``.vmrk``'s fifth field,
    a header channel number; 0 is every channel), as the name MNE gives that channel, keyed
    as :func:`_marked` finds them (``plain``: MNE's ``ignore_marker_types``, its description
    without the type); empty for other formats and where none names one. MNE's reader drops
    the field."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS or missing_markers(path):
        return {}
    names = list(raw.ch_names)
    header = read_vhdr(path)
    marks = channel_markers(path, header.n_channels)
    out: _Marked = {}
    for m in marks:
        kind, text = m.kind.replace("\\1", ","), m.description.replace("\\1", ",")
        desc = text if plain else f"{kind}/{text}"
        name = names[m.channel - 1] if len(names) == header.n_channels else str(m.channel)
        out.setdefault((m.position - 1, desc), []).append(name)
    return out


def _marked(marked: _Marked, seconds: float, desc: str, raw: BaseRaw) -> str:
    """The channel of the marker MNE gave as ``desc`` at ``seconds`` from the first sample
    (taken: the next such marker is the next one's), ``""`` for every channel."""
    if not marked:
        return ""
    names = marked.get((round(seconds * float(raw.info["sfreq"])), desc))
    return names.pop(0) if names else ""


_CROPPED = re.compile(r"^(Omitted|Limited) (\d+) annotation\(s\) that were")
"""How MNE says it dropped (``Omitted``) or cut (``Limited``) events outside the samples."""


@dataclass(frozen=True)
class Before:
    """A file's events before its first sample, as MNE opened it.

    Attributes
    ----------
    dropped, cut : int
        Those wholly before it (MNE drops them) and those reaching into the samples (MNE cuts
        them to start at the first sample).
    why : str
        Where the format puts them, for the warning (``" (at position 0: GDF counts
        positions from 1)"``); ``""`` for none.
    """

    dropped: int = 0
    cut: int = 0
    why: str = ""


def before_first_sample(path: str, raw: BaseRaw) -> Before:
    """The events before the first sample of the file MNE opened as ``raw``, which its notes
    count with those past the end: an EEGLAB ``.set``'s other than ``boundary`` (latency below
    0.5: :data:`~eegprep.readers.mne_pauses.BEFORE`), a GDF's at position 0 (positions count
    from 1: MNE puts one a sample before the first, :func:`~eegprep.readers.gdf_values.
    gdf_events`), a FIF's (:func:`_fif_before`)."""
    suffix = PurePath(path).suffix.lower()
    if suffix == ".set":
        dropped, cut = getattr(raw, BEFORE, None) or (0, 0)
        return Before(dropped, cut)
    if suffix == ".fif":
        return _fif_before(path, raw)
    if suffix == ".gdf":
        table = gdf_events(path)
        n = 0 if table is None else int(np.count_nonzero(table.onsets < 0))
        return Before(n, 0, " (at position 0: GDF counts positions from 1)" if n else "")
    return Before()


def _fif_before(path: str, raw: BaseRaw) -> Before:
    """A FIF file's annotations before its first sample (read again, every part's:
    :func:`~eegprep.readers.fif_part_events.every_part`; MNE's Raw holds them cropped), their
    onsets from the first sample as MNE places them (on the measurement's clock where the
    annotations state an origin, else from the first sample)."""
    ann = every_part(raw)
    if ann is None:  # (as fif_crops: nothing said)
        return Before()
    onset = np.asarray(ann.onset, dtype=float)
    meas = raw.info["meas_date"]
    if ann.orig_time is not None and meas is not None:
        onset = onset + (ann.orig_time - meas).total_seconds() - float(raw.first_time)
    stop = onset + np.asarray(ann.duration, dtype=float)
    return Before(int(np.count_nonzero(stop < 0)), int(np.count_nonzero((onset < 0) & (stop >= 0))))


def cropped_events(
    notes: Sequence[str], seconds: float, gaps: int = 0, lead: int = 0, before: Before = Before()
) -> str | None:
    """A warning for the events MNE dropped or cut while opening the file because they lie
    outside its samples (``seconds`` long), which it says only on the terminal: a marker after
    the last sample is what a samples file cut short looks like. ``gaps``: of those MNE cut,
    the events whose duration is a stretch cut out of the samples at their end
    (:func:`gaps_cut`); ``lead``: of those MNE dropped or cut, the markers before the first
    sample of samples removed there (:attr:`~eegprep.readers.mne_lead.Lead.cut`): neither says
    anything of the file's length. ``before``: of those, the other events before the first
    sample (:func:`before_first_sample`), said as such, not as a file cut short."""
    counts = {"Omitted": 0, "Limited": 0}
    for note in notes:
        hit = _CROPPED.match(note)
        if hit:
            counts[hit.group(1)] += int(hit.group(2))
    counts["Limited"] = max(0, counts["Limited"] - gaps)
    omitted = min(lead, counts["Omitted"])  # (MNE drops or cuts one before the first sample)
    counts["Omitted"] -= omitted
    counts["Limited"] = max(0, counts["Limited"] - (lead - omitted))
    early = min(before.dropped, counts["Omitted"])
    counts["Omitted"] -= early
    early_cut = min(before.cut + before.dropped - early, counts["Limited"])
    counts["Limited"] -= early_cut
    parts = [_late(counts["Omitted"], counts["Limited"]), _early(early, early_cut, before.why)]
    if not any(parts):
        return None
    return f"the file's samples span 0-{seconds:g} s; " + "; ".join(p for p in parts if p)


def _late(omitted: int, limited: int) -> str:
    """The clause on ``omitted`` events past the end dropped and ``limited`` cut there."""
    said = [
        f"{counted(omitted, 'event')} of the file {noun(omitted, 'lies', 'lie')} outside them "
        f"and {noun(omitted, 'was')} dropped"
        if omitted
        else "",
        f"{counted(limited, 'event')} {noun(limited, 'reaches', 'reach')} past them and "
        f"{noun(limited, 'was')} cut"
        if limited
        else "",
    ]
    if not any(said):
        return ""
    return (
        f"{', '.join(s for s in said if s)}: if they mark later parts of the recording, its "
        "samples are cut short (re-download it)"
    )


def _early(dropped: int, cut: int, why: str) -> str:
    """The clause on ``dropped`` events wholly before the first sample and ``cut`` reaching
    into the samples from before it; ``why``: where the format put them."""
    said = [
        f"{counted(dropped, 'event')} of the file before its first sample "
        f"{noun(dropped, 'was')} dropped"
        if dropped
        else "",
        f"{counted(cut, 'event')} starting before it {noun(cut, 'was')} cut to start there"
        if cut
        else "",
    ]
    return ", ".join(s for s in said if s) + (why if dropped or cut else "")


def fif_crops(path: str, raw: BaseRaw) -> tuple[str, ...]:
    """For a FIF file, MNE's notes of the annotations it dropped or cut at the ends of the
    samples (``Omitted``/``Limited``, as :func:`cropped_events` reads them), which its FIF
    reader crops unsaid: its annotations read again (every part's of a recording split in parts:
    :func:`~eegprep.readers.fif_part_events.every_part`) and set on a copy of ``raw`` (no
    samples), where MNE says so. Empty for other formats, and where they cannot be read."""
    if PurePath(path).suffix.lower() != ".fif":
        return ()
    import warnings

    import mne

    try:
        with warnings.catch_warnings(record=True) as caught, mne.utils.use_log_level("warning"):
            warnings.simplefilter("always")  # (MNE says it at "warning" level only)
            ann = every_part(raw)
            if ann is None:
                return ()
            raw.copy().set_annotations(ann)
    except Exception:  # (a split file's other parts, a file changed since: nothing said)
        return ()
    return tuple(str(w.message) for w in caught if _CROPPED.match(str(w.message)))


def gaps_cut(path: str, raw: BaseRaw) -> int:
    """How many events of :data:`_GAP_LENGTHS` MNE cut at the end of the samples, as far as
    their place tells (a ``boundary`` near the end, whose duration counts the samples
    removed: MNE's "Limited" note counts them). Those before the first sample (EEGLAB's
    latency 0.5) are :func:`~eegprep.readers.mne_lead.eeglab_lead`'s."""
    gap = _GAP_LENGTHS.get(PurePath(path).suffix.lower())
    if gap is None:
        return 0
    sfreq = float(raw.info["sfreq"])
    start = float(raw.first_time)
    end = start + raw.n_times / sfreq  # where MNE cuts them
    ann = raw.annotations
    return sum(
        1
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if str(desc) == gap
        and duration > 0
        and abs(onset + duration - end) < 0.5 / sfreq
        and abs(onset - start) >= 0.5 / sfreq
    )


def segment_onsets(path: str, sfreq: float, n_samples: int) -> tuple[float, ...] | None:
    """For a BrainVision header, the seconds from its first sample at which its marker file's
    ``New Segment`` markers resume the recording within its ``n_samples`` samples
    (:func:`~eegprep.readers.vmrk.segment_starts`); ``None`` for other formats."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS or missing_markers(path):
        return None
    starts = segment_starts(path, read_vhdr(path).n_channels)
    return tuple(p / sfreq for p in starts if p < n_samples)
