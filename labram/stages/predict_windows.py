"""Which windows ``labram predict`` cuts from a recording, and cutting them from its blocks as
they come, so that a file's memory is one block and a batch, whatever its length.

The plan needs the recording's header side alone (its channels, length and joins: an
:class:`~eegprep.ingestion.inmemory.Opened` or a whole
:class:`~eegprep.ingestion.inmemory.Preprocessed`); the windows are the same, value for value,
as those cut from the whole recording in memory (:func:`labram.stages.predict.cut_windows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.pipeline.channels import N_ADDRESSABLE, SAME_SITE
from labram.data.block_reader import to_model_units
from labram.data.joins import tiled_starts
from labram.data.tasks import Task
from labram.data.windows import WindowSettings, addressable_rows, window_seconds
from labram.model.config import PATCH_SIZE


class Recording(Protocol):
    """What a plan reads of a recording (its header side)."""

    path: str
    channels: list[str]
    channel_index: list[int]
    joins: tuple[int, ...]
    gaps: tuple[tuple[float, float], ...]

    @property
    def n_samples(self) -> int: ...


@dataclass(frozen=True)
class WindowPlan:
    """The windows of one recording: its rows used (``rows``, their vocabulary indices
    ``channels`` and ``names``), each window ``seconds`` long (``n`` samples) from ``starts``."""

    rows: np.ndarray  # (N,) rows of the recording
    channels: np.ndarray  # (N,) vocabulary indices
    names: list[str]  # (N,) their names
    seconds: int
    starts: np.ndarray  # (n_windows,) first sample of each window
    gaps: tuple[tuple[float, float], ...] = ()  # the file's time that holds no sample, s

    @property
    def n(self) -> int:
        return self.seconds * PATCH_SIZE

    def start_seconds(self) -> np.ndarray:
        """Each window's start in seconds of the file's own time (:func:`file_seconds`)."""
        return file_seconds(self.starts / PATCH_SIZE, self.gaps)


def file_seconds(stored_s: np.ndarray, gaps: Sequence[tuple[float, float]]) -> np.ndarray:
    """Times ``stored_s`` (s of the samples kept, stretches end to end, as a store keeps them)
    in seconds of the file's own time: each moved on by the ``gaps`` before it (an EDF+D's
    15 s gap after 30 s: stored 30 s is the file's 45 s). A window starts at a stretch's first
    sample or later and ends before the next join, a second or more before the next gap's
    start, so half a second absorbs the stretches' rounding to whole samples."""
    out = np.asarray(stored_s, np.float64).copy()
    for start, stop in sorted(gaps):  # (ascending: each gap's start is on the file's time)
        out[out >= start - 0.5] += stop - start
    return out


def plan_windows(rec: Recording, task: Task, settings: WindowSettings | None = None) -> WindowPlan:
    """The task's windows of a recording, as fine-tuning cut them: its channels (in protocol
    order, or the addressable ones, an evenly spaced ``max_channels`` above that), its window
    length (or the token budget's), its stride (or none); a recording whose stretches join
    (``rec.joins``) tiled stretch by stretch, none across a join
    (:func:`labram.data.joins.tiled_starts`).

    Raises
    ------
    SourceError
        The recording lacks a channel the task needs, or is shorter than one window.
    """
    settings = settings or WindowSettings()
    if task.channels is not None:
        pos = {c: i for i, c in enumerate(rec.channels)}
        missing = [c for c in task.channels if c not in pos]
        if missing:
            raise SourceError(
                rec.path,
                f"lacks channels the {task.name} task needs: {', '.join(missing)}"
                + _renamed_hint(missing, rec.channels),
            )
        rows = np.array([pos[c] for c in task.channels], np.int64)
    else:
        rows, _ = addressable_rows(rec.channel_index, settings.max_channels)
        if not len(rows):  # (a window of no channel: the forward pass failed, an internal error)
            raise _unplaced(rec)
    index = np.asarray(rec.channel_index, np.int64)[rows]
    seconds = task.window_seconds or window_seconds(len(rows), settings)
    n = seconds * PATCH_SIZE
    stride = n if task.stride_seconds is None else round(task.stride_seconds * PATCH_SIZE)
    starts = np.asarray(tiled_starts(rec.n_samples, rec.joins, n, stride), dtype=np.int64)
    if len(starts) == 0:
        raise _too_short(rec, seconds)
    names = [rec.channels[i] for i in rows]
    return WindowPlan(rows, index, names, seconds, starts, tuple(rec.gaps))


def _unplaced(rec: Recording) -> SourceError:
    """The line of a recording none of whose channels the model reads: each has no row in the
    released spatial table (vocabulary index >= 128, the bipolar ``FP1-F3`` ... ``P4-O2``)."""
    shown = ", ".join(rec.channels[:8]) + (", ..." if len(rec.channels) > 8 else "")
    return SourceError(
        rec.path,
        f"no channel the model reads: none of its channels ({shown}) has a row in the model's "
        f"spatial table (vocabulary index below {N_ADDRESSABLE}), so it gives no window",
    )


def unplaced_warning(rec: Recording, task: Task) -> list[str]:
    """The warning of a recording some of whose channels the model does not read, for a task
    that takes the addressable channels: those without a row in its spatial table (the
    bipolar ``FP1-F3`` ... ``P4-O2``), left out of every window where the file's other
    warnings are said (a CHB-MIT file's half of its pairs went unread without a word)."""
    if task.channels is not None:
        return []
    left = [c for c, i in zip(rec.channels, rec.channel_index, strict=True) if i >= N_ADDRESSABLE]
    if not left or len(left) == len(rec.channels):  # (none left: the file's own line)
        return []
    return [
        f"channels without a row in the model's spatial table (vocabulary index {N_ADDRESSABLE}"
        f" or above), not read: {', '.join(left)}"
    ]


def _too_short(rec: Recording, seconds: int) -> SourceError:
    """The line of a recording that gives no window: its length (or, where its stretches join,
    its longest stretch's) exact to the sample at the model's rate. Before, ``:.1f`` called a
    9.995 s file "10.0 s long, shorter than one 10 s window", and a 40 s EDF+D of 8 s
    stretches "40.0 s long, shorter than one 10 s window"."""
    bounds = [0, *rec.joins, rec.n_samples]
    longest = max(b - a for a, b in pairwise(bounds))
    shown = f"{longest / PATCH_SIZE:.3f}".rstrip("0").rstrip(".")  # (a sample: 0.005 s)
    if rec.joins:
        what = (f"{rec.n_samples / PATCH_SIZE:.3f}".rstrip("0").rstrip(".") + " s long, but "
                f"its longest stretch between gaps is {shown} s (no window crosses a gap), "
                f"shorter than one {seconds} s window")  # fmt: skip
    else:
        what = f"{shown} s long, shorter than one {seconds} s window"
    return SourceError(rec.path, what)


# the 10-20 sites whose 10-10 names differ (SAME_SITE): the vocabulary keeps both (as the
# released weights saw them), so a file in the new names lacks a task's old ones
_OLD_TO_NEW = SAME_SITE


def _renamed_hint(missing: list[str], present: Sequence[str]) -> str:
    """Where a missing channel is in the file under its 10-10 name, how to use it."""
    pairs = [(o, n) for o, n in _OLD_TO_NEW.items() if o in missing and n in present]
    if not pairs:
        return ""
    olds = ", ".join(o for o, _ in pairs)
    news = ", ".join(n for _, n in pairs)
    example = ", ".join(f'{n} = "{o}"' for o, n in pairs[:2])
    return (
        f" (the file has {news}, the 10-10 names of {olds}: to use them as those, give a "
        f"manifest with [channels] rename = {{ {example}, ... }} as --corpus FILE.toml)"
    )


def windows_from_blocks(blocks: Iterator[np.ndarray], plan: WindowPlan) -> Iterator[np.ndarray]:
    """The plan's windows, ``(k, N, A, 200)`` in model units (0.1 mV), as soon as the blocks
    (``(n_channels, n)`` microvolts, in time order) hold them; every block is read, the last
    too (a stream judges its recording after its last block). Held at once: the samples from
    the next window's start on (under a window) and one block's rows."""
    n, n_rows = plan.n, len(plan.rows)
    held = np.empty((n_rows, 0), np.float32)  # samples from `first` on, model units
    first = 0
    w = 0  # the next window
    for block in blocks:
        rows = block[plan.rows]  # (N, k): a copy, scaled in place
        to_model_units(rows, out=rows)
        held = np.concatenate([held, rows], axis=1) if held.shape[1] else rows
        end = first + held.shape[1]
        k = int(np.searchsorted(plan.starts + n, end, side="right"))  # windows ending by `end`
        if k > w:
            yield np.stack(
                [held[:, s - first : s - first + n].reshape(n_rows, -1, PATCH_SIZE)
                 for s in plan.starts[w:k]]
            )  # fmt: skip
            w = k
        keep = int(plan.starts[w]) if w < len(plan.starts) else end
        held, first = held[:, keep - first :], keep
    assert w == len(plan.starts), (w, len(plan.starts))  # the blocks reach n_samples


def freed_as_they_go(groups: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``groups`` as they are, the C heap's free pages given back to the system after each
    (glibc's ``malloc_trim``; nothing elsewhere). The blocks and batches are freed, but
    glibc kept the pages of their fragmented heap: a file's resident memory grew with its
    length (64 channels at 1 kHz: 444 MB for 10 min, 563 MB for 2 h, 1,005 MB for 6 h, where
    what numpy held stayed at 220 MB); 554 MB for 6 h with this, at no measurable cost."""
    trim = _malloc_trim()
    for group in groups:
        yield group
        if trim is not None:
            trim(0)


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def batches(windows: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """``windows``' groups regrouped ``size`` at a time, in order (the last may be smaller):
    the batches the whole recording's windows would make."""
    pending: list[np.ndarray] = []
    n_pending = 0
    for group in windows:
        pending.append(group)
        n_pending += len(group)
        while n_pending >= size:
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield joined[:size]
            rest = joined[size:]
            pending, n_pending = ([rest] if len(rest) else []), len(rest)
    if n_pending:
        yield np.concatenate(pending)


__all__ = ["WindowPlan", "batches", "freed_as_they_go", "plan_windows", "windows_from_blocks"]
