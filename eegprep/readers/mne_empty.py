"""The channels of a file MNE opened that hold no samples, left out of its header.

An EDF/BDF or GDF signal of 0 samples per record (a channel the recording system disabled,
which some Nihon Kohden and Compumedics exports list) holds no samples; MNE reads it as a
channel of zeros at the file's rate, a flat channel the file never recorded.
:func:`empty_positions` finds them in MNE's channel list (``_raw_extras``: ``sel``, the file's
signal of each channel MNE keeps, and ``n_samps``, each file signal's samples per record), so
that the ``mne`` reader leaves them out as the ``edf`` reader does
(:attr:`~eegprep.readers.base.Header.empty_channels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.base.errors import SourceError
from eegprep.readers.edf_header import no_samples_problem

if TYPE_CHECKING:
    from mne.io import BaseRaw


def empty_positions(path: str, raw: BaseRaw, labels: Sequence[str]) -> tuple[int, ...]:
    """Positions in MNE's channel list (``labels``, as the header shows them) of the EDF/BDF
    or GDF signals of 0 samples per record; ``()`` for any other format.

    Raises :class:`~eegprep.base.errors.SourceError` when no channel holds samples."""
    if PurePath(path).suffix.lower() not in (".edf", ".bdf", ".gdf") or not raw._raw_extras:
        return ()
    extras = raw._raw_extras[0]
    sel, n_samps = extras.get("sel"), extras.get("n_samps")
    if sel is None or n_samps is None:
        return ()
    empty = tuple(i for i, s in enumerate(sel) if int(n_samps[int(s)]) == 0)
    if empty and len(empty) == len(labels):
        raise SourceError(path, no_samples_problem(labels))
    return empty
