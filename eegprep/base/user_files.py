"""Reading a small file a user names (the config file, a manifest, a ``--config`` or
``--splits`` file, the files of a run folder or beside a checkpoint): a regular file of at most
:data:`USER_FILE_LIMIT` bytes (or the caller's limit), or one line of error naming it.

A settings file as Windows tools save it reads as the plain UTF-8 file (:func:`read_user_text`):
a UTF-8 or UTF-16 byte-order mark (Notepad, Excel's "Unicode Text"), ``\\r\\n`` line ends and a
Ctrl-Z ending it (a DOS tool's end of text) are no part of its text.

A FIFO (``mkfifo``) or a device (``/dev/zero``) would block the command forever or fill
its memory, and a file of gigabytes is not a settings file: each is refused before a byte is
read. The file is opened without blocking and checked through its open descriptor, so a path
swapped for a pipe between a check and the read cannot hang the command either.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.files import special_kind
from eegprep.base.path_limits import shown_path, unmatched_pattern
from eegprep.base.text import DOS_END, UTF16_MARKS, line_at
from eegprep.base.unchanged_reads import unchanged_while_read

USER_FILE_LIMIT = 16 * 2**20
"""The largest settings file read, bytes (the largest shipped manifest is under 10 KiB)."""


def read_user_file(
    path: str | os.PathLike[str],
    what: str,
    error: type[UsageError] = ConfigError,
    *,
    limit: int = USER_FILE_LIMIT,
    changed: Callable[[str], Exception] | None = None,
) -> bytes:
    """The bytes of the ``what`` (``"config file"``) at ``path``; ``error`` with one line
    naming the file when it is missing (or a link to nothing), a folder, not a regular file,
    unreadable or larger than ``limit`` bytes, or rewritten in place while it was read
    (:mod:`eegprep.base.unchanged_reads`: a writer saving it meanwhile; the start of one
    version and the end of another can parse): ``changed`` then, when given (a
    :class:`~eegprep.base.errors.ChangedFileError`, for a caller that takes every other error
    for a damaged file). The null device reads as an empty file (``EEGPREP_CONFIG=/dev/null``:
    no settings)."""
    f = open_user_file(path, what, error, limit=limit)
    if f is None:
        return b""
    with (
        f,
        unchanged_while_read(f, path, changed or error),
    ):  # (rewritten in place meanwhile: refused)
        try:
            raw = f.read(limit + 1)
        except OSError as exc:
            raise error(f"{_named(path)}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(raw) > limit:  # (grown since it was opened)
        raise _too_large(path, what, limit, error)
    return raw


def read_user_text(
    path: str | os.PathLike[str],
    what: str,
    error: type[UsageError] = ConfigError,
    *,
    limit: int = USER_FILE_LIMIT,
) -> str:
    """The text of the ``what`` at ``path`` (:func:`read_user_file`), as :func:`user_text`
    decodes it."""
    return user_text(read_user_file(path, what, error, limit=limit), path, what, error)


def user_text(
    raw: bytes, path: str | os.PathLike[str], what: str, error: type[UsageError] = ConfigError
) -> str:
    """``raw``, the bytes of the ``what`` at ``path``, as the text its user wrote: UTF-8, or
    UTF-16 where a byte-order mark starts it; the mark, the Ctrl-Z ending it and the ``\\r``
    of each ``\\r\\n`` left out (a ``\\r`` alone kept: JSON reads it as blank space, TOML
    refuses it). ``error`` with one line naming the file and the line an editor shows of the
    first byte that is no character of its encoding, or of a NUL byte (a binary file)."""
    encoding = "utf-16" if raw[:2] in UTF16_MARKS else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_of_byte(exc.object, exc.start, encoding)  # (after a UTF-8 mark: its own)
        if encoding == "utf-16":
            problem = f"not UTF-16 text, as its byte-order mark says (line {line})"
        else:
            bad = exc.object[exc.start : exc.start + 1].hex()
            problem = f"not UTF-8 text (byte 0x{bad} on line {line})"
        raise error(f"{_named(path)}: {problem}: save the {what} as UTF-8") from None
    if "\0" in text:
        line = line_at(text, text.index("\0"))
        raise error(
            f"{_named(path)}: a NUL byte on line {line}: a binary file, not a {what} of text"
        )
    return text.rstrip(DOS_END).replace("\r\n", "\n")


def _line_of_byte(raw: bytes, at: int, encoding: str) -> int:
    """The line (from 1, as an editor numbers them) of the byte at offset ``at`` of ``raw``."""
    before = raw[:at].decode(encoding, errors="replace")
    return line_at(before, len(before))


def open_user_file(
    path: str | os.PathLike[str],
    what: str,
    error: type[UsageError] = ConfigError,
    *,
    limit: int = USER_FILE_LIMIT,
) -> BinaryIO | None:
    """The file ``path`` open for reading in binary, once it is a regular file of at most
    ``limit`` bytes (checked on the open descriptor, before a byte is read), for a reader that
    streams it (a CSV table); ``error`` as :func:`read_user_file` raises it otherwise. None for
    the null device (an empty file). The caller closes it."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if os.path.islink(p):
            raise error(
                f"{_named(p)}: the {what} is a link to {_named(os.readlink(p))}, which does not "
                "exist"
            ) from None
        raise error(f"{_named(p)}: {what} not found{unmatched_pattern(p)}") from None
    except IsADirectoryError:
        raise error(f"{_named(p)}: a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"{_named(p)}: cannot read the {what}: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISCHR(st.st_mode) and _is_null_device(p):
            return None
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{_named(p)}: a folder, not a {what}")
        raise error(f"{_named(p)}: {special_kind(st.st_mode)}, not a {what}: give the file itself")
    if st.st_size > limit:
        os.close(fd)
        raise _too_large(p, what, limit, error)
    return os.fdopen(fd, "rb")


def _too_large(
    path: str | os.PathLike[str], what: str, limit: int, error: type[UsageError]
) -> UsageError:
    return error(
        f"{_named(path)}: larger than {limit // 2**20} MiB, too large for a {what}: is it the "
        "right file?"
    )


def _named(path: str | os.PathLike[str]) -> str:
    """``path`` as an error line names it: exactly, a newline or other control character
    escaped (shown as a space, it named another file)."""
    return shown_path(os.fspath(path))


def _is_null_device(path: Path) -> bool:
    try:
        return os.path.samefile(path, os.devnull)
    except OSError:
        return False
