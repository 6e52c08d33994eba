"""Ingest one recording: read, map channels, preprocess, check, write a staged group.

This is the body of one dask task. It is a pure function of its :class:`IngestTask` (picklable) and
returns a :class:`IngestResult`; every failure that concerns the source becomes a one-line error
in the result, never an exception that stops the rest of the corpus.
"""

from __future__ import annotations

import errno
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import limits
from eegprep.base.allocator import reuse_freed_memory
from eegprep.base.errors import EegprepError, SourceError, clip_message
from eegprep.base.field_text import checked_exact, noted_text
from eegprep.base.limits import Limits, check_allocation
from eegprep.base.missing_modules import missing_module_line
from eegprep.base.path_limits import shown_path
from eegprep.base.redact import redact
from eegprep.base.strict_json import check_values
from eegprep.base.wording import counted
from eegprep.base.write_errors import names_its_file, then_again
from eegprep.corpus.discover import SourceItem
from eegprep.corpus.locate import find_sidecars, sidecar_options
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import SidecarResult, load_parsers
from eegprep.corpus.sources import HASH, FileStamp, StreamDigest, fingerprint, stamp_files
from eegprep.ingestion.block_lengths import (
    MIN_BLOCK_SECONDS,
    block_seconds,
    bytes_per_second,
    margin_seconds,
)
from eegprep.ingestion.events import recording_events, settle_events
from eegprep.ingestion.labels import identity_fields, recording_labels, stored_targets
from eegprep.ingestion.racy_stamps import changed_in_tick, digests_if_racy
from eegprep.ingestion.recording_checks import channel_status, judge_quality
from eegprep.ingestion.sidecar_memory import sidecar_bytes
from eegprep.ingestion.sidecar_units import sidecar_units
from eegprep.ingestion.source_channels import (
    MANIFEST_DOC,
    RateGroup,
    candidate_channels,
    one_per_site,
    rate_groups,
)
from eegprep.pipeline import preprocess, qc, stretches
from eegprep.pipeline.channels import ChannelMapping, shown_label
from eegprep.pipeline.fir import auto_h_trans
from eegprep.pipeline.recipe import Recipe
from eegprep.pipeline.stretches import StretchPlan
from eegprep.readers import byte_taps, clear_caches, get_reader
from eegprep.readers.base import Header, Reader
from eegprep.store.encoding import EncodingRangeError, choose_encoding
from eegprep.store.record import RecordingRecord
from eegprep.store.recording_writer import write_group_attrs, write_recording

HEAD_SECONDS = 120.0  # source span used for line-noise and clipping checks


@dataclass(frozen=True)
class IngestTask:
    """Everything one worker needs to ingest one recording."""

    manifest: Manifest
    root: str
    item: SourceItem
    store_url: str
    staging: str
    recipe: Recipe
    source_stat: tuple[int, int]  # (size bytes, mtime ns)
    group_path: str = ""  # the version group the commit moves this recording into
    sources: tuple[FileStamp, ...] = ()  # every file whose bytes reach the store
    limits: Limits = field(default_factory=Limits)  # per-file memory and time (eegprep.base.limits)
    since_ns: int | None = None  # the ingest's start, ns since the epoch (None: the task's)

    @property
    def rid(self) -> str:
        return f"{self.manifest.name}/{self.item.name}"

    @property
    def group(self) -> str:
        return self.group_path or f"recordings/{self.manifest.name}/{self.item.name}"


@dataclass
class IngestResult:
    relpath: str
    rid: str
    staging: str
    record: RecordingRecord | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""
    store_errno: int | None = None  # the store's disk is full or read-only: the ingest stops

    @property
    def ok(self) -> bool:
        return self.record is not None


def run_task(task: IngestTask) -> IngestResult:
    """Ingest one recording into its staging group; never raises for a bad source."""
    reuse_freed_memory()  # in whichever process (local or dask worker) runs the task
    t0 = time.perf_counter()
    res = IngestResult(task.item.relpath, task.rid, task.staging)
    path = str(Path(task.root) / task.item.relpath)
    name = shown_path(task.item.relpath)  # one line, the file exactly
    try:
        # numpy's floating-point warnings (a calibration of inf, an overflow) stay off the
        # terminal: every non-finite result is refused after, in one line naming the file
        with limits.activated(task.limits), np.errstate(all="ignore"):
            res.record, res.warnings = _ingest(task, path)
    except SourceError as exc:
        where = (
            "" if exc.path == path else f"{shown_path(os.path.basename(exc.path))}: "
        )  # a sidecar
        res.error = f"{name}: {where}{exc.problem}"
    except EegprepError as exc:
        res.error = f"{name}: {clip_message(str(exc))}"
    except MemoryError:
        res.error = f"{name}: out of memory while processing"
    except OSError as exc:  # the disk or the store's service: say which, and what happened
        res.error = f"{name}: {_os_problem(exc, task)}"
        if exc.errno in STORE_STOPS:  # every recording after it would fail the same way
            res.store_errno = exc.errno
        res.detail = _traceback(exc)
    except Exception as exc:  # a bug or an unforeseen file: report it, keep the corpus going
        codec = _failed_codec(exc)
        what = f"internal error {type(exc).__name__}"
        if codec:
            what = f"the {codec} codec failed while encoding the samples for the store"
        what = f"{what}: {clip_message(str(exc))}"
        if isinstance(exc, ModuleNotFoundError):  # the environment lacks a reader's module
            what = missing_module_line(exc, "reading it") or what
        res.error = redact(f"{name}: {what}")
        res.detail = _traceback(exc)
    res.seconds = time.perf_counter() - t0
    return res


def _traceback(exc: BaseException) -> str:
    """The traceback for the report's detail, its message clipped (:func:`clip_message`), with
    credentials hidden."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    return redact(f"Traceback (most recent call last):\n{stack}{type(exc).__name__}: "
                  f"{clip_message(str(exc))}")  # fmt: skip


STORE_STOPS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
"""A task's errors that are the store's, not its recording's: no later recording could be
written either, so the ingest stops (commits what finished) with one line."""


def _other_file(exc: OSError, task: IngestTask, *, store_named: bool = False) -> str:
    """`` (path)`` of the file ``exc`` names, for a line that names the task's source file
    already: nothing when it is that file (the line named it twice, relative to the corpus and
    whole); `` (in STORE)`` when its message names it relative to the store
    (:func:`~eegprep.base.write_errors.names_its_file`), nothing when ``store_named`` too."""
    if names_its_file(exc):
        return "" if store_named else f" (in {shown_path(redact(task.store_url))})"
    if not exc.filename:
        return ""
    named = os.fsdecode(exc.filename)
    if os.path.abspath(named) == os.path.abspath(os.path.join(task.root, task.item.relpath)):
        return ""
    return f" ({shown_path(named)})"


def _os_problem(exc: OSError, task: IngestTask) -> str:
    """One line for an operating-system error of a task (disk full, permissions, ...)."""
    store = redact(task.store_url)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on device while writing the store ({shown_path(store)})"
    why = exc.strerror or str(exc) or type(exc).__name__
    where = _other_file(exc, task)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):  # (it said nothing of what to do)
        where = _other_file(exc, task, store_named=True)
        return redact(
            f"cannot write the store ({shown_path(store)}): {why}{where}{then_again(exc)}"
        )
    if exc.errno == errno.EFBIG:
        # (a write's: a file size limit, a FAT disk's 4 GiB) its samples' file, not the
        # source: "File too large" alone named the source file
        where = _other_file(exc, task, store_named=True)
        return redact(
            f"cannot write its samples into the store ({shown_path(store)}): {why}{where}; raise "
            "the file size limit or pick another place, and run the same command again"
        )
    if exc.errno == errno.EIO:  # the disk's failure (the source's or the store's)
        return redact(
            f"{why}{where}; check the disk (the system log names the failing device) and run "
            "the same command again"
        )
    return redact(f"{why}{where}")


def _failed_codec(exc: BaseException) -> str | None:
    """The codec (``blosc``, ``zstd``, ...) whose code raised ``exc``; ``None`` for any other
    code. numcodecs is compiled, but its frames keep the source file (``numcodecs/blosc.pyx``);
    the store's Blosc frames go through :mod:`eegprep.store.blosc_codec` (python-blosc)."""
    tb = exc.__traceback__
    codec = None
    while tb is not None:
        code = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if code.endswith(("eegprep/store/blosc_codec.py", "blosc/toplevel.py")):
            codec = "blosc"
        elif "numcodecs/" in code:
            stem = code.rsplit("/", 1)[-1].split(".", 1)[0]
            codec = stem if stem not in ("abc", "compat", "__init__") else codec or "numcodecs"
        tb = tb.tb_next
    return codec


def _ingest(task: IngestTask, path: str) -> tuple[RecordingRecord, list[str]]:
    """Ingest the recording of ``path`` into the task's staging group: open and check the
    source, write its samples (as float32 again when they overflow the chosen encoding),
    then its record with the source's fingerprint and QC. Returns the record and warnings."""
    before = digests_if_racy(task.root, task.sources, task.since_ns)  # before any is parsed
    if before:  # a parse this process keeps under these stamps may be of other bytes
        clear_caches()
    src, record, warnings = _opened(task, path)
    check_head = head_checks(src.header, src.mapping, src.groups[0])
    heads: list[qc.HeadChecks] = []  # the first block's read checks the QC head here
    planned = _bounded_recipe(task, path, src.groups)  # the blocks preprocessed_blocks cuts
    record = record.replace(block_seconds=None if planned.mode == "mne" else planned.block_seconds)

    def on_head(first_block: np.ndarray) -> None:
        heads.append(check_head(first_block))

    refusal = None
    try:
        stats, digest = _write_samples(task, path, src, record, heads, on_head)
    except EncodingRangeError as exc:
        said, refusal = float32_instead(task.recipe, exc)
        warnings += said
        # this recording as float32 instead (its record says so), written again
        record = record.replace(**choose_encoding("float32", []))
        stats, digest = _write_samples(task, path, src, record, heads, on_head)
    record = _fingerprinted(task, record, digest, before)
    head = source_head(src.reader, src.header, src.mapping, src.groups, heads)
    ranged = [src.header.signals[i].range_uv is not None for i in src.mapping.source_indices]
    quality, more = judge_quality(
        task.manifest.mains, path, src.mapping, stats, head, ranged, (src.reader, src.header)
    )
    if refusal:  # (a named encoding's, once the recording's own checks passed)
        raise SourceError(path, refusal)
    record = record.replace(
        chunk_crc32c=stats["chunk_crc32c"], target_crc32c=stats.get("target_crc32c"), qc=quality
    )
    check_values({"source_files": record.source_files}, path, "record")  # (the rest: above)
    write_group_attrs(task.store_url, task.staging, record)
    return record, warnings + more


@dataclass(frozen=True)
class _Source:
    """A source opened and checked for ingest: its reader and header, the channels kept
    (``mapping``), their rate groups (the QC head's first), the output length ``n_out``
    (samples at the recipe's rate) and its sidecar's targets."""

    reader: type[Reader]
    header: Header
    mapping: ChannelMapping
    groups: list[RateGroup]
    n_out: int
    sidecar: SidecarResult


def _opened(task: IngestTask, path: str) -> tuple[_Source, RecordingRecord, list[str]]:
    """Open ``path`` with the manifest's reader, check its band and channels, read its
    sidecar and make its record (strict JSON); returns them with the warnings so far."""
    m = task.manifest
    reader = get_reader(m.reader)
    header, mapping, warnings = candidate_channels(path, m, task.item.part)
    mapping, groups, slow = check_band(task, path, header, mapping, rate_groups(header, mapping))
    warnings += slow
    out = effective_recipe(task).sfreq  # (a rate resampled by a ratio that is not exact: said)
    warnings += [n for g in groups if (n := preprocess.near_ratio_note(g[0], out, g[2] / g[0]))]
    sidecar = _sidecar(task, path, header)
    mapping, groups = channel_status(path, header, mapping, groups, sidecar)
    header, units = sidecar_units(path, m, task.item.part, header, mapping, sidecar)
    warnings += sidecar.problems + units
    mapping, said = one_per_site(header, mapping, m)  # (the first copy of a site not left out)
    groups = rate_groups(header, mapping)
    warnings += said
    n_out = output_length(task, path, header, groups)
    record, clipped = _record(task, path, header, n_out, sidecar, mapping)
    warnings += clipped
    check_values(record.to_dict(), path, "record")  # header values, manifest labels: strict JSON
    src = _Source(
        reader=reader, header=header, mapping=mapping, groups=groups, n_out=n_out,
        sidecar=sidecar,
    )  # fmt: skip
    return src, record, warnings


def _write_samples(
    task: IngestTask,
    path: str,
    src: _Source,
    record: RecordingRecord,
    heads: list[qc.HeadChecks],
    on_head: Callable[[np.ndarray], None],
) -> tuple[dict[str, Any], StreamDigest]:
    """Write the preprocessed samples and targets of ``src`` into the staging group in
    ``record``'s encoding (``heads`` emptied first: ``on_head`` fills it from the first
    block). Returns the writer's stats and the source's digest, fed by the bytes its
    reader decodes (EDF, BDF), not by a second read."""
    heads.clear()
    header, n_out, rate = src.header, src.n_out, task.recipe.sfreq
    digest = StreamDigest(path)
    with byte_taps.watching(path, digest.feed):
        stats = write_recording(
            task.store_url,
            task.staging,
            record=None,  # the record is final only after QC: written once, below
            channels=list(record.channels),
            n_samples=n_out,
            blocks=preprocessed_blocks(
                src.reader, header, src.mapping, src.groups, n_out, task, on_head
            ),
            sfreq=rate,
            encoding=record.encoding or "float32",
            quantum=record.quantum_uv,
            targets=stored_targets(
                src.sidecar,
                n_out,
                rate,
                header.sidecar_gaps,
                stretches=target_stretches(header, src.groups, rate),
            ),
        )
    return stats, digest


def float32_instead(recipe: Recipe, exc: EncodingRangeError) -> tuple[list[str], str | None]:
    """What follows when a recording's samples do not fit its encoding, and are streamed again
    as float32: under ``auto`` the report's warning (stored as float32); under a named
    encoding (the store's) the refusal's problem, to raise once the whole recording's own
    checks passed: a channel louder than any scalp is refused as such first (float32 would
    refuse it too, where the encoding's line said to ingest with ``--encoding float32``)."""
    if recipe.encoding != "auto":
        return [], exc.problem()
    return [exc.float32_note()], None


MAX_STORED_SAMPLES = 2**31 - 1
"""The most samples a recording's time axis counts (int32 sample numbers)."""


def output_length(task: IngestTask, path: str, header: Header, groups: list[RateGroup]) -> int:
    """Samples per channel at the store rate: the shortest rate group's, its stretches end
    to end (:func:`stretch_plan`); a recording under 1 s is refused."""
    sfreq = task.recipe.sfreq
    n_out = stretch_plan(header, groups, sfreq).n_out
    if n_out < sfreq:
        raise SourceError(path, f"recording too short: {header.duration:.2f} s, need at least 1 s")
    if n_out > MAX_STORED_SAMPLES:
        days = MAX_STORED_SAMPLES / sfreq / 86400
        raise SourceError(
            path,
            f"recording too long: {counted(n_out, 'sample')} at {sfreq:g} Hz, over the store's "
            f"{MAX_STORED_SAMPLES} ({days:.0f} days; its time axis counts samples in int32): "
            "split the file",
        )
    return n_out


def stretch_plan(header: Header, groups: list[RateGroup], sfreq_out: float) -> StretchPlan:
    """The continuous stretches of every rate group, split at the header's joins
    (:mod:`eegprep.pipeline.stretches`; one stretch for a recording without any)."""
    return stretches.plan(header.joins, [(g[0], g[2]) for g in groups], sfreq_out)


def target_stretches(
    header: Header, groups: list[RateGroup], sfreq_out: float
) -> list[tuple[float, int]]:
    """``(start s on the samples read, output samples)`` of each stretch the EEG is cut into
    (:func:`stretch_plan`), so that a target is resampled stretch by stretch as the EEG is
    (:func:`~eegprep.ingestion.labels.stored_targets`)."""
    cut = stretch_plan(header, groups, sfreq_out)
    sfreq = groups[0][0]
    return [(a / sfreq, n) for (a, _), n in zip(cut.bounds[0], cut.lengths, strict=True)]


def head_checks(
    header: Header, mapping: ChannelMapping, first: RateGroup
) -> Callable[[np.ndarray], qc.HeadChecks]:
    """The QC checks of the first rate group's head (:func:`qc.check_head`), as a function of
    its samples."""
    labels = [mapping.names[i] for i in first[1]]
    rails = [_rail(header.signals[mapping.source_indices[i]]) for i in first[1]]
    return lambda head: qc.check_head(head, labels, first[0], rails)


def source_head(
    reader: type[Reader],
    header: Header,
    mapping: ChannelMapping,
    groups: list[RateGroup],
    heads: list[qc.HeadChecks],
) -> qc.HeadChecks:
    """The QC checks of the source's head: those the first block's read gave (``heads``,
    :func:`preprocessed_blocks`' ``on_head``), else of the head read on its own."""
    if heads:
        return heads[0]
    return head_checks(header, mapping, groups[0])(_read_head(reader, header, mapping, groups[0]))


def _rail(signal: Any) -> tuple[float, float, float] | None:
    """The source channel's physical range and step (uV) for the clipping check, if known."""
    if signal.range_uv is None:
        return None
    return (signal.range_uv[0], signal.range_uv[1], signal.resolution)


class RateTooLowError(SourceError):
    """No channel of a file has a rate that carries the recipe's low-pass: the whole file is
    too slow for the recipe. ``sfreq`` (Hz): its rate; ``h_freq`` (Hz): the low-pass. The line
    says what an ingest can do (a lower ``h_freq`` in the manifest); a command that must keep
    the recipe (``labram predict``: the model's training data) words its own."""

    def __init__(self, path: str, sfreq: float, h_freq: float, l_freq: float = 0.0) -> None:
        self.sfreq, self.h_freq = sfreq, h_freq
        advice = (
            f"set `h_freq` below {sfreq / 2:g} Hz in the manifest ({MANIFEST_DOC})"
            if sfreq / 2 > l_freq
            else f"no low-pass fits above the {l_freq:g} Hz high-pass (the file's rate or "
            "timing fields may be damaged)"
        )  # (a low-pass at or under the high-pass is no band: the advice could not be taken)
        super().__init__(
            path, f"source rate {sfreq:g} Hz cannot carry the {h_freq:g} Hz low-pass: {advice}"
        )


def check_band(
    task: IngestTask, path: str, header: Header, mapping: ChannelMapping, groups: list[RateGroup]
) -> tuple[ChannelMapping, list[RateGroup], list[str]]:
    """The channels whose rate carries the recipe's low-pass, their rate groups, and a warning
    naming the others, left out (an EEG channel stored at a lower rate than the rest of its
    file; ``dropped_channels`` gives each one's reason).

    Raises
    ------
    SourceError
        No channel's rate carries the low-pass (the whole file is too slow for the recipe).
    """
    recipe = effective_recipe(task)
    h = recipe.h_freq
    slow = [g for g in groups if auto_h_trans(h, g[0]) <= 0]
    if not slow:
        return mapping, groups, []
    if len(slow) == len(groups):
        raise RateTooLowError(path, slow[0][0], h, recipe.l_freq)
    keep = sorted(p for g in groups if g not in slow for p in g[1])
    left = [(p, sfreq) for sfreq, positions, _ in slow for p in positions]
    why = {p: f"{sfreq:g} Hz cannot carry the {h:g} Hz low-pass" for p, sfreq in left}
    labels = {p: header.signals[mapping.source_indices[p]].label for p, _ in left}
    kept = ChannelMapping(
        tuple(mapping.source_indices[p] for p in keep),
        tuple(mapping.names[p] for p in keep),
        tuple(mapping.indices[p] for p in keep),
        (*mapping.dropped, *((labels[p], why[p]) for p, _ in sorted(left))),
    )
    named = ", ".join(f"{shown_label(labels[p])} ({sfreq:g} Hz)" for p, sfreq in sorted(left))
    note = f"channels at a rate too low for the {h:g} Hz low-pass, left out: {named}"
    return kept, rate_groups(header, kept), [note]


def _picks(mapping: ChannelMapping, positions: list[int]) -> list[int]:
    return [mapping.source_indices[p] for p in positions]


def _head_stop(group: RateGroup) -> int:
    sfreq, _, n_samples = group
    return min(n_samples, int(HEAD_SECONDS * sfreq))


def _read_head(
    reader: type[Reader], header: Header, mapping: ChannelMapping, group: RateGroup
) -> np.ndarray:
    """The first :data:`HEAD_SECONDS` of one rate group, for QC (line noise, clipping)."""
    return reader.read_segment(header, _picks(mapping, group[1]), 0, _head_stop(group))


def preprocessed_blocks(
    reader: type[Reader],
    header: Header,
    mapping: ChannelMapping,
    groups: list[RateGroup],
    n_out: int,
    task: IngestTask,
    on_head: Callable[[np.ndarray], None] | None = None,
) -> Iterator[np.ndarray]:
    """Output blocks of every rate group, rows in the source's channel order (mapping
    positions), cut to ``n_out`` samples; each continuous stretch (:func:`stretch_plan`)
    filtered and resampled alone, no block spanning two.

    When ``on_head`` is given, the first group's first read that starts at sample 0 and covers
    the QC head (:func:`_head_stop`) hands it the head's samples (a view, valid during the
    call) as soon as they are decoded: the head is neither copied nor read a second time.
    """
    streams = []
    headed: list[bool] = []  # the head was handed over
    head_stop = _head_stop(groups[0])
    recipe = _bounded_recipe(task, header.path, groups)  # before anything is read
    cut = stretch_plan(header, groups, recipe.sfreq)  # each stretch filtered alone
    for g, (sfreq, positions, _) in enumerate(groups):
        picks = _picks(mapping, positions)

        def read(
            a: int, b: int, out: np.ndarray, picks: list[int] = picks, first: bool = g == 0
        ) -> None:
            reader.read_into(header, picks, a, b, out)
            if first and on_head is not None and not headed and a == 0 and b >= head_stop:
                headed.append(True)
                on_head(out[:, :head_stop])

        mains = task.manifest.mains
        bounds = cut.bounds[g]
        streams.append(
            stretches.stream_stretches(read, len(picks), bounds, cut.lengths, sfreq, mains, recipe)
        )
    in_order = len(groups) == 1 and list(groups[0][1]) == list(range(mapping.n_channels))
    done = 0
    while done < n_out:
        limits.check_time(header.path)
        parts = [next(s) for s in streams]
        k = min(min(p.shape[1] for p in parts), n_out - done)
        if in_order:  # one group, rows already in the source's order: the block as it comes
            yield parts[0][:, :k]
        else:
            block = np.empty((mapping.n_channels, k), dtype=parts[0].dtype)
            for (_, positions, _), part in zip(groups, parts):
                block[positions] = part[:, :k]  # each group's rows at their source positions
            yield block
        done += k


def _bounded_recipe(task: IngestTask, path: str, groups: list[RateGroup]) -> Recipe:
    """The recipe, its blocks shortened (down to 10 s) until one block of every rate group fits
    the per-file memory budget (:func:`~eegprep.ingestion.block_lengths.block_seconds`); a file
    whose shortest block does not fit is refused, before anything is read or any filter
    designed.

    Shorter blocks change samples only at float32 round-off (docs/preprocessing.md), which is
    why ``block_seconds`` is not part of the recipe's hash; the record states the block used.
    """
    recipe = effective_recipe(task)
    mains = task.manifest.mains
    if recipe.mode == "mne":  # the reference path holds the whole recording in float64
        for _, positions, n_samples in groups:
            what = f"the mne mode's whole-recording copy of {counted(len(positions), 'channel')}"
            limits.check_allocation(path, 4 * 8 * len(positions) * n_samples, what)
        return recipe
    for sfreq, positions, _ in groups:  # absurd rates, before any filter is designed
        per_second = bytes_per_second(len(positions), sfreq)
        n = counted(len(positions), "channel")
        what = f"one {MIN_BLOCK_SECONDS:g} s block of {n} at {sfreq:g} Hz"
        limits.check_allocation(path, per_second * MIN_BLOCK_SECONDS, what)
    shape = [(sfreq, len(positions)) for sfreq, positions, _ in groups]
    seconds = block_seconds(shape, mains, recipe, limits.current().memory_bytes)
    for sfreq, n_channels in shape:
        need = bytes_per_second(n_channels, sfreq) * (
            seconds + margin_seconds(sfreq, mains, recipe)
        )
        what = f"one {seconds:g} s block of {counted(n_channels, 'channel')} at {sfreq:g} Hz"
        limits.check_allocation(path, need, what)
    return recipe if seconds == recipe.block_seconds else recipe.with_(block_seconds=seconds)


def _sidecar(
    task: IngestTask, path: str, header: Header, *, required: bool = True
) -> SidecarResult:
    """Run the manifest's sidecar parser (see docs/manifest-format.md, ``[sidecar]``);
    ``required=False``: none found is no error and runs nothing, even where the manifest
    requires one or runs its parser without files.

    Sidecar paths come from ``suffixes`` (appended to the source path without its extension)
    and ``files`` (templates of path fields, relative to the corpus root). A parser whose
    manifest names neither is called with no paths (it works from its options and the header).
    Option values that are exactly ``"{field}"`` are replaced by that path field.
    """
    m = task.manifest
    if not m.sidecar_parser:
        return SidecarResult()
    fields = {**task.item.field_dict(), "part": task.item.part or ""}
    found = find_sidecars(m, task.root, path, fields, required=required)
    declared = bool(m.sidecar_suffixes or m.sidecar_files)
    if not found and (not required or (declared and not m.sidecar_always)):
        return SidecarResult()
    for f in found:  # parsers read a sidecar whole, as text: objects per byte and per line
        check_allocation(f, sidecar_bytes(f), "reading this sidecar")
    parser = load_parsers()[m.sidecar_parser]
    names = ", ".join(os.path.basename(f) for f in found) or m.sidecar_parser
    what = f"sidecar ({names})"
    try:
        result = parser(found, header, sidecar_options(m, fields))
    except (EegprepError, OSError, MemoryError):
        raise  # already names the file, or the task's handlers say what happened
    except Exception as exc:  # a malformed sidecar (a CSV cell past 128 KiB, bad text): the file
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceError(
            path, f"{what} cannot be read: {why}; fix or remove the sidecar to ingest the file"
        ) from exc
    # (text is judged by its own rules next: the record text rule's, the event rule's)
    check_values({"labels": result.labels, "events": result.events}, path, what, text=False)
    return result


def sidecar_channels(
    task: IngestTask, path: str, header: Header, mapping: ChannelMapping, groups: list[RateGroup]
) -> tuple[Header, ChannelMapping, list[RateGroup], list[str]]:
    """The header with the sidecar's units where the file states none
    (:func:`~eegprep.ingestion.sidecar_units.sidecar_units`), the channels an ingest keeps
    once the manifest's sidecar is read (a BIDS ``channels.tsv``'s bad and non-EEG channels
    left out: :func:`_channel_status`), their rate groups and the sidecar's report lines, for
    a command that reads a file without its labels (``labram predict``): the sidecar found
    and parsed as an ingest does, none found no error.
    """
    sidecar = _sidecar(task, path, header, required=False)
    mapping, groups = channel_status(path, header, mapping, groups, sidecar)
    header, units = sidecar_units(path, task.manifest, task.item.part, header, mapping, sidecar)
    return header, mapping, groups, sidecar.problems + units


def effective_recipe(task: IngestTask) -> Recipe:
    """The store's recipe, with the manifest's lower ``h_freq`` (if any) as the low-pass."""
    return recipe_for_manifest(task.recipe, task.manifest)


def recipe_for_manifest(recipe: Recipe, manifest: Manifest) -> Recipe:
    """``recipe`` with ``manifest``'s lower ``h_freq`` (if any) as the low-pass."""
    h = manifest.h_freq
    if h is None or h >= recipe.h_freq:
        return recipe
    return recipe.with_(h_freq=h)


def _record(
    task: IngestTask,
    path: str,
    header: Header,
    n_out: int,
    sidecar: SidecarResult,
    mapping: ChannelMapping,
) -> tuple[RecordingRecord, list[str]]:
    """The recording's record, but its QC, and the report's lines on its events (their one
    rule: :mod:`eegprep.ingestion.events`)."""
    m = task.manifest
    fields = {**task.item.field_dict(), "part": task.item.part or ""}
    sfreq = task.recipe.sfreq
    source = os.path.join(task.root, task.item.relpath)
    who = identity_fields(m, fields, source)
    labels = recording_labels(m, fields, sidecar, source)
    events, gap_warnings = recording_events(m, header, sidecar, path)
    settled = settle_events(events, n_out, sfreq, path)
    rates = sorted({header.signals[i].sfreq for i in mapping.source_indices})
    resolutions = [header.signals[i].resolution for i in mapping.source_indices]
    # encoding, quantum_uv, max_error_uv: auto resolves per recording (store-format.md)
    encoding = choose_encoding(task.recipe.encoding, resolutions)
    record = RecordingRecord(
        id=task.rid,
        group=task.group,
        corpus=m.name,
        name=task.item.name,
        subject=who.subject,
        session=who.session,
        split=who.split,
        subject_key=who.subject_key,
        channels=tuple(mapping.names),  # source order (store-format.md)
        channel_index=tuple(mapping.indices),
        n_samples=n_out,
        sfreq=sfreq,
        joins=stretch_plan(header, rate_groups(header, mapping), sfreq).joins,
        labels=labels,
        events=settled.events,
        source=task.item.relpath,  # (a path as the file system names it: docs/store-format.md)
        part=None if task.item.part is None else checked_exact(source, "part", task.item.part),
        source_size=task.source_stat[0],
        source_mtime_ns=task.source_stat[1],
        orig_sfreq=rates[0] if len(rates) == 1 else tuple(rates),
        orig_duration_s=round(float(header.duration), 6),
        mains_hz=m.mains,
        encoding=encoding["encoding"],
        quantum_uv=encoding["quantum_uv"],
        max_error_uv=encoding["max_error_uv"],
        recipe_hash=task.recipe.hash(),
        band_hz=(task.recipe.l_freq, effective_recipe(task).h_freq),
        dropped_channels=[[noted_text(label), noted_text(why)] for label, why in mapping.dropped],
        targets=tuple(sorted(sidecar.targets)),
        manifest_hash=m.hash(),
    )
    return record, gap_warnings + settled.warnings


def _check_unchanged_since_planned(task: IngestTask) -> None:
    """Refuse the recording when any of its files changed between the plan's stat and now,
    after every byte was read and hashed: the samples, events and hashes may then be of two
    versions of a file (a write whose mtime was set back is caught by its ctime)."""
    rels = [s.path for s in task.sources]
    try:
        now = stamp_files(task.root, rels)
    except OSError as exc:
        raise SourceError(
            os.path.join(task.root, task.item.relpath),
            f"a file of this recording went away while it was ingested ({exc.strerror}); "
            "run the ingest again",
        ) from None
    moved = [a.path for a, b in zip(task.sources, now) if a != b]
    if moved:
        raise SourceError(
            os.path.join(task.root, task.item.relpath),
            f"{', '.join(moved)} changed while it was being ingested (size, mtime or ctime); "
            "run the ingest again",
        )


def _fingerprinted(
    task: IngestTask, record: RecordingRecord, digest: StreamDigest, before: dict[str, str]
) -> RecordingRecord:
    """``record`` with its files' fingerprint (``source_files``, ``source_blake3``): the
    source's digest from ``digest`` (the bytes its reader decoded, and what no read covered),
    the other files' read now. ``before``: the digests of files whose stamps were racy when
    the task began (:func:`~eegprep.ingestion.racy_stamps.digests_if_racy`), which must be
    those: a rewrite in the tick they were read in leaves every stamp as it was."""
    source = digest.hexdigest()
    _check_unchanged_since_planned(task)  # a file replaced (by a FIFO too) is named as changed
    files = fingerprint(task.root, task.sources, {task.item.relpath: source})
    _check_unchanged_since_planned(task)
    moved = changed_in_tick(before, {f["path"]: f[HASH] for f in files})
    if moved:
        raise SourceError(
            os.path.join(task.root, task.item.relpath),
            f"{', '.join(moved)} changed while it was being ingested (its bytes, within one "
            "tick of its file times); run the ingest again",
        )
    return record.replace(source_files=files if task.sources else [], source_blake3=source)
