"""BrainVision headers (``.vhdr``) checked and made openable before MNE reads them.

MNE cannot open a header whose channel labels repeat, reads a header whose data or marker file is
named otherwise (a Windows path, another letter case, renamed files) as missing, builds a huge
message for a header claiming 10^8 channels, fails in its own words on a malformed line
(``not enough values to unpack``, ``DuplicateOptionError``, ``KeyError: 'ch4'``), reads some
damage wrongly without a word (a decimal comma in a resolution, big-endian samples, ``Ch0``),
and keeps units it does not know as ``n/a``. This module reads the header as MNE does:
:func:`openable_vhdr` gives MNE a copy it can open, :func:`read_vhdr` (:func:`check_vhdr`)
refuses every field MNE would fail on or misread by name, :func:`written_units` gives the
units as the header writes them.

Defaults, as the BrainVision Core Data Format specifies and MNE reads them: a channel's fields
are ``<name>,<reference>,<resolution>,<unit>``, any of the last three may be empty, an empty
resolution is 1 (:data:`DEFAULT_RESOLUTION`) and an empty or absent unit microvolts
(:data:`DEFAULT_UNIT`); fewer than three fields (``Ch1=Fp1``) is refused, as MNE cannot read
it and the spec has every field delimited by commas.
"""

from __future__ import annotations

import configparser
import contextlib
import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import PurePath

from eegprep.base.errors import SourceError
from eegprep.base.held_files import HeldFiles
from eegprep.base.regular_files import open_regular
from eegprep.base.text import editor_lines
from eegprep.base.validation import other_digits
from eegprep.base.wording import counted
from eegprep.readers.base import unit_to_uv
from eegprep.readers.companions import (
    BRAINVISION_HEADERS,
    VHDR_READ_BYTES,
    Companion,
    brainvision_bytes,
    eight_bit,
    lone_return,
    missing_data_problem,
    vhdr_bytes,
    vhdr_companions,
    wide_codepage_problem,
)
from eegprep.readers.read_once import once
from eegprep.readers.vhdr_comment import unread_tables, without_comment
from eegprep.readers.vhdr_text import TextLayout
from eegprep.readers.vmrk import mne_copy

_VHDR_CHANNEL = re.compile(r"^(Ch\d+=)([^,]*)(.*)$")


@contextlib.contextmanager
def openable_vhdr(path: str, held: HeldFiles | None = None) -> Iterator[tuple[str, set[str]]]:
    """``path`` itself, or a copy MNE can open: a BrainVision header whose channel labels
    repeat (which MNE cannot open) gets MNE's own ``-N`` suffixes on the repeats, and one whose
    data or marker file is not where it says (:func:`~eegprep.readers.companions.
    vhdr_companions`: a Windows path, another letter case, renamed files) names the file found
    instead (and one naming a file through ``..``, which the file system would resolve
    through a linked folder to another file than the one found), and one whose marker file MNE
    cannot open itself names a copy it can
    (:func:`~eegprep.readers.vmrk.mne_copy`: an ANSI file, a ``.VMRK``), and one whose
    ``[Comment]`` channel tables MNE would fail on (:func:`~eegprep.readers.vhdr_comment.
    unread_tables`: channels renamed, or repeated) is given without that comment; the copy
    names both files by absolute path; a header in UTF-16 or UTF-32 (a Windows editor's
    "Unicode", which MNE cannot read) is given as its UTF-8 text
    (:func:`~eegprep.readers.companions.brainvision_bytes`). The repeated labels come back with it,
    so that :func:`_file_labels` gives the file's labels, and the first of each is kept as every
    reader keeps it. An ``.ahdr`` header (BrainVision Analyzer's export, whose data hold one
    channel more than it lists, which MNE reads and drops) is treated as a ``.vhdr``; a header
    whose suffix is not lower case (``.VHDR``, ``.AHDR``: MNE reads neither) is given as a copy
    with the suffix in lower case.

    Given ``held`` (:class:`~eegprep.base.held_files.HeldFiles`), the copy is always made, in
    its folder, and names the data and marker files by links to their checked descriptors (a
    marker file named but found nowhere is left out: MNE then looks for none), so that MNE
    opens no file of the corpus by name.
    """
    suffix = PurePath(path).suffix
    if suffix.lower() not in BRAINVISION_HEADERS:
        yield path, set()
        return
    head = _header_lines(path)
    companions = vhdr_companions(path)
    found = {c.key: c.path for c in companions if c.path is not None}
    # a `..` in a name is resolved by the file system through a linked folder (to the link
    # target's parent) but by the look-up as text: MNE is given the file the look-up found
    moved = any(c.note or ".." in c.named.replace("\\", "/").split("/") for c in companions)
    with contextlib.ExitStack() as stack:
        tmp = (
            held.folder
            if held
            else stack.enter_context(tempfile.TemporaryDirectory(prefix="eegprep-vhdr-"))
        )
        markers = found.get("markerfile")
        copied = mne_copy(markers, tmp) if markers else None
        if copied:
            found["markerfile"] = copied
        if held is None and not (head.changed or moved or copied or suffix.lower() != suffix):
            yield path, set()
            return
        if held is not None:
            found = _held_links(path, found, companions, copied, held)
        data = _pointed(head.lines, found, {c.key for c in companions}, held)
        if held is not None:  # (MNE reads no name from the header's own)
            yield held.write("header" + suffix.lower(), data, path), head.repeats
            return
        copy = os.path.join(tmp, PurePath(path).stem + suffix.lower())
        with open(copy, "wb") as fh:
            fh.write(data)
        yield copy, head.repeats


@dataclass(frozen=True)
class _HeaderLines:
    """A BrainVision header's lines as MNE is to read them, and whether they differ from the
    file's (so that MNE must be given a copy)."""

    lines: list[str]  # the repeats suffixed, an unreadable [Comment] left out
    repeats: set[str]  # the labels that repeat
    changed: bool  # other lines, or other bytes (a UTF-16 header), than the file's


def _header_lines(path: str) -> _HeaderLines:
    """Read the header ``path`` (as UTF-8, a UTF-16 or UTF-32 one converted) and make its
    lines readable by MNE: repeated labels suffixed (:func:`_suffixed_repeats`), impedance
    times and a ``[Comment]`` whose channel tables MNE would fail on left out."""
    raw = vhdr_bytes(path)  # (the bytes every parse of this read shares)
    if len(raw) >= VHDR_READ_BYTES:  # (longer than any header read: all of it, as MNE would)
        with open_regular(path, buffering=-1) as fh:
            raw = fh.read()
    readable = brainvision_bytes(raw)  # (a UTF-16 header, which MNE cannot read, as UTF-8)
    text = readable.decode("utf-8", errors="surrogateescape")
    lines, repeats = _suffixed_repeats(editor_lines(text))  # (a form feed ends no line)
    bare = [without_value_comments(line) for line in lines]  # (MNE reads `3 ; x` as no int)
    commented, lines = bare != lines, bare
    retimed = _unread_impedance_times(lines)
    uncommented = unread_tables(lines)  # (the repeats' suffixes included)
    if uncommented:
        lines = without_comment(lines)
    changed = (
        bool(repeats) or commented or bool(retimed) or bool(uncommented) or readable is not raw
    )
    return _HeaderLines(lines=lines, repeats=repeats, changed=changed)


def _held_links(
    path: str,
    found: dict[str, str],
    companions: list[Companion],
    copied: str | None,
    held: HeldFiles,
) -> dict[str, str]:
    """The data and marker files ``found`` as links in ``held``'s folder to their checked
    descriptors (a marker file MNE reads as a copy: that copy); a data file named but gone
    since it was checked is refused."""
    gone = "datafile" not in found and any(c.key == "datafile" for c in companions)
    if gone:  # there when checked, gone or no file since
        raise SourceError(path, missing_data_problem(path) or "its samples file is gone")
    return {
        key: f if key == "markerfile" and copied else held.link(f, _link_name(key, f))
        for key, f in found.items()
    }


def _pointed(
    lines: list[str], found: dict[str, str], named: set[str], held: HeldFiles | None
) -> bytes:
    """The header's bytes with each ``DataFile=`` / ``MarkerFile=`` line naming the file
    ``found`` for it (given ``held``, one ``named`` but found nowhere is emptied: MNE then
    looks for none)."""
    for i, line in enumerate(lines):
        key, eq, _ = line.partition("=")
        if eq and key.strip().lower() in found:
            lines[i] = f"{key}={found[key.strip().lower()]}"
        elif eq and held is not None and key.strip().lower() in named:  # found nowhere:
            lines[i] = ""  # looked for nowhere
    return "\n".join(lines).encode("utf-8", errors="surrogateescape")


def _link_name(key: str, path: str) -> str:
    """The name in a held folder for the data or marker file ``path`` (the folder's root:
    one folder to remove): ASCII alone (MNE reads the header in its ``Codepage=``), the marker
    file's with its extension (MNE reads markers by it), which :func:`~eegprep.readers.vmrk.
    mne_copy` makes ``.vmrk`` where it is not; never the header's ``header.*`` nor a marker
    copy's ``STEM.vmrk`` (the data file's has no extension)."""
    ext = os.path.splitext(path)[1] if key == "markerfile" else ""
    return f"~{key}{ext if ext.isascii() and ext.isprintable() else ''}"


_IMPEDANCE_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]?\d):([0-5]?\d)")


def _unread_impedance_times(lines: list[str]) -> bool:
    """Whether an impedance heading (``Impedance [kOhm] at 12:30:00 :``, in the comment) has a
    time MNE cannot read (``25:61:61``, ``12:30``, ``12.30.00``): MNE sets it on the recording
    date and stopped the whole file (``hour must be in 0..23``, ``list index out of range``).
    Such a heading is given to MNE without its closing `` :``, so MNE reads no impedances
    (eegprep keeps none); ``lines`` are changed in place."""
    changed = False
    for i, line in enumerate(lines):
        if line.startswith("Impedance [") and line.endswith(" :"):
            words = line.split()
            if len(words) < 5 or _IMPEDANCE_TIME.fullmatch(words[3]) is None:
                lines[i], changed = line[:-2], True
    return changed


def _suffixed_repeats(lines: list[str]) -> tuple[list[str], set[str]]:
    """The header's lines with each repeat of a ``[Channel Infos]`` label suffixed ``-N`` (as
    MNE names repeats), and the labels that repeat."""
    lines, section = list(lines), ""
    seen: dict[str, int] = {}
    repeats: set[str] = set()
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip()
        hit = _VHDR_CHANNEL.match(line) if section == "[Channel Infos]" else None
        if hit:
            label = hit.group(2)
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                repeats.add(label)
                lines[i] = f"{hit.group(1)}{label}-{seen[label] - 1}{hit.group(3)}"
    return lines, repeats


VHDR_MAX_BYTES = 2**20
"""Largest header read (bytes): a header is text of a few kB (BrainVision Recorder's, with its
amplifier's table of 256 channels in ``[Comment]``, ~40 kB); it was 16 MiB, and a header
holding 15 MB of comment was read, through MNE's parser, in 1.4 CPU s and 259 MiB."""
DEFAULT_RESOLUTION = 1.0
"""A channel's resolution when its field is empty (``Ch1=Fp1,,,µV``): 1, as the BrainVision
Core Data Format specifies and MNE reads it."""
DEFAULT_UNIT = "µV"
"""A channel's unit when its field is empty or absent (``Ch1=Fp1,,0.1``): microvolts."""
VALUE_COMMENT_KEYS = (
    "NumberOfChannels", "SamplingInterval", "DataPoints", "DataFormat", "DataOrientation",
    "DataType", "SegmentationType", "Averaged", "AveragedSegments", "SegmentDataPoints",
    "Codepage", "BinaryFormat", "UseBigEndianOrder", "SkipLines", "SkipColumns",
)  # fmt: skip
"""Header keys whose value is a number or a keyword, which holds no ``;``: a ``;`` after such a
value (``NumberOfChannels=3 ; three``, as some third-party writers put it) starts a comment,
unambiguously, and is passed over (:func:`without_value_comments`). A name's value (a
channel's, its reference, ``DataFile=``, ``MarkerFile=``) may hold a ``;`` (the format escapes
only the comma, as ``\\1``): its ``;`` stays part of it."""
_VALUE_COMMENT = re.compile(
    rf"^(\s*(?:{'|'.join(VALUE_COMMENT_KEYS)})\s*=[^;\r\n]*?)\s*;[^\r\n]*",
    re.IGNORECASE | re.MULTILINE,
)


def without_value_comments(text: str) -> str:
    """``text`` (a header's, or one of its lines) with each ``;`` comment after the value of a
    key of :data:`VALUE_COMMENT_KEYS` left out (the file's lines and their ends kept: a line
    number cited stays the file's)."""
    return _VALUE_COMMENT.sub(r"\1", text)


_MNE_CODEPAGE = re.compile("Codepage=(.+)")  # as MNE finds it: case-sensitive, first match
# ASCII digits alone: \d and int() also read other scripts' (``NumberOfChannels=٣`` was 3)
_CHANNEL_KEY = re.compile(r"ch([0-9]+)")  # a [Channel Infos] key, lower-cased by configparser
_WHOLE = re.compile(r"[+-]?[0-9]+")
# BrainVision's binary formats MNE reads, and each one's largest stored magnitude
_BINARY_MAX = {"INT_16": 2.0**15, "INT_32": 2.0**31, "IEEE_FLOAT_32": 3.4028234663852886e38}
_FLOAT32_MAX = 3.4028234663852886e38  # a stored sample beyond it is infinite
_FLOAT_FORMATS = ("IEEE_FLOAT_32", "ASCII")
"""Formats that store values, not codes: any float32 is a value one could store, so only the
value of one stored unit is checked (a sample that overflows in microvolts is not finite, and
an ingest refuses it by name)."""
_ORIENTATIONS = ("MULTIPLEXED", "VECTORIZED")
MAX_INTERVAL_US = 1e9
"""The longest ``SamplingInterval`` (microseconds) read: one sample every 1000 s, a rate of
0.001 Hz, far below any EEG; longer is a damaged field."""


@dataclass(frozen=True)
class VhdrChannel:
    """One ``ChN=`` line of ``[Channel Infos]``, as MNE reads it.

    Attributes
    ----------
    key : str
        The key as configparser keeps it, lower case (``'ch3'``; MNE looks coordinates up by it).
    number : int
        The channel's number (1 for ``Ch1``).
    name : str
        The label (``\1`` read as a comma).
    resolution : float
        The value of one stored unit; :data:`DEFAULT_RESOLUTION` for an empty field.
    unit : str
        The unit as written (:data:`DEFAULT_UNIT` for an empty or absent field).
    damage : str
        What is wrong with the resolution (no number, 0, not finite, overflowing), naming
        the channel; ``""`` where nothing is (``resolution`` is then the one written).
    """

    key: str
    number: int
    name: str
    resolution: float
    unit: str
    damage: str = ""


@dataclass(frozen=True)
class VhdrFields:
    """What :func:`read_vhdr` found in a BrainVision header, every field checked.

    Attributes
    ----------
    n_channels : int
        ``NumberOfChannels``.
    channels : tuple of VhdrChannel
        ``Ch1`` to ``ChN`` of ``[Channel Infos]``, in number order.
    data_points : int or None
        ``DataPoints`` (samples per channel), ``None`` when the header gives none.
    text : TextLayout or None
        For text data (``DataFormat=ASCII``): how the data file lays its values out
        (:func:`text_layout`); ``None`` for binary data.
    interval : str
        ``SamplingInterval`` as written (microseconds, a positive number).
    """

    n_channels: int
    channels: tuple[VhdrChannel, ...]
    data_points: int | None
    text: TextLayout | None = None
    interval: str = ""


def check_vhdr(path: str) -> None:
    """Refuse, in one line naming the field, a BrainVision header MNE would fail on (in its own
    words: ``not enough values to unpack``, ``DuplicateOptionError``, ``KeyError: 'ch4'``) or
    read wrongly without a word; see :func:`read_vhdr`."""
    read_vhdr(path)


@once(copied=False)  # (frozen throughout: handed out uncopied, ~2 ms a read of 32 channels)
def read_vhdr(path: str) -> VhdrFields:
    """A BrainVision header's fields, parsed as MNE parses them (its first line skipped, the
    text decoded in its ``Codepage=``, the sections up to ``[Comment]`` read by configparser)
    and checked: the sections and keys MNE needs, numbers it can read and that make sense
    (a ``NumberOfChannels`` of 10^8 is refused from the text alone: MNE would first build a
    1 GB message naming every missing index), each ``ChN=`` of ``[Channel Infos]`` once and
    in ``<name>,<reference>,<resolution>[,<unit>,...]`` form, and ``[Coordinates]`` naming
    those channels with three numbers. Raises :class:`SourceError` for the first problem."""
    cfg = _config(path)
    common = next((s for s in ("Common Infos", "Common infos") if cfg.has_section(s)), None)
    if common is None:
        raise SourceError(path, "the header has no [Common Infos] section: it is damaged")
    n_channels = _check_count(path, cfg, common)
    interval = _check_interval(path, cfg, common)
    fmt = _check_layout(path, cfg, common)
    _check_continuous(path, cfg, common)
    points = _value(path, cfg, common, "DataPoints")
    if points is not None and not (_WHOLE.fullmatch(points) and int(points) >= 0):
        raise SourceError(
            path,
            f"DataPoints={points!r} in the header: it must be a whole number of samples per "
            "channel; the header is damaged",
        )
    channels = _channel_infos(path, cfg, n_channels, fmt)
    _check_coordinates(path, cfg, {c.key for c in channels})
    text = None
    if fmt == "ASCII":  # (an .ahdr's data hold one channel more than it lists)
        extra = PurePath(path).suffix.lower() == ".ahdr"
        order = _value(path, cfg, common, "DataOrientation") or ""
        text = text_layout(path, cfg, order, n_channels + extra)
        names = tuple(c.name for c in channels)  # (each VECTORIZED line's name)
        text = replace(text, names=names, n_points=None if points is None else int(points))
    n_points = None if points is None else int(points)
    return VhdrFields(n_channels, channels, n_points, text, interval.strip())


def _config(path: str) -> configparser.ConfigParser:
    """The header's sections as MNE reads them; a syntax it cannot read named by line."""
    size = os.path.getsize(path)
    if size > VHDR_MAX_BYTES:
        raise SourceError(
            path,
            f"the header is {size:,} bytes; a BrainVision header is text of a few kB (at most "
            f"{VHDR_MAX_BYTES:,} bytes are read): this is not one",
        )
    data = brainvision_bytes(vhdr_bytes(path))  # (CR-only line ends as LF; all of it: <= max)
    ambiguous = lone_return(data, "the header")
    if ambiguous:
        raise SourceError(path, ambiguous)
    _, _, raw = data.partition(b"\n")  # (MNE skips the title)
    raw = without_value_comments(raw.decode("latin-1")).encode("latin-1")  # (ASCII keys)
    named = _MNE_CODEPAGE.search(raw.decode("ascii", "ignore"))
    codepage = named.group(1).strip() if named else "utf-8"
    codepage = "cp1252" if codepage == "ANSI" else codepage
    if not eight_bit(codepage):
        raise SourceError(path, wide_codepage_problem(codepage, "the header"))
    try:
        text = raw.decode(codepage)
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # as MNE falls back
    except Exception:  # LookupError, and codecs that are no text encoding
        raise SourceError(
            path,
            f"Codepage={codepage!r} in the header names no text encoding (BrainVision writes "
            "UTF-8 or ANSI): the header is damaged",
        ) from None
    comments = text.count("[Comment]")
    if comments > 1:
        raise SourceError(
            path, f"the header has {comments} [Comment] sections, which MNE cannot read: keep one"
        )
    params = text.split("[Comment]")[0]
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string(params)
    except configparser.Error as exc:
        if "\x00" in params:
            raise SourceError(
                path,
                "the header holds NUL bytes, which no text BrainVision writes does (UTF-16 "
                "text without a byte-order mark, or binary data): save it as UTF-8 text",
            ) from None
        raise SourceError(path, _syntax_problem(exc, params.split("\n"))) from None  # (its lines)
    if cfg.defaults():
        raise SourceError(
            path,
            "the header has a [DEFAULT] section, which is no BrainVision section (its entries "
            "would be read into every other section): remove it",
        )
    return cfg


def _syntax_problem(exc: configparser.Error, lines: list[str]) -> str:
    """The one line for a header configparser cannot read; line numbers count the file's
    title line."""

    def line(number: int) -> str:
        text = lines[number - 1] if 0 < number <= len(lines) else ""
        return f"line {number + 1} ({text.strip()[:60]!r})"

    if isinstance(exc, configparser.DuplicateOptionError):
        key = lines[exc.lineno - 1].split("=")[0].split(":")[0].strip() if exc.lineno else ""
        return (
            f"{key or exc.option}= appears twice in [{exc.section}] (again on "
            f"{line(exc.lineno or 0)}): each key may be given once; the header is damaged"
        )
    if isinstance(exc, configparser.DuplicateSectionError):
        return (
            f"the section [{exc.section}] appears twice (again on {line(exc.lineno or 0)}): "
            "the header is damaged"
        )
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return (
            f"{line(exc.lineno)} comes before any [section] (the header's first line is its "
            "title, then [Common Infos]): the header is damaged"
        )
    if isinstance(exc, configparser.ParsingError) and exc.errors:
        return f"{line(exc.errors[0][0])} is not a key=value line: the header is damaged"
    return f"the header is not text of [sections] and key=value lines ({type(exc).__name__})"


def _value(path: str, cfg: configparser.ConfigParser, section: str, key: str) -> str | None:
    """A key's value, ``None`` when absent; one that runs over several lines (an indented line
    after it, which configparser reads as its continuation) is refused."""
    if not cfg.has_option(section, key):
        return None
    value = cfg.get(section, key)
    if "\n" in value:
        shown = f"Ch{key[2:]}" if _CHANNEL_KEY.fullmatch(key) else key
        raise SourceError(
            path,
            f"{shown}= in [{section}] runs over several lines (a line after it starts with a "
            "space or tab, which continues it): the header is damaged",
        )
    return value


def _required(path: str, cfg: configparser.ConfigParser, section: str, key: str) -> str:
    value = _value(path, cfg, section, key)
    if value is None or not value.strip():
        said = "gives no" if value is None else "gives an empty"
        raise SourceError(path, f"the header {said} {key}= in [{section}]: it is damaged")
    return value


def _check_count(path: str, cfg: configparser.ConfigParser, common: str) -> int:
    """``NumberOfChannels``: a whole number (its check against ``[Channel Infos]`` follows)."""
    claimed = _required(path, cfg, common, "NumberOfChannels")
    if not _WHOLE.fullmatch(claimed.strip()):
        raise SourceError(
            path, f"NumberOfChannels={claimed!r} is not a whole number (ASCII digits)"
        )
    return int(claimed)


def _check_interval(path: str, cfg: configparser.ConfigParser, common: str) -> str:
    """``SamplingInterval`` (microseconds), as written: a zero, a negative interval, ``nan``
    or ``inf`` made MNE fail with ``float division by zero``, or read every sample as NaN."""
    interval = _required(path, cfg, common, "SamplingInterval")
    try:
        value = math.nan if other_digits(interval) else float(interval)  # (``４０００``: 4000)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SourceError(
            path,
            f"SamplingInterval={interval!r} in the header: it must be a positive "
            "number of microseconds (ASCII digits); the header is damaged",
        )
    if value > MAX_INTERVAL_US:  # MNE overflowed: "Python int too large to convert to C int"
        raise SourceError(
            path,
            f"SamplingInterval={interval!r} in the header: a rate of {1e6 / value:.3g} Hz, one "
            f"sample every {value / 1e6:.3g} s (at most {MAX_INTERVAL_US:g} microseconds); the "
            "header is damaged",
        )
    return interval


def _check_layout(path: str, cfg: configparser.ConfigParser, common: str) -> str:
    """The data file's name, format and orientation as MNE reads them; the binary format
    (``'ASCII'`` for text). Big-endian samples are refused: MNE reads every binary format as
    little-endian, so they would be stored byte-swapped, without a word."""
    _required(path, cfg, common, "DataFile")
    order = _required(path, cfg, common, "DataOrientation")
    if order not in _ORIENTATIONS:
        raise SourceError(
            path,
            f"DataOrientation={order!r} in the header: MNE reads MULTIPLEXED or VECTORIZED; "
            "the header is damaged",
        )
    data_format = _required(path, cfg, common, "DataFormat")
    if data_format == "ASCII":
        return _check_ascii(path, cfg, order)
    if data_format != "BINARY":
        raise SourceError(
            path,
            f"DataFormat={data_format!r} in the header: BrainVision data are BINARY or ASCII; "
            "the header is damaged",
        )
    if not cfg.has_section("Binary Infos"):
        raise SourceError(path, "the header has no [Binary Infos] section for its BINARY data")
    fmt = _required(path, cfg, "Binary Infos", "BinaryFormat")
    if fmt not in _BINARY_MAX:
        raise SourceError(
            path,
            f"BinaryFormat={fmt!r} in [Binary Infos]: MNE reads {', '.join(_BINARY_MAX)}; "
            "export the recording in one of them",
        )
    endian = _value(path, cfg, "Binary Infos", "UseBigEndianOrder")
    if endian is not None and endian.strip().upper() not in ("", "NO"):
        raise SourceError(
            path,
            f"UseBigEndianOrder={endian!r} in [Binary Infos]: MNE reads little-endian samples "
            "only, and would read every sample byte-swapped; export it little-endian",
        )
    return fmt


_CONTINUOUS = {"DataType": "TIMEDOMAIN", "SegmentationType": "NOTSEGMENTED", "Averaged": "NO"}
"""[Common Infos] keys of BrainVision Analyzer's exports and the value of a continuous recording
(each key's default, as the BrainVision Core Data Format gives it)."""


def _check_continuous(path: str, cfg: configparser.ConfigParser, common: str) -> None:
    """Refuse an export that is no continuous recording over time: a spectrum
    (``DataType=FREQUENCYDOMAIN``), segments cut around markers or at fixed times
    (``SegmentationType=MARKERBASED``, ``FIXTIME``), an average (``Averaged=YES``). MNE reads
    none of these keys and would give the segments, or the spectrum's bins, as one continuous
    recording, without a word (an epoched EEGLAB dataset is refused the same way)."""
    for key, continuous in _CONTINUOUS.items():
        value = _value(path, cfg, common, key)
        if value is None or value.strip().upper() in ("", continuous):
            continue
        what = {
            "DataType": "the file holds no real samples over time (a spectrum, a "
            "time-frequency transform or complex values)",
            "SegmentationType": "the file holds segments (epochs cut by BrainVision Analyzer), "
            "not a continuous recording",
            "Averaged": "the file holds an average of segments, not a continuous recording",
        }[key]
        raise SourceError(
            path,
            f"{key}={value!r} in the header: {what}; eegprep ingests continuous recordings: "
            f"export the raw data ({key}={continuous})",
        )


def _check_ascii(path: str, cfg: configparser.ConfigParser, order: str) -> str:
    """Text data, in either orientation: ``[ASCII Infos]`` may be absent, and each of its
    ``SkipLines`` and ``SkipColumns`` (whole numbers, default 0) and ``DecimalSymbol`` (``.``
    or ``,``, default ``.``); :func:`text_layout` reads them."""
    text_layout(path, cfg, order, 1)
    return "ASCII"


def text_layout(path: str, cfg: configparser.ConfigParser, order: str, n_values: int) -> TextLayout:
    """The :class:`~eegprep.readers.vhdr_text.TextLayout` ``[ASCII Infos]`` gives (its
    defaults where a key, or the section, is absent), each value checked."""
    section = "ASCII Infos"
    skips = []
    for key in ("SkipLines", "SkipColumns"):
        value = _value(path, cfg, section, key) if cfg.has_section(section) else None
        if value is not None and value.strip() and not _WHOLE.fullmatch(value.strip()):
            raise SourceError(
                path, f"{key}={value!r} in [{section}] is not a whole number (ASCII digits)"
            )
        number = int(value) if value is not None and value.strip() else 0
        if number < 0:
            raise SourceError(path, f"{key}={value!r} in [{section}] is negative")
        skips.append(number)
    symbol = _value(path, cfg, section, "DecimalSymbol") if cfg.has_section(section) else None
    symbol = (symbol or ".").strip() or "."
    if symbol not in (".", ","):
        raise SourceError(
            path, f"DecimalSymbol={symbol!r} in [{section}]: BrainVision writes '.' or ','"
        )
    return TextLayout(order, skips[0], skips[1], symbol, n_values)


def _channel_infos(
    path: str, cfg: configparser.ConfigParser, n: int, fmt: str
) -> tuple[VhdrChannel, ...]:
    """Each ``ChN=`` of ``[Channel Infos]``, checked: ``Ch1`` to ``ChN`` each once (MNE drops
    a number beyond ``NumberOfChannels`` and reads the samples as that many channels, every
    value misplaced; ``Ch0`` overwrote the last channel), and each line's fields."""
    section = "Channel Infos"
    if not cfg.has_section(section):
        raise SourceError(path, f"the header has no [{section}] section: it is damaged")
    by_number: dict[int, VhdrChannel] = {}
    for key in cfg.options(section):
        hit = _CHANNEL_KEY.fullmatch(key)
        if hit is None:
            raise SourceError(
                path,
                f"[{section}] has a key {key!r}, not Ch<number>= (ASCII digits): the header "
                "is damaged",
            )
        number = int(hit.group(1))
        if number == 0:
            raise SourceError(
                path, f"[{section}] lists Ch{hit.group(1)}=: channels are numbered from Ch1"
            )
        if number in by_number:
            raise SourceError(
                path,
                f"[{section}] lists channel {number} twice (Ch{by_number[number].key[2:]}= and "
                f"Ch{hit.group(1)}=): the header is damaged",
            )
        value = _value(path, cfg, section, key)
        by_number[number] = _channel(path, key, number, value or "", fmt)
    listed = len(by_number)
    if n < 1 or listed < n:
        raise SourceError(
            path,
            f"the header claims NumberOfChannels={n} but lists {counted(listed, 'channel')} "
            f"(Ch1= ...) in [{section}]: the header is damaged; re-export or re-download it",
        )
    beyond = sorted(set(by_number) - set(range(1, n + 1)))
    if beyond:
        raise SourceError(
            path,
            f"the header claims NumberOfChannels={n} but [{section}] also lists "
            f"Ch{beyond[0]}= ({len(beyond)} more): the data file's channel count is unknown, "
            f"and reading it as {n} would misplace every sample; fix NumberOfChannels",
        )
    return tuple(by_number[i] for i in range(1, n + 1))


def _channel(path: str, key: str, number: int, value: str, fmt: str) -> VhdrChannel:
    """One ``ChN=<name>,<reference>,<resolution>[,<unit>,...]``, as MNE reads it: fewer than
    three fields is not read (MNE: ``not enough values to unpack``); an empty resolution is
    :data:`DEFAULT_RESOLUTION`, an empty or absent unit :data:`DEFAULT_UNIT`."""
    ch = f"Ch{key[2:]}"
    fields = value.split(",")
    if len(fields) < 3:
        spaced = len(value.split()) > 1
        raise SourceError(
            path,
            f"channel {ch} is written {value!r} in [Channel Infos]: "
            + ("its fields are separated by spaces, " if spaced else "")
            + "BrainVision needs <name>,<reference>,<resolution>[,<unit>] separated by commas "
            f"(an empty field takes its default: resolution {DEFAULT_RESOLUTION:g}, unit "
            f"{DEFAULT_UNIT}); the header is damaged",
        )
    name = fields[0].replace(r"\1", ",")  # (an empty name: a channel of no site, dropped)
    written, unit = fields[2], fields[3] if len(fields) > 3 else ""
    shown = f"channel {ch} ({name.strip()!r})"
    if _WHOLE.fullmatch(written.strip()) and unit.strip().isascii() and unit.strip().isdigit():
        raise SourceError(
            path,
            f"{shown} has a resolution written with a decimal comma ({written},{unit}): "
            f"BrainVision separates fields by commas; write {written.strip()}.{unit.strip()}",
        )
    if unit.strip() and _number(unit) is not None:
        raise SourceError(
            path,
            f"{shown} has the unit {unit!r} in [Channel Infos], a number: a field is missing "
            "or misplaced (<name>,<reference>,<resolution>,<unit>); the header is damaged",
        )
    unit = unit or DEFAULT_UNIT
    resolution, damage = _resolution(shown, written, unit, fmt)
    return VhdrChannel(key, number, name, resolution, unit, damage)


def _resolution(shown: str, written: str, unit: str, fmt: str) -> tuple[float, str]:
    """A channel's resolution (the value of one stored unit) and ``""``; or
    :data:`DEFAULT_RESOLUTION` and what is wrong with it (no number, not finite, 0, or
    overflowing float32 in microvolts), naming the channel ``shown``: that refuses the
    channel's samples alone, not the file (:mod:`eegprep.readers.damaged_channels`)."""
    resolution = DEFAULT_RESOLUTION if written == "" else _number(written)
    if resolution is None:
        return DEFAULT_RESOLUTION, (
            f"{shown} has a resolution of {written!r} in the header, not a number (leave the "
            f"field empty for the default, {DEFAULT_RESOLUTION:g}); the header is damaged"
        )
    if not (math.isfinite(resolution) and resolution != 0):
        return DEFAULT_RESOLUTION, (
            f"{shown} has a resolution of {written.strip()!r} in the header: it must be a "
            "finite, non-zero number (the value of one stored unit); the header is damaged"
        )
    largest = abs(resolution) * (unit_to_uv(unit) or 1.0)
    largest *= 1.0 if fmt in _FLOAT_FORMATS else _BINARY_MAX[fmt]  # (a float file in mV or V)
    if not largest <= _FLOAT32_MAX:
        return DEFAULT_RESOLUTION, (
            f"{shown} has a resolution of {written.strip()!r} {unit.strip()}: its stored "
            f"values would overflow ({largest:.3g} uV for the largest, beyond "
            f"{_FLOAT32_MAX:.3g}); the header is damaged"
        )
    return resolution, ""


def _number(text: str) -> float | None:
    """``text`` as MNE's ``float()`` reads it; ``None`` when it is no number, or is written in
    digits other than ASCII's (``٠.١``, which ``float()`` read as 0.1)."""
    if other_digits(text):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _check_coordinates(path: str, cfg: configparser.ConfigParser, keys: set[str]) -> None:
    """``[Coordinates]``: each line names a channel of ``[Channel Infos]`` (MNE: ``KeyError:
    'ch99'``) with ``<radius>,<theta>,<phi>``, three numbers (MNE: ``not enough values to
    unpack``, ``could not convert string to float``)."""
    section = "Coordinates"
    if not cfg.has_section(section):
        return
    for key in cfg.options(section):
        ch = f"Ch{key[2:]}" if key.startswith("ch") else key
        if key not in keys:
            raise SourceError(
                path,
                f"[{section}] lists {ch}=, which [Channel Infos] does not: the header is damaged",
            )
        value = _value(path, cfg, section, key) or ""
        parts = value.split(",")
        if len(parts) != 3 or any(_number(p) is None for p in parts):
            raise SourceError(
                path,
                f"[{section}] gives {ch}={value!r}, not <radius>,<theta>,<phi> (three numbers): "
                "the header is damaged",
            )


def written_units(path: str, units: list[str]) -> list[str]:
    """Each channel's unit: MNE's (``raw._orig_units``, in channel order), except where MNE
    gives ``n/a`` for a BrainVision unit it does not know (``millivolts``, ``microvolt``): the
    header's own text there, so that :func:`_signal` can scale a voltage spelt otherwise."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS or "n/a" not in units:
        return units
    written = [c.unit.strip() for c in read_vhdr(path).channels]
    return [
        (written[i] if i < len(written) and written[i] else unit) if unit == "n/a" else unit
        for i, unit in enumerate(units)
    ]


def data_points(path: str) -> int | None:
    """The header's ``DataPoints`` (samples per channel), ``None`` when it gives none."""
    return read_vhdr(path).data_points
