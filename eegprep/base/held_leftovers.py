"""Held folders a killed process left: named after their maker, removed once it is gone.

A process killed by SIGKILL (or a pool's worker terminated) cannot remove the held folders
(:mod:`eegprep.base.held_files`) it still had: they stay in ``/dev/shm`` (or the temporary
folder) until the machine restarts, links to ``/proc/self/fd/N`` that name nothing. Each folder
is therefore named after the process that made it (:func:`folder_prefix`):
``eegprep-held-{pid namespace}-{pid}-{start time}-{8 random characters}`` (the namespace as the
device and inode of ``/proc/self/ns/pid``, ``{st_dev}.{st_ino}``), the start time being
field 22 of ``/proc/PID/stat`` (clock ticks since boot), so that a process id the kernel gave to
another process since is not taken for the maker. :func:`sweep` removes the folders whose maker
is gone.

What a sweep touches, and nothing else: a folder of the root itself (not a link: entries are
stat-ed without following links, and removed by ``shutil.rmtree``, which on Linux removes a
folder's contents through descriptors and never follows a link in it), named exactly so, in
this process's pid namespace (a folder of a process in another container sharing ``/dev/shm``
names a pid this process cannot see: it is left), owned by this user, whose pid is not running
with that start time. Folders of earlier versions (``eegprep-held-`` and 8 random characters,
or a namespace named by its inode alone, which does not tell it from one of another device)
name no maker for sure and are left.

Cost: one ``scandir`` of the root, and one read of ``/proc/PID/stat`` for each folder named
so; ~20 us of CPU when no folder is left (``benchmarks/held_sweep.py``, docs/benchmarks.md,
section 11b).

Concurrency contract: any number of processes may sweep at once (a folder two of them remove
is removed once, the other's error ignored); a live process's folder is never removed, and a
gone process's folder is never made again (no new process has its pid and start time).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat

PREFIX = "eegprep-held-"
"""What every held folder's name starts with."""

_NAME = re.compile(re.escape(PREFIX) + r"(\d+(?:\.\d+)?)-(\d+)-(\d+)-[a-z0-9_]{8}", re.ASCII)
"""A held folder named after its maker: pid namespace (:func:`_namespace`; an earlier
version's, its inode alone, matches none), pid, start time, ``mkdtemp``'s 8."""

_PREFIXES: dict[int, str] = {}  # pid -> its folders' prefix (a forked child has its own)
log = logging.getLogger(__name__)


def start_time(pid: int | str) -> str | None:
    """Field 22 of ``/proc/{pid}/stat`` (the process's start, clock ticks since boot), as its
    digits; ``None`` when there is no such process (or no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()  # after the name, which may hold anything
    field = fields[19] if len(fields) > 19 else b""  # fields from the 3rd (state) on
    return field.decode() if field.isdigit() else None


def _namespace() -> str | None:
    """This process's pid namespace, ``{device}.{inode}`` of ``/proc/self/ns/pid`` (two
    namespaces are one when both are the same: namespaces(7)); ``None`` without. The inode
    alone took a namespace on another device with the same inode number for this one, and
    its folders for folders of this namespace's processes."""
    try:
        st = os.stat("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{st.st_dev}.{st.st_ino}"


def folder_prefix() -> str:
    """The name prefix of the held folders this process makes: :data:`PREFIX` and who makes it
    (module docstring), or :data:`PREFIX` alone where the system does not say (no ``/proc``)."""
    pid = os.getpid()
    prefix = _PREFIXES.get(pid)
    if prefix is None:
        ns, start = _namespace(), start_time("self")
        who = f"{ns}-{pid}-{start}-" if ns is not None and start is not None else ""
        prefix = _PREFIXES[pid] = PREFIX + who
    return prefix


def _gone(pid: int, start: str, starts: dict[int, str | None]) -> bool:
    """Whether the process that made a folder is gone: no process ``pid``, or one that started
    at another moment (the pid given to another process since). ``starts``: the start times
    read so far in this sweep (a process holds many folders)."""
    if pid not in starts:
        starts[pid] = start_time(pid)
    return starts[pid] != start


def sweep(roots: list[str]) -> list[str]:
    """Remove the held folders in ``roots`` whose maker is gone (module docstring); returns
    their paths. Never raises: a root or a folder that cannot be read or removed is left."""
    ns = _namespace()
    if ns is None or not shutil.rmtree.avoids_symlink_attacks:
        return []
    uid = os.getuid()
    own = folder_prefix()[len(PREFIX) :].split("-")
    starts: dict[int, str | None] = {os.getpid(): own[2] if len(own) > 2 else None}
    removed: list[str] = []
    for root in dict.fromkeys(roots):
        try:
            entries = os.scandir(root)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if not entry.name.startswith(PREFIX):
                    continue
                named = _NAME.fullmatch(entry.name)
                if named is None or named[1] != ns or not _gone(int(named[2]), named[3], starts):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode) and st.st_uid == uid:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    if not os.path.lexists(entry.path):
                        removed.append(entry.path)
    if removed:
        log.debug("removed %d held folders of processes gone: %s", len(removed), removed)
    return removed
