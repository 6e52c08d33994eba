"""One file through eegprep's pipeline into memory, no store: what ``labram predict`` reads.

The same steps as an ingest (:mod:`eegprep.ingestion.task`), composed from its functions: the
manifest's reader, the channel mapping, the streamed preprocessing of the recipe (float32
microvolts at 200 Hz, rounded as the recipe's encoding stores them) and the checks that refuse
a file (no EEG channel, too short, a rate that cannot carry the low-pass, non-finite samples,
constant or flat channels, wrong units), with the same one-line messages, and the channels the
manifest's sidecar leaves out (a BIDS ``channels.tsv``'s bad and non-EEG ones:
:func:`~eegprep.ingestion.task.sidecar_channels`). What an ingest adds is left out: the
sidecar's labels and events, the QC record, the store.

:func:`stream_preprocessed` gives the recording block by block (memory: one block, whatever its
length; ``labram predict`` cuts its windows from the blocks as they come) and judges it, as an
ingest does, from the same blocks' statistics once the last is read;
:func:`read_preprocessed` gathers the blocks into one array (2 h of 64 channels: 370 MB). The
per-file limits of :mod:`eegprep.base.limits` apply as in an ingest.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import limits
from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.corpus.discover import SourceItem, recording_fields
from eegprep.corpus.manifest import Manifest
from eegprep.ingestion.recording_checks import judge_quality
from eegprep.ingestion.source_channels import (
    RateGroup,
    candidate_channels,
    one_per_site,
    rate_groups,
)
from eegprep.ingestion.task import (
    IngestTask,
    RateTooLowError,
    check_band,
    float32_instead,
    head_checks,
    output_length,
    preprocessed_blocks,
    sidecar_channels,
    source_head,
    stretch_plan,
)
from eegprep.pipeline import qc
from eegprep.pipeline.channels import ChannelMapping
from eegprep.pipeline.recipe import Recipe
from eegprep.readers import get_reader
from eegprep.readers.base import Header, Reader
from eegprep.readers.companions import outside_own_folder
from eegprep.store.encoding import EncodingRangeError, as_stored, choose_encoding
from eegprep.store.recording_writer import ChannelSums


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
    gaps : tuple of (float, float)
        The spans ``[start, stop)`` s of the file's own time (from its first sample) that no
        sample covers and that its time counts (an EDF+D's gaps, a FIF's skips:
        :attr:`~eegprep.readers.base.Header.sidecar_gaps`); ``()`` where the file's time
        counts the samples stored alone (a BrainVision pause) or none are missing.
    """

    path: str
    data: np.ndarray
    channels: list[str]
    channel_index: list[int]
    sfreq: float
    warnings: list[str] = field(default_factory=list)
    joins: tuple[int, ...] = ()
    gaps: tuple[tuple[float, float], ...] = ()

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[1])


def _task(manifest: Manifest, path: str, recipe: Recipe, part: str | None) -> IngestTask:
    """The ingest task the pipeline functions take; nothing is staged or written with it.
    Its root is the nearest folder above ``path`` from which the manifest's path pattern
    matches the file (a BIDS file's ``sub-01/eeg/...``), with the fields it captures, so that
    the sidecars an ingest of that folder reads are found (:func:`sidecar_channels`); the
    file's own folder, with no fields, where none matches (no sidecar is then looked for)."""
    p = Path(os.path.abspath(path))
    for root in p.parents if manifest.sidecar_parser else ():
        rel = p.relative_to(root).as_posix()
        fields = recording_fields(manifest, rel)  # (as an ingest of `root` matches it)
        if fields is not None:
            item = SourceItem(relpath=rel, part=part, name=p.stem, fields=tuple(fields.items()))
            return IngestTask(manifest, str(root), item, "", "", recipe, (0, 0))
    item = SourceItem(relpath=p.name, part=part, name=p.stem, fields=())
    return IngestTask(_without_sidecar(manifest), str(p.parent), item, "", "", recipe, (0, 0))


def _without_sidecar(manifest: Manifest) -> Manifest:
    """``manifest`` reading no sidecar: a file its path pattern does not match has none an
    ingest would find (its templates name fields the file's path does not give)."""
    return replace(manifest, sidecar_parser=None)


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
    return _read(str(path), manifest, recipe or Recipe(), part, file_limits)


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
            f"it names {', '.join(map(shown_path, outside))}, which {verb} outside the header's "
            f"folder, where {command} reads nothing: copy "
            f"{'them' if len(outside) > 1 else 'it'} beside the header",
        )


@dataclass
class Opened:
    """A recording's header through the pipeline: what it will give, before any sample is read
    (:func:`open_preprocessed`); :func:`stream_preprocessed` gives its samples.

    Attributes
    ----------
    path, channels, channel_index, sfreq, joins, warnings, gaps :
        As :class:`Preprocessed`'s (``warnings`` grows with the stream's QC warnings).
    n_samples : int
        Samples per channel at ``sfreq``.
    """

    path: str
    channels: list[str]
    channel_index: list[int]
    sfreq: float
    n_samples: int
    joins: tuple[int, ...]
    warnings: list[str]
    _parts: _Parts
    gaps: tuple[tuple[float, float], ...] = ()

    def as_float32(self, exc: EncodingRangeError) -> None:
        """After :class:`EncodingRangeError` from a stream: its samples are streamed again
        as float32 (as computed), as an ingest stores such a recording under ``auto`` (its
        warning added), or, under a named encoding, refused in one line at the stream's end
        (after the recording's own checks, as an ingest refuses it)."""
        said, self._parts.refusal = float32_instead(self._parts.task.recipe, exc)
        self.warnings += said
        self._parts.encoding = choose_encoding("float32", [])


@dataclass
class _Parts:
    """What the stream needs of the header side (the ingest's objects)."""

    reader: type[Reader]
    header: Header
    mapping: ChannelMapping
    groups: list[RateGroup]
    task: IngestTask
    file_limits: limits.Limits
    encoding: dict[str, Any]
    refusal: str | None = None  # a named encoding's (:meth:`Opened.as_float32`)


def open_preprocessed(
    path: str | os.PathLike[str],
    manifest: Manifest,
    *,
    recipe: Recipe | None = None,
    part: str | None = None,
    file_limits: limits.Limits | None = None,
) -> Opened:
    """Open one file as ``eegprep ingest`` would (reader, channel mapping, rates, length),
    reading its header only: :class:`SourceError` for a file an ingest refuses there, with
    its one line (and for a companion outside its folder: :func:`check_companions`)."""
    path = str(path)
    check_companions(path)
    recipe = recipe or Recipe()
    file_limits = file_limits or limits.Limits()
    with limits.activated(file_limits), np.errstate(all="ignore"):
        header, mapping, warnings = candidate_channels(path, manifest, part)
        task = _task(manifest, path, recipe, part)
        groups = rate_groups(header, mapping)
        mapping, groups, slow = check_band(task, path, header, mapping, groups)
        header, mapping, groups, said = sidecar_channels(task, path, header, mapping, groups)
        mapping, sites = one_per_site(header, mapping, manifest)  # (the first not left out)
        groups, said = rate_groups(header, mapping), said + sites
        n_out = output_length(task, path, header, groups)
        joins = stretch_plan(header, groups, recipe.sfreq).joins
    resolutions = [header.signals[i].resolution for i in mapping.source_indices]
    encoding = choose_encoding(recipe.encoding, resolutions)
    parts = _Parts(get_reader(manifest.reader), header, mapping, groups, task, file_limits,
                   encoding)  # fmt: skip
    names = list(mapping.names)
    return Opened(path, names, list(mapping.indices), recipe.sfreq, n_out, joins,
                  warnings + slow + said, parts, gaps=tuple(header.sidecar_gaps))  # fmt: skip


def stream_preprocessed(opened: Opened) -> Generator[np.ndarray, None, None]:
    """The recording's samples block by block, in time order: float32 microvolts at
    ``opened.sfreq``, shape ``(n_channels, k)``, rounded as the store keeps them (each block
    a copy of its own). Memory: one block (the recipe's, 120 s by default), whatever the
    recording's length.

    After the last block, the ingest's checks of the whole recording, from the same blocks'
    statistics (:class:`~eegprep.store.recording_writer.ChannelSums`): a
    :class:`SourceError` for a recording an ingest refuses (samples not finite, every channel
    constant or flat, units off, a channel louder than any scalp), and otherwise its QC
    warnings added to ``opened.warnings``. So a consumer must read to the end before it
    trusts what it made of the blocks.

    Raises :class:`EncodingRangeError` where a sample is beyond the store's encoding: call
    ``opened.as_float32(exc)`` and stream again.
    """
    p = opened._parts
    check_head = head_checks(p.header, p.mapping, p.groups[0])
    heads: list[qc.HeadChecks] = []  # the QC checks of the source's head, as an ingest's
    sums = ChannelSums(len(opened.channels))
    with limits.activated(p.file_limits):
        blocks = preprocessed_blocks(p.reader, p.header, p.mapping, p.groups,
                                     opened.n_samples, p.task,
                                     lambda h: heads.append(check_head(h)))  # fmt: skip
        while True:
            with np.errstate(all="ignore"):  # (non-finite results: refused below, one line)
                block = next(blocks, None)
                if block is None:
                    break
                sums.add(block)
                block = as_stored(np.array(block, np.float32), p.encoding, in_place=True)
            yield block
        head = source_head(p.reader, p.header, p.mapping, p.groups, heads)
    ranged = [p.header.signals[i].range_uv is not None for i in p.mapping.source_indices]
    stats = sums.stats(opened.n_samples)
    _, more = judge_quality(
        p.task.manifest.mains, opened.path, p.mapping, stats, head, ranged, (p.reader, p.header)
    )
    if p.refusal:
        raise SourceError(opened.path, p.refusal)
    opened.warnings += more


def _read(path: str, m: Manifest, recipe: Recipe, part: str | None,
          file_limits: limits.Limits | None) -> Preprocessed:  # fmt: skip
    opened = open_preprocessed(path, m, recipe=recipe, part=part, file_limits=file_limits)
    n = (len(opened.channels), opened.n_samples)
    try:
        data = _gathered(stream_preprocessed(opened), *n)
    except EncodingRangeError as exc:  # as an ingest: refused, or float32 (as computed)
        opened.as_float32(exc)
        data = _gathered(stream_preprocessed(opened), *n)
    return Preprocessed(path, data, opened.channels, opened.channel_index, opened.sfreq,
                        opened.warnings, opened.joins, opened.gaps)  # fmt: skip


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


__all__ = [
    "Opened",
    "Preprocessed",
    "RateTooLowError",
    "check_companions",
    "open_preprocessed",
    "read_preprocessed",
    "stream_preprocessed",
]
