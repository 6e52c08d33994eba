"""What MNE could not open, and what it opened that is no single continuous recording, in one
line each: :func:`open_problem` turns MNE's exception into the line naming the cause (a
repeated BrainVision label, a damaged marker or MATLAB file, an epoched EEGLAB dataset, a FIF
with no raw data), :func:`joins` names where an opened recording's samples do not follow on in
time. Used by :mod:`eegprep.readers.mne_formats`; MNE's messages are matched here, in one
place, so that a change in MNE's wording shows in one module's tests.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eegprep.base.wording import counted, noun
from eegprep.readers.base import exception_summary
from eegprep.readers.kept_time import Removed
from eegprep.readers.set_header import epoched

if TYPE_CHECKING:
    from mne.io import BaseRaw

    from eegprep.readers.mne_gaps import Skips


class SaidProblem(ValueError):
    """A problem eegprep found in a file while MNE opened it, already worded as the one line
    (an EEGLAB event of negative duration: :mod:`eegprep.readers.set_raw`)."""


def open_problem(fmt: str, exc: Exception) -> str:
    """The one line for a file MNE cannot open; a repeated BrainVision label named as such."""
    if isinstance(exc, SaidProblem):
        return str(exc)
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
            f"({exception_summary(exc)}): a label that is neither text nor a "
            "finite number, say; name each channel in EEGLAB and save the dataset again"
        )
    if fmt in ("EDF", "BDF") and _EDF_TEXT_BYTES in str(exc):
        return (
            "its annotation texts are not UTF-8 (Latin-1, say, as older writers write them), "
            'which MNE decodes as UTF-8: add encoding = "latin1" to the reader options, or '
            "read it without MNE reader options (eegprep's EDF reader decodes either)"
        )
    if fmt == "EEGLAB" and _raised_in(exc, _EVENT_READERS):
        return (
            f"MNE cannot read EEG.event, the events' latencies and types "
            f"({exception_summary(exc)}): no latency field, say; give each event a latency "
            "in samples in EEGLAB and save the dataset again"
        )
    if fmt == "EEGLAB" and _OLD_DAT in str(exc):
        return (
            "EEG.data names a '.dat' samples file, the layout of older EEGLAB versions, which "
            "MNE does not read: open the dataset in EEGLAB and save it again (it writes '.fdt')"
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


_OLD_DAT = "Old data format .dat detected"
"""How MNE's EEGLAB reader refuses an old EEGLAB dataset whose samples are in a ``.dat`` file
(it said "check it is complete" of a whole file)."""
_FDT_CASE = re.compile(r"'EEGLAB file extension'.* but got '([^']*)'")
"""How MNE's EEGLAB reader refuses a samples file named with another extension (``.FDT``)."""
_NOT_RAW_FIF = re.compile(r"^No raw data in |^Could not find measurement (data|info)")
"""How MNE's FIF reader refuses a FIF without raw data (-epo, -ave, -eve, -fwd ...)."""
_EPOCHED = re.compile(r"number of trials is (\d+)")
"""How MNE's EEGLAB reader refuses a .set whose data are epochs (trials > 1)."""


_CHANLOCS_READERS = frozenset({"_get_info", "_get_montage_information"})
"""MNE's functions that name a .set's channels from ``EEG.chanlocs``."""
_EDF_TEXT_BYTES = "Encountered invalid byte in at least one annotations channel"
"""How MNE's EDF reader refuses annotation texts that its ``encoding`` (UTF-8) does not
decode."""
_EVENT_READERS = frozenset({"_read_annotations_eeglab"})
"""MNE's function that reads a .set's ``EEG.event`` (each latency less 1: a missing field fails
there; text, cells and empty ones are read as numbers first, :mod:`eegprep.readers.set_events`)."""
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
_SKIP = "BAD_ACQ_SKIP"
_JOINS = {
    _SEGMENT: "BrainVision 'New Segment'",  # the recording paused and resumed
    "boundary": "EEGLAB 'boundary'",  # samples removed in EEGLAB
    "EDGE boundary": "MNE 'EDGE boundary'",  # recordings concatenated by MNE (saved as FIF)
}
"""Annotations MNE keeps where a file's samples do not follow on in time, and their names.
(``BAD_ACQ_SKIP``, samples MNE filled in, is left out of the samples: ``skips``.)"""


def joins(
    raw: BaseRaw,
    segments: Sequence[float] | None = None,
    skips: Skips | None = None,
    n_dropped: int = 0,
    *,
    sfreq: float | None = None,
    stretch: float = 1.0,
) -> tuple[tuple[float, ...], str | None]:
    """Where the samples do not follow on in time, after the first sample (a BrainVision
    recording paused and resumed, an EEGLAB dataset with stretches cut out, MNE's
    concatenations, and where MNE's acquisition skips were left out), as
    :attr:`~eegprep.readers.base.Header.joins` (seconds from the first sample on the samples
    kept, each on a sample: an EEGLAB ``boundary`` at latency ``k + 0.5`` starts the stretch
    at sample ``k``, counted from 0), and a warning naming them, or ``()`` and ``None``. The
    stretches are kept separately: filtered each alone, stored end to end, no window across a
    join. ``segments``, for a BrainVision file: the seconds from its first sample at which its
    ``New Segment`` markers resume the recording, as eegprep reads the marker file
    (:func:`~eegprep.readers.vmrk.segment_starts`), in place of MNE's annotations of them (MNE
    drops one listed first wherever it lies, and names them otherwise with a description or
    under ``ignore_marker_types``). ``skips``: MNE's ``BAD_ACQ_SKIP`` spans, left out of the
    samples (:class:`~eegprep.readers.mne_gaps.Skips`); ``n_dropped``: the events wholly
    inside them, dropped (named in the warning). ``sfreq``: the rate read where a rounded
    field's differs from MNE's (:mod:`eegprep.readers.mne_rates`; ``segments`` counted at it),
    and ``stretch`` what MNE's annotation onsets are multiplied by to count at it (1.0 where
    they are the file's own seconds)."""
    first = float(raw.first_time)
    sfreq = float(raw.info["sfreq"]) if sfreq is None else sfreq
    removed = Removed(skips.removed_seconds(sfreq) if skips else [])
    end = (skips.n_kept if skips else raw.n_times) / sfreq
    at: list[tuple[float, str]] = []
    for onset, desc in zip(raw.annotations.onset, raw.annotations.description, strict=True):
        if str(desc) not in _JOINS or (segments is not None and str(desc) == _SEGMENT):
            continue
        t = removed.seconds(_on_sample((float(onset) - first) * stretch, sfreq))
        at.append((_on_sample(t, sfreq), _JOINS[str(desc)]))
    at += [(_on_sample(removed.seconds(t), sfreq), _JOINS[_SEGMENT]) for t in segments or ()]
    at += [(j / sfreq, f"MNE {_SKIP!r}") for j in (skips.joins if skips else ())]
    times = sorted({t for t, _ in at if 0 < t < end})
    left_out = _left_out(skips, sfreq, n_dropped)
    if not times and not left_out:
        return (), None
    if not times:
        return (), f"{left_out[2:]} at the samples' start or end (no join)"
    names = sorted({kind for t, kind in at if 0 < t < end})
    kinds = f"{', '.join(names)} {noun(len(names), 'marker')}"
    shown = ", ".join(f"{t:g} s" for t in times[:5]) + (", ..." if len(times) > 5 else "")
    return tuple(times), (
        f"discontinuous: {kinds} where the samples do not follow on in time; "
        f"its {len(times) + 1} stretches are kept separately (filtered each alone, no window "
        f"across a join), stored end to end with joins at {shown}{left_out}"
    )


def _left_out(skips: Skips | None, sfreq: float, n_dropped: int) -> str:
    """The warning's words on the ``BAD_ACQ_SKIP`` samples left out, ``""`` without any."""
    if not skips or not skips.spans:
        return ""
    seconds = (skips.n_source - skips.n_kept) / sfreq
    lost = f", {counted(n_dropped, 'event')} inside them dropped" if n_dropped else ""
    return (
        f"; {counted(len(skips.spans), 'span')} MNE filled in where none were acquired "
        f"(BAD_ACQ_SKIP, {seconds:g} s) left out{lost}"
    )


def _on_sample(seconds: float, sfreq: float) -> float:
    """``seconds`` moved to the next sample at ``sfreq`` (a join between two samples starts
    the stretch at the later one), within a millionth of a sample of one: on it."""
    return math.ceil(seconds * sfreq - 1e-6) / sfreq
