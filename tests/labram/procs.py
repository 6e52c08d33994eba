"""The live processes of this machine that share one field of ``/proc/PID/stat`` (Linux): the
children of a parent, or the members of a process group. The interrupt tests use it to find
loader workers and the processes a stopped command left."""

from __future__ import annotations

import os
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
