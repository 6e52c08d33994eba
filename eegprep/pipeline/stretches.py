"""A recording's continuous stretches, preprocessed each alone and stored end to end.

Where a source's samples stop following on in time (its header's
:attr:`~eegprep.readers.base.Header.joins`: an EDF+D's gap, a BrainVision ``New Segment``, an
EEGLAB ``boundary``), filtering across the join would ring (a step between two stretches is no
signal) and a training window across it would mix two stretches. So each stretch is filtered
and resampled alone (:func:`stream_stretches`: its edges padded by reflection, as a recording's
are), the stretches' outputs are stored one after the other, and the record lists where they
join at the store rate (:attr:`StretchPlan.joins`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from eegprep.pipeline import preprocess
from eegprep.pipeline.preprocess import ReadInto
from eegprep.pipeline.recipe import Recipe


@dataclass(frozen=True)
class StretchPlan:
    """How the rate groups of one recording are cut into stretches.

    Attributes
    ----------
    bounds : tuple of tuple of (int, int)
        Per rate group, per stretch: its source samples ``[start, stop)``.
    lengths : tuple of int
        Per stretch: output samples at the store rate (the shortest rate group's), so that
        every group's blocks line up.
    """

    bounds: tuple[tuple[tuple[int, int], ...], ...]
    lengths: tuple[int, ...]

    @property
    def n_out(self) -> int:
        """Samples per channel stored (the stretches' end to end)."""
        return sum(self.lengths)

    @property
    def joins(self) -> tuple[int, ...]:
        """Where each stretch after the first starts, in stored samples: ascending, each
        ``0 < j < n_out`` (a stretch of no output sample joins nothing)."""
        ends, at = [], 0
        for n in self.lengths[:-1]:
            at += n
            ends.append(at)
        return tuple(sorted({j for j in ends if 0 < j < self.n_out}))


def plan(
    joins_s: Sequence[float], rates: Sequence[tuple[float, int]], sfreq_out: float
) -> StretchPlan:
    """The stretches of rate groups ``rates`` (``(sfreq_in Hz, n_samples)`` each) split at
    ``joins_s`` (s from the first sample: the header's joins; each on a sample of every rate).
    Without joins: one stretch, as long as :func:`~eegprep.pipeline.preprocess.output_length`
    of the shortest group."""
    bounds = []
    for sfreq, n in rates:
        cuts = [min(n, max(0, round(t * sfreq))) for t in sorted(joins_s)]
        edges = [0, *cuts, n]
        bounds.append(tuple(itertools.pairwise(edges)))
    lengths = tuple(
        min(preprocess.output_length(b - a, sfreq, sfreq_out) for (a, b), (sfreq, _) in
            zip(per_stretch, rates, strict=True))
        for per_stretch in zip(*bounds, strict=True)
    )  # fmt: skip
    return StretchPlan(tuple(bounds), lengths)


def stream_stretches(
    read: ReadInto,
    n_channels: int,
    bounds: Sequence[tuple[int, int]],
    lengths: Sequence[int],
    sfreq_in: float,
    mains: float | None,
    recipe: Recipe,
) -> Iterator[np.ndarray]:
    """:func:`~eegprep.pipeline.preprocess.stream` of each stretch alone (source samples
    ``bounds``, one group's), each cut to its ``lengths`` output samples, one after the other.

    Yields
    ------
    ndarray, shape (n_channels, n_block)
        float32 microvolts at ``recipe.sfreq``; ``sum(lengths)`` samples in all, no block
        spanning two stretches.
    """
    for (start, stop), length in zip(bounds, lengths, strict=True):
        if length == 0:
            continue

        def part(a: int, b: int, out: np.ndarray, start: int = start) -> None:
            read(start + a, start + b, out)

        left = length
        for block in preprocess.stream(part, n_channels, stop - start, sfreq_in, mains, recipe):
            yield block[:, :left]
            left -= min(left, block.shape[1])
            if left == 0:
                break
