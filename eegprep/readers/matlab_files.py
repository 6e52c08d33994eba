"""MATLAB files at the byte level: version sniffing, variable listings, small variables and
data blocks, for MAT v4/v5 (scipy.io) and, through :mod:`eegprep.readers.mat73`, v7.3 (HDF5).

:mod:`eegprep.readers.matlab` turns these into the reader contract; this module knows nothing of
channels, rates or manifests.

Memory and safety: before scipy loads a v4/v5 variable, :func:`check_mat_budget` walks the
file's elements and refuses (one line) a variable whose declared size is over the per-file
memory budget (:mod:`eegprep.base.limits`), an element that runs past the end of the file
(truncated), an element scipy's compiled parser would crash the process on
(:func:`~eegprep.readers.mat_v5_structure.check_v5_structure`), and a
zlib stream (``miCOMPRESSED``) that inflates past its declared size or the budget: the stream is
inflated in 1 MiB pieces and thrown away, so the check itself holds little. v7.3 datasets are
checked by shape before they are read (:mod:`eegprep.readers.mat73`).

Concurrency contract: read-only; v5 data variables are cached per process (a small LRU keyed by
path, variable and the file's size and mtime), v7.3 files are opened for each read.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.files import FileVersion, file_version
from eegprep.base.limits import check_allocation, check_time
from eegprep.base.regular_files import open_regular
from eegprep.readers.mat73 import (  # noqa: F401  (h5_open...: re-exported, their home before mat73)
    H5_MAX_INFLATION,
    MAX_MAT_DEPTH,
    check_h5_budget,
    check_h5_stored,
    h5_block,
    h5_data_info,
    h5_listing,
    h5_names,
    h5_open,
    h5_read,
    h5_small_variable,
    h5_struct_fields,
    h5_variable_class,
    struct_array_error,
)
from eegprep.readers.mat_fields import (
    cell_path_error,
    cell_samples_error,
    not_found,
    struct_fields,
    v5_listing,
)
from eegprep.readers.mat_v5_structure import check_v5_structure
from eegprep.readers.mat_values import mat_numbers
from eegprep.readers.read_once import once

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NUMERIC = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
)
_SAMPLE_CLASSES = _NUMERIC - {"logical"}
_NOT_NUMERIC = {
    "logical": "EEG samples are numbers, not true/false; save them as a numeric matrix",
    "struct": 'name its field in the manifest\'s [reader.options], e.g. data = "{v}.data"',
    "sparse": "save it as a full matrix in MATLAB (full(x))",
    "complex128": "EEG samples are real numbers; save the real signal",
    "complex64": "EEG samples are real numbers; save the real signal",
}
"""What to do about a data variable of a MATLAB class that is no numeric array (a struct's
field can be named; the others must be saved otherwise)."""
_DATA_CACHE_SIZE = 2
_NOT_INFLATING = "{what} does not inflate (its zlib stream is damaged): re-download the file"
_NOT_PARSING = "does not parse as MATLAB data (the file is damaged or cut): re-download it"


@once
def mat_version(path: str) -> str:
    """``'4'``, ``'5'`` or ``'7.3'``, from the file's first bytes."""
    with open_regular(path, buffering=-1) as f:
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
        return h5_listing(path)
    from scipy.io import whosmat

    # a cut file lists the variables before the cut and stops: SEED's later trials were left
    # out without a word; every top-level element must lie whole within the file
    (_check_v5 if version == "5" else _check_v4)(path, "")

    listed = v5_listing(path) if version == "5" else None
    if listed is not None:  # whosmat inflates a compressed variable whole just to list it
        return listed
    if version == "5":
        check_v5_structure(path)  # before scipy's compiled parser reads it
    try:
        with open_regular(path, buffering=-1) as fh:  # (scipy reads from the file object)
            return tuple((n, tuple(s), c) for n, s, c in whosmat(fh))
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
        cls, shape, dtype = h5_data_info(path, variable)
    else:
        listed = {name: c for name, _, c in _listing(path, version, file_version(path))}
        cls = listed.get(variable, "double")  # a struct field: judged by its loaded dtype
        if cls in _NUMERIC or cls == "cell":  # a cell of one array is read as that array
            arr = v5_array(path, file_version(path), variable)
            shape, dtype = arr.shape, arr.dtype
            if arr.dtype.kind not in "biuf":
                cls = _value_class(arr)
            elif cls not in _NUMERIC:
                cls = _dtype_class(arr.dtype)
    if cls not in _SAMPLE_CLASSES:
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


@functools.lru_cache(maxsize=_DATA_CACHE_SIZE)
def v5_array(path: str, stamp: FileVersion, variable: str) -> np.ndarray:
    """A v4/v5 data variable as stored (MATLAB orientation); a struct field as ``'a.b'``."""
    if "." in variable:
        value = np.asarray(_one_cell(path, variable, small_variable(path, "5", variable)))
        return value[None, :] if value.ndim == 1 else value
    arr = np.asarray(_one_cell(path, variable, _loadmat(path, variable, simplify=False)))
    return arr if arr.ndim != 1 else arr[None, :]


def _one_cell(path: str, variable: str, value: Any) -> Any:
    """``value``, or the one array a MATLAB cell of one holds (FieldTrip's continuous
    ``data.trial``; scipy gives a cell as an object array, and a 1 x 1 one simplified as its
    array already); a cell of more or none is refused (:func:`cell_samples_error`)."""
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "O"):
        return value
    items = list(value.ravel())
    if any(isinstance(v, dict) or hasattr(v, "_fieldnames") for v in items):
        return value  # a struct array, not a cell: judged by its class
    if len(items) != 1:
        raise cell_samples_error(path, variable, len(items))
    return items[0]


def _value_class(arr: np.ndarray) -> str:
    """MATLAB's class of a loaded v5 value that is no real number: text ``'char'`` and a
    struct ``'struct'``, as a v7.3 file says; else numpy's dtype (``'complex128'``)."""
    if arr.dtype.kind in "US":
        return "char"
    items = list(arr.ravel()) if arr.dtype.kind == "O" else []
    if items and all(isinstance(v, dict) or hasattr(v, "_fieldnames") for v in items):
        return "struct"
    return str(arr.dtype)


def _dtype_class(dtype: np.dtype) -> str:
    """MATLAB's class of a numeric numpy dtype (``'double'``, ``'single'``, ``'int16'``)."""
    if dtype.kind == "f":
        return "single" if dtype.itemsize == 4 else "double"
    return f"{'u' if dtype.kind == 'u' else ''}int{8 * dtype.itemsize}"


def _loadmat(path: str, top: str, *, simplify: bool) -> Any:
    from scipy.io import loadmat

    check_mat_budget(path, top)
    try:
        with open_regular(path, buffering=-1) as fh:  # (scipy reads from the file object)
            content = loadmat(fh, variable_names=[top], simplify_cells=simplify, mat_dtype=False)
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
        check_h5_budget(path, dotted)  # what is read, all of it (a struct: every field)
        return h5_small_variable(path, dotted)
    value = _loadmat(path, top, simplify=True)
    for i, name in enumerate(fields):
        where = ".".join([top, *fields[:i]])
        n_structs = _struct_array_size(value)
        if n_structs and variable_class(path, version, where) == "cell":
            raise cell_path_error(path, where, n_structs, dotted)
        if n_structs:
            raise struct_array_error(path, where, n_structs, dotted)
        if not isinstance(value, dict) or name not in value:
            known = ", ".join(value) if isinstance(value, dict) else "none (not a struct)"
            raise SourceError(path, f"variable {dotted!r} not found; fields of {where!r}: {known}")
        value = value[name]
    return value


def _struct_array_size(value: Any) -> int:
    """How many structs ``value`` holds when scipy loaded a struct array (simplified: a list,
    or an object array, of dicts or ``mat_struct``); 0 otherwise."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        items = list(value.ravel())
    elif isinstance(value, list):
        items = value
    else:
        return 0
    structs = [v for v in items if isinstance(v, dict) or hasattr(v, "_fieldnames")]
    return len(items) if items and len(structs) == len(items) else 0


def variable_class(path: str, version: str, dotted: str) -> str:
    """The MATLAB class of a variable or a field of a 1x1 struct (``'nfo.fs'``): ``'logical'``
    is known only here, scipy loads it as uint8; ``'complex double'`` for a complex v5 field.
    ``''`` where unknown (deeper fields of a v5 file)."""
    if version == "7.3":
        return h5_variable_class(path, dotted)
    top, *fields = dotted.split(".")
    if not fields:
        listed = {name: c for name, _, c in _listing(path, version, file_version(path))}
        return listed.get(top, "")
    if version == "5" and len(fields) == 1:
        found = (struct_fields(path, top, frozenset(fields)) or {}).get(fields[0])
        return "" if found is None else found.cls
    return ""


def number_variable(path: str, version: str, dotted: str, *, what: str, **checks: Any) -> Any:
    """A small variable or struct field meant as numbers, as a float64 array, checked by
    :func:`~eegprep.readers.mat_values.mat_numbers` (``checks``: its keywords)."""
    value = small_variable(path, version, dotted)
    cls = variable_class(path, version, dotted)
    return mat_numbers(path, dotted, value, what=what, cls=cls, **checks)


# -- memory budget: declared sizes and zlib streams, before anything is loaded ----------------

_MI_MATRIX, _MI_COMPRESSED = 14, 15
# bytes per element of each MATLAB class as scipy returns it (char: 4-byte unicode; cell,
# struct, object: one object pointer); sparse (5) is judged by its stored bytes alone
_CLASS_BYTES = {1: 8, 2: 8, 3: 8, 4: 4, 6: 8, 7: 4, 8: 1, 9: 1, 10: 2, 11: 2, 12: 4, 13: 4}
_CLASS_BYTES |= {14: 8, 15: 8}
_V4_BYTES = {0: 8, 1: 4, 2: 4, 3: 2, 4: 2, 5: 1}
_INFLATE_PIECE = 1 << 20


def check_mat_budget(
    path: str, variable: str | None = None, *, exact: bool = False
) -> tuple[str, int] | None:
    """Refuse, before loading, a MAT variable (every variable when ``None``) that is truncated
    or would take more memory than the per-file budget; see the module docstring. Given
    ``exact``, a MAT v5 file's first 64-bit integer beyond 2^53 (MATLAB name, value), found in
    the same walk (:func:`~eegprep.readers.mat_v5_structure.check_v5_structure`); None when
    there is none, and for other versions (:func:`~eegprep.readers.mat_exact.first_inexact`
    reads a v7.3 file's)."""
    version = mat_version(path)
    if version == "5":
        _check_v5(path, variable)
        # what scipy's compiled parser would crash on (and, given exact, what float64 rounds)
        return check_v5_structure(path, variable, exact=exact)
    if version == "4":
        _check_v4(path, variable)
    else:
        check_h5_budget(path, variable)
    return None


def _check_v5(path: str, variable: str | None) -> None:
    with open_regular(path, buffering=-1) as fh:
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
        fh.seek(pos)
        _check_tail(path, fh.read(8), "a variable's 8-byte tag")


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
    with open_regular(path, buffering=-1) as fh:
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
        fh.seek(pos)
        _check_tail(path, fh.read(20), "a variable's 20-byte header")


def _check_tail(path: str, tail: bytes, what: str) -> None:
    """Refuse bytes after the last whole element that are too few for the next one's header
    and not padding (zeros): the file was cut inside that header."""
    if tail.strip(b"\x00"):
        raise SourceError(
            path,
            f"MAT file truncated: it ends {len(tail)} bytes into {what}: re-download it",
        )


def clear_cache() -> None:
    """Forget this process's cached listings and data variables."""
    _listing.cache_clear()
    v5_array.cache_clear()
