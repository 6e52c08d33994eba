"""The window index: which ``(recording, start, length, channels)`` windows an epoch draws from.

An index is a handful of numpy arrays (one entry per window, no per-window Python objects), so
that listing 100,000 recordings and cutting them into windows takes well under a second. Windows
are grouped into *blocks* (the windows of one recording that start within one ``block_seconds``
span): the reader fetches a block with one Zarr call and cuts its windows in memory.

Pre-training windows follow LaBraM's token budget: ``n_channels x seconds ~ token_budget``,
at most ``max_seconds`` (16, the time table) and at least 1 s; channels the released weights
cannot address (vocabulary index >= 128) are dropped, and above ``max_channels`` an evenly spaced
subset is kept. Fine-tuning windows come from a task (:mod:`labram.data.tasks`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from eegprep.base.allocator import reuse_freed_memory, small_pages
from eegprep.base.bounds import BOUNDS, MAX_WHOLE, check_fields
from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.gc_pause import gc_paused
from eegprep.base.path_limits import shown_path
from eegprep.base.validation import check_kinds
from eegprep.base.wording import counted
from eegprep.pipeline.channels import N_ADDRESSABLE
from eegprep.store.reader import Store, open_store
from eegprep.store.recording import Recording
from labram.checkpoints.key_paths import first_refused, step
from labram.data.joins import split_at_joins
from labram.data.splits import TEST_SPLITS, split_name, unknown_splits_warning
from labram.data.store_set import (
    given_names,
    is_reconciled,
    reconcile,
    remember,
    shown,
    unique_stores,
)
from labram.data.subjects import subject_key
from labram.model.config import BLOCK_SECONDS, PATCH_SIZE

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class WindowSettings:
    """How windows are cut: the one definition of these fields.

    :class:`~labram.train.config.TrainConfig` inherits them (``--set token_budget=512``), and
    every model file a training stage leaves records them (its ``train_config``), so that later
    stages cut the windows the model was trained on (:func:`saved_windows`).
    """

    token_budget: int = 256  # channels x seconds per window, as LaBraM
    max_seconds: int = 16  # the time table has 16 rows
    max_channels: int = 128  # evenly spaced subset above this (tasks without fixed channels too)
    stride_seconds: float | None = None  # pre-training; None: non-overlapping (tokenizer: 1 s)
    block_seconds: int = BLOCK_SECONDS  # one Zarr read serves the windows starting in this span

    def __post_init__(self) -> None:
        # (eegprep/base/bounds.py: max_seconds at most the time table's 16 rows; a stride
        # under one sample was taken as one without a word, a longer one overflowed int64)
        check_fields(self, WINDOW_NUMBERS, error=ConfigError)
        check_kinds(self, error=ConfigError)  # (a subclass's flags too: amp=nan was taken)

    def window_settings(self) -> WindowSettings:
        """These fields alone (of a TrainConfig, say), as a plain WindowSettings."""
        return WindowSettings(**{f.name: getattr(self, f.name) for f in fields(WindowSettings)})


WINDOW_NUMBERS = ("token_budget", "max_seconds", "max_channels", "stride_seconds", "block_seconds")
"""The numeric fields of :class:`WindowSettings`, each bounded by its entry of
:data:`eegprep.base.bounds.BOUNDS`."""

MAX_COUNT = MAX_WHOLE
"""The largest value of any integer setting (steps, epochs, batch size, ...): larger ones
overflowed numpy's and torch's integers deep in a run (an internal error after the run folder
was made)."""


MAX_STRIDE_SECONDS = MAX_COUNT // PATCH_SIZE
"""The longest stride between windows, in seconds (:data:`MAX_COUNT` samples at 200 Hz, 124
days: one window per recording); ``1e300`` overflowed int64 in the window index."""

STRIDE_RANGE = (
    f"seconds from {1 / PATCH_SIZE:g} (one sample at {PATCH_SIZE} Hz) to {MAX_STRIDE_SECONDS:,}"
)
"""The stride range, in words, for messages."""


def stride_fits(seconds: float) -> bool:
    """Whether a stride between windows, in seconds, is in range (``False`` for NaN): at least
    one sample, at most :data:`MAX_STRIDE_SECONDS` (``BOUNDS["stride_seconds"]``)."""
    return BOUNDS["stride_seconds"].holds(seconds)


MAX_SECONDS = int(BOUNDS["max_seconds"].high)
"""Rows of the released time-embedding table: the longest window, in 1-s patches."""


@dataclass(frozen=True, kw_only=True)
class WindowConfig(WindowSettings):
    """How pre-training windows are cut (LaBraM's recipe by default): the window settings and
    the splits held out."""

    exclude_splits: tuple[str, ...] = TEST_SPLITS  # recordings held out for evaluation


TRAIN_CONFIG_KEY = "train_config"
"""The entry of a model file (``model.pt``, ``tokenizer.pt``, ``best.pt``) that holds the
resolved config of the stage that wrote it, window settings included."""


def saved_windows(obj: Any, source: str = "the checkpoint") -> WindowSettings | None:
    """The window settings a checkpoint already read was trained with, or None when it records
    none (the released weights, files of older labram versions).

    Reads our model files (``train_config``) and training checkpoints (``config``).

    Raises
    ------
    UsageError
        The settings recorded are not valid (a damaged or crafted file: ``token_budget: -5``),
        naming ``source``: the windows it was trained on are unknown. They were taken as
        missing, so ``predict`` and ``embed`` cut the default windows without a word where
        ``evaluate`` refused the file.
    """
    if not isinstance(obj, dict):
        return None
    key = TRAIN_CONFIG_KEY
    cfg = obj.get(key)
    if not isinstance(cfg, dict) and obj.get("format") == "labram-train":
        key, cfg = "config", obj.get("config")
    if not isinstance(cfg, dict):
        return None
    names = {f.name for f in fields(WindowSettings)}
    given = {k: v for k, v in cfg.items() if k in names}
    try:
        return WindowSettings(**given)
    except (TypeError, ValueError):
        why = first_refused(WindowSettings, given, step("", key))  # (its key path: one line)
        raise UsageError(
            f"{shown_path(source)}: the window settings it records are not valid ({why}): the "
            "windows it was trained on are unknown; pass a checkpoint whose config is sound"
        ) from None


@dataclass
class RecordingPlan:
    """How one recording is read: its store, rows to keep, and their vocabulary indices."""

    store: int  # position in WindowIndex.urls
    id: str
    corpus: str
    subject_key: str  # as labram compares it (labram.data.subjects): NFC, stripped
    rows: np.ndarray  # int64 (N,): rows of the stored array, in model order
    channels: np.ndarray  # int64 (N,): vocabulary indices of those rows
    subject: str = ""  # what a task's splits group by (labram.data.subjects.subject_of)
    source: str = ""  # the source's content digest and part (tasks.source_identity); "": unknown


@dataclass
class WindowIndex:
    """Windows of one or more stores, as parallel arrays.

    Attributes
    ----------
    urls : list of str
        The stores.
    recordings : list of RecordingPlan
    rec, start, n_patches, block : ndarray, shape (n_windows,)
        Recording number, first sample, length in 1-s patches, block number (integers:
        ``start`` int64, the others int32 in a pre-training index, where they fit).
    labels : ndarray of float32, shape (n_windows, n_targets)
        Class index (as float) or regression targets; zeros for pre-training.
    opened : list of Store, optional
        The stores of ``urls``, as opened (and reconciled) by the process that built the index,
        for that process to read and look up records without opening them again. Not pickled:
        a dataloader worker opens its own (:mod:`labram.data.block_reader`).
    named_unreadable : set of str
        Recordings of which windows cannot be read, named already by this process's check
        before training (:func:`labram.data.finite_windows.nonfinite_recordings`): the
        training loop counts their windows and does not name them again.
    """

    urls: list[str]
    recordings: list[RecordingPlan]
    rec: np.ndarray
    start: np.ndarray
    n_patches: np.ndarray
    block: np.ndarray
    labels: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    opened: list[Store] | None = field(default=None, repr=False, compare=False)
    named_unreadable: set[str] = field(default_factory=set, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """For another process: the stores stay in this one (a worker opens its own)."""
        return {**self.__dict__, "opened": None}

    def __len__(self) -> int:
        return int(self.rec.shape[0])

    @property
    def n_channels(self) -> np.ndarray:
        """Channels of each window, shape (n_windows,)."""
        per_rec = np.array([len(r.rows) for r in self.recordings], dtype=np.int64)
        return per_rec[self.rec] if len(self.recordings) else np.zeros(0, np.int64)

    @property
    def corpus(self) -> np.ndarray:
        """Corpus number of each window (into :attr:`corpora`)."""
        names = self.corpora
        per_rec = np.array([names.index(r.corpus) for r in self.recordings], dtype=np.int64)
        return per_rec[self.rec] if len(self.recordings) else np.zeros(0, np.int64)

    @property
    def corpora(self) -> list[str]:
        return sorted({r.corpus for r in self.recordings})

    def buckets(self) -> np.ndarray:
        """Shape bucket of each window: windows with equal ``(n_channels, n_patches)``."""
        key = self.n_channels * 1000 + self.n_patches
        return np.unique(key, return_inverse=True)[1]

    def fingerprint(self) -> str:
        """A short digest of the windows, so a resume can refuse a changed index."""
        import hashlib

        h = hashlib.sha256()
        for a in (self.rec, self.start, self.n_patches):
            h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
        h.update("\n".join(r.id for r in self.recordings).encode())
        return h.hexdigest()[:16]

    def subset(self, keep: np.ndarray) -> WindowIndex:
        """The windows where ``keep`` (bool mask or indices) holds; recordings are kept."""
        return WindowIndex(
            self.urls,
            self.recordings,
            self.rec[keep],
            self.start[keep],
            self.n_patches[keep],
            self.block[keep],
            self.labels[keep],
            dict(self.meta),
            self.opened,
        )


def open_stores(urls: Sequence[str | Store], *, warn: bool = False) -> list[Store]:
    """Open each store once (a :class:`Store` passes through; one given twice is opened once,
    :func:`~labram.data.store_set.unique_stores`) and read them together
    (:func:`~labram.data.store_set.reconcile`): stores of another rate or channel vocabulary
    are refused, a recording two stores hold is kept in the first only. ``warn``: say what
    they share and how their recipes differ (a command does once, when it first opens them).

    A list this function returned, given back (a command hands its stages the stores it
    opened), is returned as it is: nothing is opened, checked or said again."""
    if not warn and is_reconciled(urls):
        return [s for s in urls if isinstance(s, Store)]  # (every one is)
    given = unique_stores(urls)
    opened = [u if isinstance(u, Store) else open_store(u) for u in given]
    together = reconcile(opened, names=[shown(u) for u in given], warn=warn)
    if warn:
        for store, name in zip(together, given, strict=True):
            line = unknown_splits_warning(
                (r.split for r in store.index_fields().values()), shown(name)
            )
            if line:
                log.warning("%s", line)
    remember(together, given_names(given), reconciled=True)
    return together


def open_each(urls: Sequence[str | Store]) -> list[Store]:
    """Each of ``urls`` opened on its own (a :class:`Store` passes through; one given twice is
    opened once), not reconciled with the others: for stores whose subjects alone are read
    (``--exclude-subjects-of``)."""
    given = unique_stores(urls)
    opened = [u if isinstance(u, Store) else open_store(u) for u in given]
    remember(opened, given_names(given), reconciled=False)
    return opened


def select_channels(rec: Recording, max_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows (and their vocabulary indices) a pre-training window uses.

    Drops the names the released spatial table cannot address and, above ``max_channels``,
    keeps an evenly spaced subset (deterministic).
    """
    return addressable_rows(rec.channel_index, max_channels)


def addressable_rows(
    channel_index: Sequence[int], max_channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`select_channels` for a recording's ``channel_index`` (vocabulary indices of its
    stored rows): the rows kept, and their vocabulary indices, int64."""
    idx = np.asarray(channel_index, dtype=np.int64)
    rows = np.flatnonzero(idx < N_ADDRESSABLE)
    if len(rows) > max_channels:
        rows = rows[np.linspace(0, len(rows) - 1, max_channels).round().astype(np.int64)]
    return rows, idx[rows]


def window_seconds(n_channels: int, cfg: WindowSettings) -> int:
    """Seconds per pre-training window for ``n_channels`` (token budget, 1..max_seconds)."""
    return int(min(cfg.max_seconds, max(1, cfg.token_budget // max(n_channels, 1))))


def _arange_windows(
    n_samples: np.ndarray, length: np.ndarray, stride: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``range(0, n - length + 1, stride)`` per recording -> (rec, start).

    For 10^7 windows each array is ~90 MB, and faulting pages in is most of the time: the
    starts are a running sum of the strides, made in place in their own array (each
    recording's first window steps back to 0), so that no other array that size is made."""
    counts = _window_counts(n_samples, length, stride)
    rec = np.repeat(np.arange(len(n_samples), dtype=_index_type(len(n_samples))), counts)
    start = np.repeat(stride.astype(np.int64, copy=False), counts)
    used = np.flatnonzero(counts)
    if len(used):
        first = (np.cumsum(counts) - counts)[used]
        last = (counts[used] - 1) * stride[used]  # each recording's last start
        start[first[0]] = 0
        start[first[1:]] = -last[:-1]
        np.cumsum(start, out=start)
    return rec, start


def _window_counts(n_samples: np.ndarray, length: np.ndarray, stride: np.ndarray) -> np.ndarray:
    """Windows of ``length`` samples every ``stride`` samples in each recording of
    ``n_samples`` (all arrays per recording, int64)."""
    return np.where(n_samples >= length, (n_samples - length) // stride + 1, 0)


INDEX_BYTES_PER_WINDOW = 64
"""Memory one window costs a pre-training run: the index's arrays (~28 bytes) and the
sampler's arrays of an epoch (its order, its batches), rounded up."""


def check_index_size(n_windows: int, stride_seconds: float | None) -> None:
    """Refuse, in one line, an index whose windows would take more than half of this
    machine's memory (a stride of a few samples over a large store: 10^10 windows); nothing is
    allocated before. ``stride_seconds``: the setting that cut them, named in the message."""
    need = n_windows * INDEX_BYTES_PER_WINDOW
    have = _physical_memory()
    if have is None or need <= have // 2:
        return
    from eegprep.base.limits import format_bytes

    cut = (
        "non-overlapping windows"
        if stride_seconds is None
        else (f"stride_seconds={stride_seconds:g}")
    )
    raise ConfigError(
        f"{cut} gives {counted(n_windows, 'window', sep=',')}, whose index would take "
        f"{format_bytes(need)}: more "
        f"than half of this machine's memory ({format_bytes(have)}); raise stride_seconds "
        "(--set stride_seconds=...) or train on fewer stores"
    )


def check_batch_size(index: WindowIndex, batch_size: int, repeat: float = 1.0) -> None:
    """Refuse, in one line, a ``batch_size`` whose largest batch's samples alone would take more
    than half of this machine's memory (``--batch-size 10000000`` on a large store), before a
    batch is allocated. A batch holds windows of one shape, at most as many as the store has
    of it (each repeated up to ``repeat`` times: the largest corpus weight)."""
    have = _physical_memory()
    if have is None or not len(index.n_patches):
        return
    nch = index.n_channels
    span = int(index.n_patches.max()) + 1
    largest = int(nch.max()) * (span - 1) * PATCH_SIZE * 4  # no window is larger
    if largest * min(batch_size, len(nch) * max(repeat, 1.0)) <= have // 2:
        return  # (a bound from two maxima: no sort of 10^7 windows by shape)
    nch = nch.astype(np.int64)
    key = nch * span + index.n_patches  # one batch shape each
    shapes, counts = np.unique(key, return_counts=True)
    tokens = (shapes // span) * (shapes % span)  # patches of PATCH_SIZE float32 samples
    windows = np.minimum(batch_size, np.ceil(counts * max(repeat, 1.0)))
    need = int((tokens * windows).max()) * PATCH_SIZE * 4
    if need <= have // 2:
        return
    from eegprep.base.limits import format_bytes

    raise ConfigError(
        f"batch_size={batch_size}: a batch's samples alone would take {format_bytes(need)}, "
        f"more than half of this machine's memory ({format_bytes(have)}); lower --batch-size "
        "(--set batch_size=...)"
    )


def _physical_memory() -> int | None:
    """This machine's memory in bytes (``None`` where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _index_type(n: int) -> type[np.signedinteger[Any]]:
    """The integer type of an array counting up to ``n``: int32 while it fits (half the
    pages of int64 to fault in for 10^7 windows), else int64."""
    return np.int32 if n < 2**31 else np.int64


def assign_blocks(rec: np.ndarray, start: np.ndarray, block_samples: int) -> np.ndarray:
    """Block number of each window: one per (recording, start // block_samples), numbered in
    order of that key."""
    if len(rec) == 0:
        return np.zeros(0, np.int64)
    # the span within its recording, then the block number (a block per window at most); the
    # type holds both
    spans = int(start.max()) // block_samples + 1
    block = np.empty(len(start), _index_type(max(len(start), spans)))
    np.floor_divide(start, block_samples, out=block, casting="unsafe")
    new = rec[1:] != rec[:-1]  # a new recording
    ordered = bool((rec[1:] >= rec[:-1]).all())
    if ordered:
        later = block[1:] >= block[:-1]
        later |= new
        ordered = bool(later.all())
    if ordered:
        # the usual case, windows listed in key order: O(n), bytes per window not words
        new |= block[1:] != block[:-1]
        block[0] = 0
        np.cumsum(new, out=block[1:])
        return block
    if spans <= 1 << 32 and int(rec.max()) < 1 << 30:
        key = rec.astype(np.int64) * (1 << 32) + block
        return np.unique(key, return_inverse=True)[1].astype(block.dtype)
    pairs = np.stack([rec.astype(np.int64), block.astype(np.int64)], axis=1)
    return np.unique(pairs, axis=0, return_inverse=True)[1].reshape(-1).astype(block.dtype)


def build_pretrain_index(
    stores: Sequence[str | Store],
    cfg: WindowConfig | None = None,
    *,
    exclude_subjects: Iterable[str] = (),
) -> WindowIndex:
    """Every pre-training window of ``stores``, minus the excluded subjects' recordings and
    those whose ``split`` is in ``cfg.exclude_splits`` (eval / test by default).

    Parameters
    ----------
    stores : sequence of URL or Store
    cfg : WindowConfig
    exclude_subjects : iterable of str
        ``subject_key`` values (corpus-independent) whose recordings are left out.
    """
    cfg = cfg or WindowConfig()
    held_out = {split_name(s) for s in cfg.exclude_splits}
    opened = open_stores(stores)
    reuse_freed_memory()  # 10^7 windows: arrays of ~100 MB, reused instead of faulted in again
    # 10^5 plans: no cyclic-GC passes over them; ~300 MB of new arrays: small pages
    with gc_paused(), small_pages():
        excluded = {subject_key(k) for k in exclude_subjects}
        return _build_pretrain_index(opened, cfg, excluded, held_out)


def no_samples(store: Store, rid: str) -> None:
    """A recording whose record states 0 samples gives no window: refused in one line when
    its ``data`` array holds samples (:meth:`~eegprep.store.reader.Store.check_samples`: the
    record is damaged, as every read of it and ``eegprep validate`` say), else one warning line
    naming it (it was left out unsaid)."""
    store.check_samples(rid)
    log.warning("%s: %s holds no samples (n_samples 0): no window", store.named, rid)


def _build_pretrain_index(
    opened: list[Store], cfg: WindowConfig, excluded: set[str], held_out: set[str]
) -> WindowIndex:
    plans: list[RecordingPlan] = []
    n_samples, seconds = [], []
    joins: dict[int, list[int]] = {}  # by plan: the few recordings whose stretches join
    n_excluded = 0
    chosen: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, int]] = {}  # per channel set
    for s_i, store in enumerate(opened):
        for rid, row in store.index_fields().items():  # 10^5 of them: no record parsed
            key = subject_key(row.subject_key)  # (an earlier store's "S01 ": "S01")
            if (key and key in excluded) or split_name(row.split) in held_out:
                n_excluded += 1
                continue
            channel_index = tuple(row.channel_index)
            sel = chosen.get(channel_index)
            if sel is None:
                rows, idx = addressable_rows(channel_index, cfg.max_channels)
                sel = chosen[channel_index] = (rows, idx, window_seconds(len(rows), cfg))
            rows, idx, secs = sel
            if len(rows) == 0:
                continue
            if row.n_samples == 0:
                no_samples(store, rid)
            plans.append(RecordingPlan(s_i, rid, row.corpus, key, rows, idx))
            n_samples.append(row.n_samples)
            seconds.append(secs)
            if row.joins:  # (UNSET, or [], is false)
                joins[len(plans) - 1] = row.joins
    over_budget(plans, cfg.token_budget)
    ns = np.asarray(n_samples, dtype=np.int64)
    length = np.asarray(seconds, dtype=np.int64) * PATCH_SIZE
    if cfg.stride_seconds is None:
        stride = length
    else:
        stride = np.full_like(length, max(1, round(cfg.stride_seconds * PATCH_SIZE)))
    rec_i, start, n_patches = _tiled(ns, length, stride, joins, cfg.stride_seconds)
    block = assign_blocks(rec_i, start, cfg.block_seconds * PATCH_SIZE)
    index = WindowIndex(
        [s.url for s in opened],
        plans,
        rec_i,
        start.astype(np.int64, copy=False),
        n_patches,
        block,
        np.zeros((len(rec_i), 1), np.float32),
        {"n_recordings_excluded": n_excluded},
        opened,
    )
    log.info("%s from %s (%d excluded)", counted(len(index), "window"),
             counted(len(plans), "recording"), n_excluded)  # fmt: skip
    return index


def over_budget(plans: Sequence[RecordingPlan], token_budget: int) -> None:
    """One warning where ``token_budget`` (tokens: channels x seconds) is under the channels a
    recording's windows keep: a window holds 1 s of each at least, so the budget is not kept
    for them (the class of the table's ``useful`` floor, :data:`eegprep.base.bounds.BOUNDS`,
    once the channels are known)."""
    counts = [len(p.rows) for p in plans if len(p.rows) > token_budget]
    if counts:
        log.warning(
            "token_budget %d is under the channels of the windows of %s (up to %d channels, "
            "each window 1 s of them, over the budget): raise token_budget to %d or more, or "
            "lower max_channels to %d",
            token_budget, counted(len(counts), "recording"), max(counts), max(counts),
            token_budget,
        )  # fmt: skip


def _tiled(
    ns: np.ndarray,
    length: np.ndarray,
    stride: np.ndarray,
    joins: dict[int, list[int]],
    stride_seconds: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rec, start, n_patches)`` of the windows of recordings of ``ns`` samples, ``length``
    and ``stride`` samples each (arrays per recording); a recording with ``joins`` (by
    position) tiled stretch by stretch (:func:`~labram.data.joins.split_at_joins`), never
    across a join. Without joins, the vectorised path alone."""
    owner = offset = None
    if joins:
        ns, owner, offset = split_at_joins(ns, joins)
        length, stride = length[owner], stride[owner]
    check_index_size(int(_window_counts(ns, length, stride).sum()), stride_seconds)
    rec_i, start = _arange_windows(ns, length, stride)
    patches = (length // PATCH_SIZE).astype(np.int32)
    n_patches = patches[rec_i] if len(rec_i) else np.zeros(0, np.int32)
    if owner is not None and offset is not None:
        start += offset[rec_i]
        rec_i = owner[rec_i].astype(_index_type(int(owner[-1]) + 1 if len(owner) else 0))
    return rec_i, start, n_patches


def recordings_used(index: WindowIndex) -> list[RecordingPlan]:
    """The recordings an index draws at least one window from, in the index's order."""
    used = np.unique(index.rec) if len(index) else np.zeros(0, np.int64)
    return [index.recordings[int(r)] for r in used]


def subjects_of(stores: Sequence[str | Store]) -> set[str]:
    """Every ``subject_key`` of ``stores`` (for ``--exclude-subjects-of``; each store read on
    its own: their rates, recipes and shared recordings do not matter here)."""
    keys = set()
    for store in open_each(stores):
        for rid, row in store.index_fields().items():  # as the window index reads them
            key = subject_key(row.subject_key)
            if key:
                keys.add(key)
            else:
                log.warning("%s: %s has no subject_key; cannot exclude it", store.url, rid)
    return keys
