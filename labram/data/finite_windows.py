"""Windows whose samples are not finite, found before training rather than after it.

NaN or an infinity in a test recording was found only when the fine-tuned model's test outputs
stopped being finite, after every epoch had run. :func:`check_finite_splits` looks at the
samples each split's windows will read before the first step, and names the recordings in one
line.

It reads as little as it can. A recording is taken as finite without reading it when its record
vouches for it: the ``quantized`` encoding (stored integers; no NaN or infinity can be stored),
or an ingest's ``qc`` entry (``eegprep ingest`` counts the non-finite samples of every channel
as it writes them and refuses a recording holding one, before it writes ``qc``), as long as its
``data`` is the array that ingest wrote (:func:`vouched`). Any other recording (a store written
by another tool, or by hand) is read: the stored chunks that hold a sample of one of its
windows, on the rows the task reads.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch.distributed as dist

from eegprep.base.errors import EegprepError, StoreFormatError
from eegprep.store.array_docs import ENCODINGS
from eegprep.store.reader import Store, refuse_all
from eegprep.store.recording import Recording
from labram.data.sample_peaks import SamplesError
from labram.data.unreadable import TO_DO, Found, Unreadable, UnreadableError
from labram.data.windows import RecordingPlan, WindowIndex, open_stores
from labram.model.config import PATCH_SIZE

EXCLUDE = (
    "run `eegprep validate` on the store, and ingest the corpus into a new store (`eegprep "
    "ingest` refuses samples that are not finite, so those recordings are left out)"
)
"""What to do about such recordings, the end of the line that names them."""


def vouched(store: Store, rec: Recording) -> bool:
    """Whether ``rec``'s record says its samples are finite (module docstring), and its
    ``data`` is what that record's ingest wrote: a record that states its ``encoding`` is read
    only from the array eegprep writes for it (any other is refused when read); one of an
    earlier version, which states none, vouches only for an array in eegprep's own layout (an
    array another program wrote there, with a NaN fill value say, is read here)."""
    encoding = rec.meta.get("encoding")
    if not (encoding == "quantized" or rec.qc):
        return False
    return encoding in ENCODINGS or store.reads_own_layout(rec.id)


def read_spans(lo: int, hi: int, n_samples: int) -> list[tuple[int, int]]:
    """The samples ``[a, b)`` the window ``[lo, hi)`` reads of a recording of ``n_samples``: an
    edge window (``edge_events="wrap"``, :mod:`labram.data.block_reader`) reads modulo the
    length, its part before 0 at the end and its part past the end from the start."""
    if lo < 0:
        spans = [(lo + n_samples, n_samples), (0, hi)]
    elif hi > n_samples:
        spans = [(lo, n_samples), (0, hi - n_samples)]
    else:
        spans = [(lo, hi)]
    return [(max(a, 0), min(b, n_samples)) for a, b in spans if max(a, 0) < min(b, n_samples)]


def first_nonfinite(
    store: Store,
    plan: RecordingPlan,
    starts: np.ndarray,
    stops: np.ndarray,
    unreadable: dict[int, str] | None = None,
) -> float | None:
    """The second (from the recording's start) of the first sample that is not finite among
    those the windows ``[starts, stops)`` (samples, int64, shape (n,)) of recording ``plan``
    read (its rows only), or None.

    Reads the stored chunks that hold a window's sample, one at a time. ``unreadable``: where
    given, a chunk that cannot be read (a flipped bit) is put there (its number -> the line
    saying why) and the others are read on; else it raises :class:`StoreFormatError`."""
    rec = store.recording(plan.id)
    n_all = rec.n_samples
    used = np.zeros(rec.n_samples + 1, np.int64)  # +1 at a window's start, -1 past its end
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        for a, b in read_spans(lo, hi, rec.n_samples):
            used[a] += 1
            used[b] -= 1
    covered = np.cumsum(used[:-1]) > 0  # (n_samples,)
    chunk = store.chunk_samples(plan.id)
    n_chunks = -(-rec.n_samples // chunk)
    needed = [c for c in range(n_chunks) if covered[c * chunk : (c + 1) * chunk].any()]
    if unreadable is not None and (starts.min(initial=0) < 0 or stops.max(initial=0) > n_all):
        needed = list(range(n_chunks))  # a wrapped window reads them all (unreadable: any)
    for c in needed:
        try:  # (read through zarr, a store's own layout: the call reads the range)
            chunks, divisor = store.iter_chunks(plan.id, c, c + 1)
            blocks = list(chunks)
        except StoreFormatError as exc:
            if unreadable is None:
                raise
            unreadable[c] = str(exc)
            continue
        for block in blocks:
            if divisor is not None:  # stored integers: always finite
                continue
            inside = covered[c * chunk : c * chunk + block.shape[1]]
            bad = ~np.isfinite(block[plan.rows]).all(axis=0) & inside
            if bad.any():
                return (c * chunk + int(np.argmax(bad))) / store.sfreq
    return None


def _touching(
    mine: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    chunks: set[int],
    chunk: int,
    n_samples: int,
) -> list[int]:
    """The windows ``mine`` (numbers of the index) whose samples ``[starts, stops)`` (of the
    whole index) reach into one of the stored ``chunks`` (of ``chunk`` samples each) of their
    recording of ``n_samples``; a window read wrapped round it reads every chunk
    (:meth:`labram.data.block_reader.BlockReader`'s wrapped read), so any one."""
    first, last = starts[mine] // chunk, (stops[mine] - 1) // chunk
    wrapped = (starts[mine] < 0) | (stops[mine] > n_samples)
    hit = [
        w or any(c in chunks for c in range(a, b + 1))
        for a, b, w in zip(first.tolist(), last.tolist(), wrapped.tolist(), strict=True)
    ]
    return mine[np.array(hit, bool)].tolist()


def nonfinite_recordings(
    index: WindowIndex, *, what: str = "training", scored: bool = False
) -> list[tuple[str, float]]:
    """``(recording id, second)`` of each recording of ``index`` whose windows read a sample
    that is not finite (:func:`first_nonfinite`), the recordings :func:`vouched` for unread.
    A record that cannot be read raises :class:`StoreFormatError` once every recording was
    looked at, in one line naming each (capped, the rest counted). A stored chunk that cannot
    be read is what the loader meets in a vouched recording
    (:mod:`labram.data.unreadable`), and is taken as it takes it: its recording is named in
    the same warning (the windows it holds will be replaced), and more than
    :data:`~labram.data.unreadable.MOST_SHARE` of the windows unreadable raises
    :class:`~labram.data.unreadable.UnreadableError` (``what``: the command, for the lines).
    ``scored``: the windows are a validation or test split's, each scored for itself and never
    replaced (:func:`labram.stages.scoring.refuse_replaced`): one that cannot be read raises
    :class:`~labram.data.unreadable.UnreadableError` now, not after the training."""
    stores = index.opened or open_stores(index.urls)
    order = np.argsort(index.rec, kind="stable")  # the windows grouped by recording, once
    bounds = np.searchsorted(index.rec[order], np.arange(len(index.recordings) + 1))
    starts = index.start.astype(np.int64)
    stops = starts + index.n_patches.astype(np.int64) * PATCH_SIZE
    out, refused = [], []
    main = not dist.is_initialized() or dist.get_rank() == 0  # (each rank checks: one names)
    unreadable = Unreadable(len(index), what, speak=main)
    found: Found = []
    for i, plan in enumerate(index.recordings):
        store = stores[plan.store]
        chunks: dict[int, str] = {}
        try:  # (a damaged record: every one is named, not the first alone)
            if vouched(store, store.recording(plan.id)):
                continue
            mine = order[bounds[i] : bounds[i + 1]]
            second = first_nonfinite(store, plan, starts[mine], stops[mine], chunks)
            if chunks:
                chunk, n = store.chunk_samples(plan.id), store.recording(plan.id).n_samples
                hit = _touching(mine, starts, stops, set(chunks), chunk, n)
                found += [(w, plan.id, chunks[min(chunks)]) for w in hit]
        except StoreFormatError as exc:
            refused.append(str(exc))
            continue
        if second is not None:
            out.append((plan.id, second))
    refuse_all(
        refused,
        f"{len(refused)} of the {len(index.recordings)} recordings the windows read cannot be read",
        "; nothing was trained",
    )
    if scored and found:
        _, rid, why = found[0]
        raise UnreadableError(
            f"{what}: windows of recording {rid} cannot be read ({why}); they would be scored, "
            f"and a scored window is never replaced by another: nothing was trained: {TO_DO}"
        )
    unreadable.add(found)  # what the loader will replace (raises when too many)
    index.named_unreadable |= unreadable.named  # (the loader's run names them not again)
    return out


SCORED = ("val", "test")
"""The splits whose windows are scored (the last word of a split's name in
:func:`check_finite_splits`): none of their windows may be replaced."""


def check_finite_splits(splits: Mapping[str, WindowIndex], *, what: str) -> None:
    """Refuse, before training, splits whose windows read samples that are not finite.

    ``splits``: name (``train``, ``val``, ``test``) -> its windows; ``what``: the command, for
    the line.

    Raises
    ------
    SamplesError
        One line naming each such split, its first recording and second, up to five of its
        recordings, and what to do (:data:`EXCLUDE`).
    UnreadableError
        A stored chunk cannot be read: in a split of :data:`SCORED`, any; else more than the
        loader replaces (:func:`nonfinite_recordings`).
    """
    try:
        _check_finite_splits(splits, what=what)
    except EegprepError as exc:  # every rank checks every window: the same line on each
        exc.every_rank = True  # (printed by the main rank alone)
        raise


def _check_finite_splits(splits: Mapping[str, WindowIndex], *, what: str) -> None:
    """:func:`check_finite_splits`, its errors as they are raised."""
    said = []
    for name, index in splits.items():
        scored = name.split(" ")[-1] in SCORED
        bad = nonfinite_recordings(index, what=f"{what}: {name}" if scored else what, scored=scored)
        if bad:
            names = [rid for rid, _ in bad]
            more = ", ..." if len(names) > 5 else ""
            said.append(
                f"{name}: {len(bad)} recording(s), NaN or infinite samples in {bad[0][0]} at "
                f"{bad[0][1]:g} s (recordings: {', '.join(names[:5])}{more})"
            )
    if said:
        raise SamplesError(
            f"{what}: the windows of {'; '.join(said)} read samples that are not finite, and "
            f"nothing was trained: {EXCLUDE}"
        )


__all__ = [
    "EXCLUDE",
    "check_finite_splits",
    "first_nonfinite",
    "nonfinite_recordings",
    "read_spans",
    "vouched",
]
