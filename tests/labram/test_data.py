"""The streaming data pipeline: windows, buckets, shards, workers, resume state."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from labram.data.loader import UV_PER_UNIT, BlockReader, WindowDataset, make_loader
from labram.data.sampler import BatchPlan, ResumeError
from labram.data.windows import WindowConfig, build_pretrain_index
from tests.labram.training_stores import write_pretrain_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("stores")
    return [
        write_pretrain_store(root / "a.zarr", corpus="tuh", n_subjects=4, seconds=130),
        write_pretrain_store(root / "b.zarr", corpus="seed", n_subjects=3, seconds=90, seed=5),
    ]


def test_windows_follow_the_token_budget(stores: list[str]) -> None:
    idx = build_pretrain_index(stores)
    shapes = set(zip(idx.n_channels.tolist(), idx.n_patches.tolist()))
    assert shapes == {(19, 13), (23, 11), (32, 8)}  # 256 // channels seconds
    assert idx.corpora == ["seed", "tuh"]
    assert (idx.start % 200 == 0).all()
    capped = build_pretrain_index(stores, WindowConfig(token_budget=10_000))
    assert set(capped.n_patches.tolist()) == {16}


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
    plan = BatchPlan(idx, batch_size=4, seed=2, drop_last=False, shuffle=True)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    one_batches = list(make_loader(ds))
    two_batches = list(make_loader(ds, num_workers=2))  # made in shared memory by workers
    one = [b["ids"].tolist() for b in one_batches]
    two = [b["ids"].tolist() for b in two_batches]
    assert two == one
    for a, b in zip(one_batches, two_batches, strict=True):  # the same samples, bit for bit
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["channels"], b["channels"])
    flat = [i for b in two for i in b]
    assert sorted(flat) == list(range(len(idx)))
    ds.set_epoch(0, start=3)  # mid-epoch resume: the rest of the same sequence
    assert [b["ids"].tolist() for b in make_loader(ds, num_workers=2)] == one[3:]


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


def test_index_of_many_recordings_is_fast(stores: list[str]) -> None:
    from eegprep import open_store

    s = open_store(stores[0])
    t = time.perf_counter()
    idx = build_pretrain_index([s] * 2000)  # 8,000 recordings
    assert len(idx) > 0 and time.perf_counter() - t < 2.0
