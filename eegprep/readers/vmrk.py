"""BrainVision marker files (``.vmrk``) checked, and made readable, before MNE reads them.

MNE reads the marker file a BrainVision header names twice: once as text in the system's
encoding (it looks for the recording date on a ``New Segment`` line), once as bytes decoded in
the file's ``Codepage=`` with a Latin-1 fallback (the markers). On damage it failed in its own
or Python's words (``'utf-8' codec can't decode byte``, ``not enough values to unpack``,
``invalid literal for int()``, ``unconverted data remains``, ``day is out of range for
month``, ``int too large to convert to float``), could not read a valid ANSI (Windows-1252)
file with a non-ASCII description, nor one named ``.VMRK``, and read some damage silently (a
size that is not a number as 0). This module reads the markers as MNE does and refuses, in
one line naming the marker file and its line, every one MNE would fail on or misread:
:func:`check_vmrk`; :func:`mne_copy` writes the copy MNE is given where it could not open the
file itself.

A marker line is ``Mk<n>=<type>,<description>,<position>,<size>[,<channel>[,<date>]]``
(BrainVision Core Data Format 1.0; a comma inside a type or description is written ``\\1``):
the position and size are whole numbers of samples (positions count from 1), the channel a
channel number of the header (0: every channel), the date ``YYYYMMDDhhmmssuuuuuu``. MNE reads
every ``Mk`` line after ``[Marker Infos]`` to the end of the file, and a file without that
section as no markers: that gives a warning here, as a missing marker file does.
"""

from __future__ import annotations

import locale
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import BinaryIO

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import open_regular
from eegprep.base.validation import OTHER_DIGITS, other_digits
from eegprep.base.wording import counted, noun
from eegprep.readers import event_count
from eegprep.readers.companions import (
    brainvision_bytes,
    eight_bit,
    lone_return,
    wide_codepage_problem,
)
from eegprep.readers.event_count import check_event_count
from eegprep.readers.read_once import once

SEGMENT = "New Segment"
"""The marker type that opens a stretch of samples: the recording paused and resumed there (or
began: position 1)."""
MARKER_LINE = "Mk<n>=<type>,<description>,<position>,<size>[,<channel>[,<date>]]"
MAX_POSITION = 2**31
"""The largest position or size (samples) read: a store holds no longer recording, so a larger
one is a damaged field (and one of 400 digits made MNE overflow converting it to seconds)."""
COPY_CODEPAGE = "utf-7"
"""The encoding of the marker file's copy MNE is given (:func:`mne_copy`): every character in
ASCII bytes, so that MNE's read of it as text in the system's encoding (for the date) decodes
it whatever the locale, and its read in the ``Codepage=`` gives back the file's text."""
_MNE_SUFFIXES = (".vmrk", ".amrk")  # what mne.read_annotations reads as BrainVision markers
_MNE_CODEPAGE = re.compile("Codepage=(.+)")  # as MNE finds it: case-sensitive, first match
_SECTION = re.compile(r"\[Marker Infos\]", re.IGNORECASE)
_MARKER = re.compile(r"^Mk(\d+)=(.*)", re.MULTILINE)  # as MNE finds marker lines
# how MNE finds the recording date, on every line of the file read as text
_DATE_LINE = re.compile(r"^Mk\d+=New Segment,.*,\d+,\d+,-?\d+,(\d{20})$")
_DATE_FORMAT = "%Y%m%d%H%M%S%f"
_NO_DATE = ("", "0", "0" * 20)  # what MNE reads as "no date"
_DIGITS = re.compile(r"[0-9]+")
_BYTES_PER_FILE_BYTE = 10  # the file's bytes, its text (up to 4 bytes a character), MNE's copies
_BYTES_PER_MARKER = 600  # a marker's strings, lists and Annotation objects, MNE's and ours


@dataclass(frozen=True)
class VmrkMarker:
    """One ``Mk`` line of a marker file, as MNE reads it.

    Attributes
    ----------
    number : int
        ``n`` of ``Mk<n>=``.
    line : int
        Its line in the file (from 1).
    kind : str
        The marker type (``'Stimulus'``), ``\\1`` left as written.
    description : str
        The description (``'S  1'``), ``\\1`` left as written.
    position : int
        The first sample it marks, counted from 1, as the file writes it.
    size : int
        Samples it spans (0 where the field is empty).
    date : str
        The sixth field as written (``YYYYMMDDhhmmssuuuuuu``, the time its segment was
        acquired, on a ``New Segment`` marker), stripped; ``""`` where there is none.
    channel : int
        The fifth field: the header's channel it marks, counted from 1; 0 (every channel)
        where it is 0, empty or not given.
    """

    number: int
    line: int
    kind: str
    description: str
    position: int
    size: int
    date: str = ""
    channel: int = 0


@dataclass(frozen=True)
class VmrkFile:
    """A marker file's text and markers, every field checked.

    Attributes
    ----------
    name : str
        The file's name (for messages).
    text : str
        The file decoded as MNE decodes it.
    markers : tuple of VmrkMarker
        Its ``Mk`` lines after ``[Marker Infos]``, in file order.
    note : str or None
        A warning for the ingest report (no ``[Marker Infos]`` section: no events read).
    """

    name: str
    text: str
    markers: tuple[VmrkMarker, ...]
    note: str | None


def marker_file(path: str) -> str | None:
    """The marker file the BrainVision header ``path`` names, as the readers find it
    (:func:`~eegprep.readers.companions.vhdr_companions`); None for none, or none found."""
    from eegprep.readers.companions import BRAINVISION_HEADERS, vhdr_companions

    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS:
        return None
    return next((c.path for c in vhdr_companions(path) if c.key == "markerfile"), None)


def check_vmrk(path: str, n_channels: int) -> str | None:
    """Refuse, in one line naming the marker file and its line, a BrainVision header's marker
    file that MNE would fail on or misread (:func:`read_vmrk`; ``n_channels``: the header's
    ``NumberOfChannels``, which a marker's channel may not pass); a warning for the header
    when the file has no markers section, else None. Headers without a marker file pass."""
    vmrk = marker_file(path)
    if vmrk is None:
        return None
    return parsed_vmrk(path, vmrk, n_channels=n_channels).note


@once(files=(1,), copied=False)
def parsed_vmrk(path: str, vmrk: str, *, n_channels: int) -> VmrkFile:
    """:func:`read_vmrk`, parsed once however many of this module's readers ask for it while a
    header is read (the check, the segment starts and dates, the leading markers: a marker
    file of 100,000 lines was parsed four times, ~60% of its header's time), keyed by the
    marker file's identity (:mod:`~eegprep.readers.read_once`: a changed file parsed again),
    and dropped once the header is read: a worker does not hold a file's markers (up to ~60 MB
    at the event bound) while it reads samples. Immutable: handed out uncopied."""
    return read_vmrk(path, vmrk, n_channels=n_channels)


def segment_starts(path: str, n_channels: int) -> tuple[int, ...]:
    """Where the recording of the BrainVision header ``path`` resumes after a pause: the first
    sample (counted from 0) of each stretch its marker file's ``New Segment`` markers open
    after the first sample, in order, once each; ``()`` without a marker file. Read from the
    file as :func:`read_vmrk` reads it, whatever MNE makes of the markers (it drops the first
    marker of a file when it is a ``New Segment``, wherever it lies, and names the others
    ``New Segment/<description>``, or by their description alone under
    ``ignore_marker_types``)."""
    vmrk = marker_file(path)
    if vmrk is None:
        return ()
    markers = parsed_vmrk(path, vmrk, n_channels=n_channels).markers
    return tuple(sorted({m.position - 1 for m in markers if m.kind == SEGMENT and m.position > 1}))


def channel_markers(path: str, n_channels: int) -> tuple[VmrkMarker, ...]:
    """The markers of the BrainVision header ``path``'s marker file that name one channel
    (:attr:`VmrkMarker.channel` above 0), in file order; ``()`` without a marker file."""
    vmrk = marker_file(path)
    if vmrk is None:
        return ()
    markers = parsed_vmrk(path, vmrk, n_channels=n_channels).markers
    return tuple(m for m in markers if m.channel > 0)


def segment_dates(path: str, n_channels: int) -> tuple[tuple[int, datetime | None], ...]:
    """Every ``New Segment`` marker of the BrainVision header ``path``'s marker file, as
    ``(first sample counted from 0, acquisition time or None)``, ordered by sample (a marker
    at position 0, before the first sample, at sample 0); ``()`` without a marker file. The
    time is None where the marker gives no date, or one that is no date."""
    vmrk = marker_file(path)
    if vmrk is None:
        return ()
    markers = parsed_vmrk(path, vmrk, n_channels=n_channels).markers
    found = [
        (max(m.position - 1, 0), _date(m.date) if _DIGITS.fullmatch(m.date) else None)
        for m in markers
        if m.kind == SEGMENT
    ]
    return tuple(sorted(found, key=lambda pair: pair[0]))


def read_vmrk(path: str, vmrk: str, *, n_channels: int) -> VmrkFile:
    """The marker file ``vmrk`` of the BrainVision header ``path`` (whose ``NumberOfChannels``
    is ``n_channels``), read as MNE reads it and checked; :class:`SourceError` (naming
    ``path``, then the marker file) for the first problem."""
    name = os.path.basename(vmrk)
    raw = _read_bytes(path, vmrk, name)
    ambiguous = lone_return(raw, f"its marker file {name}")  # (CR-only lines read as LF)
    if ambiguous:
        raise SourceError(path, ambiguous)
    text = _decoded(path, name, raw)
    hit = _SECTION.search(text)
    section = "" if hit is None else text[hit.end() :]
    check_event_count(  # counted without keeping them, before one marker is built and before
        path,  # the dates are checked line by line (a list of every line, twice)
        sum(1 for _ in _MARKER.finditer(section)),
        f"its marker file {name}",
        _FEWER_MARKERS,
    )
    dated = _check_dates(name, raw, text)
    if hit is None:
        note = _no_section_note(name, text)
        return VmrkFile(name, text, (), f"{dated}; {note}" if dated else note)
    first_line = text.count("\n", 0, hit.end()) + 1
    markers = _markers(path, name, section, first_line, n_channels)
    widest = max((len(m.kind) + len(m.description) + 1 for m in markers), default=0)
    check_allocation(  # MNE keeps descriptions in one array, each as wide as the widest
        path,
        _BYTES_PER_FILE_BYTE * len(raw) + len(markers) * (_BYTES_PER_MARKER + 8 * widest),
        f"reading the {counted(len(markers), 'marker', sep=',')} of its marker file {name}",
    )
    return VmrkFile(name, text, markers, dated)


def _read_bytes(path: str, vmrk: str, name: str) -> bytes:
    """The marker file's bytes, once its size fits the memory budget and its ``Mk`` lines,
    counted a chunk at a time (:func:`_counted_markers`), are within the bound of events: a
    marker file of 1,000,000 markers (30 MB) was read whole, and decoded, to count them
    (174 MiB to refuse it)."""
    try:
        size = os.path.getsize(vmrk)
        check_allocation(path, _BYTES_PER_FILE_BYTE * size, f"reading its marker file {name}")
        with open_regular(vmrk, buffering=-1) as fh:
            check_event_count(path, _counted_markers(fh), f"its marker file {name}", _FEWER_MARKERS)
            if size > MAX_VMRK_BYTES:
                raise SourceError(
                    path,
                    f"its marker file {name} is {size:,} bytes, over the {MAX_VMRK_BYTES:,} "
                    "read of a marker file (the "
                    f"{counted(event_count.MAX_EVENTS, 'marker', sep=',')} a recording "
                    "may store take a few MB): the file is damaged, or not a marker file",
                )
            fh.seek(0)
            return brainvision_bytes(fh.read())  # (a UTF-16 file, as its UTF-8 text)
    except OSError as exc:
        raise SourceError(
            path,
            f"its marker file {name} cannot be read ({exc.strerror or type(exc).__name__}): "
            "check that it is a file you may read",
        ) from None


_FEWER_MARKERS = "split the recording into shorter files, or thin its markers"
MAX_VMRK_BYTES = 32 * 2**20
"""Largest marker file read (bytes), once its ``Mk`` lines are within the bound of events: 335
bytes a marker at the bound, where BrainVision writes 30-60 (MNE reads the file whole, twice,
and eegprep once: a marker file of 137 MB of comment lines and 10 markers took 7.8 CPU s and
756 MiB, under the per-file memory limit)."""
_CHUNK_BYTES = 1 << 20  # read at a time to count markers: memory stays at a chunk
_SECTION_BYTES = re.compile(rb"\[Marker Infos\]", re.IGNORECASE)
_MARKER_BYTES = re.compile(rb"\nMk[0-9]+=")
_MARKER_START = re.compile(rb"\n(?:M(?:k[0-9]*)?)?")  # a marker line begun, not yet ended


def _counted_markers(fh: BinaryIO) -> int:
    """The ``Mk<n>=`` lines after ``[Marker Infos]`` in the binary file ``fh``, counted on its
    bytes a chunk at a time (memory stays at a chunk however long the file or its lines), a
    carriage return taken as a line end (classic Mac OS's, which the text is read with:
    :func:`~eegprep.readers.companions.brainvision_bytes`). As :data:`_MARKER` finds them in
    the text wherever the codepage is ASCII's for ASCII (UTF-8, ANSI: what BrainVision
    writes); elsewhere it counts fewer, and the count on the text decides
    (:func:`read_vmrk`)."""
    count, carry, found = 0, b"", False
    while chunk := fh.read(_CHUNK_BYTES):
        buf = carry + chunk.replace(b"\r", b"\n")  # (a line ended by CR alone, too)
        if not found:
            hit = _SECTION_BYTES.search(buf)
            if hit is None:
                carry = buf[-len(b"[Marker Infos]") :]
                continue
            found, buf = True, b"\n" + buf[hit.end() :]  # "^" right after the section too
        last = max(buf.rfind(b"\n"), 0)
        count += len(_MARKER_BYTES.findall(buf, 0, last))
        counted, carry = _line_begun(buf[last:])
        count += counted
    return count


def _line_begun(tail: bytes) -> tuple[int, bytes]:
    """``(1, ...)`` when ``tail`` (from its line's start, or ``b"x"`` from within a line) is
    a marker line; what to keep of it for the next chunk: ``"\nMk0"`` for a marker line
    whose number is still being written (its digits need not be kept), ``b"x"`` for a line
    known to be no marker line or already counted."""
    if _MARKER_BYTES.match(tail):
        return 1, b"x"
    begun = _MARKER_START.fullmatch(tail)
    if begun is None:
        return 0, b"x"
    return 0, tail if len(tail) <= 4 else b"\nMk0"


def _codepage(raw: bytes) -> str:
    """The codec MNE decodes the marker file in: its first ``Codepage=`` (``ANSI`` is
    Windows-1252), UTF-8 when it names none."""
    named = _MNE_CODEPAGE.search(raw.decode("ascii", "ignore"))
    codepage = named.group(1).strip() if named else "utf-8"
    return "cp1252" if codepage == "ANSI" else codepage


def _decoded(path: str, name: str, raw: bytes) -> str:
    """The text MNE reads the markers from: decoded in the codepage, else Latin-1 when the
    bytes are not of it (as MNE falls back); a codepage that names no text codec is refused
    (MNE: ``unknown encoding``, or its codec's own error)."""
    codepage = _codepage(raw)
    if not eight_bit(codepage):
        raise SourceError(path, wide_codepage_problem(codepage, f"its marker file {name}"))
    try:
        return raw.decode(codepage)
    except UnicodeDecodeError:
        return raw.decode("latin-1")
    except Exception:  # LookupError, a codec that is no text encoding, idna's UnicodeError
        raise SourceError(
            path,
            f"its marker file {name} gives Codepage={codepage[:40]!r}, which names no text "
            "encoding (BrainVision writes UTF-8 or ANSI): the marker file is damaged; correct "
            "that line",
        ) from None


def _system_text(raw: bytes) -> str | None:
    """The marker file as MNE first reads it, as text in the system's encoding (where it
    looks for the recording date); None when the bytes are not of that encoding (MNE is
    given a copy that is: :func:`mne_copy`)."""
    try:
        return raw.decode(system_encoding())
    except (UnicodeDecodeError, LookupError):
        return None


def system_encoding() -> str:
    """The encoding ``open()`` reads text in when given none, as MNE opens the marker file."""
    return "utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False)


def _check_dates(name: str, raw: bytes, text: str) -> str | None:
    """A warning when a date MNE takes the recording's start from (a ``New Segment`` line
    ending in 20 digits, anywhere in the file) is no date: MNE failed on it in Python's words
    (``unconverted data remains``, ``day is out of range for month``); it is given a copy
    without it (:func:`mne_copy`), and the start is unknown."""
    for source in (_system_text(raw), text):
        if source is None:
            continue
        for number, line in enumerate(re.split(r"\r\n|\r|\n", source), start=1):
            if _no_date(line):
                date = _DATE_LINE.search(line.strip())
                assert date is not None
                return (
                    f"its marker file {name}, line {number}: the recording date "
                    f"{date.group(1)!r} is no date (YYYYMMDDhhmmssuuuuuu): the recording's "
                    "start is unknown"
                )
    return None


def _no_date(line: str) -> bool:
    """Whether ``line`` is a ``New Segment`` marker whose 20-digit date MNE reads and is no
    date (``20240230000000000000``)."""
    hit = _DATE_LINE.search(line.strip())
    return hit is not None and hit.group(1) not in _NO_DATE and _date(hit.group(1)) is None


def _date(text: str) -> datetime | None:
    if len(text) == 20 and text == _NO_DATE[2]:
        return None
    try:
        return datetime.strptime(text, _DATE_FORMAT)
    except ValueError:
        return None


def _markers(
    path: str, name: str, section: str, first_line: int, n_channels: int
) -> tuple[VmrkMarker, ...]:
    """Each ``Mk`` line of ``section`` (the text after ``[Marker Infos]``, which starts on
    line ``first_line``), checked; a marker number given twice is refused."""
    out: list[VmrkMarker] = []
    seen: dict[int, int] = {}
    line, last = first_line, 0
    for hit in _MARKER.finditer(section):
        line += section.count("\n", last, hit.start())
        last = hit.start()
        value = without_comment(hit.group(2))  # (`5,1,0 ; trigger`: a writer's comment)
        if other_digits(hit.group(1)):  # (MNE's \d matched them: int() read ``Mk٣`` as Mk3)
            raise _damaged(path, name, line, hit.group(0),
                           f"its marker number is written in {OTHER_DIGITS}")  # fmt: skip
        marker = _marker(path, name, line, hit.group(0), int(hit.group(1)), value, first=not out)
        if marker.number in seen:
            raise _damaged(
                path, name, line, hit.group(0),
                f"marker Mk{marker.number} is given again (first on line "
                f"{seen[marker.number]}): each marker number is given once",
            )  # fmt: skip
        seen[marker.number] = line
        _check_channel(path, name, line, hit.group(0), value, n_channels)
        out.append(marker)
    return tuple(out)


def _marker(
    path: str, name: str, line: int, text: str, number: int, value: str, first: bool
) -> VmrkMarker:
    """One marker line's type, description, position and size. Position 0, before the first
    sample, is read only on the ``New Segment`` marker that opens the file (MNE drops it: it
    holds the date alone)."""
    fields = value.split(",")
    if not 4 <= len(fields) <= 6:
        why = (
            "a line cut short, or fields left out"
            if len(fields) < 4
            else "a comma inside a type or description not written as \\1, or a decimal comma"
        )
        raise _damaged(
            path, name, line, text,
            f"it has {counted(len(fields), 'field')}, not {MARKER_LINE} ({why})",
        )  # fmt: skip
    kind, description, position, size = fields[:4]
    at = _whole(position)
    if at is None or (at == 0 and not (first and kind == "New Segment")):
        raise _damaged(
            path, name, line, text,
            f"its position {position.strip()[:30]!r} is not a sample of the recording (1 to "
            f"{MAX_POSITION:,}: BrainVision counts samples from 1){_semicolon(position)}",
        )  # fmt: skip
    span = 0 if not size.strip() else _whole(size)
    if span is None:
        raise _damaged(
            path, name, line, text,
            f"its size {size.strip()[:30]!r} is not a whole number of samples "
            f"(0 to {MAX_POSITION:,}; empty for 0){_semicolon(size)}",
        )  # fmt: skip
    date = fields[5].strip() if len(fields) == 6 else ""
    unread = kind == "New Segment" and len(date) == 20 and date.isdigit()  # _check_dates'
    if date not in ("", _NO_DATE[2]) and _date(date) is None and not unread:  # "0": a comma
        raise _damaged(
            path, name, line, text,
            f"its date {date[:30]!r} is no date (YYYYMMDDhhmmssuuuuuu, or empty): a decimal "
            f"comma in its position or size, or a damaged date{_semicolon(date)}",
        )  # fmt: skip
    channel = (_whole(fields[4]) or 0) if len(fields) >= 5 else 0  # (checked after this)
    return VmrkMarker(number, line, kind, description, at, span, date, channel)


def _check_channel(path: str, name: str, line: int, text: str, value: str, n_channels: int) -> None:
    """The channel field (the fifth), where given: 0 (every channel) to ``n_channels``."""
    fields = value.split(",")
    if len(fields) < 5 or not fields[4].strip():
        return
    channel = _whole(fields[4])
    if channel is None or channel > n_channels:
        raise _damaged(
            path, name, line, text,
            f"its channel {fields[4].strip()[:30]!r} is not a channel of the header (0 for "
            f"every channel, or 1 to {n_channels}){_semicolon(fields[4])}",
        )  # fmt: skip


def without_comment(value: str) -> str:
    """A marker line's value (after ``Mk<n>=``) without a ``;`` comment after its third comma:
    the position, size, channel and date hold digits alone, so a ``;`` there starts a comment
    (``Stimulus,S  1,5,1,0 ; trigger``, as some third-party writers add one), unambiguously;
    the type and description before may hold a ``;`` (the format escapes only the comma), and
    a ``;`` in the position is refused (:func:`_semicolon`: what follows it would be read as
    the next fields)."""
    start = 0
    for _ in range(3):
        start = value.find(",", start) + 1
        if start == 0:  # (fewer than four fields: refused as it is)
            return value
    cut = value.find(";", start)
    return value if cut < 0 else value[:cut].rstrip(" \t")


def _commented(text: str) -> bool:
    """Whether a marker line after ``[Marker Infos]`` has a comment :func:`without_comment`
    leaves out (MNE would read it into the size, channel or date)."""
    hit = _SECTION.search(text)
    if hit is None:
        return False
    return any(
        without_comment(m.group(2).rstrip("\r")) != m.group(2).rstrip("\r")
        for m in _MARKER.finditer(text, hit.end())
    )


def _semicolon(field: str) -> str:
    """Why a number field holding a ``;`` is refused (``0 ; trigger``: a third-party writer's
    comment), else nothing: a marker's type and description may hold a ``;`` (the format
    escapes only the comma), so a ``;`` on a marker line starts no comment anywhere."""
    if ";" not in field:
        return ""
    return (
        " (a `;` after a value is no comment in a marker file: BrainVision comments are lines "
        "of their own, `;` first; move it to a line of its own)"
    )


def _whole(text: str) -> int | None:
    """``text`` (spaces around it allowed) as a whole number from 0 to :data:`MAX_POSITION`,
    written in ASCII digits, else None (``int()`` also reads ``1_000``, ``+5`` and other
    scripts' digits: not what BrainVision writes)."""
    text = text.strip()
    if not _DIGITS.fullmatch(text) or len(text) > 12:
        return None
    value = int(text)
    return value if value <= MAX_POSITION else None


def _damaged(path: str, name: str, line: int, text: str, problem: str) -> SourceError:
    shown = text.strip()
    shown = shown if len(shown) <= 60 else f"{shown[:60]}..."
    return SourceError(
        path,
        f"its marker file {name}, line {line} ({shown!r}): {problem}; the marker file is "
        "damaged: correct or remove that line",
    )


def _no_section_note(name: str, text: str) -> str:
    lines = len(_MARKER.findall(text))
    unread = f": its {counted(lines, 'marker line')} {noun(lines, 'was')} not read" if lines else ""
    nul = "(it holds NUL bytes: UTF-16 text without a byte-order mark? save it as UTF-8)"
    return f"its marker file {name} has no [Marker Infos] section{unread}: no events were read " + (
        nul if "\x00" in text else "(the file is damaged, or not a marker file)"
    )


def mne_copy(vmrk: str, folder: str) -> str | None:
    """A copy of the marker file ``vmrk`` in ``folder`` that MNE can open, where it cannot
    open the file itself (its bytes are not text in the system's encoding, in which MNE first
    reads it; they are UTF-16 or UTF-32, which MNE reads as no markers
    (:func:`~eegprep.readers.companions.brainvision_bytes`); or its name does not end in
    ``.vmrk``, the only name MNE reads markers from):
    the text as MNE decodes it (:func:`_decoded`) in :data:`COPY_CODEPAGE`, named by a
    ``Codepage=`` line after the first (the first MNE finds). None when MNE can open the file
    as it is. Call it after :func:`check_vmrk` passed.

    The copy's bytes are ASCII, which every system encoding MNE's text read may use decodes
    alike, and decode to exactly the marker file's text, so the descriptions MNE reads from
    it are the same under every locale (in the system's encoding, as before, a character it
    cannot write became ``?``: ``Reiz ü`` was stored as ``Reiz ?`` under an ASCII locale, or a
    Japanese one on Windows)."""
    with open_regular(vmrk, buffering=-1) as fh:
        written = fh.read()
    raw = brainvision_bytes(written)  # (a UTF-16 file, which MNE reads as no markers)
    suffix = os.path.splitext(vmrk)[1]
    system = _system_text(raw)
    undated = system is None or any(_no_date(line) for line in system.splitlines())
    text = raw.decode(_codepage(raw)) if _decodes(raw) else raw.decode("latin-1")
    plain = not undated and not _sizes_misread(text) and not _commented(text)
    if suffix in _MNE_SUFFIXES and plain and raw is written:
        return None
    lines = [line.removesuffix("\r") for line in text.split("\n")]  # MNE's lines, no others
    for i, line in enumerate(lines):
        if _no_date(line):  # MNE reads twenty zeros as no date
            date = _DATE_LINE.search(line.strip())
            assert date is not None
            lines[i] = line.replace(date.group(1), "0" * 20)
        lines[i] = _size_as_mne_reads_it(_line_without_comment(lines[i]))
    # the first Codepage= MNE finds, before any the file holds (a description's included)
    lines.insert(1, f"Codepage={COPY_CODEPAGE}")
    text = "\n".join(lines)  # no "\r" for MNE to read into a field
    stem = os.path.splitext(os.path.basename(vmrk))[0]
    copy = os.path.join(folder, stem + (suffix if suffix in _MNE_SUFFIXES else ".vmrk"))
    with open(copy, "wb") as fh:
        fh.write(text.encode(COPY_CODEPAGE))
    return copy


_MISREAD_SIZE = re.compile(
    r"^Mk\d+=(?:[^,\n]*,){3}(?:[ \t]+\d+[ \t\r]*|\d+[ \t\r]+)(?:,|$)", re.MULTILINE
)
"""A marker line whose size (the fourth field) is a whole number with a space or tab around
it, or a carriage return after it (a Windows line ending on a line of four fields): MNE reads
a size only when the field is all digits, and took these as 0."""


def _sizes_misread(text: str) -> bool:
    """Whether MNE would read a marker's size as 0 where :func:`_marker` reads a whole number
    of samples (:data:`_MISREAD_SIZE`), in the markers after ``[Marker Infos]``."""
    hit = _SECTION.search(text)
    return hit is not None and _MISREAD_SIZE.search(text, hit.end()) is not None


def _line_without_comment(line: str) -> str:
    """A marker line without its comment (:func:`without_comment`); other lines as they are."""
    hit = _MARKER.match(line)
    return line if hit is None else f"Mk{hit.group(1)}={without_comment(hit.group(2))}"


def _size_as_mne_reads_it(line: str) -> str:
    """``line`` with a marker's size written without the spaces around it, so that MNE reads
    the samples :func:`_marker` reads (other lines as they are)."""
    hit = _MARKER.match(line)
    if hit is None:
        return line
    fields = hit.group(2).split(",")
    if len(fields) < 4 or _whole(fields[3]) is None:
        return line
    fields[3] = fields[3].strip()
    return f"Mk{hit.group(1)}={','.join(fields)}"


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode(_codepage(raw))
    except (UnicodeDecodeError, LookupError):  # (a codepage naming no codec: refused first)
        return False
    return True
