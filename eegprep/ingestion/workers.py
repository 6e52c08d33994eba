"""Local worker processes for ``eegprep ingest``, started only when they pay for themselves.

The decision rule (docs/cli.md, "Workers"): a plan's work is estimated from its source bytes
(:func:`estimate_seconds`, at the single-process rate that ``benchmarks/ingest.py`` measures).
This process works from the start; each of ``n - 1`` pool workers joins after
:func:`start_seconds` (:data:`FORK_START_SECONDS` for forked workers, :data:`POOL_START_SECONDS`
from a forkserver), and every process runs :data:`CONTENTION` slower beside the others, so ``n``
processes take ``(work * (1 + CONTENTION) + (n - 1) * start) / n``; a pool
is started only when that is less than ``work`` (:func:`pool_size`). Otherwise, and always for
one worker or one recording, the tasks run in this process.

A pool is a :class:`concurrent.futures.ProcessPoolExecutor` whose workers are forked, with the
per-file modules (:data:`PRELOAD`) imported, from this process where a fork is safe (Linux, no
thread but known ones: :func:`_context`), else from a ``forkserver`` that imported them once;
either way a worker starts in milliseconds with nothing left to import (``spawn`` where there is
no ``forkserver``: Windows).
dask.distributed is used only for an existing cluster (``--scheduler``,
:mod:`eegprep.ingestion.driver`).

Concurrency contract: a worker runs :func:`eegprep.ingestion.task.run_task` only, which writes the
task's own staging group and returns its record; the driver alone commits to the index. A worker
ignores Ctrl-C (the driver handles it and terminates the pool; what finished is committed), and
exits by itself as soon as the driver is gone (a kill), so that no orphan writes on.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import sys
import threading
import warnings
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from eegprep.base.path_limits import shown_path
from eegprep.ingestion.options import n_cores
from eegprep.ingestion.task import IngestResult, IngestTask, run_task

SOURCE_BYTES_PER_SECOND = 250e6
"""Source bytes one process ingests per CPU second (EDF, steady state): ~0.44 s for the 116 MB
of ``benchmarks/ingest.py --hours 1`` on the development machine. A fast figure on purpose: the
estimate errs towards no pool."""

SECONDS_PER_RECORDING = 0.01
"""Fixed cost of one recording (open, write its group, commit), seconds (docs/benchmarks.md)."""

POOL_START_SECONDS = 0.5
"""How long after this process a pool worker starts contributing, seconds of wall time: a
fresh worker's first file (~0.05-0.06 s more than its next: it faults in its memory), moving
tasks and results, and the forkserver's start (~0.26 s) where the workers cannot be forked
(0.04-0.06 s when they are), with margin for a loaded machine (``benchmarks/ingest.py
--scaling`` measures them). Kept for both ways: the estimate errs towards no pool. Tests set it
to 0 to force a pool on a tiny corpus."""

FORK_START_SECONDS = 0.2
""":data:`POOL_START_SECONDS` when the workers are forked from this process (:func:`_context`):
no server to start, only a fresh worker's first file and the tasks' moves, with margin. The
console command on TUH's own files, a pool forced against none (wall s, three runs each,
2026-12-01): 0.25 h (2 files) 0.59 / 0.59 / 0.59 against 0.45 / 0.56 / 0.58; 0.5 h (3 files)
0.59-0.69 against 0.58-0.72; 1 h (6 files) 0.65-0.81 against 0.84-1.24; 2 h (12 files)
0.82-0.90 against 1.07-1.11; then with this rule, 1 h, 6 alternating runs: 0.57-0.68 (median
0.62) with the pool it started against 0.59-0.76 (median 0.745) with ``--workers 0``. With 2
workers a forked pool starts from ~0.22 s of estimated work (~45 MB of EDF: 1 h of TUH's
files gets one, 0.5 h does not)."""

CONTENTION = 0.1
"""How much slower each process ingests beside the others (they share the memory bus): 4-10%
for a file beside smaller ones on 2 cores (docs/benchmarks.md, section 6)."""

PRELOAD = (
    "eegprep.ingestion.task",
    "eegprep.pipeline.preprocess",
    "eegprep.pipeline.fir",
    "eegprep.pipeline.qc",
    "eegprep.readers.edf",
    "pyedflib",
    "ducc0",
    "blosc",
)
"""Modules every process imports for its first file (pyedflib, ducc0, blosc, ...): imported
once before the workers are forked (by this process, or by the forkserver). A module missing
here costs only speed; the files need neither zarr nor numcodecs nor scipy nor MNE."""


def source_bytes(task: IngestTask) -> int:
    """Bytes of the files ``task`` reads (its main file when the stamps are missing)."""
    return sum(max(s.size, 0) for s in task.sources) or max(task.source_stat[0], 0)


def estimate_seconds(tasks: Sequence[IngestTask]) -> float:
    """CPU seconds one process would take for ``tasks``: their source bytes at
    :data:`SOURCE_BYTES_PER_SECOND` plus :data:`SECONDS_PER_RECORDING` each."""
    n_bytes = sum(source_bytes(t) for t in tasks)
    return n_bytes / SOURCE_BYTES_PER_SECOND + len(tasks) * SECONDS_PER_RECORDING


def pool_size(workers: int | None, tasks: Sequence[IngestTask]) -> int:
    """Processes to run ``tasks`` on, this one included; 0: this process alone.

    ``workers``: what the user asked for (``None``: one per core). ``n`` processes (at most one
    per task) are used when they are expected to finish first: this process works from the
    start, the ``n - 1`` pool workers from :func:`start_seconds` on, each process
    :data:`CONTENTION` slower beside the others.
    """
    n = min(n_cores() if workers is None else workers, len(tasks))
    if n < 2:
        return 0
    work = estimate_seconds(tasks)
    pooled = (work * (1 + CONTENTION) + (n - 1) * start_seconds()) / n
    return n if pooled < work else 0


def start_seconds() -> float:
    """How late a pool worker starts contributing: :data:`FORK_START_SECONDS` when the workers
    will be forked from this process (:func:`_forks`), else :data:`POOL_START_SECONDS` (never
    more than that: tests set it to 0 to force a pool)."""
    return min(POOL_START_SECONDS, FORK_START_SECONDS) if _forks() else POOL_START_SECONDS


def run_pool(tasks: Sequence[IngestTask], n_workers: int) -> Generator[IngestResult, None, None]:
    """Run ``tasks`` on ``n_workers`` processes, this one included; results as they finish.

    ``n_workers - 1`` pool workers take the largest files first, one at a time, each handed
    its next task the moment it finishes one; this process works from the other end, the
    smallest files, between yielding the pool's results. It starts at once, while the pool
    starts on another core (forked at once, or after the forkserver's imports, ~0.26 s),
    and no worker is left with a long file at the end while the others idle. (The order of
    commits does not change the store's bytes.)

    A worker that dies (killed by the system, out of memory) breaks the pool: the tasks the
    pool was running come back failed, with a message to run the command again, and this
    process runs the rest. When the caller stops early (Ctrl-C, an error while committing) the
    workers are terminated; their staging groups are never listed and the next ingest removes
    them.
    """
    from concurrent.futures import ProcessPoolExecutor

    if n_workers < 2:  # no pool: this process alone
        yield from (run_task(t) for t in tasks)
        return
    ctx = _context()
    # the workers wait on the read end: it reaches end-of-file when this process is gone, even
    # while its exit status has not been collected (a pid check would still see it)
    lifeline, keep_alive = ctx.Pipe(duplex=False)
    forked = ctx.get_start_method() == "fork"
    # a forked worker holds a copy of the write end too: it closes it, or the pipe never ends
    inherited = keep_alive if forked else None
    pool = ProcessPoolExecutor(
        n_workers - 1, mp_context=ctx, initializer=_worker_init, initargs=(lifeline, inherited)
    )
    plan = _Plan(pool, sorted(tasks, key=source_bytes, reverse=True))
    # every worker process starts during these first submits: forked here and now (a few ms),
    # or in a thread when each waits for the forkserver, as this process has work meanwhile
    starter = None
    if not forked:
        starter = threading.Thread(target=plan.start, args=(n_workers - 1,), daemon=True)
    finished = False
    try:
        if starter is None:
            with warnings.catch_warnings():  # Python 3.12+ warns of any thread at a fork;
                warnings.simplefilter("ignore", DeprecationWarning)  # those left are safe
                plan.start(n_workers - 1)
        else:
            starter.start()
        yield from _from_both_ends(plan)
        finished = True
    finally:
        plan.stop()
        if starter is not None:
            starter.join()
        _shut_down(pool, terminate=not finished)
        lifeline.close()
        keep_alive.close()


def _from_both_ends(plan: _Plan) -> Iterator[IngestResult]:
    """The results of ``plan``: the pool's as they finish, between this process's own tasks
    (the smallest left); ends when no task is left or running."""
    while True:
        yield from plan.results(block=False)
        task = plan.take_smallest()
        if task is not None:
            yield run_task(task)
        elif plan.n_running():
            yield from plan.results(block=True)
        else:
            return


class _Plan:
    """The tasks of one :func:`run_pool` call: a queue that the pool takes from the front
    (largest first) and this process from the back, and the pool's finished futures."""

    def __init__(self, pool: Any, largest_first: list[IngestTask]) -> None:
        self.pool = pool
        self.queue = collections.deque(largest_first)
        self.running: dict[Any, IngestTask] = {}
        self.finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.handing = 0  # tasks taken from the queue and not yet in ``running``
        self.lock = threading.Lock()
        self.stopped = False

    def start(self, n_pool: int) -> None:
        """Hand each of the ``n_pool`` workers its first task (which starts them)."""
        with _main_not_rerun():
            for _ in range(n_pool):
                self._feed()

    def _feed(self) -> None:
        """Submit the largest task left to the pool (nothing once stopped or broken)."""
        with self.lock:
            if self.stopped or not self.queue:
                return
            task = self.queue.popleft()
            self.handing += 1
        try:  # outside the lock: the first submits wait for the forkserver
            fut = self.pool.submit(run_task, task)
        except Exception:  # broken, shut down, or no process could start: this process
            with self.lock:  # runs what is left
                self.queue.appendleft(task)
                self.handing -= 1
                self.stopped = True
            return
        with self.lock:
            self.running[fut] = task
            self.handing -= 1
        fut.add_done_callback(self._done)

    def _done(self, fut: Any) -> None:
        """A pool task finished (in the pool's own thread): its worker takes the next."""
        self.finished.put(fut)
        self._feed()

    def take_smallest(self) -> IngestTask | None:
        """The smallest task left, for this process; ``None`` when none is."""
        with self.lock:
            return self.queue.pop() if self.queue else None

    def n_running(self) -> int:
        """Tasks the pool holds (handed over or on their way)."""
        with self.lock:
            return len(self.running) + self.handing

    def results(self, *, block: bool) -> Iterator[IngestResult]:
        """The pool's finished tasks: those there now, or with ``block`` at least one."""
        while True:
            try:
                fut = self.finished.get(timeout=0.1) if block else self.finished.get_nowait()
            except queue.Empty:
                if block and self.n_running():
                    continue  # (a short wait, so that Ctrl-C is seen)
                return  # (a task the pool could not take is back in the queue)
            with self.lock:
                task = self.running.pop(fut)
            yield _result(fut, task)
            block = False

    def stop(self) -> None:
        """Hand the pool nothing more."""
        with self.lock:
            self.stopped = True


def _result(fut: Any, task: IngestTask) -> IngestResult:
    """A finished pool future's result; a failed one when its worker died."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return fut.result()  # type: ignore[no-any-return]
    except BrokenProcessPool:
        res = IngestResult(task.item.relpath, task.rid, task.staging)
        res.error = (
            f"{shown_path(task.item.relpath)}: not ingested: a worker process died (killed, or out "
            "of memory); run the same command again, or with --workers 0 to see which file it was"
        )
        return res


def _context() -> Any:
    """How pool workers start.

    ``fork`` on Linux while this process runs no thread but those known to survive a fork
    (:func:`_fork_safe`): a worker is then a copy of this process, running in milliseconds with
    its imports done, once :data:`PRELOAD` is imported here (this process works on files too,
    so it needs them anyway). Elsewhere, or beside any other thread (forking could copy a lock
    it holds), ``forkserver`` with :data:`PRELOAD` where there is one (macOS), else ``spawn``
    (Windows).
    """
    import importlib
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if _forks():
        for name in PRELOAD:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        if _fork_safe():  # (an import could start a thread)
            return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))  # no effect once this process's server runs
    return ctx


def _forks() -> bool:
    """Whether :func:`_context` forks the workers from this process: Linux, and a fork is safe
    (:func:`_fork_safe`)."""
    import multiprocessing

    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and _fork_safe()
    )


def _fork_safe() -> bool:
    """Whether every thread of this process but the main one is one that a fork may copy
    away: zarr's I/O thread, idle between zarr calls (zarr resets its state in a forked
    child), and tqdm's monitor (the workers draw no bars). Called from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    known: list[Any] = []
    sync = sys.modules.get("zarr.core.sync")
    if sync is not None:
        known.extend(getattr(sync, "iothread", []) or [])
    bars = sys.modules.get("tqdm.std")
    if bars is not None:
        known.append(getattr(getattr(bars, "tqdm", None), "monitor", None))
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    return all(any(t is k for k in known) for t in others)


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


def _worker_init(lifeline: Any, keep_alive: Any = None) -> None:
    """In each worker: leave Ctrl-C and SIGHUP to the driver, and exit when the driver is gone
    (``keep_alive``: the driver's end of the pipe, when a fork copied it here)."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (a forked worker inherits the driver's)
    if hasattr(signal, "SIGHUP"):  # a closed terminal reaches the whole group: the driver acts
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if keep_alive is not None:
        keep_alive.close()
    threading.Thread(target=_watch, args=(lifeline,), daemon=True).start()


def _watch(lifeline: Any) -> None:
    """Wait for the end of the driver's pipe (the driver sends nothing), then exit: a killed
    driver's worker stops writing, and the next ingest removes its staging group."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)
