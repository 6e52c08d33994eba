"""Windows whose samples are not finite, or no EEG's, found before training rather than after it.

NaN or an infinity in a test recording was found only when the fine-tuned model's test outputs
stopped being finite, after every epoch had run; a sample past 10^8 uV in one (the model's
outputs of it finite) only when that split was scored, after the training too.
:func:`check_finite_splits` looks at the samples each split's windows will read before the
first step, and names the recordings in one line.

It reads as little as it can. A recording is taken as finite without reading it when its record
vouches for it: the ``quantized`` encoding (stored integers; no NaN or infinity can be stored),
or an ingest's ``qc`` entry (``eegprep ingest`` counts the non-finite samples of every channel
as it writes them and refuses a recording holding one, before it writes ``qc``), as long as its
``data`` is the array that ingest wrote (:func:`vouched`). Any other recording (a store written
by another tool, or by hand) is read: the stored chunks that hold a sample of one of its
windows, on the rows the task reads. The same read finds samples past 10^8 uV; a vouched
recording is read for them only where its record does not bound its samples below that
(:mod:`labram.data.peak_bounds`: its channels' RMS, its encoding).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch.distributed as dist

from eegprep.base.errors import EegprepError, StoreFormatError
from eegprep.base.wording import counted
from eegprep.store.array_docs import ENCODINGS
from eegprep.store.reader import Store, refuse_all
from eegprep.store.recording import Recording
from labram.data.peak_bounds import LOUD_UV, quiet_by_record
from labram.data.sample_peaks import FIX, SamplesError
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


Loud = tuple[float, float]
"""Where a recording's windows first read a sample past
:data:`~labram.data.peak_bounds.LOUD_UV`: its second (from the recording's start) and value
(uV)."""


def first_nonfinite(
    store: Store,
    plan: RecordingPlan,
    starts: np.ndarray,
    stops: np.ndarray,
    unreadable: dict[int, str] | None = None,
    loud: list[Loud] | None = None,
) -> float | None:
    """The second (from the recording's start) of the first sample that is not finite among
    those the windows ``[starts, stops)`` (samples, int64, shape (n,)) of recording ``plan``
    read (its rows only), or None.

    Reads the stored chunks that hold a window's sample, one at a time. ``unreadable``: where
    given, a chunk that cannot be read (a flipped bit) is put there (its number -> the line
    saying why) and the others are read on; else it raises :class:`StoreFormatError`.
    ``loud``: where given, the first finite sample past
    :data:`~labram.data.peak_bounds.LOUD_UV` those windows read is put there (:data:`Loud`)."""
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
            inside = covered[c * chunk : c * chunk + block.shape[1]]
            rows = block[plan.rows]
            if loud is not None and not loud:
                _note_loud(rows, inside, divisor, c * chunk, store.sfreq, loud)
            if divisor is not None:  # stored integers: always finite
                continue
            bad = ~np.isfinite(rows).all(axis=0) & inside
            if bad.any():
                return (c * chunk + int(np.argmax(bad))) / store.sfreq
    return None


def _note_loud(
    rows: np.ndarray,
    inside: np.ndarray,
    divisor: float | None,
    first: int,
    sfreq: float,
    loud: list[Loud],
) -> None:
    """Put the first sample of ``rows`` (a chunk's read rows, from sample ``first``; stored
    integers of ``divisor`` or uV) past :data:`LOUD_UV` where ``inside`` into ``loud``."""
    scale = divisor or 1.0
    with np.errstate(invalid="ignore"):  # (NaN is no sample past it: named as not finite)
        over = np.abs(rows) > LOUD_UV * scale  # (rows, samples), in the stored numbers
    if not over.any():  # (the common case: one comparison)
        return
    over &= np.isfinite(rows)
    hit = over.any(axis=0) & inside
    if hit.any():
        j = int(np.argmax(hit))
        value = float(np.abs(rows[:, j][over[:, j]].astype(np.float64)).max()) / scale
        loud.append(((first + j) / sfreq, value))


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
    that is not finite: :func:`bad_recordings`' first list."""
    return bad_recordings(index, what=what, scored=scored)[0]


def bad_recordings(
    index: WindowIndex, *, what: str = "training", scored: bool = False
) -> tuple[list[tuple[str, float]], list[tuple[str, float, float]]]:
    """``(recording id, second)`` of each recording of ``index`` whose windows read a sample
    that is not finite (:func:`first_nonfinite`), the recordings :func:`vouched` for unread;
    and ``(recording id, second, uV)`` of each whose windows read a finite sample past
    :data:`~labram.data.peak_bounds.LOUD_UV` (its first), the recordings whose record bounds
    their samples below it unread (:func:`~labram.data.peak_bounds.quiet_by_record`).
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
    out, loud_out, refused = [], [], []
    main = not dist.is_initialized() or dist.get_rank() == 0  # (each rank checks: one names)
    unreadable = Unreadable(len(index), what, speak=main)
    found: Found = []
    for i, plan in enumerate(index.recordings):
        store = stores[plan.store]
        chunks: dict[int, str] = {}
        loud: list[Loud] = []
        try:  # (a damaged record: every one is named, not the first alone)
            rec = store.recording(plan.id)
            if vouched(store, rec) and quiet_by_record(rec, plan.rows):
                continue
            mine = order[bounds[i] : bounds[i + 1]]
            second = first_nonfinite(store, plan, starts[mine], stops[mine], chunks, loud)
            if chunks:
                chunk, n = store.chunk_samples(plan.id), rec.n_samples
                hit = _touching(mine, starts, stops, set(chunks), chunk, n)
                found += [(w, plan.id, chunks[min(chunks)]) for w in hit]
        except StoreFormatError as exc:
            refused.append(str(exc))
            continue
        if second is not None:
            out.append((plan.id, second))
        elif loud:
            loud_out.append((plan.id, *loud[0]))
    _after_every_recording(index, refused, found, unreadable, what=what, scored=scored)
    return out, loud_out


def _after_every_recording(
    index: WindowIndex,
    refused: list[str],
    found: Found,
    unreadable: Unreadable,
    *,
    what: str,
    scored: bool,
) -> None:
    """Once every recording of ``index`` was looked at: refuse the records that cannot be
    read (``refused``, in one line), a scored window that cannot be, and too many unreadable
    windows; note those ``found`` for the loader to replace."""
    refuse_all(
        refused,
        f"{len(refused)} of the {counted(len(index.recordings), 'recording')} the windows read "
        "cannot be read",
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


SCORED = ("val", "test")
"""The splits whose windows are scored (the last word of a split's name in
:func:`check_finite_splits`): none of their windows may be replaced."""


def check_finite_splits(splits: Mapping[str, WindowIndex], *, what: str) -> None:
    """Refuse, before training, splits whose windows read samples that are not finite, or
    finite samples no EEG has (past :data:`~labram.data.peak_bounds.LOUD_UV`).

    ``splits``: name (``train``, ``val``, ``test``) -> its windows; ``what``: the command, for
    the line.

    Raises
    ------
    SamplesError
        One line naming each such split, its first recording and second (and value, for
        samples past the bound), up to five of its recordings, and what to do
        (:data:`EXCLUDE`; :data:`~labram.data.sample_peaks.FIX` for loud samples alone).
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
    said, shouted = [], []
    for name, index in splits.items():
        scored = name.split(" ")[-1] in SCORED
        bad, loud = bad_recordings(index, what=f"{what}: {name}" if scored else what,
                                   scored=scored)  # fmt: skip
        if bad:
            said.append(
                f"{name}: {counted(len(bad), 'recording')}, NaN or infinite samples in "
                f"{bad[0][0]} at {bad[0][1]:g} s (recordings: {_names(bad)})"
            )
        if loud:
            rid, second, value = loud[0]
            shouted.append(
                f"{name}: {counted(len(loud), 'recording')}, {value:.3g} uV in {rid} at "
                f"{second:g} s (recordings: {_names(loud)})"
            )
    if said:
        also = f"; and those of {'; '.join(shouted)} hold samples no EEG has" if shouted else ""
        raise SamplesError(
            f"{what}: the windows of {'; '.join(said)} read samples that are not finite{also}, "
            f"and nothing was trained: {EXCLUDE}"
        )
    if shouted:
        raise SamplesError(
            f"{what}: the windows of {'; '.join(shouted)} hold samples no EEG has (past "
            f"{LOUD_UV:.0e} uV), and nothing was trained: {FIX}"
        )


def _names(found: list[tuple[Any, ...]]) -> str:
    """The recordings of ``found`` (id first in each), up to five, ``...`` for more."""
    names = [str(one[0]) for one in found]
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


__all__ = [
    "EXCLUDE",
    "Loud",
    "bad_recordings",
    "check_finite_splits",
    "first_nonfinite",
    "nonfinite_recordings",
    "read_spans",
    "vouched",
]
