"""The columns of a text table that hold no samples: no value on any data row.

A table exported with a channel the recording system disabled keeps its column, every cell
empty. The ``csv`` reader took such a column for a text column (its first value is no number)
and left it out unsaid; it is a channel that holds no samples, and is named so
(:attr:`~eegprep.readers.base.Header.empty_channels`), as an EDF signal of 0 samples per record
is. :func:`blank_columns` reads the candidate columns of every row (one character a cell: a
cell is blank or not) to tell them from a text column blank in its first rows alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from eegprep.base.regular_files import open_regular
from eegprep.base.text import end_padding


def blank_columns(
    path: str,
    *,
    encoding: str,
    delimiter: str | None,
    skip: int,
    names: Sequence[str],
    candidates: Sequence[str],
) -> list[str]:
    """Of ``candidates`` (columns blank on the first data rows), those blank on every data
    row of the table ``path`` (``skip`` lines before its first data row; ``names`` its column
    names, in file order)."""
    if not candidates or delimiter is None:  # (runs of blanks separate no empty cell)
        return []
    positions = [names.index(name) for name in candidates]
    with open_regular(path, "r", encoding=encoding, errors="replace") as f:
        lines: Iterable[str] = ("\n" if line.isspace() else line for line in end_padding(f))
        try:
            cells = np.loadtxt(
                lines, delimiter=delimiter, skiprows=skip, usecols=positions, dtype="U1",
                ndmin=2, quotechar='"', encoding=encoding,
            )  # fmt: skip
        except (ValueError, IndexError):
            return []  # (a row the numbers' own read names)
    blank = np.char.strip(cells) == ""
    return [name for name, empty in zip(candidates, blank.all(axis=0), strict=True) if empty]
