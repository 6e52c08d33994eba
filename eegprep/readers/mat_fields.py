"""Fields of a MATLAB struct read one by one, without loading the struct.

An EEGLAB ``.set`` of the older layout keeps everything in one ``EEG`` struct, its samples
included: loading it to read ``EEG.srate`` takes the memory of the whole recording (and MNE
loads it again). :func:`struct_fields` reads only the fields asked for, each field's MATLAB
class and shape always and its value when it is small (:data:`FIELD_VALUE_BYTES`), and steps
over the rest, by walking the MAT v5 file's elements (:mod:`eegprep.readers.mat_v5_stream`: a
compressed variable is inflated as a stream, 1 MiB at a time, and what is not asked for thrown
away); memory stays a few MiB
whatever the file's size. :func:`v5_listing` lists a file's variables the same way. MAT v7.3
files are HDF5, whose datasets h5py reads only when asked
(:func:`~eegprep.readers.mat73.h5_struct_fields`). :func:`not_found` is the one message of
both versions for a variable or field a file does not hold.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import difflib
import io
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted
from eegprep.readers.mat_v5_stream import MI_DTYPES, MI_MATRIX, Cut, VariableStream, variables
from eegprep.readers.read_once import once

FIELD_VALUE_BYTES = 1 << 20
"""The largest field whose value :func:`struct_fields` reads (a rate, a count, a file name);
larger ones (the samples) are described by class and shape only."""

_ELEMENT_LIMIT = FIELD_VALUE_BYTES + 64  # the largest element read: a field's value, its tag
_HEAD_BYTES = 1 << 16  # a larger field's bytes read: its head and a struct's field names

_TEXT = {16: "utf-8", 17: "utf-16", 18: "utf-32", 4: "utf-16"}  # miUTF8/16/32, miUINT16
_CLASSES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double",
            7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32",
            13: "uint32", 14: "int64", 15: "uint64", 16: "function", 17: "opaque"}  # fmt: skip
NUMERIC_CLASSES = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
)


def not_found(path: str, name: str, names: Sequence[str]) -> SourceError:
    """The error for a variable ``name`` a MAT file (v4, v5 or v7.3) does not hold, listing
    ``names`` and the closest one."""
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none"
    return SourceError(path, f"variable {name!r} not found; variables in the file: {listed}.{hint}")


def cell_samples_error(path: str, variable: str, n: int) -> SourceError:
    """The error for a data variable that is a MATLAB cell of ``n`` arrays, ``n`` not 1 (a cell
    of one is read as its array, in every MAT version: FieldTrip's continuous ``data.trial``)."""
    return SourceError(
        path,
        f"variable {variable!r} is a MATLAB cell of {counted(n, 'array')}, not one continuous "
        "recording (FieldTrip keeps one trial per cell): save one numeric matrix, or a cell "
        "of one trial",
    )


def cell_path_error(path: str, name: str, n: int, dotted: str) -> SourceError:
    """The error for ``dotted``, a field of ``name``, which is a MATLAB cell of ``n`` values
    (``n`` not 1: a cell of one struct is walked through, in every MAT version)."""
    return SourceError(
        path,
        f"variable {name!r} is a MATLAB cell of {counted(n, 'value')}, not one struct: "
        f"{dotted!r} names no single value; save one struct in MATLAB (e.g. {name}{{1}})",
    )


@dataclass(frozen=True)
class MatField:
    """One field of a struct, as stored.

    Attributes
    ----------
    cls : str
        MATLAB class (``'double'``, ``'char'``, ``'struct'``, ...; ``'complex double'`` for a
        complex one).
    shape : tuple of int
        MATLAB dimensions; ``(0, 0)`` for an empty field.
    value : Any
        A numeric field as a float64 array of its shape (int64/uint64 when stored as 64-bit
        integers: exact), a ``char`` one as a str (rows joined
        by newlines); ``None`` when larger than :data:`FIELD_VALUE_BYTES` or of another class.
    fields : tuple of str
        A struct's field names (``chanlocs``: ``labels``, ``X``, ...); empty for other classes.
    """

    cls: str
    shape: tuple[int, ...]
    value: Any = None
    fields: tuple[str, ...] = ()

    @property
    def n_entries(self) -> int:
        """Elements of a struct array (channels of ``chanlocs``); 1 for other non-empty
        fields, 0 for an empty one."""
        n = math.prod(self.shape)
        return n if self.cls == "struct" else int(n > 0)


def struct_fields(path: str, variable: str, names: frozenset[str]) -> dict[str, MatField] | None:
    """The fields ``names`` of the 1x1 struct ``variable`` of a MAT v5 file (those it has);
    ``None`` when the file holds no such struct, or its bytes cannot be walked (damaged: the
    loader names what is wrong), or a field of ``names`` cannot be read. MAT v7.3:
    :func:`~eegprep.readers.mat73.h5_struct_fields`. Every part of a header asks for its own
    fields (an EEGLAB ``.set``'s data file, events, rate and channels): the struct is walked
    once per read of the file for all of them (:func:`_every_field`)."""
    found = _every_field(path, variable)
    if found is None:
        return None
    picked: dict[str, MatField] = {}
    for name, field in found.items():
        if name in names and isinstance(field, _Unread):
            return None
        if name in names and isinstance(field, MatField):
            picked[name] = field
    return picked


@dataclass(frozen=True)
class _Unread:
    """A field whose value could not be read (refused only to a caller that asks for it)."""


@once
def _every_field(path: str, variable: str) -> dict[str, MatField | _Unread] | None:
    """Every field of the 1x1 struct ``variable`` (:func:`struct_fields`), walked once per read
    of the file (:mod:`~eegprep.readers.read_once`)."""
    try:
        return _v5_fields(path, variable)
    except (Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None


# -- MAT v5 -----------------------------------------------------------------------------------


def variable_field(path: str, variable: str) -> MatField | None:
    """A top-level variable of a MAT v5 file as :func:`struct_fields` describes a field (a
    struct's field names included), read from its first bytes; ``None`` when the file has no
    such variable or cannot be walked."""
    try:
        with open_regular(path, buffering=-1) as fh:
            for stream, order, n_bytes in variables(path, fh, _ELEMENT_LIMIT):
                if n_bytes == 0:
                    continue
                flags, dims, name = _matrix_head(stream, order)
                if name == variable:
                    return _described(stream, order, n_bytes, flags, dims)
    except (Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None
    return None


@once
def v5_listing(path: str) -> tuple[tuple[str, tuple[int, ...], str], ...] | None:
    """(name, shape, class) of each top-level variable of a MAT v5 file, as scipy's
    ``whosmat`` gives them (a char array's shape without its last dimension, ``'logical'``
    for a logical array), from each variable's first bytes alone: ``whosmat`` inflates a
    compressed variable whole (a ``.set`` of 2 GB samples took 2-4 GB to list). ``None`` when
    the file cannot be walked (``whosmat`` then says what is wrong)."""
    out = []
    try:
        with open_regular(path, buffering=-1) as fh:
            for stream, order, n_bytes in variables(path, fh, _ELEMENT_LIMIT):
                if n_bytes == 0:
                    return None
                flags, dims, name = _matrix_head(stream, order)
                cls = "logical" if flags & 0x200 else _CLASSES.get(flags & 0xFF, "unknown")
                shape = tuple(dims[:-1]) if cls == "char" else tuple(dims)
                out.append((name or "__function_workspace__", shape, cls))
    except (Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None
    return tuple(out)


def _v5_fields(path: str, variable: str) -> dict[str, MatField | _Unread] | None:
    """Walk the file's top-level variables to ``variable``, then its struct's fields."""
    with open_regular(path, buffering=-1) as fh:
        for stream, order, n_bytes in variables(path, fh, _ELEMENT_LIMIT):
            found = _top_struct(stream, order, n_bytes, variable)
            if found is not None:
                return found
    return None


def _top_struct(
    stream: VariableStream, order: str, n_bytes: int, variable: str
) -> dict[str, MatField | _Unread] | None:
    """The fields of this top-level matrix when it is the 1x1 struct ``variable``."""
    if n_bytes == 0:
        return None
    flags, dims, name = _matrix_head(stream, order)
    if name != variable:
        return None
    if _CLASSES.get(flags & 0xFF) != "struct" or math.prod(dims) != 1:
        return None
    fields = _field_names(stream, order)
    out: dict[str, MatField | _Unread] = {}
    for field in fields:
        mdtype, size = _tag(stream, order)
        if mdtype != MI_MATRIX:
            raise Cut(f"field {field!r} is not a MATLAB array")
        out[field] = _own_field(stream, order, size)
    return out


def _own_field(stream: VariableStream, order: str, size: int) -> MatField | _Unread:
    """The field of ``size`` bytes at ``stream`` (an element's bytes at most; a larger one's
    first :data:`_HEAD_BYTES`: its class, shape and field names, no value), parsed from its
    own bytes and the stream left at its end: damage inside one field is refused only to a
    caller that asks for that field (:func:`struct_fields`), as when each caller's walk
    stepped over the fields it did not ask for."""
    if not size:
        return MatField("double", (0, 0), np.zeros((0, 0)))
    n_read = size if size <= _ELEMENT_LIMIT else _HEAD_BYTES
    own = stream.read(n_read)
    stream.skip(size - n_read)
    try:
        return _field(
            VariableStream(stream.path, io.BytesIO(own), n_read, False, n_read), order, size
        )
    except (Cut, struct.error, zlib.error, ValueError, OverflowError):
        return _Unread()


def _field_names(stream: VariableStream, order: str) -> list[str]:
    """A struct's field names, after its array head."""
    width = _ints(stream, order)
    if len(width) != 1 or width[0] <= 0:
        raise Cut("a struct without a field name length")
    _, raw = _element(stream, order)
    return [raw[i : i + width[0]].split(b"\0")[0].decode("latin-1")
            for i in range(0, len(raw), width[0])]  # fmt: skip


def _field(stream: VariableStream, order: str, size: int) -> MatField:
    """One field's class, shape and (small numeric or char) value."""
    flags, dims, _ = _matrix_head(stream, order)
    return _described(stream, order, size, flags, dims)


def _described(
    stream: VariableStream, order: str, size: int, flags: int, dims: list[int]
) -> MatField:
    """An array's :class:`MatField`, from its head (``flags``, ``dims``) and the bytes after."""
    cls = _CLASSES.get(flags & 0xFF, "unknown")
    cls = "logical" if flags & 0x200 else cls
    shape = tuple(dims)
    if cls == "struct":
        return MatField(cls, shape, fields=tuple(_field_names(stream, order)))
    if (cls not in NUMERIC_CLASSES and cls != "char") or size > FIELD_VALUE_BYTES:
        return MatField(cls, shape)
    mdtype, raw = _element(stream, order)
    if cls == "char":
        text = _text(mdtype, raw, order)
        rows = shape[0] if shape and shape[0] > 0 else 1
        cols = len(text) // rows if rows else 0
        lines = ["".join(text[r + rows * c] for c in range(cols)) for r in range(rows)]
        return MatField(cls, shape, "\n".join(lines))
    values = _numbers(mdtype, raw, order)
    if flags & 0x800:
        values = values + 1j * _numbers(*_element(stream, order), order)
        cls = f"complex {cls}"
    if values.size != math.prod(shape):
        raise Cut("a field whose values do not fill its shape")
    return MatField(cls, shape, values.reshape(shape, order="F"))


def _matrix_head(stream: VariableStream, order: str) -> tuple[int, list[int], str]:
    """An array's flags word, dimensions and name."""
    flags = _ints(stream, order, "I")
    dims = _ints(stream, order)
    if not flags or not dims or min(dims) < 0:
        raise Cut("an array without flags or dimensions")
    _, name = _element(stream, order)
    return flags[0], dims, name.decode("latin-1")


def _tag(stream: VariableStream, order: str) -> tuple[int, int]:
    """(data type, byte count) of an element holding an array (never in the small format)."""
    word, n = struct.unpack(order + "II", stream.read(8))
    if word >> 16:
        raise Cut("an array element in the small format")
    return word, n


def _element(stream: VariableStream, order: str) -> tuple[int, bytes]:
    """A whole (small) data element: its type and bytes, padding skipped."""
    raw = stream.read(8)
    word, n = struct.unpack(order + "II", raw)
    if word >> 16:  # small data element: 2-byte size, 2-byte type, 4 bytes of data
        size = word >> 16
        if size > 4:
            raise Cut("a small data element of more than 4 bytes")
        return word & 0xFFFF, raw[4 : 4 + size]
    data = stream.read(n)
    stream.skip(-n % 8)
    return word, data


def _ints(stream: VariableStream, order: str, kind: str = "i") -> list[int]:
    _, raw = _element(stream, order)
    return list(struct.unpack(f"{order}{len(raw) // 4}{kind}", raw[: len(raw) // 4 * 4]))


def _numbers(mdtype: int, raw: bytes, order: str) -> np.ndarray:
    """A numeric element's values: float64, except 64-bit integers, kept as int64/uint64
    (float64 would round ``2^53 + 1`` to ``2^53`` without a word; the checks of
    :mod:`eegprep.readers.mat_values` refuse what float64 cannot hold)."""
    dtype = MI_DTYPES.get(mdtype)
    if dtype is None or len(raw) % np.dtype(dtype).itemsize:
        raise Cut(f"a numeric element of type {mdtype}")
    values = np.frombuffer(raw, np.dtype(order + dtype))
    return values.astype(values.dtype.newbyteorder("=") if dtype in ("i8", "u8") else np.float64)


def _text(mdtype: int, raw: bytes, order: str) -> str:
    codec = _TEXT.get(mdtype)
    if codec in ("utf-16", "utf-32"):
        codec += "-le" if order == "<" else "-be"
    return raw.decode(codec or "latin-1", errors="replace")
