"""Which process of a torchrun run prints an error that several of them raise alike.

torchrun starts one process per GPU, each with the same command line (``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` set). An error each process raises alike was printed by
each: N copies of one line. Who prints it, by what the error depends on:

- an error the ranks decided together (:attr:`~eegprep.base.errors.EegprepError.every_rank`:
  a training run stopped for unreadable windows, a scored split): the main rank (``RANK``
  0) alone;
- an error raised before the process starts its own share of the work (:func:`begin_own_work`:
  the training loop, its windows of an embedding): a bad flag, a missing or damaged store, a
  checkpoint refused for ``--init``, a task with no windows, refused splits. Each process
  makes the same checks of the same command line, files and devices, so what one refuses,
  every process of its machine refuses alike: the first process of each machine
  (``LOCAL_RANK`` 0) prints it, the others exit with the same status in silence. (Per
  machine, not once for the run: a store missing on one machine alone is said there.)
- any other error (a rank's own read of its windows, a file system error not eegprep's):
  each process that raises it prints it: it may be its own.

A process that leaves the line to another does not exit at once: were it first, torchrun would
stop the printing process (SIGTERM) before it had said anything, and the run would end on a
bare "stopped" line. It waits (:func:`printing_rank_ended`) for torchrun to end it once the
printing process has exited, then exits with the error's status in silence; if nothing ends it
within :data:`ALIKE_WAIT_SECONDS`, the line was not said elsewhere, and it says it itself. A
signal's own "stopped" line is the first process's of each machine alone: torchrun passes a
Ctrl-C or SIGTERM to every process, and ends the others with SIGTERM when one fails.

Outside torchrun (``WORLD_SIZE`` unset or 1) every error is printed, whatever ``RANK`` a
shell left set: a process alone is its run's main process. :func:`torchrun_place` reads the
three variables for training, refusing a malformed one in one line.
"""

from __future__ import annotations

import os
import re

ALIKE_WAIT_SECONDS = 60.0
"""How long a process that leaves an error's line to another waits for torchrun to end it
(seconds). The wait covers the printing process coming to the same error, then torchrun's look
at its processes (every 0.1 s, its ``--monitor-interval``) once that one has exited: processes
started together come to it seconds apart on a loaded machine (each imports torch, reads the
store; 5 s was too short there, and the line was said twice, the second process ending on a
bare "stopped (SIGTERM)"). A wait that runs out costs its time once, where the printing process
never comes to the error at all (then the line is said here, after this wait)."""

_OWN_WORK = [False]
"""Whether this process has begun its own share of the work (:func:`begin_own_work`)."""


def main_rank() -> bool:
    """Whether this process is the main one of its run: the only one (``WORLD_SIZE`` unset or
    1, whatever ``RANK`` says: a stray ``RANK=1`` in a shell silenced every error of a process
    alone), or rank 0 of those torchrun started (its ``RANK``, which stays set after the
    process group is gone)."""
    return not under_torchrun() or os.environ.get("RANK", "0").strip() in ("", "0")


def machine_main_rank() -> bool:
    """Whether this process is the first torchrun started on its machine (``LOCAL_RANK`` 0),
    or the only one."""
    return not under_torchrun() or os.environ.get("LOCAL_RANK", "0").strip() in ("", "0")


def under_torchrun() -> bool:
    """Whether this process is one of several torchrun started (``WORLD_SIZE`` above 1)."""
    world = _env_whole("WORLD_SIZE", "1")
    return world is not None and world > 1


def _env_whole(name: str, default: str) -> int | None:
    """The whole number environment variable ``name`` holds (``default`` when it is unset or
    blank), written in ASCII digits as torchrun writes it; None for anything else (Python's
    ``int`` reads ``WORLD_SIZE=٣``, other scripts' digits, as 3, where :func:`torchrun_place`
    refuses it)."""
    text = os.environ.get(name, default).strip() or default
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else None


def torchrun_place() -> tuple[int, int, int]:
    """This process's ``(RANK, LOCAL_RANK, WORLD_SIZE)``, as torchrun sets them; ``(0, 0, 1)``
    outside torchrun (``WORLD_SIZE`` unset or 1: a ``RANK`` a shell left set is not read).

    Raises
    ------
    UsageError
        A variable that is not a whole number (``WORLD_SIZE=two``), a ``WORLD_SIZE`` below 1, a
        ``RANK`` outside 0 to ``WORLD_SIZE - 1`` or a negative ``LOCAL_RANK`` (these failed as
        Python's ``invalid literal for int()``, or ran as no rank of the run), naming it.
    """
    from eegprep.base.errors import UsageError

    def whole(name: str, default: str) -> int:
        value = _env_whole(name, default)
        if value is None:
            text = os.environ.get(name, default).strip()
            raise UsageError(
                f"{name}={text[:40]!r} is not a whole number: torchrun sets {name}; run under "
                "torchrun, or unset RANK, LOCAL_RANK and WORLD_SIZE to run one process"
            )
        return value

    world = whole("WORLD_SIZE", "1")
    if world < 1:
        raise UsageError(f"WORLD_SIZE={world} is below 1: unset it to run one process")
    if world == 1:
        return 0, 0, 1
    rank, local = whole("RANK", "0"), whole("LOCAL_RANK", "0")
    if not 0 <= rank < world:
        raise UsageError(f"RANK={rank} is outside 0 to {world - 1} (WORLD_SIZE={world})")
    if local < 0:
        raise UsageError(f"LOCAL_RANK={local} is negative")
    return rank, local, world


def begin_own_work() -> None:
    """Say that this process now does its own share of the work: errors from here on may be
    its own (module docstring). Called where each rank starts on its own windows."""
    _OWN_WORK[0] = True


def end_own_work() -> None:
    """Say that this process's own share of the work ended (it returned): the checks that
    follow are every process's alike again (the next fold or seed of ``labram finetune``,
    whose refusals every rank printed after the first fold had trained)."""
    _OWN_WORK[0] = False


def own_work_began() -> bool:
    """Whether :func:`begin_own_work` was called in this process."""
    return _OWN_WORK[0]


def prints_error(exc: BaseException) -> bool:
    """Whether this process prints ``exc``, an error eegprep raised on purpose or a usage
    error of the command line (module docstring); the others exit with the same status."""
    if getattr(exc, "every_rank", False):
        return main_rank()
    if not under_torchrun() or own_work_began():
        return True
    return machine_main_rank()


def printing_rank_ended(seconds: float = ALIKE_WAIT_SECONDS) -> bool:
    """Wait up to ``seconds`` for a signal (SIGINT, SIGTERM or SIGHUP: torchrun ending this
    process because another one exited): ``True`` if one came, ``False`` if the time ran out.
    Outside the main thread (no signal can be caught there) ``True`` at once. The signals'
    handlers are restored after."""
    import signal
    import time

    class _Ended(Exception):
        pass

    def ended(signum: int, frame: object) -> None:
        raise _Ended

    sigs = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {}
    try:
        for sig in sigs:
            previous[sig] = signal.signal(sig, ended)
    except ValueError:  # not the main thread
        return True
    try:
        time.sleep(seconds)
    except _Ended:
        return True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return False


def says_signal_stops() -> bool:
    """Whether this process prints the line of a signal that stopped it: outside torchrun
    always, under it the first process of each machine alone (module docstring)."""
    return machine_main_rank()


__all__ = [
    "ALIKE_WAIT_SECONDS",
    "begin_own_work",
    "end_own_work",
    "machine_main_rank",
    "main_rank",
    "own_work_began",
    "printing_rank_ended",
    "prints_error",
    "says_signal_stops",
    "torchrun_place",
    "under_torchrun",
]
