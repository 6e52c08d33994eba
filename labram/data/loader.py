"""Streaming batches from eegprep stores: read blocks from Zarr, cut windows, scale.

``WindowDataset`` is an ``IterableDataset`` over a :class:`~labram.data.sampler.BatchPlan`: each
item
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
from collections.abc import Container, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from labram.data.sampler import BatchPlan
from labram.data.windows import WindowIndex
from labram.model.config import BLOCK_SECONDS, PATCH_SIZE

UV_PER_UNIT = 100.0
"""The model's input unit is 0.1 mV: microvolts / 100 (LaBraM's signal contract)."""


def to_model_units(x_uv: np.ndarray) -> np.ndarray:
    """Microvolts -> model input units (0.1 mV). The one place where input scaling lives."""
    return x_uv / np.float32(UV_PER_UNIT)


class _AnyOf:
    """Membership in any of some containers."""

    def __init__(self, *containers: Container[Any]) -> None:
        self.containers = containers

    def __contains__(self, key: object) -> bool:
        return any(key in c for c in self.containers)


_Copy = tuple[np.ndarray, np.ndarray, "float | None", float]
"""``(source, destination, divisor, uv_per_unit)``: one piece of a window, for :func:`_apply`."""


def _apply(src: np.ndarray, dst: np.ndarray, divisor: float | None, uv_per_unit: float) -> None:
    """``dst = src`` in units of ``uv_per_unit`` microvolts: one pass.

    ``src`` holds float32 microvolts (``divisor`` None) or a quantized chunk's integers: in
    microvolts (``uv_per_unit == 1``) those are divided in float64 as zarr decodes them (the
    stored values to the bit); in any other unit they are multiplied by one float32 factor,
    ``1 / (divisor * uv_per_unit)``, as they are converted: one pass instead of two, within 2
    float32 ulp of dividing the microvolts.
    """
    if divisor is None:
        np.divide(src, np.float32(uv_per_unit), out=dst)
    elif uv_per_unit == 1.0:
        np.divide(src, divisor, out=dst, dtype=np.float64, casting="same_kind")
    else:
        factor = np.float32(1.0 / (divisor * uv_per_unit))
        np.multiply(src, factor, out=dst, dtype=np.float32, casting="unsafe")


def _apply_all(copies: list[_Copy]) -> None:
    for copy in copies:
        _apply(*copy)


@dataclass(frozen=True)
class _Ahead:
    """One read on its way in the read-ahead thread: chunks ``keys`` = ``(r, lo), ...``."""

    future: Future[tuple[list[np.ndarray], float | None]]
    r: int
    lo: int
    keys: list[tuple[int, int]]
    size: int  # bytes, about


class BlockReader:
    """Reads windows of an index, one store read per block, with an LRU cache of chunks.

    A window's samples come from the recording's stored chunks (60 s of every channel), decoded
    and kept in the cache. A missing chunk is read together with the rest of its window's block
    (the chunks of ``block_seconds`` from the block's start), in one call: the windows starting
    in a block are then served from memory, and a window reaching past its block's end reads
    only the chunks it lacks, so no block reads a margin that no window of it uses.

    Parameters
    ----------
    index : WindowIndex
    block_seconds : int
        Span of one read (windows starting in it are cut from it).
    cache_mb : float
        Memory for recent chunks per process, in MB. The sampler serves a pool of batches from
        a run of consecutive blocks; the cache must hold that run, or every window re-reads its
        block (256-token windows of 23 channels: ~47 blocks of ~5.5 MB, 300 s each).
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
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()  # (rec, chunk)
        # rec -> (its store, samples, samples per chunk, whether the plan reads every stored
        # row in order): looked up once per recording, not once per window
        self._info: dict[int, tuple[Any, int, int, bool]] = {}
        # rec -> the divisor of its cached chunks' stored integers (None: float32 microvolts)
        self._divisor: dict[int, float | None] = {}
        self.n_reads = 0
        self.samples_read = 0  # time samples (all channels) read from the stores, this process
        self._executor: ThreadPoolExecutor | None = None  # the read-ahead thread, this process
        self._filler: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[int, int], _Ahead] = {}  # (rec, chunk) -> its read ahead
        self._pending_bytes = 0

    def __getstate__(self) -> dict[str, Any]:
        """For a dataloader worker: no thread or pending read crosses to another process."""
        state = dict(self.__dict__)
        state.update(_executor=None, _filler=None, _pending={}, _pending_bytes=0)
        return state

    def _this_process(self) -> None:
        """In a fresh process (a dataloader worker), start with fresh store handles."""
        if self._pid != os.getpid():
            from eegprep.base.allocator import reuse_freed_memory

            reuse_freed_memory()  # evicted chunks' memory serves the next reads
            self._pid, self._stores, self._cache = os.getpid(), {}, OrderedDict()
            self._cached_bytes = 0
            self._info, self._divisor = {}, {}
            self._executor, self._pending, self._pending_bytes = None, {}, 0  # no thread forks
            self._filler = None
            from numcodecs import blosc

            # one Blosc thread: on a 60 s chunk its own threads cost more than they save
            # (222 against 173 us per chunk of 23 channels with 2 threads on 2 cores)
            blosc.set_nthreads(1)

    def _store(self, i: int) -> Any:
        self._this_process()
        if i not in self._stores:
            from eegprep.store.reader import open_store

            self._stores[i] = open_store(self.index.urls[i])
        return self._stores[i]

    def _recording(self, r: int) -> tuple[Any, int, int, bool]:
        """Recording ``r``'s store, samples, samples per stored chunk, and whether its plan
        reads every stored row in order (in this process)."""
        info = self._info.get(r)
        if info is None:
            plan = self.index.recordings[r]
            store = self._store(plan.store)
            rec = store.recording(plan.id)
            every = bool(np.array_equal(plan.rows, np.arange(len(rec.channels))))
            info = self._info[r] = (store, rec.n_samples, store.chunk_samples(plan.id), every)
        return info

    def _pieces(self, r: int, t0: int, n: int) -> list[tuple[np.ndarray, int, int]]:
        """Samples ``[t0, t0 + n)`` of recording ``r`` (every stored row, uV) as pieces of
        cached chunks: ``(chunk, a, b)``, columns ``a:b`` of each, in order."""
        chunk = self._recording(r)[2]
        k0, k1 = t0 // chunk, -(-(t0 + n) // chunk)  # the chunks the window spans
        for k in range(k0, k1):
            if (r, k) not in self._cache and (r, k) in self._pending:
                self._harvest(wait=True, key=(r, k))
        if any((r, k) not in self._cache for k in range(k0, k1)):
            self._read(r, t0, k0, k1, chunk)
        pieces = []
        for k in range(k0, k1):
            data = self._cache[(r, k)]
            self._cache.move_to_end((r, k))
            a, b = max(t0, k * chunk) - k * chunk, min(t0 + n, (k + 1) * chunk) - k * chunk
            pieces.append((data, a, b))
        return pieces

    def _read(self, r: int, t0: int, k0: int, k1: int, chunk: int) -> None:
        """Read and cache chunks ``[k0, k1)`` of recording ``r`` with the rest of the block of
        sample ``t0``, leaving out chunks at either end that are already cached."""
        lo, hi = self._span(r, t0, k0, k1, chunk, self._cache)
        store = self._recording(r)[0]
        parts, divisor = store.read_chunks(self.index.recordings[r].id, lo, hi)
        self._insert(r, lo, parts, divisor)

    def _span(
        self, r: int, t0: int, k0: int, k1: int, chunk: int, have: Container[tuple[int, int]]
    ) -> tuple[int, int]:
        """The chunks ``[lo, hi)`` one read fetches for a window spanning chunks ``[k0, k1)``
        from sample ``t0``: those and the rest of ``t0``'s block, less the chunks at either
        end that are in ``have``."""
        n_total = self._recording(r)[1]
        b0 = t0 // self.block_samples * self.block_samples
        lo = min(k0, b0 // chunk)
        hi = min(max(k1, -(-(b0 + self.block_samples) // chunk)), -(-n_total // chunk))
        while lo < k0 and (r, lo) in have:
            lo += 1
        while hi > k1 and (r, hi - 1) in have:
            hi -= 1
        return lo, hi

    def _insert(self, r: int, lo: int, parts: list[np.ndarray], divisor: float | None) -> None:
        """Cache chunks ``lo, lo + 1, ...`` of recording ``r``; evict the least recently used
        beyond the cache's size (never these)."""
        self._divisor[r] = divisor
        self.n_reads += 1
        self.samples_read += sum(part.shape[1] for part in parts)
        for k, part in enumerate(parts, lo):
            old = self._cache.pop((r, k), None)
            self._cached_bytes += part.nbytes - (old.nbytes if old is not None else 0)
            self._cache[(r, k)] = part
        while self._cached_bytes > self.cache_bytes and len(self._cache) > len(parts):
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.nbytes

    def read_ahead(self, ids: np.ndarray) -> None:
        """Start reading, in this process's read-ahead thread, the chunks that windows ``ids``
        will need and that are neither cached nor on their way. Decoding releases the GIL, so
        chunks are decoded while earlier batches are filled; :meth:`batch` waits for a chunk
        still on its way. Reads on their way are capped at half the cache."""
        self._this_process()
        self._harvest(wait=False)
        planned: set[tuple[int, int]] = set()
        have = _AnyOf(self._cache, self._pending, planned)
        for w in ids[np.argsort(self.index.block[ids], kind="stable")]:
            if self._pending_bytes > self.cache_bytes // 2:
                return
            r = int(self.index.rec[w])
            t0 = int(self.index.start[w])
            store, n_total, chunk, _ = self._recording(r)
            n = int(self.index.n_patches[w]) * PATCH_SIZE
            if t0 < 0 or t0 + n > n_total:
                continue  # read whole by _wrapped
            k0, k1 = t0 // chunk, -(-(t0 + n) // chunk)
            if all((r, k) in have for k in range(k0, k1)):
                continue
            lo, hi = self._span(r, t0, k0, k1, chunk, have)
            keys = [(r, k) for k in range(lo, hi)]
            planned.update(keys)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="labram-read-ahead")
            rid = self.index.recordings[r].id
            future = self._executor.submit(store.read_chunks, rid, lo, hi)
            size = (hi - lo) * chunk * store.recording(rid).n_channels * 4  # every stored row
            entry = _Ahead(future, r, lo, keys, size)
            self._pending_bytes += size
            for key in keys:
                self._pending[key] = entry

    def _harvest(self, wait: bool, key: tuple[int, int] | None = None) -> None:
        """Cache the reads ahead that are done (all of them, with ``wait``: in order, up to
        the one holding ``key``); a read's error is raised here."""
        while self._pending:
            entry = self._pending[next(iter(self._pending))]  # the oldest: FIFO, as submitted
            if not (entry.future.done() or wait):
                return
            for k in entry.keys:
                self._pending.pop(k, None)
            self._pending_bytes -= entry.size
            parts, divisor = entry.future.result()
            self._insert(entry.r, entry.lo, parts, divisor)
            if key is not None and key in entry.keys:
                return

    def window(self, w: int) -> np.ndarray:
        """Window ``w``: float32 microvolts, shape (N, A * 200), the plan's channel rows; the
        values :meth:`Store.read` returns, to the bit."""
        plan = self.index.recordings[int(self.index.rec[w])]
        n = int(self.index.n_patches[w]) * PATCH_SIZE
        out = np.empty((len(plan.rows), n), np.float32)
        self._this_process()
        self._fill(w, out, 1.0)
        return out

    def _fill(self, w: int, out: np.ndarray, uv_per_unit: float) -> None:
        """Window ``w`` in units of ``uv_per_unit`` microvolts into ``out`` (N, A * 200). The
        caller has called :meth:`_this_process`."""
        for copy in self._copies(w, out, uv_per_unit):
            _apply(*copy)

    def _copies(self, w: int, out: np.ndarray, uv_per_unit: float) -> list[_Copy]:
        """The copies that fill ``out`` (N, A * 200) with window ``w`` in units of
        ``uv_per_unit`` microvolts, one per cached chunk it spans (see :func:`_apply`); the
        chunks are read or waited for here. The caller has called :meth:`_this_process`."""
        r = int(self.index.rec[w])
        plan = self.index.recordings[r]
        t0 = int(self.index.start[w])
        n = out.shape[1]
        _, n_total, _, every = self._recording(r)
        if t0 < 0 or t0 + n > n_total:
            # a window that wraps around the recording (tuev, edge_events="wrap")
            return [(self._wrapped(plan, t0, n), out, None, uv_per_unit)]
        pieces = self._pieces(r, t0, n)
        divisor = self._divisor[r]
        copies: list[_Copy] = []
        pos = 0
        for data, a, b in pieces:
            src = data[:, a:b] if every else data[plan.rows, a:b]
            copies.append((src, out[:, pos : pos + b - a], divisor, uv_per_unit))
            pos += b - a
        return copies

    def _wrapped(self, plan: Any, t0: int, n: int) -> np.ndarray:
        """Samples ``t0 .. t0 + n`` modulo the recording's length: the authors' TUEV windows
        near an edge, cut from the signal tiled three times."""
        store = self._store(plan.store)
        total = store.recording(plan.id).n_samples
        data = store.read(plan.id, 0, total)
        self.samples_read += total
        return data[plan.rows][:, (t0 + np.arange(n)) % total]

    def batch(self, ids: np.ndarray, out: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """A batch of equal-shape windows; ``x`` is filled into ``out`` when given (a float32
        buffer of at least ``B * N * A * 200`` elements, C-contiguous).

        Returns
        -------
        dict
            ``x`` (B, N, A, 200) float32 in 0.1 mV; ``channels`` (B, N) int64 vocabulary
            indices; ``y`` (B, n_targets) float32 labels; ``ids`` (B,) int64 window ids.
        """
        order = np.argsort(self.index.block[ids], kind="stable")  # read blocks in order
        first = self.index.recordings[int(self.index.rec[ids[0]])]
        B, N, L = len(ids), len(first.rows), int(self.index.n_patches[ids[0]]) * PATCH_SIZE
        if out is not None:
            out = out.reshape(-1)[: B * N * L].view(B, N, L)
        # in a loader worker the batch is made in shared memory, where the main process maps
        # it; an ordinary one would be copied there on its way (4.7 MB per LaBraM batch)
        elif get_worker_info() is not None:
            out = torch.empty((B, N, L), dtype=torch.float32).share_memory_()
        else:  # numpy's allocation: the heap's reused pages (torch maps large ones afresh)
            out = torch.from_numpy(np.empty((B, N, L), np.float32))
        x = out.numpy()  # filled in model units, window by window
        self._this_process()
        self._harvest(wait=False)
        copies = [c for j in order for c in self._copies(int(ids[j]), x[j], UV_PER_UNIT)]
        if self._executor is not None and len(copies) > 1:
            if self._filler is None:
                self._filler = ThreadPoolExecutor(1, thread_name_prefix="labram-fill")
            half = len(copies) // 2
            other = self._filler.submit(_apply_all, copies[half:])
            _apply_all(copies[:half])
            other.result()
        else:
            _apply_all(copies)
        chans = np.stack([self.index.recordings[int(self.index.rec[i])].channels for i in ids])
        return {
            "x": out.view(B, N, L // PATCH_SIZE, PATCH_SIZE),
            "channels": torch.from_numpy(chans.astype(np.int64)),
            "y": torch.from_numpy(self.index.labels[ids]),
            "ids": torch.from_numpy(ids.astype(np.int64)),
        }


class WindowDataset(IterableDataset):  # type: ignore[type-arg]
    """This rank's batches of one epoch, from a given position; split across workers.

    Call :meth:`set_epoch` before iterating. The epoch and start live in a shared-memory tensor
    that the dataloader's workers read each time they start an epoch, so one
    :func:`make_loader` serves every epoch of a run with workers started once
    (``persistent_workers``): set the epoch, then iterate the same loader again.
    """

    def __init__(
        self,
        plan: BatchPlan,
        *,
        block_seconds: int = BLOCK_SECONDS,
        cache_mb: float = 512,
        read_ahead: bool = True,
    ):
        super().__init__()
        self.plan = plan
        self.read_ahead = read_ahead
        # while a BatchLoader iterates this dataset: its flags, worker w's buffer s free for its
        # next batch (set by that loader once it has copied the batch out)
        self._free: torch.Tensor | None = None
        self._slots: list[torch.Tensor] | None = None  # this worker's buffers
        self._next_slot = 0
        self.reader = BlockReader(plan.index, block_seconds=block_seconds, cache_mb=cache_mb)
        self._position = torch.zeros(2, dtype=torch.int64).share_memory_()  # epoch, start

    @property
    def epoch(self) -> int:
        return int(self._position[0])

    @property
    def start(self) -> int:
        return int(self._position[1])

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Iterate epoch ``epoch`` from its rank-local batch ``start`` (in this process and in
        the workers of a loader over this dataset, at their next epoch)."""
        self._position[0], self._position[1] = epoch, start

    def __len__(self) -> int:
        return max(0, len(self.plan.batches(self.epoch)) - self.start)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        k, K = (info.id, info.num_workers) if info is not None else (0, 1)
        epoch, start = self.epoch, self.start
        batches = self.plan.batches(epoch)
        mine = range(start + k, len(batches), K)
        # read ahead by a pool of batches: a pool's first batch reads most of its blocks
        ahead = self.plan.pool_batches if self.read_ahead and info is None else 0
        for i in mine[:ahead]:
            self.reader.read_ahead(batches[i])
        free = self._free
        ring = free is not None and info is not None and info.id < RING_WORKERS
        if ring:  # every batch of the last epoch is copied out or dropped by now
            assert free is not None
            free[k] = 1
            self._slots = self._slots or [torch.empty(0).share_memory_()] * RING_SLOTS
        for j, i in enumerate(mine):
            if ahead and j + ahead < len(mine):
                self.reader.read_ahead(batches[mine[j + ahead]])
            if not ring:
                yield self.reader.batch(batches[i])
                continue
            buffer, slot = self._buffer(k, batches[i])
            batch = self.reader.batch(batches[i], out=buffer)
            if slot >= 0:
                batch["slot"] = torch.tensor([k, slot])
            yield batch

    def _buffer(self, w: int, ids: np.ndarray) -> tuple[torch.Tensor | None, int]:
        """Worker ``w``'s next free batch buffer for windows ``ids`` and its slot; ``(None,
        -1)`` when the loader still holds that slot's batch (a fresh buffer is made then)."""
        assert self._slots is not None and self._free is not None
        s = self._next_slot
        self._next_slot = (s + 1) % RING_SLOTS
        if not self._free[w, s]:
            return None, -1
        self._free[w, s] = 0
        index = self.plan.index
        rows = len(index.recordings[int(index.rec[ids[0]])].rows)
        need = len(ids) * rows * int(index.n_patches[ids[0]]) * PATCH_SIZE
        if self._slots[s].numel() < need:  # grown once per shape that needs more
            self._slots[s] = torch.empty(need, dtype=torch.float32).share_memory_()
        return self._slots[s], s

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_slots=None, _next_slot=0)  # a worker makes its own buffers
        return state


class BatchLoader:
    """Iterates a DataLoader over a :class:`WindowDataset`; see :func:`make_loader`.

    With workers, each worker fills its batches into a ring of ``RING_SLOTS`` shared-memory
    buffers made once, instead of a fresh shared-memory segment per batch (4.7 MB of pages
    faulted in by the worker and again by this process, every batch). This loader copies each
    batch out of its buffer as it arrives (or takes the DataLoader's pinned copy) and hands the
    buffer back, so a batch it yields is the caller's to keep; it keeps the buffers mapped.
    """

    def __init__(self, dataset: WindowDataset, loader: DataLoader) -> None:  # type: ignore[type-arg]
        self.dataset, self.loader = dataset, loader
        self._mapped: dict[tuple[int, int], torch.Tensor] = {}  # (worker, slot) -> its buffer
        # this loader's own flags: another loader over the same dataset has its own
        self._free = (
            torch.zeros((RING_WORKERS, RING_SLOTS), dtype=torch.int8).share_memory_()
            if loader.num_workers > 0
            else None
        )

    @property
    def num_workers(self) -> int:
        return int(self.loader.num_workers)

    @property
    def persistent_workers(self) -> bool:
        return bool(self.loader.persistent_workers)

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        from eegprep.base.allocator import reuse_freed_memory

        reuse_freed_memory()  # the copies reuse the heap's pages
        # workers started now (or before, persistent) use this loader's buffers; a plain
        # DataLoader made over the dataset afterwards does not
        self.dataset._free = self._free
        try:
            for batch in self.loader:
                slot = batch.pop("slot", None)
                if slot is not None and self._free is not None:
                    w, s = int(slot[0]), int(slot[1])
                    if not self.loader.pin_memory:  # pinned: already a copy
                        self._mapped[(w, s)] = batch["x"]
                        batch["x"] = batch["x"].clone()
                    self._free[w, s] = 1
                yield batch
        finally:
            if self.dataset._free is self._free:
                self.dataset._free = None


RING_SLOTS = 8
"""Batch buffers per loader worker: the DataLoader keeps up to ``prefetch_factor`` (4) batches
per worker on their way; more slots let a worker run ahead while the oldest are copied out."""

RING_WORKERS = 256
"""Workers beyond this make a fresh shared-memory batch each time."""


def make_loader(
    dataset: WindowDataset,
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    generator: torch.Generator | None = None,
) -> BatchLoader:
    """A loader that passes the dataset's ready-made batches through.

    Its workers start once and serve every epoch (``persistent_workers``): build one loader
    per run and call ``dataset.set_epoch`` before each pass over it. ``generator`` seeds the
    workers without drawing from the global RNG (so that a resumed run draws the same dropout
    masks as an uninterrupted one). Workers fill reused shared-memory buffers
    (:class:`BatchLoader`).
    """
    loader = DataLoader(
        dataset,
        batch_size=None,
        generator=generator,
        num_workers=num_workers,
        pin_memory=pin_memory,
        prefetch_factor=4 if num_workers else None,
        persistent_workers=num_workers > 0,
    )
    return BatchLoader(dataset, loader)
