"""How many CPU cores this process may run on: the one count the ingest's worker pool and a
resumed training run's threads are sized by."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the system has one (``taskset -c
    0`` gives 1 on a machine of 2), else the machine's count; at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
