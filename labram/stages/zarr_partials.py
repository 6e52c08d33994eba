"""Writes zarr leaves behind when one of them fails or the process is killed.

zarr-python writes every object through a temporary file beside it (``NAME.<32 hex>.partial``,
renamed into place when complete) and runs the writes of one call together on its own event
loop thread. When one write fails (a full disk), the call returns that error at once while the
others may still be running; the process then exits and a write still in flight leaves its
``.partial`` behind. A kill at any moment leaves one too. :func:`settle` waits for the writes
still in flight; :func:`remove_partials` removes what failed or killed writes left in a store
this program owns (the embedding store).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

_PARTIAL = re.compile(r".+\.[0-9a-f]{32}\.partial")
"""zarr's temporary name: the object's name with its suffix replaced by ``.<uuid4 hex>.partial``."""

SETTLE_SECONDS = 30.0
"""How long :func:`settle` waits for writes still in flight (each is one file)."""


def settle(timeout: float = SETTLE_SECONDS) -> None:
    """Wait up to ``timeout`` seconds for every task on zarr's event loop but the caller's (the
    other writes of a call that failed) to end, whatever they end with."""
    from zarr.core import sync

    loop = sync.loop[0]
    if loop is None or not loop.is_running():
        return

    async def _rest() -> None:
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if others:
            await asyncio.wait(others, timeout=timeout)

    try:
        asyncio.run_coroutine_threadsafe(_rest(), loop).result(timeout + 1.0)
    except Exception:  # (a loop shutting down): the sweep below still removes what is there
        pass


def remove_partials(folder: Path) -> list[Path]:
    """Remove zarr's temporary files (``NAME.<32 hex>.partial``) anywhere under ``folder``; the
    paths removed. Only for a store whose every object this program wrote."""
    gone = []
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            if _PARTIAL.fullmatch(name):
                path = Path(parent) / name
                path.unlink(missing_ok=True)
                gone.append(path)
    return gone


__all__ = ["SETTLE_SECONDS", "remove_partials", "settle"]
