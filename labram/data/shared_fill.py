"""Shared-memory slots in which a loader's worker processes fill each group of batches together.

Every worker of a :class:`~labram.data.loader.BatchLoader` computes the same groups of batches
(a sampler pool's, as far as memory allows) and the same list of work items for each (runs of
stored chunks to decode and cut into the group's windows). The first worker to reach a group
takes a free slot for it; every worker that reaches it takes items from the slot's shared
counter until none is left, waits until all are done, and then sends the main process only the
place of each of its own batches in the slot. Each chunk is decoded once for the whole group,
not once per worker, and the main process maps the slots once, when it makes them.

A slot is free when no worker is writing into it and either the main process has released
every batch of its group (:meth:`SharedFill.release`: the training loop dropped the batch, or
its pinned copy was made), or the group belongs to an earlier pass of the loader and none of
its batches is still lent out: a new pass drops the batches still on their way unread, and a
worker still running the last pass's requests may even take a slot after the new pass began.
The workers write a slot's assignment, the main process the counts of batches released and
lent and the pass's number, so the main process never takes the workers' lock. When no slot is
free (a loop that keeps its batches), each worker fills its own batches of that group into
fresh shared memory instead, as before slots existed.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
import time
from typing import Any

import numpy as np
import torch

GEN, GROUP, ITEMS, NEXT, DONE, WRITERS, FAILED, BATCHES, BASE = range(9)
"""Columns of a slot's state (written by the workers): the pass (generation) and group it holds,
its work items, the next item to take, items done, workers filling it, whether an item failed,
its batches, and the main process's count of released batches when it was assigned."""

RELEASED, LENT = range(2)
"""Columns of a slot's counts (written by the main process): batches released ever, batches of
its group lent out now."""

WAIT_SECONDS = 1e-4
"""Sleep between looks while a worker waits for the others to finish a group's items."""

SLOT_WAIT_SECONDS = 0.05
"""How long a worker waits for a slot to become free before it fills its batches of a group
alone: the training loop usually drops the last batch of a group as it takes the next one,
just after the workers start on the group after next."""


class SharedFill:
    """``n_slots`` float32 buffers of ``slot_elems`` elements in shared memory, and their state.

    Made by the main process before the workers start (they inherit it, or receive it as they
    are spawned: ``context``, the multiprocessing context that starts them, default the
    system's). Each process maps the slots' pages once (:meth:`populate`), the first of them
    allocating them: ``n_slots * slot_elems * 4`` bytes of shared memory.
    """

    def __init__(self, n_slots: int, slot_elems: int, context: Any = None) -> None:
        self.n_slots, self.slot_elems = n_slots, slot_elems
        self.buffers = [_shared_floats(slot_elems) for _ in range(n_slots)]
        self._state = torch.zeros((n_slots, 9), dtype=torch.int64).share_memory_()
        self._state[:, GEN] = -1
        self._counts = torch.zeros((n_slots, 2), dtype=torch.int64).share_memory_()
        self._generation = torch.zeros(1, dtype=torch.int64).share_memory_()
        # the workers' lock, made in the context that starts them (a fork context's lock cannot
        # reach a spawned process)
        self._lock = (context or multiprocessing.get_context()).Lock()
        self._main_lock = threading.RLock()  # the main process's threads' (finalizers too)
        self._views: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._populated = -1  # the process that mapped every page of the slots

    def populate(self) -> None:
        """Map every page of the slots in this process now, once (Linux >= 5.14; elsewhere
        pages are mapped as they are first touched). A slot's first use in each process
        otherwise pays ~0.3 ms of page faults per MB, spread over the first passes."""
        if self._populated == os.getpid():
            return
        self._populated = os.getpid()
        for buffer in self.buffers:
            _populate_write(buffer.data_ptr(), 4 * buffer.numel())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_views=None, _main_lock=None)  # numpy views would be pickled as copies
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._main_lock = threading.RLock()

    @property
    def _np(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The state, the main process's counts and the generation as numpy views of the shared
        memory."""
        if self._views is None:
            self._views = (self._state.numpy(), self._counts.numpy(), self._generation.numpy())
        return self._views

    # -- the main process ---------------------------------------------------------------------

    def new_generation(self) -> int:
        """Start a pass of the loader: the groups of earlier passes go back once none of their
        batches is lent out (those still on their way are dropped unread)."""
        generation = self._np[2]
        with self._main_lock:
            generation[0] += 1
            return int(generation[0])

    def lend(self, slot: int) -> None:
        """A batch of ``slot`` goes out to the training loop."""
        with self._main_lock:
            self._np[1][slot, LENT] += 1

    def release(self, slot: int, *, lent: bool = True) -> None:
        """A batch of ``slot`` is done with (``lent``: one counted by :meth:`lend`)."""
        counts = self._np[1]
        with self._main_lock:
            counts[slot, RELEASED] += 1
            if lent:
                counts[slot, LENT] -= 1

    def view(self, slot: int, offset: int, shape: tuple[int, int, int]) -> np.ndarray:
        """A batch's samples in ``slot``: ``shape`` (B, N, L) float32 from element ``offset``."""
        n = shape[0] * shape[1] * shape[2]
        return self.buffers[slot][offset : offset + n].numpy().reshape(shape)

    # -- the workers --------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return int(self._np[2][0])

    def join(
        self,
        generation: int,
        group: int,
        n_items: int,
        n_batches: int,
        elems: int,
        take_free: bool = True,
        wait: float = 0.0,
    ) -> int:
        """The slot of group ``group`` of pass ``generation``: the one it already has, else
        (``take_free``) a free one taken for it (``n_items`` work items, ``n_batches`` batches,
        ``elems`` float32 samples), waiting up to ``wait`` seconds for one to become free; -1
        when none is free (fill alone then), it does not fit, the group has none and
        ``take_free`` is false, or another pass has begun."""
        state, counts, now = self._np
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                for s in range(self.n_slots):
                    if state[s, GEN] == generation and state[s, GROUP] == group:
                        state[s, WRITERS] += 1
                        return s
                if not take_free or elems > self.slot_elems:
                    return -1
                for s in range(self.n_slots):
                    if self._free(s, state, counts, int(now[0])):
                        state[s, GEN], state[s, GROUP] = generation, group
                        state[s, ITEMS], state[s, NEXT], state[s, DONE] = n_items, 0, 0
                        state[s, FAILED], state[s, WRITERS] = 0, 1
                        state[s, BATCHES], state[s, BASE] = n_batches, counts[s, RELEASED]
                        return s
            # none free: wait for one, unless the time is up or another pass has begun
            if time.monotonic() >= deadline or int(now[0]) != generation:
                return -1
            time.sleep(10 * WAIT_SECONDS)

    @staticmethod
    def _free(s: int, state: np.ndarray, counts: np.ndarray, generation: int) -> bool:
        """Whether slot ``s`` may take a new group (the main process's counts only grow towards
        free, so a value read as it changes errs on the side of busy)."""
        if state[s, WRITERS]:
            return False
        if counts[s, RELEASED] - state[s, BASE] >= state[s, BATCHES]:
            return True  # every batch of its group released
        return bool(state[s, GEN] < generation and counts[s, LENT] == 0)  # an earlier pass's

    def take(self, slot: int) -> int | None:
        """The next work item of ``slot``'s group for this worker, or None when none is left
        (or one failed)."""
        state = self._np[0]
        with self._lock:
            i = int(state[slot, NEXT])
            if i >= state[slot, ITEMS] or state[slot, FAILED]:
                return None
            state[slot, NEXT] = i + 1
            return i

    def done(self, slot: int) -> None:
        """One work item of ``slot`` is done."""
        with self._lock:
            self._np[0][slot, DONE] += 1

    def fail(self, slot: int) -> None:
        """An item of ``slot`` failed: the workers waiting for it fill their batches alone."""
        with self._lock:
            self._np[0][slot, FAILED] = 1

    def wait(self, slot: int) -> bool:
        """Wait until every item of ``slot`` is done: True, or False when one failed."""
        state = self._np[0]
        while state[slot, DONE] < state[slot, ITEMS]:
            if state[slot, FAILED]:
                return False
            time.sleep(WAIT_SECONDS)
        return not state[slot, FAILED]

    def leave(self, slot: int) -> None:
        """This worker writes no more into ``slot``."""
        with self._lock:
            self._np[0][slot, WRITERS] -= 1


MADV_POPULATE_WRITE = 23
"""Linux's madvise advice that maps pages writable without touching their contents."""


def _populate_write(address: int, nbytes: int) -> bool:
    """Map the pages of ``nbytes`` at ``address`` writable in this process (their contents
    unchanged: safe while other processes write them); False where the system cannot."""
    if not sys.platform.startswith("linux") or nbytes <= 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return bool(libc.madvise(address, nbytes, MADV_POPULATE_WRITE) == 0)


def _shared_floats(n: int) -> torch.Tensor:
    """``n`` float32 elements in fresh shared memory (no copy: ``share_memory_`` of an empty
    tensor would copy, and so touch, every page)."""
    storage = torch.UntypedStorage._new_shared(4 * n)
    return torch.empty(0, dtype=torch.float32).set_(storage, 0, (n,), (1,))
