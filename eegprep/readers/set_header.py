"""An EEGLAB ``.set``'s own fields checked before MNE opens it: what MNE would fail on in its own
terms, or read wrongly without a word, is refused in one line naming the field and its value.

MNE fails on a rate of 0 or below with ``sfreq must be positive``, on a missing one with
``'Bunch' object has no attribute 'srate'``, on a text or empty one with ``could not convert``
or ``only 0-dimensional arrays``; it takes a missing ``nbchan`` or ``pnts`` as 1 and a
``pnts`` of 0, -1 or 10^12 as it is, so that a recording of 500 samples was read as 1, or a
header claimed -1 samples; and it names each channel from ``chanlocs`` while a ``.fdt`` is laid
out by ``nbchan``, so that a count that differs would misplace every sample.

Fields are named as EEGLAB users know them (``EEG.srate``). EEGLAB today writes them as
top-level variables (``srate``, ``nbchan``, ``pnts``, ``trials``, ``data``, ``chanlocs``), older
versions as fields of one ``EEG`` struct; both are read, the struct only when the file is small
enough to hold no samples of its own (:data:`~eegprep.readers.companions.SET_STRUCT_MB`:
larger, MNE's own checks apply).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.readers.companions import SET_STRUCT_MB
from eegprep.readers.matlab_files import mat_version, small_variable, variable_listing

_COUNTS = ("nbchan", "pnts", "trials")
_FIELDS = ("srate", *_COUNTS)
_RESAVE = "save the dataset again in EEGLAB"


@dataclass(frozen=True)
class SetFields:
    """What a ``.set`` says of its samples, as stored.

    Attributes
    ----------
    values : dict of str to Any
        ``srate``, ``nbchan``, ``pnts`` and ``trials`` where the file has them (MATLAB values).
    data_shape : tuple of int or None
        MATLAB shape of samples kept in the ``.set`` itself (channels, samples[, trials]);
        ``None`` when they are in a file of their own (``EEG.data`` names it) or unknown.
    n_chanlocs : int
        Entries of ``chanlocs`` (0 when absent or empty: MNE then names the channels itself).
    """

    values: dict[str, Any]
    data_shape: tuple[int, ...] | None
    n_chanlocs: int


def check_set(path: str) -> None:
    """Refuse a ``.set`` whose rate, counts or samples' shape MNE would fail on or misread."""
    fields = read_set_fields(path)
    if fields is None:
        return
    _check_srate(path, fields)
    counts = {name: _count(path, fields, name) for name in _COUNTS}
    _check_shape(path, fields, counts)


def read_set_fields(path: str) -> SetFields | None:
    """The fields of a ``.set`` (see :class:`SetFields`); ``None`` for an ``EEG`` struct too
    large to load twice, or a file that is no MATLAB file (MNE names what is wrong)."""
    version = mat_version(path)
    listing = {name: (shape, cls) for name, shape, cls in variable_listing(path, version)}
    if "EEG" in listing and "srate" not in listing:
        if version != "7.3" and os.path.getsize(path) > SET_STRUCT_MB * 1e6:
            return None
        eeg = small_variable(path, version, "EEG")
        return _struct_fields(eeg) if isinstance(eeg, dict) else None
    values = {name: small_variable(path, version, name) for name in _FIELDS if name in listing}
    shape, cls = listing.get("data", ((), "char"))
    n_chanlocs = math.prod(listing["chanlocs"][0]) if "chanlocs" in listing else 0
    data_shape = tuple(int(n) for n in shape) if cls != "char" else None
    return SetFields(values, data_shape, n_chanlocs)


def _struct_fields(eeg: dict[str, Any]) -> SetFields:
    """:class:`SetFields` of a loaded ``EEG`` struct."""
    values = {name: eeg[name] for name in _FIELDS if name in eeg}
    data = eeg.get("data")
    data_shape = None if data is None or isinstance(data, str) else np.shape(data)
    n_chanlocs = _n_entries(eeg.get("chanlocs"))
    return SetFields(values, tuple(int(n) for n in data_shape or ()) or None, n_chanlocs)


def _n_entries(chanlocs: Any) -> int:
    """Channels a loaded ``chanlocs`` lists: a list of structs; one struct (one channel, or a
    struct of columns as MATLAB 7.3 stores a struct array); 0 when absent or empty."""
    if chanlocs is None:
        return 0
    if isinstance(chanlocs, list):
        return len(chanlocs)
    if isinstance(chanlocs, dict):
        sizes = [int(np.size(v)) for v in chanlocs.values() if not isinstance(v, str)]
        return max(sizes, default=1)
    return int(np.size(chanlocs) > 0)


def _scalar(value: Any) -> float | None:
    """A MATLAB value as one number; ``None`` for text, an empty array or several values."""
    if isinstance(value, str | bytes):
        return None
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        return None
    return float(arr.reshape(()))


def _check_srate(path: str, fields: SetFields) -> None:
    """``srate``: present, one finite number above 0 (Hz)."""
    name = "EEG.srate"
    if "srate" not in fields.values:
        raise SourceError(path, f"{name} (the sampling rate) is missing: {_RESAVE}")
    rate = _scalar(fields.values["srate"])
    if rate is None or not (math.isfinite(rate) and rate > 0):
        raise SourceError(
            path,
            f"{name} is {_shown(fields.values['srate'])}: it must be the sampling rate, one "
            f"positive number of Hz; the dataset is damaged; {_RESAVE}",
        )


def _count(path: str, fields: SetFields, field: str) -> int | None:
    """``nbchan``, ``pnts`` or ``trials`` as a whole number of at least 1; ``None`` for a
    ``trials`` the file does not give (EEGLAB's 1). ``nbchan`` and ``pnts`` must be given: MNE
    would take 1."""
    name = f"EEG.{field}"
    if field not in fields.values:
        if field == "trials":
            return None
        raise SourceError(path, f"{name} is missing: {_RESAVE}")
    value = _scalar(fields.values[field])
    if value is None or not (math.isfinite(value) and value >= 1 and value == int(value)):
        raise SourceError(
            path,
            f"{name} is {_shown(fields.values[field])}: it must be a whole number of at least 1; "
            f"the dataset is damaged; {_RESAVE}",
        )
    return int(value)


def _check_shape(path: str, fields: SetFields, counts: dict[str, int | None]) -> None:
    """Samples kept in the ``.set`` against ``nbchan`` x ``pnts`` (x ``trials``), and the
    entries of ``chanlocs`` against ``nbchan``."""
    p = "EEG."
    n_channels, n_times = counts["nbchan"], counts["pnts"]
    if fields.n_chanlocs and fields.n_chanlocs != n_channels:
        raise SourceError(
            path,
            f"{p}chanlocs lists {fields.n_chanlocs} channels but {p}nbchan is {n_channels}: "
            f"the samples' layout is unknown; {_RESAVE}",
        )
    shape = fields.data_shape
    if shape is None or (counts["trials"] or 1) > 1:
        return  # in a file of their own (checked by size), or epochs (refused by MNE's count)
    if len(shape) == 1 or (n_channels == 1 and 1 in shape):
        shape = (1, max(shape))
    if tuple(shape[:2]) != (n_channels, n_times) or any(n != 1 for n in shape[2:]):
        held = " x ".join(map(str, shape))
        raise SourceError(
            path,
            f"{p}data holds {held} values but {p}nbchan x {p}pnts is {n_channels} x {n_times}: "
            f"the dataset is damaged; {_RESAVE}",
        )


def _shown(value: Any) -> str:
    """A MATLAB value for a message: a number as it is, text quoted, an array by its shape."""
    if isinstance(value, str | bytes):
        return repr(value)
    arr = np.asarray(value)
    if arr.size == 1 and arr.dtype.kind in "biuf":
        return f"{float(arr.reshape(())):g}"
    if arr.size == 0:
        return "empty"
    return f"an array of shape {arr.shape}"
