"""One file through eegprep's pipeline into memory, no store: what ``labram predict`` reads.

The same steps as an ingest (:mod:`eegprep.ingestion.task`), composed from its functions: the
manifest's reader, the channel mapping, the streamed preprocessing of the recipe (float32
microvolts at 200 Hz, rounded as the recipe's encoding stores them) and the checks that refuse
a file (no EEG channel, too short, a rate that cannot carry the low-pass, non-finite samples,
constant or flat channels, wrong units), with the same one-line messages. What an ingest adds
is left out: sidecars (labels, events, a BIDS ``channels.tsv``'s bad channels), the QC record,
the store.

The result holds the whole recording (2 h of 64 channels: 370 MB), gathered block by block
into one array and checked and rounded without a copy of it; the per-file limits of
:mod:`eegprep.base.limits` apply as in an ingest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eegprep.base import limits
from eegprep.base.errors import SourceError
from eegprep.corpus.discover import SourceItem
from eegprep.corpus.manifest import Manifest
from eegprep.ingestion.source_channels import open_source, rate_groups
from eegprep.ingestion.task import (
    IngestTask,
    check_band,
    float32_instead,
    head_checks,
    output_length,
    preprocessed_blocks,
    stretch_plan,
)
from eegprep.pipeline import qc
from eegprep.pipeline.recipe import Recipe
from eegprep.readers import get_reader
from eegprep.readers.companions import outside_own_folder
from eegprep.store.encoding import EncodingRangeError, as_stored, choose_encoding


@dataclass
class Preprocessed:
    """A recording after the recipe, in memory.

    Attributes
    ----------
    path : str
    data : ndarray of float32, shape (n_channels, n_samples), microvolts at ``sfreq``
        Rows in the source file's channel order (as a store keeps them).
    channels : list of str
        Canonical 10-20 names of the rows.
    channel_index : list of int
        Their vocabulary indices (:data:`eegprep.pipeline.channels.VOCABULARY`).
    sfreq : float
    warnings : list of str
        What an ingest would report for the file (dropped channels, line noise, ...).
    joins : tuple of int
        The first sample of each continuous stretch after the first (as a store's record
        lists them: each stretch filtered alone); ``()`` for a continuous recording.
    """

    path: str
    data: np.ndarray
    channels: list[str]
    channel_index: list[int]
    sfreq: float
    warnings: list[str] = field(default_factory=list)
    joins: tuple[int, ...] = ()

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[1])


def _task(manifest: Manifest, path: str, recipe: Recipe, part: str | None) -> IngestTask:
    """The ingest task the pipeline functions take; nothing is staged or written with it."""
    p = Path(path)
    item = SourceItem(relpath=p.name, part=part, name=p.stem, fields=())
    return IngestTask(manifest, str(p.parent), item, "", "", recipe, (0, 0))


def read_preprocessed(
    path: str | os.PathLike[str],
    manifest: Manifest,
    *,
    recipe: Recipe | None = None,
    part: str | None = None,
    file_limits: limits.Limits | None = None,
) -> Preprocessed:
    """Read, map and preprocess one file as ``eegprep ingest`` would, into memory.

    Parameters
    ----------
    path : path
        A file the manifest's reader opens (EDF for TUH corpora, any MNE format for ``folder``).
    manifest : Manifest
        Reader, reader options, unit, channel renames and exclusions, mains.
    recipe : Recipe, optional
        Default: ``Recipe()``, the one ``eegprep ingest`` uses by default.
    part : str, optional
        The recording inside a multi-recording file.
    file_limits : Limits, optional
        Per-file memory and time limits (default: ingest's).

    Raises
    ------
    SourceError
        The file cannot give a recording; ``problem`` is the one line an ingest reports. A
        file it would read that lies outside ``path``'s folder (:func:`check_companions`) is
        one too, before anything is read.
    """
    path = str(path)
    check_companions(path)
    recipe = recipe or Recipe()
    with limits.activated(file_limits or limits.Limits()), np.errstate(all="ignore"):
        return _read(path, manifest, recipe, part)  # non-finite results: refused, one line


def check_companions(path: str, *, command: str = "eegprep") -> None:
    """Refuse, before anything is read, a recording whose header names a file outside its own
    folder (``DataFile=/etc/x``, ``MarkerFile=../../x.vmrk``,
    :func:`~eegprep.readers.companions.outside_own_folder`): a header from elsewhere would
    read any file on the machine as its samples or events. An ingest holds a corpus's files to
    its folder so; a recording given alone is held to its header's folder.

    Raises
    ------
    SourceError
        One line naming the header, the files and what to do; ``command`` is what reads
        nothing (``labram predict``).
    """
    outside = outside_own_folder(path)
    if outside:
        verb = "lie" if len(outside) > 1 else "lies"
        raise SourceError(
            path,
            f"it names {', '.join(outside)}, which {verb} outside the header's folder, where "
            f"{command} reads nothing: copy {'them' if len(outside) > 1 else 'it'} beside the "
            "header",
        )


def _read(path: str, m: Manifest, recipe: Recipe, part: str | None) -> Preprocessed:
    reader = get_reader(m.reader)
    header, mapping, warnings = open_source(path, m, part)
    task = _task(m, path, recipe, part)
    mapping, groups, slow = check_band(task, path, header, mapping, rate_groups(header, mapping))
    warnings += slow
    n_out = output_length(task, path, header, groups)
    check_head = head_checks(header, mapping, groups[0])
    heads: list[qc.HeadChecks] = []  # the QC checks of the source's head, as an ingest's
    blocks = preprocessed_blocks(
        reader, header, mapping, groups, n_out, task, lambda h: heads.append(check_head(h))
    )
    data = _gathered(blocks, len(mapping.names), n_out)
    names = list(mapping.names)
    head = heads[0] if heads else None
    ranged = [header.signals[i].range_uv is not None for i in mapping.source_indices]
    rms = _check(path, data, names, head.constant if head else None, ranged)
    # the report's QC warnings of an ingest: flat and clipped channels, mains vs line noise
    warnings += qc.summarize([float(r) for r in rms], names, head, m.mains)[1]
    resolutions = [header.signals[i].resolution for i in mapping.source_indices]
    try:  # the store's values (over the samples: the recording is held once)
        data = as_stored(data, choose_encoding(recipe.encoding, resolutions), in_place=True)
    except EncodingRangeError as exc:  # as an ingest: refused, or float32 (as computed)
        warnings.append(float32_instead(path, recipe, exc))
    joins = stretch_plan(header, groups, recipe.sfreq).joins
    return Preprocessed(path, data, names, list(mapping.indices), recipe.sfreq, warnings, joins)


def _gathered(blocks: Iterator[np.ndarray], n_channels: int, n_out: int) -> np.ndarray:
    """The output blocks (each ``(n_channels, n)`` float32) side by side, shape ``(n_channels,
    n_out)``, written into one array as they come (a list of them, then their concatenation,
    held the recording twice)."""
    data = np.empty((n_channels, n_out), np.float32)
    pos = 0
    for block in blocks:
        data[:, pos : pos + block.shape[1]] = block
        pos += block.shape[1]
    assert pos == n_out, (pos, n_out)  # preprocessed_blocks cuts them to n_out
    return data


def _constant(x: np.ndarray) -> bool:
    """Whether every row of ``x`` holds one value."""
    return bool(np.all(np.ptp(x, axis=1) == 0))


def _check(
    path: str, data: np.ndarray, names: list[str], head_constant: bool | None, ranged: list[bool]
) -> np.ndarray:
    """The refusals of an ingest, in its order and words (``head_constant``: whether the
    source's head is constant in every channel; ``None``: judge the output instead;
    ``ranged``: whether each channel's source states its physical range); returns each
    channel's RMS (microvolts)."""
    finite = [bool(np.isfinite(row).all()) for row in data]  # (row by row: no copy of the
    if not all(finite):  # whole recording, whose float64 squares took twice its size)
        bad = [n for n, ok in zip(names, finite, strict=True) if not ok]
        raise SourceError(path, f"non-finite samples (NaN/inf) in channels {', '.join(bad)}")
    if _constant(data) if head_constant is None else head_constant:
        raise SourceError(path, "every EEG channel is constant: nothing to learn from")
    rms = np.sqrt([np.mean(np.square(row, dtype=np.float64)) for row in data])
    problem = qc.unit_problem(round(float(np.median(rms)), 3))
    problem = problem or qc.loud_problem([round(float(v), 4) for v in rms], names, ranged)
    if problem:
        raise SourceError(path, problem)
    if bool(np.all(rms < qc.FLAT_RMS_UV)):
        raise SourceError(path, "every EEG channel is flat (RMS under 0.1 uV after filtering)")
    return rms


__all__ = ["Preprocessed", "check_companions", "read_preprocessed"]
