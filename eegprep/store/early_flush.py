"""Flushing finished recording groups to the disk while the next file is ingested.

A recording group must be on the disk (every file and folder flushed, ``fsync``) before its
rename into ``recordings/`` and the index line that lists it, or a power cut could leave the
index listing a group that is empty or gone (:mod:`eegprep.base.disk_sync`). Flushed at the
commit, the group's bytes are written out while the ingest waits: ~60 ms per 10-minute
recording on the development machine's disk, ~50% more time for a corpus of such files. So the
driver hands each group to :class:`EarlyFlush` as soon as its task has finished, a thread
flushes it while the next file is read and filtered, and the commit waits only for what is not
flushed yet (the last file's group, mostly). The order on the disk is unchanged: flush, rename,
the folders flushed, then the index.

Concurrency contract: one thread, started at the first group and ended by :meth:`EarlyFlush.close`
(the writer's close), so that no thread of it is left when a later ingest in the same process
forks its pool workers (:func:`eegprep.ingestion.workers._fork_safe`). Used by one writer only.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future, ThreadPoolExecutor

from eegprep.base.disk_sync import sync_tree


class EarlyFlush:
    """Groups being flushed in a thread, by path; :meth:`wait` before each group's rename."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[None]] = {}

    def start(self, folder: str | os.PathLike[str]) -> None:
        """Begin flushing the finished group ``folder`` (a local path) in the thread."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="eegprep-flush")
        key = os.fspath(folder)
        self.forget(key)
        self._pending[key] = self._pool.submit(sync_tree, key)

    def wait(self, folder: str | os.PathLike[str]) -> None:
        """Return once ``folder`` is on the disk: its flush begun by :meth:`start`, or done
        here (a group never handed over).

        Raises
        ------
        OSError
            The flush failed (an I/O error): the group must not be listed.
        """
        fut = self._pending.pop(os.fspath(folder), None)
        if fut is None:
            sync_tree(folder)
        else:
            fut.result()

    def forget(self, folder: str | os.PathLike[str]) -> None:
        """Drop ``folder``'s flush (a group about to be removed): wait for it to end, so that
        no flush walks a folder while it is deleted, and ignore how it ended."""
        fut = self._pending.pop(os.fspath(folder), None)
        if fut is not None and not fut.cancel():
            with contextlib.suppress(Exception):
                fut.result()

    def close(self) -> None:
        """End the thread (flushes not begun are dropped: their groups are never listed)."""
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["EarlyFlush"]
