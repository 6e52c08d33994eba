"""Where a store lives: a local folder or any fsspec URL, behind a few small operations.

Local paths use the operating system directly (atomic ``rename``); other URLs go through fsspec
(``s3://``, ``gs://``, ``memory://``, ...), where an object put is atomic but a folder rename is
not, so commits there rely on the index alone (see docs/store-format.md).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eegprep.base.errors import EegprepError, StoreAccessError, UsageError
from eegprep.base.file_urls import is_remote_url, local_path
from eegprep.base.files import write_atomically
from eegprep.base.path_limits import check_path, shown_path
from eegprep.base.redact import redact
from eegprep.base.write_errors import with_reason
from eegprep.store.refusals import (
    ABSENT,
    CANNOT,
    DECODERS,
    GERUNDS,
    raised_in,
    refusal,
    what_to_do,
)

_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
"""The extra of the ``labram`` distribution that installs the backend of an fsspec protocol."""

Entries = list[tuple[str, bool]]
"""``(name, is_folder)`` of each entry of a folder (:meth:`Location.entries`)."""


def _gone_is_deleted(function: Any, path: str, exc: Any) -> None:
    """``shutil.rmtree``'s handler (``onexc``; ``onerror``'s ``exc_info`` before Python 3.12):
    what another process deleted first is deleted; any other failure is raised, naming the
    file or folder that could not be deleted."""
    if isinstance(exc, tuple):  # (onerror's exc_info)
        exc = exc[1]
    if isinstance(exc, FileNotFoundError):
        return
    if isinstance(exc, OSError) and exc.filename != path:  # (named relative to its folder)
        raise OSError(exc.errno, exc.strerror, path) from exc
    raise exc


@dataclass(frozen=True)
class Location:
    """A store root: ``url`` as the user gave it, ``root`` its path, ``fs`` an fsspec
    filesystem (for a local folder made only when something asks for it: the operations here
    use the operating system there, and importing fsspec costs ~0.08 CPU s)."""

    url: str
    root: str
    local: bool
    _fs: Any = field(default=None, compare=False, repr=False)
    refusals: list[StoreAccessError] = field(default_factory=list, compare=False, repr=False)
    """The first refusal raised here (:meth:`refused`; the first alone: memory stays bounded
    however many a long run meets), for a caller that reports what it could not read as damage
    and goes on (``validate``) to stop with it instead."""

    @classmethod
    def parse(cls, url: str | os.PathLike[str]) -> Location:
        """The location ``url`` names: a local path, a ``file:`` URL (decoded as RFC 8089 says,
        or refused in one line: :mod:`eegprep.base.file_urls`) or another fsspec URL."""
        text = os.fspath(url)
        if not text.strip():  # abspath would make it the current folder
            raise UsageError("an empty store path: give a store folder or URL")
        if not is_remote_url(text):
            path = local_path(text)
            check_path(path, "the store")
            path = os.path.abspath(path)
            if _is_zip_file(path):
                from eegprep.store.zip_files import open_zip, store_root

                fs = open_zip(text, path)
                return cls(text, store_root(fs, ""), False, fs)
            return cls(path, path, True)
        check_url_protocols(text)
        import fsspec

        fs, root = fsspec.core.url_to_fs(text)
        from fsspec.implementations.local import LocalFileSystem

        if isinstance(fs, LocalFileSystem) and not fs.auto_mkdir:
            # a folder tree, not an object store: writing ``a/b/c`` needs ``a/b`` first, which
            # fsspec makes only when asked (a ``local://`` store failed at its first object)
            fs = LocalFileSystem(auto_mkdir=True)
        from eegprep.store.zip_files import as_zip_files, is_zip_fs, open_zip, store_root

        behind = cls(text, root.rstrip("/"), False, fs)  # (names a refusal of the zip file)
        if not is_zip_fs(fs) and behind.holds_zip():  # a zip file behind a URL
            with behind.calling("read"):
                target = fs.unstrip_protocol(root)
                fs = open_zip(text, target, fs.storage_options, remote=True)
            root = ""
        if is_zip_fs(fs):  # (a `zip::` URL: fsspec's class, made ours)
            fs = as_zip_files(fs)
            root = store_root(fs, root)
        return cls(text, root.rstrip("/"), False, fs)

    @property
    def zipped(self) -> bool:
        """Whether the store is read from a zip file (which eegprep never writes)."""
        if self._fs is None:
            return False
        from eegprep.store.zip_files import is_zip_fs

        return is_zip_fs(self._fs)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (a local one made on first use)."""
        if self._fs is None:
            import fsspec

            object.__setattr__(self, "_fs", fsspec.filesystem("file"))
        return self._fs

    @property
    def display(self) -> str:
        """The URL as messages, printed output and records show it: credentials hidden
        (:func:`eegprep.base.redact.redact`); ``url`` itself is what fsspec is given."""
        return redact(self.url)

    @property
    def named(self) -> str:
        """:attr:`display` as a message's line names it: by the one rule of every path in a
        message (:func:`eegprep.base.path_limits.shown_path`: whole up to 300 characters,
        control characters escaped), whatever the store is (a folder, a file, a FIFO, a link
        loop)."""
        return shown_path(self.display)

    def shown(self, path: str) -> str:
        """A path under this location (from :meth:`path`) as the user should see it: under
        :attr:`display`, with no credential that fsspec kept in ``root``."""
        if self.local or not path.startswith(self.root):
            return redact(path)
        if not self.root:  # the top of a zip file (its paths have no leading "/")
            return f"{self.display.rstrip('/')}/{path}" if path else self.display
        return self.display.rstrip("/") + path[len(self.root) :]

    def path(self, *parts: str) -> str:
        if not self.root:  # the top of a file system whose paths have no leading "/" (zip)
            return "/".join(parts)
        return "/".join([self.root, *parts]) if parts else self.root

    def leaves_store(self, *parts: str) -> str | None:
        """Where ``parts`` really is, when a symbolic link on the way takes it out of the store
        (a local store only: object stores have no links); else None."""
        if not self.local or not parts:
            return None
        root = os.path.realpath(self.root)
        real = os.path.realpath(self.path(*parts))
        return None if real == root or real.startswith(root + os.sep) else real

    def check_no_link(self, *parts: str) -> None:
        """Refuse to write, rename or delete at ``parts`` when a folder or file on the way
        below the store's root is a symbolic link (a local store only): a write would land in
        what the link points to (another recording's group, a folder outside the store), a
        deletion delete it. A store named by a link to its root is not refused.

        Raises :class:`~eegprep.base.errors.StoreFormatError` naming the link and its target
        (once, a recording group linked to another's: its record and its zarr.json were
        deleted through the link by ``--prune``, and one outside the store written into)."""
        if not self.local:
            return
        names = [name for part in parts for name in part.split("/") if name]
        for k in range(1, len(names) + 1):
            here = self.path(*names[:k])
            if os.path.islink(here):
                from eegprep.base.errors import StoreFormatError

                rel = "/".join(names[:k])
                to = shown_path(redact(os.path.realpath(here)))
                raise StoreFormatError(
                    f"{self.named}: {shown_path(rel)} is a symbolic link (to {to}): eegprep "
                    "writes and deletes only what the store itself holds, never through a "
                    "link; replace the link with a copy of what it points to"
                )

    def parts_of(self, path: str) -> tuple[str, ...]:
        """The parts of ``path`` (from :meth:`path`) below the store's root."""
        top = self.root.rstrip("/")
        rest = path[len(top) :] if top and path.startswith(top + "/") else path
        return tuple(p for p in rest.split("/") if p)

    def failed(self, exc: OSError, doing: str, *parts: str, to: tuple[str, ...] = ()) -> OSError:
        """``exc``, met ``doing`` (``reading``, ``writing``, ...) the store file ``parts``
        (renaming it ``to`` another), naming that file: its path as the error's ``filename``
        (the file inside it that failed, for a folder deleted in part), and in its message
        what was being done, the file relative to the store (an ``os.replace`` of the index's
        compaction that failed said "Input/output error" and named no file). The same
        ``errno``, so the same subclass; raise it ``from exc`` (a write that landed stays
        one, :func:`~eegprep.base.write_errors.landed`)."""
        if exc.errno is None or isinstance(exc, EegprepError):  # (a message that names its file)
            return exc
        path = self.path(*parts)
        named = os.fspath(exc.filename) if isinstance(exc.filename, str | os.PathLike) else ""
        inside = self.local and named.startswith(path + os.sep)
        rel = os.path.relpath(named, self.root).replace(os.sep, "/") if inside else "/".join(parts)
        what = f"{doing} {shown_path(redact(rel))}" + (
            f" to {shown_path(redact('/'.join(to)))}" if to else ""
        )
        why = exc.strerror or os.strerror(exc.errno)
        if what in why:  # (named already, by a call below)
            return exc
        error = OSError(
            exc.errno, f"{why} while {what}", named if inside else path, None,
            self.path(*to) if to else None,
        )  # fmt: skip
        return with_reason(error, why)

    def refused(
        self, exc: BaseException, doing: str, *parts: str, to: tuple[str, ...] = ()
    ) -> StoreAccessError:
        """``exc``, the file system's refusal (:func:`refusal`) to ``doing`` (``list``,
        ``check``, ``read``, ``write``, ``rename``, ``delete``) the store's object or folder
        ``parts`` (renaming it ``to`` another), as one line naming it once (its URL, shown by
        :func:`~eegprep.base.path_limits.shown_path`), what failed (the words of an operating
        system's error; else the exception's class and message, the object's path left out)
        and what to do. Kept in :attr:`refusals`."""
        from eegprep.base.errors import clip_message
        from eegprep.base.path_limits import shown_path

        path = self.path(*parts)
        shown = self.shown(path)
        code = exc.errno if isinstance(exc, OSError) else None
        named = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        for name in sorted({self.fs.unstrip_protocol(path), shown, path, path.lstrip("/")},
                           key=len, reverse=True):  # fmt: skip
            if len(name) > 1:
                named = named.replace(name, "it")
        named = clip_message(" ".join(redact(named).split()).strip(" :'\""), 300)
        why = named if named and named != "it" else ""
        if not (code is not None and isinstance(exc, OSError) and exc.strerror):
            why = f"{type(exc).__name__}: {why}" if why else type(exc).__name__
        onto = f" to {shown_path(redact('/'.join(to)))}" if to else ""  # (a rename's)
        todo = what_to_do(exc, remote=not self.local)
        line = f"{shown_path(shown)}: {CANNOT[doing]}{onto} ({why}); {todo}"
        error = with_reason(StoreAccessError(code, line, path), why)
        if not self.refusals:
            self.refusals.append(error)
        return error

    def _guarded(
        self, exc: BaseException, doing: str, *parts: str, to: tuple[str, ...] = (),
        listing: bool = False,
    ) -> BaseException:  # fmt: skip
        """What to raise for ``exc``, met ``doing`` the store's ``parts``: a program's
        mistake as it is, and so is any exception but an ``OSError`` of a local disk, a zip
        file or eegprep's own code; what is (not) there (:data:`ABSENT`) and, but for a
        ``listing``, a local disk's (or zip file's) error named (:meth:`failed`); any other
        refusal of the file system one line (:meth:`refused`)."""
        if not refusal(exc):
            return exc
        if not isinstance(exc, OSError) and (
            self.local or self.zipped or raised_in(exc) in ("eegprep", "labram")
        ):  # (no service there, or our own code's: what it is, never "check the connection")
            return exc
        if isinstance(exc, ABSENT) or (
            isinstance(exc, OSError) and (self.local or self.zipped) and not listing
        ):
            return self.failed(exc, GERUNDS[doing], *parts, to=to)  # type: ignore[arg-type]
        return self.refused(exc, doing, *parts, to=to)

    @contextlib.contextmanager
    def calling(
        self, doing: str, *parts: str, to: tuple[str, ...] = (), listing: bool = False
    ) -> Iterator[None]:
        """A block of calls of the file system ``doing`` (:meth:`refused`) the store's
        ``parts``: what it raises, as :meth:`_guarded` says."""
        try:
            yield
        except Exception as exc:
            error = self._guarded(exc, doing, *parts, to=to, listing=listing)
            if error is exc:
                raise
            raise error from exc

    def holds_zip(self) -> bool:
        """Whether the root (on an fsspec backend) is a file that starts as a zip file does;
        asked only of a name ending in ``.zip`` (one more request to an object store). A
        refusal of the service to say is one line naming it (:meth:`refused`): it was taken
        for no zip file, and the store for a missing one ("no eegprep store here")."""
        if not self.root.lower().endswith(".zip"):
            return False
        with self.calling("read", listing=True):
            try:
                head = bytes(self.fs.cat_file(self.root, start=0, end=4))
            except ABSENT:  # (no file, or a folder named *.zip)
                return False
        return head in ZIP_MAGIC

    def decoded_refusal(self, exc: BaseException, doing: str, *parts: str) -> OSError | None:
        """For a caller that takes any exception of a library reading the store's bytes
        (zarr: damaged metadata, a checksum) as damage: ``exc`` as one line (:meth:`refused`)
        when it is the file system's refusal instead (an fsspec backend's, raised in that
        backend's code: a ``ClientError``, a ``PermissionError``); else ``None``."""
        if isinstance(exc, StoreAccessError):
            return exc
        if self.local or self.zipped or isinstance(exc, ABSENT) or not refusal(exc):
            return None
        if raised_in(exc) in DECODERS:
            return None
        return self.refused(exc, doing, *parts)

    def stop_if_refused(self) -> None:
        """Raise the first refusal of the store's file system met so far (:attr:`refusals`):
        a caller that reported what it could not read as damage stops with it instead."""
        if self.refusals:
            raise self.refusals[0]

    def exists(self, *parts: str) -> bool:
        """Whether an object or folder is there; a refusal of the file system to say is
        raised (:meth:`refused`): fsspec's ``exists`` answered no to any error (no access,
        no connection), and a store the service refused was "no eegprep store here"."""
        if self.local:
            return os.path.exists(self.path(*parts))
        with self.calling("check", *parts, listing=True):
            try:
                self.fs.info(self.path(*parts))
            except FileNotFoundError:
                return False
        return True

    def size(self, *parts: str) -> int:
        """An object's size in bytes (``FileNotFoundError`` when it is missing)."""
        path = self.path(*parts)
        with self.calling("check", *parts):
            return os.path.getsize(path) if self.local else int(self.fs.size(path))

    def read_range(self, begin: int, end: int, *parts: str) -> bytes:
        """Bytes ``[begin, end)`` of an object on an fsspec backend (fewer at its end)."""
        with self.calling("read", *parts):
            return bytes(self.fs.cat_file(self.path(*parts), start=begin, end=end))

    def read_bytes(self, *parts: str) -> bytes:
        """A whole object; an ``OSError`` names it (:meth:`failed`)."""
        with self.calling("read", *parts):
            return self._read_bytes(*parts)

    def read_capped_lines(self, cap: int, mark: Callable[[int], bytes], *parts: str) -> bytes:
        """A whole object of lines, read in pieces, each line longer than ``cap`` bytes replaced
        by ``mark(its length)`` (its newline kept, so the lines after it keep their numbers):
        memory of the lines kept and ``cap``, whatever the object's size (a sparse file of
        gigabytes is one line of zeros). An object of at most ``cap`` bytes is read at once."""
        with self.calling("read", *parts):
            if self.local:
                with _regular_file(self.path(*parts)) as (fh, size):
                    return fh.read() if size <= cap else _capped_lines(fh, cap, mark)
            if self.size(*parts) <= cap:
                return bytes(self.fs.cat_file(self.path(*parts)))
            with self.fs.open(self.path(*parts), "rb") as fh:
                return _capped_lines(fh, cap, mark)

    def _read_bytes(self, *parts: str) -> bytes:
        limit = MAX_DOCUMENT_BYTES if parts and parts[-1].endswith(DOCUMENTS) else None
        if self.local:
            path = self.path(*parts)
            with _regular_file(path) as (fh, size):
                _check_document_size(size, limit, path)
                return fh.read() if limit is None else fh.read(limit + 1)
        if limit is None:
            return bytes(self.fs.cat_file(self.path(*parts)))
        data = bytes(self.fs.cat_file(self.path(*parts), start=0, end=limit + 1))  # (one request)
        try:
            _check_document_size(len(data), limit, self.path(*parts))
        except OSError as exc:  # (no refusal of the service's: no "check the connection")
            from eegprep.base.errors import StoreFormatError

            raise StoreFormatError(
                f"{shown_path(self.shown(exc.filename))}: {exc.strerror}"
            ) from None
        return data

    def write_bytes(self, data: bytes, *parts: str, scratch: tuple[str, ...] | None = None) -> None:
        """Write a whole object; on a local disk via a temporary name and a rename (atomic).

        ``scratch``: the store folder (parts) that holds the temporary file on a local disk,
        instead of the object's own folder (a folder the writer empties after a kill)."""
        target = self.path(*parts)
        self.check_no_link(*parts)
        with self.calling("write", *parts):
            if self.local:
                folder = self.path(*scratch) if scratch is not None else None
                write_atomically(target, data, durable=True, scratch=folder)
            else:
                self.fs.pipe_file(target, data)

    def list(self, *parts: str) -> list[str]:
        """Names (not paths) directly under a folder; empty when it does not exist. A folder
        the file system refuses to list is one line naming it (:meth:`refused`)."""
        base = self.path(*parts)
        with self.calling("list", *parts, listing=True):
            try:
                if self.local:  # (a file lists as itself, as fsspec lists it)
                    if os.path.isdir(base):
                        return sorted(os.listdir(base))
                    return [os.path.basename(base)] if os.path.exists(base) else []
                entries = self.fs.ls(base, detail=False)
            except FileNotFoundError:
                return []
        return sorted(str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries)

    def entries(self, *parts: str) -> Entries:
        """``(name, is_folder)`` of each entry directly under a folder, sorted by name; empty
        when it is no folder. One listing (an object store's gives each entry's type)."""
        base = self.path(*parts)
        with self.calling("list", *parts, listing=True):
            try:
                if self.local:
                    with os.scandir(base) as found:
                        return sorted((e.name, e.is_dir()) for e in found)
                listed = self.fs.ls(base, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return []
        out = []
        for entry in listed:
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if str(entry["name"]).rstrip("/") != base.rstrip("/"):  # (a file lists as itself)
                out.append((name, entry.get("type") == "directory"))
        return sorted(out)

    def rename(self, src: tuple[str, ...], dst: tuple[str, ...]) -> None:
        """Move an object (atomic on a local disk; copy then delete elsewhere)."""
        self.check_no_link(*src)
        self.check_no_link(*dst)
        with self.calling("rename", *src, to=dst):
            if self.local:
                os.replace(self.path(*src), self.path(*dst))
            else:
                self.fs.mv(self.path(*src), self.path(*dst))

    def remove(self, *parts: str) -> None:
        """Delete an object or a folder; nothing when it is gone, also when another process
        removed it between the check and the delete (writers racing for a stale lock sweep the
        same takeover claims). A file or folder the disk refuses to delete (``EIO``, ``EROFS``,
        ``EACCES``) raises ``OSError`` naming it: a folder deleted in part was once reported
        deleted, and its rest left for good where no run looked for it again."""
        target = self.path(*parts)
        if not self.local:
            self._remove_object(*parts)
            return
        self.check_no_link(*parts)
        with self.calling("delete", *parts):
            try:
                if os.path.isdir(target):
                    if sys.version_info >= (3, 12):  # (onerror is deprecated there)
                        shutil.rmtree(target, onexc=_gone_is_deleted)
                    else:
                        shutil.rmtree(target, onerror=_gone_is_deleted)
                elif os.path.exists(target):
                    os.unlink(target)
            except FileNotFoundError:
                pass

    def _remove_object(self, *parts: str) -> None:
        """:meth:`remove` on an fsspec backend: an object by itself (a recursive deletion
        lists first, and a store whose listing was refused kept its lock), a folder with all
        it holds."""
        target = self.path(*parts)
        with self.calling("check", *parts, listing=True):
            try:
                info = self.fs.info(target)
            except FileNotFoundError:
                return
        with self.calling("delete", *parts), contextlib.suppress(FileNotFoundError):
            if info.get("type") == "file":
                self.fs.rm_file(target)
            else:
                self.fs.rm(target, recursive=True)

    def zarr_store(self, *parts: str, read_only: bool = False) -> Any:
        """A zarr Store rooted at a sub-path of this location."""
        from zarr.storage import FsspecStore, LocalStore

        if self.local:
            return LocalStore(self.path(*parts), read_only=read_only)
        if self.zipped:  # a URL of the path would lose the zip file the file system reads
            from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper

            wrapped = AsyncFileSystemWrapper(self.fs, asynchronous=True)
            return FsspecStore(wrapped, path=self.path(*parts), read_only=True)
        return FsspecStore.from_url(
            self.fs.unstrip_protocol(self.path(*parts)), read_only=read_only
        )


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""The first four bytes of a zip file: a member's local header, or (an empty archive) the end
of the central directory."""


DOCUMENTS = ".json"
"""How the name of a store's JSON document ends: each group's and array's ``zarr.json``, a
retired group's ``record.json`` and ``removed.json``, the retired list, the ingest reports, the
seen-files cache; each read whole (and parsed) by its readers. (The index's segments,
``.jsonl``, grow with the store: not bounded here.)"""

MAX_DOCUMENT_BYTES = 512 * 2**20
"""The most bytes a :data:`DOCUMENTS` file may hold. The largest eegprep writes, a record of
:data:`~eegprep.readers.event_count.MAX_EVENTS` events (~4 MB; labels of 256 characters, each
written as a 6-byte escape, would be ~300 MB), is under it; one of gigabytes (a sparse file,
another program's) was read whole and parsed: 6 GiB of memory for 3 GiB."""


_PIECE = 8 * 2**20  # bytes read at a time by read_capped_lines (at most its cap)


@contextlib.contextmanager
def _regular_file(path: str) -> Iterator[tuple[Any, int]]:
    """The local file ``path`` open for reading, and its size (bytes); ``OSError`` (EINVAL)
    for anything but a regular file. Opened with ``O_NONBLOCK``: a FIFO put where a file
    belongs would block the open (and a read)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        yield fh, info.st_size


def _capped_lines(fh: Any, cap: int, mark: Callable[[int], bytes]) -> bytes:
    """The lines of ``fh``, each longer than ``cap`` bytes replaced by ``mark(its length)``.
    A piece is at most ``cap`` bytes, so a line between two newlines of one piece is short:
    only the line that runs across pieces (``line``, ``run`` bytes so far) is measured, and
    its bytes are let go once it is too long."""
    out: list[bytes] = []
    line: list[bytes] = []
    run = 0
    while piece := fh.read(min(_PIECE, cap)):
        first = piece.find(b"\n")
        if first < 0:
            run += len(piece)
            line = [] if run > cap else [*line, piece]
            continue
        run += first
        out += [mark(run)] if run > cap else [*line, piece[:first]]
        last = piece.rfind(b"\n")
        out.append(piece[first : last + 1])
        line, run = [piece[last + 1 :]], len(piece) - last - 1
    out += [mark(run)] if run > cap else line
    return b"".join(out)


def _check_document_size(size: int, limit: int | None, path: str) -> None:
    """Refuse a metadata document of ``size`` bytes over ``limit`` (None: any size)."""
    if limit is not None and size > limit:
        raise OSError(
            errno.EINVAL,
            f"more than the {limit // 2**20} MiB a metadata document of a store may hold (not "
            "one eegprep wrote)",
            path,
        )


def _is_zip_file(path: str) -> bool:
    """Whether the local ``path`` is a regular file that starts as a zip file does."""
    if not os.path.isfile(path):  # (a FIFO would block the open)
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in ZIP_MAGIC
    except OSError:
        return False


def check_url_protocols(text: str) -> None:
    """Refuse the store URL ``text`` in one line naming it and the fix when fsspec does not
    know a protocol of it (each of a chain, ``zip::s3://``) or its package is not installed
    (``s3://`` without s3fs: ``pip install 'labram[s3]'``); it was an internal error."""
    import fsspec

    for part in text.split("::"):
        protocol = part.split("://", 1)[0] if "://" in part else part
        try:
            fsspec.get_filesystem_class(protocol)
        except ImportError as exc:
            extra = _EXTRAS.get(protocol)
            fix = f"pip install 'labram[{extra}]'" if extra else f"fsspec says: {exc}"
            raise UsageError(
                f"{redact(text)}: the package that reads {protocol}:// URLs is not installed: {fix}"
            ) from exc
        except ValueError as exc:
            raise UsageError(
                f"{redact(text)}: no file system has the protocol {protocol!r} (fsspec's: "
                "s3://, gs://, memory://, zip::, ...): check the URL, or give a local path"
            ) from exc
