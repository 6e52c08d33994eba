"""Check a store against its own index: every listed recording opens, matches, and is finite.

Problems are returned as one-line strings naming the recording; the CLI exits non-zero on any.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from eegprep.store import Recording, Store, open_store

BLOCK = 360_000  # samples per read: one shard


def _check_recording(store: Store, rec: Recording, root: Any) -> Iterator[str]:
    try:
        group = root[rec.group]
        data = group["data"]
        names = [str(c) for c in group["channel"][:]]
    except Exception as exc:
        yield f"{rec.id}: cannot open its group {rec.group!r}: {type(exc).__name__}: {exc}"
        return
    if data.shape != (rec.n_channels, rec.n_samples):
        yield f"{rec.id}: data shape {data.shape}, index says {(rec.n_channels, rec.n_samples)}"
        return
    if names != list(rec.channels):
        yield f"{rec.id}: channel coordinate {names} differs from the index {list(rec.channels)}"
    if rec.meta.get("recipe_hash") != store.recipe_hash:
        yield (
            f"{rec.id}: recipe hash {rec.meta.get('recipe_hash')} differs from the store's "
            f"{store.recipe_hash}"
        )
    for start in range(0, rec.n_samples, BLOCK):
        try:
            block = np.asarray(data[:, start : start + BLOCK])
        except Exception as exc:
            yield f"{rec.id}: samples from {start} unreadable: {type(exc).__name__}: {exc}"
            return
        if not np.isfinite(block).all():
            yield f"{rec.id}: non-finite samples in [{start}, {start + block.shape[1]})"
            return


def validate(url: str) -> tuple[int, list[str]]:
    """Check every listed recording. Returns (recordings checked, problems)."""
    import zarr

    store = open_store(url)
    root = zarr.open_group(store._loc.zarr_store(read_only=True), mode="r")
    problems: list[str] = []
    for rec in store.recordings:
        problems.extend(_check_recording(store, rec, root))
    return len(store), problems
