"""One file or folder named twice on a command line: found by what the file system says it is.

Two arguments name the same file when ``stat`` (links followed) gives the same device and
inode: the same path, ``./x`` for ``x``, a symbolic link, a hard link, a ``file:`` URL of it, a
trailing slash or ``..`` on the way to it, another mount of the same file system. A command
that takes several recordings, stores or run folders does each once
(:func:`without_repeats`) and says in one line what it left out (:func:`repeats_line`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of what ``path`` names, links followed; None when it cannot be
    looked up (missing, unreadable, a name no file system takes): such an argument is its own
    and fails where the command uses it."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def without_repeats(
    items: Sequence[T], path_of: Callable[[T], str | os.PathLike[str] | None] | None = None
) -> tuple[list[T], list[tuple[T, T]]]:
    """``items`` with each file kept once, at its first place, and the ``(dropped, kept)``
    pairs of the others. ``path_of`` gives an item's local path (None: not a local file, kept
    as it is); by default the item is the path."""
    first: dict[tuple[int, int], T] = {}
    kept: list[T] = []
    dropped: list[tuple[T, T]] = []
    for item in items:
        path = path_of(item) if path_of is not None else item
        key = identity(path) if isinstance(path, str | os.PathLike) else None
        if key is not None and key in first:
            dropped.append((item, first[key]))
            continue
        if key is not None:
            first[key] = item
        kept.append(item)
    return kept, dropped


def repeats_line(
    dropped: Sequence[tuple[object, object]], what: str, *, thing: str = "file"
) -> str:
    """One line naming each argument left out and the one it repeats:
    ``dropped 2 duplicate recordings (each the same file as an earlier argument, done once):
    b.edf = a.edf, ./a.edf = a.edf`` (``thing``: ``folder`` for folders)."""
    pairs = ", ".join(f"{d} = {k}" for d, k in dropped)
    n = len(dropped)
    return (
        f"dropped {n} duplicate {what}{'s' if n != 1 else ''} (each the same {thing} as an earlier "
        f"argument, done once): {pairs}"
    )


__all__ = ["identity", "repeats_line", "without_repeats"]
