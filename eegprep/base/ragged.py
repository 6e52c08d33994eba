"""Rows of a text table checked for their count of fields as they are read.

:func:`numpy.loadtxt` given ``usecols`` reads those columns of each row and nothing else: a row
with a field too many or one missing past the last column read (a stray delimiter, a cut row)
was read as if whole, its values taken from the wrong columns unsaid (a Grasp-and-Lift
``_events.csv`` row of an extra field gave its flags to the columns beside them). Every reader
of such a table passes its lines through :func:`even_rows`, which hands them on unchanged and
refuses the first row whose count of fields is not the header's (or the first row's), naming
its line as an editor numbers it. A delimiter ending a line (every line, or some) and blanks
at its end make no field: real exports leave both.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted


def field_counts(line: str, delimiter: str | None, *, quoted: bool = False) -> tuple[int, ...]:
    """The fields of the table row ``line`` (None: runs of blanks separate them; ``quoted``:
    a delimiter inside double quotes is text, as the csv module reads it), its ``#`` comment,
    its end and blanks ending it left out: one count, or two where a delimiter ends it (an
    empty last cell, or no cell); ``()`` for a line of no fields."""
    text = line.partition("#")[0].rstrip("\r\n")
    text = text.rstrip(" \t".replace(delimiter or " ", ""))
    if not text.strip():
        return ()
    if delimiter is None:
        return (len(text.split()),)
    if quoted and '"' in text:
        n = len(next(csv.reader([text], delimiter=delimiter), []))
    else:
        n = text.count(delimiter) + 1
    return (n, n - 1) if text.endswith(delimiter) else (n,)


def even_rows(
    path: str,
    lines: Iterable[str],
    *,
    skip: int,
    delimiter: str | None,
    header: str | int | None = None,
    quoted: bool = False,
) -> Iterator[str]:
    """``lines`` handed on unchanged, each data row after the first ``skip`` lines (blank
    lines and ``#`` comments are none) checked to hold as many fields as the ``header`` line
    (a count: that many; None: the first row) by :func:`field_counts`: a delimiter ending
    either makes an empty last cell or none, which moves no value to another column.

    Raises
    ------
    SourceError
        Naming ``path``, the line (from 1, as an editor numbers it) and both counts, at the
        first row of another count: nothing after it is read.
    """
    said = "the first row" if header is None else "the header"
    expected: tuple[int, ...] = (header,) if isinstance(header, int) else ()
    if isinstance(header, str):
        expected = field_counts(header, delimiter, quoted=quoted)
    for number, line in enumerate(lines, start=1):
        if number > skip:
            found = field_counts(line, delimiter, quoted=quoted)
            expected = expected or found
            problem = uneven(found, expected, said)
            if problem:
                raise SourceError(path, f"line {number:,} {problem}")
        yield line


def uneven(found: tuple[int, ...], expected: tuple[int, ...], said: str) -> str | None:
    """Why a row of ``found`` fields (:func:`field_counts`) is not one of ``expected`` (those
    of the row ``said`` names: ``"the header"``), for a message after its line; None where
    they agree, or either holds no fields."""
    if not found or not expected or set(found) & set(expected):
        return None
    n, wanted = found[0], expected[0]
    why = "a cut row?" if n < wanted else "a stray delimiter?"
    return f"has {counted(n, 'field')}, {said} {wanted}: {why} fix the file"


__all__ = ["even_rows", "field_counts", "uneven"]
