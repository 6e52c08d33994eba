"""A corpus file that is no regular file: named by what it is, and never opened to wait.

A corpus folder may hold, under a recording's name or a companion's, something that is not a
file: a FIFO (``mkfifo``), a device (a link to ``/dev/zero``), a socket, a folder. Opening a
FIFO for reading waits for a writer forever, and a device reads without end, so whatever
reads a corpus file it did not just check opens it through :func:`open_regular` (without
blocking, checked through the open descriptor: a file swapped for a FIFO after a check cannot
hang the ingest either), and every message about such a path says what is there
(:func:`special_file`), never "missing" or "empty"; a store path that is no folder too
(:func:`not_a_folder`), never "no store here: create one there".
"""

from __future__ import annotations

import io
import os
import stat

from eegprep.base.errors import SourceError
from eegprep.base.user_files import special_kind


def kind_of_mode(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is in words when it is no regular file (``"a
    folder"``, ``"a FIFO"``, ``"a device"``, ``"a socket"``); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return "a folder" if stat.S_ISDIR(mode) else special_kind(mode)


def special_file(path: str | os.PathLike[str]) -> str | None:
    """What is at ``path`` (links followed) when it exists and is no regular file, in words
    (:func:`kind_of_mode`); None for a regular file, or for nothing there at all."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return kind_of_mode(mode)


NOTHING_TO_READ = "nothing to read (only regular files are ingested)"
"""What follows ``"{kind}, not a file: "`` in every line about such a path."""


def open_regular(path: str) -> io.FileIO:
    """``path`` opened for reading bytes, unbuffered, when it is a regular file.

    Raises
    ------
    SourceError
        When it is something else (a FIFO, a device, a socket, a folder), naming it; the open
        never waits (``O_NONBLOCK``, which a regular file ignores).
    OSError
        When it cannot be opened (missing, no permission).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise SourceError(path, f"a folder, not a file: {NOTHING_TO_READ}") from None
    kind = kind_of_mode(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise SourceError(path, f"{kind}, not a file: {NOTHING_TO_READ}")
    return os.fdopen(fd, "rb", buffering=0)


def not_a_folder(path: str | os.PathLike[str]) -> str | None:
    """What is at ``path`` in words when something is there that is no folder (``"a file"``,
    ``"a FIFO"``, ``"a device"``, ``"a link to nothing or a link loop"``); None for a folder,
    or for nothing at all (a store not made yet)."""
    if os.path.isdir(path):
        return None
    if os.path.lexists(path) and not os.path.exists(path):
        return "a link to nothing or a link loop"
    return (special_file(path) or "a file") if os.path.exists(path) else None
