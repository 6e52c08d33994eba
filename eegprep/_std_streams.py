"""Standard streams a command was started without (``eegprep stats S >&-``, ``... 2>&-``).

A descriptor 0, 1 or 2 closed at start is the lowest free one, so the first file the command
opens and keeps takes it: ``eegprep ingest --out S >&-`` held the store's lock file as its
standard output, and anything writing to descriptor 1 by number (a library's C code, a child
process) wrote into the store. Python sets ``sys.stdout`` (``sys.stderr``, ``sys.stdin``) to
None for a closed one: ``print`` and click then drop what is written without a word (a command
whose output was lost exited 0), and code that asks ``sys.stderr.isatty()`` failed as a bug.

:func:`reopen_closed` puts the null device on each closed descriptor before anything else is
opened, and gives Python a stream on it: the standard output's counts what is written to it.
:func:`lost_output_status` then decides as coreutils does (``ls >&-``: "write error: Bad file
descriptor", status 2): output the command had to write and could not is a failure, status 2
(of a success, or of a command that skipped some inputs and did the others, status 3),
with one line on the standard error if that is open; a command that wrote nothing to it keeps
its status. Lines meant for a closed standard error are dropped and the status is unchanged, as
for one that cannot be written (``2> /dev/full``, docs/cli.md).
"""

from __future__ import annotations

import io
import os
import sys

EXIT_LOST_OUTPUT = 2
"""The status of a command whose output could not be written (coreutils' for ``ls >&-``)."""

EXIT_PARTLY_DONE = 3
"""The status of a command that went on past inputs it skipped (an ingest, ``labram predict``,
``embed``, ``report``, ``eegprep stats``: :data:`eegprep.ingestion.driver.EXIT_SOME_FAILED`),
whose line says the others were done: their output lost is status 2 too (it was 3, silent)."""


class _CountingNull(io.FileIO):
    """The null device as the standard output's raw file, counting the bytes written to it."""

    written = 0

    def write(self, b: object) -> int:
        n = super().write(b)  # type: ignore[arg-type]
        self.written += n or 0
        return n or 0


_closed: set[int] = set()
_stdout_raw: list[_CountingNull] = []


def reopen_closed() -> set[int]:
    """Put the null device on each of descriptors 0, 1 and 2 that is closed, and a Python stream
    on it where Python set None (``sys.stdin`` reads nothing, ``sys.stderr`` drops what it is
    given, ``sys.stdout`` counts it); returns the descriptors that were closed. Call it before
    anything else opens a file."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:  # (the lowest free descriptor: it is fd, unless one below was too)
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)  # (a child process, a worker, gets it as its own: else
            _closed.add(fd)  # the first file a worker keeps would become its standard stream)
    if 0 in _closed and sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - for the process
    if 1 in _closed and sys.stdout is None:
        raw = _CountingNull(1, "w", closefd=False)
        _stdout_raw.append(raw)
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
    if 2 in _closed and sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    return set(_closed)


def lost_output_status(status: object, prog: str) -> object:
    """The exit status of a command that ended with ``status`` (a ``SystemExit`` code): the
    same, unless it is a success (or :data:`EXIT_PARTLY_DONE`: some inputs skipped, the others
    done) and wrote to a standard output that was closed at start, then
    :data:`EXIT_LOST_OUTPUT` after one ``error:`` line on the standard error (if that is open).
    ``prog``: the command's name, for the line."""
    if not _stdout_raw or status not in (0, None, EXIT_PARTLY_DONE):
        return status
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass
    if not _stdout_raw[0].written:
        return status
    if 2 not in _closed:
        try:
            sys.stderr.write(
                f"error: write error: the standard output was closed when {prog} started (Bad "
                "file descriptor), so its output is lost: run it with an open one (> /dev/null "
                "to drop it)\n"
            )
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
    return EXIT_LOST_OUTPUT


__all__ = ["EXIT_LOST_OUTPUT", "EXIT_PARTLY_DONE", "lost_output_status", "reopen_closed"]
