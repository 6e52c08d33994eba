"""What a place being written can refuse, and a whole-file write that failed after its rename.

:data:`PLACE_ERRORS` are the operating-system errors of the disk, quota or permissions (never a
bug of ours), each with what the user does before running the command again: the command line
turns them into one line (:func:`eegprep.cli_group.place_problem`), and so does an ingest for
its store.

:class:`LandedError` is an error of :func:`eegprep.base.files.replaced_atomically` raised after
its rename: the new file is in place, whole, and only the flush of its folder to the disk failed
(``EIO``). Whoever undoes its work on an error must not undo the work such a file vouches for:
an ingest whose index segment had been renamed in removed the recordings that segment listed,
so the store's index named groups that were gone.
"""

from __future__ import annotations

import errno
import os
from typing import TypeVar

from eegprep.base.shown_text import shown_path

PLACE_ERRORS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space (the disk quota is used up)",
    errno.EROFS: "make it writable or pick another place",
    errno.EFBIG: "raise the file size limit or pick another place",
    errno.EACCES: "fix its permissions or pick another place",
    errno.EPERM: "fix its permissions or pick another place",
    errno.EIO: "check the disk (the system log names the failing device) or pick another place",
}
"""What a place a command writes to (its disk, quota or permissions) can refuse, never a bug
of ours, each with what to do before running the command again. ``EIO`` is the disk's own
failure (a bad sector, a device gone, a flush the device could not do): it was "internal
error (a bug)" from every labram command whose write or ``fsync`` met it."""


_E = TypeVar("_E", bound=OSError)


def with_reason(exc: _E, why: str) -> _E:
    """``exc``, an error whose message names its file and what was being done (``Input/output
    error while reading recordings/x/zarr.json``), keeping ``why``, its words alone, for
    :func:`reason`."""
    exc.reason = why  # type: ignore[attr-defined]
    return exc


def reason(exc: OSError) -> str:
    """``exc``'s words without the file it names, for a line that names that file already:
    ``{path}: cannot be read ({strerror})`` of an error made by :func:`with_reason` named the
    file twice (the path, then ``while reading`` it again)."""
    said = getattr(exc, "reason", None) or exc.strerror or str(exc) or type(exc).__name__
    return str(said)


def names_its_file(exc: BaseException) -> bool:
    """Whether ``exc``'s message names its file already (:func:`with_reason`): a line adds
    no ``(path)`` of its own."""
    return isinstance(getattr(exc, "reason", None), str)


class LandedError(OSError):
    """A whole-file write failed after its rename: the new file is in place (whole), but its
    folder could not be flushed to the disk, so a power cut may still undo the rename. Raised
    with the failure's ``errno`` and the file's name."""


def landed(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is a :class:`LandedError`: the file
    that write was making is in place, new. A chain of causes may loop (``raise e from e``,
    where a helper returned the error it was given): each error is looked at once (the loop
    hung ``labram embed`` at an I/O error of a chunk folder's flush)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, LandedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__
    return False


def landed_error(exc: OSError, path: str | os.PathLike[str]) -> LandedError:
    """``exc`` (a folder's flush that failed after ``path`` was renamed in) as a
    :class:`LandedError` naming ``path``."""
    code = exc.errno or errno.EIO
    return LandedError(code, exc.strerror or os.strerror(code), os.fspath(path))


def failed_write(path: str | os.PathLike[str], why: str, exc: BaseException) -> str:
    """The line of a failed whole-file write of ``path`` (``why``: the reason in words): the
    old file is there, or (a :class:`LandedError`) the new one, not yet flushed to the disk
    (it said "what it held before is unchanged" of a file holding the new bytes)."""
    if landed(exc):
        return (
            f"{shown_path(path)}: written, but its folder could not be flushed to the disk "
            f"({why}): a power cut may undo it{then_again(exc)}"
        )
    return (
        f"{shown_path(path)}: cannot write it ({why}); what it held before is "
        f"unchanged{then_again(exc)}"
    )


def then_again(exc: BaseException) -> str:
    """``"; {what to do} and run the same command again"`` for an error of the place
    (:data:`PLACE_ERRORS`), else nothing (what the line says already is what to fix)."""
    todo = PLACE_ERRORS.get(getattr(exc, "errno", None) or 0)
    return f"; {todo} and run the same command again" if todo else ""


__all__ = ["PLACE_ERRORS", "LandedError", "failed_write", "landed", "landed_error", "then_again"]
