"""BrainVision text data (``DataFormat=ASCII``) checked as MNE reads it, before MNE opens it.

MNE counts a text data file's samples as its lines after ``SkipLines`` and reads a line only
when its samples are asked for: the line stripped, each comma made a point when the header's
``DecimalSymbol`` is not ``.``, then split at spaces, else at commas. A file whose values are
separated otherwise (a tab, a semicolon), whose lines hold another number of values than the
header's channels, or that ends in a blank line (counted as a sample) was opened, and its
first read failed in MNE's words ("Unknown BrainVision data format encountered. Please contact
the MNE-Python developers", "could not convert string to float"). :func:`check_text_data`
reads the first line of samples and the file's end, and refuses such a file in one line
naming the data file, its line and what to change; and a header whose ``SkipLines`` passes the
file's end (MNE skipped that many lines, ``SkipLines=10000000000`` for hours, at the end of a
file of 500).
"""

from __future__ import annotations

import os

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted

TAIL_BYTES = 1 << 16
"""How much of a text data file's end is read for blank lines."""
_MAX_LINE_BYTES = 1 << 20  # the longest first line of samples read (a line per sample)


def check_text_data(
    path: str, data_file: str, n_channels: int, skip_lines: int, decimal: str
) -> None:
    """Refuse, naming ``data_file`` and its line, a text data file of the BrainVision header
    ``path`` whose first line of samples (after ``skip_lines`` lines) MNE cannot read as
    ``n_channels`` numbers (``decimal``: ``','`` where MNE reads commas as decimal points),
    or that ends in a blank line."""
    name = os.path.basename(data_file)
    with open_regular(data_file, buffering=-1) as fh:
        for skipped in range(skip_lines):  # stops at the file's end (MNE does not)
            if not fh.readline(_MAX_LINE_BYTES):
                raise SourceError(
                    path,
                    f"its data file {name} ends after {counted(skipped, 'line', sep=',')}, before "
                    f"the SkipLines={skip_lines:,} its header skips (MNE spun on such a header for "
                    "hours, skipping lines past the end): correct SkipLines in [ASCII Infos]",
                )
        first = fh.readline(_MAX_LINE_BYTES)
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, size - TAIL_BYTES))
        tail = fh.read()
    if not first:
        return  # no samples: MNE reads none
    problem = _line_problem(first, n_channels, decimal)
    if problem:
        shown = first.decode("latin-1").strip()
        shown = shown if len(shown) <= 60 else f"{shown[:60]}..."
        raise SourceError(
            path,
            f"its data file {name}, line {skip_lines + 1} ({shown!r}): {problem}; export it "
            "again, or correct the header's [ASCII Infos] or NumberOfChannels",
        )
    blank = _blank_lines_at_end(tail)
    if blank:
        raise SourceError(
            path,
            f"its data file {name} ends in {counted(blank, 'blank line')}, which MNE counts as "
            "samples and cannot read: remove them",
        )


def _line_problem(line: bytes, n_channels: int, decimal: str) -> str | None:
    """What MNE cannot read in one line of samples, ``None`` when it reads ``n_channels``
    numbers from it."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return "it holds bytes that are not ASCII, which MNE reads text data as"
    if decimal == ",":
        text = text.replace(",", ".")
    if " " in text:
        values = text.split()
    elif "," in text:
        values = text.split(",")
    elif n_channels == 1 or not text:
        return (
            "MNE reads a line of samples only when its values are separated by spaces or "
            "commas (not one value alone, nor an empty line)"
        )
    else:
        commas = " (with the header's DecimalSymbol=, every comma is a decimal point)"
        return "its values are not separated by spaces or commas, the separators MNE reads" + (
            commas if decimal == "," else " (a tab or a semicolon, say)"
        )
    if len(values) != n_channels:
        n = counted(len(values), "value")
        return f"it holds {n}, but the header lists {counted(n_channels, 'channel')}"
    bad = next((v for v in values if _number(v) is None), None)
    if bad is not None:
        return f"{bad[:30]!r} is not a number (the header's DecimalSymbol is {decimal!r})"
    return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _blank_lines_at_end(tail: bytes) -> int:
    """How many lines of whitespace alone end the file whose last bytes are ``tail`` (the
    line ending of its last line of samples is none)."""
    rest = tail[len(tail.rstrip()) :]
    end = rest.find(b"\n")  # of the last line of samples (spaces before it are of that line)
    if end < 0:
        return 0
    rest = rest[end + 1 :]
    return rest.count(b"\n") + (1 if rest and not rest.endswith(b"\n") else 0)
