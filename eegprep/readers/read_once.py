"""A header file read and parsed once per read of a recording, whatever number of checks need it.

A reader's checks each take the path (a BrainVision ``.vhdr``'s companions, fields and lines
MNE is given; an EDF's raw header and fields, read through MNE; a GDF's records, labels, units
and events; an EEGLAB ``.set``'s samples file and MAT version; a CNT's checks), and each parsed
it again: a ``.vhdr`` was opened 27 times per read of its recording, a ``.set`` 29. A read
of a header runs inside :func:`one_read`, and the parses marked :func:`once` are kept for it
alone: keyed by the function, its arguments and the file's identity (path, device, inode,
size and modification time in ns), so a file changed during the read is parsed again, never
served the parse of its former bytes. A parse that raises is not kept (the next caller sees
it raise again).

Outside :func:`one_read` nothing is kept: each call parses. Nothing outlives the outermost
:func:`one_read` (a nested one shares its parses); the parses are this thread's and this
process's own (a :class:`~contextvars.ContextVar`), never shared between processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_KEPT: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = contextvars.ContextVar(
    "eegprep_read_once", default=None
)


@contextlib.contextmanager
def one_read() -> Iterator[None]:
    """The parses of :func:`once` kept until the outermost ``one_read`` ends (one read of a
    recording's header), then dropped."""
    if _KEPT.get() is not None:  # (an outer read's parses are this one's)
        yield
        return
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def n_kept() -> int:
    """How many parses the current read keeps (0 outside :func:`one_read`)."""
    kept = _KEPT.get()
    return 0 if kept is None else len(kept)


def file_identity(path: str) -> tuple[int, int, int, int] | None:
    """``(st_dev, st_ino, st_size, st_mtime_ns)`` of ``path`` (links followed); None when it
    cannot be examined (the parse then runs, and says why)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def once(parse: Callable[P, T]) -> Callable[P, T]:
    """``parse`` (whose first argument is the path of the file it reads, the rest hashable)
    run once per file identity and arguments within :func:`one_read`; each caller of that read
    gets its own deep copy of the result (a caller that changes what it got, a list it sorts or
    extends, changes no other caller's: a header's parse is small, its copy microseconds)."""

    @functools.wraps(parse)
    def kept_parse(*args: P.args, **kwargs: P.kwargs) -> T:
        kept = _KEPT.get()
        identity = None if kept is None else file_identity(str(args[0]))
        if kept is None or identity is None:
            return parse(*args, **kwargs)
        key = (parse, identity, args, tuple(sorted(kwargs.items())))
        try:
            found = key in kept
        except TypeError:  # (an argument that is no key: not kept)
            return parse(*args, **kwargs)
        if not found:
            kept[key] = parse(*args, **kwargs)
        return copy.deepcopy(kept[key])  # type: ignore[no-any-return]

    return kept_parse
