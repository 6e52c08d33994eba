"""What a path given on either command line may be, checked while click parses it.

:class:`LocalPath` and :class:`StoreLocation`, the click types of every path and store
parameter of both command lines, and :class:`LocalText`, of a name or a local path (re-exported
by :mod:`eegprep.cli_group`), check each path
they take (:func:`path_kind_problem`, :func:`new_name_problem` for outputs); the groups'
one-line errors call :func:`dash_path_hint` for an unknown option that is really a path whose
name starts with ``-`` (``eegprep stats -s.zarr``). docs/cli.md.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from typing import Any

import click

from eegprep.base.errors import EegprepError
from eegprep.base.file_urls import url_problem
from eegprep.base.files import UNSHOWN
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted

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
        shown = f"{counted(len(path), 'space')}" if set(path) == {" "} else shown_path(path)
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


class LocalText(click.ParamType):
    """A parameter that takes a name or a local path, never a URL (``eegprep ingest CORPUS``
    and ``labram predict --corpus``: a corpus name or a manifest file; ``labram predict
    FILES``): a URL is refused in one line naming the parameter (:func:`url_problem`); the
    rest is checked where the value is used."""

    name = "text"  # the help's metavar stays TEXT

    def __init__(self, what: str) -> None:
        self.what = what  # what the parameter takes, as the refusal of a URL says it

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """``value`` unless it is a URL."""
        problem = url_problem(value, what=self.what)
        if problem is not None:
            self.fail(problem, param, ctx)
        return value


class LocalPath(click.Path):
    """:class:`click.Path` that also takes a ``file:`` URL (``file:///data/my%20corpus``),
    decoded as RFC 8089 says, or refused as a usage error naming the option
    (:mod:`eegprep.base.file_urls`), and refuses a path that can name no file here (a NUL, a
    name or path past the file system's limits: :mod:`eegprep.base.path_limits`): every path
    option of both command lines is one of these."""

    def __init__(self, *, output: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output = output  # a path the command writes: the names it creates are checked

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path ``value`` names, checked as :class:`click.Path` checks it."""
        from eegprep.base.file_urls import file_url_path, is_file_url

        if isinstance(value, str) and not value:  # click.Path would take it for "."
            self.fail("an empty path: give a file or folder", param, ctx)
        # (an input was taken as a missing local path: `--src s3://b/x` named "/here/s3:/b/x:
        # corpus folder not found"; an output was written to the local folders ./s3:/b/)
        problem = url_problem(value, output=self.output)
        if problem is not None:
            self.fail(problem, param, ctx)
        if isinstance(value, str) and is_file_url(value):
            try:
                value = file_url_path(value)
            except EegprepError as exc:
                self.fail(str(exc), param, ctx)
        _refuse_unusable_path(self, value, param, ctx)
        _refuse_path_kind(self, value, param, ctx, file_okay=self.file_okay, dir_okay=self.dir_okay)
        if self.output:
            _refuse_new_name(self, value, param, ctx)
        if self.exists and isinstance(value, str) and not os.path.lexists(value):
            from eegprep.base.path_limits import (
                shown_path,  # (click's line shows \xff as U+FFFD)
                unmatched_pattern,
            )

            what = {"directory": "folder", "file": "file"}.get(self.name, "file or folder")
            self.fail(f"{shown_path(value)}: no such {what}{unmatched_pattern(value)}", param, ctx)
        return super().convert(value, param, ctx)


def _refuse_unusable_path(
    kind: click.ParamType, path: Any, param: click.Parameter | None, ctx: click.Context | None
) -> None:
    """Fail ``kind``'s conversion, naming the option, when no file system takes ``path``
    (too long a name or path, a NUL: :func:`eegprep.base.path_limits.path_problem`)."""
    from eegprep.base.path_limits import path_problem, shown_path

    problem = path_problem(path)
    if problem is not None:
        kind.fail(f"{shown_path(os.fspath(path))}: {problem}", param, ctx)


def _refuse_path_kind(
    kind: click.ParamType,
    path: Any,
    param: click.Parameter | None,
    ctx: click.Context | None,
    *,
    file_okay: bool,
    dir_okay: bool,
) -> None:
    """Fail ``kind``'s conversion, naming the option, when ``path`` cannot be what it takes
    (spaces alone, ``-``, a link loop or a link to nothing, a FIFO, socket or device, a
    folder for a file or a file for a folder: :func:`eegprep.cli_paths.path_kind_problem`)."""
    if not isinstance(path, str):
        return
    store = isinstance(kind, StoreLocation)
    problem = path_kind_problem(path, file_okay=file_okay, dir_okay=dir_okay, store=store)
    if problem is not None and store and problem.endswith("(a store is a folder)"):
        from eegprep.base.errors import StoreNotFoundError

        raise StoreNotFoundError(problem)  # (the line open_store gives it, before any work)
    if problem is not None:
        kind.fail(problem, param, ctx)


def _refuse_new_name(
    kind: click.ParamType, path: Any, param: click.Parameter | None, ctx: click.Context | None
) -> None:
    """Fail ``kind``'s conversion, naming the option, when an output ``path`` would create a
    name holding a character no terminal shows as itself, or bytes that are not UTF-8
    (:func:`eegprep.cli_paths.new_name_problem`)."""
    problem = new_name_problem(path) if isinstance(path, str) else None
    if problem is not None:
        kind.fail(problem, param, ctx)


class StoreLocation(click.ParamType):
    """A store: a local path or an fsspec URL (``s3://...``). Refused as a usage error naming
    the option: an empty value (it would be the current folder), a ``file:`` URL that names no
    usable path, and a local path no file system takes (as :class:`LocalPath`). A ``file:`` URL
    is given on as the path it names; other URLs as they are."""

    name = "text"  # the help's metavar stays TEXT

    def __init__(self, *, output: bool = False) -> None:
        self.output = output  # a store the command writes: the names it creates are checked

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The store ``value`` names, as a path or a URL."""
        from eegprep.base.file_urls import is_remote_url, local_path

        text = os.fspath(value)
        if not text:
            self.fail("an empty store path: give a store folder or URL", param, ctx)
        if is_remote_url(text):  # a protocol fsspec cannot open: refused before any work
            from eegprep.store.fs import check_url_protocols

            try:
                check_url_protocols(text)
            except EegprepError as exc:
                self.fail(str(exc), param, ctx)
            return text
        try:
            path = local_path(text)
        except EegprepError as exc:
            self.fail(str(exc), param, ctx)
        _refuse_unusable_path(self, path, param, ctx)
        _refuse_path_kind(self, path, param, ctx, file_okay=True, dir_okay=True)  # (a zip too)
        if self.output:
            _refuse_new_name(self, path, param, ctx)
        return path
