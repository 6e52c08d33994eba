"""MATLAB files at the byte level: version sniffing, variable listings, small variables and
data blocks, for MAT v4/v5 (scipy.io) and v7.3 (HDF5 through h5py).

:mod:`eegprep.readers.matlab` turns these into the reader contract; this module knows nothing of
channels, rates or manifests.

Memory and safety: before scipy loads a v4/v5 variable, :func:`check_mat_budget` walks the
file's elements and refuses (one line) a variable whose declared size is over the per-file
memory budget (:mod:`eegprep.base.limits`), an element that runs past the end of the file
(truncated), an element scipy's compiled parser would crash the process on
(:func:`~eegprep.readers.mat_fields.check_v5_structure`), and a
zlib stream (``miCOMPRESSED``) that inflates past its declared size or the budget: the stream is
inflated in 1 MiB pieces and thrown away, so the check itself holds little. v7.3 datasets are
checked by shape before they are read: against the budget, and against the bytes the file
stores for them (:func:`check_h5_stored`: a flipped HDF5 header can claim any shape); whatever
h5py raises on a damaged file is one line of ours (:func:`h5_open`).

Concurrency contract: read-only; v5 data variables are cached per process (a small LRU keyed by
path, variable and the file's size and mtime), v7.3 files are opened for each read.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import os
import re
import struct
import traceback
import zlib
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np

from eegprep.base.errors import EegprepError, SourceError
from eegprep.base.files import FileVersion, file_version
from eegprep.base.limits import check_allocation, check_time
from eegprep.readers.mat_fields import (
    FIELD_VALUE_BYTES,
    NUMERIC_CLASSES,
    MatField,
    check_v5_structure,
    v5_listing,
)

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NUMERIC = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
)
_NOT_NUMERIC = {
    "struct": 'name its field in the manifest\'s [reader.options], e.g. data = "{v}.data"',
    "sparse": "save it as a full matrix in MATLAB (full(x))",
    "cell": "save the samples as one numeric matrix, not a cell array",
    "complex128": "EEG samples are real numbers; save the real signal",
    "complex64": "EEG samples are real numbers; save the real signal",
}
"""What to do about a data variable of a MATLAB class that is no numeric array (a struct's
field can be named; the others must be saved otherwise)."""
_DATA_CACHE_SIZE = 2
_NOT_INFLATING = "{what} does not inflate (its zlib stream is damaged): re-download the file"
_NOT_PARSING = "does not parse as MATLAB data (the file is damaged or cut): re-download it"
_H5_TRUNCATED = re.compile(
    r"truncated file: eof = (\d+), sblock->base_addr = (\d+), stored_eof = (\d+)"
)


def not_found(path: str, name: str, names: Sequence[str]) -> SourceError:
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none"
    return SourceError(path, f"variable {name!r} not found; variables in the file: {listed}.{hint}")


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
    return [name for name, _, _ in _listing(path, version, file_version(path))]


def variable_listing(path: str, version: str) -> tuple[tuple[str, tuple, str], ...]:
    """(name, MATLAB shape, MATLAB class) of every top-level variable, without loading any."""
    return _listing(path, version, file_version(path))


@functools.lru_cache(maxsize=16)
def _listing(path: str, version: str, stamp: FileVersion) -> tuple[tuple[str, tuple, str], ...]:
    """(name, MATLAB shape, MATLAB class) of every top-level variable."""
    if version == "7.3":
        with h5_open(path) as f:
            return tuple(
                (k, tuple(f[k].shape[::-1]) if hasattr(f[k], "shape") else (), _h5_class(f[k]))
                for k in h5_names(path, f)
            )
    from scipy.io import whosmat

    listed = v5_listing(path) if version == "5" else None
    if listed is not None:  # whosmat inflates a compressed variable whole just to list it
        return listed
    if version == "5":
        check_v5_structure(path)  # before scipy's compiled parser reads it
    try:
        return tuple((n, tuple(s), c) for n, s, c in whosmat(path))
    except zlib.error as exc:
        raise SourceError(path, _NOT_INFLATING.format(what="a compressed variable")) from exc
    except Exception as exc:  # scipy's parser: "Expecting miMATRIX type here, got 3", ...
        raise SourceError(
            path,
            f"cannot read this MAT v{version} file: its list of variables {_NOT_PARSING}",
        ) from exc


def data_info(path: str, version: str, variable: str) -> tuple[tuple[int, int], np.dtype]:
    """MATLAB shape and dtype of the data variable, checked to be a 2-D numeric array."""
    if version == "7.3":
        with h5_open(path) as f:
            ds = _h5_get(path, f, variable)
            cls = _h5_class(ds) or "struct"
            shape = tuple(ds.shape[::-1]) if hasattr(ds, "shape") else ()
            dtype = getattr(ds, "dtype", np.dtype(object))
            if getattr(ds, "chunks", None):  # a read inflates whole chunks
                n_chunk = math.prod(ds.chunks) * dtype.itemsize
                check_allocation(path, n_chunk, f"one HDF5 chunk of {variable!r}")
            if hasattr(ds, "id"):
                check_h5_stored(path, variable, ds)
    else:
        listed = {name: c for name, _, c in _listing(path, version, file_version(path))}
        cls = listed.get(variable, "double")  # a struct field: judged by its loaded dtype
        if cls in _NUMERIC:
            arr = v5_array(path, file_version(path), variable)
            shape, dtype = arr.shape, arr.dtype
            cls = cls if arr.dtype.kind in "biuf" else str(arr.dtype)
    if cls not in _NUMERIC:
        raise SourceError(
            path,
            f"variable {variable!r} is a MATLAB {cls}, not a numeric array: "
            + _NOT_NUMERIC.get(cls, "save the samples as a numeric matrix").format(v=variable),
        )
    if len(shape) != 2 or min(shape) == 0:
        raise SourceError(
            path, f"variable {variable!r} has shape {shape}; expected 2-D channels x samples"
        )
    return (int(shape[0]), int(shape[1])), np.dtype(dtype)


def _check_h5_written(path: str, variable: str, ds: Any) -> None:
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


@functools.lru_cache(maxsize=_DATA_CACHE_SIZE)
def v5_array(path: str, stamp: FileVersion, variable: str) -> np.ndarray:
    """A v4/v5 data variable as stored (MATLAB orientation); a struct field as ``'a.b'``."""
    if "." in variable:
        value = np.asarray(small_variable(path, "5", variable))
        return value[None, :] if value.ndim == 1 else value
    arr = _loadmat(path, variable, simplify=False)
    return arr if arr.ndim != 1 else arr[None, :]


def _loadmat(path: str, top: str, *, simplify: bool) -> Any:
    from scipy.io import loadmat

    check_mat_budget(path, top)
    try:
        content = loadmat(path, variable_names=[top], simplify_cells=simplify, mat_dtype=False)
    except zlib.error as exc:
        raise SourceError(path, _NOT_INFLATING.format(what=f"variable {top!r}")) from exc
    except Exception as exc:  # scipy's parser: "Expecting miINT32 as data type", ...
        raise SourceError(
            path, f"cannot read this MAT file: its variable {top!r} {_NOT_PARSING}"
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


# -- memory budget: declared sizes and zlib streams, before anything is loaded ----------------

_MI_MATRIX, _MI_COMPRESSED = 14, 15
# bytes per element of each MATLAB class as scipy returns it (char: 4-byte unicode; cell,
# struct, object: one object pointer); sparse (5) is judged by its stored bytes alone
_CLASS_BYTES = {1: 8, 2: 8, 3: 8, 4: 4, 6: 8, 7: 4, 8: 1, 9: 1, 10: 2, 11: 2, 12: 4, 13: 4}
_CLASS_BYTES |= {14: 8, 15: 8}
_V4_BYTES = {0: 8, 1: 4, 2: 4, 3: 2, 4: 2, 5: 1}
_INFLATE_PIECE = 1 << 20


def check_mat_budget(path: str, variable: str | None = None) -> None:
    """Refuse, before loading, a MAT variable (every variable when ``None``) that is truncated
    or would take more memory than the per-file budget; see the module docstring."""
    version = mat_version(path)
    if version == "5":
        _check_v5(path, variable)
        check_v5_structure(path, variable)  # what scipy's compiled parser would crash on
    elif version == "4":
        _check_v4(path, variable)
    else:
        _check_h5(path, variable)


def _check_v5(path: str, variable: str | None) -> None:
    with open(path, "rb") as fh:
        order = "<" if fh.read(128)[126:128] == b"IM" else ">"
        size = os.fstat(fh.fileno()).st_size
        pos = 128
        while pos + 8 <= size:
            fh.seek(pos)
            mdtype, n_bytes = struct.unpack(order + "II", fh.read(8))
            if mdtype >> 16 or n_bytes == 0:
                return  # not a top-level element: scipy says what is wrong
            if n_bytes > size - pos - 8:
                raise SourceError(
                    path,
                    f"MAT file truncated: the variable at byte {pos} declares {n_bytes} bytes, "
                    f"{size - pos - 8} remain: re-download it",
                )
            if mdtype == _MI_COMPRESSED:
                _check_compressed(path, fh, n_bytes, order, variable)
            elif mdtype == _MI_MATRIX:
                name, need = _matrix_need(fh.read(min(n_bytes, 4096)), order, n_bytes)
                if variable in (None, name):
                    check_allocation(path, need, f"loading MATLAB variable {name!r}")
            pos += 8 + n_bytes


def _check_compressed(
    path: str, fh: BinaryIO, n_bytes: int, order: str, variable: str | None
) -> None:
    """Inflate one ``miCOMPRESSED`` element piece by piece: its header first (name, declared
    size), then, for a variable that will be loaded, the whole stream, counting bytes."""
    start = fh.tell() - 8  # the element's tag
    inflater = zlib.decompressobj()
    left = n_bytes
    head, total, parsed = b"", 0, False
    name, declared = "?", 0
    while left > 0 or inflater.unconsumed_tail:
        check_time(path)
        try:
            if inflater.unconsumed_tail:
                piece = inflater.decompress(inflater.unconsumed_tail, _INFLATE_PIECE)
            else:
                chunk = fh.read(min(left, _INFLATE_PIECE))
                left = left - len(chunk) if chunk else 0
                piece = inflater.decompress(chunk, _INFLATE_PIECE)
        except zlib.error as exc:
            what = f"the compressed variable at byte {start}"
            raise SourceError(path, _NOT_INFLATING.format(what=what)) from exc
        total += len(piece)
        if not parsed:
            head += piece[: 4096 - len(head)]
            if len(head) < 4096 and (left > 0 or inflater.unconsumed_tail):
                continue
            parsed = True
            name, need = _matrix_need(head, order, None)
            if variable not in (None, name):
                return
            declared = struct.unpack(order + "I", head[4:8])[0] + 8 if len(head) >= 8 else 0
            check_allocation(path, need, f"loading MATLAB variable {name!r}")
        if declared and total > declared:
            raise SourceError(
                path,
                f"MATLAB variable {name!r}: its zlib stream inflates past the {declared} bytes "
                "it declares (a damaged or hostile file)",
            )
        check_allocation(path, total, f"decompressing MATLAB variable {name!r}")


def _matrix_need(buf: bytes, order: str, n_bytes: int | None) -> tuple[str, int]:
    """(name, bytes scipy needs) of an ``miMATRIX`` element from its first bytes (its tag
    included when ``n_bytes`` is None, i.e. inflated from a compressed element)."""
    if n_bytes is None:
        if len(buf) < 8:
            return "?", 0
        n_bytes = struct.unpack(order + "I", buf[4:8])[0]
        buf = buf[8:]
    fields = []
    pos = 0
    for _ in range(3):  # array flags, dimensions, name
        if pos + 8 > len(buf):
            return "?", n_bytes
        word, size = struct.unpack(order + "II", buf[pos : pos + 8])
        if word >> 16:  # small data element: 2-byte size, 2-byte type, 4 bytes of data
            size = word >> 16
            fields.append(buf[pos + 4 : pos + 4 + size])
            pos += 8
        else:
            fields.append(buf[pos + 8 : pos + 8 + size])
            pos += 8 + size + (-size % 8)
    flags, dims, name = fields
    if len(flags) < 4 or len(dims) < 4:
        return "?", n_bytes
    cls = struct.unpack(order + "I", flags[:4])[0] & 0xFF
    complex_ = 2 if struct.unpack(order + "I", flags[:4])[0] & 0x800 else 1
    shape = struct.unpack(order + f"{len(dims) // 4}i", dims[: len(dims) // 4 * 4])
    declared = math.prod(max(d, 0) for d in shape) * _CLASS_BYTES.get(cls, 0) * complex_
    return name.decode("latin-1"), n_bytes + declared


def _check_v4(path: str, variable: str | None) -> None:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        pos = 0
        while pos + 20 <= size:
            fh.seek(pos)
            raw = fh.read(20)
            order = "<" if 0 <= struct.unpack("<i", raw[:4])[0] < 5000 else ">"
            mopt, rows, cols, imag, namlen = struct.unpack(order + "5i", raw)
            item = _V4_BYTES.get(mopt // 10 % 10, 8)
            if min(rows, cols, namlen) < 0:
                return  # scipy says what is wrong
            n_data = rows * cols * item * (2 if imag else 1)
            name = fh.read(namlen).rstrip(b"\x00").decode("latin-1")
            if n_data > size - pos - 20 - namlen:
                raise SourceError(
                    path,
                    f"MAT file truncated: variable {name!r} declares {n_data} bytes, "
                    f"{size - pos - 20 - namlen} remain: re-download it",
                )
            if variable in (None, name):
                check_allocation(path, 2 * n_data, f"loading MATLAB variable {name!r}")
            pos += 20 + namlen + n_data


def _check_h5(path: str, variable: str | None) -> None:
    """Every dataset (under ``variable`` when given): its shape times its item size."""
    import h5py

    with h5_open(path) as f:
        total = 0

        def visit(name: str, obj: Any) -> None:
            nonlocal total
            if isinstance(obj, h5py.Dataset) and (
                variable is None or name.split("/")[0] == variable.split(".")[0]
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
    return any(f"{os.sep}h5py{os.sep}" in frame.filename for frame in frames)


def _h5_file(path: str) -> Any:
    import h5py

    try:
        return h5py.File(path, "r")
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


def _h5_class(obj: Any) -> str:
    """The MATLAB class of an HDF5 object: its ``MATLAB_class`` attribute, else, for a dataset
    written by other HDF5 software (h5py: no such attribute), the class of its dtype
    (``'double'`` for float64, ``'int16'``, ...; the dtype's name when it is not numeric); ``''``
    for a group without the attribute."""
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


def _h5_get(path: str, f: Any, dotted: str) -> Any:
    """The dataset or group at a dotted path (struct fields are HDF5 members)."""
    import h5py

    obj = f
    for i, name in enumerate(dotted.split(".")):
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
        obj = obj[name]
    return _h5_variable(path, obj)


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
    """An HDF5 object's path for messages (an object reached by reference has none)."""
    return obj.name[1:] if obj.name else "(unnamed: reached by a reference)"


MAX_MAT_DEPTH = 64
"""Most levels of structs and cells a MAT v7.3 value may nest (an EEG file's: a few). A
reference loop (a cell that refers to itself) or a crafted file nests without end."""


def _h5_value(f: Any, obj: Any, depth: int = 0) -> Any:
    """A v7.3 variable as Python values: arrays transposed back, cells as lists, chars as str."""
    import h5py

    if depth > MAX_MAT_DEPTH:
        raise SourceError(
            f.filename,
            f"MATLAB variable {_h5_label(obj)!r} nests more than {MAX_MAT_DEPTH} levels of "
            "structs and cells (a reference loop, or a damaged or crafted file)",
        )
    if isinstance(obj, h5py.Group):
        return {k: _h5_value(f, obj[k], depth + 1) for k in h5_names(f.filename, obj)}
    if obj.attrs.get("MATLAB_empty", 0):
        return np.array([])
    arr = h5_read(f.filename, obj)
    if h5py.check_ref_dtype(obj.dtype) is not None:
        refs = np.asarray(arr).T.ravel()
        return [_h5_value(f, _h5_variable(f.filename, f[ref]), depth + 1) for ref in refs]
    arr = np.asarray(arr).T
    if _h5_class(obj) == "char":
        rows = ["".join(map(chr, row)).rstrip("\x00 ") for row in np.atleast_2d(arr)]
        return rows[0] if len(rows) == 1 else rows
    return np.squeeze(arr)


H5_MAX_INFLATION = 1100
"""Most bytes a compressed HDF5 dataset may give per byte it stores (deflate inflates 1032-fold
at most); a shape that claims more than its stored bytes can give is a damaged header."""


def h5_read(path: str, ds: Any) -> np.ndarray:
    """A whole HDF5 dataset of a MAT v7.3 file, once its shape is checked: within the memory
    budget, and held by the file (:func:`check_h5_stored`); a flipped header can claim any
    shape, and HDF5 reads what was never written as fill values."""
    name = _h5_label(ds)
    check_allocation(path, ds.size * ds.dtype.itemsize, f"loading MATLAB variable {name!r}")
    check_h5_stored(path, name, ds)
    return ds[()]


def check_h5_stored(path: str, variable: str, ds: Any) -> None:
    """Refuse a dataset whose shape claims more bytes than the file stores for it (uncompressed:
    every byte; compressed: :data:`H5_MAX_INFLATION` per stored byte), and a data variable
    whose chunks were not all written (:func:`_check_h5_written`)."""
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
    _check_h5_written(path, variable, ds)


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
            obj = group[name]
            if isinstance(obj, h5py.Group):  # a struct (array): its fields' entry counts
                sizes = [
                    int(ds.size) for ds in obj.values()
                    if isinstance(ds, h5py.Dataset) and _h5_class(ds) != "char"
                ]  # fmt: skip
                keys = tuple(h5_names(path, obj))
                out[name] = MatField("struct", (1, max(sizes, default=1)), fields=keys)
                continue
            cls = _h5_class(obj) or "unknown"
            empty = bool(obj.attrs.get("MATLAB_empty", 0))
            shape = (0, 0) if empty else tuple(int(n) for n in obj.shape[::-1])
            small = obj.size * obj.dtype.itemsize <= FIELD_VALUE_BYTES
            value = None
            if empty:
                value = np.zeros((0, 0))
            elif small and (cls in NUMERIC_CLASSES or cls == "char"):
                value = _h5_value(f, obj)
                value = value if cls == "char" else np.asarray(value, dtype=np.float64)
            out[name] = MatField(cls, shape, value)
        return out


def h5_block(
    path: str, variable: str, rows: np.ndarray, start: int, stop: int, channels_first: bool
) -> np.ndarray:
    """Raw values (rows, stop - start) sliced from HDF5 (stored transposed: time x channels)."""
    lo, hi = int(rows.min()), int(rows.max()) + 1
    with h5_open(path) as f:
        ds = _h5_get(path, f, variable)
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


def clear_cache() -> None:
    """Forget this process's cached listings and data variables."""
    _listing.cache_clear()
    v5_array.cache_clear()
