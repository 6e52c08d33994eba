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

from eegprep.base.errors import StoreFormatError
from eegprep.store.array_docs import ENCODINGS
from eegprep.store.reader import Recording, Store, refuse_all
from labram.data.sample_peaks import SamplesError
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


def first_nonfinite(
    store: Store, plan: RecordingPlan, starts: np.ndarray, stops: np.ndarray
) -> float | None:
    """The second (from the recording's start) of the first sample that is not finite among
    those the windows ``[starts, stops)`` (samples, int64, shape (n,)) of recording ``plan``
    read (its rows only), or None.

    Reads the stored chunks that hold a window's sample, one at a time."""
    rec = store.recording(plan.id)
    used = np.zeros(rec.n_samples + 1, np.int64)  # +1 at a window's start, -1 past its end
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        for a, b in ((lo, hi),) if lo >= 0 else ((lo % rec.n_samples, rec.n_samples), (0, hi)):
            a, b = max(a, 0), min(b, rec.n_samples)  # (edge windows read wrapped round)
            if a < b:
                used[a] += 1
                used[b] -= 1
    covered = np.cumsum(used[:-1]) > 0  # (n_samples,)
    chunk = store.chunk_samples(plan.id)
    n_chunks = -(-rec.n_samples // chunk)
    needed = [c for c in range(n_chunks) if covered[c * chunk : (c + 1) * chunk].any()]
    for c in needed:
        chunks, divisor = store.iter_chunks(plan.id, c, c + 1)
        for block in chunks:
            if divisor is not None:  # stored integers: always finite
                continue
            inside = covered[c * chunk : c * chunk + block.shape[1]]
            bad = ~np.isfinite(block[plan.rows]).all(axis=0) & inside
            if bad.any():
                return (c * chunk + int(np.argmax(bad))) / store.sfreq
    return None


def nonfinite_recordings(index: WindowIndex) -> list[tuple[str, float]]:
    """``(recording id, second)`` of each recording of ``index`` whose windows read a sample
    that is not finite (:func:`first_nonfinite`), the recordings :func:`vouched` for unread.
    A record or chunk that cannot be read raises :class:`StoreFormatError` once every
    recording was looked at, in one line naming each (capped, the rest counted)."""
    stores = index.opened or open_stores(index.urls)
    order = np.argsort(index.rec, kind="stable")  # the windows grouped by recording, once
    bounds = np.searchsorted(index.rec[order], np.arange(len(index.recordings) + 1))
    starts = index.start.astype(np.int64)
    stops = starts + index.n_patches.astype(np.int64) * PATCH_SIZE
    out, refused = [], []
    for i, plan in enumerate(index.recordings):
        store = stores[plan.store]
        try:  # (a damaged record or chunk: every one is named, not the first alone)
            if vouched(store, store.recording(plan.id)):
                continue
            mine = order[bounds[i] : bounds[i + 1]]
            second = first_nonfinite(store, plan, starts[mine], stops[mine])
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
    return out


def check_finite_splits(splits: Mapping[str, WindowIndex], *, what: str) -> None:
    """Refuse, before training, splits whose windows read samples that are not finite.

    ``splits``: name (``train``, ``val``, ``test``) -> its windows; ``what``: the command, for
    the line.

    Raises
    ------
    SamplesError
        One line naming each such split, its first recording and second, up to five of its
        recordings, and what to do (:data:`EXCLUDE`).
    """
    said = []
    for name, index in splits.items():
        bad = nonfinite_recordings(index)
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


__all__ = ["EXCLUDE", "check_finite_splits", "first_nonfinite", "nonfinite_recordings", "vouched"]
