"""Putting what was written on the disk (``fsync``) before the record that says it is done.

A write the kernel has accepted may still be lost in a power cut, and a rename or a new name
in a folder too: the folder's own entries are flushed only by an ``fsync`` of the folder.
Every record that says work is done (an embedding store's progress file, its ``embed.json``,
a store's index line) must therefore follow the ``fsync`` of the data it vouches for, and of
the folders that name that data; otherwise a power cut can leave a record of "done" beside a
chunk that is empty or gone. :func:`sync_file`, :func:`sync_folder` and :func:`sync_tree` do
those flushes; :func:`eegprep.base.files.replaced_atomically` (``durable=True``) flushes the
file before its rename and its folder after.

A file system that cannot flush a folder (``EINVAL`` on some network and FUSE mounts), a
folder this user may not open for reading, and Windows (where a folder cannot be opened) are
passed over: what the system cannot flush, no program can.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from typing import NoReturn

_CANNOT = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES, errno.EPERM}
"""Errors that say the system cannot flush (or open) a folder, not that a flush failed."""


def sync_file(path: str | os.PathLike[str]) -> None:
    """Flush the file ``path`` to the disk (``fsync``); ``OSError`` naming ``path`` when it
    fails (the kernel's names no file)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        _raise_naming(exc, path)
    finally:
        os.close(fd)


def _raise_naming(exc: OSError, path: str | os.PathLike[str]) -> NoReturn:
    """Raise ``exc`` naming ``path`` (same ``errno``, so the same subclass); ``exc`` itself
    when it names a file already (never ``raise exc from exc``: a cause that loops)."""
    if exc.filename is not None or exc.errno is None:
        raise exc
    raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), os.fspath(path)) from exc


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush the entries of ``folder`` (new names, renames, removals) to the disk.

    Raises
    ------
    OSError
        The flush failed (an I/O error); a system that cannot flush a folder is passed over.
    """
    if os.name != "posix":  # (Windows: a folder cannot be opened; NTFS journals its entries)
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if exc.errno in _CANNOT:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _CANNOT:
            _raise_naming(exc, folder)
    finally:
        os.close(fd)


def sync_folders(folders: Iterable[str | os.PathLike[str]]) -> None:
    """:func:`sync_folder` of each of ``folders``, once each, in the order given."""
    for folder in dict.fromkeys(os.fspath(f) for f in folders):
        sync_folder(folder)


def sync_tree(root: str | os.PathLike[str], *, skip: Iterable[str] = ()) -> None:
    """Flush every regular file under ``root`` (links not followed), then every folder, the
    deepest first and ``root`` last; the folders named in ``skip`` (relative to ``root``) and
    what they hold are left out. A folder that cannot be listed is the ``OSError`` (it was
    passed over, as :func:`os.walk` does by default: its files never flushed, yet the group
    listed as on the disk)."""
    skipped = {os.path.normpath(os.path.join(os.fspath(root), s)) for s in skip}
    folders = []
    for top, dirs, files in os.walk(root, onerror=_raise):
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(top, d)) not in skipped]
        for name in files:
            path = os.path.join(top, name)
            if stat.S_ISREG(os.lstat(path).st_mode):  # (no link, FIFO or device)
                sync_file(path)
        folders.append(top)
    sync_folders(reversed(folders))


def _raise(exc: OSError) -> None:
    raise exc


__all__ = ["sync_file", "sync_folder", "sync_folders", "sync_tree"]
