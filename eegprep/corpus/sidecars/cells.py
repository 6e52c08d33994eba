"""The cells of a label file's rows: split as CSV quotes them, read as numbers strictly.

Every text sidecar parser that reads rows of cells (TUH label files, TUEV ``.rec``, BIDS
``events.tsv``, marker files) reads them here, so that one spelling means one value in every
one: a quoted cell (``"10.0"``, as a spreadsheet saves it) is its text, a trailing delimiter
(``TERM,0,10,seiz,1.0,``) adds no cell, and a number is what numpy would parse. Python's
``float`` also takes ``1_5`` (15) and digits of other scripts, which no table writer means as
a number: a time written ``1_5`` was stored as 15 s.
"""

from __future__ import annotations

import csv
import math


def row_cells(line: str, delimiter: str) -> list[str]:
    """The cells of one row ``line`` (no line end), each stripped of blanks, split at
    ``delimiter`` as CSV quotes cells (``"a,b"`` is one cell, its quotes removed); empty cells
    that only a trailing delimiter made are left out."""
    cells = [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]
    while len(cells) > 1 and cells[-1] == "" and line.rstrip().endswith(delimiter):
        cells.pop()
        line = line.rstrip()[: -len(delimiter)]
    return cells


def comma_or_tab(line: str) -> str:
    """The delimiter of a row of a comma-separated label file: a tab where the row has tabs
    and no comma (the file saved from a spreadsheet as "Text" or "Unicode Text"), else a
    comma."""
    return "\t" if "\t" in line and "," not in line else ","


def strict_number(text: str) -> float | None:
    """``text`` as a float when it is written as a number in ASCII digits (sign, point,
    exponent; ``nan`` and ``inf`` too, for the caller to refuse), else None: not ``1_5``, not
    ``١٥``, not ``1,5``, not empty."""
    text = text.strip()
    if not text or not text.isascii() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def finite_number(text: str) -> float | None:
    """:func:`strict_number`, None also for ``nan``, ``inf`` and numbers past float64's range
    (``1e400``)."""
    value = strict_number(text)
    return value if value is not None and math.isfinite(value) else None
