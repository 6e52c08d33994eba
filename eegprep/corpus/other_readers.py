"""Files of a format that the manifest's reader does not read (a folder of ``.mat`` files
given to the ``folder`` corpus): what they need, said once for all of them.

Every suffix a reader claims (:data:`eegprep.readers.SUFFIXES`) that the manifest's reader
cannot open names the reader it needs; a MATLAB file or a text table also needs a manifest of
its own that says where its samples and rate are (docs/manifest-format.md). Without this, such
a folder gave ``path matches no rule of folder's path.pattern`` once per file, or ``pass
--include 'GLOB'`` where an ``--include`` could not help.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence

from eegprep.base.errors import EegprepError
from eegprep.base.regular_files import open_regular
from eegprep.base.resources import doc_path
from eegprep.base.text import UTF16_MARKS, numeric_table
from eegprep.base.wording import counted
from eegprep.readers import SUFFIXES

MNE_READS = frozenset({".edf", ".bdf", ".vhdr", ".ahdr", ".set", ".cnt", ".gdf", ".fif"})
"""The claimed suffixes that the ``mne`` reader opens (EDF and BDF as well as its own)."""

_NEEDS: dict[str, str] = {
    "mat": (
        "the `mat` reader and a manifest naming the variable that holds the samples and the "
        'sampling rate (`[reader] name = "mat"`, `options = { data = "...", sfreq = ... }`)'
    ),
    "csv": (
        "the `csv` reader and a manifest giving the sampling rate, and `channel_names` for a "
        'table with no header row (`[reader] name = "csv"`, `options = { sfreq = ... }`)'
    ),
    "edf": 'the `edf` reader (a manifest with `[reader] name = "edf"`)',
    "mne": 'the `mne` reader (a manifest with `[reader] name = "mne"`)',
}

MANIFEST_DOC = doc_path("docs/manifest-format.md")


def reads(reader: str, suffix: str) -> bool:
    """Whether the manifest's ``reader`` opens files of ``suffix`` (any case)."""
    s = suffix.lower()
    return s in SUFFIXES and needed_reader(reader, s) is None


def needed_reader(reader: str, suffix: str) -> str | None:
    """The reader a file of ``suffix`` needs where the manifest's ``reader`` cannot open it;
    None where it can, or where no reader claims the suffix."""
    s = suffix.lower()
    need = SUFFIXES.get(s)
    if need is None or need == reader or (reader == "mne" and s in MNE_READS):
        return None
    return need


def other_reader_hint(corpus: str, reader: str, suffixes: Mapping[str, int]) -> str | None:
    """One line on the files (``suffix -> count``) that ``corpus``'s reader cannot open: the
    reader each suffix needs and how to give it; None when there are none."""
    needs: dict[str, list[str]] = {}
    for suffix, n in sorted(suffixes.items()):
        need = needed_reader(reader, suffix)
        if need is not None:
            needs.setdefault(need, []).append(counted(n, f"{suffix} file"))
    if not needs:
        return None
    said = "; ".join(f"{', '.join(files)}: {_NEEDS[need]}" for need, files in needs.items())
    return (
        f"{said}: {corpus}'s reader ({reader}) does not read them; write a manifest of your "
        f"own and pass it with --manifest FILE ({MANIFEST_DOC})"
    )


def unmatched_reasons(
    corpus: str, reader: str, rels: Sequence[str], *, root: str | None = None
) -> list[tuple[str, str]]:
    """``(rel, why)`` for each of ``rels`` (files no rule of the path pattern matched, under
    the folder ``root``): those of a suffix the reader cannot open say so, the first of them
    with :func:`other_reader_hint` for them all (once, not file by file), unless their bytes
    are not of the format the suffix names (:func:`looks_like`: a ``README.txt`` is no table);
    the others that no rule matches."""
    suffixes = [posixpath.splitext(rel)[1].lower() for rel in rels]
    counts: dict[str, int] = {}
    foreign = set()  # (a README.txt: no table, whatever its suffix)
    for rel, suffix in zip(rels, suffixes):
        if needed_reader(reader, suffix) is None:
            continue
        if root is not None and not looks_like(posixpath.join(root, rel), suffix):
            foreign.add(rel)
        else:
            counts[suffix] = counts.get(suffix, 0) + 1
    hint = other_reader_hint(corpus, reader, counts)
    out = []
    for rel, suffix in zip(rels, suffixes):
        if rel in foreign:
            out.append((rel, not_its_format(suffix)))
        elif needed_reader(reader, suffix) is None:
            out.append((rel, f"path matches no rule of {corpus}'s path.pattern"))
        elif hint is not None:
            out.append((rel, hint))
            hint = None
        else:
            out.append((rel, f"a {suffix} file, which {corpus}'s reader does not read (above)"))
    return out


_HEAD_BYTES = 1 << 16
_HDF5 = b"\x89HDF\r\n\x1a\n"


def _mat(head: bytes) -> bool:
    """MATLAB's text header (v5, v7.3 before its HDF5), HDF5, or a MAT v4 header (5 int32,
    binary: zero bytes among its first 20, which no text has)."""
    mat = head.startswith((b"MATLAB", _HDF5)) or head[512:520] == _HDF5
    return mat or (b"\x00" in head[:20] and head[:2] not in UTF16_MARKS)


def _edf(head: bytes) -> bool:
    """EDF's version field (``0`` padded with spaces or NULs, as the EDF reader takes it) or
    BDF's (``\\xffBIOSEMI``)."""
    return head[:8] == b"\xffBIOSEMI" or head[:8].split(b"\x00", 1)[0].rstrip(b" ") == b"0"


_LOOKS: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    **dict.fromkeys((".csv", ".tsv", ".txt"), ("table of numbers (a README, notes or a licence?)",
                                               numeric_table)),
    ".mat": ("MATLAB data", _mat),
    ".set": ("EEGLAB data (a MATLAB file)", _mat),
    **dict.fromkeys((".edf", ".bdf", ".rec"), ("EDF or BDF header", _edf)),
    ".gdf": ("GDF header", lambda head: head.startswith(b"GDF")),
}  # fmt: skip
"""What a file of a suffix holds and how its first bytes show it (:func:`looks_like`); a
suffix not here (BrainVision, FIF, CNT: many writers, many first bytes) is hinted unread."""


def not_its_format(suffix: str) -> str:
    """Why a file of ``suffix`` whose bytes are not of that format is skipped unhinted."""
    what = _LOOKS[suffix.lower()][0] if suffix.lower() in _LOOKS else "recording"
    return f"a {suffix} file that holds no {what}: not a recording, left out"


def looks_like(path: str, suffix: str) -> bool:
    """Whether the first 64 kB of the file ``path`` look like the format its ``suffix`` names,
    for a hint that names that format's reader (:data:`_LOOKS`): text read as rows of numbers
    for the ``csv`` reader's suffixes (:func:`~eegprep.base.text.numeric_table`: prose is no
    table), MATLAB's header, HDF5 or a binary MAT v4 header for ``.mat`` and ``.set``, EDF's
    or BDF's version field for the ``edf`` reader's. True for a file that cannot be read (its
    reader, once given, says why) and any other suffix."""
    look = _LOOKS.get(suffix.lower())
    if look is None:
        return True
    try:
        with open_regular(path, buffering=-1) as fh:
            head = fh.read(_HEAD_BYTES)
    except (OSError, EegprepError):
        return True
    if look[1] is numeric_table:
        return numeric_table(head, cut=len(head) == _HEAD_BYTES)
    return look[1](head)
