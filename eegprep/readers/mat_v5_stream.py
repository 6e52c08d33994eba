"""A MAT v5 file's top-level variables, walked element by element without loading them.

:func:`variables` finds each top-level variable from the file's element tags and gives a
:class:`VariableStream` at its array's first byte: :meth:`~VariableStream.read` returns small
elements (at most the stream's limit), :meth:`~VariableStream.skip` steps over the rest, and a
compressed variable is inflated 1 MiB at a time, what is skipped thrown away; memory stays a few
MiB whatever the file's size. The struct field reader (:mod:`eegprep.readers.mat_fields`) and
the structure check (:mod:`eegprep.readers.mat_v5_structure`) both walk files through it; bytes
that end, or say something impossible, inside a variable raise :class:`Cut`.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from eegprep.base.limits import check_time

MI_MATRIX, MI_COMPRESSED = 14, 15
_PIECE = 1 << 20
_AHEAD = 1 << 16  # bytes read ahead of an uncompressed variable's small elements
MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8",
              13: "u8", 16: "u1", 17: "u2", 18: "u4"}  # fmt: skip
STRUCT_CODES = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 9: "d", 12: "q",
                 13: "Q", 16: "B", 17: "H", 18: "I"}  # fmt: skip


class Cut(Exception):
    """The bytes end, or say something impossible, inside the variable being read."""


class VariableStream:
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
            raise Cut(f"an element of {n:,} bytes where a small one belongs")
        while len(self.buffer) - self.at < n:
            more = self._more(n - len(self.buffer) + self.at)
            if not more and self._ended():
                raise Cut("the variable ends inside an element")
            self.buffer, self.at = self.buffer[self.at :] + more, 0
        out = self.buffer[self.at : self.at + n]
        self.at += n
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        if n < 0:
            raise Cut("an element that ends before it starts")
        self.pos += n
        held = len(self.buffer) - self.at
        if held >= n:
            self.at += n
            return
        n -= held
        self.buffer, self.at = b"", 0
        if self.inflater is None:
            if n > self.left:
                raise Cut("the variable ends inside an element")
            self.fh.seek(n, 1)
            self.left -= n
            return
        while n > 0:
            more = self._more(n)
            if not more and self._ended():
                raise Cut("the variable ends inside an element")
            if len(more) > n:
                self.buffer, self.at = more, n
            n -= min(n, len(more))


def variables(path: str, fh: BinaryIO, limit: int) -> Iterator[tuple[VariableStream, str, int]]:
    """Each top-level variable: a stream at its array's first byte (inflating a compressed
    one; no element read larger than ``limit`` bytes), the byte order, and the array's byte
    count. A next variable is found from the
    file's element tags, whatever the consumer read of the one before."""
    head = fh.read(128)
    order = "<" if head[126:128] == b"IM" else ">"
    size = fh.seek(0, 2)
    pos = 128
    while pos + 8 <= size:
        fh.seek(pos)
        mdtype, n_bytes = struct.unpack(order + "II", fh.read(8))
        if mdtype not in (MI_MATRIX, MI_COMPRESSED) or n_bytes > size - pos - 8:
            raise Cut(f"an element of type {mdtype} at byte {pos}")
        stream = VariableStream(path, fh, n_bytes, mdtype == MI_COMPRESSED, limit)
        stream.where = pos
        inner = n_bytes
        if mdtype == MI_COMPRESSED:
            mdtype, inner = struct.unpack(order + "II", stream.read(8))
            if mdtype != MI_MATRIX:
                raise Cut(f"a compressed element of type {mdtype} at byte {pos}")
            stream.pos = 0
        yield stream, order, inner
        pos += 8 + n_bytes
