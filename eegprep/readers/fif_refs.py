"""The parts a FIF file names as its continuation, held to the file's own folder.

MNE writes a recording over its split size as parts, each naming the next one
(``FIFF_REF_FILE_NAME``), and opens that name relative to the part's folder, as written: a
crafted file naming ``../x.fif`` or ``/dev/stdin`` would have MNE open a file outside the corpus
folder (and, a FIFO, wait there for ever). :func:`check_next_parts` reads those names from the
file's tag directory, before MNE opens it, and refuses any that is not a plain name beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

from eegprep.base.errors import SourceError

_FIFF_REF_FILE_NAME = 118  # mne's FIFF.FIFF_REF_FILE_NAME: a continuation's file name


def next_part_names(path: str) -> list[str]:
    """Every file name the FIF ``path`` holds as a continuation (tags of kind 118 in its
    directory, the one MNE follows), as written; empty when the file cannot be walked (MNE
    then names the damage itself)."""
    from mne._fiff.open import fiff_open
    from mne._fiff.tag import read_tag

    try:
        fid, _tree, directory = fiff_open(Path(path), verbose="error")
    except Exception:
        return []
    with fid:
        names = []
        for entry in directory:
            if entry.kind != _FIFF_REF_FILE_NAME:
                continue
            try:
                data = read_tag(fid, entry.pos).data
            except Exception:
                continue
            names.append(str(data))
        return names


def check_next_parts(path: str, shown: str) -> None:
    """Refuse the FIF ``path`` (``shown``: its name in the corpus, for the message) when a
    continuation it names is not a plain file name beside it.

    Raises :class:`~eegprep.base.errors.SourceError`.
    """
    for name in next_part_names(path):
        if not name or name in (".", "..") or os.path.basename(name) != name or "\\" in name:
            raise SourceError(
                shown,
                f"names its next part {name!r}, outside its folder: only parts beside a FIF "
                "file are read; rename the parts as MNE writes them",
            )
