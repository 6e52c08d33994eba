"""MATLAB files at the byte level: version sniffing, variable listings, small variables and
data blocks, for MAT v4/v5 (scipy.io) and v7.3 (HDF5 through h5py).

:mod:`eegprep.readers.matlab` turns these into the reader contract; this module knows nothing of
channels, rates or manifests.

Concurrency contract: read-only; v5 data variables are cached per process (a small LRU keyed by
path, variable and the file's size and mtime), v7.3 files are opened for each read.
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from eegprep.errors import SourceError
from eegprep.readers.base import exception_summary

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NUMERIC = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
)
_DATA_CACHE_SIZE = 2


def not_found(path: str, name: str, names: Sequence[str]) -> SourceError:
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none"
    return SourceError(path, f"variable {name!r} not found; variables in the file: {listed}.{hint}")


def file_stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


def mat_version(path: str) -> str:
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


def variable_names(path: str, version: str) -> list[str]:
    return [name for name, _, _ in _listing(path, version, file_stamp(path))]


@functools.lru_cache(maxsize=16)
def _listing(path: str, version: str, stamp: tuple[int, int]) -> tuple[tuple[str, tuple, str], ...]:
    """(name, MATLAB shape, MATLAB class) of every top-level variable."""
    if version == "7.3":
        with h5_open(path) as f:
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
            path, f"cannot read this MAT v{version} file ({exception_summary(exc)}): re-download it"
        ) from exc


def data_info(path: str, version: str, variable: str) -> tuple[tuple[int, int], np.dtype]:
    """MATLAB shape and dtype of the data variable, checked to be a 2-D numeric array."""
    if version == "7.3":
        with h5_open(path) as f:
            ds = _h5_get(path, f, variable)
            cls = _h5_class(ds) or "struct"
            shape = tuple(ds.shape[::-1]) if hasattr(ds, "shape") else ()
            dtype = getattr(ds, "dtype", np.dtype(object))
    else:
        listed = {name: c for name, _, c in _listing(path, version, file_stamp(path))}
        cls = listed.get(variable, "double")  # a struct field: judged by its loaded dtype
        if cls in _NUMERIC:
            arr = v5_array(path, file_stamp(path), variable)
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
def v5_array(path: str, stamp: tuple[int, int], variable: str) -> np.ndarray:
    """A v4/v5 data variable as stored (MATLAB orientation); a struct field as ``'a.b'``."""
    if "." in variable:
        value = np.asarray(small_variable(path, "5", variable))
        return value[None, :] if value.ndim == 1 else value
    arr = _loadmat(path, variable, simplify=False)
    return arr if arr.ndim != 1 else arr[None, :]


def _loadmat(path: str, top: str, *, simplify: bool) -> Any:
    from scipy.io import loadmat

    try:
        content = loadmat(path, variable_names=[top], simplify_cells=simplify, mat_dtype=False)
    except Exception as exc:
        why = exception_summary(exc)
        raise SourceError(
            path, f"cannot read this MAT file ({why}): it may be truncated, re-download it"
        ) from exc
    if top not in content:
        raise not_found(path, top, variable_names(path, mat_version(path)))
    return content[top]


def small_variable(path: str, version: str, dotted: str) -> Any:
    """A small variable or struct field (``'nfo.fs'``) as numbers, a string or a list."""
    top, *fields = dotted.split(".")
    if version == "7.3":
        with h5_open(path) as f:
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


def h5_open(path: str) -> Any:
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        why = exception_summary(exc)
        raise SourceError(
            path, f"cannot open this MAT v7.3 (HDF5) file ({why}): truncated? re-download it"
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
                raise not_found(path, dotted, [k for k in f if not k.startswith("#")])
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


def h5_block(
    path: str, variable: str, rows: np.ndarray, start: int, stop: int, channels_first: bool
) -> np.ndarray:
    """Raw values (rows, stop - start) sliced from HDF5 (stored transposed: time x channels)."""
    lo, hi = int(rows.min()), int(rows.max()) + 1
    with h5_open(path) as f:
        ds = _h5_get(path, f, variable)
        try:
            # MATLAB (C, T) is HDF5 (T, C) and the other way round
            block = ds[start:stop, lo:hi].T if channels_first else ds[lo:hi, start:stop]
        except (OSError, ValueError) as exc:
            raise SourceError(
                path, f"cannot read samples of {variable!r} ({exception_summary(exc)})"
            ) from exc
    return block[rows - lo]


def clear_cache() -> None:
    """Forget this process's cached listings and data variables."""
    _listing.cache_clear()
    v5_array.cache_clear()
