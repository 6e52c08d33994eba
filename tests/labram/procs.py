"""The live processes of this machine that share one field of ``/proc/PID/stat`` (Linux): the
children of a parent, or the members of a process group. The interrupt tests use it to find
loader workers and the processes a stopped command left, and :func:`wait_ignoring` to wait
for a process to ignore a signal (its ``SigIgn`` mask) before sending it."""

from __future__ import annotations

import os
import time
from pathlib import Path

PARENT = 1  # the fields after the command's name: state, parent, process group, ...
GROUP = 2


def processes(field: int, value: int) -> set[int]:
    """The live (not zombie) processes whose ``stat`` field ``field`` (:data:`PARENT` or
    :data:`GROUP`, counted after the state, which is field 0) is ``value``; a process that
    ends while it is read is left out."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()  # (the name may hold spaces, ")")
            if int(fields[field]) == value and fields[0] != "Z":
                out.add(int(entry))
    return out


def ignored(pid: int) -> set[int]:
    """The signal numbers process ``pid`` ignores now (``SigIgn`` of ``/proc/PID/status``);
    empty once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return set()
    mask = int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16
    )
    return {n for n in range(1, 65) if mask >> (n - 1) & 1}


def wait_ignoring(pids: set[int], signums: set[int], seconds: float = 60.0) -> bool:
    """Wait until every process of ``pids`` ignores every signal of ``signums`` (a forked
    process sets its handlers some time after its start: a machine's load decides when);
    ``False`` if ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while not all(signums <= ignored(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
