"""Text files from other systems: which encoding their bytes are in.

Tables and sidecars exported on Windows or by older software are often Latin-1 / cp1252 (a
micro sign in ``Fp1 [µV]`` is the one byte ``0xB5``), where eegprep's own files and newer
exports are UTF-8. Reading a Latin-1 file as UTF-8 fails on its first such byte; reading it
with replacement characters garbles its labels. Excel's "Unicode Text" export and Windows
tools (PowerShell 5's ``Out-File``, Notepad's "Unicode") write UTF-16 with a byte-order mark;
read as UTF-8, such a file has no line the parser knows.

A message citing a row of a table names its line as an editor numbers it (:func:`data_lines`):
the rows numpy reads skip blank lines and comments, so the row's index is not its line.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO, TextIO

from eegprep.base.regular_files import open_regular

_CHUNK_BYTES = 1 << 20


UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
"""The byte-order marks that start a UTF-16 file (little- and big-endian)."""


def text_encoding(path: str | os.PathLike[str]) -> str:
    """``'utf-16'`` when the file starts with a UTF-16 byte-order mark and all of it is valid
    UTF-16; else ``'utf-8-sig'`` when every byte of the file is valid UTF-8 (with or without a
    byte-order mark); else ``'latin-1'`` (every byte one character, as the older writers' code
    pages).

    The file is read once, 1 MiB at a time (memory does not grow with it).
    """
    with open_regular(os.fspath(path), buffering=-1) as fh:
        utf16 = fh.read(2) in UTF16_MARKS
        fh.seek(0)
        if utf16 and _decodes(fh, "utf-16"):
            return "utf-16"
        fh.seek(0)
        return "utf-8-sig" if _decodes(fh, "utf-8") else "latin-1"


def _decodes(fh: BinaryIO, encoding: str) -> bool:
    """Whether the rest of the binary file ``fh`` is valid ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := fh.read(_CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def open_text(path: str, *, newline: str | None = None) -> TextIO:
    """``path`` opened as text in its :func:`text_encoding` (a regular file only:
    :func:`~eegprep.base.regular_files.open_regular`): every text sidecar is read this way, so
    a label written in Latin-1 or UTF-16 is the same label as in UTF-8, never one with
    replacement characters. (``errors="replace"`` only for a file that changes between the
    two reads.)"""
    return open_regular(path, "r", encoding=text_encoding(path), errors="replace", newline=newline)


_LINE_END = re.compile(r"\r\n|\r|\n")

DOS_END = "\x1a"
"""Ctrl-Z, which DOS tools (``copy /a``) and old editors append to a text file as its end."""
PADDING = DOS_END + "\x00"
"""What may pad a text file's end: Ctrl-Z, and NUL bytes (a file preallocated or zero-filled
past what was written)."""


def end_padding(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` (a text file's, ends kept) with the padding that ends the file
    (:data:`PADDING`) left off: trailing Ctrl-Z or NUL characters of its last line removed,
    and a line of them alone after it given as an empty line (so that every line keeps its
    number). Padding before another line of text is left as it is (its reader refuses it as
    a row). One line is held back at a time: memory does not grow with the file."""
    pending: list[str] = []  # the last line of text read, then lines of padding alone
    for line in lines:
        body = line.rstrip("\r\n")
        if body and not body.strip(PADDING):
            pending.append(line)
            continue
        yield from pending
        pending = [line]
    for line in pending:
        body = line.rstrip("\r\n")
        kept = body.rstrip(PADDING)
        yield kept + (line[len(body) :] or ("\n" if kept != body else ""))


def editor_lines(text: str) -> list[str]:
    """The lines of ``text`` as an editor numbers them, ends left out: each ended by ``\\r\\n``,
    ``\\r`` or ``\\n`` alone (no empty line after a last end). :meth:`str.splitlines` ends a
    line at a form feed, a vertical tab, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028 and U+2029 too:
    a line number counted so named a line below the one meant, and a comment holding one was
    cut, its tail read as a row."""
    lines = _LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def line_at(text: str, pos: int) -> int:
    """The line (from 1, as an editor numbers it: ended by ``\r\n``, ``\r`` or ``\n``) of
    ``text`` that holds the character at ``pos``; counting ``\n`` alone named line 1 for
    every line of a file whose lines end in ``\r`` alone."""
    return sum(1 for _ in _LINE_END.finditer(text, 0, pos)) + 1


def line_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """``(line, start, end)`` of each line of ``text`` as :func:`editor_lines` numbers them
    (``end`` before its line end), in order, the text not copied."""
    start, line = 0, 1
    for hit in _LINE_END.finditer(text):
        yield line, start, hit.start()
        start, line = hit.end(), line + 1
    if start < len(text):
        yield line, start, len(text)


def data_lines(
    lines: Iterable[str], rows: Iterable[int], *, skip: int = 0, comment: str | None = "#"
) -> dict[int, int]:
    """The line of each data row in ``rows`` of a table, counted from 1 as an editor numbers
    a file's lines (blank lines and comments included).

    ``rows`` are indices (from 0) of the rows :func:`numpy.loadtxt` reads from ``lines`` after
    passing ``skip`` lines: a line empty or of blanks alone, or one that is a comment (nothing
    but blanks before ``comment``, numpy's ``#``), is no row. A message that cited the row's
    index plus the header's lines named another line wherever a blank line stood before it.
    ``lines`` is read only up to the last row asked for (a failure's message: memory does not
    grow with the file).
    """
    wanted, found = set(rows), {}
    k = -1
    for number, line in enumerate(lines, start=1):
        if number <= skip:
            continue
        text = line.partition(comment)[0] if comment else line
        if not text.strip():
            continue
        k += 1
        if k in wanted:
            found[k] = number
            if len(found) == len(wanted):
                break
    return found


def headless_row(cells: Sequence[str]) -> str | None:
    """Why a table whose first row is ``cells`` has no header row, where every one of them is
    a number (``numpy.savetxt`` writes no header; an export may leave it out): what its
    column names were read as, for a message that says what to give instead; None where some
    cell is a name (or there are none)."""
    found = [c.strip().strip('"').strip() for c in cells]
    if not found or not all(ascii_number(c) for c in found):
        return None
    shown = ", ".join(f"{float(c):.6g}" for c in found[:4]) + (", ..." if len(found) > 4 else "")
    return (
        f"the file seems to have no header row (its first row, {shown}, was read as the "
        "column names and every one is a number)"
    )


def ascii_number(text: str) -> bool:
    """Whether ``text`` is a number written in ASCII, as numpy's parser reads one (Python's
    ``float`` also takes ``1_5`` and other scripts' digits, which numpy refuses)."""
    if not text or not text.isascii() or "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


_TABLE_LINES = 50


def numeric_table(head: bytes, *, cut: bool = False) -> bool:
    """Whether ``head`` (a text file's first bytes; ``cut``: the file goes on after them)
    reads as a table of numbers, as one of samples is: among its first lines that are not
    blank or a ``#`` comment, a row of numbers (most of its fields, split at a tab, comma,
    semicolon or blanks, numbers: an ``id`` column may be text), and half or more of the lines
    from that row on rows of numbers too (header lines before it). A row of one number counts
    only where every line but the first is one. Prose (a README, notes, a licence) is none."""
    mark = head[:2] in UTF16_MARKS
    text = head.decode("utf-16" if mark else "utf-8", errors="replace")
    lines = editor_lines(text)[:-1] if cut else editor_lines(text)
    kept = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    fields = [_row_fields(line) for line in kept[:_TABLE_LINES]]
    rows = [_numbers_row(cells) for cells in fields]
    if not any(rows):
        return False
    if len(fields) > 1 and all(len(cells) == 1 for cells in fields[1:]):  # (one column)
        return all(rows[1:])
    first = rows.index(True)
    rest = [ok and len(cells) > 1 for ok, cells in zip(rows[first:], fields[first:])]
    return 2 * sum(rest) >= len(rest)


def _row_fields(line: str) -> list[str]:
    """The fields of a line of a table: split at its first tab, comma or semicolon, else at
    blanks (a decimal comma left in its field)."""
    delimiter = next((d for d in ("\t", ";", ",") if d in line), None)
    return [f.strip().strip('"') for f in line.split(delimiter)]


def _numbers_row(cells: list[str]) -> bool:
    """Whether two thirds or more of ``cells`` are numbers (``-1,5`` too), one at least."""
    n = sum(ascii_number(c.replace(",", ".")) for c in cells)
    return n >= 1 and 3 * n >= 2 * len(cells)
