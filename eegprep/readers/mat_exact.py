"""64-bit integers anywhere in a MATLAB file that float64 cannot hold exactly (beyond 2^53).

A value eegprep reads itself goes through :mod:`eegprep.readers.mat_values`, which refuses such
an integer by name. An EEGLAB ``.set`` is also read by MNE, which takes every field it uses
(``EEG.event(k).latency``, ``EEG.xmin``, ``EEG.urevent``, ...) through float64: an event at
sample ``2^53 + 1`` became ``2^53`` without a word. :func:`first_inexact` walks every array of
the file, however nested in structs and cells, reads only the data of ``int64`` / ``uint64``
elements (1 MiB at a time: a file of any size is walked in a few MiB), and names the first
value beyond 2^53 as MATLAB would (``EEG.event(2).latency``).

MAT v5 through :mod:`eegprep.readers.mat_v5_stream`; MAT v7.3 (HDF5) through h5py, following
MATLAB's object references (struct arrays, cells). MAT v4 has no 64-bit integer class.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any

import numpy as np

from eegprep.base.regular_files import open_regular
from eegprep.readers.mat_v5_stream import MI_DTYPES, MI_MATRIX, Cut, VariableStream, variables

EXACT = 2**53
"""The largest whole number every float64 between it and 0 holds exactly."""

_PIECE = 1 << 20
_LIMIT = 16 * 2**20  # the largest element read whole: flags, dimensions, names
_MAX_DEPTH = 64
_WIDE = {12: "i8", 13: "u8"}  # miINT64, miUINT64


def first_inexact(path: str, version: str) -> tuple[str, int] | None:
    """(MATLAB name, value) of the first 64-bit integer of the file beyond 2^53; None when
    there is none, or when the file cannot be walked (the readers name what is wrong)."""
    try:
        if version == "5":
            return _v5(path)
        if version == "7.3":
            return _h5(path)
    except (Cut, struct.error, zlib.error, ValueError, OverflowError, OSError, KeyError):
        return None
    return None


def _inexact(values: np.ndarray) -> int | None:
    big = values > EXACT if values.dtype.kind == "u" else (values > EXACT) | (values < -EXACT)
    hits = np.flatnonzero(big)
    return int(values[hits[0]]) if hits.size else None


# -- MAT v5 -----------------------------------------------------------------------------------


def _v5(path: str) -> tuple[str, int] | None:
    with open_regular(path, buffering=-1) as fh:
        for stream, order, n_bytes in variables(path, fh, _LIMIT):
            found = _array(stream, order, n_bytes, None, 0)
            if found is not None:
                return found
    return None


def _array(
    stream: VariableStream, order: str, n_bytes: int, name: str | None, depth: int
) -> tuple[str, int] | None:
    """The first inexact integer of one array (an ``miMATRIX``'s ``n_bytes``) named ``name``
    (its own name when None: a top-level variable)."""
    if n_bytes == 0 or depth > _MAX_DEPTH:
        return None
    start = stream.pos
    flags = _ints(stream, order)
    dims = _ints(stream, order)
    own = _element(stream, order)[1].decode("latin-1")
    name = own if name is None else name
    cls = flags[0] & 0xFF if flags else 0
    n = math.prod(dims) if dims else 0
    found = None
    if cls in (2, 3):  # struct, object
        if cls == 3:
            _element(stream, order)
        width = _ints(stream, order)
        raw = _element(stream, order)[1]
        step = width[0] if width and width[0] > 0 else 1
        fields = [raw[i : i + step].split(b"\0")[0].decode("latin-1")
                  for i in range(0, len(raw), step)]  # fmt: skip
        for k in range(n):
            for field in fields:
                where = f"{name}.{field}" if n == 1 else f"{name}({k + 1}).{field}"
                found = found or _child(stream, order, where, depth)
    elif cls == 1:  # cell
        for k in range(n):
            found = found or _child(stream, order, f"{name}{{{k + 1}}}", depth)
    elif 6 <= cls <= 15:  # numeric: the real part, then the imaginary one
        for _ in range(2 if flags[0] & 0x800 else 1):
            value = _numeric(stream, order)
            found = found or (None if value is None else (name, value))
    stream.skip(start + n_bytes - stream.pos)
    return found


def _child(stream: VariableStream, order: str, name: str, depth: int) -> tuple[str, int] | None:
    mdtype, size = struct.unpack(order + "II", stream.read(8))
    if mdtype != MI_MATRIX:
        raise Cut(f"a data element of type {mdtype} where an array belongs")
    found = _array(stream, order, size, name, depth + 1)
    stream.skip(-size % 8)
    return found


def _numeric(stream: VariableStream, order: str) -> int | None:
    """Step over one data element, reading its values when they are 64-bit integers."""
    word, n = struct.unpack(order + "II", stream.read(8))
    if word >> 16:
        return None  # a small element: 4 bytes at most, no 64-bit integer
    dtype = _WIDE.get(word)
    if dtype is None:
        stream.skip(n + (-n % 8))
        return None
    found, left = None, n - n % 8
    while left > 0:
        piece = min(left, _PIECE)
        values = np.frombuffer(stream.read(piece), np.dtype(order + dtype))
        found = found if found is not None else _inexact(values)
        left -= piece
    stream.skip(n % 8 + (-n % 8))
    return found


def _element(stream: VariableStream, order: str) -> tuple[int, bytes]:
    raw = stream.read(8)
    word, n = struct.unpack(order + "II", raw)
    if word >> 16:
        return word & 0xFFFF, raw[4 : 4 + min(word >> 16, 4)]
    data = stream.read(n)
    stream.skip(-n % 8)
    return word, data


def _ints(stream: VariableStream, order: str) -> list[int]:
    mdtype, raw = _element(stream, order)
    dtype = np.dtype(order + MI_DTYPES.get(mdtype, "i4"))
    return [
        int(v) for v in np.frombuffer(raw[: len(raw) // dtype.itemsize * dtype.itemsize], dtype)
    ]


# -- MAT v7.3 ---------------------------------------------------------------------------------


def _h5(path: str) -> tuple[str, int] | None:
    from eegprep.readers.mat73 import h5_names, h5_open

    with h5_open(path) as f:
        for key in h5_names(path, f):
            found = _h5_object(f, f[key], key, 0)
            if found is not None:
                return found
    return None


def _h5_object(f: Any, obj: Any, name: str, depth: int) -> tuple[str, int] | None:
    import h5py

    from eegprep.readers.mat73 import h5_names

    if depth > _MAX_DEPTH:
        return None
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" in obj.attrs:
            return None
        for key in h5_names(f.filename, obj):
            found = _h5_object(f, obj[key], f"{name}.{key}", depth + 1)
            if found is not None:
                return found
        return None
    if not isinstance(obj, h5py.Dataset):
        return None
    if h5py.check_ref_dtype(obj.dtype) is not None:  # a cell, or a struct array's field
        field = not obj.attrs.get("MATLAB_class", b"") and "." in name
        refs = np.asarray(obj[()]).ravel()  # HDF5's row-major order is MATLAB's column-major
        for k, ref in enumerate(refs):
            parent, _, key = name.rpartition(".")
            where = f"{parent}({k + 1}).{key}" if field else f"{name}{{{k + 1}}}"
            found = _h5_object(f, f[ref], where, depth + 1) if ref else None
            if found is not None:
                return found
        return None
    if obj.dtype.kind not in "iu" or obj.dtype.itemsize != 8 or not obj.size:
        return None
    rows = max(1, _PIECE // (8 * max(1, math.prod(obj.shape[1:]))))
    for lo in range(0, obj.shape[0] if obj.ndim else 1, rows):
        block = np.asarray(obj[lo : lo + rows] if obj.ndim else obj[()])
        value = _inexact(block.ravel())
        if value is not None:
            return name, value
    return None
