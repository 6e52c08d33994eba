"""The ``flock`` of a local store's writer, on a ``lock.flock`` file of that store's own.

A hard-linked copy of a store (``cp -al``) shares every file with the original, its
``_eegprep/lock.flock`` too: an ingest into one held the ``flock`` of both, and an ingest into
the other was refused as if a second writer wrote it (``another ingest is writing this
store``). So a writer that takes the lock of a file with more than one link gives its store a
file of its own while it holds that lock: a new file, locked before it is renamed over the
shared one. A writer that took the lock of a file no longer at that name (replaced so under it,
between its ``open`` and its ``flock``) opens the name again: the file at the name is the one
whose lock counts.

Concurrency contract: the new file is locked before its rename makes it the store's, and the
shared one is released only after, so at every moment the file named ``lock.flock`` is locked
by the writer that holds the store, or by none.
"""

from __future__ import annotations

import contextlib
import os

from eegprep.base.files import claim_temporary
from eegprep.base.flocks import FlockOutcome, try_exclusive


def take_flock(path: str) -> tuple[int, FlockOutcome]:
    """Open ``path`` (made if missing) and take its exclusive ``flock`` without waiting.

    Returns the open descriptor (the caller closes it: that releases the lock) and what
    :func:`~eegprep.base.flocks.try_exclusive` found; when it is ``held``, ``path`` names the
    locked file and that file has no other link.

    Raises
    ------
    OSError
        The file cannot be opened, or its replacement made (a read-only or full file system).
    """
    for attempt in range(8):
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        taken = try_exclusive(fd)
        if taken.state != "held":
            return fd, taken
        if _still_named(path, fd) or attempt == 7:
            break
        os.close(fd)  # (replaced between the open and the lock: the new file's lock counts)
    if os.fstat(fd).st_nlink > 1:
        fd = _own_file(path, fd)
    return fd, taken


def _still_named(path: str, fd: int) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        here, there = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _own_file(path: str, shared: int) -> int:
    """Replace the file at ``path`` (locked through ``shared``, and linked elsewhere too) with a
    new one, locked before its rename; release the shared one; the new one's descriptor."""
    tmp = claim_temporary(path)  # (a TMP_MARK name: the next writer removes one a kill left)
    try:
        fd = os.open(tmp, os.O_RDWR)
        try:
            if try_exclusive(fd).state != "held":  # (a file no one else has opened)
                raise OSError(f"{tmp}: cannot lock a new file")
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        os.close(shared)
        raise
    os.close(shared)
    return fd
