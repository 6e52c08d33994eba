"""What parsing one sidecar costs in memory, asked before its parser runs.

Sidecar parsers read a file whole, as text, and keep objects per line (a row's cells, an
event's list, its floats and label): a label file of 10^7 lines of 10 bytes (100 MB) held
2.3 GB while parsed, where its bytes alone foretold 1 GB. The estimate therefore counts the
lines as well as the bytes, so that ``--file-memory-limit`` refuses such a file in one line
before it is read, instead of a worker taking the memory.
"""

from __future__ import annotations

import os

from eegprep.base.regular_files import open_regular

BYTES_PER_BYTE = 10
"""Memory a sidecar parser holds per byte of text (the text, its lines and cells)."""

BYTES_PER_LINE = 200
"""Memory a sidecar parser holds per line besides (a row or an event: ~220 bytes each of a TUH
label file's 10^7 rows, less the bytes' share)."""

_CHUNK = 1 << 20  # bytes read at a time to count lines: memory stays at one chunk


def sidecar_bytes(path: str) -> int:
    """Bytes a parser may hold while parsing ``path`` (a regular file, checked on its open
    descriptor): :data:`BYTES_PER_BYTE` per byte and :data:`BYTES_PER_LINE` per line. Counting
    the lines reads the file once, a megabyte at a time (~0.1 s per 100 MB)."""
    n_lines = 0
    with open_regular(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        while chunk := fh.read(_CHUNK):
            n_lines += max(chunk.count(b"\n"), chunk.count(b"\r"))  # (CR alone ends one too)
    return BYTES_PER_BYTE * size + BYTES_PER_LINE * (n_lines + 1)


__all__ = ["BYTES_PER_BYTE", "BYTES_PER_LINE", "sidecar_bytes"]
