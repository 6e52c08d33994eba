"""Task functions for :func:`eegprep.ingestion.workers.run_pool` in tests: module-level, so that
a pool worker can import them (a test's own function cannot be sent to another process)."""

from __future__ import annotations

import multiprocessing
import os

from eegprep.ingestion.task import IngestResult, IngestTask, run_task


def run_and_tag(task: IngestTask) -> IngestResult:
    """:func:`run_task`, with the id of the process that ran it in ``detail``."""
    res = run_task(task)
    res.detail = str(os.getpid())
    return res


def die_in_a_worker(task: IngestTask) -> IngestResult:
    """:func:`run_task` in the driver; in a pool worker, the process dies (as out of memory)."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return run_and_tag(task)
