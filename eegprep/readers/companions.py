"""The files a recording's format reads besides the one it is named by.

BrainVision's header (``.vhdr``/``.ahdr``) names its samples (``.eeg``) and markers
(``.vmrk``); EEGLAB's ``.set`` may keep its samples in a ``.fdt``. The readers read them, and a
recording's fingerprint (:mod:`eegprep.corpus.sources`) covers them.

A BrainVision header written on another system often names its files in a way that does not
resolve here: a Windows path (``C:\\rec\\s01.eeg``), another letter case (``S01.EEG``
beside ``s01.eeg``), or the name the files had before they were renamed.
:func:`vhdr_companions` finds each file as MNE would (relative to the header, ``../``
included), else beside the header by its base name, in any letter case, else by the header's
own stem; each file found another way carries a note for the ingest report.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from dataclasses import dataclass

from eegprep.base.regular_files import NOTHING_TO_READ, open_regular, regular_path, special_file
from eegprep.base.shown_text import quoted_path
from eegprep.base.text import editor_lines
from eegprep.base.wording import counted
from eegprep.readers.read_once import once

BRAINVISION_HEADERS = (".vhdr", ".ahdr")
"""The suffixes (lower case) of a BrainVision header: ``.vhdr``, and ``.ahdr``, BrainVision
Analyzer's export, whose data hold one channel more than it lists (MNE reads it and drops it).
Every check of a header, and of its data and marker files, is made for both."""

_VHDR_KEY = re.compile(r"^\s*(DataFile|MarkerFile)\s*=\s*(.+?)\s*$", re.IGNORECASE)


def data_files(path: str) -> list[str]:
    """Files other than ``path`` that its format reads samples or markers from (absolute).

    BrainVision headers (``.vhdr``/``.ahdr``) name their data and marker files; an EEGLAB
    ``.set``'s samples are in the ``.fdt`` of its own stem or the one ``EEG.data`` names
    (:func:`set_data_files`); a FIF over MNE's split size continues in parts
    (:func:`fif_parts`); other formats are one file. Files named but missing are
    left out (the reader reports them).
    """
    ext = os.path.splitext(path)[1].lower()
    out: list[str] = []
    if ext in BRAINVISION_HEADERS:
        out = [c.path for c in vhdr_companions(path) if c.path is not None]
    elif ext == ".set":
        out = set_data_files(path)
    elif ext == ".fif":
        out = fif_parts(path)
    return [p for p in dict.fromkeys(out) if p != path and os.path.isfile(p)]


def outside_own_folder(path: str) -> list[str]:
    """The files :func:`data_files` would read with ``path`` that lie outside ``path``'s own
    folder (absolute, normalised): a BrainVision header's ``DataFile=/etc/x`` or
    ``MarkerFile=../../x.vmrk``. Judged on the paths as text, as the look-up finds them, so a
    ``../`` behind a linked folder leaves it too; a link inside the folder is the user's.

    For a recording given alone (``labram predict FILE``), the header's folder is the boundary
    an ingest's corpus folder is (:func:`eegprep.corpus.sources.outside_root`)."""
    folder = os.path.dirname(os.path.abspath(path))
    found = [os.path.abspath(p) for p in data_files(path)]
    return [p for p in found if _leaves(p, folder)]


def _leaves(path: str, folder: str) -> bool:
    """Whether the absolute, normalised ``path`` is outside ``folder`` (one of its own
    subfolders is inside)."""
    rel = os.path.relpath(path, folder)
    return rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel)


def set_data_files(path: str) -> list[str]:
    """The files that may hold an EEGLAB ``.set``'s samples, found in the ``.set``'s own folder
    alone (no name may leave it: ``EEG.data`` is taken by its base name, a Windows path's
    too): the file of the set's own stem with ``EEG.data``'s extension (EEGLAB reads that one
    when the set was renamed, whatever ``EEG.data`` says), else the file ``EEG.data`` names,
    else the ``.fdt`` of the set's own stem (MNE's fallback), each in any letter case (the
    exact name first, as EEGLAB finds it on a case-insensitive system). Several files
    matching in letter case alone are all given (:func:`ambiguous_companion` refuses them)."""
    folder = os.path.dirname(path)
    named = set_data_name(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    # EEGLAB's pop_loadset: a set whose name differs from EEG.data's reads its own stem with
    # EEG.data's extension ("the name of the dataset has changed on disk"), even where the
    # file EEG.data names is there too (a set copied under a new name beside its source)
    ext = os.path.splitext(named or "")[1]
    own = [stem + ext] if ext.lower() in (".fdt", ".dat") else []
    for wanted in [*own, *([named] if named else []), stem + ".fdt"]:
        hits = _case_matches(folder, wanted)
        if hits:
            return hits
    dat = os.path.splitext(path)[0] + ".dat"  # EEGLAB's old format: MNE names it
    return [dat] if os.path.isfile(dat) else []


def _case_matches(folder: str, name: str) -> list[str]:
    """``name`` in ``folder``: the file of that exact name, else every file whose name differs
    from it in letter case alone (sorted); a name with a folder in it matches nothing."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        return []
    exact = os.path.join(folder, name)
    if os.path.isfile(exact):
        return [exact]
    try:
        listing = os.listdir(folder or ".")
    except OSError:
        return []
    hits = sorted(n for n in listing if fold(n) == fold(name))
    return [os.path.join(folder, n) for n in hits if os.path.isfile(os.path.join(folder, n))]


def fold(name: str) -> str:
    """A file name as a case-insensitive system compares it: in lower case, and in Unicode's
    composed form (macOS writes ``é`` as ``e`` + a combining accent, Windows and Linux as one
    character: a header written on one names a file copied from the other)."""
    return unicodedata.normalize("NFC", name).lower()


def ambiguous_companion(path: str) -> str | None:
    """The problem, in words, when a file ``path`` names (a BrainVision header's
    ``DataFile=`` / ``MarkerFile=``, an EEGLAB ``.set``'s ``EEG.data``) is not there under its
    own name and several files beside it match it in letter case alone: which one is meant
    cannot be known. None otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext in BRAINVISION_HEADERS:
        for c in vhdr_companions(path):
            if len(c.candidates) > 1:
                field = "DataFile=" if c.key == "datafile" else "MarkerFile="
                return _ambiguous(f"{field} names {quoted_path(c.named)}", c.candidates)
    elif ext == ".set":
        named = set_data_name(path)  # None: samples in the .set itself (a stray .fdt is no
        found = set_data_files(path) if named else []  # question)
        if named and len(found) > 1:
            wanted = os.path.basename(found[0])
            if fold(wanted) == fold(named):
                return _ambiguous(f"EEG.data names {quoted_path(named)}", found)
            own = os.path.splitext(os.path.basename(path))[0] + os.path.splitext(named)[1]
            what = (
                f"the .set's own samples file {quoted_path(own)} (EEGLAB reads it, as the set's "
                f"name differs from EEG.data's {quoted_path(named)})"
            )
            return _ambiguous(what, found)
    return None


def _ambiguous(what: str, candidates: tuple[str, ...] | list[str]) -> str:
    listed = ", ".join(quoted_path(os.path.basename(c)) for c in candidates)
    return (
        f"{what}, which is not there, and {counted(len(candidates), 'file')} beside it differ from "
        f"it in letter case alone ({listed}): which holds the recording is unknown; keep one, or "
        "name it exactly"
    )


@once
def set_data_name(path: str) -> str | None:
    """The file name an EEGLAB ``.set`` gives in ``EEG.data`` when its samples are in a file of
    their own (a name of any stem: EEGLAB lets a user rename either), else None.

    Reads the top-level ``data`` variable (the layout EEGLAB writes today), else the field
    ``data`` of the ``EEG`` struct alone (:func:`~eegprep.readers.mat_fields.struct_fields`:
    a struct holding the samples is stepped over, whatever its size); MAT 7.3 files through
    h5py. A file this cannot parse gives None (the reader reports what is wrong with it)."""
    try:
        import scipy.io

        from eegprep.readers.mat_fields import struct_fields, v5_listing
        from eegprep.readers.mat_v5_structure import check_v5_structure

        mat5 = path_is_mat5(path)
        listed = v5_listing(path)  # whosmat inflates all to list
        if mat5 and listed is None:
            check_v5_structure(path)  # scipy's compiled parser crashes on a damaged element
        with open_regular(path, buffering=-1) as fh:  # (scipy reads from the file object)
            listed = listed or scipy.io.whosmat(fh)
            kinds = {name: kind for name, _, kind in listed}
            fh.seek(0)
            if kinds.get("data") == "char":
                if mat5:  # the variable scipy parses (and every variable's head) alone: the
                    # whole file's walk steps through each of EEG.event's elements (~3.5 s a
                    # million events, before the reader counts them)
                    check_v5_structure(path, "data")
                value = scipy.io.loadmat(fh, variable_names=["data"], squeeze_me=True)["data"]
            elif "EEG" in kinds:
                found = (struct_fields(path, "EEG", frozenset({"data"})) or {}).get("data")
                value = found.value if found is not None and found.cls == "char" else None
            else:
                return None
    except NotImplementedError:  # MAT 7.3: HDF5
        value = _h5set_data_name(path)
    except Exception:  # a damaged file: the reader says what is wrong
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    return os.path.basename(value.strip().replace("\\", "/")) or None  # a Windows path too


def path_is_mat5(path: str) -> bool:
    """Whether ``path`` opens as a MAT v5 file (MATLAB's text header, no HDF5 after it)."""
    with open_regular(path, buffering=-1) as fh:
        head = fh.read(128)
    return head.startswith(b"MATLAB") and head[124:126] not in (b"\x00\x02", b"\x02\x00")


def _h5set_data_name(path: str) -> str | None:
    try:
        import h5py

        with regular_path(path) as name, h5py.File(name, "r") as f:
            node = f.get("data")
            if node is None and isinstance(f.get("EEG"), h5py.Group):
                node = f["EEG"].get("data")
            if isinstance(node, h5py.Dataset) and node.dtype.kind in "u" and node.size < 4096:
                return "".join(map(chr, node[()].ravel()))
    except Exception:  # a damaged file: the reader says what is wrong
        return None
    return None


def special_companion(path: str, named: str) -> str | None:
    """What is there, in words (``"a FIFO"``, ``"a folder"``), when the file the header at
    ``path`` names as ``named`` is not found because the name holds no regular file (where
    the header says, or beside it by base name); None when nothing is there."""
    folder = os.path.dirname(os.path.abspath(path))
    rel = named.replace("\\", "/")
    for where in (
        os.path.normpath(os.path.join(folder, rel)),
        os.path.join(folder, os.path.basename(rel)),
    ):
        kind = special_file(where)
        if kind is not None:
            return kind
    return None


def missing_markers(path: str) -> str | None:
    """The marker file a BrainVision header names that is found nowhere
    (:func:`vhdr_companions`; MNE then reads the recording without events, silently), else
    None."""
    if os.path.splitext(path)[1].lower() not in BRAINVISION_HEADERS:
        return None
    for c in vhdr_companions(path):
        if c.key == "markerfile" and c.path is None:
            return c.named
    return None


def missing_data(path: str) -> str | None:
    """The samples file a BrainVision header (``DataFile=``) or an EEGLAB ``.set``
    (``EEG.data``) names and that is found nowhere (:func:`vhdr_companions`; for a ``.set``,
    neither the named file nor the ``.fdt`` of its own stem, as MNE falls back to), else None.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext in BRAINVISION_HEADERS:
        return next(
            (c.named for c in vhdr_companions(path) if c.key == "datafile" and c.path is None), None
        )
    if ext != ".set":
        return None
    named = set_data_name(path)
    if named is None or named.lower().endswith(".set") or set_data_files(path):
        return None  # the samples are in the .set itself, or their file is there
    return named


def missing_data_problem(path: str) -> str | None:
    """The problem, in words, when the samples file of ``path`` is found nowhere
    (:func:`missing_data`): what is there instead (a FIFO, a device), else that it is not
    beside it; None when it is found, or needed."""
    gone = missing_data(path)
    if gone is None:
        return None
    field = "EEG.data" if os.path.splitext(path)[1].lower() == ".set" else "DataFile="
    kind = special_companion(path, gone)
    if kind is not None:  # a FIFO or a device there is no missing file: say what it is
        return (
            f"its samples file {quoted_path(gone)} ({field} in it) is {kind}, not a file: "
            f"{NOTHING_TO_READ}; put the recording's samples file there"
        )
    semicolon = (  # (a name may hold a `;`: no comment is cut from it)
        " (a `;` after a file's name is part of the name: BrainVision comments are lines of "
        "their own, `;` first)"
        if ";" in gone and field == "DataFile="
        else ""
    )
    return (
        f"its samples file {quoted_path(gone)} ({field} in it) is not beside it, under that name "
        f"or its own stem{semicolon}: copy it there, or re-download the recording"
    )


@dataclass(frozen=True)
class Companion:
    """A file a BrainVision header names.

    Attributes
    ----------
    key : str
        ``'datafile'`` or ``'markerfile'``.
    named : str
        The name as the header writes it.
    path : str or None
        The file to read (absolute), None when it is found nowhere.
    note : str or None
        How it was found, when not where the header says (for the ingest report).
    candidates : tuple of str
        The files beside the header that match the name in letter case alone, when there are
        several (``path`` is then None: which one is meant is unknown).
    """

    key: str
    named: str
    path: str | None
    note: str | None = None
    candidates: tuple[str, ...] = ()


def vhdr_companions(path: str) -> list[Companion]:
    """The data and marker files of the BrainVision header ``path``, each found as
    :func:`_find_companion` says."""
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    return [_find_companion(folder, stem, key, named) for key, named in _vhdr_entries(path)]


def _find_companion(folder: str, stem: str, key: str, named: str) -> Companion:
    """The file ``named`` (by the header of stem ``stem`` in ``folder``): where the header
    says (relative to its folder, as MNE reads it), else beside it by base name (a Windows or
    foreign path), else in another letter case, else the header's own stem with the named
    file's extension (files renamed after recording)."""
    rel = named.replace("\\", "/")
    as_named = os.path.normpath(os.path.join(folder, rel))
    if os.path.isfile(as_named):
        return Companion(key, named, as_named)
    base = os.path.basename(rel)
    if os.path.isfile(os.path.join(folder, base)):
        return Companion(key, named, os.path.join(folder, base), _note(named, base))
    try:
        listing = os.listdir(folder)
    except OSError:
        return Companion(key, named, None)
    for wanted in (base, stem + os.path.splitext(base)[1]):
        hits = [
            os.path.join(folder, n)
            for n in sorted(listing)
            if fold(n) == fold(wanted) and os.path.isfile(os.path.join(folder, n))
        ]
        if len(hits) == 1:
            return Companion(key, named, hits[0], _note(named, os.path.basename(hits[0])))
        if hits:
            return Companion(key, named, None, candidates=tuple(hits))
    return Companion(key, named, None)


def _note(named: str, found: str) -> str:
    return (
        f"the header names {quoted_path(named)}, which is not there: read {quoted_path(found)} "
        "beside the header"
    )


_CODEPAGE = re.compile(rb"^\s*Codepage\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_CODEPAGE_TEXT = re.compile(r"^(\s*Codepage\s*=)[^\r\n]*", re.IGNORECASE | re.MULTILINE)
# the byte-order marks of the encodings BrainVision never writes, UTF-32's first (its
# little-endian mark begins with UTF-16's)
_WIDE_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def brainvision_bytes(raw: bytes) -> bytes:
    """A BrainVision header's or marker file's bytes in an encoding BrainVision writes (UTF-8
    or ANSI, as its ``Codepage=`` says), which every reader of them (eegprep's, MNE's) reads.

    BrainVision writes UTF-8 or ANSI; a file opened and saved again in a Windows editor may be
    UTF-16 or UTF-32 with a byte-order mark (Notepad's "Unicode", PowerShell 5's
    ``Out-File``): its bytes hold a NUL after each ASCII character, and a header was refused
    as "line 2 ('\x00;\x00 ...') comes before any [section]" while a marker file gave no
    events, as one with no ``[Marker Infos]``. Such a file's text is given here as UTF-8, each
    ``Codepage=`` line saying so (the text is unchanged); ``Codepage=ansi`` in any letter case
    is given as ``ANSI`` (:data:`_ANSI_SPELT`). A ``Mk<n>`` or ``Ch<n>`` line with
    blanks before its ``=`` (:data:`_SPACED_KEY`) is given without the blanks around it, as
    an INI reader reads it, and a Ctrl-Z ending the file (:data:`_DOS_END`) is left off. A
    file whose lines end in a carriage return alone (classic Mac OS: no line feed in it) is
    given with each ending in a line feed (:func:`_old_mac_lines`). Other bytes are returned
    as they are (the same object).
    """
    codec = next((c for mark, c in _WIDE_MARKS if raw.startswith(mark)), None)
    data = raw
    if codec is not None:
        text = raw.decode(codec, errors="replace")  # (a cut last character: U+FFFD)
        data = _CODEPAGE_TEXT.sub(r"\g<1>UTF-8", text).encode("utf-8", errors="surrogateescape")
    if data.endswith(_DOS_END):  # (the text before it is the file's)
        data = data.rstrip(_DOS_END)
    data = _old_mac_lines(data)
    if _SPACED_KEY.search(data) is None and _ANSI_SPELT.search(data) is None:
        return data
    return _ANSI_SPELT.sub(b"Codepage=ANSI", _SPACED_KEY.sub(rb"\1=", data))


def _old_mac_lines(data: bytes) -> bytes:
    """``data`` with each line ended by a line feed where every line ends in a carriage return
    alone (classic Mac OS; no line feed in the file but, perhaps, one ending it, as a tool
    appending a last line end writes it): MNE reads a header by its line feeds, so took such a
    header as one line (its title), and eegprep refused it and its marker file. The same
    object where the file holds a line feed before its end (a carriage return alone among line
    feeds is :func:`lone_return`'s to refuse)."""
    if b"\r" not in data or b"\n" in data.rstrip(b"\r\n"):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


_LONE_RETURN = re.compile(rb"\r(?![\r \t\x00]*(?:\n|\Z))")
"""A carriage return that ends no line: more text follows it before the next line feed (a NUL
between them is UTF-16 without its byte-order mark, refused for that)."""


def lone_return(data: bytes, what: str) -> str | None:
    """Why the BrainVision header or marker file ``what`` (``'the header'``, ``'its marker file
    x.vmrk'``), whose bytes as read are ``data`` (:func:`brainvision_bytes`), is refused: its
    lines end in line feeds (LF or CRLF) yet one holds a carriage return alone before more
    text. Which is a line end is ambiguous: MNE's parser of a header reads the return as part
    of the line (``NumberOfChannels='4\\rSamplingInterval=4000'``), its read of markers and
    an editor as the line's end; a file converted in part, or a value holding the return,
    looks the same. ``None`` when there is none (a return before a line feed, or several,
    is part of the line end)."""
    hit = _LONE_RETURN.search(data)
    if hit is None:
        return None
    line = data.count(b"\n", 0, hit.start()) + 1
    return (
        f"{what}, line {line}: its lines end in LF (or CRLF), but this one holds a carriage "
        "return alone before more text, which one reader takes for text and another for a "
        "line end (MNE's header parser, an editor): convert its line endings to CRLF or LF "
        "throughout"
    )


_DOS_END = b"\x1a"
"""Ctrl-Z, which DOS tools (``copy /a``) and old editors append to a text file as its end: MNE's
parser read it as a line that is no ``key=value`` and refused the header."""


_ANSI_SPELT = re.compile(
    rb"^Codepage=(?![ \t]*ANSI\r?$)[ \t]*(?i:ansi)[ \t]*(?=\r?$)", re.MULTILINE
)
"""``Codepage=ansi`` (or ``Ansi``, or blanks around it): the one code page BrainVision names
that is no codec's name, which MNE knows only as ``ANSI`` (it failed with ``unknown encoding:
ansi``, and eegprep refused the file as naming no encoding)."""


def wide_codepage_problem(codepage: str, what: str) -> str:
    """Why a BrainVision file (``what``: ``'the header'``, ``'its marker file x.vmrk'``) whose
    ``Codepage=`` names UTF-16 or UTF-32 without a byte-order mark is refused: MNE decoded
    its 8-bit text in it, every two bytes one character."""
    return (
        f"{what} gives Codepage={codepage[:40]!r}, an encoding of other than 8-bit text, "
        "which BrainVision does not write (UTF-8 or ANSI) and which a file is read in only "
        "after its byte-order mark: correct that line, or save the file as UTF-8"
    )


def eight_bit(codepage: str) -> bool:
    """Whether ``codepage`` writes ASCII as ASCII bytes, as UTF-8 and ANSI do (BrainVision's
    code pages); UTF-16 and UTF-32 do not. True for a name that is no text codec (refused
    for that elsewhere)."""
    try:
        return "Codepage=[]".encode(codepage) == b"Codepage=[]"
    except Exception:  # LookupError, a codec that is no text encoding
        return True


_SPACED_KEY = re.compile(rb"^(Mk[0-9]+|Ch[0-9]+)[ \t]+=[ \t]*", re.MULTILINE)
"""A marker or channel line with blanks before its ``=`` (``Mk2 = Stimulus,S  1,5,1,0``, as
an editor or a script other than BrainVision's writes an INI file): MNE finds marker lines by
``Mk<n>=`` alone, and read such a marker as no marker, unsaid; eegprep's own look-ups of
channel lines (repeated labels, the ``[Comment]`` tables) missed such a channel."""


def vhdr_text(raw: bytes) -> str:
    """A BrainVision header's (or marker file's) bytes as text, decoded as MNE decodes them:
    in the ``Codepage=`` it names (``ANSI`` is Windows-1252), UTF-8 when it names none, and
    Latin-1 when that fails (older recordings), so that a file name or label with ``µ`` or
    ``é`` reads as the writer meant it."""
    named = _CODEPAGE.search(raw)
    codepage = named.group(1).decode("ascii", "replace") if named else "utf-8"
    codepage = "cp1252" if codepage.upper() == "ANSI" else codepage
    try:
        return raw.decode(codepage)
    except (LookupError, UnicodeDecodeError):
        return raw.decode("latin-1")


VHDR_READ_BYTES = 2**20 + 1
"""Most bytes of a BrainVision header :func:`vhdr_bytes` reads: one more than the largest
header read (:data:`~eegprep.readers.vhdr.VHDR_MAX_BYTES`), so that a longer file is seen to
be longer."""


@once
def vhdr_bytes(path: str) -> bytes:
    """The first :data:`VHDR_READ_BYTES` bytes of the BrainVision header ``path``, read
    once per read of its recording (:mod:`~eegprep.readers.read_once`) for every parse of
    it."""
    with open_regular(path, buffering=-1) as fh:
        return fh.read(VHDR_READ_BYTES)


@once
def _vhdr_entries(path: str) -> tuple[tuple[str, str], ...]:
    """``(key, name as written)`` of each ``DataFile=`` / ``MarkerFile=`` line (key lower-case)."""
    try:
        text = vhdr_text(brainvision_bytes(vhdr_bytes(path)[: 1 << 16]))
    except OSError:
        return ()
    return tuple(
        (hit.group(1).lower(), hit.group(2))
        for hit in map(_VHDR_KEY.match, editor_lines(text))
        if hit
    )


_SPLIT = re.compile(r"_split-\d+_")
"""Where a BIDS name numbers the parts of a split FIF (``sub-01_split-01_eeg.fif``)."""


def fif_parts(path: str) -> list[str]:
    """The files beside the FIF ``path`` that may continue it (MNE writes a recording over
    2 GB as parts, each naming the next, which MNE opens by name from the one before): those
    named as MNE numbers them (``r_raw.fif``, ``r_raw-1.fif``, ``r_raw-2.fif``) or as BIDS
    does (``_split-01_``, ``_split-02_``), sorted; regular files only (a FIFO there is not
    linked: MNE then finds the part missing)."""
    folder, base = os.path.split(path)
    head, dot, tail = base.partition(".")
    hit = _SPLIT.search(base)
    patterns = [re.escape(head.rsplit("-", 1)[0] if head.rsplit("-", 1)[-1].isdigit() else head)]
    patterns[0] += r"-\d+" + re.escape(dot + tail)
    if hit:
        patterns.append(
            re.escape(base[: hit.start()]) + r"_split-\d+_" + re.escape(base[hit.end() :])
        )
    wanted = re.compile("|".join(f"(?:{p})" for p in patterns))
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in names
        if n != base and wanted.fullmatch(n) and os.path.isfile(os.path.join(folder, n))
    ]
