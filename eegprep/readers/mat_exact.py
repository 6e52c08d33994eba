"""64-bit integers anywhere in a MATLAB file that float64 cannot hold exactly (beyond 2^53).

A value eegprep reads itself goes through :mod:`eegprep.readers.mat_values`, which refuses such
an integer by name. An EEGLAB ``.set`` is also read by MNE, which takes every field it uses
(``EEG.event(k).latency``, ``EEG.xmin``, ``EEG.urevent``, ...) through float64: an event at
sample ``2^53 + 1`` became ``2^53`` without a word. :func:`first_inexact` walks every array of
the file, however nested in structs and cells, reads only the data of ``int64`` / ``uint64``
elements (1 MiB at a time: a file of any size is walked in a few MiB), and names the first
value beyond 2^53 as MATLAB would (``EEG.event(2).latency``).

MAT v5 in the pass that checks the file's structure before scipy parses it
(:func:`~eegprep.readers.mat_v5_structure.check_v5_structure` with ``exact=True``: an EEGLAB
``.set`` is walked once for both, :func:`~eegprep.readers.matlab_files.check_mat_budget`);
MAT v7.3 (HDF5) through h5py, following MATLAB's object references (struct arrays, cells).
MAT v4 has no 64-bit integer class.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.readers.mat_v5_structure import EXACT, check_v5_structure, inexact_value

__all__ = ["EXACT", "first_inexact"]

_PIECE = 1 << 20
_MAX_DEPTH = 64


def first_inexact(path: str, version: str) -> tuple[str, int] | None:
    """(MATLAB name, value) of the first 64-bit integer of the file beyond 2^53; None when
    there is none, or when the file cannot be walked (the readers name what is wrong)."""
    try:
        if version == "5":
            return check_v5_structure(path, exact=True)
        if version == "7.3":
            return _h5(path)
    except (SourceError, ValueError, OverflowError, OSError, KeyError):
        return None
    return None


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
        value = inexact_value(block.ravel())
        if value is not None:
            return name, value
    return None
