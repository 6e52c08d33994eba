"""A text table's file checked before it is parsed: its UTF-16 mark, its last line end, the
length of its lines and the memory its values would take (:mod:`eegprep.readers.csv_table`
parses it)."""

from __future__ import annotations

import os

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted


def utf16_encoding(path: str) -> str | None:
    """``'utf-16'`` for a file starting with a UTF-16 byte-order mark (Excel's "Unicode
    Text" export, tab-separated), else ``None``."""
    with open_regular(path, buffering=-1) as f:
        return "utf-16" if f.read(2) in (b"\xff\xfe", b"\xfe\xff") else None


MAX_LINE_BYTES = 4 * 2**20
"""The longest line a table may have: a row of samples is a few kB (256 channels of 20
characters: 5 kB); Python's split and numpy's tokenizer take ~10-50x a line's bytes, so a
500 MB line took over 4 GB whatever the per-file memory limit."""
_SCAN_BYTES = 2**20
_TAIL_BYTES = 4096  # the end read for its line end, past a Ctrl-Z or NUL padding


def last_line_warning(path: str) -> tuple[str, ...]:
    """A warning when the file does not end with a line end, as every program that writes
    tables ends its last row (Python's csv, pandas, numpy, MATLAB, spreadsheets): its last row
    may be cut inside a value (``12.5`` cut to ``12`` still parses), as a download or an export
    that stopped leaves it. A Ctrl-Z or NUL padding ending the file is no part of its text
    (:func:`~eegprep.base.text.end_padding`)."""
    with open_regular(path, buffering=-1) as f:
        f.seek(max(os.fstat(f.fileno()).st_size - _TAIL_BYTES, 0))
        tail = f.read(_TAIL_BYTES).rstrip(b"\x1a\x00")  # (padding: text.end_padding)
    if not tail or tail.endswith((b"\n", b"\r", b"\n\x00", b"\r\x00")):  # (UTF-16 LE: \n\0)
        return ()
    return (
        "the file does not end with a line end, as a table's writer ends its last row: the "
        "last row may be cut inside a value (a download or export that stopped); it was read "
        "as it is: re-download or re-export the file if the recording should be longer",
    )


def check_line_lengths(path: str) -> None:
    """Refuse a file with a line over :data:`MAX_LINE_BYTES` (ended by ``\\n`` or ``\\r``, as
    Python's universal newlines end them), found in one pass of 1 MiB reads (memory does not
    grow with the file), before any line is read whole."""
    start, offset = 0, 0  # the current line's first byte, the chunk's
    with open_regular(path, buffering=-1) as f:
        while chunk := f.read(_SCAN_BYTES):
            codes = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero((codes == 10) | (codes == 13)) + offset
            lengths = np.diff(ends, prepend=start)
            if lengths.size and lengths.max() > MAX_LINE_BYTES:
                k = int(lengths.argmax())
                _too_long(path, int(ends[k] - lengths[k]))
            if ends.size:
                start = int(ends[-1]) + 1
            offset += len(chunk)
            if offset - start > MAX_LINE_BYTES:
                _too_long(path, start)


def _too_long(path: str, start: int) -> None:
    raise SourceError(
        path,
        f"the line from byte {start} is longer than {MAX_LINE_BYTES // 2**20} MiB: a table of "
        "samples has one row per sample, so its line ends are missing, or it is not such a table",
    )


def check_budget(path: str, n_used: int, n_signals: int) -> None:
    """Refuse a table whose parsed values would not fit the per-file memory budget, from the
    file's size and the length of its first lines (before anything is parsed)."""
    size = os.path.getsize(path)
    with open_regular(path, buffering=-1) as f:
        sample = f.read(1 << 16)
    n_lines = max(1, sample.count(b"\n"), sample.count(b"\r"))  # (lines ended by CR alone)
    n_rows = size / (len(sample) / n_lines)
    # numpy.loadtxt grows its float64 array as it parses (up to ~2x), then float32 signals
    need = n_rows * (2 * 8 * n_used + 4 * n_signals)
    check_allocation(path, need, f"parsing ~{n_rows:.3g} rows of {counted(n_used, 'column')}")
