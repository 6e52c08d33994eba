"""MAT v7.3 files (HDF5 behind MATLAB's 512-byte user block) through h5py: the file opened, its
variables listed and described, small variables read as Python values, data blocks sliced.

:mod:`eegprep.readers.matlab_files` dispatches here for a v7.3 file, as it reads v4/v5 ones
through scipy; this module knows nothing of channels, rates or manifests.

Memory and safety: a dataset is checked by shape before it is read: against the per-file memory
budget (:mod:`eegprep.base.limits`), and against the bytes the file stores for it
(:func:`check_h5_stored`: a flipped HDF5 header can claim any shape, and HDF5 reads what was
never written as fill values). Whatever h5py raises on a damaged file is one line of ours
(:func:`h5_open`); odd objects (a name that is bytes, a named datatype, an object reached by a
reference) are refused in one line.

Concurrency contract: read-only; nothing is cached, the file is opened for each read.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from eegprep.base.errors import EegprepError, SourceError
from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import regular_path
from eegprep.base.wording import counted
from eegprep.readers.mat_fields import (
    FIELD_VALUE_BYTES,
    NUMERIC_CLASSES,
    MatField,
    cell_path_error,
    cell_samples_error,
    not_found,
)

_H5_TRUNCATED = re.compile(
    r"truncated file: eof = (\d+), sblock->base_addr = (\d+), stored_eof = (\d+)"
)


def h5_listing(path: str) -> tuple[tuple[str, tuple, str], ...]:
    """(name, MATLAB shape, MATLAB class) of every top-level variable, without reading any."""
    with h5_open(path) as f:
        return tuple((k, _h5_shape(f[k]), h5_class(f[k])) for k in h5_names(path, f))


def _h5_shape(obj: Any) -> tuple[int, ...]:
    """The MATLAB shape of a variable: a dataset's reversed, a sparse group's from its
    metadata, ``()`` for a struct."""
    if h5_class(obj) == "sparse":
        return _sparse_shape(obj)
    return tuple(obj.shape[::-1]) if hasattr(obj, "shape") else ()


def h5_data_info(path: str, variable: str) -> tuple[str, tuple[int, ...], np.dtype]:
    """MATLAB class (``'struct'`` for a group without one), MATLAB shape and dtype of the data
    variable ``variable``; a chunk it would inflate is checked against the budget, its shape
    against the bytes the file stores (:func:`check_h5_stored`)."""
    import h5py

    with h5_open(path) as f:
        ds = h5_samples(path, f, variable)
        cls = h5_class(ds) or "struct"
        if _is_complex(getattr(ds, "dtype", None)):
            cls = "complex128"  # a data variable's samples must be real, whatever their values
        shape = tuple(ds.shape[::-1]) if hasattr(ds, "shape") else ()
        dtype = getattr(ds, "dtype", np.dtype(object))
        if getattr(ds, "chunks", None):  # a read inflates whole chunks
            n_chunk = math.prod(ds.chunks) * dtype.itemsize
            check_allocation(path, n_chunk, f"one HDF5 chunk of {variable!r}")
        if isinstance(ds, h5py.Dataset):  # a group (struct) has an id too, but no size
            check_h5_stored(path, variable, ds)
    return cls, shape, dtype


def h5_samples(path: str, f: Any, variable: str) -> Any:
    """The data variable ``variable``; a cell of one array (FieldTrip's continuous
    ``data.trial``) is that array, as scipy gives a v5 one; a cell of more or none is refused."""
    import h5py

    obj = h5_get(path, f, variable)
    if not isinstance(obj, h5py.Dataset) or h5_class(obj) != "cell":
        return obj
    n = 0 if obj.attrs.get("MATLAB_empty", 0) else int(obj.size)
    if n != 1:
        raise cell_samples_error(path, variable, n)
    (ref,) = np.asarray(h5_read(path, obj)).ravel()
    return _h5_variable(path, f[ref])


def h5_variable_class(path: str, dotted: str) -> str:
    """The MATLAB class of a variable or struct field (:func:`h5_class`)."""
    with h5_open(path) as f:
        return h5_class(h5_get(path, f, dotted))


def h5_small_variable(path: str, dotted: str) -> Any:
    """A small variable or struct field (``'nfo.fs'``) as Python values (see :func:`h5_value`)."""
    with h5_open(path) as f:
        return h5_value(f, h5_get(path, f, dotted))


def _check_written(path: str, variable: str, ds: Any) -> None:
    """Refuse an HDF5 dataset whose file does not hold all the samples its shape declares: HDF5
    reads what was never written as zeros (a cut or hand-made file would stream days of them).
    Chunked: every chunk the shape needs is allocated; contiguous: its bytes are all stored."""
    need = ds.size * ds.dtype.itemsize
    if ds.chunks:
        expected = math.prod(-(-n // c) for n, c in zip(ds.shape, ds.chunks, strict=True))
        have = ds.id.get_num_chunks()
        if have < expected:
            raise SourceError(
                path,
                f"variable {variable!r} declares shape {tuple(ds.shape[::-1])} ({need:,} bytes) "
                f"but only {have:,} of its {expected:,} HDF5 chunks were ever written: the file "
                "is truncated or was not closed; re-export it",
            )
    elif ds.compression is None and ds.id.get_storage_size() < need:
        raise SourceError(
            path,
            f"variable {variable!r} declares shape {tuple(ds.shape[::-1])} ({need:,} bytes) but "
            f"the file stores {ds.id.get_storage_size():,} bytes of it: it is truncated; "
            "re-export it",
        )


def check_h5_budget(path: str, variable: str | None) -> None:
    """Refuse a file whose datasets (under ``variable`` when given, a struct field as
    ``'nfo.fs'``) would take more memory than the per-file budget, each counted as its shape
    times its item size."""
    import h5py

    under = (variable or "").replace(".", "/")  # a struct field: its datasets alone
    with h5_open(path) as f:
        total = 0

        def visit(name: str, obj: Any) -> None:
            nonlocal total
            if isinstance(obj, h5py.Dataset) and (
                variable is None or name == under or name.startswith(under + "/")
            ):
                total += obj.size * obj.dtype.itemsize

        f.visititems(visit)
    check_allocation(path, total, "loading MATLAB (HDF5) variables")


@contextlib.contextmanager
def h5_open(path: str) -> Iterator[Any]:
    """The MAT v7.3 file ``path`` opened with h5py, for a ``with`` block; whatever h5py raises
    in the block on a damaged file (``KeyError: 'Unable to synchronously open object (invalid
    dataset size, likely file corruption)'``, ``RuntimeError: Unable to get group info (addr
    overflow ...)``, ``OSError: Can't read data``) becomes one line of ours naming the file."""
    f = _h5_file(path)
    try:
        with f:
            yield f
    except EegprepError:
        raise
    except Exception as exc:
        if not _raised_in_h5py(exc):
            raise
        raise SourceError(
            path,
            "this MAT v7.3 file's HDF5 structure is damaged (an object header, index or data "
            "block HDF5 cannot read): re-download it, or save it again in MATLAB",
        ) from exc


def _raised_in_h5py(exc: BaseException) -> bool:
    """Whether ``exc`` came out of h5py (a frame of its package on the traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    # h5py's compiled modules name their frames relative ("h5py/h5d.pyx"): a call from our
    # code straight into one (ds.id.get_storage_size()) has no other h5py frame
    names = ["/" + frame.filename.replace(os.sep, "/") for frame in frames]
    return any("/h5py/" in name for name in names)


def _h5_file(path: str) -> Any:
    """``path`` opened by h5py through the descriptor checked to be a regular file
    (:func:`~eegprep.base.regular_files.regular_path`; HDF5 keeps its own descriptor of it),
    its ``filename`` still ``path`` (messages and size checks name the file)."""
    import h5py

    class _Checked(h5py.File):  # type: ignore[misc]
        filename = path  # (h5py's own: the name it was opened by, /proc/self/fd/N)

    try:
        with regular_path(path) as name:
            return _Checked(name, "r")
    except OSError as exc:
        cut = _H5_TRUNCATED.search(str(exc))
        if cut:  # HDF5 counts from its superblock, after MATLAB's 512-byte user block
            have, base, said = (int(n) for n in cut.groups())
            raise SourceError(
                path,
                f"file is truncated: it has {have + base:,} bytes, its HDF5 superblock says "
                f"{said + base:,}: re-download it",
            ) from exc
        raise SourceError(
            path, "this MAT v7.3 file does not open as HDF5 (damaged or cut): re-download it"
        ) from exc


def h5_names(path: str, group: Any) -> list[str]:
    """The members of an HDF5 group of a MAT v7.3 file (a struct's fields, the file's
    variables), MATLAB's own (``#refs#``, ``#subsystem#``) left out. h5py gives a name that is
    not UTF-8 as bytes: a damaged link, refused in one line."""
    names = list(group)
    odd = next((n for n in names if not isinstance(n, str)), None)
    if odd is not None:
        raise SourceError(
            path,
            f"this MAT v7.3 file names a variable or field {odd!r}, not text: its HDF5 "
            "structure is damaged; re-download it, or save it again in MATLAB",
        )
    return [n for n in names if not n.startswith("#")]


def h5_class(obj: Any) -> str:
    """The MATLAB class of an HDF5 object: its ``MATLAB_class`` attribute, else, for a dataset
    written by other HDF5 software (h5py: no such attribute), the class of its dtype
    (``'double'`` for float64, ``'int16'``, ...; the dtype's name when it is not numeric); ``''``
    for a group without the attribute."""
    if "MATLAB_sparse" in obj.attrs:  # a sparse matrix: a group of data, ir, jc
        return "sparse"
    cls = obj.attrs.get("MATLAB_class", b"")
    cls = cls.decode("utf-8", "replace") if isinstance(cls, bytes) else str(cls)
    dtype = getattr(obj, "dtype", None)
    if cls or dtype is None:
        return cls
    if dtype.kind == "f" and dtype.itemsize in (4, 8):
        return "single" if dtype.itemsize == 4 else "double"
    if dtype.kind in "iu":
        return f"{'u' if dtype.kind == 'u' else ''}int{8 * dtype.itemsize}"
    return "logical" if dtype.kind == "b" else str(dtype)


def h5_get(path: str, f: Any, dotted: str) -> Any:
    """The dataset or group at a dotted path (struct fields are HDF5 members)."""
    import h5py

    obj = f
    for i, name in enumerate(dotted.split(".")):
        if i and isinstance(obj, h5py.Dataset) and h5_class(obj) == "cell":
            obj = _one_cell_value(path, f, obj, dotted)  # a cell of one struct: walked through
        if not isinstance(obj, h5py.Group) or name not in obj:
            if i == 0:
                raise not_found(path, dotted, h5_names(path, f))
            known = (
                ", ".join(h5_names(path, obj))
                if isinstance(obj, h5py.Group)
                else "none (not a struct)"
            )
            raise SourceError(
                path, f"variable {dotted!r} not found; fields of {_h5_label(obj)!r}: {known}"
            )
        parent, obj = obj, obj[name]
        if i and h5_struct_array_field(obj):
            raise struct_array_error(path, _h5_label(parent), int(obj.size), dotted)
    return _h5_variable(path, obj)


def _one_cell_value(path: str, f: Any, cell: Any, dotted: str) -> Any:
    """The value a v7.3 cell of one holds (scipy unwraps a v5 one); a cell of more or none
    is refused, as a v5 one is (:func:`~eegprep.readers.mat_fields.cell_path_error`)."""
    n = 0 if cell.attrs.get("MATLAB_empty", 0) else int(cell.size)
    if n != 1:
        raise cell_path_error(path, _h5_label(cell), n, dotted)
    (ref,) = np.asarray(h5_read(path, cell)).ravel()
    return _h5_variable(path, f[ref])


def h5_struct_array_field(obj: Any) -> bool:
    """Whether ``obj``, a struct's member, is a field of a struct array: MATLAB keeps a 1 x n
    struct array as one group whose fields hold n object references each, with no MATLAB class
    of their own (a cell field says ``cell``)."""
    import h5py

    return (
        isinstance(obj, h5py.Dataset)
        and h5py.check_ref_dtype(obj.dtype) is not None
        and not obj.attrs.get("MATLAB_class", b"")
    )


def struct_array_error(path: str, name: str, n: int, dotted: str) -> SourceError:
    """The error for ``dotted``, a field of ``name``, which is a struct array of ``n``."""
    return SourceError(
        path,
        f"variable {name!r} is a MATLAB struct array of {counted(n, 'struct')}, not one struct: "
        f"{dotted!r} names no single value; save one struct in MATLAB (e.g. {name}(1))",
    )


def _h5_variable(path: str, obj: Any) -> Any:
    """``obj``, a group (struct) or dataset; anything else (a named datatype a flipped link
    points to) is refused."""
    import h5py

    if not isinstance(obj, (h5py.Group, h5py.Dataset)):
        raise SourceError(
            path,
            f"MATLAB variable {_h5_label(obj)!r} is an HDF5 {type(obj).__name__}, neither a "
            "struct nor an array: the file's HDF5 structure is damaged; re-download it",
        )
    return obj


def _h5_label(obj: Any) -> str:
    """An HDF5 object's path for messages, as MATLAB names it (``'mrk.pos'``; an object reached
    by reference has none)."""
    name = obj.name
    if not name:
        return "(unnamed: reached by a reference)"
    if isinstance(name, bytes):  # h5py gives a name that is not UTF-8 (damaged) as bytes
        name = name.decode("utf-8", "backslashreplace")
    return name[1:].replace("/", ".")


MAX_MAT_DEPTH = 64
"""Most levels of structs and cells a MAT v7.3 value may nest (an EEG file's: a few). A
reference loop (a cell that refers to itself) or a crafted file nests without end."""


def h5_value(f: Any, obj: Any, depth: int = 0) -> Any:
    """A v7.3 variable as Python values: arrays transposed back, cells as lists, chars as str."""
    import h5py

    if depth > MAX_MAT_DEPTH:
        raise SourceError(
            f.filename,
            f"MATLAB variable {_h5_label(obj)!r} nests more than {MAX_MAT_DEPTH} levels of "
            "structs and cells (a reference loop, or a damaged or crafted file)",
        )
    if isinstance(obj, h5py.Group) and h5_class(obj) == "sparse":
        return MatField("sparse", _sparse_shape(obj))  # described, never read: no numbers
    if isinstance(obj, h5py.Group):
        # a member a flipped link makes a named datatype: one line (it has no shape to read)
        members = h5_names(f.filename, obj)
        return {k: h5_value(f, _h5_variable(f.filename, obj[k]), depth + 1) for k in members}
    if obj.attrs.get("MATLAB_empty", 0):
        return np.array([])
    arr = h5_read(f.filename, obj)
    if h5py.check_ref_dtype(obj.dtype) is not None:
        refs = np.asarray(arr).ravel()  # HDF5's row-major order is MATLAB's column-major
        return [h5_value(f, _h5_variable(f.filename, f[ref]), depth + 1) for ref in refs]
    arr = _complex(np.asarray(arr)).T
    if h5_class(obj) == "char":
        label = _h5_label(obj)
        rows = [_char_row(f.filename, label, row).rstrip("\x00 ") for row in np.atleast_2d(arr)]
        return rows[0] if len(rows) == 1 else rows
    return np.squeeze(arr)


def _char_row(path: str, name: str, row: np.ndarray) -> str:
    """One row of a v7.3 ``char`` array as text. MATLAB keeps text as UTF-16 code units, so a
    character beyond U+FFFF (an emoji) is two of them, a surrogate pair: each taken as a
    character on its own gave a str no UTF-8 file can hold. Wider integers (another writer)
    are code points. A lone surrogate, a negative or too large code, or values that are no
    integers (``chr`` of a float was a ``TypeError``) are refused in one line."""
    values = np.asarray(row)
    bad = f"{values.dtype} values"
    if values.dtype.kind in "iu":
        low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
        bad = f"code {low if low < 0 else high}"
        if low >= 0 and high <= 0xFFFF:
            units = values.astype("<u2").tobytes()
            text = units.decode("utf-16-le", "surrogatepass")
        elif low >= 0 and high <= 0x10FFFF:
            text = "".join(map(chr, values.tolist()))
        else:
            text = None
        if text is not None:
            try:
                text.encode("utf-8")
                return text
            except UnicodeEncodeError as exc:
                bad = f"U+{ord(text[exc.start]):04X} (half of a surrogate pair)"
    raise SourceError(
        path,
        f"variable {name!r} is MATLAB text (char) but holds {bad}, which is no text: the file "
        "is damaged or was not written by MATLAB",
    )


def _sparse_shape(group: Any) -> tuple[int, ...]:
    """A v7.3 sparse matrix's MATLAB shape from its metadata: rows in ``MATLAB_sparse``,
    columns one fewer than ``jc``'s entries (``(rows,)`` when ``jc`` is missing)."""
    import h5py

    rows = int(np.asarray(group.attrs["MATLAB_sparse"]).reshape(-1)[0])
    jc = group.get("jc")
    return (rows, max(int(jc.size) - 1, 0)) if isinstance(jc, h5py.Dataset) else (rows,)


def _is_complex(dtype: np.dtype | None) -> bool:
    """Whether ``dtype`` is MATLAB's complex layout: a compound of ``real`` and ``imag``."""
    return dtype is not None and dtype.names is not None and {"real", "imag"} <= set(dtype.names)


def _complex(arr: np.ndarray) -> np.ndarray:
    """A dataset's values, MATLAB's complex compound as a complex array (h5py gives a record
    array of ``real`` and ``imag``)."""
    if not _is_complex(arr.dtype):
        return arr
    return arr["real"].astype(np.float64) + 1j * arr["imag"].astype(np.float64)


H5_MAX_INFLATION = 1100
"""Most bytes a compressed HDF5 dataset may give per byte it stores (deflate inflates 1032-fold
at most); a shape that claims more than its stored bytes can give is a damaged header."""


def h5_read(path: str, ds: Any) -> np.ndarray:
    """A whole HDF5 dataset of a MAT v7.3 file, once its shape is checked: within the memory
    budget, and held by the file (:func:`check_h5_stored`); a flipped header can claim any
    shape, and HDF5 reads what was never written as fill values."""
    name = _h5_label(ds)
    check_h5_stored(path, name, ds)  # first: a flipped shape is damage, not a large variable
    check_allocation(path, ds.size * ds.dtype.itemsize, f"loading MATLAB variable {name!r}")
    return ds[()]


def check_h5_stored(path: str, variable: str, ds: Any) -> None:
    """Refuse a dataset whose shape claims more bytes than the file stores for it (uncompressed:
    every byte; compressed: :data:`H5_MAX_INFLATION` per stored byte), and a data variable
    whose chunks were not all written (:func:`_check_written`)."""
    need = ds.size * ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    most = stored * (H5_MAX_INFLATION if ds.compression else 1)
    if need > most:
        raise SourceError(
            path,
            f"variable {variable!r} declares shape {tuple(ds.shape[::-1])} ({need:,} bytes) but "
            f"the file stores {stored:,} bytes of it (file size {os.path.getsize(path):,}): its "
            "HDF5 header is damaged or the file is cut; re-download it",
        )
    _check_written(path, variable, ds)


def h5_struct_fields(path: str, variable: str, names: frozenset[str]) -> dict[str, MatField] | None:
    """The fields ``names`` of the MAT v7.3 struct ``variable`` (those it has), as
    :func:`~eegprep.readers.mat_fields.struct_fields` gives a v5 struct's: datasets' class and
    shape from their metadata, values read only for small ones; ``None`` when ``variable`` is
    no struct."""
    import h5py

    with h5_open(path) as f:
        group = f.get(variable)
        if not isinstance(group, h5py.Group):
            return None
        out: dict[str, MatField] = {}
        for name in names & set(h5_names(path, group)):
            obj = _h5_variable(path, group[name])  # a named datatype: one line, no shape
            if isinstance(obj, h5py.Group) and h5_class(obj) == "sparse":
                out[name] = MatField("sparse", _sparse_shape(obj))
                continue
            if isinstance(obj, h5py.Group):  # a struct (array): its fields' entry counts
                sizes = [
                    int(ds.size) for ds in obj.values()
                    if isinstance(ds, h5py.Dataset) and h5_class(ds) != "char"
                ]  # fmt: skip
                keys = tuple(h5_names(path, obj))
                out[name] = MatField("struct", (1, max(sizes, default=1)), fields=keys)
                continue
            cls = h5_class(obj) or "unknown"
            empty = bool(obj.attrs.get("MATLAB_empty", 0))
            shape = (0, 0) if empty else tuple(int(n) for n in obj.shape[::-1])
            small = obj.size * obj.dtype.itemsize <= FIELD_VALUE_BYTES
            value = None
            if empty:
                value = np.zeros((0, 0))
            elif small and (cls in NUMERIC_CLASSES or cls == "char"):
                value = h5_value(f, obj)
                if cls != "char" and np.iscomplexobj(value):  # as a v5 field: complex double
                    value, cls = np.asarray(value, dtype=np.complex128), f"complex {cls}"
                elif cls != "char" and np.asarray(value).dtype.kind not in "iu":
                    value = np.asarray(value, dtype=np.float64)
                elif cls != "char":  # integers kept exact: 2^53 + 1 is no float64
                    value = np.asarray(value)
            out[name] = MatField(cls, shape, value)
        return out


def h5_block(
    path: str, variable: str, rows: np.ndarray, start: int, stop: int, channels_first: bool
) -> np.ndarray:
    """Raw values (rows, stop - start) sliced from HDF5 (stored transposed: time x channels)."""
    lo, hi = int(rows.min()), int(rows.max()) + 1
    with h5_open(path) as f:
        ds = h5_samples(path, f, variable)
        n_bytes = (hi - lo) * (stop - start) * ds.dtype.itemsize
        check_allocation(path, n_bytes, f"reading samples of {variable!r}")
        try:
            # MATLAB (C, T) is HDF5 (T, C) and the other way round
            block = ds[start:stop, lo:hi].T if channels_first else ds[lo:hi, start:stop]
        except (OSError, ValueError) as exc:
            raise SourceError(
                path,
                f"cannot read samples of {variable!r}: its HDF5 data blocks are damaged (a "
                "chunk that does not inflate, or an index that points outside the file); "
                "re-download it",
            ) from exc
    return block[rows - lo]
