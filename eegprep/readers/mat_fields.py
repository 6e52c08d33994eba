"""Fields of a MATLAB struct read one by one, without loading the struct.

An EEGLAB ``.set`` of the older layout keeps everything in one ``EEG`` struct, its samples
included: loading it to read ``EEG.srate`` takes the memory of the whole recording (and MNE
loads it again). :func:`struct_fields` reads only the fields asked for, each field's MATLAB
class and shape always and its value when it is small (:data:`FIELD_VALUE_BYTES`), and steps
over the rest, by walking the MAT v5 file's elements (a compressed variable is inflated as a
stream, 1 MiB at a time, and what is not asked for thrown away); memory stays a few MiB
whatever the file's size. :func:`v5_listing` lists a file's variables the same way. MAT v7.3
files are HDF5, whose datasets h5py reads only when asked
(:func:`~eegprep.readers.matlab_files.h5_struct_fields`).

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from eegprep.base.limits import check_time

FIELD_VALUE_BYTES = 1 << 20
"""The largest field whose value :func:`struct_fields` reads (a rate, a count, a file name);
larger ones (the samples) are described by class and shape only."""

_MI_MATRIX, _MI_COMPRESSED = 14, 15
_PIECE = 1 << 20
_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8",
              13: "u8", 16: "u1", 17: "u2", 18: "u4"}  # fmt: skip
_TEXT = {16: "utf-8", 17: "utf-16", 18: "utf-32", 4: "utf-16"}  # miUTF8/16/32, miUINT16
_CLASSES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double",
            7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32",
            13: "uint32", 14: "int64", 15: "uint64", 16: "function", 17: "opaque"}  # fmt: skip
NUMERIC_CLASSES = frozenset(
    ["double", "single", "logical"] + [f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)]
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
        A numeric field as a float64 array of its shape, a ``char`` one as a str (rows joined
        by newlines); ``None`` when larger than :data:`FIELD_VALUE_BYTES` or of another class.
    """

    cls: str
    shape: tuple[int, ...]
    value: Any = None

    @property
    def n_entries(self) -> int:
        """Elements of a struct array (channels of ``chanlocs``); 1 for other non-empty
        fields, 0 for an empty one."""
        n = math.prod(self.shape)
        return n if self.cls == "struct" else int(n > 0)


class _Cut(Exception):
    """The bytes end, or say something impossible, inside the variable being read."""


def struct_fields(path: str, variable: str, names: frozenset[str]) -> dict[str, MatField] | None:
    """The fields ``names`` of the 1x1 struct ``variable`` of a MAT v5 file (those it has);
    ``None`` when the file holds no such struct, or its bytes cannot be walked (damaged: the
    loader names what is wrong). MAT v7.3: :func:`~eegprep.readers.matlab_files.
    h5_struct_fields`."""
    try:
        return _v5_fields(path, variable, names)
    except (_Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None


# -- MAT v5 -----------------------------------------------------------------------------------


class _Stream:
    """Bytes of one variable: :meth:`read` exactly n, :meth:`skip` n; ``pos`` counts both."""

    def __init__(self, path: str, fh: BinaryIO, n_bytes: int, compressed: bool) -> None:
        self.path, self.fh, self.left, self.pos = path, fh, n_bytes, 0
        self.inflater = zlib.decompressobj() if compressed else None
        self.buffer = b""

    def _more(self, want: int) -> bytes:
        """Up to ``want`` (at most 1 MiB) next bytes; empty at the end."""
        if self.inflater is None:
            chunk = self.fh.read(min(want, self.left, _PIECE))
            self.left -= len(chunk)
            return chunk
        check_time(self.path)
        if self.inflater.unconsumed_tail:
            return self.inflater.decompress(self.inflater.unconsumed_tail, _PIECE)
        if self.left <= 0:
            return b""
        raw = self.fh.read(min(self.left, _PIECE))
        self.left = self.left - len(raw) if raw else 0
        return self.inflater.decompress(raw, _PIECE) if raw else b""

    def read(self, n: int) -> bytes:
        if n > FIELD_VALUE_BYTES + 64:
            raise _Cut(f"an element of {n} bytes where a small one was expected")
        while len(self.buffer) < n:
            more = self._more(n - len(self.buffer))
            if not more and (self.left <= 0 and not self._tail()):
                raise _Cut("the variable ends early")
            self.buffer += more
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        if n < 0:
            raise _Cut("a negative length")
        self.pos += n
        if len(self.buffer) >= n:
            self.buffer = self.buffer[n:]
            return
        n -= len(self.buffer)
        self.buffer = b""
        if self.inflater is None:
            if n > self.left:
                raise _Cut("the variable ends early")
            self.fh.seek(n, 1)
            self.left -= n
            return
        while n > 0:
            more = self._more(n)
            if not more and not self._tail():
                raise _Cut("the variable ends early")
            self.buffer = more[n:]
            n -= min(n, len(more))

    def _tail(self) -> bool:
        return bool(self.inflater is not None and self.inflater.unconsumed_tail)


def v5_listing(path: str) -> tuple[tuple[str, tuple[int, ...], str], ...] | None:
    """(name, shape, class) of each top-level variable of a MAT v5 file, as scipy's
    ``whosmat`` gives them (a char array's shape without its last dimension, ``'logical'``
    for a logical array), from each variable's first bytes alone: ``whosmat`` inflates a
    compressed variable whole (a ``.set`` of 2 GB samples took 2-4 GB to list). ``None`` when
    the file cannot be walked (``whosmat`` then says what is wrong)."""
    out = []
    try:
        with open(path, "rb") as fh:
            for stream, order, n_bytes in _variables(path, fh):
                if n_bytes == 0:
                    return None
                flags, dims, name = _matrix_head(stream, order)
                cls = "logical" if flags & 0x200 else _CLASSES.get(flags & 0xFF, "unknown")
                shape = tuple(dims[:-1]) if cls == "char" else tuple(dims)
                out.append((name or "__function_workspace__", shape, cls))
    except (_Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None
    return tuple(out)


def _variables(path: str, fh: BinaryIO) -> Iterator[tuple[_Stream, str, int]]:
    """Each top-level variable: a stream at its array's first byte (inflating a compressed
    one), the byte order, and the array's byte count. A next variable is found from the
    file's element tags, whatever the consumer read of the one before."""
    head = fh.read(128)
    order = "<" if head[126:128] == b"IM" else ">"
    size = fh.seek(0, 2)
    pos = 128
    while pos + 8 <= size:
        fh.seek(pos)
        mdtype, n_bytes = struct.unpack(order + "II", fh.read(8))
        if mdtype not in (_MI_MATRIX, _MI_COMPRESSED) or n_bytes > size - pos - 8:
            raise _Cut(f"an element of type {mdtype} at byte {pos}")
        stream = _Stream(path, fh, n_bytes, mdtype == _MI_COMPRESSED)
        inner = n_bytes
        if mdtype == _MI_COMPRESSED:
            mdtype, inner = struct.unpack(order + "II", stream.read(8))
            if mdtype != _MI_MATRIX:
                raise _Cut(f"a compressed element of type {mdtype} at byte {pos}")
            stream.pos = 0
        yield stream, order, inner
        pos += 8 + n_bytes


def _v5_fields(path: str, variable: str, names: frozenset[str]) -> dict[str, MatField] | None:
    """Walk the file's top-level variables to ``variable``, then its struct's fields."""
    with open(path, "rb") as fh:
        for stream, order, n_bytes in _variables(path, fh):
            found = _top_struct(stream, order, n_bytes, variable, names)
            if found is not None:
                return found
    return None


def _top_struct(
    stream: _Stream, order: str, n_bytes: int, variable: str, names: frozenset[str]
) -> dict[str, MatField] | None:
    """The fields of this top-level matrix when it is the 1x1 struct ``variable``."""
    if n_bytes == 0:
        return None
    flags, dims, name = _matrix_head(stream, order)
    if name != variable:
        return None
    if _CLASSES.get(flags & 0xFF) != "struct" or math.prod(dims) != 1:
        return None
    width = _ints(stream, order)
    if len(width) != 1 or width[0] <= 0:
        raise _Cut("a struct without a field name length")
    mdtype, raw = _element(stream, order)
    fields = [raw[i : i + width[0]].split(b"\0")[0].decode("latin-1")
              for i in range(0, len(raw), width[0])]  # fmt: skip
    out: dict[str, MatField] = {}
    for field in fields:
        mdtype, size = _tag(stream, order)
        if mdtype != _MI_MATRIX:
            raise _Cut(f"field {field!r} is not a MATLAB array")
        start = stream.pos
        if field in names and size:
            out[field] = _field(stream, order, size)
        elif field in names:
            out[field] = MatField("double", (0, 0), np.zeros((0, 0)))
        stream.skip(start + size - stream.pos)
    return out


def _field(stream: _Stream, order: str, size: int) -> MatField:
    """One field's class, shape and (small numeric or char) value."""
    flags, dims, _ = _matrix_head(stream, order)
    cls = _CLASSES.get(flags & 0xFF, "unknown")
    cls = "logical" if flags & 0x200 else cls
    shape = tuple(dims)
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
        raise _Cut("a field whose values do not fill its shape")
    return MatField(cls, shape, values.reshape(shape, order="F"))


def _matrix_head(stream: _Stream, order: str) -> tuple[int, list[int], str]:
    """An array's flags word, dimensions and name."""
    flags = _ints(stream, order, "I")
    dims = _ints(stream, order)
    if not flags or not dims or min(dims) < 0:
        raise _Cut("an array without flags or dimensions")
    _, name = _element(stream, order)
    return flags[0], dims, name.decode("latin-1")


def _tag(stream: _Stream, order: str) -> tuple[int, int]:
    """(data type, byte count) of an element holding an array (never in the small format)."""
    word, n = struct.unpack(order + "II", stream.read(8))
    if word >> 16:
        raise _Cut("an array element in the small format")
    return word, n


def _element(stream: _Stream, order: str) -> tuple[int, bytes]:
    """A whole (small) data element: its type and bytes, padding skipped."""
    raw = stream.read(8)
    word, n = struct.unpack(order + "II", raw)
    if word >> 16:  # small data element: 2-byte size, 2-byte type, 4 bytes of data
        size = word >> 16
        if size > 4:
            raise _Cut("a small data element of more than 4 bytes")
        return word & 0xFFFF, raw[4 : 4 + size]
    data = stream.read(n)
    stream.skip(-n % 8)
    return word, data


def _ints(stream: _Stream, order: str, kind: str = "i") -> list[int]:
    _, raw = _element(stream, order)
    return list(struct.unpack(f"{order}{len(raw) // 4}{kind}", raw[: len(raw) // 4 * 4]))


def _numbers(mdtype: int, raw: bytes, order: str) -> np.ndarray:
    dtype = _MI_DTYPES.get(mdtype)
    if dtype is None or len(raw) % np.dtype(dtype).itemsize:
        raise _Cut(f"a numeric element of type {mdtype}")
    return np.frombuffer(raw, np.dtype(order + dtype)).astype(np.float64)


def _text(mdtype: int, raw: bytes, order: str) -> str:
    codec = _TEXT.get(mdtype)
    if codec in ("utf-16", "utf-32"):
        codec += "-le" if order == "<" else "-be"
    return raw.decode(codec or "latin-1", errors="replace")
