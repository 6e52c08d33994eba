"""BrainVision text data (``DataFormat=ASCII``), read by eegprep in every layout the format
allows: BrainVision Analyzer's "Generic Data Export" and other writers.

The BrainVision Core Data Format and the readers that follow it (FieldTrip, EEGLAB's bva-io)
lay text samples out so: ``MULTIPLEXED``, a line a sample, its channels side by side;
``VECTORIZED``, a line a channel, its samples side by side. ``[ASCII Infos]`` may give
``SkipLines`` (leading lines to pass over: a title, a line of channel names; default 0),
``SkipColumns`` (leading columns of every line: a channel's name; default 0) and
``DecimalSymbol`` (``.`` or ``,``; default ``.``); the section itself may be absent (all three
defaults). Analyzer writes a line of names (``MULTIPLEXED``) or each line's name
(``VECTORIZED``) when asked, with or without saying so in ``SkipLines``/``SkipColumns``: a
first line none of whose values is a number (``MULTIPLEXED``), or a first column that is no
number (``VECTORIZED``), is such a name and passed over, as FieldTrip and EEGLAB read it.
Values are separated by blanks (spaces, tabs), semicolons, or commas where the decimal symbol
is a point; lines end in LF or CRLF; blank lines at the file's end are none.

MNE reads ``MULTIPLEXED`` alone, needs ``SkipLines``, skips no column, counts a blank line at
the end as a sample, and keeps every line's offset in memory: a header without ``SkipLines``
and any ``VECTORIZED`` text file were refused. :func:`text_index` reads the file once, in
blocks (memory stays a block, never the file's values), checks each line (its count of
values, each a number) and keeps the byte offset of every :data:`STEP`-th sample (of each
channel, ``VECTORIZED``); :func:`read_text` reads a segment from the nearest offset. A line of
the wrong count, a value that is no number, a blank line among the samples, is refused in one
line naming the data file and its line.

Concurrency contract: pure functions of the data file and its :class:`TextLayout`; the index of
the last few files scanned is kept per process, keyed by the file's stamps.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.files import FileVersion, file_version
from eegprep.base.regular_files import open_regular
from eegprep.base.text import ascii_number
from eegprep.base.wording import counted

STEP = 1024
"""Samples between two offsets kept: a read starts at most this many samples before its
first."""
MAX_SAMPLE_LINE_BYTES = 1 << 20
"""The longest ``MULTIPLEXED`` line read (a sample's channels: 256 of 20 characters, 5 kB)."""
_CHUNK = 1 << 20  # bytes of a VECTORIZED line read at a time
_BLOCK_LINES = 4096  # MULTIPLEXED lines checked at a time
_CACHE_SIZE = 8
_NOT_TEXT = (
    "it holds bytes that are no text (NUL, or beyond ASCII): binary samples under a header "
    "saying DataFormat=ASCII?"
)
_SEPARATORS = {".": re.compile(rb"\s*[,;]\s*|\s+"), ",": re.compile(rb"\s*;\s*|\s+")}
_BLANKS = b" \t\r\x0b\x0c"
_EMPTY = {".": re.compile(rb"[,;]\s*[,;]"), ",": re.compile(rb";\s*;")}  # (an empty value)


@dataclass(frozen=True)
class TextLayout:
    """How a BrainVision header says its text data file is laid out.

    Attributes
    ----------
    orientation : str
        ``'MULTIPLEXED'`` (a line a sample) or ``'VECTORIZED'`` (a line a channel).
    skip_lines, skip_columns : int
        ``SkipLines`` and ``SkipColumns`` of ``[ASCII Infos]`` (0 where absent).
    decimal : str
        ``DecimalSymbol``: ``'.'`` or ``','``.
    n_values : int
        Channels the data file holds (the header's; one more for an ``.ahdr``).
    """

    orientation: str
    skip_lines: int
    skip_columns: int
    decimal: str
    n_values: int


@dataclass(frozen=True, eq=False)
class TextIndex:
    """What :func:`text_index` found: ``n_samples`` per channel, ``skip_columns`` (the
    layout's, or 1 for a name column found), and ``marks``: the byte offset of every
    :data:`STEP`-th data line (``MULTIPLEXED``, shape (k,)) or of every :data:`STEP`-th value
    of each channel's line (``VECTORIZED``, shape (n_channels, k))."""

    n_samples: int
    skip_columns: int
    marks: np.ndarray


_SCANNED: OrderedDict[tuple[FileVersion, TextLayout], TextIndex] = OrderedDict()


def clear_cache() -> None:
    """Forget the text data files this process scanned."""
    _SCANNED.clear()


def text_index(path: str, data_file: str, layout: TextLayout) -> TextIndex:
    """The :class:`TextIndex` of ``data_file``, the text data of the BrainVision header
    ``path``, every line checked (from this process's cache when the file is unchanged).

    Raises :class:`SourceError` naming ``path``, the data file and its line."""
    key = (file_version(data_file), layout)
    found = _SCANNED.get(key)
    if found is None:
        with open_regular(data_file, buffering=-1) as fh:
            scan = _Scan(path, os.path.basename(data_file), layout, fh)
            found = scan.multiplexed() if layout.orientation == "MULTIPLEXED" else scan.vectorized()
        _SCANNED[key] = found
        while len(_SCANNED) > _CACHE_SIZE:
            _SCANNED.popitem(last=False)
    return found


def read_text(
    data_file: str, layout: TextLayout, index: TextIndex, rows: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Values ``[start, stop)`` of the channels ``rows`` as written (before any resolution),
    float64, shape (len(rows), stop - start), from the offsets of :func:`text_index`."""
    out = np.empty((len(rows), stop - start), dtype=np.float64)
    with open_regular(data_file, buffering=-1) as fh:
        if layout.orientation == "MULTIPLEXED":
            fh.seek(int(index.marks[start // STEP]))
            for _ in range(start % STEP):
                fh.readline(MAX_SAMPLE_LINE_BYTES)
            lines = [fh.readline(MAX_SAMPLE_LINE_BYTES) for _ in range(stop - start)]
            n_fields = index.skip_columns + layout.n_values
            values = _numbers(b" ".join(_normal(line, layout.decimal) for line in lines))
            if values.size != n_fields * (stop - start):
                raise SourceError(data_file, "the file changed since its header was read")
            out[:] = values.reshape(stop - start, n_fields)[:, index.skip_columns :][:, rows].T
            return out
        for i, row in enumerate(rows):
            fh.seek(int(index.marks[row, start // STEP]))
            out[i] = _row_values(fh, start % STEP, stop - start, layout.decimal, data_file)
    return out


def _row_values(fh: BinaryIO, skip: int, n: int, decimal: str, data_file: str) -> np.ndarray:
    """``n`` values of the line read from ``fh``'s position on, after ``skip`` of them."""
    taken: list[np.ndarray] = []
    have = -skip
    for _, piece in _pieces(fh, [0], min(_CHUNK, 64 + 24 * (skip + n))):
        values = _numbers(_normal(piece, decimal))
        taken.append(values[max(0, -have) :])
        have += values.size
        if have >= n:
            break
    values = np.concatenate(taken) if taken else np.empty(0)
    if values.size < n:
        raise SourceError(data_file, "the file changed since its header was read")
    return values[:n]


def _pointed(text: bytes, decimal: str) -> tuple[bytes, bool]:
    """``text`` stripped, its decimal commas made points, and whether a separator other than
    blanks is in it (a semicolon, or a comma where the decimal symbol is a point)."""
    text = text.strip()
    if decimal == ",":
        text = text.replace(b",", b".")
    return text, b";" in text or (decimal == "." and b"," in text)


def _normal(text: bytes, decimal: str) -> bytes:
    """``text`` with its decimal commas made points and every separator a space."""
    text, marked = _pointed(text, decimal)
    return _SEPARATORS[decimal].sub(b" ", text) if marked else text  # (blanks: as split() reads)


def _numbers(text: bytes) -> np.ndarray:
    """The values of space-separated ``text``, float64 (a value that is no number:
    ``ValueError``)."""
    return np.array(text.split(), dtype=np.bytes_).astype(np.float64)


def _fields(line: bytes, decimal: str) -> list[bytes]:
    """The values of one line as written, its separators removed (an empty value kept)."""
    text, marked = _pointed(line, decimal)
    # (blanks alone, the common case: split() reads them fastest)
    return _SEPARATORS[decimal].split(text) if marked else text.split()


def _is_number(field: bytes) -> bool:
    """Whether ``field`` is a number as numpy's parser reads one (:func:`ascii_number`)."""
    return ascii_number(field.decode("latin-1"))


def _pieces(fh: BinaryIO, end: list[int], size: int = _CHUNK) -> Iterator[tuple[int, bytes]]:
    """The line from ``fh``'s position, in pieces of about ``size`` bytes each ending between
    two values, with each piece's offset; ``end[0]`` is then where the next line starts (the
    file's size after its last)."""
    at = fh.tell()
    carry = b""
    while True:
        chunk = fh.read(size)
        data = carry + chunk
        stop = data.find(b"\n")
        if stop >= 0 or not chunk:
            stop = len(data) if stop < 0 else stop
            end[0] = at + stop + (1 if stop < len(data) else 0)
            yield at, data[:stop]
            return
        cut = max(data.rfind(s) for s in (b" ", b"\t", b",", b";")) + 1
        cut = cut if cut > 0 else len(data)  # (a value longer than a chunk: refused as one)
        yield at, data[:cut]
        carry, at = data[cut:], at + cut


class _Scan:
    """One pass over a text data file (:func:`text_index`)."""

    def __init__(self, path: str, name: str, layout: TextLayout, fh: BinaryIO) -> None:
        self.path, self.name, self.layout, self.fh = path, name, layout, fh
        self.line = 0  # the number of the last line read, from 1 as an editor counts

    def refuse(self, problem: str, line: int | None = None, text: bytes = b"") -> SourceError:
        shown = text.decode("latin-1").strip()
        shown = f" ({shown[:60] + '...' if len(shown) > 60 else shown!r})" if shown else ""
        return SourceError(
            self.path,
            f"its data file {self.name}, line {line or self.line}{shown}: {problem}; export "
            "it again, or correct the header's [ASCII Infos] or NumberOfChannels",
        )

    def skip_lines(self) -> None:
        """Pass over ``SkipLines`` lines (stopping at the file's end, which MNE did not)."""
        n = self.layout.skip_lines
        for skipped in range(n):
            if not self.fh.readline(MAX_SAMPLE_LINE_BYTES):
                raise SourceError(
                    self.path,
                    f"its data file {self.name} ends after {counted(skipped, 'line', sep=',')}, "
                    f"before the SkipLines={n:,} its header skips (MNE spun on such a header "
                    "for hours, skipping lines past the end): correct SkipLines in [ASCII Infos]",
                )
            self.line += 1

    def count_problem(self, fields: list[bytes], want: int, what: str, line: bytes) -> str | None:
        """Why a line of ``fields`` is not ``want`` numbers (``what`` they are), or None."""
        if len(fields) != want:
            hint = ""
            if self.layout.decimal == "." and b"," in line:
                hint = (
                    " (under DecimalSymbol=. a comma separates values: if the file writes "
                    "decimal commas, its header should say DecimalSymbol=,)"
                )
            return f"it holds {counted(len(fields), 'value')}, but {what}{hint}"
        bad = next((f for f in fields if not _is_number(f)), None)
        if bad is not None:
            said = "an empty value" if not bad else f"{bad.decode('latin-1')[:30]!r}"
            return f"{said} is not a number (the header's DecimalSymbol is {self.layout.decimal!r})"
        return None

    def multiplexed(self) -> TextIndex:
        """A line a sample: each line's values counted, then a block's values read as numbers
        at once (a line named only where that fails)."""
        self.skip_lines()
        layout = self.layout
        n_fields, marks = layout.skip_columns + layout.n_values, []
        want = f"the header lists {counted(layout.n_values, 'channel')}" + (
            f" after {counted(layout.skip_columns, 'skipped column')}"
            if layout.skip_columns
            else ""
        )
        n, blank, first = 0, 0, True
        while block := self._block():
            kept: list[tuple[int, bytes, list[bytes]]] = []
            for at, line in block:
                self.line += 1
                fields = _fields(line, layout.decimal)
                if not fields:
                    blank = blank or self.line
                    continue
                if blank:
                    raise self.refuse("a blank line among the samples", blank)
                if first and not any(_is_number(f) for f in fields):
                    first = False  # a line of channel names
                    continue
                first = False
                if not line.isascii() or b"\x00" in line:
                    raise self.refuse(_NOT_TEXT)
                if len(fields) != n_fields or b"_" in line:
                    raise self.refuse(
                        self.count_problem(fields, n_fields, want, line)
                        or "a value written with '_', which is no number",
                        text=line,
                    )
                kept.append((self.line, line, fields[layout.skip_columns :]))
                if n % STEP == 0:
                    marks.append(at)
                n += 1
            self._check_numbers(kept, want)
        return TextIndex(n, layout.skip_columns, np.array(marks, dtype=np.int64))

    def _check_numbers(self, kept: list[tuple[int, bytes, list[bytes]]], want: str) -> None:
        """Refuse the first of ``kept`` lines (number, text, values) holding a value that is
        no number."""
        try:
            np.array([f for _, _, fields in kept for f in fields], dtype=np.bytes_).astype(float)
        except ValueError:
            for number, line, fields in kept:
                problem = self.count_problem(fields, len(fields), want, line)
                if problem:
                    raise self.refuse(problem, number, line) from None
            raise

    def _block(self) -> list[tuple[int, bytes]]:
        """Up to :data:`_BLOCK_LINES` lines with their offsets; a line too long refused."""
        out: list[tuple[int, bytes]] = []
        for _ in range(_BLOCK_LINES):
            at = self.fh.tell()
            line = self.fh.readline(MAX_SAMPLE_LINE_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_SAMPLE_LINE_BYTES:
                raise self.refuse(
                    f"a line of samples longer than {MAX_SAMPLE_LINE_BYTES:,} bytes (one line "
                    "a sample: its line ends are missing, or DataOrientation is VECTORIZED)",
                    self.line + len(out) + 1,
                )
            out.append((at, line))
        return out

    def vectorized(self) -> TextIndex:
        """A line a channel: each line read in pieces, its values counted and checked."""
        self.skip_lines()
        rows: list[np.ndarray] = []
        skip, n_samples = self.layout.skip_columns, -1
        for channel in range(self.layout.n_values):
            self.line += 1
            marks, count, skip = self._channel_line(channel, skip)
            if n_samples >= 0 and count != n_samples:
                raise self.refuse(
                    f"channel {channel + 1}'s line holds {counted(count, 'sample')}, channel "
                    f"1's {n_samples:,}: every channel has the same number of samples"
                )
            n_samples = count
            rows.append(marks)
        rest = self.fh.read(_CHUNK)
        if rest.strip(_BLANKS + b"\n"):
            raise self.refuse(
                f"a line after the {counted(self.layout.n_values, 'channel')} the header lists "
                "(DataOrientation=VECTORIZED: a line a channel)",
                self.line + 1 + rest[: len(rest) - len(rest.lstrip(_BLANKS + b"\n"))].count(b"\n"),
            )
        return TextIndex(max(n_samples, 0), skip, np.array(rows, dtype=np.int64))

    def _channel_line(self, channel: int, skip: int) -> tuple[np.ndarray, int, int]:
        """The offsets of every :data:`STEP`-th value of one channel's line (after ``skip``
        columns, or a name found in the first column of channel 1's line), its count of values
        and the columns skipped."""
        marks: list[int] = []
        end, count, head = [0], -skip, b""
        for at, piece in _pieces(self.fh, end):
            text = piece.replace(b",", b".") if self.layout.decimal == "," else piece
            starts = _value_starts(text, self.layout.decimal)
            if count == -skip and not head and starts.size:
                head = text[starts[0] :].split(maxsplit=1)[0]
                if channel == 0 and skip == 0 and not _is_number(head.rstrip(b",;")):
                    skip, count = 1, -1  # a name column: passed over on every line
            self._check_piece(text, starts, count, skip)
            first = max(0, -count)
            kept = starts[first:] if first < starts.size else starts[:0]
            index = count + first + np.arange(kept.size)
            marks += (at + kept[index % STEP == 0]).tolist()
            count += starts.size
        self.fh.seek(end[0])
        if count <= 0 and channel < self.layout.n_values:
            raise self.refuse(
                f"no samples for channel {channel + 1} (a line a channel, "
                f"{counted(self.layout.n_values, 'channel')}: the file ends early or holds "
                "blank lines)"
            )
        return np.array(marks, dtype=np.int64), count, skip

    def _check_piece(self, text: bytes, starts: np.ndarray, count: int, skip: int) -> None:
        """Refuse a piece of a channel's line holding a value that is no number (its skipped
        columns aside) or an empty one."""
        first = max(0, -count)
        if first >= starts.size:
            return
        body = text[starts[first] :]
        if not body.isascii() or b"\x00" in body:
            raise self.refuse(_NOT_TEXT)
        if _EMPTY[self.layout.decimal].search(body):
            raise self.refuse("an empty value between two separators")
        try:
            _numbers(_normal(body, self.layout.decimal))
        except ValueError:
            bad = next(f for f in _fields(body, self.layout.decimal) if not _is_number(f))
            raise self.refuse(
                f"{bad.decode('latin-1')[:30]!r} is not a number (the header's DecimalSymbol "
                f"is {self.layout.decimal!r})"
            ) from None
        if b"_" in body:
            raise self.refuse("a value written with '_', which is no number")


def _value_starts(text: bytes, decimal: str) -> np.ndarray:
    """The offsets in ``text`` where a value starts (after a separator, or at its start)."""
    codes = np.frombuffer(text, dtype=np.uint8)
    seps = b" \t\r\x0b\x0c;" + (b"," if decimal == "." else b"")
    is_sep = np.isin(codes, np.frombuffer(seps, dtype=np.uint8))
    before = np.concatenate(([True], is_sep[:-1]))
    return np.flatnonzero(~is_sep & before)
