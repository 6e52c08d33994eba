"""Local worker processes for ``eegprep ingest``, started only when they pay for themselves.

The decision rule (docs/cli.md, "Workers"): a plan's work is estimated from its source bytes
(:func:`estimate_seconds`, at the single-process rate that ``benchmarks/ingest.py`` measures);
a pool of ``n`` workers saves ``work * (1 - 1/n)`` seconds and costs :data:`POOL_START_SECONDS`,
so it is started only when the saving is larger (:func:`pool_size`). Otherwise, and always for
one worker or one recording, the tasks run in this process.

A pool is a :class:`concurrent.futures.ProcessPoolExecutor` whose workers are forked from a
``forkserver`` that imported the per-file modules once (:data:`PRELOAD`), so a worker starts in
milliseconds with nothing left to import (``spawn`` where there is no ``forkserver``: Windows).
dask.distributed is used only for an existing cluster (``--scheduler``,
:mod:`eegprep.ingestion.driver`).

Concurrency contract: a worker runs :func:`eegprep.ingestion.task.run_task` only, which writes the
task's own staging group and returns its record; the driver alone commits to the index. A worker
ignores Ctrl-C (the driver handles it and terminates the pool; what finished is committed), and
exits by itself as soon as the driver is gone (a kill), so that no orphan writes on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from eegprep.ingestion.task import IngestResult, IngestTask, run_task

SOURCE_BYTES_PER_SECOND = 250e6
"""Source bytes one process ingests per CPU second (EDF, steady state): ~0.44 s for the 116 MB
of ``benchmarks/ingest.py --hours 1`` on the development machine. A fast figure on purpose: the
estimate errs towards no pool."""

SECONDS_PER_RECORDING = 0.01
"""Fixed cost of one recording (open, write its group, commit), seconds (docs/benchmarks.md)."""

POOL_START_SECONDS = 0.5
"""What a pool costs beyond running in this process, seconds of wall time: starting the
forkserver and the workers, moving tasks and results between processes, with margin for a
loaded machine (``benchmarks/ingest.py --scaling`` measures it). Tests set it to 0 to force a
pool on a tiny corpus."""

PRELOAD = (
    "eegprep.ingestion.task",
    "eegprep.pipeline.preprocess",
    "eegprep.pipeline.fir",
    "eegprep.pipeline.qc",
    "eegprep.readers.edf",
    "pyedflib",
    "ducc0",
    "zarr",
)
"""Modules the forkserver imports once, before it forks workers: what the first file of every
process would otherwise import (zarr, pyedflib, ducc0, ...). A module missing here costs
only speed."""


def source_bytes(task: IngestTask) -> int:
    """Bytes of the files ``task`` reads (its main file when the stamps are missing)."""
    return sum(max(s.size, 0) for s in task.sources) or max(task.source_stat[0], 0)


def estimate_seconds(tasks: Sequence[IngestTask]) -> float:
    """CPU seconds one process would take for ``tasks``: their source bytes at
    :data:`SOURCE_BYTES_PER_SECOND` plus :data:`SECONDS_PER_RECORDING` each."""
    n_bytes = sum(source_bytes(t) for t in tasks)
    return n_bytes / SOURCE_BYTES_PER_SECOND + len(tasks) * SECONDS_PER_RECORDING


def pool_size(workers: int | None, tasks: Sequence[IngestTask]) -> int:
    """Worker processes to start for ``tasks``; 0: run them in this process.

    ``workers``: what the user asked for (``None``: one per core). A pool of ``n`` workers
    (at most one per task) is started when the time it saves, ``estimate * (1 - 1/n)``, is more
    than :data:`POOL_START_SECONDS`.
    """
    n = min(_n_cores() if workers is None else workers, len(tasks))
    if n < 2:
        return 0
    saved = estimate_seconds(tasks) * (1 - 1 / n)
    return n if saved > POOL_START_SECONDS else 0


def _n_cores() -> int:
    """Cores this process may run on (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_pool(tasks: Sequence[IngestTask], n_workers: int) -> Generator[IngestResult, None, None]:
    """Run ``tasks`` on ``n_workers`` local processes; results in the order they finish.

    The largest files are handed out first, so that no worker is left with a long file at the
    end while the others idle (the order of commits does not change the store's bytes).

    A worker that dies (killed by the system, out of memory) breaks the pool: the tasks not
    finished by then come back failed, with a message to run the command again. When the caller
    stops early (Ctrl-C, an error while committing) the workers are terminated; their staging
    groups are never listed and the next ingest removes them.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx = _context()
    # the workers wait on the read end: it reaches end-of-file when this process is gone, even
    # while its exit status has not been collected (a pid check would still see it)
    lifeline, keep_alive = ctx.Pipe(duplex=False)
    pool = ProcessPoolExecutor(
        n_workers, mp_context=ctx, initializer=_worker_init, initargs=(lifeline,)
    )
    finished = False
    try:
        largest_first = sorted(tasks, key=source_bytes, reverse=True)
        with _main_not_rerun():  # every worker process starts during these submits
            futures = {pool.submit(run_task, t): t for t in largest_first}
        for fut in as_completed(futures):
            task = futures.pop(fut)
            try:
                res = fut.result()
            except BrokenProcessPool:
                res = IngestResult(task.item.relpath, task.rid, task.staging)
                res.error = (
                    f"{task.item.relpath}: not ingested: a worker process died (killed, or out "
                    "of memory); run the same command again, or with --workers 0 to see which "
                    "file it was"
                )
            yield res
        finished = True
    finally:
        _shut_down(pool, terminate=not finished)
        lifeline.close()
        keep_alive.close()


def _context() -> Any:
    """``forkserver`` with :data:`PRELOAD` where there is one (Linux, macOS), else ``spawn``."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))  # no effect once this process's server runs
    return ctx


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Start workers without re-running the caller's ``__main__`` in them.

    ``forkserver`` and ``spawn`` children run the parent's main script again (as
    ``__mp_main__``) unless it has no file: a script read from stdin then breaks every worker,
    and a script without an ``if __name__ == "__main__"`` guard would ingest again in each.
    The workers need nothing from ``__main__`` (they run :func:`eegprep.ingestion.task.run_task`),
    so
    its ``__file__`` and ``__spec__`` are hidden while they start.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _shut_down(pool: Any, *, terminate: bool) -> None:
    """Close ``pool``; with ``terminate``, stop its workers now instead of letting them finish."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not terminate, cancel_futures=True)
    if terminate:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(5)


def _worker_init(lifeline: Any) -> None:
    """In each worker: leave Ctrl-C to the driver, and exit when the driver is gone."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(lifeline,), daemon=True).start()


def _watch(lifeline: Any) -> None:
    """Wait for the end of the driver's pipe (the driver sends nothing), then exit: a killed
    driver's worker stops writing, and the next ingest removes its staging group."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)
