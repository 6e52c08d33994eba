"""Streaming batches from eegprep stores: read blocks from Zarr, cut windows, scale.

``WindowDataset`` is an ``IterableDataset`` over a :class:`~labram.sampler.BatchPlan`: each item
is one whole batch of equal-shape windows (no padding), so wrap it in a ``DataLoader`` with
``batch_size=None`` (:func:`make_loader`). Reads go straight from the stores' Zarr chunks: one
call per block (``block_seconds`` of a recording, all channels), windows cut in memory, a small
per-process cache of recent blocks. Nothing is converted or copied to disk.

Concurrency contract: a dataset is safe to copy into any number of dataloader worker processes;
each process opens its own store handles on first use (zarr's async machinery does not survive a
fork).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from labram.config import BLOCK_SECONDS, PATCH_SIZE
from labram.sampler import BatchPlan
from labram.windows import WindowIndex

UV_PER_UNIT = 100.0
"""The model's input unit is 0.1 mV: microvolts / 100 (LaBraM's signal contract)."""


def to_model_units(x_uv: np.ndarray) -> np.ndarray:
    """Microvolts -> model input units (0.1 mV). The one place where input scaling lives."""
    return x_uv / np.float32(UV_PER_UNIT)


class BlockReader:
    """Reads windows of an index, one Zarr call per block, with an LRU cache of blocks.

    Parameters
    ----------
    index : WindowIndex
    block_seconds : int
        Span of one read (windows starting in it are cut from it).
    cache_mb : float
        Memory for recent blocks per process, in MB. The sampler serves a pool of batches from
        a run of consecutive blocks; the cache must hold that run, or every window re-reads its
        block (256-token windows of 23 channels: ~47 blocks of ~6.6 MB, 360 s each).
    """

    def __init__(
        self, index: WindowIndex, *, block_seconds: int = BLOCK_SECONDS, cache_mb: float = 512
    ):
        self.index = index
        self.block_samples = block_seconds * PATCH_SIZE
        self.cache_bytes = int(cache_mb * 1e6)
        self._cached_bytes = 0
        self._pid = -1
        self._stores: dict[int, Any] = {}
        self._cache: OrderedDict[tuple[int, int], tuple[int, np.ndarray]] = OrderedDict()
        self.n_reads = 0
        self.samples_read = 0  # time samples (all channels) read from the stores, this process

    def _store(self, i: int) -> Any:
        if self._pid != os.getpid():  # a fresh process (dataloader worker): fresh handles
            from eegprep.allocator import reuse_freed_memory

            reuse_freed_memory()  # evicted blocks' memory serves the next blocks
            self._pid, self._stores, self._cache = os.getpid(), {}, OrderedDict()
            self._cached_bytes = 0
        if i not in self._stores:
            from eegprep.store import open_store

            self._stores[i] = open_store(self.index.urls[i])
        return self._stores[i]

    def _block(self, w: int) -> tuple[int, np.ndarray]:
        """(first sample, data uV float32 (all channels, n)) of window ``w``'s block."""
        r = int(self.index.rec[w])
        b0 = int(self.index.start[w]) // self.block_samples * self.block_samples
        key = (r, b0)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        plan = self.index.recordings[r]
        store = self._store(plan.store)
        n_total = store.recording(plan.id).n_samples
        # up to the next chunk boundary: a partly read chunk is decoded whole and then copied
        # out of, so whole chunks cost less (2.1 vs 2.9 ms for 180 vs 136 s of 23 channels)
        chunk = store.chunk_samples(plan.id)
        stop = min(n_total, -(-(b0 + self.block_samples + 16 * PATCH_SIZE) // chunk) * chunk)
        data = store.read(plan.id, b0, stop)
        self.n_reads += 1
        self.samples_read += stop - b0
        self._cache[key] = (b0, data)
        self._cached_bytes += data.nbytes
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            _, (_, old) = self._cache.popitem(last=False)
            self._cached_bytes -= old.nbytes
        return b0, data

    def window(self, w: int) -> np.ndarray:
        """Window ``w``: float32 microvolts, shape (N, A * 200), the plan's channel rows."""
        plan = self.index.recordings[int(self.index.rec[w])]
        t0 = int(self.index.start[w])
        n = int(self.index.n_patches[w]) * PATCH_SIZE
        if t0 < 0:  # a window that wraps around the recording (tuev, edge_events="wrap")
            return self._wrapped(plan, t0, n)
        b0, data = self._block(w)
        s = t0 - b0
        if s + n > data.shape[1]:  # longer than the block's margin: read it directly
            store = self._store(plan.store)
            if t0 + n > store.recording(plan.id).n_samples:
                return self._wrapped(plan, t0, n)
            self.samples_read += n
            return store.read(plan.id, t0, t0 + n)[plan.rows]
        return data[plan.rows, s : s + n]

    def _wrapped(self, plan: Any, t0: int, n: int) -> np.ndarray:
        """Samples ``t0 .. t0 + n`` modulo the recording's length: the authors' TUEV windows
        near an edge, cut from the signal tiled three times."""
        store = self._store(plan.store)
        total = store.recording(plan.id).n_samples
        data = store.read(plan.id, 0, total)
        self.samples_read += total
        return data[plan.rows][:, (t0 + np.arange(n)) % total]

    def batch(self, ids: np.ndarray) -> dict[str, torch.Tensor]:
        """A batch of equal-shape windows.

        Returns
        -------
        dict
            ``x`` (B, N, A, 200) float32 in 0.1 mV; ``channels`` (B, N) int64 vocabulary
            indices; ``y`` (B, n_targets) float32 labels; ``ids`` (B,) int64 window ids.
        """
        order = np.argsort(self.index.block[ids], kind="stable")  # read blocks in order
        xs: list[np.ndarray] = [np.empty(0, np.float32)] * len(ids)
        for j in order:
            xs[j] = self.window(int(ids[j]))
        x = to_model_units(np.stack(xs))  # (B, N, A*200)
        B, N, L = x.shape
        chans = np.stack([self.index.recordings[int(self.index.rec[i])].channels for i in ids])
        return {
            "x": torch.from_numpy(
                np.ascontiguousarray(x.reshape(B, N, L // PATCH_SIZE, PATCH_SIZE))
            ),
            "channels": torch.from_numpy(chans.astype(np.int64)),
            "y": torch.from_numpy(self.index.labels[ids]),
            "ids": torch.from_numpy(ids.astype(np.int64)),
        }


class WindowDataset(IterableDataset):  # type: ignore[type-arg]
    """This rank's batches of one epoch, from a given position; split across workers.

    Call :meth:`set_epoch` before iterating (``iter(loader)`` copies the dataset into the
    workers, so the epoch and start travel with it).
    """

    def __init__(
        self, plan: BatchPlan, *, block_seconds: int = BLOCK_SECONDS, cache_mb: float = 512
    ):
        super().__init__()
        self.plan = plan
        self.reader = BlockReader(plan.index, block_seconds=block_seconds, cache_mb=cache_mb)
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Iterate epoch ``epoch`` from its rank-local batch ``start``."""
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        return max(0, len(self.plan.batches(self.epoch)) - self.start)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        k, K = (info.id, info.num_workers) if info is not None else (0, 1)
        batches = self.plan.batches(self.epoch)
        for i in range(self.start + k, len(batches), K):
            yield self.reader.batch(batches[i])


def make_loader(
    dataset: WindowDataset,
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    generator: torch.Generator | None = None,
) -> DataLoader:  # type: ignore[type-arg]
    """A DataLoader that passes the dataset's ready-made batches through.

    ``generator`` seeds the workers without drawing from the global RNG (so that a resumed run
    draws the same dropout masks as an uninterrupted one).
    """
    return DataLoader(
        dataset,
        batch_size=None,
        generator=generator,
        num_workers=num_workers,
        pin_memory=pin_memory,
        prefetch_factor=4 if num_workers else None,
        persistent_workers=False,
    )
