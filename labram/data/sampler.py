"""Deterministic, bucketed, weighted, sharded, resumable batch plans.

An epoch's plan is a pure function of ``(index, seed, epoch, batch_size, weights)``:

1. each corpus contributes ``weight x`` its windows (weight 2: every window twice; 0.5: a
   random half);
2. within each shape bucket (equal channels x patches: no padding), blocks are shuffled, their
   windows laid end to end, and shuffled again within *pools* of ``pool_batches`` batches (so a
   pool reads a few blocks, each with one Zarr call, and its batches are still well mixed);
3. pools of every bucket and corpus are shuffled together: corpora are interleaved within the
   epoch (LaBraM iterates them one after another, which causes forgetting);
4. the global list of batches is split into ``world_size`` contiguous, disjoint shards (training
   drops the last ``< world_size`` batches so that every rank takes the same number of steps);
   dataloader worker ``k`` of ``K`` takes its shard's batches ``k, k + K, ...`` (the order in
   which ``DataLoader`` returns them, so the batch sequence does not depend on ``K``).

Resuming: :class:`LoaderState` names the epoch and the batches this rank has consumed, and is
refused under a different world size, seed, batch size or index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from eegprep.base.bounds import check_number
from eegprep.base.errors import UsageError
from eegprep.base.wording import counted
from labram.data.windows import WindowIndex, check_batch_size

STATE_VERSION = 1


class ResumeError(UsageError):
    """A saved loader state does not fit this run (world size, seed, batch size, index)."""


@dataclass(frozen=True, kw_only=True)
class LoaderState:
    """Where a rank's data stream stands: enough to continue it exactly."""

    version: int = STATE_VERSION
    epoch: int = 0
    batch_in_epoch: int = 0  # rank-local batches already consumed in ``epoch``
    seed: int = 0
    world_size: int = 1
    batch_size: int = 1
    index: str = ""  # WindowIndex.fingerprint()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoaderState:
        if int(data.get("version", 0)) != STATE_VERSION:
            raise ResumeError(
                f"data-loader state version {data.get('version')}; this labram reads "
                f"{STATE_VERSION}"
            )
        return cls(**data)


class BatchPlan:
    """The batches of each epoch, for one rank.

    Parameters
    ----------
    index : WindowIndex
    batch_size : int
        Windows per batch on each rank.
    seed : int
    rank, world_size : int
    weights : dict of str to float, optional
        Corpus -> sampling weight (default 1 for every corpus).
    shuffle : bool
        False gives the index order (evaluation).
    drop_last : bool
        Drop incomplete batches and the last ``< world_size`` batches (training). False keeps
        every window exactly once (evaluation; shards may then differ by one batch).
    pool_batches : int
        Batches per shuffling pool (locality of reads vs mixing).
    """

    def __init__(
        self,
        index: WindowIndex,
        *,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        weights: dict[str, float] | None = None,
        shuffle: bool = True,
        drop_last: bool = True,
        pool_batches: int = 20,
    ) -> None:
        # (once per plan: a notebook's batch_size=10**30, seed=nan or True was taken, and
        # failed, or allocated, in the first epoch)
        batch_size = int(check_number("batch_size", batch_size))
        seed = int(check_number("seed", seed))
        pool_batches = int(check_number("pool_batches", pool_batches))
        if weights is not None:  # (each a plain number: -0.0 is 0.0)
            weights = {
                corpus: check_number(f"corpus_weights[{corpus}]", w, key="corpus_weights")
                for corpus, w in weights.items()
            }
        if not 0 <= rank < world_size:
            raise UsageError(f"Invalid rank {rank} for world size {world_size}")
        unknown = set(weights or {}) - set(index.corpora)
        if unknown:
            raise UsageError(
                f"Invalid corpus weights: {sorted(unknown)} not among the stores' corpora "
                f"{index.corpora}"
            )
        given = {c: float((weights or {}).get(c, 1.0)) for c in index.corpora}
        if given and not any(given.values()):  # (read "the stores are too small" before)
            raise UsageError(
                f"Invalid corpus weights: every corpus of the stores ({', '.join(given)}) has "
                "weight 0, so no window is left to train on: give one a weight above 0"
            )
        check_batch_size(index, batch_size, max((weights or {}).values(), default=1.0))
        self.index = index
        self.batch_size = batch_size
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.weights = given
        self.shuffle, self.drop_last, self.pool_batches = shuffle, drop_last, pool_batches
        self._buckets = index.buckets()
        self._corpus = index.corpus
        self._cache: tuple[int, list[np.ndarray], np.ndarray] | None = None

    def _rng(self, epoch: int, *salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch, *salt])

    def _weighted(self, ids: np.ndarray, weight: float, rng: np.random.Generator) -> np.ndarray:
        whole, frac = int(weight), weight - int(weight)
        extra = rng.permutation(ids)[: int(round(frac * len(ids)))] if frac else ids[:0]
        return np.sort(np.concatenate([np.tile(ids, whole), extra]))

    def _pools(self, ids: np.ndarray, rng: np.random.Generator) -> list[list[np.ndarray]]:
        """Batches of one bucket, grouped in pools (block-shuffled, pool-shuffled)."""
        if self.shuffle:
            blocks = self.index.block[ids]
            order = rng.permutation(np.unique(blocks))
            rank_of_block = np.empty(int(blocks.max()) + 1, np.int64)
            rank_of_block[order] = np.arange(len(order))
            ids = ids[np.lexsort((rng.random(len(ids)), rank_of_block[blocks]))]
        bs = self.batch_size
        pool = bs * self.pool_batches
        pools = []
        for p0 in range(0, len(ids), pool):
            part = rng.permutation(ids[p0 : p0 + pool]) if self.shuffle else ids[p0 : p0 + pool]
            batches = [part[b : b + bs] for b in range(0, len(part), bs)]
            if self.drop_last:
                batches = [b for b in batches if len(b) == bs]
            if batches:
                pools.append(batches)
        return pools

    def global_batches(self, epoch: int) -> list[np.ndarray]:
        """Every rank's batches of ``epoch``, in order (window ids)."""
        return [batch for pool in self._global_pools(epoch) for batch in pool]

    def _global_pools(self, epoch: int) -> list[list[np.ndarray]]:
        """Every rank's batches of ``epoch`` in their pools, in order."""
        pools: list[list[np.ndarray]] = []
        for c_i, corpus in enumerate(self.index.corpora):
            ids = np.flatnonzero(self._corpus == c_i)
            if self.shuffle:
                ids = self._weighted(ids, self.weights[corpus], self._rng(epoch, 1, c_i))
            for b in np.unique(self._buckets[ids]) if len(ids) else []:
                rng = self._rng(epoch, 2, c_i, int(b))
                pools.extend(self._pools(ids[self._buckets[ids] == b], rng))
        if self.shuffle:
            order = self._rng(epoch, 3).permutation(len(pools))
            pools = [pools[i] for i in order]
        return pools

    def batches(self, epoch: int) -> list[np.ndarray]:
        """This rank's batches of ``epoch`` (a contiguous shard of the global list)."""
        return self._shard(epoch)[0]

    def pools(self, epoch: int) -> np.ndarray:
        """The pool of each of :meth:`batches` (int, non-decreasing): batches of one pool read
        the same few blocks, so that a reader fills them together."""
        return self._shard(epoch)[1]

    def _shard(self, epoch: int) -> tuple[list[np.ndarray], np.ndarray]:
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1], self._cache[2]
        pools = self._global_pools(epoch)
        every = [batch for pool in pools for batch in pool]
        pool_of = np.repeat(np.arange(len(pools)), [len(pool) for pool in pools])
        W = self.world_size
        if self.drop_last:
            n = len(every) // W
            a, b = self.rank * n, (self.rank + 1) * n
        else:
            bounds = np.linspace(0, len(every), W + 1).round().astype(int)
            a, b = int(bounds[self.rank]), int(bounds[self.rank + 1])
        self._cache = (epoch, every[a:b], pool_of[a:b])
        return self._cache[1], self._cache[2]

    def __len__(self) -> int:
        """Batches per epoch on this rank (epoch 0; weights may vary it by a batch)."""
        return len(self.batches(0))

    def state(self, epoch: int, batch_in_epoch: int) -> LoaderState:
        return LoaderState(
            epoch=epoch,
            batch_in_epoch=batch_in_epoch,
            seed=self.seed,
            world_size=self.world_size,
            batch_size=self.batch_size,
            index=self.index.fingerprint(),
        )

    def check_resume(self, state: LoaderState) -> None:
        """Refuse a state saved by a run this plan cannot continue exactly."""
        mine = self.state(state.epoch, state.batch_in_epoch)
        for name in ("world_size", "seed", "batch_size", "index"):
            saved, now = getattr(state, name), getattr(mine, name)
            if saved != now:
                what = "the windows (stores or window settings)" if name == "index" else name
                raise ResumeError(
                    f"cannot resume: {what} changed (checkpoint {saved!r}, this run {now!r}); "
                    "resume with the original settings or start a new run"
                )
        n_batches = len(self.batches(state.epoch))
        if not 0 <= state.batch_in_epoch <= n_batches:
            raise ResumeError(
                f"cannot resume: the checkpoint's place in epoch {state.epoch} is batch "
                f"{state.batch_in_epoch}, but the epoch has {counted(n_batches, 'batch')}: a "
                "damaged or crafted checkpoint"
            )
