"""Letting a caller see the bytes a reader reads from a file.

The ingest hashes every source file for its record. Hashing after decoding read each file a
second time; instead the task registers a *tap* for its source while the samples are decoded,
and the reader hands it each range of bytes it reads (:func:`watcher`), so that the hash needs
only the bytes no read covered (the header, bytes after the last data record). Taps are per
thread (a dask worker may run tasks in threads); a reader that does not call :func:`watcher`
simply leaves the caller to read the file itself.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

Feed = Callable[[int, bytes], None]
"""``feed(offset, data)``: ``data`` was read from the file at byte ``offset``."""

_local = threading.local()


@contextlib.contextmanager
def watching(path: str, feed: Feed) -> Iterator[None]:
    """Within the block, readers in this thread hand ``feed`` the bytes they read from
    ``path`` (the path exactly as they are given it)."""
    taps: dict[str, Feed] = _local.__dict__.setdefault("taps", {})
    before = taps.get(path)
    taps[path] = feed
    try:
        yield
    finally:
        if before is None:
            taps.pop(path, None)
        else:
            taps[path] = before


def watcher(path: str) -> Feed | None:
    """The feed registered for ``path`` in this thread, if any."""
    taps: dict[str, Feed] | None = _local.__dict__.get("taps")
    return taps.get(path) if taps else None
