"""Training windows whose samples cannot be read: each replaced, named, and counted.

A flipped bit in a stored chunk (a failed CRC-32C, a codec's error) of a recording whose record
vouches for its samples (:func:`labram.data.finite_windows.vouched`) is not read before
training; the loader met it hours into a run, the run stopped, and ``--resume`` stopped at the
same batch again. Now a batch whose samples cannot all be read is filled again window by
window (:func:`fill_readable`): each window that cannot be read is replaced by the next window
of its batch that can (counting on from it, round to the batch's start), so that a run, and
its resume, make the same choice given the same damage. The training loop names each such
recording once, in one warning line with what to do, records them in every checkpoint (the
run's ``extra``: :data:`KEY`) and in its result, and stops (:class:`UnreadableError`) once
more than :data:`MOST_SHARE` of the windows are found unreadable, or a whole batch: a store
that damaged is not trained on silently. Under torchrun every rank counts every rank's windows
(:func:`labram.train.unreadable_ranks.found_by_ranks`), so that all stop at the same step with
the same line, the main rank alone naming the recordings and printing that line (the
others exit with the same status in silence).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eegprep.base.errors import StoreError, StoreFormatError
from eegprep.base.wording import counted
from labram.data.block_reader import BlockReader

log = logging.getLogger(__name__)

MOST_SHARE = 0.01
"""The largest share of a stage's windows (of the index its loader reads) that may be found
unreadable and replaced; one more stops the run."""

KEY = "unreadable"
"""The entry of a run's ``extra`` (in every checkpoint) and of its result
(:meth:`Unreadable.as_dict`)."""

FOUND = "unreadable"
"""The entry of a batch (and of a loader worker's message) listing what was replaced in it:
``(window, recording id, why)`` triples, the window a number of the index."""

TO_DO = (
    "run `eegprep validate` on the store, then `eegprep ingest CORPUS --out STORE --repair` "
    "(or ingest the corpus again)"
)
"""What to do about an unreadable recording: the end of the lines that name one."""


class UnreadableError(StoreError, ValueError):
    """Too many of a run's windows cannot be read (or a whole batch cannot): the run stops.

    ``every_rank``: raised by every rank of a torchrun run alike, with the same line
    (:meth:`Unreadable.add_ranks`), so that the command line prints it once, on the main rank
    (:attr:`~eegprep.base.errors.EegprepError.every_rank`; the check before training and the
    scoring of a split, which every rank runs over every window, mark theirs so too); False
    where one rank may raise it alone."""

    def __init__(self, message: str, *, every_rank: bool = False) -> None:
        super().__init__(message)
        self.every_rank = every_rank


Found = list[tuple[int, str, str]]
"""What one batch's fill replaced: ``(window, recording id, the one line saying why)``."""


def fill_readable(
    reader: BlockReader, batches: list[np.ndarray], outs: list[np.ndarray], *, helper: bool = False
) -> tuple[list[np.ndarray], list[Found]]:
    """Fill ``batches`` (window numbers of ``reader``'s index, one shape a batch) into ``outs``
    (``(B, N, L)`` float32 each) as :meth:`BlockReader.fill` does; the batches' window numbers
    as filled (the same arrays when every sample reads: no cost) and what each replaced.

    Where a sample cannot be read the batches are filled again window by window: each window
    that cannot be read is replaced, samples and number, by the next one of its batch that can
    (``j + 1, j + 2, ...``, round to the batch's start). A batch of which no window can be read
    is left as it is, each of its windows listed: the process that trains refuses it
    (:meth:`Unreadable.add`), so that a loader worker raises nothing (its error would reach
    the command wrapped in the worker's traceback)."""
    try:
        reader.fill(batches, outs, helper=helper)
        return batches, [[] for _ in batches]
    except StoreFormatError:
        pass
    filled, found = [], []
    for ids, out in zip(batches, outs, strict=True):
        bad: dict[int, str] = {}
        for j in range(len(ids)):
            try:
                reader.fill([ids[j : j + 1]], [out[j : j + 1]])
            except StoreFormatError as exc:
                bad[j] = str(exc)
        done: Found = [
            (int(ids[j]), _recording(reader, int(ids[j])), why) for j, why in bad.items()
        ]
        if len(bad) == len(ids):  # nothing to stand in (and nothing left of another read)
            out[...] = 0
            filled.append(ids)
            found.append(done)
            continue
        ids = ids.copy()
        for j in bad:
            k = next(k % len(ids) for k in range(j + 1, j + len(ids)) if k % len(ids) not in bad)
            out[j] = out[k]
            ids[j] = ids[k]
        filled.append(ids)
        found.append(done)
    return filled, found


def _recording(reader: BlockReader, w: int) -> str:
    return reader.index.recordings[int(reader.index.rec[w])].id


@dataclass
class Unreadable:
    """The windows of one stage's run found unreadable so far (restored on ``--resume``).

    Attributes
    ----------
    n_windows : int
        Windows of the stage's index (the share's denominator).
    recordings : dict of str to str
        Recording id -> the first line saying why a window of it cannot be read.
    windows : set of int
        The unreadable windows (numbers of the index).
    what : str
        The command, for the lines.
    speak : bool
        Whether this process names the recordings (under torchrun: the main rank alone).
    named : set of str
        Recordings named already in this process (by the check before training,
        :attr:`labram.data.windows.WindowIndex.named_unreadable`): counted, not named again.
    """

    n_windows: int
    what: str
    recordings: dict[str, str] = field(default_factory=dict)
    windows: set[int] = field(default_factory=set)
    speak: bool = field(default=True, compare=False)
    named: set[str] = field(default_factory=set, compare=False)

    @classmethod
    def restored(
        cls, n_windows: int, what: str, saved: Any, *, speak: bool = True,
        named: set[str] | None = None,
    ) -> Unreadable:  # fmt: skip
        """From a run's ``extra[KEY]`` (:meth:`as_dict`; anything else: none found)."""
        out = cls(n_windows, what, speak=speak, named=set(named or ()))
        if isinstance(saved, dict):
            recs, windows = saved.get("recordings"), saved.get("windows")
            if isinstance(recs, dict):
                out.recordings = {str(k): str(v) for k, v in recs.items()}
            if isinstance(windows, list):
                out.windows = {int(w) for w in windows if type(w) is int}
        return out

    def as_dict(self) -> dict[str, Any]:
        """What a checkpoint and the result keep: ``recordings`` (id -> why), ``windows``
        (sorted numbers), ``n_windows``."""
        return {
            "recordings": dict(sorted(self.recordings.items())),
            "windows": sorted(self.windows),
            "n_windows": self.n_windows,
        }

    def add(self, found: Found, batch_size: int | None = None) -> None:
        """Count a batch's replaced windows (of its ``batch_size``, when a batch's); name each
        recording not named before in one warning line (:meth:`add_ranks` of one rank)."""
        self.add_ranks([found], batch_size)

    def add_ranks(self, found: list[Found], batch_size: int | None = None) -> None:
        """Count the replaced windows of each rank's batch of one step (``found``: one list a
        rank, in rank order; the same on every rank); name each recording not named before
        in one warning line (where :attr:`speak`).

        Raises
        ------
        UnreadableError
            More than :data:`MOST_SHARE` of the windows are now found unreadable, or none of
            a rank's batch's ``batch_size`` windows could be read: on every rank alike.
        """
        for w, rid, why in (one for rank in found for one in rank):
            self.windows.add(int(w))
            if rid not in self.recordings:
                self.recordings[rid] = why
                if self.speak and rid not in self.named:
                    log.warning(
                        "%s: windows of recording %s cannot be read (%s); each is replaced by "
                        "the next readable window of its batch: %s",
                        self.what, rid, why, TO_DO,
                    )  # fmt: skip
                self.named.add(rid)
        whole = [rank for rank in found if rank and batch_size and len(rank) >= batch_size]
        if whole:
            raise UnreadableError(
                f"{self.what}: no window of a batch can be read "
                f"({counted(batch_size or 0, 'window')}, the first of {whole[0][0][1]}: "
                f"{whole[0][0][2]}): the store is too damaged to train on, and the run stops: "
                f"{TO_DO}",
                every_rank=True,
            )
        if len(self.windows) > MOST_SHARE * self.n_windows:
            names = sorted(self.recordings)
            more = ", ..." if len(names) > 5 else ""
            raise UnreadableError(
                f"{self.what}: {len(self.windows)} of the {counted(self.n_windows, 'window')} "
                f"({len(self.windows) / max(1, self.n_windows):.1%}, more than "
                f"{MOST_SHARE:.0%}) cannot be read, in {counted(len(names), 'recording')} "
                f"({', '.join(names[:5])}{more}; the first: {self.recordings[names[0]]}): the "
                f"store is too damaged to train on, and the run stops: {TO_DO}",
                every_rank=True,
            )


__all__ = ["FOUND", "KEY", "MOST_SHARE", "Unreadable", "UnreadableError", "fill_readable"]
