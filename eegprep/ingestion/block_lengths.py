"""How long a recording's preprocessing blocks are, and whether another length gives its bytes.

The fast mode streams a recording through the filters in blocks of ``Recipe.block_seconds``
(240 s), halved (down to 10 s) while one block of a rate group would not fit the per-file
memory budget (``--file-memory-limit``): :func:`block_seconds`. Where the blocks are cut moves
samples at float32 round-off, and so a quantized sample that lies that close to the midpoint of
two quanta by one quantum (docs/store-format.md, "Reproducibility"). Every record states the
block it was computed with (``block_seconds``), and a re-ingest takes a recording for current
only when its blocks would give the same bytes (:func:`block_change`): the same block in
samples, or, for a recording of one rate, blocks no shorter than its longest continuous stretch
(one block each, cut nowhere). A record that states no block (an earlier version's) is current
only where no block could cut it. Both are pure functions of the recording's shape, the recipe
and the budget, so the ingest's plan decides without opening a source file.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from eegprep.pipeline import preprocess
from eegprep.pipeline.recipe import Recipe

BLOCK_BYTES_PER_SAMPLE = 24
"""Bytes one source sample of one channel costs while its block is preprocessed: the FFT
segment the reader decodes into (4, plus EDF's raw integers), its spectrum (complex64 over half
the bins: 4), and the output-rate arrays, FFT-friendly lengths and the writer's buffers.
Measured: 104 MiB peak growth for 19 channels at 2 kHz (120 s blocks), 17.8 bytes per sample
(2026-12-02; 131 MiB, 22 bytes, before the QC head and the edges stopped being copied); 24
keeps a margin."""

MIN_BLOCK_SECONDS = 10.0  # the shortest block a recipe allows (Recipe.block_seconds)


def bytes_per_second(n_channels: int, sfreq: float) -> float:
    """What one second of a block of ``n_channels`` at ``sfreq`` (Hz) costs (bytes)."""
    return n_channels * sfreq * BLOCK_BYTES_PER_SAMPLE


def margin_seconds(sfreq: float, mains: float | None, recipe: Recipe) -> float:
    """The filter margins (s) a block of a group at ``sfreq`` (Hz) reads around it."""
    return 2 * preprocess.design(float(sfreq), mains, recipe).margin / recipe.sfreq


def block_seconds(
    groups: Sequence[tuple[float, int]], mains: float | None, recipe: Recipe, budget: float
) -> float:
    """The block length (s) of a recording whose rate groups are ``groups`` (``(sfreq Hz,
    n_channels)`` each): ``recipe.block_seconds``, halved (down to 10 s) until one block of
    every group, with its filter margins, fits ``budget`` (bytes). Not checked here: whether
    the 10 s block fits (the task refuses the file then)."""
    seconds = recipe.block_seconds
    for sfreq, n_channels in groups:
        per_second = bytes_per_second(n_channels, sfreq)
        margins = margin_seconds(sfreq, mains, recipe)
        while seconds > MIN_BLOCK_SECONDS and per_second * (seconds + margins) > budget:
            seconds = max(MIN_BLOCK_SECONDS, seconds / 2)
    return seconds


def _longest_stretch(record: Mapping[str, Any]) -> int:
    """The longest continuous stretch of a recording (stored samples), from its joins."""
    edges = [0, *(record.get("joins") or ()), int(record["n_samples"])]
    return max(b - a for a, b in itertools.pairwise(edges))


def block_change(
    record: Mapping[str, Any], recipe: Recipe, mains: float | None, budget: float
) -> tuple[float | None, float] | None:
    """``(stated, planned)`` block lengths (s) when ingesting ``record``'s recording again
    under ``recipe`` (the effective one: the manifest's low-pass applied) and ``budget``
    (bytes) would, or could, cut it into other blocks, and so may store other bytes; None when
    its bytes would be the same (the ``mne`` mode has no blocks).

    A record that states no ``block_seconds`` (written before records stated it) gives
    ``stated`` None: its block is not known (an ingest then shortened the recipe's under its
    own budget, down to 10 s, as now), so its recording is the same only where no block of
    10 s or more cuts it (:func:`_unstated_change`); ``planned`` is NaN where the record
    gives no single rate to plan by.
    A recording of several rates is stated the same only when the plan is the same whatever
    its channels' split between the rates (the record keeps their rates, not the split);
    otherwise it is ingested again. A record whose shape is not an ingest's (no channels, a
    rate that is no number) is never current.
    """
    if recipe.mode == "mne":
        return None
    stated = record.get("block_seconds")
    if stated is None:
        return _unstated_change(record, recipe, mains, budget)
    orig: Any = record.get("orig_sfreq")
    try:
        n_channels = len(record["channels"])
        rates = [float(r) for r in (orig if isinstance(orig, list) else [orig])]
        if not (
            n_channels > 0
            and rates
            and all(math.isfinite(r) and r > 0 for r in rates)
            and isinstance(stated, int | float)
            and not isinstance(stated, bool)
            and math.isfinite(stated)
        ):
            return (math.nan, recipe.block_seconds)
        if len(rates) == 1:
            planned = block_seconds([(rates[0], n_channels)], mains, recipe, budget)
            longest = _longest_stretch(record)
            return None if _same_cuts(stated, planned, recipe.sfreq, longest) else (stated, planned)
        most = max(1, n_channels - len(rates) + 1)  # each rate has one channel at least
        low = block_seconds([(r, most) for r in rates], mains, recipe, budget)
        high = block_seconds([(r, 1) for r in rates], mains, recipe, budget)
    except (KeyError, TypeError, ValueError, ArithmeticError):  # not an ingest's record
        return (math.nan, recipe.block_seconds)
    same = _same_cuts(stated, low, recipe.sfreq, None) and _same_cuts(
        stated, high, recipe.sfreq, None
    )
    return None if same else (stated, low)


def _unstated_change(
    record: Mapping[str, Any], recipe: Recipe, mains: float | None, budget: float
) -> tuple[float | None, float] | None:
    """:func:`block_change` for a record that states no block: None when every continuous
    stretch of a recording of one rate (or of a record stating none) is at most
    :data:`MIN_BLOCK_SECONDS` long (one block each, whatever block an ingest used: cut
    nowhere); else ``(None, planned)`` (NaN where no single rate plans it). Taking the recipe's
    block for the one used kept, as current, a recording an earlier ingest had cut into
    shorter blocks under a tighter budget."""
    orig: Any = record.get("orig_sfreq")
    try:
        longest = _longest_stretch(record)
        planned = math.nan
        if orig is not None and not isinstance(orig, list):
            rate, n_channels = float(orig), len(record["channels"])
            if math.isfinite(rate) and rate > 0 and n_channels > 0:
                planned = block_seconds([(rate, n_channels)], mains, recipe, budget)
    except (KeyError, TypeError, ValueError, ArithmeticError):  # not an ingest's record
        return (math.nan, recipe.block_seconds)
    if not isinstance(orig, list) and longest <= int(MIN_BLOCK_SECONDS * recipe.sfreq):
        return None
    return (None, planned)


def _same_cuts(a: float, b: float, sfreq: float, longest: int | None) -> bool:
    """Whether blocks of ``a`` and ``b`` seconds cut a recording at the same samples: the same
    block in samples (at ``sfreq``, Hz), or both at least its ``longest`` stretch (samples;
    None: not known)."""
    na, nb = int(a * sfreq), int(b * sfreq)
    return na == nb or (longest is not None and min(na, nb) >= longest)


__all__ = [
    "BLOCK_BYTES_PER_SAMPLE",
    "MIN_BLOCK_SECONDS",
    "block_change",
    "block_seconds",
    "bytes_per_second",
    "margin_seconds",
]
