"""A store read from a zip file: ``zip -r store.zip store.zarr`` (the folder zipped whole) or
``cd store.zarr && zip -r ../store.zip .`` (zipped from inside), on a local disk or behind any
fsspec URL (``memory://x/store.zip``, ``zip::s3://bucket/store.zip``).

Such a store is read through fsspec's zip file system, which is read-only: every command that
writes refuses it (:func:`eegprep.ingestion.options.writable_location`). A zip file is known by
its first bytes, not by its name (:mod:`eegprep.store.fs` asks, without importing this module
and fsspec for a local folder); one that cannot be read is one line naming it.
"""

from __future__ import annotations

import errno
import zipfile
import zlib
from typing import Any

from fsspec.implementations.zip import ZipFileSystem

from eegprep.base.errors import StoreFormatError
from eegprep.base.path_limits import described
from eegprep.base.redact import redact
from eegprep.store.refusals import raised_in

ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError)
"""What :mod:`zipfile` raises, besides ``OSError`` and ``ValueError``, for an archive or a
member it cannot read (a cut file, a member failing its CRC-32 or its inflation, an unknown
compression method): none of them an ``OSError``."""


class ZipFiles(ZipFileSystem):  # type: ignore[misc]
    """fsspec's zip file system, whose reads of a damaged member fail as every damaged read of
    a store does: an ``OSError`` (``EIO``) naming the member, which ``validate`` reports as a
    problem and the commands as one line, not :mod:`zipfile`'s own errors."""

    def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                 **kwargs: Any) -> bytes:  # fmt: skip
        try:
            return bytes(super().cat_file(path, start=start, end=end, **kwargs))
        except ZIP_ERRORS as exc:
            why = f"damaged in its zip file ({described(exc)})"
            raise OSError(errno.EIO, why, path) from None

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        try:
            return super()._open(path, mode, **kwargs)
        except KeyError:  # zipfile's word for a missing member, which fsspec before 2026.9
            # passed on: zarr (probing for a member) and eegprep expect FileNotFoundError
            raise FileNotFoundError(errno.ENOENT, "no such member in the zip file", path) from None


def is_zip_fs(fs: Any) -> bool:
    """Whether the fsspec file system ``fs`` reads a zip file."""
    names = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return "zip" in {str(n) for n in names}


def open_zip(
    shown: str, target: str, target_options: dict[str, Any] | None = None, *, remote: bool = False
) -> Any:
    """fsspec's (read-only) zip file system over the zip file ``target`` (a local path or an
    fsspec URL; ``target_options``: its file system's options), made afresh each time (a zip
    file replaced since it was last opened is read anew). A file that is no zip archive, or a
    cut one, is a :class:`StoreFormatError` naming ``shown``. ``remote``: ``target`` is read
    through an fsspec backend, whose refusal (an ``OSError`` raised outside :mod:`zipfile`, or
    an exception of its own class) is raised as it is, for the caller to name
    (:meth:`~eegprep.store.fs.Location.calling`): it was "a zip file that cannot be read: zip
    the store again", or "no eegprep store here"."""
    try:
        return ZipFiles(fo=target, target_options=target_options or {}, skip_instance_cache=True)
    except (OSError, ValueError, *ZIP_ERRORS) as exc:
        if remote and isinstance(exc, OSError) and raised_in(exc) != "zipfile":
            raise
        why = " ".join(redact(str(exc) or type(exc).__name__).split())
        raise StoreFormatError(
            f"{redact(shown)}: a zip file that cannot be read ({why}): zip the store again "
            "(`zip -r store.zip store.zarr`), or give the store's folder"
        ) from None


def as_zip_files(fs: Any) -> Any:
    """The zip file system ``fs`` as :class:`ZipFiles`: a ``zip::`` URL makes fsspec's own
    class, whose reads of a damaged or missing member raise :mod:`zipfile`'s errors. The same
    archive is opened again with the same arguments (a copy already open is kept as it is)."""
    if isinstance(fs, ZipFiles):
        return fs
    return ZipFiles(*fs.storage_args, **{**fs.storage_options, "skip_instance_cache": True})


def store_root(fs: Any, root: str) -> str:
    """Where in the zip file system ``fs`` the store is: ``root`` when it holds a ``zarr.json``
    (zipped from inside), else the one folder below it that holds one (a store folder zipped
    whole; a ``__MACOSX`` folder beside it holds none), else ``root``."""
    root = root.strip("/")

    def join(*parts: str) -> str:
        return "/".join(p for p in (root, *parts) if p)

    try:
        if fs.exists(join("zarr.json")):
            return root
        below = [str(e).rstrip("/").rsplit("/", 1)[-1] for e in fs.ls(root, detail=False)]
        held = [name for name in below if fs.exists(join(name, "zarr.json"))]
    except (OSError, ValueError, *ZIP_ERRORS):
        return root
    return join(held[0]) if len(held) == 1 else root
