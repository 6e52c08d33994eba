"""One writer at a time for an output folder that a command fills over minutes (the embedding
store of ``labram embed``).

Two runs of one command into one folder would each take the other's work for their own: the
second clears a creation the first has under way (its marker says "a creation cut short"), and
its resume sweep deletes the temporary files of the first's writes in flight. So the writer
holds an exclusive ``flock`` on the folder for the whole run, and a second one is refused at
once, in one line, before it reads or writes anything there.

Concurrency contract: the lock belongs to the open descriptor (the process that took it);
closing it, or the process ending however it ends (a kill included), releases it, so no stale
lock is ever left. Under ``torchrun`` only rank 0 takes it. Where ``flock`` does not exist (not
POSIX) or the file system refuses it (some network mounts), nothing is held.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from eegprep.base.errors import UsageError
from eegprep.base.flocks import try_exclusive


@contextlib.contextmanager
def writing_alone(folder: Path, *, command: str, given: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (made, with its parents, if missing) until the
    block ends.

    Parameters
    ----------
    folder : Path
        The output folder.
    command : str
        The command that writes it (``"labram embed"``), for the message.
    given : str
        The folder as the user named it (``--out``), for the message.

    Raises
    ------
    UsageError
        Another process holds the folder: one line naming it.
    OSError
        The folder cannot be made or opened (the caller names the place).
    """
    if os.name != "posix":  # (Windows: a folder cannot be opened to lock; none is held)
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        # (no flock on this file system: nothing to guard with, the run goes on)
        if try_exclusive(fd).state == "busy":
            raise UsageError(
                f"--out {given}: another {command} is writing it now: wait for that one to end "
                "(run the same command again then: it resumes), or give another --out"
            )
        yield
    finally:
        os.close(fd)  # (releases the lock)


__all__ = ["writing_alone"]
