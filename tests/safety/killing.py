"""Run an ``eegprep`` (or ``labram``) command in a child process that SIGKILLs itself at one
chosen write.

The child counts every call of the operating system's write primitives on a path inside the
store, or any folder given as ``store`` (``labram export``'s output folder): ``mkdir``,
``open`` for writing, ``os.open`` that may create or write, ``fsync``,
``replace``/``rename``, ``link`` (the store's lock is created whole by one),
``unlink``/``remove``/``rmdir``, ``shutil.rmtree``; and kills itself with SIGKILL just before
the chosen one runs: the kill lands between two writes exactly as a real one can, with nothing
of Python's clean-up (``finally``, ``__exit__``) running after it.

A write is chosen by its number (``at=k``: the k-th counted call) or by what it is
(``at=("replace", r"-> .*/0000000001\\.jsonl$")``: the first call of that primitive whose
text, ``path`` or ``src -> dst``, matches the pattern). ``at=0`` kills nothing and writes the
list of the calls to ``log``: the number of kill points of a command. ``sig="SIGINT"``
(``run_killed``) sends Ctrl-C's signal at that point instead: ``KeyboardInterrupt`` is raised
before the write runs, and the command's own clean-up runs as after a real Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


_CHILD = r"""
import builtins, io, os, re, shutil, signal, sys

STORE = os.path.abspath(os.environ["KILL_STORE"])
AT = os.environ["KILL_AT"]
LOG = os.environ.get("KILL_LOG")
count, busy = [0], [0]
kind, _, pattern = AT.partition(":")
number = int(AT) if AT.isdigit() else None
SIGNAL = getattr(signal, os.environ.get("KILL_SIGNAL", "SIGKILL"))
log = open(LOG, "w") if LOG else None
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

def name_of(p):
    if isinstance(p, int):
        try:
            return os.readlink(f"/proc/self/fd/{p}")
        except OSError:
            return ""
    try:
        return os.path.abspath(os.fsdecode(p))
    except TypeError:
        return ""

def inside(text):
    return text == STORE or text.startswith(STORE + "/")

def counted(primitive, *paths):
    names = [name_of(p) for p in paths]
    if busy[0] or not any(inside(n) for n in names):
        return
    count[0] += 1
    text = " -> ".join(names).replace(STORE + "/", "")
    if log:
        log.write(f"{primitive} {text}\n")
        log.flush()
    if count[0] == number or (number is None and primitive == kind and re.search(pattern, text)):
        os.kill(os.getpid(), SIGNAL)

def one(module, attr):
    real = getattr(module, attr)
    def call(p, *a, **kw):
        if kw.get("dir_fd") is None:
            counted(attr, p)
        return real(p, *a, **kw)
    setattr(module, attr, call)

def two(module, attr):
    real = getattr(module, attr)
    def call(src, dst, *a, **kw):
        counted(attr, src, dst)
        return real(src, dst, *a, **kw)
    setattr(module, attr, call)

for attr in ("mkdir", "unlink", "remove", "rmdir"):
    one(os, attr)
for attr in ("replace", "rename", "link"):
    two(os, attr)
real_fsync, real_osopen, real_open, real_rmtree = os.fsync, os.open, io.open, shutil.rmtree

def fsync(fd):
    counted("fsync", fd)
    return real_fsync(fd)

def osopen(p, flags, *a, **kw):
    if flags & WRITING and kw.get("dir_fd") is None:
        counted("os.open", p)
    return real_osopen(p, flags, *a, **kw)

def open_(file, mode="r", *a, **kw):
    if not isinstance(file, int) and isinstance(mode, str) and set(mode) & set("wax+"):
        counted("open", file)
    return real_open(file, mode, *a, **kw)

def rmtree(p, *a, **kw):
    counted("rmtree", p)
    busy[0] += 1
    try:
        return real_rmtree(p, *a, **kw)
    finally:
        busy[0] -= 1

rmtree.avoids_symlink_attacks = real_rmtree.avoids_symlink_attacks
os.fsync, os.open, builtins.open, io.open, shutil.rmtree = fsync, osopen, open_, open_, rmtree
import cli
sys.exit(getattr(cli, os.environ.get("KILL_CLI", "eegprep_cli"))())
"""


def run_killed(
    args: list[str],
    store: Path,
    at: int | tuple[str, str],
    log: Path | None = None,
    *,
    command: str = "eegprep",
    sig: str = "SIGKILL",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``eegprep ARGS`` (``command``: or ``labram``) in a child that SIGKILLs itself at
    write ``at`` inside ``store`` (module docstring); ``sig="SIGINT"`` sends Ctrl-C's signal
    instead (raised as ``KeyboardInterrupt`` before the write runs). ``env``: more variables.
    Returns the finished child (``returncode`` ``-SIGKILL`` when killed)."""
    where = str(at) if isinstance(at, int) else f"{at[0]}:{at[1]}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "KILL_STORE": str(store), "KILL_AT": where,
           "KILL_CLI": f"{command}_cli", "KILL_SIGNAL": sig, **(env or {})}  # fmt: skip
    if log is not None:
        env["KILL_LOG"] = str(log)
    cmd = [sys.executable, "-c", _CHILD, *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def run(args: list[str], *, command: str = "eegprep") -> subprocess.CompletedProcess[str]:
    """Run ``eegprep ARGS`` (``command``: or ``labram``) in a child process, as a user runs it."""
    code = f"import sys; from cli import {command}_cli; sys.exit({command}_cli())"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", code, *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def write_calls(
    args: list[str],
    store: Path,
    log: Path,
    *,
    command: str = "eegprep",
    env: dict[str, str] | None = None,
) -> list[str]:
    """Every counted write of ``eegprep ARGS`` (``command``: or ``labram``; run to its end), as
    ``primitive path`` lines."""
    done = run_killed(args, store, 0, log, command=command, env=env)
    assert done.returncode in (0, 3), done.stderr
    return log.read_text().splitlines()


KILLED = -signal.SIGKILL
