"""Windows that stay inside one continuous stretch of a recording.

A record's ``joins`` (docs/store-format.md) are the stored samples where the source's samples
stop following on in time (an EDF+D's gap, a BrainVision ``New Segment``, an EEGLAB
``boundary``): the stretches either side are stored end to end, so a window across a join
would mix two of them into one sample. Every window index (pre-training, fine-tuning, the
protocols, embed) cuts its windows through the helpers here: each stretch is tiled from its own
first sample, a stretch shorter than a window gives none, and an event window across a join is
dropped as one past the recording's edge is.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np


def stretches(n_samples: int, joins: Sequence[int]) -> list[tuple[int, int]]:
    """The stretches ``[start, stop)`` (samples) of a recording of ``n_samples`` split at
    ``joins`` (ascending, inside it)."""
    edges = [0, *joins, n_samples]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def tiled_starts(n_samples: int, joins: Sequence[int], length: int, stride: int) -> list[int]:
    """Starts of windows of ``length`` samples every ``stride`` samples, each stretch tiled
    from its own first sample (:func:`stretches`); without joins ``range(0, n_samples - length
    + 1, stride)``."""
    out: list[int] = []
    for a, b in stretches(n_samples, joins):
        out += range(a, b - length + 1, stride)
    return out


def crosses_join(start: int, length: int, n_samples: int, joins: Sequence[int]) -> bool:
    """Whether the window of ``length`` samples at ``start`` spans a join: a join lies
    strictly inside a span it covers. A window that wraps around the recording (``start`` below
    0, or its end past ``n_samples``: an event window read wrapped) covers the recording's end
    and its beginning."""
    if not joins:
        return False
    if start < 0:
        spans = [(n_samples + start, n_samples), (0, start + length)]
    elif start + length > n_samples:
        spans = [(start, n_samples), (0, start + length - n_samples)]
    else:
        spans = [(start, start + length)]
    return any(a < j < b for a, b in spans for j in joins)


def split_at_joins(
    n_samples: np.ndarray, joins: Mapping[int, Sequence[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recordings as stretches, for the vectorised window index: ``(lengths, owner, offset)``,
    one entry per stretch, recordings in order, each recording without joins one stretch of its
    own length. ``n_samples``: per recording (int64); ``joins``: by recording position, of
    those that have any. Windows tiled in stretch ``k`` from sample ``s`` are recording
    ``owner[k]``'s windows from ``offset[k] + s``."""
    counts = np.ones(len(n_samples), dtype=np.int64)
    for i, js in joins.items():
        counts[i] = len(js) + 1
    owner = np.repeat(np.arange(len(n_samples), dtype=np.int64), counts)
    offset = np.zeros(len(owner), dtype=np.int64)
    lengths = n_samples[owner].astype(np.int64, copy=True)
    first = np.cumsum(counts) - counts  # each recording's first stretch
    for i, js in joins.items():
        edges = np.asarray([0, *js, int(n_samples[i])], dtype=np.int64)
        k = int(first[i])
        offset[k : k + len(edges) - 1] = edges[:-1]
        lengths[k : k + len(edges) - 1] = np.diff(edges)
    return lengths, owner, offset
