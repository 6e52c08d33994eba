"""What MNE could not open, and what it opened that is no single continuous recording, in one
line each: :func:`open_problem` turns MNE's exception into the line naming the cause (a
repeated BrainVision label, a damaged marker or MATLAB file, an epoched EEGLAB dataset, a FIF
with no raw data), :func:`joins` names where an opened recording's samples do not follow on in
time. Used by :mod:`eegprep.readers.mne_formats`; MNE's messages are matched here, in one
place, so that a change in MNE's wording shows in one module's tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eegprep.readers.base import exception_summary
from eegprep.readers.set_header import epoched

if TYPE_CHECKING:
    from mne.io import BaseRaw


def open_problem(fmt: str, exc: Exception) -> str:
    """The one line for a file MNE cannot open; a repeated BrainVision label named as such."""
    if fmt == "BrainVision" and "has no associated original unit" in str(exc):
        label = str(exc).split("Channel ")[-1].split(" has no")[0].rsplit("-", 1)[0]
        return (
            f"channel label {label!r} appears more than once in the .vhdr's [Channel Infos], "
            "which MNE cannot read: rename the repeats there (e.g. Ch5=T8-P8 -> Ch5=T8-P8b)"
        )
    if fmt == "BrainVision" and _raised_in(exc, _BV_MARKER_READERS):
        return (
            f"MNE cannot read this BrainVision file's markers (the .vmrk its header names): "
            f"{exception_summary(exc)}; fix the damaged line there"
        )
    if fmt == "EEGLAB" and _raised_under(exc, _MAT_PARSERS):
        return (
            "its MATLAB data does not parse (the file is damaged or cut; the MAT parser "
            "failed inside it): re-download it, or save the dataset again in EEGLAB"
        )
    if fmt == "EEGLAB" and _raised_in(exc, _CHANLOCS_READERS):
        return (
            f"MNE cannot read EEG.chanlocs, the channels' labels, types and positions "
            f"({exception_summary(exc)}): a label that is empty or a number, say; name each "
            "channel in EEGLAB and save the dataset again"
        )
    odd = _FDT_CASE.search(str(exc)) if fmt == "EEGLAB" else None
    if odd:
        return (
            f"EEG.data names a samples file ending in {odd.group(1)!r}, which MNE does not read "
            "(only '.fdt'): rename the file to end in '.fdt' and save the dataset again in EEGLAB"
        )
    if fmt == "FIF" and _NOT_RAW_FIF.search(str(exc)):
        return (
            "this FIF file holds no continuous recording (no raw data block: MNE epochs, an "
            "evoked average, events or another MNE object); eegprep ingests continuous "
            "recordings: ingest the raw FIF they were made from"
        )
    trials = _EPOCHED.search(str(exc)) if fmt == "EEGLAB" else None
    if trials:
        return epoched(trials.group(1))
    return f"MNE cannot read this {fmt} file: {exception_summary(exc)}; check it is complete"


_FDT_CASE = re.compile(r"'EEGLAB file extension'.* but got '([^']*)'")
"""How MNE's EEGLAB reader refuses a samples file named with another extension (``.FDT``)."""
_NOT_RAW_FIF = re.compile(r"^No raw data in |^Could not find measurement (data|info)")
"""How MNE's FIF reader refuses a FIF without raw data (-epo, -ave, -eve, -fwd ...)."""
_EPOCHED = re.compile(r"number of trials is (\d+)")
"""How MNE's EEGLAB reader refuses a .set whose data are epochs (trials > 1)."""


_CHANLOCS_READERS = frozenset({"_get_info", "_get_montage_information"})
"""MNE's functions that name a .set's channels from ``EEG.chanlocs``."""
_BV_MARKER_READERS = frozenset({"_read_mrk", "_read_annotations_brainvision"})
"""MNE's functions that parse a BrainVision marker file."""


_MAT_PARSERS = ("scipy/io/matlab/", "pymatreader/", "h5py/")
"""Where the libraries that parse a ``.set`` for MNE live (path parts of their files)."""


def _raised_under(exc: BaseException, parts: tuple[str, ...]) -> bool:
    """Whether ``exc`` was raised in a file whose path holds one of ``parts`` (the innermost
    frame of its traceback; a compiled module's error shows its caller)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and any(p in frames[-1].filename.replace(os.sep, "/") for p in parts)


def _raised_in(exc: BaseException, functions: frozenset[str]) -> bool:
    """Whether one of ``functions`` is on ``exc``'s traceback."""
    import traceback

    return any(frame.name in functions for frame in traceback.extract_tb(exc.__traceback__))


_SEGMENT = "New Segment/"  # MNE's description of a BrainVision "New Segment" marker
_JOINS = {
    _SEGMENT: "BrainVision 'New Segment'",  # the recording paused and resumed
    "boundary": "EEGLAB 'boundary'",  # samples removed in EEGLAB
    "BAD_ACQ_SKIP": "MNE 'BAD_ACQ_SKIP'",  # an acquisition skip (FIF, EDF+D): filled with zeros
}
"""Annotations MNE keeps where a file's samples do not follow on in time, and their names."""


def joins(raw: BaseRaw, segments: Sequence[float] | None = None) -> str | None:
    """A warning naming where the samples do not follow on in time, after the first sample (a
    BrainVision recording paused and resumed, an EEGLAB dataset with stretches cut out), or
    ``None``: the samples either side are stored end to end, as MNE reads them, and an EDF+D
    with gaps is refused (:mod:`eegprep.readers.edf`). ``segments``, for a BrainVision file:
    the seconds from its first sample at which its ``New Segment`` markers resume the
    recording, as eegprep reads the marker file (:func:`~eegprep.readers.vmrk.segment_starts`),
    in place of MNE's annotations of them (MNE drops one listed first wherever it lies, and
    names them otherwise with a description or under ``ignore_marker_types``)."""
    first = float(raw.first_time)
    at = [
        (float(onset) - first, _JOINS[str(desc)])
        for onset, desc in zip(raw.annotations.onset, raw.annotations.description, strict=True)
        if str(desc) in _JOINS and (segments is None or str(desc) != _SEGMENT)
    ]
    at += [(float(t), _JOINS[_SEGMENT]) for t in segments or ()]
    at = sorted(j for j in at if j[0] > 0)
    if not at:
        return None
    kinds = ", ".join(sorted({kind for _, kind in at}))
    shown = ", ".join(f"{t:g} s" for t, _ in at[:5]) + (", ..." if len(at) > 5 else "")
    return (
        f"discontinuous: {len(at)} {kinds} marker(s) where the samples do not follow on in "
        f"time (at {shown}); the stretches either side are stored end to end, so a window "
        "across one joins two of them: split the recording there, or leave those spans out"
    )
