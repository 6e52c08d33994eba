"""Reading training windows from eegprep stores: read chunks, decode, cut windows, scale.

:class:`BlockReader` fills batches of windows of a :class:`~labram.data.windows.WindowIndex`
straight from the stores' chunk files (:meth:`eegprep.store.reader.Store.iter_chunks`): a group
of batches at a time, each chunk they need read once, decoded and cut into all of its windows
while it is in the CPU's cache, and kept in a per-process cache of recent chunks; alone, with a
helper thread, or sharing a group's work items with other processes
(:meth:`BlockReader.fill_items`). The loader that feeds training is :mod:`labram.data.loader`.

Concurrency contract: a reader is safe to copy into another process; each process opens its
own store handles on first use (zarr's async machinery does not survive a fork); the process
that built the index reads through the stores it opened (``WindowIndex.opened``), which are
never pickled nor used in another process.
"""

from __future__ import annotations

import os
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import get_worker_info

from labram.data.windows import WindowIndex
from labram.model.config import PATCH_SIZE

UV_PER_UNIT = 100.0
"""The model's input unit is 0.1 mV: microvolts / 100 (LaBraM's signal contract)."""


def to_model_units(x_uv: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Microvolts -> model input units (0.1 mV). The one place where input scaling lives.
    ``out``: where to write the result (``x_uv`` itself: in place)."""
    return np.divide(x_uv, np.float32(UV_PER_UNIT), out=out)


_Piece = tuple[int, int, int, int, "np.ndarray | None"]
"""``(a, b, w, pos, rows)``: columns ``a:b`` of a chunk (its stored ``rows``, ``None``: all of
them, in order) go to window ``w`` of the fill (counting through its batches) from its column
``pos``."""

_Wrapped = tuple[int, int, int, int]
"""``(w, rec, t0, n)``: window ``w`` of a fill wraps around its recording (samples ``t0 .. t0 +
n`` modulo the recording's length)."""


class FillPlan(NamedTuple):
    """What filling a group of batches takes: each chunk's pieces (by ``(rec, chunk)``), the
    windows that wrap around their recording, and the group's windows (``n_windows``)."""

    pieces: dict[tuple[int, int], list[_Piece]]
    wrapped: list[_Wrapped]
    n_windows: int

    def items(self) -> list[_Work]:
        """The work items of the whole group, whatever a process has cached (the same list in
        every loader worker): runs of consecutive chunks, then each wrapped window."""
        runs: list[list[int]] = []
        for key in sorted(self.pieces):
            if runs and runs[-1][0] == key[0] and runs[-1][2] == key[1]:
                runs[-1][2] += 1
            else:
                runs.append([key[0], key[1], key[1] + 1])
        return _work_items(runs, []) + [(None, [], wrapped) for wrapped in self.wrapped]


def _apply(src: np.ndarray, dst: np.ndarray, divisor: float | None, uv_per_unit: float) -> None:
    """``dst = src`` in units of ``uv_per_unit`` microvolts.

    ``src`` holds float32 microvolts (``divisor`` None) or a quantized chunk's integers: in
    microvolts (``uv_per_unit == 1``) those are divided in float64 as zarr decodes them (the
    stored values to the bit); in any other unit they are converted to float32 and multiplied
    by one float32 factor, ``1 / (divisor * uv_per_unit)``: within 2 float32 ulp of dividing the
    microvolts. The conversion, then the product in place while the window is in the CPU's
    cache, is 3-7% faster per window than numpy's buffered convert-and-multiply, and gives the
    same bits.
    """
    if divisor is None:
        np.divide(src, np.float32(uv_per_unit), out=dst)
    elif uv_per_unit == 1.0:
        np.divide(src, divisor, out=dst, dtype=np.float64, casting="same_kind")
    else:
        np.copyto(dst, src, casting="unsafe")
        np.multiply(dst, np.float32(1.0 / (divisor * uv_per_unit)), out=dst)


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
        self._home = os.getpid()  # the process whose stores index.opened holds
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
        """For a dataloader worker: no thread, no open store and nothing read crosses to
        another process (which opens its own: :meth:`_this_process`)."""
        state = dict(self.__dict__)
        state.update(_helper=None, _pid=-1, _stores={}, _info={}, _divisor={})
        state.update(_cache=OrderedDict(), _cached_bytes=0)
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
            opened = self.index.opened
            if opened is not None and self._home == os.getpid():  # the command's own stores
                self._stores[i] = opened[i]
            else:  # a worker (forked or spawned), or an index built without them
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
        plan = self.plan(batches)
        dsts = _windows_of(outs)
        for w, r, t0, n in plan.wrapped:
            _apply(self._wrapped(self.index.recordings[r], t0, n), dsts[w], None, uv_per_unit)
        runs: list[list[int]] = []  # [rec, first, last + 1]: chunks to read, one read each
        cached: list[tuple[int, int]] = []
        for key in sorted(plan.pieces):
            if key in self._cache:
                cached.append(key)
                self._cache.move_to_end(key)
            elif runs and runs[-1][0] == key[0] and runs[-1][2] == key[1]:
                runs[-1][2] += 1
            else:
                runs.append([key[0], key[1], key[1] + 1])
        work = deque(_work_items(runs, cached))  # (its pops are atomic: a queue for threads)
        if helper and len(work) > 1:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="labram-fill")
            # both threads take the next item: neither waits long for the other at the end
            other = self._helper.submit(self._cut, plan, dsts, _popper(work), uv_per_unit)
            try:
                read = self._cut(plan, dsts, _popper(work), uv_per_unit)
            except BaseException:
                other.exception()  # let it finish (into these buffers) first; ours is raised
                raise
            read += other.result()
        else:
            read = self._cut(plan, dsts, _popper(work), uv_per_unit)
        self._keep(read, len(plan.pieces))

    def fill_items(
        self,
        plan: FillPlan,
        outs: list[np.ndarray],
        items: list[_Work],
        take: Callable[[], int | None],
        done: Callable[[], None],
        *,
        uv_per_unit: float = UV_PER_UNIT,
    ) -> None:
        """Do the items of ``items`` that ``take`` hands this process (their numbers, None when
        none is left; ``done`` after each) into ``outs``: another process does the rest, into
        the same shared buffers (:class:`~labram.data.shared_fill.SharedFill`)."""
        self._this_process()
        dsts = _windows_of(outs)

        def mine() -> _Work | None:
            i = take()
            return None if i is None else items[i]

        read = self._cut(plan, dsts, mine, uv_per_unit, done=done)
        self._keep(read, len(plan.pieces))

    def _keep(self, read: list[tuple[tuple[int, int], np.ndarray, float | None]], n: int) -> None:
        """Cache the chunks a fill read, then drop the least recently used beyond the cache's
        size (never the ``n`` chunks of the fill)."""
        for key, data, divisor in read:
            self._divisor[key[0]] = divisor
            self.samples_read += data.shape[1]
            old = self._cache.pop(key, None)
            self._cached_bytes += data.nbytes - (old.nbytes if old is not None else 0)
            self._cache[key] = data
        while self._cached_bytes > self.cache_bytes and len(self._cache) > n:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.nbytes

    def plan(self, batches: list[np.ndarray]) -> FillPlan:
        """Each chunk's pieces of the windows of ``batches`` (window ``w`` counts through the
        batches in order), and the windows that wrap around their recording."""
        self._this_process()
        index = self.index
        pieces: dict[tuple[int, int], list[_Piece]] = {}
        wrapped: list[_Wrapped] = []
        info: dict[int, tuple[int, int, np.ndarray | None]] = {}  # rec -> samples, chunk, rows
        base = 0
        for ids in batches:
            order = np.argsort(index.block[ids], kind="stable")  # reads in block order
            n = int(index.n_patches[ids[0]]) * PATCH_SIZE
            for j, r, t0 in zip(
                order.tolist(), index.rec[ids[order]].tolist(), index.start[ids[order]].tolist()
            ):
                if r not in info:
                    _, n_total, chunk, every = self._recording(r)
                    info[r] = (n_total, chunk, None if every else index.recordings[r].rows)
                n_total, chunk, rows = info[r]
                w = base + j
                if t0 < 0 or t0 + n > n_total:
                    # a window that wraps around the recording (tuev, edge_events="wrap")
                    wrapped.append((w, r, t0, n))
                    continue
                k0, a = divmod(t0, chunk)
                if a + n <= chunk:  # in one chunk (4 s windows in 60 s chunks: always)
                    pieces.setdefault((r, k0), []).append((a, a + n, w, 0, rows))
                    continue
                pos = 0
                for k in range(k0, -(-(t0 + n) // chunk)):
                    a = max(t0, k * chunk) - k * chunk
                    b = min(t0 + n, (k + 1) * chunk) - k * chunk
                    pieces.setdefault((r, k), []).append((a, b, w, pos, rows))
                    pos += b - a
            base += len(ids)
        return FillPlan(pieces, wrapped, base)

    def _cut(
        self,
        plan: FillPlan,
        dsts: list[np.ndarray],
        take: Callable[[], _Work | None],
        uv_per_unit: float,
        done: Callable[[], None] | None = None,
    ) -> list[tuple[tuple[int, int], np.ndarray, float | None]]:
        """Take items with ``take`` until none is left (another thread or process may take
        from the same work): read and decode a run's chunks (or find them all cached), cutting
        each into its pieces as it comes, cut cached chunks, or fill a wrapped window; the
        chunks read, ``(key, chunk, divisor)``, to cache."""
        pieces = plan.pieces
        read = []
        while (item := take()) is not None:
            run, cached, wrapped = item
            if run is not None:
                r, lo, hi = run
                if all((r, k) in self._cache for k in range(lo, hi)):
                    cached = [(r, k) for k in range(lo, hi)]  # (a worker's own cache)
                else:
                    store = self._recording(r)[0]
                    self.n_reads += 1
                    chunks, divisor = store.iter_chunks(self.index.recordings[r].id, lo, hi)
                    for k, data in enumerate(chunks, lo):
                        for piece in pieces[(r, k)]:
                            _put(data, piece, dsts, divisor, uv_per_unit)
                        read.append(((r, k), data, divisor))
            for key in cached:
                data, divisor = self._cache[key], self._divisor[key[0]]
                for piece in pieces[key]:
                    _put(data, piece, dsts, divisor, uv_per_unit)
            if wrapped is not None:
                w, r, t0, n = wrapped
                _apply(self._wrapped(self.index.recordings[r], t0, n), dsts[w], None, uv_per_unit)
            if done is not None:
                done()
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
        return as_batch(x, self.batch_arrays(ids))

    def batch_arrays(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The small arrays of batch ``ids``: ``channels`` (B, N) int64 vocabulary indices,
        ``y`` (B, n_targets) float32 labels, ``ids`` (B,) int64."""
        recs = self.index.recordings
        # the few recordings of a batch once each (a pool mixes a few blocks)
        unique, inverse = np.unique(self.index.rec[ids], return_inverse=True)
        chans = np.stack([recs[r].channels for r in unique.tolist()])[inverse]
        return {
            "channels": chans.astype(np.int64, copy=False),
            "y": self.index.labels[ids],
            "ids": ids.astype(np.int64),
        }


def as_batch(x: torch.Tensor, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
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
    dsts: list[np.ndarray],
    divisor: float | None,
    uv_per_unit: float,
) -> None:
    """A piece of chunk ``data`` into its window of ``dsts`` (see :func:`_apply`)."""
    a, b, w, pos, rows = piece
    dst = dsts[w]
    if b - a != dst.shape[1]:  # a window across chunks: its part from this one
        dst = dst[:, pos : pos + b - a]
    _apply(data[:, a:b] if rows is None else data[rows, a:b], dst, divisor, uv_per_unit)


def _windows_of(outs: list[np.ndarray]) -> list[np.ndarray]:
    """Each window of ``outs`` (batches, ``(B, N, L)`` each), in order: the destinations of a
    fill's pieces."""
    return [x for out in outs for x in out]


_Work = tuple["tuple[int, int, int] | None", list[tuple[int, int]], "_Wrapped | None"]
"""An item of a fill's work: a run of chunks to read, ``(rec, first, last + 1)``, or
``None``; cached chunks to cut; and a window that wraps around its recording, or ``None``."""


def _popper(work: deque[_Work]) -> Callable[[], _Work | None]:
    """Takes the next item of ``work`` (atomic: threads share it), None when none is left."""

    def take() -> _Work | None:
        try:
            return work.popleft()
        except IndexError:
            return None

    return take


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
            work.append(((r, a, min(a + RUN_CHUNKS, hi)), [], None))
    for i in range(0, len(cached), RUN_CHUNKS):
        work.append((None, cached[i : i + RUN_CHUNKS], None))
    return work
