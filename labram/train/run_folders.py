"""The folders a training command keeps in its run folder (``tokenizer/``, ``mem/``,
``seed<N>/``, ``fold<K>/seed<N>/``): checked before any work, and made with one line for what
stands in the way.

A file, a FIFO or a link to nothing at such a name was an internal error (``mkdir``'s "File
exists", "Not a directory") after the run's ``config.json`` or ``splits.json`` was written
(which then made the folder "hold a run already"), or after ``labram pretrain`` had trained its
whole tokenizer stage.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from eegprep.base.errors import UsageError
from eegprep.base.files import special_kind
from eegprep.base.path_limits import shown_path


def not_a_folder(path: Path) -> str | None:
    """What stands at ``path`` when something does and it is no folder (a link to a folder is
    one), in words: ``"a file"``, ``"a FIFO"``, ``"a link to nothing"``; None otherwise."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return "a link to nothing"
    if stat.S_ISDIR(mode):
        return None
    return "a file" if stat.S_ISREG(mode) else special_kind(mode)


def _refusal(path: Path, kind: str) -> UsageError:
    return UsageError(
        f"{shown_path(path)}: {kind}, not a folder: the run keeps a folder of its own under that "
        "name; move it away, or pass another --out"
    )


def check_run_folders(out: Path, names: Iterable[str]) -> None:
    """Refuse, before any work, a run folder ``out`` where something that is no folder stands
    at one of ``names`` (folders the run makes, relative to ``out``: ``mem``,
    ``fold0/seed0``) or at a folder above one of them.

    Raises
    ------
    UsageError
        ``PATH: a file, not a folder: ...``, naming what is there and what to do.
    """
    for name in names:
        path = out
        for part in Path(name).parts:
            path = path / part
            kind = not_a_folder(path)
            if kind is not None:
                raise _refusal(path, kind)


def make_run_folder(path: Path) -> None:
    """Make the run's folder ``path`` (and the folders above it) unless it is there.

    Raises
    ------
    UsageError
        Something that is no folder stands at ``path`` or above it (one created since
        :func:`check_run_folders` looked), named as that function names it.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for place in (*reversed(path.parents), path):
            kind = not_a_folder(place)
            if kind is not None:
                raise _refusal(place, kind) from None
        raise


__all__ = ["check_run_folders", "make_run_folder", "not_a_folder"]
