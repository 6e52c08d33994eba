"""The one line for a process that finds no temporary folder it can write.

Python's :func:`tempfile.gettempdir` tries ``$TMPDIR``, ``$TEMP``, ``$TMP``, ``/tmp``,
``/var/tmp``, ``/usr/tmp`` and the working folder, and raises ``FileNotFoundError`` ("No usable
temporary directory found in [...]") where none can be written. Libraries call it on their own
(torch when its optimizers are first made, matplotlib for a cache it cannot keep at home), so
the error can come from any command, and was an internal error.
"""

from __future__ import annotations

import errno
import os

from eegprep.base.shown_text import quoted_path

_TEMPFILE_MESSAGE = "No usable temporary directory found in "
"""The start of :mod:`tempfile`'s message (its ``strerror``), followed by the folders tried."""


def no_temporary_folder(exc: OSError) -> str | None:
    """One line for ``exc`` when it is :mod:`tempfile` finding no writable temporary folder:
    the folders tried and ``TMPDIR`` to set; ``None`` for any other error."""
    strerror = exc.strerror or ""
    if exc.errno != errno.ENOENT or exc.filename is not None:
        return None
    if not strerror.startswith(_TEMPFILE_MESSAGE):
        return None
    tried = strerror.removeprefix(_TEMPFILE_MESSAGE)
    tmpdir = os.environ.get("TMPDIR")
    said = f"TMPDIR is {quoted_path(tmpdir)}" if tmpdir else "TMPDIR is not set"
    return (
        f"no temporary folder can be written ({said}; tried {tried}); set TMPDIR to a folder "
        "you can write and run the same command again"
    )
