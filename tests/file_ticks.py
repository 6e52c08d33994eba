"""Wait for a file system's clock to tick past a file's stamps, before a test rewrites it.

A write stamps a file (mtime, ctime) from the file system's clock, rounded down to its tick: a
whole second on ext4 with 128-byte inodes, ext3, HFS+ and many network mounts, a jiffy (1-10
ms) for every Linux file system before 6.13's fine-grained stamps. A test that rewrites a file
with its size (and mtime) kept, and expects the change to be seen by its stamps (the readers'
caches, the seen-files cache), saw none where the rewrite came in the tick of the stamps it
compares with: on such a file system, or on a fast machine. (A rewrite in the same tick as the
moment an ingest read the file is the racy-stamps rule's, tested in test_racy_stamps.py.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def past_the_tick(path: str | os.PathLike[str], seconds: float = 60.0) -> None:
    """Return once a write to ``path`` is stamped later than its stamps are now: its mtime and
    ctime are set again to what they are (a change of its ctime alone) until its ctime is past
    both. Then whatever rewrites it gets a ctime (and an mtime, unless set back) of a later
    tick. At once on a file system with fine-grained stamps; an ``AssertionError`` if
    ``seconds`` pass first (a guard against a clock that does not move)."""
    st = os.stat(path)
    before = max(st.st_mtime_ns, st.st_ctime_ns)
    deadline = time.monotonic() + seconds
    while True:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        if os.stat(path).st_ctime_ns > before:
            return
        assert time.monotonic() < deadline, f"{Path(path).name}: the file clock did not move"
        time.sleep(0.001)
