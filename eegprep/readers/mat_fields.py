"""Fields of a MATLAB struct read one by one, without loading the struct.

An EEGLAB ``.set`` of the older layout keeps everything in one ``EEG`` struct, its samples
included: loading it to read ``EEG.srate`` takes the memory of the whole recording (and MNE
loads it again). :func:`struct_fields` reads only the fields asked for, each field's MATLAB
class and shape always and its value when it is small (:data:`FIELD_VALUE_BYTES`), and steps
over the rest, by walking the MAT v5 file's elements (a compressed variable is inflated as a
stream, 1 MiB at a time, and what is not asked for thrown away); memory stays a few MiB
whatever the file's size. :func:`v5_listing` lists a file's variables the same way. MAT v7.3
files are HDF5, whose datasets h5py reads only when asked
(:func:`~eegprep.readers.mat73.h5_struct_fields`). :func:`not_found` is the one message of
both versions for a variable or field a file does not hold.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import difflib
import math
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_time

FIELD_VALUE_BYTES = 1 << 20
"""The largest field whose value :func:`struct_fields` reads (a rate, a count, a file name);
larger ones (the samples) are described by class and shape only."""

_MI_MATRIX, _MI_COMPRESSED = 14, 15
_PIECE = 1 << 20
_AHEAD = 1 << 16  # bytes read ahead of an uncompressed variable's small elements
_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8",
              13: "u8", 16: "u1", 17: "u2", 18: "u4"}  # fmt: skip
_STRUCT_CODES = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 9: "d", 12: "q",
                 13: "Q", 16: "B", 17: "H", 18: "I"}  # fmt: skip
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


class _Cut(Exception):
    """The bytes end, or say something impossible, inside the variable being read."""


def struct_fields(path: str, variable: str, names: frozenset[str]) -> dict[str, MatField] | None:
    """The fields ``names`` of the 1x1 struct ``variable`` of a MAT v5 file (those it has);
    ``None`` when the file holds no such struct, or its bytes cannot be walked (damaged: the
    loader names what is wrong). MAT v7.3: :func:`~eegprep.readers.mat73.h5_struct_fields`."""
    try:
        return _v5_fields(path, variable, names)
    except (_Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None


# -- MAT v5 -----------------------------------------------------------------------------------


class _Stream:
    """Bytes of one variable: :meth:`read` exactly n (at most ``limit``), :meth:`skip` n;
    ``pos`` counts both. A compressed variable is inflated 1 MiB at a time."""

    def __init__(self, path: str, fh: BinaryIO, n_bytes: int, compressed: bool, limit: int) -> None:
        self.path, self.fh, self.left, self.pos, self.limit = path, fh, n_bytes, 0, limit
        self.inflater = zlib.decompressobj() if compressed else None
        self.buffer, self.at = b"", 0
        self.where = 0  # the variable's byte in the file (its tag)

    def _more(self, want: int) -> bytes:
        """Next bytes (some of ``want`` at least, up to 1 MiB); empty when none came."""
        if self.inflater is None:
            chunk = self.fh.read(min(max(want, _AHEAD), self.left))
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

    def _ended(self) -> bool:
        return self.left <= 0 and not (self.inflater and self.inflater.unconsumed_tail)

    def read(self, n: int) -> bytes:
        if n > self.limit:
            raise _Cut(f"an element of {n:,} bytes where a small one belongs")
        while len(self.buffer) - self.at < n:
            more = self._more(n - len(self.buffer) + self.at)
            if not more and self._ended():
                raise _Cut("the variable ends inside an element")
            self.buffer, self.at = self.buffer[self.at :] + more, 0
        out = self.buffer[self.at : self.at + n]
        self.at += n
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        if n < 0:
            raise _Cut("an element that ends before it starts")
        self.pos += n
        held = len(self.buffer) - self.at
        if held >= n:
            self.at += n
            return
        n -= held
        self.buffer, self.at = b"", 0
        if self.inflater is None:
            if n > self.left:
                raise _Cut("the variable ends inside an element")
            self.fh.seek(n, 1)
            self.left -= n
            return
        while n > 0:
            more = self._more(n)
            if not more and self._ended():
                raise _Cut("the variable ends inside an element")
            if len(more) > n:
                self.buffer, self.at = more, n
            n -= min(n, len(more))


def variable_field(path: str, variable: str) -> MatField | None:
    """A top-level variable of a MAT v5 file as :func:`struct_fields` describes a field (a
    struct's field names included), read from its first bytes; ``None`` when the file has no
    such variable or cannot be walked."""
    try:
        with open(path, "rb") as fh:
            for stream, order, n_bytes in _variables(path, fh):
                if n_bytes == 0:
                    continue
                flags, dims, name = _matrix_head(stream, order)
                if name == variable:
                    return _described(stream, order, n_bytes, flags, dims)
    except (_Cut, struct.error, zlib.error, ValueError, OverflowError, OSError):
        return None
    return None


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


def _variables(
    path: str, fh: BinaryIO, limit: int = FIELD_VALUE_BYTES + 64
) -> Iterator[tuple[_Stream, str, int]]:
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
        stream = _Stream(path, fh, n_bytes, mdtype == _MI_COMPRESSED, limit)
        stream.where = pos
        inner = n_bytes
        if mdtype == _MI_COMPRESSED:
            mdtype, inner = struct.unpack(order + "II", stream.read(8))
            if mdtype != _MI_MATRIX:
                raise _Cut(f"a compressed element of type {mdtype} at byte {pos}")
            stream.pos = 0
        yield stream, order, inner
        pos += 8 + n_bytes


def check_v5_structure(path: str, variable: str | None = None) -> None:
    """Refuse a MAT v5 file whose variable (every one when ``variable`` is None) is damaged
    inside: an element of a data type MATLAB does not write, an array of no MATLAB class,
    sub-arrays that run past their array's end. scipy's compiled parser trusts these and
    crashed the whole process (a segmentation fault, every other file's ingest lost with it)
    on a data element of type 124 a flipped byte made. Only the elements' tags are read; data
    are stepped over. A file whose top-level elements cannot be walked is left to the
    checks that name that (truncation)."""
    with open(path, "rb") as fh:
        walk = _variables(path, fh, _STRUCTURE_BYTES)
        while True:
            try:
                stream, order, n_bytes = next(walk)
            except (StopIteration, _Cut, struct.error, zlib.error, ValueError, OSError):
                return
            try:
                _walk_array(stream, order, n_bytes, variable, 0)
            except _Skip:
                continue
            except (_Cut, struct.error, zlib.error, ValueError, OverflowError) as exc:
                raise SourceError(
                    path,
                    f"the MATLAB variable at byte {stream.where} is damaged inside ({exc}): the "
                    "file cannot be read safely; re-download it",
                ) from None


class _Skip(Exception):
    """The variable is not the one to check."""


_STRUCTURE_BYTES = 16 * 2**20  # an array's flags, dimensions, name or field names: far less
_MAX_DEPTH = 64  # nested cells and structs (a real file: a few)
_SMALL_CHILD = 1 << 16  # a struct's field or a cell's element walked in memory up to this
_DATA_TYPES = frozenset(_MI_DTYPES)  # the data elements MATLAB writes


def _walk_array(
    stream: _Stream | _Bytes, order: str, n_bytes: int, variable: str | None, depth: int
) -> None:
    """Every element of one array (an ``miMATRIX``'s content of ``n_bytes``), by type."""
    if n_bytes == 0:
        return  # an empty array
    if depth > _MAX_DEPTH:
        raise _Cut(f"arrays nested more than {_MAX_DEPTH} deep")
    start = stream.pos
    flags = _checked_ints(stream, order, "array flags")
    dims = _checked_ints(stream, order, "dimensions")
    name = _checked_element(stream, order, "the array name", _DATA_TYPES)[1]
    if depth == 0 and variable is not None and name.decode("latin-1") != variable:
        raise _Skip
    if not flags or len(dims) < 2 or min(dims) < 0:
        raise _Cut("an array without flags or dimensions")
    cls = flags[0] & 0xFF
    n = math.prod(dims)
    if cls in (2, 3):  # struct, object: the class name, field names, then each field's array
        if cls == 3:
            _checked_element(stream, order, "the class name", _DATA_TYPES)
        width = _checked_ints(stream, order, "the field name length")
        names = _checked_element(stream, order, "the field names", _DATA_TYPES)[1]
        if len(width) != 1 or width[0] <= 0:
            raise _Cut("a struct without a field name length")
        _walk_children(stream, order, n * (len(names) // width[0]), depth)
    elif cls == 1:  # cell
        _walk_children(stream, order, n, depth)
    elif cls == 4 or 6 <= cls <= 15:  # char, numeric: the real part, the imaginary one
        _checked_element(stream, order, "the data", _DATA_TYPES, skip=True)
        if flags[0] & 0x800:
            _checked_element(stream, order, "the imaginary part", _DATA_TYPES, skip=True)
    elif cls == 5:  # sparse: row indices, column starts, values
        for part in ("row indices", "column starts", "values"):
            _checked_element(stream, order, f"the {part}", _DATA_TYPES, skip=True)
    elif cls not in (16, 17):  # a function handle or opaque object: not walked
        raise _Cut(f"an array of class code {cls}, which MATLAB does not write")
    left = start + n_bytes - stream.pos
    if left < 0:
        raise _Cut("elements that run past their array's end")
    stream.skip(left)


def _walk_children(stream: _Stream | _Bytes, order: str, count: int, depth: int) -> None:
    """``count`` arrays (a cell's, a struct's fields), each an ``miMATRIX`` element; a small
    one walked in memory."""
    for _ in range(count):
        mdtype, size = struct.unpack(order + "II", stream.read(8))
        if mdtype != _MI_MATRIX:
            raise _Cut(f"a data element of type {mdtype} where an array belongs")
        if size <= _SMALL_CHILD:
            _walk_array(_Bytes(stream.read(size)), order, size, None, depth + 1)
        else:
            _walk_array(stream, order, size, None, depth + 1)
        stream.skip(-size % 8)


class _Bytes:
    """A small array's bytes, read as :class:`_Stream` reads a variable's."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Cut("elements that run past their array's end")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise _Cut("elements that run past their array's end")
        self.pos += n


def _checked_element(
    stream: _Stream | _Bytes, order: str, what: str, types: frozenset[int], *, skip: bool = False
) -> tuple[int, bytes]:
    """One data element of a type in ``types``; its bytes (none when ``skip``)."""
    raw = stream.read(8)
    word, n = struct.unpack(order + "II", raw)
    small = word >> 16
    mdtype = word & 0xFFFF if small else word
    if mdtype not in types:
        raise _Cut(f"{what} is a data element of type {mdtype}, which MATLAB does not write")
    if small:
        if small > 4:
            raise _Cut(f"{what} is a small data element of {small} bytes (4 at most)")
        return mdtype, raw[4 : 4 + small]
    if skip:
        stream.skip(n + (-n % 8))
        return mdtype, b""
    data = stream.read(n)
    stream.skip(-n % 8)
    return mdtype, data


def _checked_ints(stream: _Stream | _Bytes, order: str, what: str) -> list[int]:
    mdtype, raw = _checked_element(stream, order, what, _DATA_TYPES)
    code = _STRUCT_CODES[mdtype]
    count = len(raw) // struct.calcsize(code)
    return [int(v) for v in struct.unpack_from(f"{order}{count}{code}", raw)]


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
    fields = _field_names(stream, order)
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


def _field_names(stream: _Stream, order: str) -> list[str]:
    """A struct's field names, after its array head."""
    width = _ints(stream, order)
    if len(width) != 1 or width[0] <= 0:
        raise _Cut("a struct without a field name length")
    _, raw = _element(stream, order)
    return [raw[i : i + width[0]].split(b"\0")[0].decode("latin-1")
            for i in range(0, len(raw), width[0])]  # fmt: skip


def _field(stream: _Stream, order: str, size: int) -> MatField:
    """One field's class, shape and (small numeric or char) value."""
    flags, dims, _ = _matrix_head(stream, order)
    return _described(stream, order, size, flags, dims)


def _described(stream: _Stream, order: str, size: int, flags: int, dims: list[int]) -> MatField:
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
