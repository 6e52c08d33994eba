"""A CRC-32 at the end of each row of the CSV tables labram writes into a run folder.

``predictions.csv`` (scored by ``labram report``) and ``log.csv`` (kept by ``--resume``, drawn
by the report) are read back, maybe months later and from a copy. A flipped bit in a digit is
still CSV (``0.8125`` read as ``0.8135``, step ``1300`` as ``1308``), so nothing but a checksum
shows it. The writer ends each row in :data:`CHECK_COLUMN`, the CRC-32 of the header's other
columns and the row's cells as text (:func:`row_check`); :func:`row_problem` says why a row read
back does not match it. A table without the column (an older labram's, or written by hand) is
read unchecked, unless its last column is the column's name with one character changed
(:func:`header_problem`): such a table would read as an older labram's.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import one_changed
from eegprep.base.text import DOS_END, line_at, line_spans
from eegprep.base.wording import counted

CHECK_COLUMN = "row_crc32"
"""The last column of each row: :func:`row_check` of its other cells (8 hex digits)."""

CHANGED = "changed since labram wrote it: a flipped bit, a bad copy, an edit"


TABLE_LIMIT = 64 * 2**20
"""The largest CSV table of a run read (``predictions.csv``, ``log.csv``), bytes: 64 MiB holds
over 500,000 windows' predictions or log rows; one of gigabytes is refused in one line naming
it, before a byte is read (its rows are held in memory)."""
LINE_LIMIT = 2**20
"""The longest line of such a table, characters: a predictions row of thousands of classes is
a few hundred kB; a line of megabytes (a foreign file, bytes run together) is refused before
:mod:`csv` makes a header or row of hundreds of thousands of cells from it."""


class TableBytesError(ValueError):
    """Bytes no CSV table of a run has (:func:`decoded_table`): ``what`` they are, on ``line``."""

    def __init__(self, what: str, line: int) -> None:
        super().__init__(f"line {line} holds {what}")
        self.what, self.line = what, line


def decoded_table(raw: bytes) -> str:
    """``raw`` (the bytes of a run's CSV table) as text for :mod:`csv`; :class:`TableBytesError`
    where it is no such table: bytes that are not UTF-8, a NUL (Python's csv reads one as a
    character of its cell since 3.11, so a row without a checksum took it in), a line over
    :data:`LINE_LIMIT` characters. A byte-order mark (a spreadsheet saving the table adds one)
    and a Ctrl-Z ending the file (a DOS tool's end of text) are dropped; a line is cited as an
    editor numbers it (``\r\n``, ``\r`` or ``\n`` ends one: :func:`~eegprep.base.text.line_at`),
    where one of a file of ``\r`` line ends was cited as line 1."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        what = f"bytes that are not UTF-8 text (0x{raw[exc.start]:02x} at offset {exc.start})"
        raise TableBytesError(
            what, line_at(raw[: exc.start].decode("latin-1"), exc.start)
        ) from None
    text = text.removesuffix(DOS_END)  # (the text before it is the table)
    nul = text.find("\0")
    if nul >= 0:
        raise TableBytesError("a NUL byte, which no CSV table has", line_at(text, nul))
    for line, start, end in line_spans(text):
        if end - start > LINE_LIMIT:
            n = counted(end - start, "character", sep=",")
            what = f"{n}, over the {LINE_LIMIT:,} a line of it may have"
            raise TableBytesError(what, line)
    return text


def table_text(path: str | os.PathLike[str], raw: bytes, todo: str) -> str:
    """:func:`decoded_table`, its refusal one line naming ``path`` and the line, ending in
    ``todo`` (a UsageError)."""
    try:
        return decoded_table(raw)
    except TableBytesError as exc:
        raise UsageError(f"{shown_path(path)}: {exc}: {todo}") from None


def csv_problem(exc: csv.Error, line: int) -> str:
    """What :mod:`csv` refused (a cell over its limit of 128 kB), and on which line."""
    return f"{' '.join(str(exc).split())[:120]} on line {line}"


def csv_rows(
    reader: csv.DictReader[str], refuse: Callable[[str], Exception]
) -> Iterator[dict[Any, Any]]:
    """The rows of ``reader`` (over a table :func:`decoded_table` passed); what :mod:`csv`
    refuses on the way is ``refuse(`` :func:`csv_problem` ``)`` raised: one line naming the
    file and the line (the inner reader's: a DictReader's own ``line_num`` is its last whole
    row's)."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise refuse(csv_problem(exc, reader.reader.line_num)) from None
        yield row


def row_check(columns: Sequence[str], cells: Sequence[str]) -> str:
    """The :data:`CHECK_COLUMN` cell of a row: the CRC-32 (8 hex digits) of the header's other
    columns and the row's cells, as text. A flipped bit in a cell or in the header (a class
    name, a metric's name) changes it."""
    text = "\x1f".join(columns) + "\x1e" + "\x1f".join(cells)
    return f"{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}"


def header_problem(columns: Sequence[str]) -> str | None:
    """Why a table of header ``columns`` cannot be read as one without checksums: its last
    column is :data:`CHECK_COLUMN` with one character changed (every row would go unchecked).
    None where it has the column, or is a table of an older labram."""
    if CHECK_COLUMN in columns:
        return None
    last = columns[-1] if columns else ""
    if one_changed(last, CHECK_COLUMN):
        return f"its header's last column is {last!r}, not {CHECK_COLUMN!r} ({CHANGED})"
    return None


def row_problem(columns: Sequence[str | None], row: Mapping[Any, Any], line: int) -> str | None:
    """Why ``row`` (a :class:`csv.DictReader` row of a table with header ``columns``, on line
    ``line``) does not match its :data:`CHECK_COLUMN`: its cells changed, or it has more or
    fewer fields than the header (a flipped comma or line break). None where it matches, or
    the table has no such column (:func:`header_problem` says whether that is damage)."""
    if CHECK_COLUMN not in columns:
        return None
    data = [str(c) for c in columns if c != CHECK_COLUMN]
    if None in row or None in row.values():
        return f"line {line} has another number of fields than its header ({CHANGED})"
    if row[CHECK_COLUMN] != row_check(data, [row[c] for c in data]):
        return f"line {line} does not match its {CHECK_COLUMN} ({CHANGED})"
    return None


__all__ = [
    "CHECK_COLUMN",
    "LINE_LIMIT",
    "TABLE_LIMIT",
    "TableBytesError",
    "csv_problem",
    "csv_rows",
    "decoded_table",
    "header_problem",
    "row_check",
    "row_problem",
    "table_text",
]
