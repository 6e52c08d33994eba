"""Shared-memory slots in which a loader's worker processes fill each group of batches together.

Every worker of a :class:`~labram.data.loader.BatchLoader` computes the same groups of batches
(a sampler pool's, as far as memory allows) and the same list of work items for each (runs of
stored chunks to decode and cut into the group's windows). The first worker to reach a group
takes a free slot for it; every worker that reaches it takes items from the slot's shared
counter until none is left, waits until all are done, and then sends the main process only the
place of each of its own batches in the slot. Each chunk is decoded once for the whole group,
not once per worker, and the main process maps the slots once, when it makes them.

A slot is free when no worker is writing into it and the main process has released every batch
of its last group (:meth:`SharedFill.release`: the training loop dropped the batch, or its
pinned copy was made). The counts of batches assigned (workers) and released (main process)
each have one writer, so the main process never takes the workers' lock. When no slot is free
(a loop that keeps its batches), each worker fills its own batches of that group into fresh
shared memory instead, as before slots existed.
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

GEN, GROUP, ITEMS, NEXT, DONE, WRITERS, FAILED, ASSIGNED = range(8)
"""Columns of a slot's state: the generation (a pass of the loader) and group it holds, its
work items, the next item to take, items done, workers filling it, whether an item failed, and
batches assigned to it ever (the workers' count; the main process counts those released)."""

WAIT_SECONDS = 1e-4
"""Sleep between looks while a worker waits for the others to finish a group's items."""


class SharedFill:
    """``n_slots`` float32 buffers of ``slot_elems`` elements in shared memory, and their state.

    Made by the main process before the workers start (they inherit it, or receive it as they
    are spawned: ``context``, the multiprocessing context that starts them, default the
    system's); pages are touched only when a group is filled into them.
    """

    def __init__(self, n_slots: int, slot_elems: int, context: Any = None) -> None:
        self.n_slots, self.slot_elems = n_slots, slot_elems
        self.buffers = [_shared_floats(slot_elems) for _ in range(n_slots)]
        self._state = torch.zeros((n_slots, 8), dtype=torch.int64).share_memory_()
        self._state[:, GEN] = -1
        self._released = torch.zeros(n_slots, dtype=torch.int64).share_memory_()
        self._generation = torch.zeros(1, dtype=torch.int64).share_memory_()
        # the workers' lock, made in the context that starts them (a fork context's lock cannot
        # reach a spawned process)
        self._lock = (context or multiprocessing.get_context()).Lock()
        self._main_lock = threading.RLock()  # the main process's threads' (finalizers too)
        self._live = [0] * n_slots  # main process: batches of each slot it has lent out
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
        """The state, released counts and generation as numpy views of the shared memory."""
        if self._views is None:
            self._views = (self._state.numpy(), self._released.numpy(), self._generation.numpy())
        return self._views

    # -- the main process ---------------------------------------------------------------------

    def new_generation(self) -> int:
        """Start a pass of the loader: batches of earlier passes still on their way will be
        dropped unread, so every slot goes back except for the batches still lent out."""
        state, released, generation = self._np
        with self._main_lock:
            for s in range(self.n_slots):
                # a slot's assigned count changes only while it is free: no race with workers
                if state[s, ASSIGNED] > released[s]:
                    released[s] = state[s, ASSIGNED] - self._live[s]
            generation[0] += 1
            return int(generation[0])

    def lend(self, slot: int) -> None:
        """A batch of ``slot`` goes out to the training loop."""
        with self._main_lock:
            self._live[slot] += 1

    def release(self, slot: int, *, lent: bool = True) -> None:
        """A batch of ``slot`` is done with (``lent``: one counted by :meth:`lend`)."""
        _, released, _ = self._np
        with self._main_lock:
            released[slot] += 1
            if lent:
                self._live[slot] -= 1

    def view(self, slot: int, offset: int, shape: tuple[int, int, int]) -> np.ndarray:
        """A batch's samples in ``slot``: ``shape`` (B, N, L) float32 from element ``offset``."""
        n = shape[0] * shape[1] * shape[2]
        return self.buffers[slot][offset : offset + n].numpy().reshape(shape)

    # -- the workers --------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return int(self._np[2][0])

    def join(self, generation: int, group: int, n_items: int, n_batches: int, elems: int) -> int:
        """The slot of group ``group`` of pass ``generation``: the one it already has, else a
        free one taken for it (``n_items`` work items, ``n_batches`` batches, ``elems``
        float32 samples); -1 when none is free or it does not fit (fill alone then)."""
        state, released, _ = self._np
        with self._lock:
            for s in range(self.n_slots):
                if state[s, GEN] == generation and state[s, GROUP] == group:
                    state[s, WRITERS] += 1
                    return s
            if elems > self.slot_elems:
                return -1
            for s in range(self.n_slots):
                if state[s, WRITERS] == 0 and state[s, ASSIGNED] == released[s]:
                    state[s, GEN], state[s, GROUP], state[s, ITEMS] = generation, group, n_items
                    state[s, NEXT] = state[s, DONE] = state[s, FAILED] = 0
                    state[s, WRITERS] = 1
                    state[s, ASSIGNED] += n_batches
                    return s
        return -1

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
