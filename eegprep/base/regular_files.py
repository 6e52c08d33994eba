"""A corpus file that is no regular file: named by what it is, and never opened to wait.

A corpus folder may hold, under a recording's name or a companion's, something that is not a
file: a FIFO (``mkfifo``), a device (a link to ``/dev/zero``), a socket, a folder. Opening a
FIFO for reading waits for a writer forever, and a device reads without end, so whatever
reads a corpus file opens it through :func:`open_regular` (without blocking, checked through
the open descriptor, then made blocking for its reads: a file swapped for a FIFO after any
earlier check cannot hang the ingest either), a library that opens files by name is given
:func:`regular_path` (``/proc/self/fd/N`` of such a descriptor), and every message about such
a path says what is there (:func:`special_file`), never "missing" or "empty"; a store path that
is no folder too (:func:`not_a_folder`), never "no store here: create one there".
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from eegprep.base.errors import SourceError
from eegprep.base.files import special_kind


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


def regular_fd(path: str) -> int:
    """A descriptor of ``path`` opened for reading without waiting (``O_NONBLOCK``, which a
    regular file ignores and a FIFO obeys), checked through itself to be a regular file, then
    made blocking again (``fcntl``) for the reads that follow.

    The caller closes it. Raises :class:`SourceError` (naming what is there) or ``OSError``
    (:func:`open_regular`).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise SourceError(path, f"a folder, not a file: {NOTHING_TO_READ}") from None
    try:
        kind = kind_of_mode(os.fstat(fd).st_mode)
        if kind is not None:
            raise SourceError(path, f"{kind}, not a file: {NOTHING_TO_READ}")
        if hasattr(os, "O_NONBLOCK"):
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


@overload
def open_regular(path: str, mode: Literal["rb"] = "rb", buffering: Literal[0] = 0) -> io.FileIO: ...
@overload
def open_regular(path: str, mode: Literal["rb"] = "rb", *, buffering: int) -> BinaryIO: ...
@overload
def open_regular(path: str, mode: Literal["r"], buffering: int = -1, **text: Any) -> TextIO: ...
def open_regular(path: str, mode: str = "rb", buffering: int = 0, **text: Any) -> IO[Any]:
    """``path`` opened for reading when it is a regular file: bytes (``"rb"``; unbuffered,
    ``io.FileIO``, unless ``buffering`` says otherwise as ``open``'s does: ``-1`` for the
    default buffer), or text (``"r"``, with ``open``'s ``encoding``, ``errors``, ``newline``).
    Every reader of a corpus file opens it here: the check is made on the open descriptor, so a
    file swapped for a FIFO or a device after any earlier check is refused, not waited on.

    Raises
    ------
    SourceError
        When it is something else (a FIFO, a device, a socket, a folder), naming it; the open
        never waits.
    OSError
        When it cannot be opened (missing, no permission).
    """
    if mode not in ("rb", "r"):
        raise ValueError(f"open_regular reads: mode 'rb' or 'r', got {mode!r}")
    fd = regular_fd(path)
    if mode == "rb":
        return os.fdopen(fd, "rb", buffering=buffering)
    return os.fdopen(fd, "r", **text)


@contextmanager
def regular_path(path: str) -> Iterator[str]:
    """A name for a library that opens files by name itself (pyedflib, h5py), of ``path``
    checked to be a regular file: ``/proc/self/fd/N`` of the descriptor checked, where the
    system has it (Linux: opening it opens that very file, whatever ``path`` names meanwhile),
    else ``path`` itself (checked just before). The descriptor stays open inside the block:
    open the file there (the library's own descriptor outlives the block).

    Raises :class:`SourceError` or ``OSError`` as :func:`open_regular` does.
    """
    fd = regular_fd(path)
    try:
        proc = f"/proc/self/fd/{fd}"
        yield proc if os.path.exists(proc) else path
    finally:
        os.close(fd)


def shown_as(text: str, name: str, path: str) -> str:
    """``text`` (a library's message) with the ``name`` :func:`regular_path` gave it shown as
    ``path``."""
    return text.replace(name, path) if name != path else text


def not_a_folder(path: str | os.PathLike[str]) -> str | None:
    """What is at ``path`` in words when something is there that is no folder (``"a file"``,
    ``"a FIFO"``, ``"a device"``, ``"a link to nothing or a link loop"``); None for a folder,
    or for nothing at all (a store not made yet)."""
    if os.path.isdir(path):
        return None
    if os.path.lexists(path) and not os.path.exists(path):
        return "a link to nothing or a link loop"
    return (special_file(path) or "a file") if os.path.exists(path) else None
