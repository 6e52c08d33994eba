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
from collections.abc import Generator

from eegprep.base.errors import SourceError
from eegprep.base.text import data_lines, open_text
from eegprep.base.wording import counted
from eegprep.readers import event_count

MAX_LINE_CHARS = 1 << 20
"""Longest line a text sidecar may hold (characters): a row of a label file or an event table
is tens of characters, a channels table's a few hundred; a longer line is no row of one
(binary data, a file whose lines have no ends)."""

_ENDS = ("\n", "\r")


def text_lines(path: str, *, newline: str | None = None) -> Generator[str, None, None]:
    """The lines of the text file ``path`` (in its :func:`~eegprep.base.text.text_encoding`,
    ends kept), read one at a time.

    Raises
    ------
    SourceError
        Naming ``path`` and the line when a line is longer than :data:`MAX_LINE_CHARS`: read
        up to that length, never whole.
    """
    with open_text(path, newline=newline) as fh:
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


__all__ = ["MAX_LINE_CHARS", "check_rows", "data_line", "text_lines"]
