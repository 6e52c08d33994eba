"""The data rows of a text table read as numbers: how its text is written (:class:`Dialect`),
numpy's parser over its lines (a decimal comma made a point line by line, lines of blanks no
rows, the file opened without waiting), each row's fields counted where numpy reads only some
columns, and, on failure only, the line an editor shows of a row and why it did not parse.
:mod:`eegprep.readers.csv_table` decides which columns to read and what they mean."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from eegprep.base.ragged import even_rows
from eegprep.base.regular_files import open_regular
from eegprep.base.text import ascii_number, data_lines, end_padding
from eegprep.base.wording import counted


@dataclass(frozen=True)
class Dialect:
    """How a table's text is written.

    ``encoding``: :func:`~eegprep.base.text.text_encoding`'s; ``delimiter``: the field
    separator, None for runs of blanks; ``decimal_comma``: numbers written ``-1,5`` (European
    spreadsheet exports, fields separated by ``;`` or tabs). A line of blanks alone (spaces,
    tabs) is no row wherever it stands, as an empty line is none.
    """

    encoding: str
    delimiter: str | None
    decimal_comma: bool = False
    skip: int = 0
    """Lines before the first data row: ``header_lines``, the blank lines after them, the
    column-name line (unless ``channel_names`` gives the names)."""


def uncommented(line: str) -> str:
    """``line`` up to its ``#``, as numpy reads a data row: a line of a comment alone is no
    row."""
    return line.partition("#")[0]


def parse_rows(
    path: str, dialect: Dialect, usecols: list[int] | None, n_fields: int | None
) -> np.ndarray:
    """The ``usecols`` columns (None: all) of every data row, float64, 2-D. Given ``usecols``,
    numpy reads those alone and passes over a field too many: each row's fields are then
    counted first (:func:`~eegprep.base.ragged.even_rows`) against ``n_fields`` (None: the
    first row's count, as :func:`_layout` checked the names')."""
    with numbers_text(path, dialect) as lines:
        rows = lines
        if usecols is not None:
            rows = even_rows(
                path,
                lines,
                skip=dialect.skip,
                delimiter=dialect.delimiter,
                header=n_fields,
                quoted=True,
            )
        return np.loadtxt(
            rows,
            delimiter=dialect.delimiter,
            skiprows=dialect.skip,
            usecols=usecols,
            dtype=np.float64,
            ndmin=2,
            quotechar='"',
            encoding=dialect.encoding,
        )


def row_lines(path: str, dialect: Dialect, *rows: int) -> list[int]:
    """The file's line (from 1, as an editor numbers it) of each data row ``rows`` (indices
    among the rows numpy read: blank lines and ``#`` comments are none); run on failure only."""
    with open_regular(path, "r", encoding=dialect.encoding, errors="replace") as f:
        found = data_lines(end_padding(f), rows, skip=dialect.skip)
    return [found.get(row, dialect.skip + row + 1) for row in rows]


@contextlib.contextmanager
def numbers_text(path: str, dialect: Dialect) -> Iterator[str | Iterator[str]]:
    """What :func:`numpy.loadtxt` parses: the lines of the file opened without waiting and
    checked (:func:`~eegprep.base.regular_files.open_regular`), one of blanks alone given as an
    empty one (which numpy passes over: a trailing line of a space or a tab refused the file,
    "a data row cannot be parsed as numbers"), for a decimal comma each comma made a point."""
    with open_regular(path, "r", encoding=dialect.encoding) as f:  # never by name: a FIFO
        padded = end_padding(f)  # (a Ctrl-Z or NUL padding ending the file: no row)
        blanked = ("\n" if line.isspace() else line for line in padded)  # (numpy skips empty)
        yield blanked if not dialect.decimal_comma else (line.replace(",", ".") for line in blanked)


def bad_row(path: str, skip: int, dialect: Dialect, names: list[str], usecols: list[int]) -> str:
    """Say which line of the file numpy could not parse, and why (run on failure only)."""
    with open_regular(path, "r", encoding=dialect.encoding, errors="replace") as f:
        for number, line in enumerate(end_padding(f), start=1):
            text = uncommented(line)
            if number <= skip or not text.strip():
                continue
            text = text.rstrip("\r\n").replace(",", "." if dialect.decimal_comma else ",")
            fields = [v.strip().strip('"') for v in text.split(dialect.delimiter)]
            if len(fields) != len(names):
                why = "truncated row?" if len(fields) < len(names) else "a stray delimiter?"
                n = counted(len(fields), "field")
                return f"line {number} has {n}, expected {len(names)}: {why}"
            for i in usecols:
                if not ascii_number(fields[i]):
                    return f"line {number}, column {names[i]!r}: {fields[i]!r} is not a number"
    return "a data row cannot be parsed as numbers"


__all__ = ["Dialect", "bad_row", "numbers_text", "parse_rows", "row_lines", "uncommented"]
