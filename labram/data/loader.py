"""Streaming batches from eegprep stores to training: the dataset, its workers, the loader.

``WindowDataset`` is an ``IterableDataset`` over a :class:`~labram.data.sampler.BatchPlan`: each
item is one whole batch of equal-shape windows (no padding), so wrap it in a ``DataLoader``
with ``batch_size=None`` (:func:`make_loader`). Its :class:`~labram.data.block_reader.BlockReader`
fills the batches a group (a sampler pool's) at a time, straight from the stores' chunk files;
loader workers fill each group together in shared memory (:mod:`labram.data.shared_fill`).
Nothing is converted or copied to disk.

Concurrency contract: a dataset is safe to copy into any number of dataloader worker processes;
each process opens its own store handles on first use (zarr's async machinery does not survive a
fork).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
import weakref
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from eegprep.base.bounds import check_number
from eegprep.base.errors import StoreFormatError, UsageError
from labram.data.block_reader import BlockReader, as_batch
from labram.data.sampler import BatchPlan
from labram.data.shared_fill import SLOT_WAIT_SECONDS, SharedFill
from labram.data.unreadable import FOUND, fill_readable
from labram.model.config import PATCH_SIZE

GROUP_MB = 128.0
"""Most memory, MB, of the batches one process fills at once (their samples, float32)."""


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
        The reader's chunk cache per process, MB (:class:`~labram.data.block_reader.BlockReader`).
    helper_thread : bool
        In one process (no loader workers), fill with a second thread too.
    group_mb : float
        Most memory, MB, of the batches filled at once (up to a sampler pool of them).
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
        cache_mb = check_number("cache_mb", cache_mb)  # (once: NaN or 1e30 MB was taken)
        group_mb = check_number("group_mb", group_mb)
        self.plan = plan
        self.helper_thread = helper_thread
        self.group_bytes = int(group_mb * 1e6)
        # while a BatchLoader iterates this dataset: the slots its workers fill together
        self._shared: SharedFill | None = None
        self.reader = BlockReader(plan.index, cache_mb=cache_mb)
        # epoch, start; moved to shared memory by make_loader when workers will read it (in
        # one process it is none of the system's shared memory, which may not be writable)
        self._position = torch.zeros(2, dtype=torch.int64)

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

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        k, K = (info.id, info.num_workers) if info is not None else (0, 1)
        epoch, start = self.epoch, self.start
        batches, pools = self.plan.batches(epoch), self.plan.pools(epoch)
        if info is not None and self._shared is not None:
            yield from self._together(self._shared, batches[start:], pools[start:], k, K)
            return
        picked = range(start + k, len(batches), K)
        mine = [batches[i] for i in picked]
        # batches are filled a group at a time, each chunk decoded once for all its windows in
        # the group: a pool's batches (a worker's share of a pool), as far as memory allows
        most = worker_group(self.plan.pool_batches, K)
        helper = self.helper_thread and info is None  # workers are the threads of a pool
        for group in self._groups(mine, [int(pools[i]) for i in picked], most):
            outs = [self.reader.batch_buffer(ids) for ids in group]
            filled, found = fill_readable(
                self.reader, group, [x.numpy() for x in outs], helper=helper
            )
            for ids, x, replaced in zip(filled, outs, found, strict=True):
                batch = self.reader.batch_dict(ids, x)
                yield {**batch, FOUND: replaced} if replaced else batch

    def _together(
        self, shared: SharedFill, batches: list[np.ndarray], pools: np.ndarray, k: int, K: int
    ) -> Iterator[dict[str, Any]]:
        """Loader worker ``k`` of ``K``: fill each group of batches with the other workers in
        a shared slot (:mod:`labram.data.shared_fill`) and send the main process one message
        per group: the place in the slot of each of its batches of the group (the ``k``-th of
        every ``K``, counting from the pass's first batch), none when it has none there (it
        still helps fill the group). A group that finds no free slot, or whose fill failed in
        another worker, it fills alone, and sends those batches' samples."""
        generation = shared.generation
        shared.populate()  # once per worker: no page faults in the first passes' fills
        first = 0
        groups = self._groups(batches, pools.tolist(), self.plan.pool_batches)
        for g, group in enumerate(groups):
            mine = [i for i in range(len(group)) if (first + i) % K == k]
            first += len(group)
            if shared.generation != generation:
                # a new pass began: the DataLoader drops this pass's remaining messages unread
                yield {"ids": []}
                continue
            plan = self.reader.plan(group)
            items = plan.items()
            shapes = [self._shape(ids) for ids in group]
            offsets = np.cumsum([0] + [B * N * L for B, N, L in shapes]).tolist()
            # a worker with no batch in the group helps fill it if it has a slot, but never
            # takes one (it may come after the group's batches are read and the slot reused)
            slot = shared.join(
                generation, g, len(items), len(group), offsets[-1], bool(mine), SLOT_WAIT_SECONDS
            )
            filled = False
            if slot >= 0:
                try:
                    outs = [shared.view(slot, at, shape) for at, shape in zip(offsets, shapes)]
                    try:
                        take, done = partial(shared.take, slot), partial(shared.done, slot)
                        self.reader.fill_items(plan, outs, items, take, done)
                    except StoreFormatError:  # a damaged chunk: each fills its own batches
                        shared.fail(slot)  # alone, below, replacing what cannot be read
                    except BaseException:
                        shared.fail(slot)  # the others fill their batches alone
                        raise
                    else:
                        filled = shared.wait(slot)
                finally:
                    shared.leave(slot)
            own = [group[i] for i in mine]
            if not own:
                yield {"ids": []}  # one message per group from each worker: the order
                continue
            if filled:
                meta = np.array([[slot, offsets[i], *shapes[i]] for i in mine], np.int64)
                yield {"meta": meta, "ids": own}
                continue
            # alone: this worker's batches of the group, each in fresh shared memory
            fresh = [self.reader.batch_buffer(ids) for ids in own]
            own, found = fill_readable(self.reader, own, [x.numpy() for x in fresh])
            yield {"x": fresh, "ids": own, FOUND: found}

    def _shape(self, ids: np.ndarray) -> tuple[int, int, int]:
        """(B, N, L) of the batch of windows ``ids``."""
        index = self.plan.index
        w = int(ids[0])
        n = len(index.recordings[int(index.rec[w])].rows)
        return len(ids), n, int(index.n_patches[w]) * PATCH_SIZE

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


class BatchLoader:
    """Iterates a DataLoader over a :class:`WindowDataset`; see :func:`make_loader`.

    With workers, the workers fill each group of batches together into shared-memory slots that
    this loader makes once (:class:`~labram.data.shared_fill.SharedFill`, as many and as large
    as ``slots`` says: :func:`fill_slots`), so that each chunk is decoded once for the group,
    and send only each batch's place in its slot. This loader yields a batch's ``x`` as a view
    of its slot, lent: the batch goes back when nothing made from it lives any more (a
    finalizer on the lease), so a batch, or a view of it, is the caller's to keep; while no
    slot is free, the workers fill fresh shared memory instead. With ``pin_memory`` the batch
    is copied into pinned memory and its place goes back at once. At the start of each pass,
    the places of batches the last pass dropped unread go back.
    """

    def __init__(
        self,
        dataset: WindowDataset,
        loader: DataLoader,  # type: ignore[type-arg]
        slots: SlotPlan | None = None,
    ) -> None:
        self.dataset, self.loader = dataset, loader
        self._slot_plan = slots
        self._shared: SharedFill | None = None  # made at the first pass, before the workers
        self.from_slots = 0  # batches yielded from shared slots
        self.filled_alone = 0  # batches a worker filled alone (no slot was free)

    @property
    def num_workers(self) -> int:
        return int(self.loader.num_workers)

    def close(self) -> None:
        """End the workers now, a signal meanwhile deferred to the end (idempotent; the loader
        starts new ones if iterated again). Left to the garbage collector, a signal during
        their shutdown cut it short: the workers lived until the interpreter's exit, where
        multiprocessing terminated them and the DataLoader's SIGCHLD handler printed a
        traceback."""
        iterator = getattr(self.loader, "_iterator", None)
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if shutdown is not None:
            with _signals_deferred():  # a Ctrl-C in the middle left the workers running
                shutdown()
        self.loader._iterator = None

    @property
    def persistent_workers(self) -> bool:
        return bool(self.loader.persistent_workers)

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        from eegprep.base.allocator import reuse_freed_memory

        reuse_freed_memory()  # the copies reuse the heap's pages
        if self._slot_plan is None:  # no workers, or too little shared memory for slots
            yield from self.loader
            return
        if self._shared is None:
            context = self.loader.multiprocessing_context  # None: the system's default
            self._shared = SharedFill(self._slot_plan.slots, self._slot_plan.elems, context)
            self._shared.populate()
        # batches of the last pass still on their way are dropped unread: their places go back
        self._shared.new_generation()
        # workers started now (or before, persistent) use this loader's slots; a plain
        # DataLoader made over the dataset afterwards does not
        self.dataset._shared = self._shared
        try:
            yield from self._in_order(iter(self.loader))
        finally:
            if self.dataset._shared is self._shared:
                self.dataset._shared = None

    def _in_order(self, messages: Iterator[dict[str, Any]]) -> Iterator[dict[str, torch.Tensor]]:
        """The batches of the workers' messages, in the plan's order: the DataLoader takes one
        message from each worker in turn, all of one group (:meth:`WindowDataset._together`),
        and batch ``i`` of the pass is worker ``i % K``'s."""
        K = self.num_workers
        first = 0
        for head in messages:
            group = [head]
            for _ in range(K - 1):
                message = next(messages, None)
                if message is None:
                    raise RuntimeError("a loader worker's messages ended inside a group")
                group.append(message)
            n = sum(len(message["ids"]) for message in group)
            taken = [0] * K
            for i in range(first, first + n):
                k = i % K
                yield self._batch(group[k], taken[k])
                taken[k] += 1
            first += n

    def _batch(self, message: dict[str, Any], j: int) -> dict[str, torch.Tensor]:
        """Batch ``j`` of a worker's message (:meth:`WindowDataset._together`): ``x`` a view of
        its slot, leased until nothing made from it lives (or copied to pinned memory, and its
        place goes back at once), or the fresh tensor a worker filled alone."""
        arrays = self.dataset.reader.batch_arrays(message["ids"][j])
        pin = bool(self.loader.pin_memory)
        if "x" in message:
            self.filled_alone += 1
            batch = as_batch(message["x"][j], arrays)
        else:
            self.from_slots += 1
            shared = self._shared
            assert shared is not None
            slot, offset, B, N, L = (int(v) for v in message["meta"][j])
            view = shared.view(slot, offset, (B, N, L))
            if pin:
                x = torch.from_numpy(view).pin_memory()
                shared.release(slot, lent=False)
            else:
                shared.lend(slot)
                x = torch.from_numpy(np.asarray(_Lease(view, shared, slot)))
            batch = as_batch(x, arrays)
        if pin:
            batch = {k: v if v.is_pinned() else v.pin_memory() for k, v in batch.items()}
        replaced = message[FOUND][j] if FOUND in message else None
        return {**batch, FOUND: replaced} if replaced else batch  # (the loop takes it out)


class _Lease:
    """A batch lent out of a shared slot: numpy (and torch through it) keeps this object alive
    while any array or tensor made from the batch does; then its place in the slot goes back."""

    def __init__(self, view: np.ndarray, shared: SharedFill, slot: int) -> None:
        self.__array_interface__ = view.__array_interface__
        self._view = view  # (the mapping)
        weakref.finalize(self, shared.release, slot)


PREFETCH = 1
"""Messages the DataLoader keeps on their way from each worker (its ``prefetch_factor``): a
worker sends one per group of batches, so while the training loop reads a group the workers
fill the next one."""


def worker_group(pool_batches: int, n_workers: int) -> int:
    """Batches a process that fills alone (a worker of a plain DataLoader) fills together: its
    share of a sampler pool, ``ceil(pool_batches / n_workers)`` (loader worker ``k`` of ``n``
    takes batches ``k, k + n, ...``), so that each of the pool's chunks is decoded once per
    process."""
    return max(1, -(-pool_batches // max(1, n_workers)))


class SlotPlan(NamedTuple):
    """How a loader's workers fill groups together (:func:`fill_slots`)."""

    slots: int  # shared slots
    elems: int  # float32 samples per slot
    prefetch: int  # messages (groups) each worker keeps on their way: the DataLoader's


SLOTS = 2 + PREFETCH
"""Shared slots of a loader: the group the training loop reads, the :data:`PREFETCH` groups
the workers fill meanwhile, and one whose batches the loop may still hold."""


def fill_slots(plan: BatchPlan, group_bytes: int) -> SlotPlan:
    """Slots for a loader's workers filling groups together: each holds the largest group (a
    sampler pool of the largest batches, as far as ``group_bytes`` allows)."""
    index = plan.index
    if len(index) == 0:
        return SlotPlan(SLOTS, 1, PREFETCH)
    batch = plan.batch_size * int((index.n_channels * index.n_patches).max()) * PATCH_SIZE
    per_group = max(1, min(plan.pool_batches, group_bytes // (4 * batch)))
    return SlotPlan(SLOTS, per_group * batch, PREFETCH)


PLAIN_PREFETCH = 4
"""Batches on their way from each worker that fills its own batches (no shared slots)."""

SHARED_MEMORY = "/dev/shm"
"""Where Linux keeps the shared memory that torch hands between processes."""


def _shared_memory_holds(nbytes: int) -> bool:
    """Whether :data:`SHARED_MEMORY` has ``nbytes`` free (True where it cannot be told); warns
    when not (a container's default is 64 MB)."""
    try:
        st = os.statvfs(SHARED_MEMORY)
    except (OSError, AttributeError):
        return True
    free = st.f_bavail * st.f_frsize
    if free >= nbytes:
        return True
    warnings.warn(
        f"{SHARED_MEMORY} has {free / 1e6:.0f} MB free and the loader's workers' shared slots "
        f"need {nbytes / 1e6:.0f} MB: each worker fills its own batches instead (slower); give "
        "it more (docker run --shm-size=1g) or lower the dataset's group_mb",
        RuntimeWarning,
        stacklevel=3,
    )
    return False


def _share_position(dataset: WindowDataset) -> None:
    """The dataset's epoch and start in shared memory, where the loader's workers read what
    :meth:`WindowDataset.set_epoch` writes; one :class:`UsageError` line naming
    :data:`SHARED_MEMORY` and ``--workers 0`` where the system gives none (a read-only or full
    ``/dev/shm``: torch said "unable to open shared memory object", an internal error)."""
    try:
        dataset._position.share_memory_()
    except RuntimeError as exc:
        why = " ".join(str(exc).split())
        raise UsageError(
            f"{SHARED_MEMORY}: loader workers need the system's shared memory, and it cannot "
            f"be used ({why}); run with --workers 0 (this process reads), or make "
            f"{SHARED_MEMORY} writable"
        ) from exc


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
    masks as an uninterrupted one). Workers fill each group of batches together in
    shared-memory slots (:class:`BatchLoader`); where the system's shared memory has no room for
    them (a container's 64 MB), each worker fills its own batches instead, with a warning.
    ``pin_memory`` where there is nothing to pin for (no accelerator,
    or Apple's MPS, as the DataLoader decides) is off: the loader must know whether a batch is
    a pinned copy or a worker's buffer lent.
    """
    num_workers = int(check_number("num_workers", num_workers))  # (True was one worker)
    if num_workers:
        _share_position(dataset)
    slots = fill_slots(dataset.plan, dataset.group_bytes) if num_workers else None
    if slots is not None and not _shared_memory_holds(slots.slots * slots.elems * 4):
        slots = None  # each worker fills its own batches, as a plain DataLoader's would
    loader = DataLoader(
        dataset,
        batch_size=None,
        collate_fn=_as_is,  # the batches are made; a worker's numpy arrays stay numpy
        generator=generator,
        num_workers=num_workers,
        pin_memory=pin_memory and _pins(),
        prefetch_factor=(slots.prefetch if slots else PLAIN_PREFETCH) if num_workers else None,
        persistent_workers=num_workers > 0,
        worker_init_fn=_leave_signals_to_the_main_process,
    )
    return BatchLoader(dataset, loader, slots)


def _leave_signals_to_the_main_process(worker_id: int) -> None:
    """In each loader worker: Ctrl-C and a closed terminal reach the whole process group, but
    only the main process acts on them (it winds down and ends its workers); SIGTERM keeps its
    default, which the DataLoader uses to end a worker that does not exit (a forked worker
    inherits the main process's handlers: ``eegprep.cli_group.stop_on_signals``)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C, SIGTERM or SIGHUP arriving in this block acts when it ends (the handler the
    command installed runs then), not in the middle of it. In the main thread only (elsewhere
    Python runs no handler)."""
    import signal

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    sigs = [getattr(signal, n) for n in names if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: came.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(came):
            signal.raise_signal(signum)
