"""Files a library opens by name, given to it as names of descriptors already checked.

A library that opens a recording's files itself (MNE: a BrainVision header, then the samples
and marker files it names; an EEGLAB ``.set`` and its ``.fdt``) would open whatever the corpus
holds under those names when it opens them, microseconds after eegprep checked them: a FIFO
swapped in then waits for a writer for ever, a link to ``/dev/zero`` reads without end, another
file is read in place of the one checked. A :class:`HeldFiles` closes that gap: each file is
opened first, without waiting, and checked to be a regular file
(:func:`~eegprep.base.regular_files.regular_fd`); the library is given a private folder (mode
0700) holding, under each name it will look for, a link to ``/proc/self/fd/N`` of that
descriptor (opening it opens the very file checked, whatever its corpus name holds by then),
or a file written there from bytes read so (a rewritten header).

The folders are made in ``/dev/shm`` where it can be written (:func:`_root`), else in the
system's temporary folder.

Lifetime: the folder and the descriptors live inside the ``with`` block, while the library
opens; a library that reads lazily by those names later (MNE's ``Raw``) keeps them:
:meth:`HeldFiles.keep_with` ties them to that object, and they are closed and removed when it
is garbage collected, or when the process exits (a pool's worker too:
``multiprocessing.util.Finalize``). A process killed (SIGKILL, a pool's workers terminated
by SIGTERM) closes its descriptors with it and leaves the folders it still held: links to
``/proc/self/fd/N``, which name nothing once it is gone. Each folder is named after the process
that made it, and the next ingest removes those whose maker is gone (:func:`sweep_left`,
:mod:`eegprep.base.held_leftovers`).

Where ``/proc/self/fd`` does not exist (macOS, Windows), :func:`supported` is False and callers
give the library the paths checked just before, as eegprep did before (a file swapped in those
microseconds can still be opened).

Concurrency contract: a :class:`HeldFiles` belongs to the thread that made it; the names in
``/proc/self/fd`` mean this process's descriptors (a forked child holds copies of them).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from types import TracebackType

from eegprep.base import held_leftovers
from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.base.regular_files import regular_fd

_PROC_FD = "/proc/self/fd"
_PREFIX = held_leftovers.PREFIX


def supported() -> bool:
    """Whether this system names a process's open descriptors (``/proc/self/fd``: Linux)."""
    return os.path.isdir(_PROC_FD)


@functools.cache
def _root() -> str | None:
    """Where held folders are made: ``/dev/shm`` (memory) where this process may write there,
    else the system's temporary folder (None). A held folder is links and a header or two, made
    and removed once per recording opened: on a disk that journals its folders (``/tmp`` on
    ext4) making and removing one took ~1.6 ms, in ``/dev/shm`` ~0.03 ms."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def sweep_left() -> list[str]:
    """Remove the held folders that killed processes left (:func:`held_leftovers.sweep`) where
    folders are made (:func:`_root`); returns their paths. The system's temporary folder, where
    a folder goes only while ``/dev/shm`` is full, is swept only where it is the place: it
    may hold thousands of entries (1,000 cost ~0.9 ms of CPU a sweep), and the system empties
    it."""
    return held_leftovers.sweep([_root() or tempfile.gettempdir()])


def fd_path(fd: int) -> str:
    """The name that opens descriptor ``fd`` of the process that opens it."""
    return f"{_PROC_FD}/{fd}"


def shown_name(name: str) -> str:
    """The file a name in a held folder (:class:`HeldFiles`) opens, as the system names it
    now (for messages); any other ``name`` as it is."""
    if os.sep + _PREFIX not in name:
        return name
    real = os.path.realpath(name)  # through the link, and through /proc/self/fd/N
    return real.removesuffix(" (deleted)")  # as Linux names a file removed since it was opened


class HeldFiles:
    """A private folder of names for files checked to be regular files (module docstring).

    Use as a context manager: :attr:`folder` is removed, and the descriptors closed, when the
    block ends, or after it with the object :meth:`keep_with` names.
    """

    def __init__(self, home: str = "") -> None:
        self.home = home  # the folder any other name in the folder is shown in (messages)
        prefix = held_leftovers.folder_prefix()  # named after this process: a kill's are swept
        try:  # 0700
            self.folder = os.path.abspath(tempfile.mkdtemp(prefix=prefix, dir=_root()))
        except OSError:  # /dev/shm full (or out of inodes): the system's temporary folder
            self.folder = os.path.abspath(tempfile.mkdtemp(prefix=prefix))
        self._fds: list[int] = []
        self._links: dict[str, tuple[str, int]] = {}  # name in the folder -> (source, fd)
        self._opened: dict[str, int] = {}  # source -> its descriptor
        self._written: dict[str, str] = {}  # name in the folder -> the file it was made from
        self._kept = False

    def link(self, path: str, name: str) -> str:
        """``path`` opened without waiting and checked, under ``name`` (relative, may hold
        one subfolder) in the folder: the absolute name to give the library.

        Raises :class:`~eegprep.base.errors.SourceError` naming what is there when it is no
        regular file, ``OSError`` when it cannot be opened.
        """
        fd = self._opened.get(path)
        if fd is None:  # each file opened once: every name of it is the one file checked
            fd = self._opened[path] = regular_fd(path)
            self._fds.append(fd)
        dest = self._place(name)
        os.symlink(fd_path(fd), dest)
        self._links[dest] = (path, fd)
        return dest

    def write(self, name: str, data: bytes, source: str) -> str:
        """A file ``name`` in the folder holding ``data`` (bytes of ``source`` read from a
        checked descriptor, rewritten): its absolute name."""
        dest = self._place(name)
        self._written[dest] = source
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:  # the recording's problem, not the store's (no ENOSPC raised)
            why = exc.strerror or type(exc).__name__
            raise SourceError(
                source,
                f"cannot write a checked copy of it in {shown_path(self.folder)}: {why}; free "
                "space there (or in the system's temporary folder)",
            ) from None
        return dest

    def _place(self, name: str) -> str:
        dest = os.path.normpath(os.path.join(self.folder, name))
        if not dest.startswith(self.folder + os.sep):  # names are a corpus file's own: never
            raise ValueError(f"{name!r} leaves the held folder {shown_path(self.folder)}")
        if os.path.dirname(os.path.normpath(dest)) != self.folder:
            os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
        return dest

    def shown(self, text: str) -> str:
        """``text`` (a library's message) with each name of the folder shown as the file it
        stands for."""
        for dest, (path, fd) in self._links.items():
            text = text.replace(dest, path).replace(fd_path(fd), path)
        for dest, path in self._written.items():
            text = text.replace(dest, path)
        return text.replace(self.folder, self.home) if self.home else text

    def keep_with(self, owner: object) -> None:
        """Keep the folder and the descriptors after the block ends, until ``owner`` is
        garbage collected or the process exits."""
        from multiprocessing.util import Finalize

        self._kept = True
        Finalize(owner, _release, (self.folder, self._fds, os.getpid()), exitpriority=0)

    def __enter__(self) -> HeldFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None or not self._kept:
            _release(self.folder, self._fds, os.getpid())


def _release(folder: str, fds: list[int], owner: int) -> None:
    """Close each of ``fds`` once (the list is emptied: a second call closes none), and remove
    ``folder`` in the process that made it (a forked child holds copies of the descriptors,
    not the folder)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass
