"""Channels of a file read by MNE whose header gives their samples no physical values: a
BrainVision channel whose resolution is no number, 0, not finite or overflowing float32.

Such a channel refuses only a read of its own samples, as an EDF signal without calibration
does (:func:`~eegprep.readers.edf._no_calibration`): a damaged ``Status`` or EOG channel,
which eegprep never keeps, does not refuse the EEG beside it. MNE is given a copy of the
header with a resolution of 1 for it (:func:`~eegprep.readers.vhdr_raw.read_raw_brainvision`).

Pure functions of the path and the header; nothing is kept between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from eegprep.base.errors import SourceError
from eegprep.readers.base import Header
from eegprep.readers.companions import BRAINVISION_HEADERS
from eegprep.readers.vhdr import read_vhdr

LAYOUT_KEY = "damaged"
"""The key, in an MNE-read header's layout, of its damaged channels: ``(index, problem)``
pairs, the index into the header's signals."""


def damaged_channels(path: str, kept: Sequence[int]) -> tuple[tuple[int, str], ...]:
    """``(index, problem)`` of each damaged channel of ``path`` among the file's channels
    ``kept`` (the index into ``kept``: the header's signals); ``()`` for other formats."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS:
        return ()
    channels = read_vhdr(path).channels
    return tuple(
        (at, channels[i].damage)
        for at, i in enumerate(kept)
        if i < len(channels) and channels[i].damage
    )


def damaged_note(damaged: Sequence[tuple[int, str]]) -> str | None:
    """The one warning naming every damaged channel (``None`` where none is)."""
    if not damaged:
        return None
    return "channels without a usable resolution, no samples read: " + "; ".join(
        problem for _, problem in damaged
    )


def check_damaged(header: Header, picks: Sequence[int]) -> None:
    """Refuse, in one line naming the channel and its field, a read of a damaged channel's
    samples (:data:`LAYOUT_KEY`)."""
    for at, problem in dict(header.layout).get(LAYOUT_KEY, ()):
        if at in picks:
            raise SourceError(
                header.path, f"{problem}: no physical values for its samples; leave the "
                "channel out (`[channels] exclude`) or correct its resolution"
            )  # fmt: skip
