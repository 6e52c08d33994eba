"""Reads of one open file that refuse a file rewritten in place while it was read.

A file renamed over a path while it is read leaves the open file as it was: every pass over
the open file reads the same bytes. A writer that truncates and rewrites the same file (the
same inode: ``open(path, "wb")``, ``torch.save(obj, path)`` straight to its name, an editor
saving in place) changes the bytes under the reader, which then reads the start of one version
and the rest of another: a header judged in one pass and tensors read from another, or a
truncated mix that parses. The open file's size, mtime and ctime are taken (``fstat``) before
the first byte is read and again after the last; any that differs refuses the read in one line
naming the file. Every write sets the mtime and ctime, so a rewrite is seen unless it falls,
whole, within one tick of the file system's clock (milliseconds) and keeps the size: what a
reader can check without holding a lock the writer takes.

A file renamed over (or deleted) while it is read is no change to the bytes read: the open
file keeps them, but losing its name sets its ctime. So the ctime is compared only while the
link count is unchanged; the size and mtime always (a write sets the mtime too).

A file read by its name in two passes (its entries loaded, then its bytes hashed for the record
of it a run keeps) is pinned by :func:`unchanged_between_reads`: the file at the name must be
the same device, inode and stamps after the last pass as before the first; one read again
and again over a long job (``finetune --init``, once per seed) by :class:`NamedVersion`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

from eegprep.base.path_limits import shown_path

CHANGED = "changed while it was read; read it again when the writer is done"
"""The end of the line that refuses a file rewritten while it was read."""

OpenStamp = tuple[int, int, int, int]
"""``(size bytes, mtime ns, ctime ns, link count)`` of an open file."""


def open_stamp(fh: IO[Any] | int) -> OpenStamp:
    """:data:`OpenStamp` of the open file ``fh`` (a file object or a descriptor)."""
    st = os.fstat(fh if isinstance(fh, int) else fh.fileno())
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_nlink)


def changed_since(before: OpenStamp, now: OpenStamp) -> bool:
    """Whether the bytes of a file stamped ``before`` may differ ``now``: its size or mtime
    differ, or its ctime while its link count is the same (a rename over it or its deletion
    sets the ctime and changes no byte)."""
    size, mtime, ctime, links = before
    return (now[0], now[1]) != (size, mtime) or (now[3] == links and now[2] != ctime)


@contextlib.contextmanager
def unchanged_while_read(
    fh: IO[Any] | int, path: str | os.PathLike[str], error: Callable[[str], Exception]
) -> Iterator[None]:
    """Read ``fh`` (the file ``path``, open) in the block; ``error("PATH: changed while it
    was read; ...")`` is raised when its :data:`OpenStamp` after the block differs from before.

    An error the block raises is replaced by that one when the file changed meanwhile: what a
    half-rewritten file looks like (truncated, corrupt, a header that does not match its data)
    is no fault of the file the writer leaves."""
    before = open_stamp(fh)
    try:
        yield
    except Exception as exc:
        if _changed(fh, before):
            raise error(f"{shown_path(path)}: {CHANGED}") from exc
        raise
    if _changed(fh, before):
        raise error(f"{shown_path(path)}: {CHANGED}")


class NamedVersion:
    """The file at ``path`` as it is now, before its first read by that name: :meth:`check`
    after any later read refuses a file renamed over it or rewritten since (its device, inode,
    size, mtime or ctime). A passing check proves every read by that name since was of this
    version: no program can set a ctime back. A name that cannot be stat-ed now (or None: no
    file) pins nothing (the first read says why)."""

    def __init__(
        self, path: str | os.PathLike[str] | None, error: Callable[[str], Exception]
    ) -> None:
        self.path, self._error = path or "", error
        try:
            self._version: tuple[int, int, OpenStamp] | None = _named(path) if path else None
        except OSError:
            self._version = None

    def check(self) -> None:
        """Raise ``error("PATH: changed while it was read; ...")`` when the file is another."""
        if self._version is not None and _moved(self.path, self._version):
            raise self._error(f"{shown_path(self.path)}: {CHANGED}")


@contextlib.contextmanager
def unchanged_between_reads(
    path: str | os.PathLike[str], error: Callable[[str], Exception]
) -> Iterator[None]:
    """Read the file at ``path`` by its name in more than one pass in the block (its entries
    loaded, then its bytes hashed for a record of it); ``error("PATH: changed while it was
    read; ...")`` is raised when the file at that name after the block is not the one before:
    another device or inode (a file renamed over it), or :func:`changed_since` (rewritten in
    place). An error the block raises is replaced by that one when the file changed meanwhile.
    A name that cannot be stat-ed before the block is left to the block's own error."""
    try:
        before = _named(path)
    except OSError:
        yield
        return
    try:
        yield
    except Exception as exc:
        if _moved(path, before):
            raise error(f"{shown_path(path)}: {CHANGED}") from exc
        raise
    if _moved(path, before):
        raise error(f"{shown_path(path)}: {CHANGED}")


def _named(path: str | os.PathLike[str]) -> tuple[int, int, OpenStamp]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_nlink))


def _moved(path: str | os.PathLike[str], before: tuple[int, int, OpenStamp]) -> bool:
    try:
        now = _named(path)
    except OSError:  # (gone since: which file the passes read cannot be told)
        return True
    return now[:2] != before[:2] or changed_since(before[2], now[2])


def _changed(fh: IO[Any] | int, before: OpenStamp) -> bool:
    try:
        return changed_since(before, open_stamp(fh))
    except (OSError, ValueError):  # (closed, or the file system gone: the read's error says)
        return False


__all__ = [
    "CHANGED",
    "NamedVersion",
    "OpenStamp",
    "changed_since",
    "open_stamp",
    "unchanged_between_reads",
    "unchanged_while_read",
]
