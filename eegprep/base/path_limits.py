"""Whether a path a user gives can name a file at all on this system, checked before it is used.

The operating system refuses a path holding a NUL character, one whose name (one component)
is longer than the file system allows (255 bytes on most), and one longer than the path limit
(4096 bytes on Linux), and Python one holding a character its file system encoding cannot
write (outside UTF-8 mode under an ASCII locale); Python then raises ``ValueError``,
``OSError`` or ``UnicodeEncodeError`` from deep inside the command. :func:`check_path` says
so in one line naming the setting instead.
"""

from __future__ import annotations

import os
import re
import sys

from eegprep.base.errors import EegprepError, UsageError
from eegprep.base.shown_text import SHOWN_CHARS as SHOWN_CHARS
from eegprep.base.shown_text import SHOWN_END as SHOWN_END
from eegprep.base.shown_text import shown_path as shown_path
from eegprep.base.write_errors import names_its_file, reason

NAME_MAX_DEFAULT = 255
"""Bytes of one name when the file system does not say (POSIX's usual limit)."""

PATH_MAX_DEFAULT = 4096
"""Bytes of a whole path when the file system does not say (Linux's limit, NUL included)."""


def path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` can name no file here (a NUL character, a name or a whole path longer than
    the file system allows), or ``None`` when it can. The limits are those of the nearest
    folder above ``path`` that exists."""
    text = os.fspath(path)
    if "\x00" in text:
        return "it holds a NUL character, which no path can hold"
    try:
        absolute = os.fsencode(os.path.abspath(text))
    except UnicodeEncodeError as exc:  # (Python not in UTF-8 mode, under an ASCII locale)
        return (
            f"it holds {exc.object[exc.start : exc.end]!r}, which file names cannot hold in "
            f"this process's file system encoding ({sys.getfilesystemencoding()}): run eegprep "
            "under a UTF-8 locale (LANG=C.UTF-8, or PYTHONUTF8=1), or rename it"
        )
    name_max, path_max = _limits(os.path.abspath(text))
    longest = max(absolute.split(b"/"), key=len)
    if len(longest) > name_max:
        return (
            f"one of its names is {len(longest)} bytes long; this file system allows "
            f"{name_max}: shorten it"
        )
    if len(absolute) >= path_max:
        return (
            f"a path of {len(absolute)} bytes; this file system allows {path_max - 1}: give a "
            "shorter one"
        )
    return None


def check_path(
    path: str | os.PathLike[str], setting: str, error: type[UsageError] = UsageError
) -> None:
    """Raise ``error`` when ``path`` can name no file here (:func:`path_problem`), its line
    starting with ``setting`` (``--src``, ``EEGPREP_TUH_DIR names``) and the path."""
    problem = path_problem(path)
    if problem is not None:
        raise error(f"{setting} {shown_path(os.fspath(path))}: {problem}")


def _limits(absolute: str) -> tuple[int, int]:
    """(name, path) byte limits of the file system holding ``absolute``'s nearest existing
    folder."""
    folder = absolute
    while True:
        try:
            if os.path.isdir(folder):
                break
        except (OSError, ValueError):
            pass
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # (no pathconf on Windows)
        return NAME_MAX_DEFAULT, PATH_MAX_DEFAULT


_WILDCARD = re.compile(r"[*?]|\[[^]/]+\]")
"""A shell wildcard: ``*``, ``?`` or a bracket set (``[0-9]``) within one name."""


def unmatched_pattern(path: str | os.PathLike[str]) -> str:
    """What to add to "no such file" of a ``path`` that holds a shell wildcard (``*.edf``,
    ``runs/*/best.pt``, ``rec[0-9].edf``): a shell passes a pattern that matches no file on as
    it is (bash without ``nullglob``), so the line named a file nobody meant; ``""`` otherwise."""
    if not _WILDCARD.search(os.fsdecode(os.fspath(path))):
        return ""
    return " (a shell pattern that matched no file: the shell passed it on as it is)"


def described(exc: BaseException, *, named: bool = False) -> str:
    """``Class: words`` of ``exc``, for a line of ``validate`` or a reader: an ``OSError``'s
    words without its errno and the path it names whole (its ``str()`` adds both, and such a
    line named the file twice, or three times). ``named``: the line names the file already,
    so the words alone (:func:`reason`); else the words that name it once (``Input/output
    error while reading recordings/x/zarr.json``, or the path after the words)."""
    if isinstance(exc, EegprepError):  # (its line says what, and names what it is about)
        return reason(exc) if named and isinstance(exc, OSError) else str(exc)
    if not isinstance(exc, OSError) or not (exc.strerror or names_its_file(exc)):
        return f"{type(exc).__name__}: {exc}"
    if named:
        return f"{type(exc).__name__}: {reason(exc)}"
    words = str(exc.strerror or reason(exc))
    if exc.filename is not None and not names_its_file(exc):
        words += f" ({shown_path(os.fsdecode(exc.filename))})"
    return f"{type(exc).__name__}: {words}"
