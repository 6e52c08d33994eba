"""The streaming data pipeline: windows, buckets, shards, workers, resume state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labram.data.block_reader import UV_PER_UNIT, BlockReader
from labram.data.loader import (
    WindowDataset,
    fill_slots,
    make_loader,
)
from labram.data.sampler import BatchPlan, ResumeError
from labram.data.windows import WindowConfig, build_pretrain_index
from tests.labram.training_stores import write_pretrain_store


def test_windows_follow_the_token_budget(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    shapes = set(zip(idx.n_channels.tolist(), idx.n_patches.tolist()))
    assert shapes == {(19, 13), (23, 11), (32, 8)}  # 256 // channels seconds
    assert idx.corpora == ["seed", "tuh"]
    assert (idx.start % 200 == 0).all()
    capped = build_pretrain_index(stores, WindowConfig(token_budget=10_000))
    assert set(capped.n_patches.tolist()) == {16}


def test_a_token_budget_under_a_window_s_channels_is_one_warning(
    stores: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A window holds 1 s of every channel it keeps at least: a budget under the channels of
    some recordings (19, 23 and 32 here) is not kept for them (each window 1 s of all of them),
    which was said nowhere. One warning names the budget, how many recordings it is not kept
    for, their most channels and what to set; a budget holding them all says nothing."""
    import logging

    with caplog.at_level(logging.WARNING, logger="labram.data.windows"):
        build_pretrain_index(stores, WindowConfig(token_budget=20))
    said = [r.getMessage() for r in caplog.records if "token_budget" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("token_budget 20 is under the channels of the windows of "), said
    assert "(up to 32 channels" in said[0] and "raise token_budget to 32" in said[0], said
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="labram.data.windows"):
        idx = build_pretrain_index(stores, WindowConfig(token_budget=32))
    assert not [r for r in caplog.records if "token_budget" in r.getMessage()]
    assert set(idx.n_patches.tolist()) == {1}


def test_batches_are_equal_shape_and_scaled(stores: list[str]) -> None:
    from eegprep import open_store

    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=3, seed=0)
    ds = WindowDataset(plan)
    batch = next(iter(make_loader(ds)))
    B, N, A, T = batch["x"].shape
    assert (B, T) == (3, 200) and N * A <= 256
    w = int(batch["ids"][0])
    plan_r = idx.recordings[int(idx.rec[w])]
    s = int(idx.start[w])
    raw = open_store(idx.urls[plan_r.store]).read(plan_r.id, s, s + A * 200)
    np.testing.assert_allclose(batch["x"][0].reshape(N, -1).numpy(), raw / UV_PER_UNIT, rtol=1e-6)
    assert batch["channels"].shape == (3, N)


def _ids(batches: list[np.ndarray]) -> list[int]:
    return [int(i) for b in batches for i in b]


def test_same_seed_same_plan_and_epochs_differ(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    a = BatchPlan(idx, batch_size=4, seed=3)
    b = BatchPlan(idx, batch_size=4, seed=3)
    assert _ids(a.batches(0)) == _ids(b.batches(0))
    assert _ids(a.batches(0)) != _ids(a.batches(1))
    corpus = idx.corpus
    seq = [int(corpus[b[0]]) for b in a.batches(0)]
    assert seq != sorted(seq) and seq != sorted(seq, reverse=True)  # corpora interleaved


def test_two_ranks_see_disjoint_complete_shards(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    for drop_last in (False, True):
        kw = {"batch_size": 4, "seed": 1, "world_size": 2, "drop_last": drop_last}
        r0 = _ids(BatchPlan(idx, rank=0, **kw).batches(0))
        r1 = _ids(BatchPlan(idx, rank=1, **kw).batches(0))
        assert not set(r0) & set(r1)
        assert len(r0) == len(set(r0)) and len(r1) == len(set(r1))
        every = _ids(BatchPlan(idx, batch_size=4, seed=1, drop_last=drop_last).global_batches(0))
        if drop_last:
            assert len(r0) == len(r1)  # ranks take the same number of steps
            assert len(every) - len(r0) - len(r1) < 2 * 4
            assert set(r0) | set(r1) <= set(every)
        else:
            assert sorted(r0 + r1) == list(range(len(idx)))  # every window exactly once


def test_corpus_weights(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    corpus = idx.corpus
    n_seed = int((corpus == idx.corpora.index("seed")).sum())
    plan = BatchPlan(idx, batch_size=1, seed=0, weights={"seed": 2.0, "tuh": 0.5})
    ids = np.array(_ids(plan.batches(0)))
    assert (corpus[ids] == idx.corpora.index("seed")).sum() == 2 * n_seed
    with pytest.raises(ValueError, match="not among"):
        BatchPlan(idx, batch_size=1, weights={"nope": 1.0})


def test_two_workers_no_duplicates_no_gaps_same_order(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    # small pools: more batches than the two workers' rings hold
    plan = BatchPlan(idx, batch_size=4, seed=2, drop_last=False, shuffle=True, pool_batches=4)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    one_batches = list(make_loader(ds))
    loader = make_loader(ds, num_workers=2)
    two_batches = list(loader)  # filled together in shared slots, then alone
    # every batch kept holds its place in a slot, which the workers then leave alone: once
    # the slots are full, each worker fills its own batches in fresh memory
    n_slots = fill_slots(plan, ds.group_bytes).slots
    assert len(two_batches) > n_slots * plan.pool_batches
    assert 0 < loader.from_slots <= n_slots * plan.pool_batches < len(two_batches)
    assert loader.from_slots + loader.filled_alone == len(two_batches)
    one = [b["ids"].tolist() for b in one_batches]
    two = [b["ids"].tolist() for b in two_batches]
    assert two == one
    for a, b in zip(one_batches, two_batches, strict=True):  # the same samples, bit for bit
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["channels"], b["channels"])
    flat = [i for b in two for i in b]
    assert sorted(flat) == list(range(len(idx)))
    ds.set_epoch(0, start=3)  # mid-epoch resume: the rest of the same sequence
    assert [b["ids"].tolist() for b in make_loader(ds, num_workers=2)] == one[3:]


@pytest.mark.parametrize("pin_memory", (False, True))
def test_batches_held_or_dropped_across_epochs_stay_whole(
    stores: list[str], pin_memory: bool
) -> None:
    """Workers lend their ring buffers as the batches: a batch kept (or a view of it) is never
    overwritten, through a loop that stops early and the next epochs; the buffers of batches
    dropped unread go back to the workers. ``pin_memory`` without an accelerator changes
    nothing (the DataLoader then pins nothing, and the batches are still lent buffers)."""
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=5)
    ds = WindowDataset(plan)
    reference = BlockReader(idx)
    loader = make_loader(ds, num_workers=2, pin_memory=pin_memory)
    ds.set_epoch(0)
    kept = []
    for i, batch in enumerate(loader):
        kept.append((batch["ids"], batch["x"][1:3]))  # a view keeps the buffer too
        if i == 2:
            break  # the rest of the epoch is dropped unread
    for epoch in (1, 2):
        ds.set_epoch(epoch)
        got = [(b["ids"].tolist(), b["x"].clone()) for b in loader]
        assert [g[0] for g in got] == [b.tolist() for b in plan.batches(epoch)]
        for ids, x in got[:3]:
            assert torch.equal(x, reference.batch(np.array(ids))["x"])
    for ids, part in kept:
        assert torch.equal(part, reference.batch(ids.numpy())["x"][1:3])
    # the places of batches dropped unread went back: the slots served the later epochs too
    assert loader.from_slots > 3


def test_persistent_workers_follow_the_epoch(stores: list[str]) -> None:
    """One loader for the whole run: its workers start once and serve each epoch (and a
    resumed start) that ``set_epoch`` names, in the order one process gives."""
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=2)
    ds = WindowDataset(plan)
    loader = make_loader(ds, num_workers=2)
    assert loader.persistent_workers
    for epoch, start in ((0, 0), (1, 2), (2, 0)):
        ds.set_epoch(epoch, start)
        got = [b["ids"].tolist() for b in loader]
        assert got == [b.tolist() for b in plan.batches(epoch)[start:]]
        x = next(iter(make_loader(ds)))["x"]  # one process, the same first batch, same values
        assert torch.equal(x, BlockReader(idx).batch(plan.batches(epoch)[start])["x"])
    assert [b.tolist() for b in plan.batches(1)] != [b.tolist() for b in plan.batches(0)]


def test_resume_state_refuses_changed_world_size(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    state = BatchPlan(idx, batch_size=4, world_size=2, rank=0).state(1, 5)
    BatchPlan(idx, batch_size=4, world_size=2, rank=1).check_resume(state)
    with pytest.raises(ResumeError, match="world_size changed"):
        BatchPlan(idx, batch_size=4).check_resume(state)
    with pytest.raises(ResumeError, match="batch_size"):
        BatchPlan(idx, batch_size=8, world_size=2).check_resume(state)


def test_reads_are_per_block(stores: list[str]) -> None:
    idx = build_pretrain_index(stores, WindowConfig(stride_seconds=1.0))
    ds = WindowDataset(BatchPlan(idx, batch_size=8, seed=0))
    n = sum(b["x"].shape[0] for b in make_loader(ds))
    assert ds.reader.n_reads < n / 10  # many windows per Zarr call


def test_a_store_given_many_times_is_indexed_once(stores: list[str]) -> None:
    """One opened store given 2,000 times: its windows are indexed once, not 2,000 times (the
    index's speed on 100,000 recordings is ``benchmarks/loader.py``'s, not a test's)."""
    from eegprep import open_store

    s = open_store(stores[0])
    one = build_pretrain_index([s])
    idx = build_pretrain_index([s] * 2000)
    assert len(one) > 0 and len(idx) == len(one) and idx.urls == one.urls


TUH_ADC_STEP_UV = 9999.68 / 65535  # TUH's EDF files: the default store keeps integers


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("quantized")
    url = write_pretrain_store(
        root / "q.zarr", n_subjects=3, seconds=400, adc_step_uv=TUH_ADC_STEP_UV
    )
    return [url]


def test_quantized_batches_are_the_stored_values_in_model_units(quantized: list[str]) -> None:
    """Batches scale the stored integers once, by one float32 factor: within 2 ulp of
    ``read() / 100``; ``window`` returns ``read()``'s microvolts to the bit."""
    from eegprep import open_store

    store = open_store(quantized[0])
    assert {r["encoding"] for r in store.index_rows().values()} == {"quantized"}
    idx = build_pretrain_index(quantized)
    reader = BlockReader(idx)
    ids = np.arange(0, len(idx), 7)
    batch_ids = ids[idx.n_patches[ids] == idx.n_patches[ids[0]]][:8]
    x = reader.batch(batch_ids)["x"]
    for j, w in enumerate(batch_ids):
        plan = idx.recordings[int(idx.rec[w])]
        s = int(idx.start[w])
        uv = store.read(plan.id, s, s + int(idx.n_patches[w]) * 200)[plan.rows]
        got = x[j].reshape(uv.shape).numpy()
        want = uv / np.float32(UV_PER_UNIT)
        ulps = np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32))
        assert ulps.max() <= 2.0
        np.testing.assert_array_equal(reader.window(int(w)), uv)


@pytest.mark.parametrize("cache_mb", (512, 2))
def test_helper_thread_and_groups_change_nothing(
    stores: list[str], quantized: list[str], cache_mb: float
) -> None:
    """Filling with a second thread, or one batch at a time instead of a pool's at once, gives
    the same batches, bit for bit; the thread makes the same reads, with a cache that holds
    everything or one that evicts all the time."""
    idx = build_pretrain_index([*stores, *quantized])
    plan = BatchPlan(idx, batch_size=4, seed=1, pool_batches=3)
    runs = {}
    for helper, group_mb in ((False, 128.0), (True, 128.0), (True, 1e-9)):
        ds = WindowDataset(plan, helper_thread=helper, cache_mb=cache_mb, group_mb=group_mb)
        ds.set_epoch(0)
        runs[helper, group_mb] = (list(make_loader(ds)), ds.reader)
    (plain, r0), (helped, r1), (single, _) = runs.values()
    assert len(plain) == len(helped) == len(single) == len(plan.batches(0))
    for a, b, c in zip(plain, helped, single, strict=True):
        assert torch.equal(a["ids"], b["ids"]) and torch.equal(a["x"], b["x"])
        assert torch.equal(a["ids"], c["ids"]) and torch.equal(a["x"], c["x"])
    assert (r1.n_reads, r1.samples_read) == (r0.n_reads, r0.samples_read)
    assert r1._helper is not None and r0._helper is None
    if cache_mb == 512:  # every chunk read once in the epoch
        from eegprep import open_store

        opened = [open_store(u) for u in idx.urls]
        total = sum(opened[p.store].recording(p.id).n_samples for p in idx.recordings)
        assert 0 < r0.samples_read <= total


def test_window_starts_and_blocks_match_a_plain_loop() -> None:
    """The vectorised window starts (a running sum in place) and block numbers equal
    ``range(0, n - length + 1, stride)`` per recording and the sorted (recording, start //
    block) keys, for random recordings (empty ones and strides longer than a block included),
    in the index's order and shuffled."""
    from labram.data.windows import _arange_windows, assign_blocks

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(0, 8))
        n_samples = rng.integers(0, 5000, n)
        length, stride = rng.integers(1, 900, n), rng.integers(1, 900, n)
        rec, start = _arange_windows(n_samples, length, stride)
        want = [(r, s) for r in range(n) for s in range(0, n_samples[r] - length[r] + 1, stride[r])]
        assert list(zip(rec.tolist(), start.tolist(), strict=True)) == want
        block_samples = int(rng.integers(1, 2000))
        for order in (np.arange(len(rec)), rng.permutation(len(rec))):
            r, s = rec[order], start[order]
            keys = r.astype(np.int64) * (1 << 32) + s // block_samples
            np.testing.assert_array_equal(
                assign_blocks(r, s, block_samples), np.unique(keys, return_inverse=True)[1]
            )


def test_blocks_of_starts_beyond_32_bit_spans_stay_apart() -> None:
    """Starts whose block number exceeds int32 (a handful of windows) and 2^32 (the packed
    key's field) still give one block per (recording, span), in key order."""
    from labram.data.windows import assign_blocks

    start = np.array([0, 2**31 * 10, 2**31 * 10 + 5, 2**33 * 10, 0, 2**40], dtype=np.int64)
    rec = np.array([0, 0, 0, 0, 1, 1])
    pairs = sorted(set(zip(rec.tolist(), (start // 10).tolist(), strict=True)))
    want = [pairs.index((r, s // 10)) for r, s in zip(rec.tolist(), start.tolist(), strict=True)]
    for order in (np.arange(6), np.array([5, 2, 0, 4, 3, 1])):
        got = assign_blocks(rec[order], start[order], 10)
        assert got.tolist() == [want[i] for i in order]


def test_a_fills_work_items_cover_every_chunk_once() -> None:
    """The items two threads share: every chunk to read exactly once, in runs of at most
    RUN_CHUNKS consecutive chunks of one recording, then every cached chunk exactly once."""
    from labram.data.block_reader import RUN_CHUNKS, _work_items

    runs = [[0, 0, 5], [0, 7, 8], [3, 2, 4]]
    cached = [(1, 0), (1, 1), (2, 5)]
    to_read: list[tuple[int, int]] = []
    to_cut: list[tuple[int, int]] = []
    for run, keys, wrapped in _work_items(runs, cached):
        assert wrapped is None
        assert (run is None) != (not keys)  # a run to read or cached chunks, never both
        if run is not None:
            r, lo, hi = run
            assert 0 < hi - lo <= RUN_CHUNKS
            to_read += [(r, k) for k in range(lo, hi)]
        to_cut += keys
    assert to_read == [(r, k) for r, lo, hi in runs for k in range(lo, hi)]
    assert to_cut == cached
    assert _work_items([], []) == []


@pytest.mark.parametrize(("helper", "workers"), ((False, 0), (True, 0), (True, 2)))
def test_a_damaged_chunk_names_its_shard(tmp_path, helper: bool, workers: int) -> None:
    """The reader's error reaches the training loop with the batch whose windows it replaced
    (:mod:`labram.data.unreadable`), from a loader worker too (whose partner, waiting for the
    failed work of their shared group, fills its own batches instead): every batch is still
    yielded, each the same in one process and from the workers."""
    from labram.data.unreadable import FOUND

    url = write_pretrain_store(tmp_path / "q.zarr", n_subjects=2, seconds=200, adc_step_uv=0.1)
    shard = next((tmp_path / "q.zarr").rglob("data/c.0.0"))
    blob = bytearray(shard.read_bytes())
    blob[100] ^= 0x01  # one flipped bit in the first chunk
    shard.write_bytes(bytes(blob))
    idx = build_pretrain_index([url])
    plan = BatchPlan(idx, batch_size=8, seed=0)
    ds = WindowDataset(plan, helper_thread=helper)
    ds.set_epoch(0)
    batches = list(make_loader(ds, num_workers=workers))
    assert len(batches) == len(plan.batches(0))
    found = [w for b in batches for w in b.get(FOUND, [])]
    assert found and all("data/c.0.0" in why and "CRC-32C" in why for _, _, why in found)
    ds.set_epoch(0)
    alone = list(make_loader(ds))
    for a, b in zip(alone, batches, strict=True):
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["ids"], b["ids"])
        assert a.get(FOUND) == b.get(FOUND)


@pytest.mark.slow  # over 5 s on two cores
def test_two_loaders_over_one_dataset_keep_their_buffers_apart(stores: list[str]) -> None:
    """Two worker loaders over the same dataset, read in turns and every batch kept: each
    loader's workers fill their own slots, so every batch is the one-process batch; a plain
    DataLoader made afterwards sees no slots."""
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=2, seed=4)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    want = [b["x"] for b in make_loader(ds)]
    a, b = make_loader(ds, num_workers=2), make_loader(ds, num_workers=2)
    got_a, got_b = [], []
    for x, y in zip(a, b, strict=True):
        got_a.append(x["x"])
        got_b.append(y["x"])
    assert len(got_a) == len(want) > 2 * 8  # more batches than the slots hold
    for w, x, y in zip(want, got_a, got_b, strict=True):
        assert torch.equal(w, x) and torch.equal(w, y)
    assert a.from_slots > 0 and b.from_slots > 0 and a._shared is not b._shared
    assert ds._shared is None
    plain = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=1)
    assert all("meta" not in batch and "channels" in batch for batch in plain)


def test_each_process_fills_its_share_of_a_pool_at_once(
    stores: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are filled a pool at a time (one process) or a worker's share of a pool at a
    time (loader workers): a fill never spans two pools nor splits a share, so that each of a
    pool's chunks is decoded once per process."""
    idx = build_pretrain_index(stores)
    plan = BatchPlan(idx, batch_size=4, seed=1, pool_batches=3)
    batches, pools = plan.batches(0), plan.pools(0)
    assert len(pools) == len(batches) and (np.diff(pools) >= 0).all()
    assert np.bincount(pools).max() <= 3 and len(set(pools.tolist())) < len(batches)
    pool_of = {tuple(b.tolist()): int(q) for b, q in zip(batches, pools, strict=True)}
    fills: list[list[int]] = []  # each fill's batches' pools
    fill = BlockReader.fill

    def recorded(self: BlockReader, group: list[np.ndarray], *args: object, **kw: object) -> None:
        fills.append([pool_of[tuple(ids.tolist())] for ids in group])
        fill(self, group, *args, **kw)  # type: ignore[arg-type]

    ds = WindowDataset(plan)
    ds.set_epoch(0)
    monkeypatch.setattr(BlockReader, "fill", recorded)
    assert sum(b["x"].shape[0] for b in make_loader(ds)) == sum(len(b) for b in batches)
    assert [f[0] for f in fills] == sorted(set(pools.tolist()))  # one fill per pool, in order
    assert [q for f in fills for q in f] == pools.tolist() and all(len(set(f)) == 1 for f in fills)
    # worker k of 2 of a plain DataLoader takes batches k, k + 2, ...: its groups are its
    # shares of the pools (a BatchLoader's workers fill whole pools together)
    for k in range(2):
        picked = list(range(k, len(batches), 2))
        groups = list(ds._groups([batches[i] for i in picked], [int(pools[i]) for i in picked], 2))
        shares = [
            [int(pools[i]) for i in picked if pools[i] == q]
            for q in sorted(set(pools[picked].tolist()))
        ]
        assert [[pool_of[tuple(ids.tolist())] for ids in g] for g in groups] == shares


def test_conversion_then_product_equals_the_fused_product() -> None:
    """The loader converts a quantized chunk's integers to float32 and then multiplies in place:
    the same bits as numpy's one-call convert-and-multiply, over the whole int32 range."""
    from labram.data.block_reader import _apply

    rng = np.random.default_rng(7)
    src = rng.integers(np.iinfo(np.int32).min, np.iinfo(np.int32).max, (23, 800), np.int32)
    for divisor in (16 / 0.1526, 3.0, 1e-3):
        got = np.empty(src.shape, np.float32)
        _apply(src, got, divisor, UV_PER_UNIT)
        factor = np.float32(1.0 / (divisor * UV_PER_UNIT))
        want = np.multiply(src, factor, dtype=np.float32, casting="unsafe")
        assert np.array_equal(got.view(np.int32), want.view(np.int32))
