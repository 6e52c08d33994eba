"""What a path given on either command line may be, checked while click parses it.

:class:`eegprep.cli_group.LocalPath` and :class:`eegprep.cli_group.StoreLocation` call
:func:`path_kind_problem` for every path they take, and the groups' one-line errors call
:func:`dash_path_hint` for an unknown option that is really a path whose name starts with
``-`` (``eegprep stats -s.zarr``). Pure functions of the path and the file system: no click.
docs/cli.md, Paths.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence

from eegprep.base.files import UNSHOWN
from eegprep.base.path_limits import shown_path

KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}
"""What a path that is neither a regular file nor a folder is, as a message names it."""


def dash_path_hint(option: str, argv: Sequence[str]) -> str:
    """How to pass the path that click took for the unknown ``option`` (``-s`` of
    ``-s.zarr``): the first word of ``argv`` that starts with ``option`` and names a path
    that exists (a dangling link too) or reads as one (it holds a ``.`` or a ``/``, which no
    option of ours does); an empty string when there is none."""
    for word in argv:
        if not word.startswith(option) or not word.startswith("-") or word == "--":
            continue
        if os.path.lexists(word) or "." in word or "/" in word:
            name = shown_path(word)
            return (
                f"; to name the path {name}, which starts with '-', write it ./{name} "
                f"or put -- before it (after every option)"
            )
    return ""


def path_kind_problem(
    path: str, *, file_okay: bool, dir_okay: bool, store: bool = False
) -> str | None:
    """Why ``path`` cannot be what its parameter takes, or ``None``: a name of spaces alone
    (it names a file no one meant, and shows as nothing in a message), ``-`` alone (the
    standard input or output in other programs, a file named ``-`` here: ``./-``), a link
    that loops or a path through one, a link to nothing, and, where it exists, a FIFO, socket
    or device (a read would wait or never end, a write go nowhere) or a folder where a file
    is taken and a file where a folder is. ``store``: a store (a folder, or a zip file), named
    as :func:`eegprep.store.reader.open_store` names what is not one."""
    if path.strip() == "" and path:  # (shown escaped: a line would show spaces as one)
        shown = f"{len(path)} spaces" if set(path) == {" "} else shown_path(path)
        return f"a name of blanks alone ({shown}): give the file or folder meant"
    if path == "-":
        return (
            "'-' is not the standard input or output here but a file named '-': "
            "write ./- for that file"
        )
    shown = shown_path(path)
    try:
        target = os.stat(path)
    except OSError as exc:
        if store and (exc.errno == errno.ELOOP or os.path.islink(path)):
            return f"{shown}: a link to nothing or a link loop, not a store (a store is a folder)"
        if exc.errno == errno.ELOOP:
            return f"{shown}: a symbolic link loop (or a path through one): give a path without it"
        if os.path.islink(path):
            to = shown_path(os.readlink(path))
            return f"{shown}: a symbolic link to {to}, which does not exist: give its target itself"
        return None  # missing, or unreadable: the command names it
    kind = KINDS.get(stat.S_IFMT(target.st_mode))
    if kind is not None and store:
        return f"{shown}: {kind}, not a store (a store is a folder)"
    if kind is not None:
        wanted = "a file" if file_okay else "a folder"
        return f"{shown}: {kind}, not {wanted}: give {wanted}"
    if stat.S_ISDIR(target.st_mode) and not dir_okay:
        return f"{shown}: a folder, not a file: give a file"
    if stat.S_ISREG(target.st_mode) and not file_okay:
        return f"{shown}: a file, not a folder: give a folder"
    return None


_UNSHOWABLE = re.compile(f"[\\x00-\\x1f{UNSHOWN}]")
"""Characters that a terminal does not show as themselves (:data:`eegprep.base.files.UNSHOWN`
and the C0 controls: a newline, a tab, an escape sequence's ESC)."""


def new_name_problem(path: str) -> str | None:
    """Why the command should not create ``path`` (an output), or ``None``: a name it would
    create (one not there yet, of ``path`` or of a folder above it) that holds a character no
    terminal shows as itself (a newline, a tab, an escape sequence: a later listing or
    script reads it as other text). Names that exist already are the user's: taken as they
    are; bytes that are not UTF-8 are taken (every line shows them as ``\\xNN``)."""
    new: list[str] = []
    here = path
    while here and not os.path.lexists(here):
        head, name = os.path.split(here.rstrip(os.sep) or here)
        if name:
            new.append(name)
        if head == here:
            break
        here = head
    for name in reversed(new):
        found = _UNSHOWABLE.search(name)
        shown = shown_path(path)
        if found is not None:
            char = repr(found.group())[1:-1]
            return (
                f"{shown}: the new name {shown_path(name)} holds {char}, which a terminal does "
                "not show as itself: pick a name without it"
            )
    return None
