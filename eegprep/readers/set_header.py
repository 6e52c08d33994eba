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
versions as fields of one ``EEG`` struct; both are read. Of the struct only the fields
checked are read (:func:`~eegprep.readers.mat_fields.struct_fields`,
:func:`~eegprep.readers.mat73.h5_struct_fields`: the samples' class and shape, never
the samples), so a struct of any size is checked in a few MiB of memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted
from eegprep.readers.event_count import check_event_count
from eegprep.readers.mat73 import h5_struct_fields
from eegprep.readers.mat_exact import first_inexact
from eegprep.readers.mat_fields import MatField, struct_fields, variable_field
from eegprep.readers.mat_values import describe, number_or_none
from eegprep.readers.matlab_files import mat_version, small_variable, variable_listing

_COUNTS = ("nbchan", "pnts", "trials")
_FIELDS = ("srate", *_COUNTS)
_STRUCT_FIELDS = frozenset((*_FIELDS, "data", "chanlocs", "event"))
_RESAVE = "save the dataset again in EEGLAB"
_FEWER_EVENTS = "split the recording into shorter datasets"
_MAX_COUNT = 2**53  # the largest whole number a MATLAB double holds exactly (MNE overflowed past
# a C long: 1e308 samples)


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
    data_name : str or None
        The name ``EEG.data`` gives when it is text (the samples' ``.fdt``), else ``None``.
    chanlocs : MatField or None
        ``chanlocs``'s class and field names, where known.
    classes : dict of str to str
        MATLAB class of each of ``values`` where known (``'logical'``: scipy loads it as uint8).
    n_events : int
        Entries of ``EEG.event`` (0 when absent or empty), counted from its shape before MNE
        builds one annotation each.
    """

    values: dict[str, Any]
    data_shape: tuple[int, ...] | None
    n_chanlocs: int
    data_name: str | None = None
    chanlocs: MatField | None = None
    classes: dict[str, str] = field(default_factory=dict)
    n_events: int = 0


_UNREAD: Any = object()
"""``check_set``'s ``inexact`` when no walk has looked for 64-bit integers yet."""


def check_set(path: str, *, inexact: tuple[str, int] | None = _UNREAD) -> None:
    """Refuse a ``.set`` whose rate, counts or samples' shape MNE would fail on or misread,
    and one whose samples are epochs (``EEG.trials`` above 1: MNE's raw reader refuses those
    only once it has the samples, so a MAT 7.3 file was sent for pymatreader first).

    ``inexact``: the file's first 64-bit integer beyond 2^53 as the structure check's walk of
    a MAT v5 file found it (``check_mat_budget(path, exact=True)``), or None for none; not
    given, the file is walked for them here."""
    fields = read_set_fields(path)
    if fields is None:
        return
    _check_srate(path, fields)
    counts = {name: _count(path, fields, name) for name in _COUNTS}
    if (counts["trials"] or 1) > 1:
        raise SourceError(path, epoched(counts["trials"]))
    _check_chanlocs(path, fields)
    _check_shape(path, fields, counts)
    check_event_count(path, fields.n_events, "its EEG.event", _FEWER_EVENTS)
    version = mat_version(path)
    walked = inexact is not _UNREAD and version == "5"
    _check_exact(path, inexact if walked else first_inexact(path, version))


def _check_exact(path: str, found: tuple[str, int] | None) -> None:
    """Refuse a 64-bit integer anywhere in the file beyond 2^53 (an event's latency, say;
    ``found``: the first, by its MATLAB name): MNE reads every field it uses through float64,
    which would round it without a word."""
    if found is not None:
        where, value = found
        where = "EEG." + where.removeprefix("EEG.") if where != "EEG" else where
        raise SourceError(
            path,
            f"{where} is {value}, beyond 2^53: MNE reads it as a float64, which cannot hold it "
            f"exactly (it would be rounded); the dataset is damaged; {_RESAVE}",
        )


def epoched(trials: object) -> str:
    """The line for a ``.set`` whose samples are epochs (``EEG.trials`` above 1)."""
    return (
        f"an epoched EEGLAB dataset ({trials} trials), not a continuous recording: "
        "eegprep ingests continuous data; save the dataset before epoching in EEGLAB"
    )


def read_set_fields(path: str) -> SetFields | None:
    """The fields of a ``.set`` (see :class:`SetFields`); ``None`` for a file whose ``EEG``
    is no 1x1 struct or cannot be walked, or that is no MATLAB file (MNE names what is
    wrong)."""
    version = mat_version(path)
    listing = {name: (shape, cls) for name, shape, cls in variable_listing(path, version)}
    if "EEG" in listing and "srate" not in listing:
        if version == "7.3":
            fields = h5_struct_fields(path, "EEG", _STRUCT_FIELDS)
        else:
            fields = struct_fields(path, "EEG", _STRUCT_FIELDS)
        return None if fields is None else _struct_fields(fields)
    values = {name: small_variable(path, version, name) for name in _FIELDS if name in listing}
    shape, cls = listing.get("data", ((), "char"))
    data_shape = tuple(int(n) for n in shape) if cls != "char" else None
    data_name = None
    if "data" in listing and cls == "char":
        name = small_variable(path, version, "data")
        data_name = name if isinstance(name, str) else ""
    chanlocs = None
    if "chanlocs" in listing:
        if version == "7.3":
            chanlocs = (h5_struct_fields(path, "/", frozenset({"chanlocs"})) or {}).get("chanlocs")
        elif version == "5":
            chanlocs = variable_field(path, "chanlocs")
    # a struct array's entries from its own fields: MAT 7.3 lists a struct (an HDF5 group) with
    # no shape, which counted as 1 channel and refused every 7.3 dataset of 2 or more
    n_chanlocs = 0
    if chanlocs is not None:
        n_chanlocs = chanlocs.n_entries
    elif "chanlocs" in listing:
        n_chanlocs = math.prod(listing["chanlocs"][0])
    classes = {name: listing[name][1] for name in values}
    n_events = _n_entries(path, version, listing, "event")
    return SetFields(values, data_shape, n_chanlocs, data_name, chanlocs, classes, n_events)


def check_set_events(path: str) -> None:
    """Refuse a ``.set`` whose ``EEG.event`` holds more than
    :data:`~eegprep.readers.event_count.MAX_EVENTS` entries, counted from the struct array's
    dimensions alone (MAT v5: its array head; v7.3: its datasets' shapes), before anything
    walks or decodes its entries: the check that scipy's parser will not crash on the file
    (:func:`~eegprep.readers.mat_v5_structure.check_v5_structure`) steps through every element
    in Python, 6 million for 1.5 million events (~5 s; ~50 s before plain fields were checked
    in one pass each), and MNE then builds them all.

    A file whose variables cannot be listed is left to the checks that name what is wrong."""
    try:
        version = mat_version(path)
        listing = {name: (shape, cls) for name, shape, cls in variable_listing(path, version)}
    except SourceError:
        return
    if "EEG" in listing and "srate" not in listing:
        if version == "7.3":
            event = (h5_struct_fields(path, "EEG", frozenset({"event"})) or {}).get("event")
        else:
            event = (struct_fields(path, "EEG", frozenset({"event"})) or {}).get("event")
        n_events = 0 if event is None else event.n_entries
    else:
        n_events = _n_entries(path, version, listing, "event")
    check_event_count(path, n_events, "its EEG.event", _FEWER_EVENTS)


def _n_entries(path: str, version: str, listing: dict[str, tuple[Any, str]], name: str) -> int:
    """Entries of the top-level struct array ``name`` (0 when absent): from its own fields,
    as MAT 7.3 lists a struct (an HDF5 group) with no shape."""
    if name not in listing:
        return 0
    found = None
    if version == "7.3":
        found = (h5_struct_fields(path, "/", frozenset({name})) or {}).get(name)
    elif version == "5":
        found = variable_field(path, name)
    return found.n_entries if found is not None else math.prod(listing[name][0])


def _struct_fields(fields: dict[str, MatField]) -> SetFields:
    """:class:`SetFields` of an ``EEG`` struct's fields: a value not read (too large, or no
    number or text) stays a :class:`MatField`, which no check takes for a number."""
    values = {
        name: found if found.value is None else found.value
        for name, found in fields.items()
        if name in _FIELDS
    }
    classes = {name: found.cls for name, found in fields.items() if name in _FIELDS}
    data = fields.get("data")
    data_shape = None if data is None or data.cls == "char" else data.shape
    data_name = None if data is None or data.cls != "char" else str(data.value or "")
    chanlocs = fields.get("chanlocs")
    n_chanlocs = 0 if chanlocs is None else chanlocs.n_entries
    event = fields.get("event")
    n_events = 0 if event is None else event.n_entries
    return SetFields(values, data_shape or None, n_chanlocs, data_name, chanlocs, classes, n_events)


def _scalar(fields: SetFields, name: str) -> float | None:
    """A field as one real number; ``None`` for text, an empty array, several values, a logical
    or complex value (one whose imaginary part is all zeros is its real part), or a value not
    read (:class:`MatField`)."""
    return number_or_none(fields.values[name], fields.classes.get(name, ""))


def _check_srate(path: str, fields: SetFields) -> None:
    """``srate``: present, one finite number above 0 (Hz)."""
    name = "EEG.srate"
    if "srate" not in fields.values:
        raise SourceError(path, f"{name} (the sampling rate) is missing: {_RESAVE}")
    rate = _scalar(fields, "srate")
    if rate is None or not (math.isfinite(rate) and rate > 0):
        raise SourceError(
            path,
            f"{name} is {_shown(fields, 'srate')}: it must be the sampling rate, one "
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
    value = _scalar(fields, field)
    if value is None or not (
        math.isfinite(value) and 1 <= value <= _MAX_COUNT and value == int(value)
    ):
        raise SourceError(
            path,
            f"{name} is {_shown(fields, field)}: it must be a whole number of at least 1 "
            f"(and at most 2^53); the dataset is damaged; {_RESAVE}",
        )
    return int(value)


def _check_chanlocs(path: str, fields: SetFields) -> None:
    """``chanlocs``, when it lists channels: a struct array with a ``labels`` field (MNE names
    the channels from it: ``KeyError: 'labels'``, or ``TypeError`` for text)."""
    chanlocs = fields.chanlocs
    if chanlocs is None or not math.prod(chanlocs.shape):
        return
    if chanlocs.cls != "struct":
        raise SourceError(
            path,
            f"EEG.chanlocs is a MATLAB {chanlocs.cls}, not a struct array of channel "
            f"locations: the dataset is damaged; {_RESAVE}",
        )
    if "labels" not in chanlocs.fields:
        listed = ", ".join(repr(f) for f in chanlocs.fields[:8]) or "none"
        raise SourceError(
            path,
            f"EEG.chanlocs has no field 'labels' (the channel names; its fields: {listed}): "
            f"the dataset is damaged; {_RESAVE}",
        )


def _check_shape(path: str, fields: SetFields, counts: dict[str, int | None]) -> None:
    """Samples kept in the ``.set`` against ``nbchan`` x ``pnts`` (x ``trials``), and the
    entries of ``chanlocs`` against ``nbchan``."""
    p = "EEG."
    n_channels, n_times = counts["nbchan"], counts["pnts"]
    if fields.n_chanlocs and fields.n_chanlocs != n_channels:
        raise SourceError(
            path,
            f"{p}chanlocs lists {counted(fields.n_chanlocs, 'channel')} but {p}nbchan is "
            f"{n_channels}: the samples' layout is unknown; {_RESAVE}",
        )
    if fields.data_name is not None and not fields.data_name.strip():
        raise SourceError(
            path,
            f"{p}data is empty text: it must hold the samples, or name the .fdt file that "
            f"holds them; the dataset is damaged; {_RESAVE}",
        )
    shape = fields.data_shape
    if shape is None:
        return  # in a file of their own (checked by size)
    if len(shape) == 1 or (n_channels == 1 and 1 in shape):
        shape = (1, max(shape))
    if tuple(shape[:2]) != (n_channels, n_times) or any(n != 1 for n in shape[2:]):
        held = " x ".join(map(str, shape))
        raise SourceError(
            path,
            f"{p}data holds {held} values but {p}nbchan x {p}pnts is {n_channels} x "
            f"{n_times}: the dataset is damaged; {_RESAVE}",
        )


def _shown(fields: SetFields, name: str) -> str:
    """A field's value for a message: a number as it is, text quoted, a logical or complex
    value named, an array by its shape."""
    value = fields.values[name]
    if isinstance(value, str | bytes):
        return repr(value)
    return describe(value, fields.classes.get(name, ""))
