"""The write-side calls of a command failing one at a time, as a disk that fails them does.

:func:`failing_calls` patches the calls through which eegprep and labram change a file or a
folder: ``os.fsync``, ``os.replace``, ``os.rename``, ``os.link``, ``os.write``, and ``write``
on a file opened for writing with ``open``/``io.open`` (``Path.write_bytes``, ``json.dump``,
a plot's bytes) (:data:`OPS`); and, asked for (:data:`DELETE_OPS`, :data:`FOLDER_OPS`), the
deletions ``os.unlink``, ``os.remove``, ``os.rmdir`` (``Path.unlink``/``rmdir``, and each
file and folder ``shutil.rmtree`` removes, which it does by these) and the folder creation
``os.mkdir`` (``os.makedirs``, ``Path.mkdir``, ``tempfile.mkdtemp``). Each call is recorded
as ``"OP PATH"`` (the path the call concerns: the file written, flushed or deleted, the new
name of a rename, the folder made), and the calls for which ``fails(n, call)`` is true raise
``OSError(code)`` without doing anything: ``write`` and ``fsync`` naming no file, as Python's
do (``replace``, ``rename`` and ``link`` none either, the harder case for a message), a
deletion or ``mkdir`` naming the path it was given, as Python's does. A sweep runs a command
once to count its calls, then once per call with only that one failing (:func:`nth`).
Writes that do not pass through Python (safetensors' Rust writer) are not seen.

:func:`failing_backend` does the same to the calls of a store's fsspec file system
(``memory://``): each listing, look-up, read, write, copy or deletion may raise a refusal of
:data:`BACKEND_ERRORS`, an ``OSError`` or a backend's own exception class.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
from collections.abc import Callable, Iterator
from typing import Any

OPS = ("fsync", "replace", "rename", "link", "write")
"""The write-side calls :func:`failing_calls` counts and may fail unless told otherwise."""

DELETE_OPS = ("unlink", "remove", "rmdir")
"""The deletions it counts and may fail when ``ops`` names them."""

FOLDER_OPS = ("mkdir",)
"""The folder creation it counts and may fail when ``ops`` names it."""

_PATCHED = (*OPS, *DELETE_OPS, *FOLDER_OPS)


def fd_target(fd: int) -> str:
    """The path an open descriptor names (Linux's ``/proc``), or ``fd N`` where none is."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return f"fd {fd}"


class _FailingFile:
    """A file opened for writing whose ``write`` goes through :func:`failing_calls`' check;
    everything else is the real file's."""

    def __init__(self, real: Any, check: Callable[[str, str], None], name: str) -> None:
        self._real, self._check, self._name = real, check, name

    def write(self, data: Any) -> Any:
        self._check("write", self._name)
        return self._real.write(data)

    def __enter__(self) -> _FailingFile:
        self._real.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._real.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._real)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextlib.contextmanager
def failing_calls(
    fails: Callable[[int, str], bool],
    *,
    code: int = errno.EIO,
    ops: tuple[str, ...] = OPS,
    under: str | os.PathLike[str] | None = None,
) -> Iterator[list[str]]:
    """While in the block, each call of ``ops`` is recorded (yielded list, ``"OP PATH"``) and
    raises ``OSError(code)`` where ``fails(n, call)`` (``n`` counts the calls from 1).
    ``under``: only the calls on that folder or what it holds (a command's outputs; not the
    probe ``tempfile`` writes once a process, nor a library's cache), the others passed over."""
    calls: list[str] = []
    real = {name: getattr(os, name) for name in _PATCHED}
    real_open, real_io_open = builtins.open, io.open
    top = os.path.abspath(under) if under is not None else None

    def check(op: str, path: str, filename: Any = None) -> None:
        if top is not None and path != top and not path.startswith(top + os.sep):
            return
        calls.append(f"{op} {path}")
        if fails(len(calls), calls[-1]):
            if filename is None:
                raise OSError(code, os.strerror(code))
            raise OSError(code, os.strerror(code), filename)

    def wrapped(op: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            first = args[0]
            if op in ("fsync", "write"):
                fd = first if isinstance(first, int) else first.fileno()
                path = fd_target(fd)
            elif op in DELETE_OPS or op in FOLDER_OPS:
                path = os.fsdecode(first)
                if kwargs.get("dir_fd") is not None:  # (shutil.rmtree: a name in a folder)
                    path = os.path.join(fd_target(kwargs["dir_fd"]), path)
                path = os.path.abspath(path)
                check(op, path, first)  # (Python's error names the path it was given)
                return real[op](*args, **kwargs)
            else:
                path = os.path.abspath(os.fsdecode(args[1]))
            check(op, path)
            return real[op](*args, **kwargs)

        return call

    def opened(opener: Callable[..., Any]) -> Callable[..., Any]:
        def call(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            fh = opener(file, mode, *args, **kwargs)
            if "write" in ops and any(c in mode for c in "wax+") and not isinstance(file, int):
                return _FailingFile(fh, check, os.path.abspath(os.fsdecode(file)))
            return fh

        return call

    for name in ops:
        if name in real:
            setattr(os, name, wrapped(name))
    builtins.open, io.open = opened(real_open), opened(real_io_open)  # type: ignore[assignment]
    try:
        yield calls
    finally:
        for name, fn in real.items():
            setattr(os, name, fn)
        builtins.open, io.open = real_open, real_io_open  # type: ignore[assignment]


def sweep_points(calls: list[str]) -> list[int]:
    """The call numbers (from 1) a sweep fails: every call but a ``write``, and of each run of
    ``write`` calls to one file (``torch.save`` writes a checkpoint in hundreds), the first,
    the middle one and the last."""
    points: list[int] = []
    run: list[int] = []
    for k, call in enumerate([*calls, ""], 1):
        if run and call != calls[run[0] - 1]:
            points += sorted({run[0], run[len(run) // 2], run[-1]})
            run = []
        if call.startswith("write "):
            run.append(k)
        elif call:
            points.append(k)
    return sorted(points)


def nth(k: int) -> Callable[[int, str], bool]:
    """For :func:`failing_calls`: only the ``k``-th call fails."""
    return lambda n, call: n == k


class ClientError(Exception):
    """A backend's own exception class, no ``OSError`` (botocore's ``ClientError``, a
    service's ``HttpError``): what an fsspec backend may raise for a refusal."""


BACKEND_ERRORS: dict[str, Callable[[str], Exception]] = {
    "PermissionError": lambda path: PermissionError(errno.EACCES, "Access Denied"),
    "PermissionError naming it": lambda path: PermissionError(errno.EACCES, "Forbidden", path),
    "OSError naming nothing": lambda path: OSError("Connection reset by peer"),
    "ClientError": lambda path: ClientError(
        f"An error occurred (AccessDenied) when calling the operation on {path}: Access Denied"
    ),
}
"""Refusals of a store's file system, by name: ``OSError`` kinds with and without an errno and
a file name, and a backend's exception of its own class whose message names the object."""

BACKEND_OPS = ("ls", "find", "info", "cat_file", "_open", "pipe_file", "cp_file", "rm", "_rm")
"""The methods of fsspec's ``memory://`` file system that :func:`failing_backend` counts and
may fail: its listings (``ls``, ``find``; ``walk`` and ``glob`` call them), its look-ups
(``info``: ``exists``, ``size``, ``isdir``), reads, writes, copies (``mv`` copies, then
deletes) and deletions."""


@contextlib.contextmanager
def failing_backend(
    fails: Callable[[str, str], bool], make: Callable[[str], BaseException]
) -> Iterator[list[str]]:
    """While in the block, each call of :data:`BACKEND_OPS` on fsspec's ``memory://`` file
    system (every instance, zarr's too) is recorded (yielded list, ``"OP PATH"``), and raises
    ``make(path)`` where ``fails(op, path)``, doing nothing."""
    from fsspec.implementations.memory import MemoryFileSystem

    calls: list[str] = []
    real = {name: MemoryFileSystem.__dict__[name] for name in BACKEND_OPS}

    def wrapped(op: str) -> Callable[..., Any]:
        def call(self: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
            text = path if isinstance(path, str) else str(path)
            calls.append(f"{op} {text}")
            if fails(op, text):
                raise make(text)
            return real[op](self, path, *args, **kwargs)

        return call

    for name in BACKEND_OPS:
        setattr(MemoryFileSystem, name, wrapped(name))
    try:
        yield calls
    finally:
        for name, fn in real.items():
            setattr(MemoryFileSystem, name, fn)


__all__ = [
    "BACKEND_ERRORS", "BACKEND_OPS", "DELETE_OPS", "FOLDER_OPS", "OPS", "ClientError",
    "failing_backend", "failing_calls", "fd_target", "nth", "sweep_points",
]  # fmt: skip
