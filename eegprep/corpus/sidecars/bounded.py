"""Text sidecars read within bounds: a line at a time, each line's length and the rows kept
bounded, so that a hostile or damaged label file costs neither minutes nor memory that grows
with it.

A label file, event table or marker list holds short lines, one event each: its parser keeps
a few hundred bytes per row. Read whole (``fh.read().splitlines()``), a TUH label file of
1,000,000 rows (39 MB) was parsed into as many events in 10.9 CPU s and 646 MiB before the rule
of events (:mod:`eegprep.ingestion.events`) refused its recording for holding more than
:data:`~eegprep.readers.event_count.MAX_EVENTS`; a file of one 100 MB line (binary junk under
a label file's name) was held whole (229 MiB) for the csv module's own words. Now: 0.7 CPU s
and 60 MiB, and 0.2 s and 30 MiB (the process, Python included). Parsers therefore read
their lines through :func:`text_lines`, which refuses a line over :data:`MAX_LINE_CHARS`, and
stop at the bound of events with :func:`check_rows`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from typing import TextIO

from eegprep.base.errors import SourceError
from eegprep.base.text import data_lines, editor_lines, end_padding, open_text
from eegprep.base.wording import counted
from eegprep.readers import event_count

MAX_LINE_CHARS = 1 << 20
"""Longest line a text sidecar may hold (characters): a row of a label file or an event table
is tens of characters, a channels table's a few hundred; a longer line is no row of one
(binary data, a file whose lines have no ends)."""

_ENDS = ("\n", "\r")


def text_lines(path: str, *, newline: str | None = None) -> Generator[str, None, None]:
    """The lines of the text file ``path`` (in its :func:`~eegprep.base.text.text_encoding`,
    ends kept), read one at a time; a Ctrl-Z or NUL padding ending the file left off
    (:func:`~eegprep.base.text.end_padding`: it was read as a row of one cell).

    Raises
    ------
    SourceError
        Naming ``path`` and the line when a line is longer than :data:`MAX_LINE_CHARS`: read
        up to that length, never whole.
    """
    with open_text(path, newline=newline) as fh:
        yield from end_padding(_bounded(path, fh))


def statement_lines(path: str) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line of ``path`` that is neither blank nor a ``#``
    comment, stripped, numbered as an editor numbers them (a CR alone ends a line too), read
    by :func:`text_lines`; a file that cannot be read is one :class:`SourceError`."""
    try:
        n = 0
        for raw in text_lines(path):
            for line in editor_lines(raw):
                n += 1
                text = line.strip()
                if text and not text.startswith("#"):
                    yield n, text
    except OSError as exc:
        raise SourceError(path, f"cannot read sidecar: {exc.strerror}") from None


def _bounded(path: str, fh: TextIO) -> Iterator[str]:
    """The lines of ``fh``, each refused when longer than :data:`MAX_LINE_CHARS`."""
    number = 0
    while line := fh.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(_ENDS):
            raise SourceError(
                path,
                f"line {number:,} is longer than "
                f"{counted(MAX_LINE_CHARS, 'character', sep=',')}, which no "
                "row of a label file or event table is (binary data, or lines without "
                "ends?): fix or remove the file",
            )
        yield line


def data_line(path: str, row: int, *, skip: int) -> int:
    """The line (from 1, as an editor numbers it) of the text file ``path`` that holds the data
    row ``row`` (from 0) :func:`numpy.loadtxt` read after ``skip`` lines
    (:func:`~eegprep.base.text.data_lines`: blank lines and ``#`` comments are no row); read
    up to that line alone, for a message."""
    with contextlib.closing(text_lines(path)) as lines:
        return data_lines(lines, [row], skip=skip).get(row, skip + row + 1)


def bad_row(
    path: str, *, skip: int, delimiter: str | None, usecols: list[int] | None = None
) -> str:
    """Which data row of the table ``path`` :func:`numpy.loadtxt` could not parse (after
    ``skip`` lines; blank lines and ``#`` comments are none), and why, citing its line as an
    editor numbers it: numpy's own message counts rows from wherever it pleases ("at row 1"
    for the third line of data). Run on failure only; read a line at a time."""
    from eegprep.corpus.sidecars.cells import strict_number

    n_fields = None
    with contextlib.closing(text_lines(path)) as lines:
        for number, line in enumerate(lines, start=1):
            text = line.partition("#")[0].strip()
            if number <= skip or not text:
                continue
            fields = [f.strip() for f in text.split(delimiter)]
            n_fields = n_fields or len(fields)
            if len(fields) != n_fields:
                return (
                    f"line {number} has {counted(len(fields), 'field')}, the first row {n_fields}"
                )
            for i in range(len(fields)) if usecols is None else usecols:
                if i < len(fields) and strict_number(fields[i]) is None:
                    return f"line {number}: {fields[i][:30]!r} is not a number"
    return "a row cannot be parsed as numbers"


def check_rows(path: str, n_rows: int, line: int) -> None:
    """Refuse ``path`` once it has given ``n_rows`` rows of events (the last on ``line``) over
    :data:`~eegprep.readers.event_count.MAX_EVENTS`: its reading stops there.

    Raises
    ------
    SourceError
        Naming the file, the bound and the line where reading stopped.
    """
    bound = event_count.MAX_EVENTS
    if n_rows > bound:
        raise SourceError(
            path,
            f"more than the {counted(bound, 'row', sep=',')} of events a recording may store "
            f"(reading stopped on line {line:,}): thin the file, or split the recording",
        )


__all__ = ["MAX_LINE_CHARS", "bad_row", "check_rows", "data_line", "statement_lines", "text_lines"]
