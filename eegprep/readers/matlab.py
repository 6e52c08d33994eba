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

import difflib
import functools
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.errors import SourceError, UsageError
from eegprep.readers.base import (
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    frozen_options,
    unit_to_uv,
)

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
    "events",
)
_LAYOUTS = ("auto", "channels_first", "time_first")
_EVENT_KEYS = ("onsets", "labels", "durations", "index_base")
_NUMERIC = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
)
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_DATA_CACHE_SIZE = 2


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
    unit: str = "uV"
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
        Unit after ``scale``: ``'uV'`` (default), ``'mV'``, ``'V'``, ``'nV'``.
    events : dict, optional
        Marker variables as annotations: ``onsets`` (variable of sample indices, required),
        ``labels`` (variable, same length), ``durations`` (variable, samples), ``index_base``
        (index of the first sample in ``onsets``: 1 as MATLAB counts, the default, or 0).
        BCI IV-1: ``{onsets = 'mrk.pos', labels = 'mrk.y'}``.
    """

    name = "mat"
    extensions = (".mat",)

    @classmethod
    def parts(cls, path: str, **options: Any) -> list[str | None]:
        """``[None]`` when ``data`` names a variable, else the matching variables in order."""
        check_readable(path)
        opts = _parse_options(options)
        version = _version(path)
        names = _names(path, version)
        if opts.data in names or "." in opts.data:
            return [None]
        return list(_matching(path, names, opts.data))

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the variables the options name; see :meth:`Reader.read_header`."""
        check_readable(path)
        opts = _parse_options(options)
        version = _version(path)
        variable = _variable(path, version, opts.data, part)
        shape, dtype = _data_info(path, version, variable)
        labels = _labels(path, version, opts)
        channels_first = _channels_first(opts.layout, shape, labels, opts.rows)
        n_axis, n_times = shape if channels_first else shape[::-1]
        rows = _rows(path, opts.rows, n_axis, variable)
        labels = _check_labels(path, labels, rows)
        sfreq = _sfreq(path, version, opts)
        to_uv = opts.scale * (unit_to_uv(opts.unit) or 1.0)
        resolution = abs(to_uv) if np.issubdtype(dtype, np.integer) else 0.0
        signals = tuple(Signal(lb, sfreq, n_times, opts.unit, to_uv, resolution) for lb in labels)
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
            duration=n_times / sfreq,
            annotations=_events(path, version, dict(opts.events), sfreq),
            part=part,
            meta=meta,
            options=_freeze(resolved),
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
        if meta["mat_version"] == "7.3":
            block = _h5_block(path, variable, rows, start, stop, channels_first)
        else:
            arr = _v5_array(path, _stamp(path), variable)
            if arr.shape != tuple(int(n) for n in meta["shape"].split("x")):
                raise SourceError(path, "the file changed since its header was read")
            block = arr[rows, start:stop] if channels_first else arr[start:stop, rows].T
        factor = header.signals[picks[0]].to_uv
        if factor == 1.0:
            return np.asarray(block, dtype=np.float32)
        return (np.asarray(block, dtype=np.float64) * factor).astype(np.float32)


# -- options ----------------------------------------------------------------------------------


def _parse_options(options: Mapping[str, Any]) -> _Options:
    """Check the options once: names, types and combinations."""
    check_option_names(list(options), _OPTIONS, "mat reader")
    opts = dict(options)
    if not isinstance(opts.get("data"), str) or not opts["data"]:
        raise UsageError("The mat reader needs option `data`: the variable holding the samples.")
    if opts.get("layout", "auto") not in _LAYOUTS:
        allowed = ", ".join(repr(v) for v in _LAYOUTS)
        raise UsageError(f"Invalid value for `layout`: allowed {allowed}; got {opts['layout']!r}.")
    for a, b in (("sfreq", "sfreq_variable"), ("channels", "channels_variable")):
        if a in opts and b in opts:
            raise UsageError(f"Options `{a}` and `{b}` exclude each other: give one.")
    if "sfreq" not in opts and "sfreq_variable" not in opts:
        raise UsageError("The mat reader needs `sfreq` (Hz) or `sfreq_variable` (e.g. 'nfo.fs').")
    if "sfreq" in opts:
        opts["sfreq"] = _positive(opts["sfreq"], "sfreq")
    opts["scale"] = _positive(opts.get("scale", 1.0), "scale")
    if unit_to_uv(str(opts.get("unit", "uV"))) is None:
        raise UsageError(
            f"Invalid value for `unit`: allowed 'uV', 'mV', 'V', 'nV'; got {opts['unit']!r}."
        )
    if "channels" in opts:
        opts["channels"] = tuple(str(c) for c in opts["channels"])
    events = dict(opts.get("events") or {})
    check_option_names(list(events), _EVENT_KEYS, "mat reader's `events`")
    if events and "onsets" not in events:
        raise UsageError("Option `events` needs `onsets`: the variable of event sample indices.")
    if events.get("index_base", 1) not in (0, 1):
        raise UsageError(
            f"Invalid value for `events.index_base`: allowed 0, 1; got {events['index_base']!r}."
        )
    opts["events"] = tuple(sorted(events.items()))
    return _Options(**opts)


def _positive(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not (math.isfinite(out) and out > 0):
        raise UsageError(f"Invalid value for `{name}`: expected a positive number; got {value!r}.")
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
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _not_found(path: str, name: str, names: Sequence[str]) -> SourceError:
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none"
    return SourceError(path, f"variable {name!r} not found; variables in the file: {listed}.{hint}")


def _matching(path: str, names: Sequence[str], pattern: str) -> list[str]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise UsageError(
            f"Invalid value for `data`: {pattern!r} is neither a variable nor a regular "
            f"expression ({exc})."
        ) from None
    found = sorted((n for n in names if regex.fullmatch(n)), key=_natural_key)
    if not found:
        raise _not_found(path, pattern, names)
    return found


def _variable(path: str, version: str, data: str, part: str | None) -> str:
    """The variable of this recording: ``part`` when given, else ``data`` or its one match."""
    names = _names(path, version)
    if part is not None:
        if part not in names:
            raise _not_found(path, part, names)
        return part
    if data in names or "." in data:
        return data
    found = _matching(path, names, data)
    if len(found) > 1:
        raise UsageError(
            f"{path}: `data` {data!r} matches {len(found)} variables ({', '.join(found[:3])}, "
            "...): read each with part=<variable> (MatReader.parts lists them)."
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


def _rows(path: str, rows: Any, n_axis: int, variable: str) -> list[int]:
    if rows is None:
        return list(range(n_axis))
    if isinstance(rows, str):
        try:
            bounds = [int(v) if v.strip() else None for v in rows.split(":")]
            out = list(range(n_axis))[slice(*bounds)]
        except (TypeError, ValueError):
            raise UsageError(
                f"Invalid value for `rows`: expected 'start:stop'; got {rows!r}."
            ) from None
    else:
        out = [int(r) for r in rows]
    bad = [r for r in out if not 0 <= r < n_axis]
    if bad or not out:
        raise SourceError(
            path, f"rows {bad or rows!r} outside the {n_axis} channels of {variable!r} (0-based)"
        )
    return out


def _check_labels(path: str, labels: list[str] | None, rows: list[int]) -> list[str]:
    if labels is None:
        return [f"ch{r + 1}" for r in rows]
    if len(labels) != len(rows):
        raise SourceError(
            path,
            f"{len(labels)} channel labels for {len(rows)} channels: fix `channels` or `rows`, "
            "or set `layout`",
        )
    return labels


def _labels(path: str, version: str, opts: _Options) -> list[str] | None:
    if opts.channels is not None:
        return list(opts.channels)
    if opts.channels_variable is None:
        return None
    value = _small(path, version, opts.channels_variable)
    if isinstance(value, str):
        return [value]
    arr = np.asarray(value, dtype=object).ravel()
    if not all(isinstance(v, str) for v in arr):
        raise SourceError(
            path, f"variable {opts.channels_variable!r} holds no channel labels (expected strings)"
        )
    return [v.strip() for v in arr]


def _sfreq(path: str, version: str, opts: _Options) -> float:
    if opts.sfreq is not None:
        return opts.sfreq
    assert opts.sfreq_variable is not None
    value = np.asarray(_small(path, version, opts.sfreq_variable))
    if value.size != 1 or not np.issubdtype(value.dtype, np.number):
        raise SourceError(path, f"variable {opts.sfreq_variable!r} is no single sampling rate")
    sfreq = float(value.ravel()[0])
    check_sfreq(path, sfreq)
    return sfreq


def _events(path: str, version: str, spec: dict[str, Any], sfreq: float) -> tuple[Annotation, ...]:
    if not spec:
        return ()
    onsets = np.atleast_1d(np.asarray(_small(path, version, spec["onsets"]), dtype=float)).ravel()
    columns: dict[str, np.ndarray | None] = {"labels": None, "durations": None}
    for key in columns:
        if key in spec:
            arr = np.atleast_1d(np.asarray(_small(path, version, spec[key]), dtype=object)).ravel()
            if arr.size != onsets.size:
                raise SourceError(
                    path, f"{spec[key]!r} has {arr.size} values for {onsets.size} event onsets"
                )
            columns[key] = arr
    base = spec.get("index_base", 1)
    labels, durations = columns["labels"], columns["durations"]
    return tuple(
        Annotation(
            onset=(float(onsets[i]) - base) / sfreq,
            duration=0.0 if durations is None else float(durations[i]) / sfreq,
            description="event" if labels is None else _label_text(labels[i]),
        )
        for i in range(onsets.size)
    )


def _label_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    number = float(value)
    return f"{number:g}"


# -- the file: version, names, shapes, values -------------------------------------------------


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


def _version(path: str) -> str:
    """``'4'``, ``'5'`` or ``'7.3'``, from the file's first bytes."""
    with open(path, "rb") as f:
        head = f.read(520)
    if head[512:520] == _HDF5_SIGNATURE or head[:8] == _HDF5_SIGNATURE:
        return "7.3"
    if head.startswith(b"MATLAB"):
        if len(head) < 128:
            raise SourceError(
                path, f"truncated MAT file: {len(head)} bytes, the header alone is 128"
            )
        if head[126:128] not in (b"IM", b"MI"):
            raise SourceError(path, "damaged MAT header (no byte-order mark): re-download it")
        if head[124:126] in (b"\x00\x02", b"\x02\x00"):
            raise SourceError(path, "MAT v7.3 header but no HDF5 data after it: re-download it")
        return "5"
    from scipy.io.matlab import matfile_version

    try:
        major, _ = matfile_version(path)
    except Exception:
        major = -1
    if major != 0:
        raise SourceError(
            path, f"not a MATLAB file: expected a 'MATLAB 5.0 MAT-file' header, got {head[:20]!r}"
        )
    return "4"


def _names(path: str, version: str) -> list[str]:
    return [name for name, _, _ in _listing(path, version, _stamp(path))]


@functools.lru_cache(maxsize=16)
def _listing(path: str, version: str, stamp: tuple[int, int]) -> tuple[tuple[str, tuple, str], ...]:
    """(name, MATLAB shape, MATLAB class) of every top-level variable."""
    if version == "7.3":
        with _h5_open(path) as f:
            return tuple(
                (k, tuple(f[k].shape[::-1]) if hasattr(f[k], "shape") else (), _h5_class(f[k]))
                for k in f
                if not k.startswith("#")
            )
    from scipy.io import whosmat

    try:
        return tuple((n, tuple(s), c) for n, s, c in whosmat(path))
    except Exception as exc:
        raise SourceError(
            path, f"cannot read this MAT v{version} file ({_reason(exc)}): re-download it"
        ) from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no message'}"


def _data_info(path: str, version: str, variable: str) -> tuple[tuple[int, int], np.dtype]:
    """MATLAB shape and dtype of the data variable, checked to be a 2-D numeric array."""
    if version == "7.3":
        with _h5_open(path) as f:
            ds = _h5_get(path, f, variable)
            cls = _h5_class(ds) or "struct"
            shape = tuple(ds.shape[::-1]) if hasattr(ds, "shape") else ()
            dtype = getattr(ds, "dtype", np.dtype(object))
    else:
        listed = {name: c for name, _, c in _listing(path, version, _stamp(path))}
        cls = listed.get(variable, "double")  # a struct field: judged by its loaded dtype
        if cls in _NUMERIC:
            arr = _v5_array(path, _stamp(path), variable)
            shape, dtype = arr.shape, arr.dtype
            cls = cls if arr.dtype.kind in "biuf" else str(arr.dtype)
    if cls not in _NUMERIC:
        raise SourceError(
            path, f"variable {variable!r} is a MATLAB {cls}, not a numeric array: name its field"
        )
    if len(shape) != 2 or min(shape) == 0:
        raise SourceError(
            path, f"variable {variable!r} has shape {shape}; expected 2-D channels x samples"
        )
    return (int(shape[0]), int(shape[1])), np.dtype(dtype)


@functools.lru_cache(maxsize=_DATA_CACHE_SIZE)
def _v5_array(path: str, stamp: tuple[int, int], variable: str) -> np.ndarray:
    """A v4/v5 data variable as stored (MATLAB orientation); a struct field as ``'a.b'``."""
    if "." in variable:
        value = np.asarray(_small(path, "5", variable))
        return value[None, :] if value.ndim == 1 else value
    arr = _loadmat(path, variable, simplify=False)
    return arr if arr.ndim != 1 else arr[None, :]


def _loadmat(path: str, top: str, *, simplify: bool) -> Any:
    from scipy.io import loadmat

    try:
        content = loadmat(path, variable_names=[top], simplify_cells=simplify, mat_dtype=False)
    except Exception as exc:
        raise SourceError(
            path, f"cannot read this MAT file ({_reason(exc)}): it may be truncated, re-download it"
        ) from exc
    if top not in content:
        raise _not_found(path, top, _names(path, _version(path)))
    return content[top]


def _small(path: str, version: str, dotted: str) -> Any:
    """A small variable or struct field (``'nfo.fs'``) as numbers, a string or a list."""
    top, *fields = dotted.split(".")
    if version == "7.3":
        with _h5_open(path) as f:
            return _h5_value(f, _h5_get(path, f, dotted))
    value = _loadmat(path, top, simplify=True)
    for i, name in enumerate(fields):
        if not isinstance(value, dict) or name not in value:
            known = ", ".join(value) if isinstance(value, dict) else "none (not a struct)"
            where = ".".join([top, *fields[:i]])
            raise SourceError(path, f"variable {dotted!r} not found; fields of {where!r}: {known}")
        value = value[name]
    return value


# -- MAT v7.3 (HDF5) --------------------------------------------------------------------------


def _h5_open(path: str) -> Any:
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise SourceError(
            path,
            f"cannot open this MAT v7.3 (HDF5) file ({_reason(exc)}): truncated? re-download it",
        ) from exc


def _h5_class(obj: Any) -> str:
    cls = obj.attrs.get("MATLAB_class", b"")
    return cls.decode() if isinstance(cls, bytes) else str(cls)


def _h5_get(path: str, f: Any, dotted: str) -> Any:
    """The dataset or group at a dotted path (struct fields are HDF5 members)."""
    import h5py

    obj = f
    for i, name in enumerate(dotted.split(".")):
        if not isinstance(obj, h5py.Group) or name not in obj:
            if i == 0:
                raise _not_found(path, dotted, [k for k in f if not k.startswith("#")])
            known = ", ".join(obj) if isinstance(obj, h5py.Group) else "none (not a struct)"
            raise SourceError(
                path, f"variable {dotted!r} not found; fields of {obj.name[1:]!r}: {known}"
            )
        obj = obj[name]
    return obj


def _h5_value(f: Any, obj: Any) -> Any:
    """A v7.3 variable as Python values: arrays transposed back, cells as lists, chars as str."""
    import h5py

    if isinstance(obj, h5py.Group):
        return {k: _h5_value(f, obj[k]) for k in obj if not k.startswith("#")}
    if obj.attrs.get("MATLAB_empty", 0):
        return np.array([])
    arr = obj[()]
    if h5py.check_ref_dtype(obj.dtype) is not None:
        return [_h5_value(f, f[ref]) for ref in np.asarray(arr).T.ravel()]
    arr = np.asarray(arr).T
    if _h5_class(obj) == "char":
        rows = ["".join(map(chr, row)).rstrip("\x00 ") for row in np.atleast_2d(arr)]
        return rows[0] if len(rows) == 1 else rows
    return np.squeeze(arr)


def _h5_block(
    path: str, variable: str, rows: np.ndarray, start: int, stop: int, channels_first: bool
) -> np.ndarray:
    """Raw values (rows, stop - start) sliced from HDF5 (stored transposed: time x channels)."""
    lo, hi = int(rows.min()), int(rows.max()) + 1
    with _h5_open(path) as f:
        ds = _h5_get(path, f, variable)
        try:
            # MATLAB (C, T) is HDF5 (T, C) and the other way round
            block = ds[start:stop, lo:hi].T if channels_first else ds[lo:hi, start:stop]
        except (OSError, ValueError) as exc:
            raise SourceError(
                path, f"cannot read samples of {variable!r} ({_reason(exc)})"
            ) from exc
    return block[rows - lo]


def clear_cache() -> None:
    """Forget this process's cached listings and data variables."""
    _listing.cache_clear()
    _v5_array.cache_clear()
