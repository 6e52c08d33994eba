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

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from eegprep.base.sealed_json import one_changed

CHECK_COLUMN = "row_crc32"
"""The last column of each row: :func:`row_check` of its other cells (8 hex digits)."""

CHANGED = "changed since labram wrote it: a flipped bit, a bad copy, an edit"


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


__all__ = ["CHECK_COLUMN", "header_problem", "row_check", "row_problem"]
