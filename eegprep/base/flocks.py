"""Taking an exclusive ``flock`` without waiting: the one helper of every lock that keeps a
second writer out (a store's ingest, a training run folder, ``labram embed``'s output).

Each caller opens its own file or folder and decides what a busy lock means (one line naming
the holder) and what a file system without ``flock`` means (go on unguarded, with a warning
where it gives one); :func:`try_exclusive` only says which of the three happened.

Concurrency contract: a lock taken belongs to the open descriptor; closing it, or the process
ending however it ends (a kill included), releases it, so no stale lock is ever left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

State = Literal["held", "busy", "unsupported"]


@dataclass(frozen=True)
class FlockOutcome:
    """What :func:`try_exclusive` found.

    Attributes
    ----------
    state : {'held', 'busy', 'unsupported'}
        ``held``: this descriptor holds the lock now (until it is closed); ``busy``: another
        open descriptor holds it (another process, or this one through another ``open``);
        ``unsupported``: no lock can be taken here (no ``flock`` on this system, or the file
        system refuses it: some network mounts), and nothing is held.
    reason : str
        For ``unsupported``: why, in the system's words (``Operation not supported``);
        otherwise empty.
    """

    state: State
    reason: str = ""


def try_exclusive(fd: int) -> FlockOutcome:
    """Take an exclusive ``flock`` on the open descriptor ``fd`` without waiting.

    Parameters
    ----------
    fd : int
        An open file or folder (``os.open(folder, os.O_RDONLY)`` is enough for a folder).

    Returns
    -------
    FlockOutcome
        Held, busy, or unsupported (with the reason); never raises for those three.
    """
    try:
        import fcntl
    except ImportError:  # (Windows: no flock at all)
        return FlockOutcome("unsupported", f"no flock on {os.name}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return FlockOutcome("busy")
    except OSError as exc:  # (ENOLCK, EOPNOTSUPP, EINVAL: a file system without flock)
        return FlockOutcome("unsupported", exc.strerror or str(exc))
    return FlockOutcome("held")


__all__ = ["FlockOutcome", "try_exclusive"]
