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
A ``VECTORIZED`` name may be several words (``Fp1 Ref``, quoted or not, or the header's
``EEG 001``: :meth:`_Scan.name_width`; ``Ch 1``, where ``DataPoints`` tells its ``1`` from a
sample: :meth:`_Scan.agreed`). Values are separated by blanks (spaces, tabs),
semicolons, or commas where the decimal symbol is a point; lines end in LF, CRLF or a carriage
return alone (classic Mac OS: such a file is read with each CR an LF); blank lines at the
file's end are none.

MNE reads ``MULTIPLEXED`` alone, needs ``SkipLines``, skips no column, counts a blank line at
the end as a sample, and keeps every line's offset in memory: a header without ``SkipLines``
and any ``VECTORIZED`` text file were refused. :func:`text_index` reads the file once, in
blocks (memory stays a block, never the file's values), checks each line (its count of
values, each a number) and keeps the byte offset of every :data:`STEP`-th sample (of each
channel, ``VECTORIZED``); :func:`read_text` reads a segment from the nearest offset. A block
that is plainly numbers and separators is checked by numpy, byte by byte (:func:`_plain`), no
value parsed by Python; any other is read line by line, value by value, as numpy parses them. A
line of the wrong count, a value that is no number, a blank line among the samples, is refused
in one line naming the data file and its line.

Concurrency contract: pure functions of the data file and its :class:`TextLayout`; a file's
index is kept for one read of its header alone (:mod:`eegprep.readers.read_once`), then by the
Raw that reads its samples.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.text import ascii_number
from eegprep.base.wording import counted
from eegprep.readers.read_once import once

STEP = 1024
"""Samples between two offsets kept: a read starts at most this many samples before its
first."""
MAX_SAMPLE_LINE_BYTES = 1 << 20
"""The longest ``MULTIPLEXED`` line read (a sample's channels: 256 of 20 characters, 5 kB)."""
_CHUNK = 1 << 20  # bytes of a VECTORIZED line read at a time
_BLOCK_BYTES = 4 << 20  # bytes of MULTIPLEXED lines checked at a time (whole lines)
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
    names : tuple of str
        The header's channel names, in order (a ``VECTORIZED`` line that starts with its
        channel's name passes over all of it, blanks and numbers in it too).
    n_points : int or None
        The header's ``DataPoints`` (None where absent).
    """

    orientation: str
    skip_lines: int
    skip_columns: int
    decimal: str
    n_values: int
    names: tuple[str, ...] = ()
    n_points: int | None = None


@dataclass(frozen=True, eq=False)
class TextIndex:
    """What :func:`text_index` found: ``n_samples`` per channel, ``skip_columns`` (the
    layout's, or 1 for a name column found), and ``marks``: the byte offset of every
    :data:`STEP`-th data line (``MULTIPLEXED``, shape (k,)) or of every :data:`STEP`-th value
    of each channel's line (``VECTORIZED``, shape (n_channels, k)); ``cr``: whether the file's
    lines end in a carriage return alone (classic Mac OS), read as line feeds; ``leads``: per
    ``VECTORIZED`` line, its values counted in ``marks`` that are words of its name."""

    n_samples: int
    skip_columns: int
    marks: np.ndarray
    cr: bool = False
    leads: tuple[int, ...] = ()


@once(files=(1,))
def text_index(path: str, data_file: str, layout: TextLayout) -> TextIndex:
    """The :class:`TextIndex` of ``data_file``, the text data of the BrainVision header
    ``path``, every line checked; scanned once per read of the header
    (:mod:`~eegprep.readers.read_once`, keyed by the data file's identity: the check before
    MNE opens the file and the opening share it; the Raw keeps it for its reads of samples).

    Raises :class:`SourceError` naming ``path``, the data file and its line."""
    with open_regular(data_file, buffering=-1) as fh:
        cr = _cr_only(fh)
    with _open_lines(data_file, cr) as fh:
        scan = _Scan(path, os.path.basename(data_file), layout, fh)
        found = scan.multiplexed() if layout.orientation == "MULTIPLEXED" else scan.vectorized()
    return replace(found, cr=cr)


def read_text(
    data_file: str, layout: TextLayout, index: TextIndex, rows: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Values ``[start, stop)`` of the channels ``rows`` as written (before any resolution),
    float64, shape (len(rows), stop - start), from the offsets of :func:`text_index`."""
    out = np.empty((len(rows), stop - start), dtype=np.float64)
    with _open_lines(data_file, index.cr) as fh:
        if layout.orientation == "MULTIPLEXED":
            fh.seek(int(index.marks[start // STEP]))
            for _ in range(start % STEP):
                fh.readline(MAX_SAMPLE_LINE_BYTES)
            lines = [fh.readline(MAX_SAMPLE_LINE_BYTES) for _ in range(stop - start)]
            values = _sample_values(lines, layout.decimal, index.skip_columns)
            if values.size != layout.n_values * (stop - start):
                raise SourceError(data_file, "the file changed since its header was read")
            out[:] = values.reshape(stop - start, layout.n_values)[:, rows].T
            return out
        for i, row in enumerate(rows):
            first = start + (index.leads[row] if index.leads else 0)  # (after its name's)
            fh.seek(int(index.marks[row, first // STEP]))
            out[i] = _row_values(fh, first % STEP, stop - start, layout.decimal, data_file)
    return out


def _sample_values(lines: list[bytes], decimal: str, skip: int) -> np.ndarray:
    """The values of ``MULTIPLEXED`` ``lines`` after their ``skip`` leading columns (which may
    hold anything: a time ``00:00:01.000``, a label), float64, in order."""
    if not skip:
        return _numbers(b" ".join(_normal(line, decimal) for line in lines))
    kept = [field for line in lines for field in _fields(line, decimal)[skip:]]
    return np.array(kept, dtype=np.bytes_).astype(np.float64)


def _cr_only(fh: BinaryIO) -> bool:
    """Whether the file's first line ends in carriage returns not followed by a line feed
    (classic Mac OS: every line so; ``\\r\\r\\n``, CRLF written twice over, is an LF
    line end, as before); ``fh`` is read from its start, a chunk at a time."""
    while chunk := fh.read(_CHUNK):
        at = min((i for i in (chunk.find(b"\r"), chunk.find(b"\n")) if i >= 0), default=-1)
        if at >= 0:
            if chunk[at] == ord("\n"):
                return False
            after = chunk[at:].lstrip(b"\r")
            while not after and (more := fh.read(_CHUNK)):
                after = more.lstrip(b"\r")
            return not after.startswith(b"\n")
    return False


class _CrAsLf(io.RawIOBase):
    """A binary file read with each carriage return a line feed: byte for byte, so every
    offset is the file's own."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__()
        self._fh = fh

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fh.read(len(buffer)).replace(b"\r", b"\n")
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


@contextmanager
def _open_lines(data_file: str, cr: bool) -> Iterator[BinaryIO]:
    """``data_file`` opened for reading (buffered); ``cr``: its carriage returns read as line
    feeds, so that lines that end in one alone read as lines that end in LF."""
    if not cr:
        with open_regular(data_file, buffering=-1) as fh:
            yield fh
        return
    with io.BufferedReader(_CrAsLf(open_regular(data_file)), _CHUNK) as lines:
        yield lines  # type: ignore[misc]


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


@dataclass
class _Rows:
    """What :meth:`_Scan.multiplexed` has read so far: samples, offsets kept, the first blank
    line (0: none yet), whether the first line is yet to come."""

    n: int = 0
    marks: list[int] = field(default_factory=list)
    blank: int = 0
    first: bool = True


def _lines(at: int, block: bytes) -> list[tuple[int, bytes]]:
    """The lines of ``block`` (from offset ``at``), each with its offset."""
    out: list[tuple[int, bytes]] = []
    start = 0
    while start < len(block):
        end = block.find(b"\n", start) + 1 or len(block)
        out.append((at + start, block[start:end]))
        start = end
    return out


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
        """A line a sample: its first line (a line of names?) alone, then the lines a block at
        a time, each block's values counted and checked by numpy (:meth:`_plain_rows`); a
        block they do not plainly pass read line by line (:meth:`_check_rows`), which names
        the line at fault."""
        self.skip_lines()
        layout = self.layout
        rows = _Rows()
        want = f"the header lists {counted(layout.n_values, 'channel')}" + (
            f" after {counted(layout.skip_columns, 'skipped column')}"
            if layout.skip_columns
            else ""
        )
        while rows.first:  # (blank lines before it: refused at the next)
            at = self.fh.tell()
            line = self.fh.readline(MAX_SAMPLE_LINE_BYTES + 1)
            if not line:
                break
            self._check_rows(_lines(at, line), rows, want)
        for at, block in self._blocks():
            if not self._plain_rows(at, block, rows):
                self._check_rows(_lines(at, block), rows, want)
        return TextIndex(rows.n, layout.skip_columns, np.array(rows.marks, dtype=np.int64))

    def _check_rows(self, block: list[tuple[int, bytes]], rows: _Rows, want: str) -> None:
        """Each line of ``block`` (offset, text) checked on its own: counted, then the
        block's values read as numbers at once (a line named only where that fails)."""
        layout = self.layout
        n_fields = layout.skip_columns + layout.n_values
        kept: list[tuple[int, bytes, list[bytes]]] = []
        for at, line in block:
            self.line += 1
            if len(line) > MAX_SAMPLE_LINE_BYTES:
                raise self.refuse(
                    f"a line of samples longer than {MAX_SAMPLE_LINE_BYTES:,} bytes (one line "
                    "a sample: its line ends are missing, or DataOrientation is VECTORIZED)"
                )
            fields = _fields(line, layout.decimal)
            if not fields:
                rows.blank = rows.blank or self.line
                continue
            if rows.blank:
                raise self.refuse("a blank line among the samples", rows.blank)
            if rows.first and not any(_is_number(f) for f in fields):
                rows.first = False  # a line of channel names
                continue
            rows.first = False
            if not line.isascii() or b"\x00" in line:
                raise self.refuse(_NOT_TEXT)
            if len(fields) != n_fields or b"_" in line:
                raise self.refuse(
                    self.count_problem(fields, n_fields, want, line)
                    or "a value written with '_', which is no number",
                    text=line,
                )
            kept.append((self.line, line, fields[layout.skip_columns :]))
            if rows.n % STEP == 0:
                rows.marks.append(at)
            rows.n += 1
        self._check_numbers(kept, want)

    def _plain_rows(self, at: int, block: bytes, rows: _Rows) -> bool:
        """Whether the whole lines ``block`` (from offset ``at``) are plainly samples, every
        line of the header's count of values, blank lines only at its end (:func:`_plain`):
        then counted, their offsets kept, with numpy alone; else nothing changed."""
        if rows.blank or rows.first:
            return False
        cls = _classes(block, self.layout.decimal)
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n"))
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))  # (the file's last line, ending unended)
        starts = np.concatenate(([0], ends[:-1] + 1))
        if int((ends - starts).max()) >= MAX_SAMPLE_LINE_BYTES:
            return False
        value = cls <= _SIGN
        begins = value.copy()
        begins[1:] &= ~value[:-1]  # (where each value starts)
        counts = np.diff(np.searchsorted(np.flatnonzero(begins), ends), prepend=0)
        n_data = int(np.flatnonzero(counts)[-1]) + 1 if counts.any() else 0
        n_fields = self.layout.skip_columns + self.layout.n_values
        if (counts[:n_data] != n_fields).any() or not _plain(block, cls, self.layout.decimal):
            return False
        rows.marks += (at + starts[:n_data][(rows.n + np.arange(n_data)) % STEP == 0]).tolist()
        rows.n += n_data
        if n_data < ends.size:
            rows.blank = self.line + n_data + 1
        self.line += ends.size
        return True

    def _blocks(self) -> Iterator[tuple[int, bytes]]:
        """The rest of the file in blocks of whole lines of about :data:`_BLOCK_BYTES`, with
        each one's offset (the last may end unended; a longer line is a block alone)."""
        at, carry = self.fh.tell(), b""
        while chunk := self.fh.read(_BLOCK_BYTES):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                carry = data
                if len(carry) > MAX_SAMPLE_LINE_BYTES:  # (refused as it: no line end near)
                    yield at, carry
                    return
                continue
            yield at, data[:cut]
            at, carry = at + cut, data[cut:]
        if carry:
            yield at, carry

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

    def vectorized(self) -> TextIndex:
        """A line a channel: each line read in pieces, its values counted and checked; then
        the lines' counts made one (:meth:`agreed`)."""
        self.skip_lines()
        lines: list[tuple[np.ndarray, int, bytes, list[bytes]]] = []
        skip = self.layout.skip_columns
        for channel in range(self.layout.n_values):
            self.line += 1
            marks, count, skip, name, after = self._channel_line(channel, skip)
            lines.append((marks, count, name, after))
        rest = self.fh.read(_CHUNK)
        if rest.strip(_BLANKS + b"\n"):
            raise self.refuse(
                f"a line after the {counted(self.layout.n_values, 'channel')} the header lists "
                "(DataOrientation=VECTORIZED: a line a channel)",
                self.line + 1 + rest[: len(rest) - len(rest.lstrip(_BLANKS + b"\n"))].count(b"\n"),
            )
        n_samples, leads = self.agreed([count for _, count, _, _ in lines], lines)
        marks = np.full((len(lines), max((m.size for m, *_ in lines), default=0)), -1)
        for row, (kept, *_) in enumerate(lines):
            marks[row, : kept.size] = kept
        return TextIndex(max(n_samples, 0), skip, marks, leads=leads)

    def agreed(
        self, counts: list[int], lines: list[tuple[np.ndarray, int, bytes, list[bytes]]]
    ) -> tuple[int, tuple[int, ...]]:
        """The count of samples every channel's line holds, and the values of each line that
        are words of its name (``Ch 1``, ``EEG 001``: words of digits after the name's words,
        as many as make the line hold the header's ``DataPoints``, up to
        :data:`_NAME_NUMBERS`); lines of other counts refused."""
        points, first = self.layout.n_points, self.layout.skip_lines + 1
        leads = [count - points if points is not None else 0 for count in counts]
        named = bool(lines and lines[0][2]) and points is not None and any(leads)
        if named and all(
            0 <= lead <= _NAME_NUMBERS and all(w.isdigit() for w in after[:lead])
            for lead, (*_, after) in zip(leads, lines, strict=True)
        ):
            return int(points or 0), tuple(leads)
        for channel, count in enumerate(counts):
            if count != counts[0]:
                name = lines[channel][2] if count > counts[0] else lines[0][2]
                longer = channel + 1 if count > counts[0] else 1
                raise self.refuse(
                    f"channel {channel + 1}'s line holds {counted(count, 'sample')}, channel "
                    f"1's {counts[0]:,}: every channel has the same number of samples"
                    + (
                        f", unless channel {longer}'s name goes on after "
                        f"{name.decode('latin-1')[:30]!r} in a word that reads as a number "
                        "(name the channel so in the header, or quote its name)"
                        if name
                        else ""
                    ),
                    first + channel,
                )
        return (counts[0] if counts else 0), ()

    def _channel_line(
        self, channel: int, skip: int
    ) -> tuple[np.ndarray, int, int, bytes, list[bytes]]:
        """The offsets of every :data:`STEP`-th value of one channel's line (after ``skip``
        columns, or a name found in the first column of channel 1's line, however many words
        it takes: :meth:`name_width`), its count of values, the columns skipped, its name
        (empty for none) and its first :data:`_NAME_NUMBERS` values as written."""
        marks: list[int] = []
        end, count, named, name, after = [0], -skip, False, b"", []
        decimal = self.layout.decimal
        for at, piece in _pieces(self.fh, end):
            text = piece.replace(b",", b".") if decimal == "," else piece
            cls = _classes(text, decimal)
            starts = _starts(cls)
            if not named and starts.size:
                named = True
                if channel == 0 and skip == 0 and not _is_number(_words(text, cls, starts)[0]):
                    skip = 1  # a name column: passed over on every line
                if skip:
                    count = -max(skip, self.name_width(text, cls, starts, channel))
                    name = b" ".join(_words(text, cls, starts[:-count]))
                after = _words(text, cls, starts[-count : _NAME_NUMBERS - count])
            self._check_piece(text, cls, starts, count)
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
        return np.array(marks, dtype=np.int64), count, skip, name, after

    def name_width(self, text: bytes, cls: np.ndarray, starts: np.ndarray, channel: int) -> int:
        """How many words a ``VECTORIZED`` line's name takes (``Fp1 Ref``, ``"EEG 001"``): its
        leading words that are no number, or every word of the header's name for the channel
        where the line starts with them (``EEG 001``, whose ``001`` reads as a number); 1 where
        no number follows within the first words (each then refused as no number)."""
        words = _words(text, cls, starts[:_NAME_WORDS])
        width = next((i for i, w in enumerate(words) if _is_number(w)), 0) or 1
        if channel < len(self.layout.names):
            said = self.layout.names[channel].split()
            for encoding in ("utf-8", "latin-1"):
                spelt = [w.encode(encoding, "replace") for w in said]
                if spelt and words[: len(spelt)] == spelt and len(spelt) < len(words):
                    width = max(width, len(spelt))
        return width

    def _check_piece(self, text: bytes, cls: np.ndarray, starts: np.ndarray, count: int) -> None:
        """Refuse a piece of a channel's line holding a value that is no number (its skipped
        columns aside) or an empty one: plainly numbers by numpy (:func:`_plain`), else value
        by value."""
        first = max(0, -count)
        if first >= starts.size:
            return
        body = text[starts[first] :]
        if _plain(body, cls[starts[first] :], self.layout.decimal, open_end=True):
            return
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


_NAME_WORDS = 16
"""The most words of a ``VECTORIZED`` line's name looked at."""
_NAME_NUMBERS = 3
"""The most words of digits a ``VECTORIZED`` line's name may end in where only the header's
``DataPoints`` tells them from samples (``Ch 1``)."""


def _starts(cls: np.ndarray) -> np.ndarray:
    """The offsets where a value (a word) starts: a byte no separator, after one or first."""
    word = cls != _GAP
    begins = word.copy()
    begins[1:] &= ~word[:-1]
    return np.flatnonzero(begins)


def _words(text: bytes, cls: np.ndarray, starts: np.ndarray) -> list[bytes]:
    """The words of ``text`` that start at ``starts`` (:func:`_starts`), each to the next
    separator."""
    gap = cls == _GAP
    out = []
    for start in starts.tolist():
        stop = np.flatnonzero(gap[start : start + 4096])
        out.append(text[start : start + int(stop[0]) if stop.size else len(text)])
    return out


_DIGIT, _POINT, _EXP, _SIGN, _GAP, _OTHER = range(6)
"""Byte classes (:func:`_classes`): a digit, a decimal symbol, ``e``/``E``, ``+``/``-``, a
separator (a blank, a semicolon, a comma under ``DecimalSymbol=.``, a line feed), anything
else."""


def _table(decimal: str, kinds: tuple[tuple[bytes, int], ...], other: int) -> bytes:
    """A :meth:`bytes.translate` table: each byte of ``kinds`` to its kind, any other byte to
    ``other``; a comma is a decimal symbol under ``DecimalSymbol=,`` (where a point also reads
    as one, as :func:`_pointed` makes it), else a separator, as a semicolon is."""
    table = bytearray([other]) * 256
    for chars, kind in kinds:
        for char in chars.replace(b",", b"") if decimal == "," else chars:
            table[char] = kind
        if decimal == "," and b"." in chars:
            table[ord(",")] = kind
    return bytes(table)


def _tables(decimal: str) -> tuple[bytes, bytes, bytes]:
    """The tables of :func:`_classes` and :func:`_plain` under ``decimal``: byte classes; marks
    (a point, an exponent, a separator ``' '``); separators (a semicolon or comma ``';'``, a
    line feed, a value's byte ``'v'``)."""
    seps = _BLANKS + b"\n;,"
    classes = ((b"0123456789", _DIGIT), (b".", _POINT), (b"eE", _EXP), (b"+-", _SIGN))
    marks = ((b".", ord(".")), (b"eE", ord("e")), (seps, ord(" ")))
    hard = ((b";,", ord(";")), (b"\n", ord("\n")))
    return (
        _table(decimal, (*classes, (seps, _GAP)), _OTHER),
        _table(decimal, marks, ord("x")),
        _table(decimal, hard, ord("v")),
    )


_TABLES = {d: _tables(d) for d in ".,"}


def _classes(text: bytes, decimal: str) -> np.ndarray:
    """The class of each byte of ``text``, shape (len(text),), uint8 (one C pass:
    :meth:`bytes.translate`)."""
    return np.frombuffer(text.translate(_TABLES[decimal][0]), dtype=np.uint8)


def _plain(text: bytes, cls: np.ndarray, decimal: str, *, open_end: bool = False) -> bool:
    """Whether ``text`` (from a line's start or a value's; ``cls`` its :func:`_classes`) is
    plainly numbers and separators: each value ``[+-]digits[.digits][e[+-]digits]`` (digits on
    one side of the point at least), no value empty between two semicolons or commas, no byte
    else (``open_end``: the text may end in a separator, a piece of a line). ``False`` says only
    "not plainly": the caller then reads it value by value, as numpy does (``nan``, ``inf``),
    refusing in its words. Vectorised: each byte judged with its two neighbours by a table
    (:data:`_TRIPLE_BAD`), then the marks of each value in order, in C (numpy,
    :meth:`bytes.translate`), none by Python."""
    if not text:
        return True
    padded = np.empty(cls.size + 2, dtype=np.uint8)
    padded[0] = padded[-1] = _GAP
    padded[1:-1] = cls
    triple = padded[:-2] * np.uint8(36)
    triple += padded[1:-1] * np.uint8(6)
    triple += padded[2:]
    if 1 in triple.tobytes().translate(_TRIPLE_BAD):
        return False
    _, marks, hard = _TABLES[decimal]
    kept = text.translate(marks, b"0123456789+-")  # (points, exponents, separators)
    if b".." in kept or b"e." in kept or b"ee" in kept:
        return False  # a second point or exponent in a value, or a point after its exponent
    if b";" not in text and (decimal == "," or b"," not in text):
        return True
    seps = text.translate(hard, _BLANKS)
    return not (
        b";;" in seps or b"\n;" in seps or b";\n" in seps or seps.startswith(b";")
        or (seps.endswith(b";") and not open_end)
    )  # fmt: skip


def _triple_bad() -> bytes:
    """For each (before, byte, after) of classes, ``before * 36 + byte * 6 + after``: whether
    no number has it (1) or may (0): a sign starts a value (a digit or point next) or an
    exponent (a digit next); an exponent follows a digit or point, a digit or sign next; a
    point follows a digit (no sign or point next) or starts a value with a digit next; no
    byte of another class."""
    bad = bytearray([1]) * 256
    for before in range(6):
        for byte in range(6):
            for after in range(6):
                ok = {
                    _DIGIT: True,
                    _SIGN: (before == _GAP and after in (_DIGIT, _POINT))
                    or (before == _EXP and after == _DIGIT),
                    _EXP: before in (_DIGIT, _POINT) and after in (_DIGIT, _SIGN),
                    _POINT: (before == _DIGIT and after not in (_SIGN, _POINT))
                    or (before in (_SIGN, _GAP) and after == _DIGIT),
                    _GAP: True,
                }.get(byte, False)
                bad[before * 36 + byte * 6 + after] = not ok
    return bytes(bad)


_TRIPLE_BAD = _triple_bad()
