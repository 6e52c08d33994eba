"""Which exceptions of a store's file system are its refusals, and how a line says them.

A call of an fsspec backend (``s3://``, ``gs://``, ``memory://``, ``local://``) may fail with
any ``OSError`` (``PermissionError``; ``OSError("Connection reset")`` with no errno or file
name) or with an exception of the backend's own class (botocore's ``ClientError``): each is the
service's refusal, not a bug of ours, and :class:`~eegprep.store.fs.Location` turns it into one
line naming the object (:meth:`~eegprep.store.fs.Location.refused`). Python's exceptions of a
program's mistake (:data:`BUGS`) stay what they are.
"""

from __future__ import annotations

import errno

from eegprep.base.errors import EegprepError

ABSENT = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError)
"""The errors of a file system that say what is (not) there, not that it refused: callers
act on them (a folder that does not exist lists as empty), so they keep their class."""

BUGS = (
    TypeError, AttributeError, NameError, AssertionError, NotImplementedError, RecursionError,
    LookupError, ArithmeticError, MemoryError, ImportError, SyntaxError,
)  # fmt: skip
"""Python's exceptions of a program's mistake: raised in a file system's call they stay what
they are (a bug, with its traceback under ``-v``), never a store's refusal."""

GERUNDS = {"read": "reading", "write": "writing", "rename": "renaming", "delete": "deleting",
           "list": "listing", "check": "checking"}  # fmt: skip
"""What was being done, as :meth:`~eegprep.store.fs.Location.failed` says it."""


def refusal(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a call of a store's file system, is that file system's (or
    its service's) refusal or failure: any ``OSError``, and any exception of a backend's own
    class (botocore's ``ClientError``, aiohttp's, a service's ``HttpError``) or of Python's
    that is not a program's mistake (:data:`BUGS`); never eegprep's or labram's own."""
    if not isinstance(exc, Exception) or isinstance(exc, EegprepError):
        return False
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, BUGS):
        return False
    return type(exc).__module__.split(".")[0] not in ("eegprep", "labram")


DECODERS = ("zarr", "numcodecs", "numpy", "json", "google_crc32c", "blosc", "eegprep", "labram")
"""The packages that read a store's bytes: an exception raised in their code is about those
bytes (damage), never the file system's refusal
(:meth:`~eegprep.store.fs.Location.decoded_refusal`)."""


def raised_in(exc: BaseException) -> str:
    """The top package of the code that raised ``exc`` (its innermost frame)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    path = tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/")
    for k in range(len(path) - 2, -1, -1):  # its folders, the innermost first
        if path[k] in ("eegprep", "labram"):
            return path[k]
        if path[k] in ("site-packages", "dist-packages") or path[k].startswith("python3"):
            return path[k + 1].split(".")[0]  # (the package, or a module file's name)
    return path[-2] if len(path) > 1 else ""


CANNOT = {"read": "cannot read it", "write": "cannot write it", "rename": "cannot rename it",
          "delete": "cannot delete it", "list": "cannot list it",
          "check": "cannot reach it"}  # fmt: skip
"""What a refusal stopped, by what was being done (:meth:`~eegprep.store.fs.Location.refused`)."""


def what_to_do(exc: BaseException, *, remote: bool) -> str:
    """What the user does about a refusal of the store's file system (``remote``: an fsspec
    backend's service), then runs the command again."""
    from eegprep.base.write_errors import PLACE_ERRORS

    code = exc.errno if isinstance(exc, OSError) else None
    denied = isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM)
    if remote and denied:
        todo = "check the credentials and the permissions on it"
    elif code in PLACE_ERRORS:
        todo = PLACE_ERRORS[code]
    else:
        todo = "check the connection, the credentials and the service"
    return f"{todo}, and run the same command again"
