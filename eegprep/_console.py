"""The targets of the ``eegprep`` and ``labram`` console scripts.

The two click groups live in the repository's root ``cli.py`` (the design card). A wheel
installs that file as ``eegprep/_cli/cli.py`` (pyproject.toml's ``package-dir``), so nothing
with the generic top-level name ``cli`` lands in site-packages. From a source checkout
(``pip install -e .``) that module does not exist and the root ``cli.py`` runs instead, found
beside the ``eegprep`` folder. docs/install.md says more.
"""

from __future__ import annotations

import _signal  # (the interpreter's own, loaded at its start: `signal` would be an import)
import os


def _stop_during_start_up() -> None:
    """Until the command's group takes the signals over (``eegprep.cli_group.stop_on_signals``),
    Ctrl-C, SIGTERM or SIGHUP ends the process with its one line and status: the imports
    before it have nothing to wind down (a KeyboardInterrupt there was a traceback, SIGTERM or
    SIGHUP a silent death). Through ``_signal``, so that no module is imported before."""
    said = {_signal.SIGINT: "interrupted (Ctrl-C)", _signal.SIGTERM: "stopped (SIGTERM)"}
    if hasattr(_signal, "SIGHUP"):  # not on Windows
        said[_signal.SIGHUP] = "stopped (SIGHUP)"

    # under torchrun the first process of each machine alone says it (eegprep.base.ranks)
    # (ASCII digits alone: ``int`` failed on ``WORLD_SIZE=²``, which ``isdigit`` passes, a
    # traceback before any command; eegprep.base.ranks refuses such a value in one line)
    world = os.environ.get("WORLD_SIZE", "1").strip()
    local = os.environ.get("LOCAL_RANK", "0").strip()
    quiet = world.isascii() and world.isdigit() and int(world) > 1 and local not in ("", "0")

    def stop(signum: int, frame: object) -> None:
        if not quiet:
            os.write(2, f"error: {said[signum]}\n".encode())
        os._exit(128 + signum)

    for sig in said:
        _signal.signal(sig, stop)


# At import, before anything else of this module: only the console scripts (and ``python -m``)
# import it, and a Ctrl-C while the rest of it and the command's modules are imported is then
# one line too (a library module must not take the signals; this one is no library's). What is
# left before it is the interpreter's own start-up (its `site` module: a Ctrl-C there is
# CPython's "Fatal Python error: init_import_site", before any file of ours runs), finding and
# reading this package and this module, and ``eegprep/__init__.py``, which imports nothing: no
# module is imported between the interpreter's start-up and this line (tests/test_startup.py).
# Everything else this module needs is imported where used.
_stop_during_start_up()

# Then, before any file is opened: a standard stream closed at start gets the null device, so that
# no file the command keeps (a store's lock) becomes its standard output (eegprep/_std_streams.py).
from eegprep._std_streams import lost_output_status, reopen_closed  # noqa: E402

reopen_closed()

TYPE_CHECKING = False  # (typing is not imported at run time: ~3 ms before a command's own)
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

_INSTALLED = "eegprep._cli.cli"


def _cli_module() -> ModuleType:
    """The module holding ``eegprep_cli`` and ``labram_cli``: the installed copy, else the
    checkout's root ``cli.py``."""
    import importlib
    import sys
    from pathlib import Path

    try:
        return importlib.import_module(_INSTALLED)
    except ModuleNotFoundError as exc:
        if exc.name not in ("eegprep._cli", _INSTALLED):
            raise  # a dependency is missing: say so, do not hide it behind the fallback
    root = Path(__file__).resolve().parent.parent
    if not (root / "cli.py").is_file() or not (root / "pyproject.toml").is_file():
        from eegprep.base.shown_text import shown_path

        sys.exit(
            f"error: the eegprep installation at {shown_path(root)} lacks its command-line module "
            f"({_INSTALLED}); reinstall the labram distribution (pip install --force-reinstall "
            "labram)"
        )
    # A checkout: the same module the tests import (pytest's pythonpath is the repository).
    sys.path.insert(0, str(root))
    return importlib.import_module("cli")


def _group(name: str, prog: str) -> Any:
    """The click group ``name`` of :func:`_cli_module`; a dependency its imports lack (click,
    numpy) is one line and status 2, not a traceback (:mod:`eegprep.base.missing_modules`)."""
    import sys

    try:
        return getattr(_cli_module(), name)
    except ModuleNotFoundError as exc:
        from eegprep.base.missing_modules import missing_module_line

        if (line := missing_module_line(exc, prog)) is None:
            raise
        sys.stderr.write(f"error: {line}\n")  # (no click to say it with, perhaps)
        raise SystemExit(2) from None


def _quick_exit() -> None:
    """Make the interpreter's exit cheap: :func:`gc.freeze` registered as the first exit
    handler, so it runs after all the others (theirs still run). The final garbage collections
    then skip every object the command's imports made (~0.35 million after an ingest); they
    were ~75 ms of each command's wall time (``eegprep ingest`` of one file: 0.495 s median
    of 10 against 0.421 s, 2026-12-02). Objects are still released as their last reference
    goes; only unreachable cycles are left to the operating system, as at any exit."""
    import atexit
    import gc

    atexit.register(gc.freeze)


def _run(group: Any, prog: str) -> None:
    """Run a click group; once it has decided its exit status (its work done, or wound down
    after a signal), the signals are ignored: the interpreter's exit (loader workers ended,
    files closed) finishes, and a late Ctrl-C neither prints a traceback nor changes the
    status. A success whose output went to a standard output closed at start is status 2
    (:func:`~eegprep._std_streams.lost_output_status`)."""
    import signal

    try:
        try:
            group()
        except SystemExit as exc:
            status = lost_output_status(exc.code, prog)
            if status != exc.code:
                raise SystemExit(status) from None
            raise
        status = lost_output_status(0, prog)
        if status:
            raise SystemExit(status)
    finally:
        sigs = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
        for sig in sigs:
            signal.signal(sig, signal.SIG_IGN)
        if hasattr(signal, "pthread_sigmask"):  # and blocked: the interpreter's finalization
            signal.pthread_sigmask(signal.SIG_BLOCK, sigs)  # puts the default handlers back


def eegprep_main() -> None:
    """``eegprep ...``"""
    _quick_exit()
    one_blas_thread()
    _run(_group("eegprep_cli", "eegprep"), "eegprep")


def one_blas_thread() -> None:
    """``OPENBLAS_NUM_THREADS=1`` unless the user set a number of threads OpenBLAS takes.

    eegprep does no linear algebra: OpenBLAS's threads, started when numpy is imported, only
    spin (~0.1 CPU s in every process: this one, the forkserver, each worker). A user's own
    count (a whole number from 1) is kept; an empty value, ``0``, or one that is no number
    (``OPENBLAS_NUM_THREADS=``, ``auto``), which OpenBLAS reads as unset, starting a thread per
    core, was kept too, and is replaced."""
    value = os.environ.get("OPENBLAS_NUM_THREADS", "").strip()
    if not (value.isascii() and value.isdigit() and int(value) >= 1):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def labram_main() -> None:
    """``labram ...``"""
    _quick_exit()
    _run(_group("labram_cli", "labram"), "labram")
