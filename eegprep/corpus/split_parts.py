"""The later parts of FIF recordings split in parts, left out of a corpus's listing.

MNE writes a FIF recording over its split size (2 GB by default) as parts: ``rec_raw.fif``,
``rec_raw-1.fif``, ... (BIDS: ``..._split-01_eeg.fif``, ``..._split-02_eeg.fif``), each naming
the next, and reads them all from the first. A corpus glob (``**/*.fif``) lists every part: the
first was ingested whole, and each later part was then read again alone (refused as naming "its
next part" outside its folder: the previous part's absolute path, which MNE writes in it). A
later part that a first part in its folder reaches is no recording of its own: it is left out
here. One that no first part reaches stays listed, and its reader refuses it in one line
(:data:`~eegprep.readers.fif_refs.LATER_PART`): its first part is missing.

Concurrency contract: read-only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from eegprep.base.errors import EegprepError
from eegprep.readers.fif_refs import is_later_part, next_part_names

FIF_SUFFIX = ".fif"
MAX_PARTS = 10_000
"""Parts followed from one first part at most (a 2 GB part each: 20 TB)."""


def later_parts(root: str, rels: Iterable[str]) -> set[str]:
    """The FIF files of ``rels`` (paths relative to ``root``) that a first part in their
    folder (a FIF file of ``rels`` naming no part before it) reaches through the next parts
    it names, each a plain name beside it."""
    folders: dict[str, list[str]] = {}
    for rel in rels:
        if rel.lower().endswith(FIF_SUFFIX):
            folders.setdefault(os.path.dirname(rel), []).append(rel)
    found: set[str] = set()
    for folder, fifs in folders.items():
        if len(fifs) > 1:
            found |= _reached(root, folder, fifs)
    return found


def _reached(root: str, folder: str, fifs: list[str]) -> set[str]:
    """The later parts among ``fifs`` (one folder's) that its first parts reach."""
    later = {rel for rel in fifs if _later(os.path.join(root, rel))}
    reached: set[str] = set()
    for first in (rel for rel in fifs if rel not in later):
        part = first
        for _ in range(MAX_PARTS):
            names = _plain_names(os.path.join(root, part))
            ahead = [r for r in (os.path.join(folder, n) for n in names) if r in later]
            ahead = [r for r in ahead if r not in reached]  # (not the part before: written too)
            if len(ahead) != 1:
                break
            reached.add(ahead[0])
            part = ahead[0]
    return reached


def _later(path: str) -> bool:
    try:
        return is_later_part(path)
    except (OSError, EegprepError):  # (its reader names the damage)
        return False


def _plain_names(path: str) -> list[str]:
    """The plain file names (no folder) ``path`` holds in its references."""
    try:
        names = next_part_names(path)
    except (OSError, EegprepError):
        return []
    return [n for n in names if n and os.path.basename(n) == n and n not in (".", "..")]
