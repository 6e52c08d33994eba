"""MATLAB files: v4/v5/v7 through scipy, v7.3 (HDF5 inside) through h5py.

The version is read from the file, never from its name: a v7.3 file is an HDF5 file behind a
512-byte user block that starts with MATLAB's 128-byte text header. One variable holds the
samples, as a 2-D numeric array (channels x time or time x channels); the manifest names it
(``data``) and says where the rate, the channel labels and the events are.

A ``data`` value that is no variable of the file is a regular expression: each variable it
matches is one recording (SEED's ``djc_eeg1`` .. ``djc_eeg15``), listed by :meth:`MatReader.parts`
in natural order and read with ``part=<variable>``.

Concurrency contract: headers are pure data. MAT v5 cannot be read in part, so each process
loads a data variable once and keeps the last few in a small LRU (keyed by path, variable and
the file's size and mtime); v7.3 segments are sliced straight from the HDF5 dataset, opening the
file for each read. Nothing is written; any number of processes may read one file at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError, UsageError
from eegprep.base.files import file_version
from eegprep.base.limits import check_allocation
from eegprep.base.path_limits import shown_path
from eegprep.base.validation import check_choice, invalid_value, other_digits
from eegprep.base.wording import counted
from eegprep.readers.base import (
    DEFAULT_UNIT,
    NAN_FILLED,
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    code_label,
    empty_channels_note,
    frozen_options,
    unit_or_default,
    unit_to_uv,
)
from eegprep.readers.event_count import check_event_count
from eegprep.readers.mat73 import h5_block
from eegprep.readers.mat_values import mat_number, mat_numbers, one_hot_classes
from eegprep.readers.matlab_files import (
    data_info,
    mat_version,
    not_found,
    number_variable,
    small_variable,
    v5_array,
    variable_class,
    variable_names,
)
from eegprep.readers.mne_empty import unfilled_rows

_OPTIONS = (
    "data",
    "layout",
    "sfreq",
    "sfreq_variable",
    "channels",
    "channels_variable",
    "rows",
    "scale",
    "unit",
    "default_unit",
    "events",
)
_LAYOUTS = ("auto", "channels_first", "time_first")
_EVENT_KEYS = ("onsets", "labels", "durations", "index_base")


@dataclass(frozen=True)
class _Options:
    data: str
    layout: str = "auto"
    sfreq: float | None = None
    sfreq_variable: str | None = None
    channels: tuple[str, ...] | None = None
    channels_variable: str | None = None
    rows: Any = None
    scale: float = 1.0
    unit: str = ""
    default_unit: str = DEFAULT_UNIT
    events: tuple[tuple[str, Any], ...] = ()


class MatReader(Reader):
    """Reader for MATLAB ``.mat`` files (v4, v5/v7 and v7.3).

    Options
    -------
    data : str
        The variable holding the samples (``'dataRest'``, ``'cnt'``, a struct field as
        ``'eeg.data'``), or a regular expression matching several (``r'\\w+_eeg\\d+'``): each
        match is one recording (see :meth:`parts`). Required.
    layout : {'auto', 'channels_first', 'time_first'}
        Axis order of the data variable as MATLAB shows it. ``'auto'`` (default) takes the
        axis whose length equals the number of channel labels, else the shorter axis.
    sfreq : float, or sfreq_variable : str
        Sampling rate in Hz, or the variable holding it (``'nfo.fs'``). One is required.
    channels : list of str, or channels_variable : str
        Channel labels in the order of the (selected) rows, or the variable holding them as a
        cell array of strings or a char matrix (``'nfo.clab'``). Default ``'ch1'``, ``'ch2'``...
    rows : list of int or str, optional
        Which indices along the channel axis are signals, 0-based (MATLAB row 1 is 0): a list,
        or a Python slice as text (``'0:64'`` = SPIS rows 1-64). Default: all.
    scale : float
        Factor from stored values to ``unit`` (``0.1`` for BCI IV-1's int16 ``cnt``). Default 1.
    unit : str
        Unit after ``scale``: ``'uV'``, ``'mV'``, ``'V'``, ``'nV'``. Default: ``default_unit``
        (a MATLAB file states no unit).
    default_unit : str
        The manifest's ``unit``, which the ingest passes to every reader (default ``'uV'``).
    events : dict, optional
        Marker variables as annotations: ``onsets`` (variable of sample indices, required),
        ``labels`` (variable, same length), ``durations`` (variable, samples), ``index_base``
        (index of the first sample in ``onsets``: 1 as MATLAB counts, the default, or 0).
        BCI IV-1: ``{onsets = 'mrk.pos', labels = 'mrk.y'}``.
    """

    name = "mat"

    @classmethod
    def parts(cls, path: str, **options: Any) -> list[str | None]:
        """``[None]`` when ``data`` names a variable, else the matching variables in order."""
        check_readable(path)
        opts = _parse_options(options)
        version = mat_version(path)
        names = variable_names(path, version)
        if opts.data in names or "." in opts.data:
            return [None]
        return list(_matching(path, names, opts.data))

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the variables the options name; see :meth:`Reader.read_header`."""
        check_readable(path)
        opts = _parse_options(options)
        version = mat_version(path)
        variable = _variable(path, version, opts.data, part)
        shape, dtype = data_info(path, version, variable)
        labels = _labels(path, version, opts)
        channels_first = _channels_first(opts.layout, shape, labels, opts.rows)
        n_axis, n_samples = shape if channels_first else shape[::-1]
        notes: tuple[str, ...] = ()
        if opts.layout != "auto" and n_axis > n_samples:  # stored the other way round
            channels_first, (n_samples, n_axis) = not channels_first, (n_axis, n_samples)
            notes = (_turned(variable, shape, opts.layout, n_axis, n_samples),)
        rows = _rows(path, opts.rows, n_axis, variable)
        labels = _check_labels(path, labels, rows)
        unfilled = _nan_rows(path, version, variable, shape, dtype, rows, channels_first)
        if unfilled:  # channels NaN at every sample: no samples, left out
            notes = (*notes, empty_channels_note([labels[i] for i in unfilled], NAN_FILLED))
            rows = [r for i, r in enumerate(rows) if i not in unfilled]
            empty, labels = (
                [labels[i] for i in unfilled],
                [lb for i, lb in enumerate(labels) if i not in unfilled],
            )
        else:
            empty = []
        sfreq = _sfreq(path, version, opts)
        to_uv = opts.scale * unit_or_default(opts.unit, opts.default_unit)
        resolution = abs(to_uv) if np.issubdtype(dtype, np.integer) else 0.0
        signals = tuple(Signal(lb, sfreq, n_samples, opts.unit, to_uv, resolution) for lb in labels)
        resolved = dict(options, layout="channels_first" if channels_first else "time_first")
        resolved["rows"] = tuple(rows)
        meta = (
            ("mat_version", version),
            ("variable", variable),
            ("dtype", str(dtype)),
            ("shape", "x".join(str(n) for n in shape)),
        )
        return Header(
            path=path,
            reader=cls.name,
            signals=signals,
            duration=n_samples / sfreq,
            annotations=_events(path, version, dict(opts.events), sfreq),
            part=part,
            meta=meta,
            options=_freeze(resolved),
            warnings=notes,
            empty_channels=tuple(empty),
        )

    @classmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``picks`` in microvolts, float32, shape (n_picks, n)."""
        check_segment(header, picks, start, stop)
        check_readable(header.path)
        meta = header.meta_dict()
        rows = np.asarray(header.option("rows"), dtype=np.intp)[list(picks)]
        channels_first = header.option("layout") == "channels_first"
        path, variable = header.path, meta["variable"]
        check_allocation(path, len(picks) * (stop - start) * 12, "reading samples")  # f64 + f32
        shape = tuple(int(n) for n in meta["shape"].split("x"))
        version = meta["mat_version"]
        block = _stored(path, version, variable, shape, rows, start, stop, channels_first)
        factor = header.signals[picks[0]].to_uv
        if factor == 1.0:
            return np.asarray(block, dtype=np.float32)
        return (np.asarray(block, dtype=np.float64) * factor).astype(np.float32)


def _stored(
    path: str,
    version: str,
    variable: str,
    shape: tuple[int, ...],
    rows: np.ndarray,
    start: int,
    stop: int,
    channels_first: bool,
) -> np.ndarray:
    """The stored values of ``rows`` (channels), samples ``[start, stop)``, shape
    (len(rows), stop - start), of the data variable of ``shape`` as the header found it."""
    if version == "7.3":
        return h5_block(path, variable, rows, start, stop, channels_first)
    arr = v5_array(path, file_version(path), variable)
    if arr.shape != shape:
        raise SourceError(path, "the file changed since its header was read")
    return arr[rows, start:stop] if channels_first else arr[start:stop, rows].T


def _nan_rows(
    path: str,
    version: str,
    variable: str,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    rows: Sequence[int],
    channels_first: bool,
) -> list[int]:
    """Positions in ``rows`` of the channels NaN at every sample: how a rectangular array says
    a channel holds no samples (a FieldTrip or EEGLAB export's fill for a channel missing),
    which the ingest refused whole as "non-finite samples" after reading every block. Read by
    the rule of every reader of floats (:func:`~eegprep.readers.mne_empty.unfilled_rows`: the
    first samples, then a channel NaN on all of them on to a number). Integer data hold no NaN.

    Raises :class:`SourceError` when no channel holds samples."""
    n_times = shape[1] if channels_first else shape[0]
    if np.issubdtype(dtype, np.integer) or not rows or n_times == 0:
        return []
    ids = np.asarray(rows, dtype=np.intp)

    def read(positions: list[int], start: int, stop: int) -> np.ndarray:
        return _stored(path, version, variable, shape, ids[positions], start, stop, channels_first)

    found = unfilled_rows(read, range(len(rows)), n_times)
    if found and len(found) == len(rows):
        raise SourceError(
            path,
            f"no channel holds samples: every sample of every channel of {variable!r} is NaN",
        )
    return found


# -- options ----------------------------------------------------------------------------------


def _parse_options(options: Mapping[str, Any]) -> _Options:
    """Check the options once: names, types and combinations."""
    check_option_names(list(options), _OPTIONS, "mat reader")
    opts = dict(options)
    if not isinstance(opts.get("data"), str) or not opts["data"]:
        raise UsageError("The mat reader needs option `data`: the variable holding the samples.")
    check_choice("layout", opts.get("layout", "auto"), _LAYOUTS)
    for a, b in (("sfreq", "sfreq_variable"), ("channels", "channels_variable")):
        if a in opts and b in opts:
            raise UsageError(f"Options `{a}` and `{b}` exclude each other: give one.")
    if "sfreq" not in opts and "sfreq_variable" not in opts:
        raise UsageError("The mat reader needs `sfreq` (Hz) or `sfreq_variable` (e.g. 'nfo.fs').")
    if "sfreq" in opts:
        opts["sfreq"] = _positive(opts["sfreq"], "sfreq")
    opts["scale"] = _positive(opts.get("scale", 1.0), "scale")
    for name in ("unit", "default_unit"):
        if name in opts and unit_to_uv(str(opts[name])) is None:
            raise invalid_value(name, opts[name], ("uV", "mV", "V", "nV"))
    if "channels" in opts:
        opts["channels"] = tuple(str(c) for c in opts["channels"])
    events = dict(opts.get("events") or {})
    check_option_names(list(events), _EVENT_KEYS, "mat reader's `events`")
    if events and "onsets" not in events:
        raise UsageError("Option `events` needs `onsets`: the variable of event sample indices.")
    check_choice("events.index_base", events.get("index_base", 1), (0, 1))
    opts["events"] = tuple(sorted(events.items()))
    return _Options(**opts)


def _positive(value: Any, name: str) -> float:
    try:  # (a manifest's ``"２５０"``: float() read other scripts' digits)
        out = math.nan if other_digits(str(value)) else float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not (math.isfinite(out) and out > 0):
        raise invalid_value(name, value, expected="a positive number")
    return out


def _freeze(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Options as nested tuples: picklable, hashable, and accepted again by read_header."""
    out = dict(options)
    if "events" in out:
        out["events"] = dict(out["events"])
        out["events"] = tuple(sorted(out["events"].items()))
    return frozen_options(out)


# -- which variable, its shape, its rows ------------------------------------------------------


def _natural_key(name: str) -> list[Any]:
    """``name``'s text and numbers (ASCII digits: ``eeg٣`` is text, not ``eeg3``) in turn."""
    return [int(t) if k % 2 else t for k, t in enumerate(re.split(r"([0-9]+)", name))]


def _matching(path: str, names: Sequence[str], pattern: str) -> list[str]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise invalid_value(
            "data", pattern, expected=f"a variable or a regular expression ({exc})"
        ) from None
    found = sorted((n for n in names if regex.fullmatch(n)), key=_natural_key)
    if not found:
        raise not_found(path, pattern, names)
    return found


def _variable(path: str, version: str, data: str, part: str | None) -> str:
    """The variable of this recording: ``part`` when given, else ``data`` or its one match."""
    names = variable_names(path, version)
    if part is not None:
        if part not in names:
            raise not_found(path, part, names)
        return part
    if data in names or "." in data:
        return data
    found = _matching(path, names, data)
    if len(found) > 1:
        raise UsageError(
            f"{shown_path(path)}: `data` {data!r} matches {counted(len(found), 'variable')} "
            f"({', '.join(found[:3])}, ...): read each with part=<variable> (MatReader.parts lists "
            "them)."
        )
    return found[0]


def _channels_first(
    layout: str, shape: tuple[int, int], labels: list[str] | None, rows: Any
) -> bool:
    if layout != "auto":
        return layout == "channels_first"
    if labels and rows is None and (shape[0] == len(labels)) != (shape[1] == len(labels)):
        return shape[0] == len(labels)
    return shape[0] <= shape[1]


def _turned(variable: str, shape: tuple[int, int], layout: str, n_axis: int, n_samples: int) -> str:
    """The report's note for a data variable read the other way round from ``layout``: no
    recording has more channels than samples, so the longer axis is time (another loader
    saved the transpose)."""
    return (
        f"variable {variable!r} is {shape[0]} x {shape[1]}: read as {counted(n_axis, 'channel')} x "
        f"{counted(n_samples, 'sample')}, the longer axis as time (layout = {layout!r} would give "
        f"{counted(n_samples, 'channel')} of {counted(n_axis, 'sample')})"
    )


def _rows(path: str, rows: Any, n_axis: int, variable: str) -> list[int]:
    if rows is None:
        return list(range(n_axis))
    if isinstance(rows, str):
        try:
            bounds = [int(v) if v.strip() else None for v in rows.split(":")]
            out = list(range(n_axis))[slice(*bounds)]
        except (TypeError, ValueError):
            raise invalid_value("rows", rows, expected="'start:stop'") from None
    else:
        out = [int(r) for r in rows]
    bad = [r for r in out if not 0 <= r < n_axis]
    if bad or not out:
        raise SourceError(
            path,
            f"rows {bad or rows!r} outside the {counted(n_axis, 'channel')} of {variable!r} "
            "(0-based)",
        )
    return out


def _check_labels(path: str, labels: list[str] | None, rows: list[int]) -> list[str]:
    if labels is None:
        return [f"ch{r + 1}" for r in rows]
    if len(labels) != len(rows):
        raise SourceError(
            path,
            f"{len(labels)} channel labels for {counted(len(rows), 'channel')}: fix `channels` or "
            "`rows`, or set `layout`",
        )
    return labels


def _labels(path: str, version: str, opts: _Options) -> list[str] | None:
    if opts.channels is not None:
        return list(opts.channels)
    if opts.channels_variable is None:
        return None
    value = small_variable(path, version, opts.channels_variable)
    if isinstance(value, str):
        return [value]
    # MATLAB's (column-major) order; a v7.3 cell is a list in that order already, whose
    # cells numpy may not fit in one array (2 x 2 and 2 x 3: a ValueError)
    arr = value if isinstance(value, list) else np.asarray(value, dtype=object).ravel("F")
    arr = [_empty_as_text(v) for v in arr]  # ('' is saved as an empty array: no site, dropped)
    if not all(isinstance(v, str) for v in arr):
        raise SourceError(
            path, f"variable {opts.channels_variable!r} holds no channel labels (expected strings)"
        )
    return [v.strip() for v in arr]


def _empty_as_text(value: Any) -> Any:
    """A cell's empty array (MATLAB's ``''``, as scipy and h5py read it) as ``""``; any other
    value as it is."""
    return "" if isinstance(value, np.ndarray) and value.size == 0 else value


def _sfreq(path: str, version: str, opts: _Options) -> float:
    if opts.sfreq is not None:
        return opts.sfreq
    assert opts.sfreq_variable is not None
    name = opts.sfreq_variable
    value = small_variable(path, version, name)
    cls = variable_class(path, version, name)
    what = "one sampling rate in Hz, above 0"
    sfreq = mat_number(path, name, value, what=what, cls=cls, low=0.0, above=True)
    check_sfreq(path, sfreq)
    return sfreq


def _events(path: str, version: str, spec: dict[str, Any], sfreq: float) -> tuple[Annotation, ...]:
    if not spec:
        return ()
    what = "event positions: sample indices, finite numbers"
    # MATLAB's linear (column-major) order, as MATLAB pairs onsets(k) with labels(k)
    onsets = number_variable(path, version, spec["onsets"], what=what, empty=True).ravel("F")
    check_event_count(  # before the labels' objects and one event each are built
        path,
        onsets.size,
        f"its event onset variable {spec['onsets']!r}",
        "check the reader's `events` option names the onsets, or split the recording",
    )
    durations: np.ndarray | None = None
    labels: np.ndarray | None = None
    if "durations" in spec:
        what = "event durations: numbers of samples, 0 or more"
        found = number_variable(path, version, spec["durations"], what=what, low=0.0, empty=True)
        found = found.ravel("F")
        durations = _same_count(path, spec["durations"], found, spec["onsets"], onsets.size)
    if "labels" in spec:
        labels = _event_labels(path, version, spec["labels"], onsets.size)
        labels = _same_count(path, spec["labels"], labels, spec["onsets"], onsets.size)
    base = spec.get("index_base", 1)
    return tuple(
        Annotation(
            onset=(float(onsets[i]) - base) / sfreq,
            duration=0.0 if durations is None else float(durations[i]) / sfreq,
            description="event" if labels is None or labels[i] is None else _label_text(labels[i]),
        )
        for i in range(onsets.size)
    )


def _same_count(path: str, name: str, values: np.ndarray, onsets: str, n: int) -> np.ndarray:
    """``values`` of the variable ``name``, one per event onset (``n`` in ``onsets``)."""
    if values.size != n:
        raise SourceError(
            path, f"{name!r} has {counted(values.size, 'value')} for {n} event onsets in {onsets!r}"
        )
    return values


def _event_labels(path: str, version: str, name: str, n: int) -> np.ndarray:
    """An event label variable as an object array of str and float: text (a cell array of
    strings) as it is, numbers (class codes) checked as :func:`mat_numbers` checks them; a
    one-hot classes x events matrix (:func:`one_hot_classes`) as each event's class number
    (1 the first row), ``None`` for an event of no class (named ``event``, as when no labels
    are given)."""
    value = small_variable(path, version, name)
    rows = one_hot_classes(path, name, value, n, variable_class(path, version, name))
    if rows is not None:
        return np.array([None if k is None else float(k + 1) for k in rows], dtype=object)
    if isinstance(value, str):
        return np.array([value], dtype=object)
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":  # a v5 cell (scipy)
        value = list(value.ravel("F"))
    if isinstance(value, list | tuple):  # a cell array: each cell text or one number
        out = [v if isinstance(v, str) else _label_number(path, name, v) for v in value]
        return np.array(out, dtype=object)
    what = "event labels: text, or finite numbers"
    cls = variable_class(path, version, name)
    numbers = mat_numbers(path, name, value, what=what, cls=cls, empty=True)
    return np.array(list(numbers.ravel("F")), dtype=object)


def _label_number(path: str, name: str, value: Any) -> float:
    return mat_number(path, name, value, what="event labels: text, or finite numbers")


def _label_text(value: Any) -> str:
    return value if isinstance(value, str) else code_label(value)


# -- the file: version, names, shapes, values -------------------------------------------------
