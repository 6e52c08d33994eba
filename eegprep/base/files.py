"""Writing a local file so that readers see the old bytes or the new ones, never a part.

Every local file eegprep and labram write whole (checkpoints, embeddings' progress files,
predictions, splits, store objects on a local disk, the test kits' EDF files) goes through
:func:`replaced_atomically` or :func:`write_atomically`. The bytes go to a temporary file beside
the target, named ``{name}.tmp-{8 hex digits}`` (:data:`TMP_MARK`: a store's check and its
recovery after a kill recognise these leftovers), which is then renamed over it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from eegprep.base.disk_sync import sync_folders
from eegprep.base.errors import EegprepError
from eegprep.base.flocks import try_exclusive
from eegprep.base.shown_text import UNSHOWN as UNSHOWN
from eegprep.base.shown_text import as_text as as_text
from eegprep.base.shown_text import shown_name as shown_name
from eegprep.base.shown_text import shown_path
from eegprep.base.write_errors import failed_write, landed_error

TMP_MARK = ".tmp-"
"""What every temporary name carries: ``model.pt.tmp-1f0c9a2e``."""


def temporary_name(
    path: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None
) -> Path:
    """A fresh temporary name for ``path``: beside it, or in ``folder`` when given."""
    path = Path(path)
    name = f"{path.name}{TMP_MARK}{uuid.uuid4().hex[:8]}"
    return Path(folder) / name if folder is not None else path.with_name(name)


@contextlib.contextmanager
def replaced_atomically(
    path: str | os.PathLike[str],
    *,
    durable: bool = False,
    scratch: str | os.PathLike[str] | None = None,
    tidy: bool = False,
    before_replace: Callable[[], None] | None = None,
) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` when the block ends.

    The folder is created if needed. If the block raises (or the process is interrupted), the
    temporary file is removed and ``path`` is left as it was. ``durable``: the bytes are
    flushed to the disk (``fsync``) before the rename, so that a power cut cannot leave an
    empty file under the final name. ``scratch``: a folder on the same file system to hold
    the temporary file instead of ``path``'s own (one that the writer empties after a kill,
    so that a kill before the rename leaves nothing beside ``path``). ``tidy``: once ``path``
    is in place, the temporary files that killed writes of it left beside it are removed
    (:func:`remove_stale_temporaries`). While it is written, the temporary file is held by an
    exclusive ``flock`` of this process, which its end (a kill included) releases: a tidy
    write elsewhere passes it over (torchrun's ranks writing one run file at once: rank 0's
    tidying removed rank 1's temporary file under it, whose rename then failed).
    ``before_replace``: called once the bytes are written (and flushed, ``durable``), just
    before the rename: what must change only when the new file is sure to be whole (a
    checkpoint's ``previous.pt``), and never when its write or flush fails.

    Raises
    ------
    OSError
        The write failed, naming ``path`` (:func:`named_error`): ``path`` is as it was. A
        :class:`~eegprep.base.write_errors.LandedError` when only the flush of the folder
        after the rename failed: ``path`` is the new file, whole.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    tmp = claim_temporary(path, scratch)
    held = _hold(tmp)
    try:
        yield tmp
        if durable:
            fsync_file(tmp)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise named_error(exc, path) from exc
    except BaseException:
        discard(tmp)
        raise
    else:
        if durable:  # (the new name itself, and the temporary one's going: the folders')
            _sync_landed(path, scratch)
    finally:
        if held is not None:
            os.close(held)
    if tidy:  # (the write is done: a leftover that cannot be removed now is left for the next)
        with contextlib.suppress(OSError):
            remove_stale_temporaries(path)


def fsync_file(path: Path) -> None:
    """Flush the bytes of the file ``path`` to the disk (``fsync``); the system's ``OSError``
    as it is (naming no file: the caller names the one it wrote, unlike
    :func:`~eegprep.base.disk_sync.sync_file`)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_landed(path: Path, scratch: str | os.PathLike[str] | None) -> None:
    """Flush the folders of ``path`` (renamed just now) and of ``scratch`` (the temporary
    name's, when it held it); a failure is a :class:`LandedError`: the new file is in place."""
    try:
        sync_folders([path.parent, *([scratch] if scratch is not None else [])])
    except OSError as exc:  # the new file is in place: say so (LandedError)
        raise landed_error(exc, path) from exc


def claim_temporary(
    path: str | os.PathLike[str], scratch: str | os.PathLike[str] | None = None
) -> Path:
    """A fresh :func:`temporary_name` of ``path``, created empty by this process
    (``O_CREAT | O_EXCL | O_NOFOLLOW``): what is written to it then lands in a file this
    process made, never through a link or into a file someone placed under that name before
    (a link planted there would have had the write land in its target). Its folder is made
    if need be; a name taken is passed over for another; a failure to create it is the
    ``OSError`` naming ``path``."""
    folder = Path(scratch) if scratch is not None else Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise named_error(exc, path) from exc
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(16):
        tmp = temporary_name(path, scratch)
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise named_error(exc, path) from exc
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", os.fspath(path))


def named_error(exc: OSError, path: str | os.PathLike[str]) -> OSError:
    """``exc`` naming ``path``, the file being written, instead of its temporary name (or of
    nothing: a write to a full disk names no file): the error the user is shown must say which
    file could not be written. The same ``errno``, so the same subclass (``OSError(13, ...)``
    is a ``PermissionError``); an error that names ``path`` already is returned as it is, and
    so is one of eegprep's own lines (a store read's refusal, :class:`~eegprep.base.errors.
    StoreAccessError`: it names the object of the store that was being read, not ``path``)."""
    if exc.filename is not None and os.fspath(exc.filename) == os.fspath(path):
        return exc
    if exc.errno is None or isinstance(exc, EegprepError):
        return exc
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), os.fspath(path))


class WriteErrorKept:
    """A raw binary file for a library that writes through a file object and hides the
    operating system's error behind its own (``torch.save``'s zip writer says "unexpected pos
    704 vs 598" when the disk is full): each ``write`` writes all its bytes or raises, and the
    first error is kept in :attr:`error` for :func:`written_through` to raise instead."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError as exc:
            self.error = self.error or exc
            raise
        return len(view)

    def flush(self) -> None:
        """Nothing is buffered."""


@contextlib.contextmanager
def written_through(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """``path`` (a temporary file of :func:`replaced_atomically`) opened for a library to write
    through (:class:`WriteErrorKept`); when the block fails after a write did, the write's
    ``OSError`` (a full disk, a file size limit) is raised, naming ``path``, instead of the
    library's own words for it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    out = WriteErrorKept(fd)
    try:
        yield cast(BinaryIO, out)  # what a library takes: it calls write (and flush) only
    except BaseException as exc:
        if out.error is not None and exc is not out.error:
            raise named_error(out.error, path) from exc
        raise
    finally:
        os.close(fd)


def discard(path: str | os.PathLike[str]) -> None:
    """Remove the temporary ``path`` if it is there, on the way out of a failed write: a
    failure to remove it (its folder never made, a file where a folder should be) must not
    hide the error that ended the write, which is the one to report."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _hold(tmp: Path) -> int | None:
    """A descriptor of the temporary file ``tmp`` holding an exclusive ``flock`` on it while
    :func:`replaced_atomically` writes it; None where none can be taken (no ``flock`` here)."""
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    if try_exclusive(fd).state == "held":
        return fd
    os.close(fd)
    return None


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that killed writes of ``path`` left beside it; returns them.

    Only regular files named exactly ``{name}.tmp-{8 hex digits}`` (:func:`temporary_name` of
    this very ``path``) are removed: a ``kill -9`` between writing one and renaming it leaves
    it for good (a whole model, for a checkpoint). One a write holds with its ``flock``
    (:func:`replaced_atomically`: a write running now, in this process or another) is left
    alone. Call it once a write of ``path`` has succeeded: a write of ``path`` running
    elsewhere without that lock then fails at its rename, with its own one-line error, and
    never leaves a part of a file under ``path``.
    """
    removed = []
    for stale in stale_temporaries(path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
            removed.append(stale)
    return removed


def stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary files killed writes of ``path`` left beside it: regular files named
    exactly ``{name}.tmp-{8 hex digits}``, less those a write holds now (its ``flock``); none
    where the folder cannot be listed."""
    path = Path(path)
    own = re.compile(re.escape(path.name + TMP_MARK) + "[0-9a-f]{8}")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    return [
        Path(entry.path)
        for entry in entries
        if own.fullmatch(entry.name)
        and entry.is_file(follow_symlinks=False)
        and not _written_now(entry.path)
    ]


def _written_now(temporary: str) -> bool:
    """Whether a write holds ``temporary`` with its ``flock`` (:func:`_hold`) now."""
    try:
        fd = os.open(temporary, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return try_exclusive(fd).state == "busy"
    finally:
        os.close(fd)


_TEMPORARY = re.compile(".+" + re.escape(TMP_MARK) + "[0-9a-f]{8}")


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` (a file name, no folder) is of a temporary file of
    :func:`temporary_name`: ``{name}.tmp-{8 hex digits}``."""
    return _TEMPORARY.fullmatch(name) is not None


def write_atomically(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    durable: bool = False,
    scratch: str | os.PathLike[str] | None = None,
    tidy: bool = False,
) -> None:
    """``path`` holds ``data`` afterwards, or what it held before; never a part of either
    (``scratch``, ``tidy``: :func:`replaced_atomically`)."""
    with replaced_atomically(path, durable=durable, scratch=scratch, tidy=tidy) as tmp:
        tmp.write_bytes(data)


def enclosing_store(path: str | os.PathLike[str]) -> Path | None:
    """The eegprep store that ``path`` is or lies in (a folder holding a ``zarr.json`` file and
    an ``_eegprep`` folder, looked for from ``path`` up, links resolved); ``None`` outside one.
    ``path`` need not exist yet."""
    here = Path(os.path.realpath(os.path.abspath(os.fspath(path))))
    for folder in (here, *here.parents):
        if (folder / "zarr.json").is_file() and (folder / "_eegprep").is_dir():
            return folder
    return None


def check_outside_stores(path: str | os.PathLike[str], what: str) -> None:
    """Refuse, as an :class:`~eegprep.base.errors.OutputError`, an output ``path`` (a plot, an
    HTML report, a demo corpus: ``what`` names it) that is or lies in an eegprep store: there it
    would overwrite the store's own objects (its root ``zarr.json``, its index) or be taken for
    damage by ``eegprep validate``; or in any other Zarr hierarchy (a ``labram embed`` output: a
    folder at or above ``path`` holds a ``zarr.json`` or v2's ``.zgroup``), whose readers own
    every object in it."""
    from eegprep.base.errors import OutputError

    store = enclosing_store(path)
    if store is not None:
        raise OutputError(
            f"{as_text(os.fspath(path))}: inside the eegprep store {as_text(str(store))}; "
            f"{what} would overwrite or clutter the store's own objects there: pick a path "
            "outside every store"
        )
    folder = enclosing_zarr(Path(os.path.abspath(os.fspath(path))) / "_")  # path itself too
    if folder is not None:
        raise OutputError(
            f"{as_text(os.fspath(path))}: inside the Zarr store {as_text(str(folder))} (an "
            f"embeddings store or another Zarr hierarchy); {what} would clutter its "
            "objects there: pick a path outside every store"
        )


def enclosing_zarr(path: Path) -> Path | None:
    """The outermost folder above ``path`` that holds a Zarr group (``zarr.json``, or v2's
    ``.zgroup``): the store's root, if ``path`` is inside one."""
    folder = Path(os.path.realpath(path.parent))
    found = None
    for parent in (folder, *folder.parents):
        if (parent / "zarr.json").is_file() or (parent / ".zgroup").is_file():
            found = parent
    return found


def write_output(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a file a command makes outside the store (a plot, an HTML report) whole or not at
    all: a kill, a full disk or a file size limit leaves what ``path`` held before, and its
    bytes are on the disk (``fsync``) before they take its name, so that a power cut cannot
    leave it empty. A link at ``path`` is replaced, never written through; the temporary files
    a killed write of ``path`` left beside it are removed once it is written. An
    operating-system error, something at ``path`` that is no file (a folder, a FIFO, a device:
    the rename would replace a device node), or a ``path`` inside an eegprep store
    (:func:`check_outside_stores`), is an :class:`~eegprep.base.errors.OutputError` naming
    the file."""
    from eegprep.base.errors import OutputError

    check_outside_stores(path, "an output file")
    _check_a_file(path)
    _check_same_kind(path, data)
    try:
        write_atomically(path, data, durable=True, tidy=True)
    except OSError as exc:
        raise OutputError(failed_write(path, write_problem(path, exc), exc)) from exc


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` that is no regular file is, in words: ``"a FIFO"``,
    ``"a device"``, ``"a socket"``, else ``"not a regular file"``."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _check_a_file(path: str | os.PathLike[str]) -> None:
    """Refuse an output ``path`` where something stands that is neither a file nor a link (a
    folder, a FIFO, a device, a socket): a rename over a FIFO or a device replaced it with the
    output without a word (``--html /dev/null`` as root, the system's null device)."""
    from eegprep.base.errors import OutputError

    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return  # nothing there (or the write itself says what is wrong)
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return
    kind = "a folder" if stat.S_ISDIR(mode) else special_kind(mode)
    raise OutputError(
        f"{shown_path(path)}: exists and is {kind}, not a file: it is kept; give another path for "
        "the output"
    )


def write_problem(path: str | os.PathLike[str], exc: BaseException) -> str:
    """Why ``path`` (a file or folder to create) could not be written, in words:
    :func:`file_in_the_way`, else the system's reason ('No such file or directory', 'Permission
    denied')."""
    return file_in_the_way(path) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def file_in_the_way(path: str | os.PathLike[str]) -> str | None:
    """``'{folder} is a file, not a folder'`` when a file stands where a folder of ``path``'s
    should be (which ``mkdir`` and ``open`` report as the baffling 'File exists' or 'Not a
    directory'); ``None`` otherwise."""
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a folder"
    return None


OUTPUT_KINDS = {b"<!doctype html": "an HTML page", b"\x89PNG\r\n\x1a\n": "a PNG image"}
"""The outputs :func:`write_output` writes, by their first bytes (HTML: any letter case)."""


def check_page_replaceable(path: str | os.PathLike[str]) -> None:
    """Refuse, before a command prints or computes anything, an ``--html`` page ``path`` that
    exists and is not an HTML page (:func:`_check_same_kind`, which the write itself applies
    again): `stats --html notes.txt` printed the whole table, then refused."""
    _check_same_kind(path, b"<!doctype html")


def _check_same_kind(path: str | os.PathLike[str], data: bytes) -> None:
    """Refuse to replace an existing file that is not of ``data``'s kind
    (:data:`OUTPUT_KINDS`): ``--html runs/tuab/results.json`` wrote the page over the run's
    results. An empty file, or data of no listed kind, is not checked."""
    from eegprep.base.errors import OutputError

    kind = next((k for k in OUTPUT_KINDS if data[: len(k)].lower() == k.lower()), None)
    if kind is None or not os.path.isfile(path):
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(kind))
    except OSError:
        return  # the write itself says what is wrong
    if head and head.lower() != kind.lower():
        raise OutputError(
            f"{shown_path(path)}: exists and is not {OUTPUT_KINDS[kind]} (it starts {head[:8]!r}): "
            "it is kept; give another path for the output, or delete it first"
        )


FileVersion = tuple[int, int, int, int]
"""``(mtime ns, size bytes, ctime ns, inode)``: what tells one version of a file from another
without reading it. The ctime (set by every write and ``utime``, settable by no program) and
inode keep a file rewritten with its size and mtime restored from passing for the old one.
Each is a signed 64-bit integer (:func:`as_int64`), so that strict JSON holds it."""


def as_int64(n: int) -> int:
    """``n`` as the signed 64-bit integer of its low 64 bits (two's complement): a time in ns
    after 2262 or before 1677 (ext4 dates files up to 2446, btrfs further) and an inode above
    2^63 (some network file systems) fit a store's strict JSON, and two values stay apart
    unless they differ by a multiple of 2^64 (584 years of ns)."""
    return ((n + 2**63) % 2**64) - 2**63


def file_version(path: str | os.PathLike[str]) -> FileVersion:
    """:data:`FileVersion` of ``path`` (``OSError`` when it cannot be stat-ed): the key of every
    in-process cache of a parsed file, and the stamps an ingest keeps of a source file. A file
    dated past 2262 was refused as a record field 'which the store cannot hold'."""
    st = os.stat(path)
    return (as_int64(st.st_mtime_ns), st.st_size, as_int64(st.st_ctime_ns), as_int64(st.st_ino))


def as_text_all(value: Any) -> Any:
    """``value`` with :func:`as_text` applied to every string in it (nested lists and dicts,
    keys too)."""
    if isinstance(value, str):
        return as_text(value)
    if isinstance(value, dict):
        return {as_text_all(k): as_text_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_text_all(v) for v in value]
    return value
