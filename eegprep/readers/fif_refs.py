"""The parts a FIF file names as its continuation, held to the file's own folder.

MNE writes a recording over its split size as parts, each naming the next one
(``FIFF_REF_FILE_NAME``), and opens that name relative to the part's folder, as written: a
crafted file naming ``../x.fif`` or ``/dev/stdin`` would have MNE open a file outside the corpus
folder (and, a FIFO, wait there for ever). :func:`check_next_parts` reads those names from the
file's tags, before MNE opens it, and refuses any that is not a plain name beside it.

The tags are walked here, by the FIF format's own rules (each tag a big-endian header of kind,
type, size and next, then its data), not through MNE's private ``mne._fiff`` functions, which
may move in any MNE release: the names checked are those of every ``FIFF_REF_FILE_NAME`` tag
of the tag directory the file points to and of the chain of tags from its start, the two ways
MNE finds its tags, decoded as MNE decodes a string tag (Latin-1, numeric character
references unescaped).

Every part after the first also names the part before it (``FIFF_REF_ROLE`` of
``FIFFV_ROLE_PREV_FILE``, by the absolute path it was written under): MNE never opens that name,
and such a part, read alone, holds only its own stretch of the recording, which its first part
reads with the rest. :func:`is_later_part` tells such a part; :func:`check_next_parts` refuses it
in one line (it was refused as naming "its next part" outside its folder, its previous part's
absolute path), and discovery leaves it out where a first part beside it names it
(:mod:`eegprep.corpus.split_parts`).
"""

from __future__ import annotations

import html
import os
import re
from typing import BinaryIO

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.readers.fif_tags import fif_tags, header

_FIFF_REF_ROLE = 115  # FIFF.FIFF_REF_ROLE: which file a reference block names
_FIFF_REF_FILE_NAME = 118  # FIFF.FIFF_REF_FILE_NAME: a continuation's file name
_ROLE_PREV_FILE = 1  # FIFF.FIFFV_ROLE_PREV_FILE: the part before this one
MAX_NAME = 4096
"""Characters of a continuation's name read at most: a longer one is no plain file name."""
_REFERENCE = re.compile(r"&#[0-9a-fA-F]{6};")  # what MNE's string reader unescapes


def _text(fh: BinaryIO, pos: int) -> str | None:
    """The text of the tag at ``pos`` as MNE reads a string tag (Latin-1, numeric character
    references unescaped); None where there is no tag. One over :data:`MAX_NAME` characters is
    returned cut to ``MAX_NAME + 1`` of them, as written."""
    tag = header(fh, pos)
    if tag is None:
        return None
    size = max(tag[2], 0)
    text = fh.read(min(size, MAX_NAME + 1)).decode("latin1")
    if size > MAX_NAME:
        return text
    return html.unescape(text) if _REFERENCE.search(text) else text


def _role(fh: BinaryIO, pos: int) -> int | None:
    """The value of the ``FIFF_REF_ROLE`` tag at ``pos`` (a big-endian int), or None."""
    tag = header(fh, pos)
    if tag is None or tag[2] < 4:
        return None
    raw = fh.read(4)
    return int.from_bytes(raw, "big", signed=True) if len(raw) == 4 else None


def _references(path: str) -> tuple[list[str], bool]:
    """Every file name the FIF ``path`` holds in a reference (:func:`next_part_names`), and
    whether one of its references names the part before it (:func:`is_later_part`)."""
    names, later = [], False
    kinds = frozenset({_FIFF_REF_FILE_NAME, _FIFF_REF_ROLE})
    try:
        with open_regular(path, buffering=-1) as fh:
            for kind, pos in fif_tags(fh, path, kinds):
                if pos < 0:
                    continue
                if kind == _FIFF_REF_ROLE:
                    later = later or _role(fh, pos) == _ROLE_PREV_FILE
                elif (name := _text(fh, pos)) is not None:
                    names.append(name)
    except OSError:
        pass
    return names, later


def next_part_names(path: str) -> list[str]:
    """Every file name the FIF ``path`` holds as a continuation (the ``FIFF_REF_FILE_NAME``
    tags of its chain of tags and of its tag directory, :func:`~eegprep.readers.fif_tags.fif_tags`),
    as MNE would read them; empty when the file cannot be read (MNE then names the damage).

    Raises
    ------
    SourceError
        The file's chain of tags loops (:func:`~eegprep.readers.fif_tags.chain`).
    """
    return _references(path)[0]


def is_later_part(path: str) -> bool:
    """Whether the FIF ``path`` is a part after the first of a recording split in parts (MNE's
    ``-1.fif``, ``-2.fif``; BIDS's ``split-02``): it names the part before it.

    Raises
    ------
    SourceError
        The file's chain of tags loops (:func:`~eegprep.readers.fif_tags.chain`).
    """
    return _references(path)[1]


LATER_PART = (
    "a later part of a FIF recording split in parts (it names the part before it): it is read "
    "with the recording's first part, never alone (alone, its samples would be stored apart "
    "from the rest, or twice); keep every part in one folder and ingest the first"
)
"""Why a later part of a split FIF recording is not read on its own."""


def check_next_parts(path: str, shown: str) -> None:
    """Refuse the FIF ``path`` (``shown``: its name in the corpus, for the message) when a
    continuation it names is not a plain file name beside it.

    Raises :class:`~eegprep.base.errors.SourceError`, also for a later part of a recording
    split in parts (:func:`is_later_part`), read only with its first part.
    """
    names, later = _references(path)
    if later:
        raise SourceError(shown, LATER_PART)
    for name in names:
        plain = 0 < len(name) <= MAX_NAME and name not in (".", "..") and "\\" not in name
        if not plain or os.path.basename(name) != name or "\0" in name:
            raise SourceError(
                shown,
                f"names its next part {name[:200]!r}, outside its folder: only parts beside a FIF "
                "file are read; rename the parts as MNE writes them",
            )
