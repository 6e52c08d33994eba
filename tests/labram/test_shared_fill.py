"""Loader workers filling each group of batches together in shared slots."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
import torch

from labram.data.block_reader import BlockReader
from labram.data.loader import WindowDataset, fill_slots
from labram.data.sampler import BatchPlan
from labram.data.shared_fill import SharedFill
from labram.data.windows import build_pretrain_index


def test_a_slot_is_joined_shared_out_and_given_back() -> None:
    shared = SharedFill(2, 100)
    gen = shared.new_generation()
    assert shared.join(gen, 0, 3, 2, 50) == 0
    assert shared.join(gen, 0, 3, 2, 50) == 0  # the second worker joins the same slot
    assert [shared.take(0) for _ in range(4)] == [0, 1, 2, None]  # each item once
    for _ in range(3):
        shared.done(0)
    assert shared.wait(0)
    shared.leave(0)
    shared.leave(0)
    assert shared.join(gen, 1, 1, 1, 100) == 1
    shared.leave(1)
    assert shared.join(gen, 2, 1, 1, 10) == -1  # both hold batches not yet released
    assert shared.join(gen, 3, 1, 1, 101) == -1  # too large for any slot
    assert shared.join(gen, 1, 1, 1, 100, take_free=False) == 1  # a helper joins a group
    shared.leave(1)
    shared.lend(0)
    shared.release(0)
    assert shared.join(gen, 2, 1, 1, 10) == -1  # one of slot 0's two batches is still out
    shared.release(0, lent=False)
    assert shared.join(gen, 4, 1, 1, 10, take_free=False) == -1  # but never takes a slot
    assert shared.join(gen, 2, 1, 1, 10) == 0
    shared.leave(0)


def test_a_new_pass_gives_back_all_but_the_batches_still_lent() -> None:
    shared = SharedFill(2, 100)
    gen = shared.new_generation()
    for group in (0, 1):
        assert shared.join(gen, group, 1, 2, 10) == group
        shared.leave(group)
    shared.lend(0)  # the loop keeps one batch of slot 0; the other three were dropped unread
    gen = shared.new_generation()
    assert shared.join(gen, 0, 1, 2, 10) == 1
    shared.leave(1)
    assert shared.join(gen, 1, 1, 2, 10) == -1
    shared.release(0)
    assert shared.join(gen, 1, 1, 2, 10) == 0
    shared.leave(0)
    assert shared.join(gen - 1, 0, 1, 2, 10) == -1  # an earlier pass's group: no slot


def test_a_failed_item_stops_the_group() -> None:
    shared = SharedFill(1, 10)
    gen = shared.new_generation()
    assert shared.join(gen, 0, 4, 1, 10) == 0
    assert shared.take(0) == 0
    shared.fail(0)
    assert shared.take(0) is None and not shared.wait(0)
    shared.leave(0)


def test_a_slot_is_not_touched_until_used() -> None:
    shared = SharedFill(3, 10_000_000)
    assert all(b.is_shared() and b.numel() == 10_000_000 for b in shared.buffers)
    assert shared.view(1, 5, (2, 3, 4)).shape == (2, 3, 4)


@pytest.mark.parametrize("pool_batches", (5, 1))
def test_workers_fill_groups_together_decoding_each_chunk_once(
    stores: list[str], pool_batches: int
) -> None:
    """Two workers (threads here, with the processes' code) fill each group together: the
    batches are the one-process batches bit for bit, and the group's work items, each read
    at most once, are shared out between them (with one-batch groups too, where one worker
    has no batch and only helps)."""
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=3, pool_batches=pool_batches)
    batches, pools = plan.batches(0), plan.pools(0)
    one = WindowDataset(plan)
    one.set_epoch(0)
    want = {tuple(b["ids"].tolist()): b["x"] for b in one}
    workers = [WindowDataset(plan, cache_mb=1e-6) for _ in range(2)]
    slots = fill_slots(plan, workers[0].group_bytes)
    shared = SharedFill(slots.slots + 8, slots.elems)  # room for every group: none filled alone
    gen = shared.new_generation()
    got: list[list[dict[str, Any]]] = [[], []]
    messages = [0, 0]

    def run(k: int) -> None:
        for message in workers[k]._together(shared, batches, pools, k, 2):
            messages[k] += 1
            for ids, (slot, offset, B, N, L) in zip(
                message["ids"], message.get("meta", []), strict=True
            ):
                x = shared.view(int(slot), int(offset), (int(B), int(N), int(L))).copy()
                got[k].append({"ids": ids, "x": x})
                shared.release(int(slot), lent=False)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert [len(g) for g in got] == [len(batches[0::2]), len(batches[1::2])]
    for k in range(2):
        for item, ids in zip(got[k], batches[k::2], strict=True):
            assert item["ids"].tolist() == ids.tolist()
            x = torch.from_numpy(item["x"]).view(want[tuple(ids.tolist())].shape)
            assert torch.equal(x, want[tuple(ids.tolist())])
    groups = list(workers[0]._groups(batches, pools.tolist(), plan.pool_batches))
    assert messages == [len(groups), len(groups)]  # one message per group from each worker
    items = sum(len(BlockReader(idx).plan(g).items()) for g in groups)
    reads = workers[0].reader.n_reads + workers[1].reader.n_reads
    assert len(groups) > 3 and 0 < reads <= items  # each item once, between the two
    state = shared._np[0]
    assert (state[:, 3] == state[:, 2]).all() and (state[:, 4] == state[:, 2]).all()
    assert gen == shared.generation


def test_slots_fit_the_largest_group(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=0, pool_batches=5)
    ds = WindowDataset(plan)
    slots = fill_slots(plan, ds.group_bytes)
    biggest = max(
        sum(int(np.prod(ds._shape(ids))) for ids in group)
        for group in ds._groups(plan.batches(0), plan.pools(0).tolist(), plan.pool_batches)
    )
    # the group read, the one filled meanwhile, one whose batches the loop may still hold
    assert biggest <= slots.elems and slots.prefetch == 1 and slots.slots == 3
    small = fill_slots(plan, group_bytes=1)  # one batch a group when memory is tight
    assert small.elems == 4 * int((idx.n_channels * idx.n_patches).max()) * 200


def test_too_little_shared_memory_falls_back_to_workers_filling_alone(
    stores: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's small /dev/shm: a warning that says what to do, and workers that fill
    their own batches (the same batches)."""
    import os

    from labram.data import loader as loader_module

    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=2)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    want = [b["x"] for b in loader_module.make_loader(ds)]

    class Tiny:
        f_bavail, f_frsize = 16, 4096

    monkeypatch.setattr(os, "statvfs", lambda path: Tiny())
    with pytest.warns(RuntimeWarning, match=r"/dev/shm has 0 MB free.*--shm-size"):
        loader = loader_module.make_loader(ds, num_workers=2)
    got = [b["x"] for b in loader]
    assert loader.from_slots == 0 and ds._shared is None
    assert len(got) == len(want) and all(torch.equal(a, b) for a, b in zip(want, got))


def test_spawned_workers_fill_together(stores: list[str]) -> None:
    """Workers started by spawning (macOS's and Windows's default) receive the slots and their
    lock, made in the DataLoader's own context: the same batches, from the slots."""
    from torch.utils.data import DataLoader

    from labram.data.loader import PREFETCH, BatchLoader, _as_is, make_loader

    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=6)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    want = [b["x"] for b in make_loader(ds)]
    loader = DataLoader(
        ds,
        batch_size=None,
        collate_fn=_as_is,
        num_workers=2,
        prefetch_factor=PREFETCH,
        persistent_workers=True,
        multiprocessing_context="spawn",
    )
    spawned = BatchLoader(ds, loader, fill_slots(plan, ds.group_bytes))
    got = [b["x"] for b in spawned]
    assert spawned.from_slots > 0
    assert len(got) == len(want) and all(torch.equal(a, b) for a, b in zip(want, got))
    del spawned, loader


def test_a_worker_waits_a_little_for_a_slot() -> None:
    """A slot freed while a worker waits is taken; one still held after the wait is not, and a
    new pass ends the wait."""
    shared = SharedFill(1, 10)
    gen = shared.new_generation()
    assert shared.join(gen, 0, 1, 1, 10) == 0
    shared.leave(0)
    shared.lend(0)  # the loop holds the group's one batch
    threading.Timer(0.02, shared.release, args=(0,)).start()
    assert shared.join(gen, 1, 1, 1, 10, wait=60.0) == 0  # (ends at the release)
    shared.leave(0)
    shared.lend(0)
    assert shared.join(gen, 2, 1, 1, 10, wait=0.02) == -1  # still held: fill alone
    threading.Timer(0.02, shared.new_generation).start()
    assert shared.join(gen, 2, 1, 1, 10, wait=5.0) == -1  # a new pass: stop waiting


def test_a_pinned_batch_is_a_copy_and_its_place_goes_back_at_once(
    stores: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``pin_memory`` (a machine with an accelerator) the loader copies a slot's batch
    into pinned memory, pins its small arrays too, and gives the place back at once: the
    workers may overwrite the slot while the copy is on its way to the device."""
    from types import SimpleNamespace

    from labram.data.loader import BatchLoader
    from labram.data.shared_fill import LENT, RELEASED

    pinned: list[torch.Tensor] = []

    def fake_pin(self: torch.Tensor) -> torch.Tensor:  # no accelerator here: a marked copy
        copy = self.clone()
        pinned.append(copy)
        return copy

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    monkeypatch.setattr(torch.Tensor, "is_pinned", lambda self: any(self is p for p in pinned))
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=0)
    ds = WindowDataset(plan)
    ids = plan.batches(0)[0]
    B, N, L = ds._shape(ids)
    shared = SharedFill(1, B * N * L)
    shared.view(0, 0, (B, N, L))[...] = 7.0
    loader = BatchLoader(ds, SimpleNamespace(pin_memory=True, num_workers=2))  # type: ignore[arg-type]
    loader._shared = shared
    batch = loader._batch({"meta": np.array([[0, 0, B, N, L]]), "ids": [ids]}, 0)
    counts = shared._np[1]
    assert counts[0, RELEASED] == 1 and counts[0, LENT] == 0  # back at once
    shared.view(0, 0, (B, N, L))[...] = 0.0  # the workers reuse the slot: the copy stays
    assert float(batch["x"].min()) == 7.0
    assert all(any(v is p for p in pinned) for v in batch.values())
