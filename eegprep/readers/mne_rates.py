"""The rate of a file MNE opened, where MNE took it from a rounded field.

MNE reads an EDF/BDF's rate as samples per record over the record duration as written, and a
BrainVision header's as 10^6 over ``SamplingInterval`` as written: ``0.003906`` s (8
characters) and ``3906`` microseconds both give 256.016 Hz for 256 Hz. :func:`stood_for_rate`
gives the whole rate such a field stands for (:mod:`eegprep.readers.rounded_rate`), the same
rate eegprep's own EDF reader reads from the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.readers.companions import BRAINVISION_HEADERS
from eegprep.readers.edf import read_raw_header
from eegprep.readers.edf_header import parse_edf_fields
from eegprep.readers.rounded_rate import rate_of_period, rounded_note
from eegprep.readers.vhdr import read_vhdr

if TYPE_CHECKING:
    from mne.io import BaseRaw


@dataclass(frozen=True)
class StoodFor:
    """The rate a file's field stands for, as :func:`stood_for_rate` reads it.

    ``sfreq``: Hz; ``note``: the warning naming the rounded field (None where it is not);
    ``events_at``: ``sfreq`` where MNE counted the events' times in samples at its own rate
    (a BrainVision marker's position and length: they are counted again at ``sfreq``), None
    where MNE's times are the file's own (an EDF's stamps) or its rate is the file's;
    ``stretch``: what MNE's annotation onsets are multiplied by to count at ``sfreq`` (MNE's
    rate over ``sfreq`` where ``events_at`` is given, else 1.0)."""

    sfreq: float
    note: str | None = None
    events_at: float | None = None
    stretch: float = 1.0


def stood_for_rate(path: str, raw: BaseRaw) -> StoodFor:
    """The rate of the file ``path`` MNE opened as ``raw``: an EDF/BDF's record duration and
    a BrainVision ``SamplingInterval`` read by the rule of
    :mod:`~eegprep.readers.rounded_rate`; every other format's rate as MNE read it."""
    sfreq = float(raw.info["sfreq"])
    suffix = PurePath(path).suffix.lower()
    if suffix in (".edf", ".bdf"):  # (MNE's rate: the fastest signal's)
        fields = parse_edf_fields(path, read_raw_header(path))
        if fields.fastest_rate is None:
            return StoodFor(sfreq)
        return StoodFor(fields.fastest_rate, fields.rate_note)
    if suffix in BRAINVISION_HEADERS:
        interval = read_vhdr(path).interval
        rate = rate_of_period(interval, 1e6)
        if rate is None:
            return StoodFor(sfreq)
        note = rounded_note(f"SamplingInterval={interval!r} microseconds", rate, sfreq)
        return StoodFor(rate, note, rate, sfreq / rate)
    return StoodFor(sfreq)
