"""A header file read and parsed once per read of a recording, whatever number of checks need it.

A reader's checks each take the path (a BrainVision ``.vhdr``'s companions, fields and lines
MNE is given; an EDF's raw header and fields, read through MNE; a GDF's records, labels, units
and events; an EEGLAB ``.set``'s samples file and MAT version; a CNT's checks), and each parsed
it again: a ``.vhdr`` was opened 27 times per read of its recording, a ``.set`` 29. A read
of a header runs inside :func:`one_read`, and the parses marked :func:`once` are kept for it
alone: keyed by the function, its arguments and the identity of the file it parses (device,
inode, size, and modification and change times in ns: the stamps
:func:`~eegprep.base.files.file_version` keys a file's parse by), so a file changed during the
read, even rewritten at its size with its modification time put back, is parsed again, never
served the parse of its former bytes. A parse that raises is not kept (the next caller sees
it raise again). A parse whose result does not depend on the name it was given
(``named=False``) serves every name of the file: the link MNE is given to a held file
(:mod:`eegprep.readers.mne_held`) is the file it links to.

Every reader's :meth:`~eegprep.readers.base.Reader.read_header` and
:meth:`~eegprep.readers.base.Reader.parts` run inside :func:`one_read`
(:class:`~eegprep.readers.base.Reader` wraps them): this is the one cache of a header's parse;
no reader keeps one of its own beyond the read.

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
from typing import Any, ParamSpec, TypeVar, overload

P = ParamSpec("P")
T = TypeVar("T")

_KEPT: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = contextvars.ContextVar(
    "eegprep_read_once", default=None
)


def in_one_read(read: Callable[P, T]) -> Callable[P, T]:
    """``read`` run inside :func:`one_read` (a reader's ``read_header`` and ``parts``)."""

    @functools.wraps(read)
    def one(*args: P.args, **kwargs: P.kwargs) -> T:
        with one_read():
            return read(*args, **kwargs)

    return one


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


def file_identity(path: str) -> tuple[int, int, int, int, int] | None:
    """``(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)`` of ``path`` (links followed);
    None when it cannot be examined (the parse then runs, and says why)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@overload
def once(parse: Callable[P, T], /) -> Callable[P, T]: ...


@overload
def once(
    *, files: tuple[int, ...] = (0,), named: bool = True, copied: bool = True
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


def once(
    parse: Callable[P, T] | None = None,
    /,
    *,
    files: tuple[int, ...] = (0,),
    named: bool = True,
    copied: bool = True,
) -> Any:
    """``parse`` run once per file identity and arguments within :func:`one_read`.

    Parameters
    ----------
    parse : callable
        Its positional arguments at ``files`` are the paths of the files it reads; the rest
        hashable.
    files : tuple of int
        Where the paths of the files it parses stand among its positional arguments (the first
        by default: a marker file's parse is keyed by the marker file, not its header).
    named : bool
        False where the result depends on the files' bytes alone: their names are left out of
        the key, so a link to a file (a held one, :mod:`eegprep.readers.mne_held`) is served
        the file's parse.
    copied : bool
        Each caller of the read gets its own deep copy of the result (a caller that changes
        what it got, a list it sorts or extends, changes no other caller's: a header's parse is
        small, its copy microseconds); False for a result immutable throughout (frozen
        dataclasses of tuples, text, numbers), handed out as is (a marker file's 100,000
        markers are not copied at each call).
    """

    def decorate(function: Callable[P, T]) -> Callable[P, T]:
        return _kept(function, files, named, copied)

    return decorate if parse is None else decorate(parse)


def _kept(
    parse: Callable[P, T], files: tuple[int, ...], named: bool, copied: bool
) -> Callable[P, T]:
    """``parse`` kept by :func:`once`."""

    @functools.wraps(parse)
    def kept_parse(*args: P.args, **kwargs: P.kwargs) -> T:
        kept = _KEPT.get()
        if kept is None or len(args) <= max(files):
            return parse(*args, **kwargs)
        identities = tuple(file_identity(str(args[i])) for i in files)
        if None in identities:
            return parse(*args, **kwargs)
        given = args if named else tuple(a for i, a in enumerate(args) if i not in files)
        key = (parse, identities, given, tuple(sorted(kwargs.items())))
        try:
            found = key in kept
        except TypeError:  # (an argument that is no key: not kept)
            return parse(*args, **kwargs)
        if not found:
            kept[key] = parse(*args, **kwargs)
        return copy.deepcopy(kept[key]) if copied else kept[key]  # type: ignore[no-any-return]

    return kept_parse
