"""Streaming batches from eegprep stores: read chunks, cut windows, scale.

``WindowDataset`` is an ``IterableDataset`` over a :class:`~labram.data.sampler.BatchPlan`: each
item is one whole batch of equal-shape windows (no padding), so wrap it in a ``DataLoader``
with ``batch_size=None`` (:func:`make_loader`). Reads go straight from the stores' chunk files
(:meth:`eegprep.store.reader.Store.iter_chunks`): batches are filled a group at a time (a
sampler pool's), each chunk they need read once, decoded and cut into all of its windows while
it is in the CPU's cache, and kept in a per-process cache of recent chunks. Nothing is converted
or copied to disk.

Concurrency contract: a dataset is safe to copy into any number of dataloader worker processes;
each process opens its own store handles on first use (zarr's async machinery does not survive a
fork).
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from labram.data.sampler import BatchPlan
from labram.data.windows import WindowIndex
from labram.model.config import PATCH_SIZE

UV_PER_UNIT = 100.0
"""The model's input unit is 0.1 mV: microvolts / 100 (LaBraM's signal contract)."""


GROUP_MB = 128.0
"""Most memory, MB, of the batches one process fills at once (their samples, float32)."""


def to_model_units(x_uv: np.ndarray) -> np.ndarray:
    """Microvolts -> model input units (0.1 mV). The one place where input scaling lives."""
    return x_uv / np.float32(UV_PER_UNIT)


_Piece = tuple[int, int, np.ndarray, "np.ndarray | None"]
"""``(a, b, destination, rows)``: columns ``a:b`` of a chunk (its stored ``rows``, ``None``:
all of them, in order) go to ``destination`` (rows x b - a)."""


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


class BlockReader:
    """Fills batches of windows of an index from the stores' chunks, with an LRU chunk cache.

    A window's samples come from its recording's stored chunks (60 s of every channel each).
    :meth:`fill` takes several batches at once (a pool's): it reads each chunk they need and
    that is not cached once, consecutive chunks of a recording in one read, and decodes and
    cuts each chunk into every window that needs it right away, while the chunk is in the
    CPU's cache (a window cut later, from memory, costs twice as much), then keeps it in the
    cache for the next batches. With ``helper``, a second thread shares the work: both take
    items of at most :data:`RUN_CHUNKS` chunks from one queue until none is left (decoding and
    the copies release the GIL).

    Parameters
    ----------
    index : WindowIndex
    cache_mb : float
        Memory for recent chunks per process, in MB: the corpus of an epoch, when it fits, is
        decoded once; the chunks of the batches being filled are kept whatever the size.
    """

    def __init__(self, index: WindowIndex, *, cache_mb: float = 512):
        self.index = index
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
        self._helper: ThreadPoolExecutor | None = None  # this process's second thread

    def __getstate__(self) -> dict[str, Any]:
        """For a dataloader worker: no thread crosses to another process."""
        state = dict(self.__dict__)
        state.update(_helper=None)
        return state

    def _this_process(self) -> None:
        """In a fresh process (a dataloader worker), start with fresh store handles."""
        if self._pid != os.getpid():
            from eegprep.base.allocator import reuse_freed_memory

            reuse_freed_memory()  # evicted chunks' memory serves the next reads
            self._pid, self._stores, self._cache = os.getpid(), {}, OrderedDict()
            self._cached_bytes = 0
            self._info, self._divisor = {}, {}
            self._helper = None  # no thread forks
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

    def fill(
        self,
        batches: list[np.ndarray],
        outs: list[np.ndarray],
        *,
        uv_per_unit: float = UV_PER_UNIT,
        helper: bool = False,
    ) -> None:
        """Windows ``batches[j]`` into ``outs[j]``, ``(len(batches[j]), N, L)`` float32, in
        units of ``uv_per_unit`` microvolts (model units by default), ``helper``: with a
        second thread. Each chunk is read and decoded at most once (none that is cached) and
        cut into all its windows at once."""
        self._this_process()
        pieces = self._plan_pieces(batches, outs, uv_per_unit)
        runs: list[list[int]] = []  # [rec, first, last + 1]: chunks to read, one read each
        cached: list[tuple[int, int]] = []
        for key in sorted(pieces):
            if key in self._cache:
                cached.append(key)
                self._cache.move_to_end(key)
            elif runs and runs[-1][0] == key[0] and runs[-1][2] == key[1]:
                runs[-1][2] += 1
            else:
                runs.append([key[0], key[1], key[1] + 1])
        work = deque(_work_items(runs, cached))  # (its pops are atomic: a queue for threads)
        self.n_reads += sum(run is not None for run, _ in work)  # one read each
        if helper and len(work) > 1:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="labram-fill")
            # both threads take the next item: neither waits long for the other at the end
            other = self._helper.submit(self._cut, pieces, work, uv_per_unit)
            try:
                read = self._cut(pieces, work, uv_per_unit)
            except BaseException:
                other.exception()  # let it finish (into these buffers) first; ours is raised
                raise
            read += other.result()
        else:
            read = self._cut(pieces, work, uv_per_unit)
        for key, data, divisor in read:
            self._divisor[key[0]] = divisor
            self.samples_read += data.shape[1]
            old = self._cache.pop(key, None)
            self._cached_bytes += data.nbytes - (old.nbytes if old is not None else 0)
            self._cache[key] = data
        while self._cached_bytes > self.cache_bytes and len(self._cache) > len(pieces):
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.nbytes

    def _plan_pieces(
        self, batches: list[np.ndarray], outs: list[np.ndarray], uv_per_unit: float
    ) -> dict[tuple[int, int], list[_Piece]]:
        """Each chunk's pieces of the windows of ``batches`` (by ``(rec, chunk)``); a window
        that wraps around its recording is filled here instead."""
        index = self.index
        pieces: dict[tuple[int, int], list[_Piece]] = {}
        info: dict[int, tuple[int, int, np.ndarray | None]] = {}  # rec -> samples, chunk, rows
        for ids, x in zip(batches, outs, strict=True):
            order = np.argsort(index.block[ids], kind="stable")  # reads in block order
            n = x.shape[2]
            for j, r, t0 in zip(
                order.tolist(), index.rec[ids[order]].tolist(), index.start[ids[order]].tolist()
            ):
                if r not in info:
                    _, n_total, chunk, every = self._recording(r)
                    info[r] = (n_total, chunk, None if every else index.recordings[r].rows)
                n_total, chunk, rows = info[r]
                dst = x[j]
                if t0 < 0 or t0 + n > n_total:
                    # a window that wraps around the recording (tuev, edge_events="wrap")
                    _apply(self._wrapped(index.recordings[r], t0, n), dst, None, uv_per_unit)
                    continue
                k0, a = divmod(t0, chunk)
                if a + n <= chunk:  # in one chunk (4 s windows in 60 s chunks: always)
                    pieces.setdefault((r, k0), []).append((a, a + n, dst, rows))
                    continue
                pos = 0
                for k in range(k0, -(-(t0 + n) // chunk)):
                    a = max(t0, k * chunk) - k * chunk
                    b = min(t0 + n, (k + 1) * chunk) - k * chunk
                    pieces.setdefault((r, k), []).append((a, b, dst[:, pos : pos + b - a], rows))
                    pos += b - a
        return pieces

    def _cut(
        self,
        pieces: dict[tuple[int, int], list[_Piece]],
        work: deque[_Work],
        uv_per_unit: float,
    ) -> list[tuple[tuple[int, int], np.ndarray, float | None]]:
        """Take items from ``work`` until none is left (another thread may take from it too):
        read and decode a run's chunks, cutting each into its pieces as it comes, or cut
        cached chunks; the chunks read, ``(key, chunk, divisor)``, to cache."""
        read = []
        while True:
            try:
                run, cached = work.popleft()
            except IndexError:
                break
            if run is not None:
                r, lo, hi = run
                store = self._recording(r)[0]
                chunks, divisor = store.iter_chunks(self.index.recordings[r].id, lo, hi)
                for k, data in enumerate(chunks, lo):
                    for piece in pieces[(r, k)]:
                        _put(data, piece, divisor, uv_per_unit)
                    read.append(((r, k), data, divisor))
            for key in cached:
                data, divisor = self._cache[key], self._divisor[key[0]]
                for piece in pieces[key]:
                    _put(data, piece, divisor, uv_per_unit)
        return read

    def window(self, w: int) -> np.ndarray:
        """Window ``w``: float32 microvolts, shape (N, A * 200), the plan's channel rows; the
        values :meth:`Store.read` returns, to the bit."""
        plan = self.index.recordings[int(self.index.rec[w])]
        n = int(self.index.n_patches[w]) * PATCH_SIZE
        out = np.empty((1, len(plan.rows), n), np.float32)
        self.fill([np.array([w])], [out], uv_per_unit=1.0)
        return out[0]

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
        x = self.batch_buffer(ids, out)
        self.fill([ids], [x.numpy()])
        return self.batch_dict(ids, x)

    def batch_buffer(self, ids: np.ndarray, out: torch.Tensor | None = None) -> torch.Tensor:
        """The (B, N, L) float32 tensor batch ``ids`` is filled into: a view of ``out`` when
        given; in a dataloader worker, shared memory; else a fresh tensor."""
        first = self.index.recordings[int(self.index.rec[ids[0]])]
        B, N, L = len(ids), len(first.rows), int(self.index.n_patches[ids[0]]) * PATCH_SIZE
        if out is not None:
            return out.reshape(-1)[: B * N * L].view(B, N, L)
        # in a loader worker the batch is made in shared memory, where the main process maps
        # it; an ordinary one would be copied there on its way (4.7 MB per LaBraM batch)
        if get_worker_info() is not None:
            return torch.empty((B, N, L), dtype=torch.float32).share_memory_()
        # numpy's allocation: the heap's reused pages (torch maps large ones afresh)
        return torch.from_numpy(np.empty((B, N, L), np.float32))

    def batch_dict(self, ids: np.ndarray, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Batch ``ids`` as :meth:`batch` returns it, ``x`` (B, N, L) filled."""
        return _as_batch(x, self.batch_arrays(ids))

    def batch_arrays(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The small arrays of batch ``ids``: ``channels`` (B, N) int64 vocabulary indices,
        ``y`` (B, n_targets) float32 labels, ``ids`` (B,) int64."""
        recs = self.index.recordings
        chans = np.stack([recs[int(self.index.rec[i])].channels for i in ids])
        return {
            "channels": chans.astype(np.int64),
            "y": self.index.labels[ids],
            "ids": ids.astype(np.int64),
        }


def _as_batch(x: torch.Tensor, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """A batch: ``x`` (B, N, L) as (B, N, L / 200, 200) and ``arrays``
    (:meth:`BlockReader.batch_arrays`) as tensors sharing their memory."""
    B, N, L = x.shape
    return {
        "x": x.view(B, N, L // PATCH_SIZE, PATCH_SIZE),
        **{name: torch.from_numpy(arrays[name]) for name in ("channels", "y", "ids")},
    }


def _put(
    data: np.ndarray,
    piece: _Piece,
    divisor: float | None,
    uv_per_unit: float,
) -> None:
    """A piece of chunk ``data`` into its destination (see :func:`_apply`)."""
    a, b, dst, rows = piece
    _apply(data[:, a:b] if rows is None else data[rows, a:b], dst, divisor, uv_per_unit)


_Work = tuple["tuple[int, int, int] | None", list[tuple[int, int]]]
"""An item of a fill's work: a run of chunks to read, ``(rec, first, last + 1)``, or
``None``, and cached chunks to cut."""

RUN_CHUNKS = 2
"""Most chunks of one item of a fill's work (:func:`_work_items`): 2 was as fast as 4 or 8
and faster than whole runs (docs/benchmarks.md, section 8)."""


def _work_items(runs: list[list[int]], cached: list[tuple[int, int]]) -> list[_Work]:
    """A fill's work in small items: the runs to read, cut into runs of at most
    :data:`RUN_CHUNKS` chunks (one read each), then the cached chunks, :data:`RUN_CHUNKS` at a
    time. Two threads taking items from one queue then end a fill within one item of each
    other (fixed halves left one thread waiting ~4 ms a group: 8% slower)."""
    work: list[_Work] = []
    for r, lo, hi in runs:
        for a in range(lo, hi, RUN_CHUNKS):
            work.append(((r, a, min(a + RUN_CHUNKS, hi)), []))
    for i in range(0, len(cached), RUN_CHUNKS):
        work.append((None, cached[i : i + RUN_CHUNKS]))
    return work


class WindowDataset(IterableDataset):  # type: ignore[type-arg]
    """This rank's batches of one epoch, from a given position; split across workers.

    Call :meth:`set_epoch` before iterating. The epoch and start live in a shared-memory tensor
    that the dataloader's workers read each time they start an epoch, so one
    :func:`make_loader` serves every epoch of a run with workers started once
    (``persistent_workers``): set the epoch, then iterate the same loader again.

    Parameters
    ----------
    plan : BatchPlan
    cache_mb : float
        The reader's chunk cache per process, MB (:class:`BlockReader`).
    helper_thread : bool
        In one process (no loader workers), fill with a second thread too.
    group_mb : float
        Most memory, MB, of the batches filled at once (up to a sampler pool of them; a
        loader worker fills its share of a pool, :func:`worker_group`).
    """

    def __init__(
        self,
        plan: BatchPlan,
        *,
        cache_mb: float = 512,
        helper_thread: bool = True,
        group_mb: float = GROUP_MB,
    ):
        super().__init__()
        self.plan = plan
        self.helper_thread = helper_thread
        self.group_bytes = int(group_mb * 1e6)
        # while a BatchLoader iterates this dataset: its flags, worker w's buffer s free for its
        # next batch (set by that loader once it has copied the batch out)
        self._free: torch.Tensor | None = None
        self._slots: list[torch.Tensor] | None = None  # this worker's buffers
        self._next_slot = 0
        self._sent: set[int] = set()  # slots whose buffer, as it is now, the loader has mapped
        self._pinned = False  # set by a BatchLoader that pins memory: send every batch whole
        self.reader = BlockReader(plan.index, cache_mb=cache_mb)
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
        batches, pools = self.plan.batches(epoch), self.plan.pools(epoch)
        picked = range(start + k, len(batches), K)
        mine = [batches[i] for i in picked]
        free = self._free
        ring = free is not None and info is not None and info.id < RING_WORKERS
        if ring:  # (the loader frees the buffers of the last epoch's batches it dropped)
            n_slots = ring_slots(self.plan.pool_batches, K)
            if self._slots is None or len(self._slots) != n_slots:
                self._slots = [torch.empty(0).share_memory_()] * n_slots
                self._next_slot = 0
            # the loader may have dropped the last epoch's batches unread (a loop that
            # stopped early): each buffer goes with its first batch again
            self._sent.clear()
        # batches are filled a group at a time, each chunk decoded once for all its windows in
        # the group: a pool's batches (a worker's share of a pool), as far as memory allows
        most = worker_group(self.plan.pool_batches, K)
        helper = self.helper_thread and info is None  # workers are the threads of a pool
        for group in self._groups(mine, [int(pools[i]) for i in picked], most):
            outs, slots = [], []
            for ids in group:
                buffer, slot = self._buffer(k, ids) if ring else (None, -1)
                outs.append(self.reader.batch_buffer(ids, buffer))
                slots.append(slot)
            self.reader.fill(group, [x.numpy() for x in outs], helper=helper)
            for ids, x, slot in zip(group, outs, slots, strict=True):
                yield self._ring_item(k, slot, ids, x) if ring else self.reader.batch_dict(ids, x)

    def _ring_item(self, k: int, slot: int, ids: np.ndarray, x: torch.Tensor) -> dict[str, Any]:
        """What worker ``k`` sends its :class:`BatchLoader` for batch ``ids`` in ring buffer
        ``slot`` (-1: a fresh buffer): numpy arrays (pickled whole: a tensor would cost a
        shared-memory segment and a file descriptor each), ``meta`` ``[k, slot, B, N, L]``,
        and ``x`` only the first time a buffer is used (the flat buffer, which the loader keeps
        mapped), for a fresh buffer, or when the loader pins memory."""
        item: dict[str, Any] = {
            "meta": np.array([k, slot, *x.shape], np.int64),
            **self.reader.batch_arrays(ids),
        }
        if slot < 0 or self._pinned:
            item["x"] = x
        elif slot not in self._sent:
            assert self._slots is not None
            item["x"] = self._slots[slot]
            self._sent.add(slot)
        return item

    def _groups(
        self, mine: list[np.ndarray], pools: list[int], most: int
    ) -> Iterator[list[np.ndarray]]:
        """``mine`` in runs of consecutive batches of one pool (``pools``: each batch's) and
        one window shape, at most ``most`` and :attr:`group_bytes` of samples each (at least
        one batch)."""
        index = self.plan.index
        group: list[np.ndarray] = []
        key, size = (-1, -1, -1), 0
        for ids, pool in zip(mine, pools, strict=True):
            w = int(ids[0])
            now = (pool, len(index.recordings[int(index.rec[w])].rows), int(index.n_patches[w]))
            nbytes = len(ids) * now[1] * now[2] * PATCH_SIZE * 4
            if group and (now != key or len(group) == most or size + nbytes > self.group_bytes):
                yield group
                group, size = [], 0
            group.append(ids)
            key, size = now, size + nbytes
        if group:
            yield group

    def _buffer(self, w: int, ids: np.ndarray) -> tuple[torch.Tensor | None, int]:
        """Worker ``w``'s next free batch buffer for windows ``ids`` and its slot; ``(None,
        -1)`` when the loader still holds that slot's batch (a fresh buffer is made then)."""
        assert self._slots is not None and self._free is not None
        s = self._next_slot
        self._next_slot = (s + 1) % len(self._slots)
        if not self._free[w, s]:
            return None, -1
        self._free[w, s] = 0
        index = self.plan.index
        rows = len(index.recordings[int(index.rec[ids[0]])].rows)
        need = len(ids) * rows * int(index.n_patches[ids[0]]) * PATCH_SIZE
        if self._slots[s].numel() < need:  # grown once per shape that needs more
            self._slots[s] = torch.empty(need, dtype=torch.float32).share_memory_()
            self._sent.discard(s)  # the loader maps the new buffer when it comes
        return self._slots[s], s

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_slots=None, _next_slot=0, _sent=set())  # a worker makes its own buffers
        return state


class BatchLoader:
    """Iterates a DataLoader over a :class:`WindowDataset`; see :func:`make_loader`.

    With workers, each worker fills its batches into a ring of :func:`ring_slots` shared-memory
    buffers made once, instead of a fresh shared-memory segment per batch (4.7 MB of pages
    faulted in by the worker and again by this process, every batch), and sends each buffer
    once an epoch (afterwards its number). This loader keeps the buffers mapped and yields a
    batch's ``x`` as its buffer itself, lent: the buffer goes back to its worker when nothing
    made from the batch lives any more (a finalizer on the lease), so a batch, or a view of
    it, is the caller's to keep; a worker whose next buffer is still lent makes a fresh one.
    With ``pin_memory`` the DataLoader's pinned copy is yielded and the buffer goes back at
    once. At the start of each pass, the buffers of batches the last pass dropped unread go
    back.
    """

    def __init__(self, dataset: WindowDataset, loader: DataLoader) -> None:  # type: ignore[type-arg]
        self.dataset, self.loader = dataset, loader
        self._mapped: dict[tuple[int, int], torch.Tensor] = {}  # (worker, slot) -> its buffer
        self._leased: dict[tuple[int, int], weakref.ref[_Lease]] = {}
        # this loader's own flags: another loader over the same dataset has its own
        self._n_slots = ring_slots(dataset.plan.pool_batches, loader.num_workers)
        self._free = (
            torch.zeros((RING_WORKERS, self._n_slots), dtype=torch.int8).share_memory_()
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
        self.dataset._pinned = bool(self.loader.pin_memory)
        if self._free is not None:
            # buffers whose batches were dropped unread (a loop that stopped early) go back;
            # those of batches still held stay leased
            self._leased = {key: ref for key, ref in self._leased.items() if ref() is not None}
            for w in range(min(self.loader.num_workers, RING_WORKERS)):
                for s in range(self._n_slots):
                    if (w, s) not in self._leased:
                        self._free[w, s] = 1
        try:
            for item in self.loader:
                yield self._batch(item) if "meta" in item else item
        finally:
            if self.dataset._free is self._free:
                self.dataset._free = None

    def _batch(self, item: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The batch a worker sent from its ring (:meth:`WindowDataset._ring_item`): ``x`` is
        the buffer itself, leased until nothing made from it lives (or the DataLoader's pinned
        copy, and the buffer goes back at once)."""
        w, s, B, N, L = (int(v) for v in item["meta"])
        x = item.get("x")
        if s >= 0 and not self.loader.pin_memory:
            if x is not None:
                self._mapped[(w, s)] = x  # the buffer, flat: mapped from now on
            view = self._mapped[(w, s)][: B * N * L].numpy().reshape(B, N, L)
            assert self._free is not None
            lease = _Lease(view, self._free, w, s)
            self._leased[(w, s)] = weakref.ref(lease)
            x = torch.from_numpy(np.asarray(lease))
        elif s >= 0:
            assert self._free is not None
            self._free[w, s] = 1
        assert x is not None
        return _as_batch(x, item)


class _Lease:
    """A worker's ring buffer lent out as a batch: numpy (and torch through it) keeps this
    object alive while any array or tensor made from the batch does; then the buffer goes back
    to the worker (its flag in ``free``)."""

    def __init__(self, view: np.ndarray, free: torch.Tensor, w: int, s: int) -> None:
        self.__array_interface__ = view.__array_interface__
        self._view = view  # (the mapping)
        weakref.finalize(self, _give_back, free, w, s)


def _give_back(free: torch.Tensor, w: int, s: int) -> None:
    free[w, s] = 1


PREFETCH = 4
"""Batches the DataLoader keeps on their way from each worker (its ``prefetch_factor``)."""


def worker_group(pool_batches: int, n_workers: int) -> int:
    """Batches one process fills together: its share of a sampler pool, ``ceil(pool_batches /
    n_workers)`` (loader worker ``k`` of ``n`` takes batches ``k, k + n, ...``), so that each
    of the pool's chunks is decoded once per process. Smaller groups decoded the pool's
    chunks again for each group (2 workers on 2 cores, groups of 4 out of 10: 18-21k
    windows/s; groups of 10: 29-33k; docs/benchmarks.md, section 8)."""
    return max(1, -(-pool_batches // max(1, n_workers)))


def ring_slots(pool_batches: int, n_workers: int) -> int:
    """Batch buffers per loader worker: a group (:func:`worker_group`), the :data:`PREFETCH`
    batches on their way while it fills, and two the training loop may still hold; a worker
    whose next buffer is still lent makes a fresh one instead (slower: a new shared-memory
    segment). Buffers are made on first use."""
    return worker_group(pool_batches, n_workers) + PREFETCH + 2


RING_WORKERS = 256
"""Workers beyond this make a fresh shared-memory batch each time."""


def _as_is(item: Any) -> Any:
    """The DataLoader's conversion of an item: none (its default turns numpy arrays into
    tensors, which a worker would send through shared memory, one segment each)."""
    return item


def _pins() -> bool:
    """Whether a DataLoader asked to pin memory does (torch's rule: an accelerator, not MPS)."""
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is None:  # torch before 2.6
        return bool(torch.cuda.is_available())
    current = accelerator.current_accelerator() if accelerator.is_available() else None
    return current is not None and current.type != "mps"


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
    (:class:`BatchLoader`). ``pin_memory`` where there is nothing to pin for (no accelerator,
    or Apple's MPS, as the DataLoader decides) is off: the loader must know whether a batch is
    a pinned copy or a worker's buffer lent.
    """
    loader = DataLoader(
        dataset,
        batch_size=None,
        collate_fn=_as_is,  # the batches are made; a worker's numpy arrays stay numpy
        generator=generator,
        num_workers=num_workers,
        pin_memory=pin_memory and _pins(),
        prefetch_factor=PREFETCH if num_workers else None,
        persistent_workers=num_workers > 0,
    )
    return BatchLoader(dataset, loader)
