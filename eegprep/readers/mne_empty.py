"""The channels of a file MNE opened that hold no samples, left out of its header.

An EDF/BDF or GDF signal of 0 samples per record (a channel the recording system disabled,
which some Nihon Kohden and Compumedics exports list) holds no samples; MNE reads it as a
channel of zeros at the file's rate, a flat channel the file never recorded.
:func:`empty_positions` finds them in MNE's channel list (``_raw_extras``: ``sel``, the file's
signal of each channel MNE keeps, and ``n_samps``, each file signal's samples per record), so
that the ``mne`` reader leaves them out as the ``edf`` reader does
(:attr:`~eegprep.readers.base.Header.empty_channels`).

A format of one rectangular array (EEGLAB ``EEG.data``, FIF, a MATLAB variable, BrainVision's
and GDF's floats) cannot list a channel without its samples: a channel it holds no samples of
is written as NaN at every sample (EEGLAB's and FieldTrip's fill for a channel missing from a
recording). :func:`nan_positions` finds those, left out the same way (every reader of floats
by one rule, :func:`unfilled_rows`; a GDF file's channels each read in its own type,
:func:`~eegprep.readers.gdf_records.gdf_nan_channels`); a channel NaN at some
samples only is no such channel (the ingest refuses its non-finite samples). Neuroscan CNT
and EDF/BDF store integers, which cannot be NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

import numpy as np

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


HEAD_SAMPLES = 4096
"""Samples of every channel read to find the candidates: a channel NaN on all of them is then
read whole (the others are not read further)."""
_BLOCK_VALUES = 1 << 22  # values read at a time while a candidate is read whole (32 MiB)
_INTEGER_SUFFIXES = (".edf", ".bdf", ".cnt")  # samples that are integer codes: never NaN


def nan_positions(
    path: str, raw: BaseRaw, labels: Sequence[str], left_out: Sequence[int] = ()
) -> tuple[int, ...]:
    """Positions in MNE's channel list (``labels``) of the channels NaN at every sample, other
    than ``left_out`` (:func:`empty_positions`); ``()`` for a format of integer samples.

    Only the first :data:`HEAD_SAMPLES` of each channel are read, and a channel NaN on all of
    them is read on, a block at a time, until a number: memory stays a block.

    Raises :class:`~eegprep.base.errors.SourceError` when no channel holds samples."""
    n_times = int(raw.n_times)
    if PurePath(path).suffix.lower() in _INTEGER_SUFFIXES or n_times == 0:
        return ()
    picks = [i for i in range(len(labels)) if i not in left_out]
    if not picks:
        return ()

    def read(rows: list[int], start: int, stop: int) -> np.ndarray:
        return raw.get_data(picks=rows, start=start, stop=stop)

    found = unfilled_rows(read, picks, n_times)
    if found and len(found) == len(picks):
        raise SourceError(path, all_nan_problem([labels[i] for i in found]))
    return tuple(found)


def unfilled_rows(
    read: Callable[[list[int], int, int], np.ndarray], rows: Sequence[int], n_times: int
) -> list[int]:
    """Those of ``rows`` NaN at every one of their ``n_times`` samples, in order: the one rule
    of every reader of a format of floats (MNE's, MATLAB's, GDF's own). ``read(rows, start,
    stop)`` gives the samples ``[start, stop)`` of ``rows``, shape (len(rows), stop - start).

    Only the first :data:`HEAD_SAMPLES` of each row are read, and a row NaN on all of them is
    read on, a block at a time, until a number: memory stays a block."""
    if not rows or n_times <= 0:
        return []
    head = min(n_times, HEAD_SAMPLES)
    first = read(list(rows), 0, head)  # (n_rows, head)
    found = [r for r, row in zip(rows, first, strict=True) if _all_nan(row)]
    step = max(1, _BLOCK_VALUES // max(1, len(found)))
    for start in range(head, n_times, step):
        if not found:
            break
        block = read(found, start, min(n_times, start + step))
        found = [r for r, row in zip(found, block, strict=True) if _all_nan(row)]
    return found


def _all_nan(row: np.ndarray) -> bool:
    return bool(np.isnan(np.asarray(row, dtype=np.float64)).all())


def all_nan_problem(labels: Sequence[str]) -> str:
    """The one line of a file in which every channel (``labels``) is NaN at every sample."""
    named = ", ".join(repr(label) for label in labels)
    return f"no channel holds samples: every sample of every channel is NaN ({named})"
