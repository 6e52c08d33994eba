"""The one rule for the text a record names a recording by: its subject, session, split,
subject key, and its labels' names and text values.

That text comes from file and folder names (through the manifest's path pattern and
templates) and from sidecars, and it is what the splits compare (``subject_key`` decides which
subjects are kept out of training), what ``eegprep stats`` counts and what ``labram`` writes into
its CSV and JSON files. So every reader and corpus layout gives it through :func:`checked_text`
at ingest:

- it is NFC-normalised and stripped of surrounding white space: ``"S01 "`` and ``"S01"``, or
  ``"é"`` composed (NFC) and ``"e"`` with a combining accent (NFD, as macOS file names spell it),
  are one subject, never two that a subject split puts on both sides of a test set;
- text holding a control character (newline, tab, NUL, ESC, C1), an invisible format character
  (a bidi override such as U+202E, a zero-width space, a byte-order mark; the joiners U+200C and
  U+200D, which some scripts spell words with, are kept), a lone surrogate (a file name whose
  bytes are not UTF-8), or more than :data:`MAX_CHARS` characters, is refused: one line naming
  the file, the field and the character, and the rest of the corpus ingests.

Case and look-alike letters are kept as they are (``"S01"`` and ``"s01"`` stay two subjects,
as do a Latin ``A`` and a Cyrillic ``А``): no real corpus spells one subject two ways so, and
folding them would merge subjects that differ. The real subject ids of every corpus
(``aaaaaaac``, ``1_20131027``, ``S001``, ``PN00``, ``chb01``) are unchanged by the rule.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted

MAX_CHARS = 255
"""The most characters a subject, session, split, subject key, label name or label text may
hold: a file or folder name's most bytes on common file systems (a real id is under 40)."""

_KEPT_FORMAT = frozenset("\u200c\u200d")
"""Format characters kept: the zero-width non-joiner and joiner, which Persian, Indic scripts
and emoji sequences write words with."""


def clean_text(value: str) -> str:
    """``value`` NFC-normalised and stripped of surrounding white space (``str.strip``: any
    Unicode white space). Unlike :func:`checked_text`, never refuses."""
    return unicodedata.normalize("NFC", value).strip()


def refused_char(char: str) -> str | None:
    """What the rule calls ``char`` where text may not hold it (``"control character"``,
    ``"invisible format character"``, ``"lone surrogate"``); None where it may (letters, marks,
    spaces, the joiners U+200C and U+200D, private-use and unassigned code points). The one
    character rule of record text and of event labels
    (:mod:`eegprep.ingestion.events`, which writes a space for each refused one)."""
    kind = unicodedata.category(char)
    if kind == "Cs":
        return "lone surrogate"
    if kind == "Cc" or kind in ("Zl", "Zp"):
        return "control character"
    if kind == "Cf" and char not in _KEPT_FORMAT:
        return "invisible format character"
    return None


def spaced_text(value: str) -> str:
    """``value`` with each character :func:`refused_char` refuses written as a space (an
    event label's rule: it keeps the event, where a record's text is refused)."""
    if value.isprintable():  # (the common case, in C)
        return value
    return "".join(" " if refused_char(c) else c for c in value)


def noted_text(value: str) -> str:
    """``value`` as a record keeps text it notes for people but never compares or looks a file
    up by (a dropped channel's label and reason, read from a file's header): NFC-normalised
    and stripped, each character :func:`refused_char` refuses written as its escape (``\\x1b``,
    ``\\u202e``; a lone surrogate of a byte that is not UTF-8 as ``\\xff``), and over
    :data:`MAX_CHARS` characters cut there, ending in ``...``. Unlike :func:`checked_text`,
    never refuses: the text names what was left out, and its recording is kept."""
    text = clean_text(value)
    if not text.isprintable():  # (the common case, in C, skips the loop)
        text = "".join(_escaped(c) if refused_char(c) else c for c in text)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."


def _escaped(char: str) -> str:
    """A refused character as the escape Python writes for it; a surrogate of a byte that is
    not UTF-8 (``os.fsdecode``'s ``\\udcff``) as that byte (``\\xff``), as
    :func:`eegprep.base.files.as_text` writes it."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


def text_problem(value: str) -> str | None:
    """What keeps ``value`` (already cleaned by :func:`clean_text`) from being record text, in
    words (``"holds the control character U+000A at 2"``); None: sound."""
    if len(value) > MAX_CHARS:
        n = counted(len(value), "character")
        return f"is {n} long, over the {MAX_CHARS} a record's text may hold"
    if value.isprintable():  # (the common case, in C: no Cc, Cf, Cs, Zl, Zp, Co, Cn, no Zs)
        return None
    for i, char in enumerate(value, start=1):
        kind = refused_char(char)
        if kind == "lone surrogate":
            return f"holds a lone surrogate ({char!a} at {i}: a name whose bytes are not UTF-8)"
        if kind is not None:
            return f"holds the {kind} U+{ord(char):04X} at {i}"
    return None  # (spaces, private-use and unassigned code points: shown as they are)


def _shown(value: str) -> str:
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


def checked_text(path: str, field: str, value: str) -> str:
    """``value`` (the text of ``field`` of the recording from file ``path``) under the rule
    (module docstring): cleaned, or refused.

    Raises
    ------
    SourceError
        One line naming ``path``, ``field``, the value (escaped) and what is wrong.
    """
    text = clean_text(value)
    problem = text_problem(text)
    if problem is None:
        return text
    raise _refused(path, field, value, problem)


def checked_exact(path: str, field: str, value: str) -> str:
    """``value`` as it is, where the rule refuses none of its characters and its length; else
    refused as :func:`checked_text` refuses. For text a record must keep exactly, since it
    finds something again (a recording's ``part``: the variable of the file it was read
    from), so that it is neither cleaned nor stored holding a control character."""
    problem = text_problem(value)
    if problem is None:
        return value
    raise _refused(path, field, value, problem)


def _refused(path: str, field: str, value: str, problem: str) -> SourceError:
    return SourceError(
        path,
        f"{field} {_shown(value)} {problem}; a record's text is one line of at most "
        f"{MAX_CHARS} printable characters: rename the file or folder it comes from, or fix "
        "the sidecar or the manifest's template",
    )


def checked_labels(path: str, labels: dict[str, Any]) -> dict[str, Any]:
    """``labels`` (a recording's, from file ``path``) with each name and each text value
    cleaned, text nested in lists and tables checked (:func:`checked_text`); two names that
    clean to one are refused."""
    out: dict[str, Any] = {}
    for name, value in labels.items():
        key = checked_text(path, "label name", name)
        if key in out:
            raise SourceError(path, f"two labels are named {_shown(key)} (spelled {name!r})")
        field = f"label {key}"
        out[key] = checked_text(path, field, value) if isinstance(value, str) else value
        _check_nested(path, field, value)
    return out


def _check_nested(path: str, field: str, value: Any) -> None:
    """Refuse text outside the rule inside a list or table label value (kept as it is)."""
    if isinstance(value, dict):
        for k, v in value.items():
            checked_text(path, f"{field} key", str(k))
            _check_nested(path, f"{field}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_nested(path, f"{field}[{i}]", v)
    elif isinstance(value, str) and text_problem(clean_text(value)):
        checked_text(path, field, value)


_SEPARATORS = frozenset(',;:"')


def listed_text(text: object) -> str:
    """A name or value inside a list a line shows (the labels list of ``eegprep stats``,
    ``name: value count, ...``): as it is, or in double quotes (``"a: 5, b"``; a ``"`` or
    ``\\`` in it after a backslash) when it holds a separator of the list (``,``, ``;``,
    ``:``, two spaces: ``labram predict``'s columns), a quote, or is empty or starts or ends
    with a space. Bare,
    ``a: 5, b`` read as two values and a count nobody counted. The one rule of every list of
    names a line or a page shows (``eegprep stats``' labels, ``labram predict``'s classes,
    ``eegprep validate``'s added attributes)."""
    value = str(text)
    if (
        value
        and value == value.strip()
        and not _SEPARATORS.intersection(value)
        and "  " not in value
    ):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = [
    "MAX_CHARS",
    "checked_exact",
    "checked_labels",
    "checked_text",
    "clean_text",
    "listed_text",
    "noted_text",
    "refused_char",
    "spaced_text",
    "text_problem",
]
