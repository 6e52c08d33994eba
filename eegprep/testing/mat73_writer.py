"""MAT v7.3 files as MATLAB's ``save -v7.3`` writes them, for tests and fixtures.

A MAT v7.3 file is HDF5 behind a 512-byte MATLAB header (the HDF5 user block). MATLAB keeps its
column-major arrays as they lie in memory, so HDF5 (row-major) sees every array transposed: a
MATLAB ``n x m`` matrix is an HDF5 dataset of shape ``(m, n)``. Each dataset and group names its
MATLAB class in a ``MATLAB_class`` attribute; a struct is a group of its fields; a cell is a
dataset of object references into the ``#refs#`` group; ``char`` is uint16 code units; logical
is uint8; complex values a compound of ``real`` and ``imag``; an empty array a dataset of its
dimensions with ``MATLAB_empty = 1``. A struct group lists its fields in ``MATLAB_fields``; a
struct array (EEGLAB's ``chanlocs`` and ``event``) is one group whose fields are datasets of
object references, one per struct, with no class of their own; a char dataset says
``MATLAB_int_decode = 2`` (UTF-16 code units).

:func:`write_mat73` writes Python values; :func:`resave_mat73` reads a MAT v5 file (scipy) and
writes it again as v7.3 with the same variables, classes and MATLAB shapes: what a researcher
gets by loading a competition's file in MATLAB and saving it with ``-v7.3``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

MAT73_HEADER = (
    (
        b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
        b"HDF5 schema 1.00 ."
    ).ljust(116)
    + b" " * 8
    + b"\x00\x02"
    + b"IM"
)
"""MATLAB's 128-byte header of a v7.3 file (text, subsystem offset, version 0x0200, 'IM')."""

_CLASS_OF = {"float64": "double", "float32": "single"}


def write_mat73(path: str | Path, variables: dict[str, Any], *, compress: bool = False) -> None:
    """Write ``variables`` to ``path`` as MATLAB 7.3 does; ``compress``: numeric and char
    arrays chunked and deflated, as MATLAB saves them by default.

    Values: a dict is a struct; a str a char row; a list a cell row; a numpy array of MATLAB's
    kinds (numbers, bools as logical, complex numbers, unicode as char rows, objects as a cell,
    a record array of shape ``(1, 1)`` as a struct, of any other shape as a struct array) keeps
    its (at least 2-D) shape; a scipy sparse matrix is a MATLAB sparse one.
    """
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            _put(f, f, name, value, compress)
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER)


def resave_mat73(src: str | Path, dst: str | Path, *, compress: bool = False) -> None:
    """The MAT v5 file ``src`` saved again as MAT v7.3 at ``dst``: same variables, values,
    classes and MATLAB shapes."""
    from scipy.io import loadmat

    content = loadmat(src, squeeze_me=False, struct_as_record=True, chars_as_strings=False)
    variables = {k: v for k, v in content.items() if not k.startswith("__")}
    write_mat73(dst, variables, compress=compress)


def _put(f: Any, group: Any, name: str, value: Any, compress: bool) -> None:
    import h5py

    if isinstance(value, dict) or (
        isinstance(value, np.ndarray) and value.dtype.names and value.size == 1
    ):
        items = list(value.items() if isinstance(value, dict) else _record_fields(value))
        sub = _struct_group(group, name, [key for key, _ in items])
        for key, item in items:
            _put(f, sub, key, item, compress)
        return
    if isinstance(value, np.ndarray) and value.dtype.names and value.ndim:
        _put_struct_array(f, group, name, value, compress)
        return
    if type(value).__module__.startswith("scipy.sparse"):
        _put_sparse(group, name, value)
        return
    if isinstance(value, str):
        value = np.array([list(value)], dtype="<U1") if value else np.zeros((0, 0), "<U1")
    if isinstance(value, list):
        cell = np.empty((1 if value else 0, len(value)), dtype=object)
        for i, item in enumerate(value):
            cell[0, i] = item
        value = cell
    arr = np.asarray(value)
    arr = arr if arr.ndim >= 2 else np.atleast_2d(arr)
    if arr.size == 0:
        cls = "char" if arr.dtype.kind == "U" else _CLASS_OF.get(arr.dtype.name, arr.dtype.name)
        ds = group.create_dataset(name, data=np.array(arr.shape[::-1], dtype=np.uint64))
        ds.attrs["MATLAB_class"] = np.bytes_("cell" if arr.dtype.kind == "O" else cls)
        ds.attrs["MATLAB_empty"] = np.uint8(1)
        return
    if arr.dtype.kind == "O":
        refs_group = f.require_group("#refs#")
        refs = np.empty(arr.shape, dtype=h5py.ref_dtype)
        for index in np.ndindex(arr.shape):
            where = "_".join(map(str, index))  # unique however deep cells nest
            key = f"{group.name.strip('/').replace('/', '_')}_{name}_{where}".lstrip("#")
            _put(f, refs_group, key, arr[index], compress)
            refs[index] = refs_group[key].ref
        ds = group.create_dataset(name, data=refs.T)
        ds.attrs["MATLAB_class"] = np.bytes_("cell")
        return
    if arr.dtype.kind == "U":
        arr, cls = _char_codes(arr), "char"
    elif arr.dtype.kind == "b":
        arr, cls = arr.astype(np.uint8), "logical"
    elif arr.dtype.kind == "c":
        pair = np.dtype([("real", "<f8"), ("imag", "<f8")])
        arr, cls = np.rec.fromarrays([arr.real, arr.imag], dtype=pair), "double"
    else:
        cls = _CLASS_OF.get(arr.dtype.name, arr.dtype.name)
    deflate = {"compression": "gzip", "compression_opts": 3} if compress else {}
    ds = group.create_dataset(name, data=np.ascontiguousarray(arr.T), **deflate)
    ds.attrs["MATLAB_class"] = np.bytes_(cls)
    if cls == "char":
        ds.attrs["MATLAB_int_decode"] = np.int32(2)


def _struct_group(group: Any, name: str, fields: list[str]) -> Any:
    """A struct's group, its class and its field names (``MATLAB_fields``) as MATLAB writes
    them."""
    import h5py

    sub = group.create_group(name)
    sub.attrs["MATLAB_class"] = np.bytes_("struct")
    names = np.empty(len(fields), dtype=h5py.vlen_dtype(np.dtype("S1")))
    for i, key in enumerate(fields):
        names[i] = np.frombuffer(key.encode(), dtype="S1")
    sub.attrs["MATLAB_fields"] = names
    return sub


def _put_struct_array(f: Any, group: Any, name: str, value: np.ndarray, compress: bool) -> None:
    """A struct array (a record array of any shape but ``(1, 1)``) as MATLAB keeps one: a
    group of its fields, each a dataset of object references (one per struct, transposed as
    any array) with no ``MATLAB_class``; an empty one as an empty double, as scipy reads it."""
    import h5py

    arr = value if value.ndim >= 2 else np.atleast_2d(value)
    if arr.size == 0:
        _put(f, group, name, np.zeros(arr.shape), compress)
        return
    sub = _struct_group(group, name, list(arr.dtype.names or ()))
    refs_group = f.require_group("#refs#")
    prefix = f"{group.name.strip('/').replace('/', '_')}_{name}".lstrip("#_")
    for key in arr.dtype.names or ():
        refs = np.empty(arr.shape, dtype=h5py.ref_dtype)
        for index in np.ndindex(arr.shape):
            where = f"{prefix}_{key}_" + "_".join(map(str, index))
            _put(f, refs_group, where, arr[index][key], compress)
            refs[index] = refs_group[where].ref
        sub.create_dataset(key, data=refs.T)


def _put_sparse(group: Any, name: str, value: Any) -> None:
    """A scipy sparse matrix as MATLAB keeps a sparse one: a group of ``data``, ``ir`` (row of
    each value) and ``jc`` (column starts), its rows in ``MATLAB_sparse``."""
    csc = value.tocsc()
    sub = group.create_group(name)
    sub.attrs["MATLAB_class"] = np.bytes_("double")
    sub.attrs["MATLAB_sparse"] = np.uint64(csc.shape[0])
    sub.create_dataset("data", data=csc.data.astype(np.float64))
    sub.create_dataset("ir", data=csc.indices.astype(np.uint64))
    sub.create_dataset("jc", data=csc.indptr.astype(np.uint64))


def _record_fields(value: np.ndarray) -> list[tuple[str, Any]]:
    """The fields of scipy's 1x1 struct (a record array) as (name, value)."""
    record = value.reshape(-1)[0]
    return [(key, record[key]) for key in value.dtype.names or ()]


def _char_codes(arr: np.ndarray) -> np.ndarray:
    """A MATLAB char array (numpy unicode: one character per element, or one row per string)
    as the UTF-16 code units MATLAB keeps, one row per MATLAB row (a character beyond U+FFFF
    is two units, a surrogate pair), rows padded with spaces to one width."""
    if arr.dtype.itemsize // 4 > 1 or arr.ndim < 2:  # rows as strings
        rows = [str(s) for s in arr.ravel()]
    else:  # a character each: MATLAB's rows
        rows = ["".join(str(c) for c in row) for row in arr.reshape(arr.shape[0], -1)]
    units = [np.frombuffer(r.encode("utf-16-le"), dtype="<u2") for r in rows]
    width = max((u.size for u in units), default=0)
    out = np.full((len(units), width), ord(" "), dtype=np.uint16)
    for i, u in enumerate(units):
        out[i, : u.size] = u
    return out
