"""``labram embed``'s windows whose samples cannot be read: left out, the others embedded.

A damaged chunk or shard of the input store (a failed CRC-32C, a record its group does not
repeat) stopped the whole run at its first window, and a re-run never got past it. A batch
that cannot be read is now read again window by window: each window that reads is embedded,
each that does not is left out. Its rows keep the fill value (NaN, as windows not computed
yet), its output chunk is not recorded as done (a re-run computes it again, after
``eegprep ingest ... --repair`` with its samples), and its recording is named, with the one
line saying why, in the rank's progress file (``"left_out"``, ``"windows_left_out"``) and by
the command. Under torchrun each rank writes its own progress file; after the last barrier the
main rank reads the others' (:func:`with_other_ranks`), so that the command names every
recording left out, not only those of its own chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from eegprep.base import strict_json
from eegprep.base.errors import StoreFormatError
from eegprep.store.readable import split_readable
from eegprep.store.reader import Store, open_store
from labram.data.block_reader import BlockReader
from labram.data.store_set import given_name, remember


@dataclass
class LeftOut:
    """The windows one run left out.

    Attributes
    ----------
    recordings : dict of str to str
        Recording id -> the first line saying why its samples cannot be read.
    n_windows : int
        How many windows were left out.
    """

    recordings: dict[str, str] = field(default_factory=dict)
    n_windows: int = 0


def readable_batches(
    reader: BlockReader, ids: np.ndarray, left_out: LeftOut
) -> list[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """Batch ``ids`` (window numbers of ``reader``'s index, one shape) as (ids, batch) pairs:
    one pair when every sample reads (the usual case, no cost), else one per window that
    reads, each window that does not counted in ``left_out`` and its recording named there."""
    try:
        return [(ids, reader.batch(ids))]
    except StoreFormatError:
        pass
    out = []
    for w in ids:
        one = ids[ids == w]
        try:
            out.append((one, reader.batch(one)))
        except StoreFormatError as exc:
            rid = reader.index.recordings[int(reader.index.rec[w])].id
            left_out.recordings.setdefault(rid, str(exc))
            left_out.n_windows += 1
    return out


def readable_stores(stores: Sequence[str | Store]) -> tuple[list[Store], dict[str, str]]:
    """``stores`` opened (a :class:`Store` passes through) without the recordings whose index
    records cannot be read (malformed: :attr:`Store.malformed`; values wrong:
    :func:`~eegprep.store.readable.split_readable`), as ``eegprep stats`` reads them, and
    those recordings, id -> the one line saying why: embedded nothing, named as the windows
    left out are. Parses every record once; reads no sample."""
    out: list[Store] = []
    left: dict[str, str] = {}
    for given in stores:
        store = given if isinstance(given, Store) else open_store(given, leave_out_malformed=True)
        part = split_readable(store)
        out.append(part.store)
        # (the store as given, not its absolute URL, in the lines and records that name it,
        # as every other command that reads stores names them)
        remember([part.store], [given_name(given)], reconciled=False)
        for rid, why in part.left_out:
            left.setdefault(rid, why)
    return out, left


def with_other_ranks(progress: Path, rank: int, world_size: int, own: LeftOut) -> LeftOut:
    """``own`` (this rank's windows left out) with those of the other ranks, read from their
    progress files ``progress / f"rank{r}.json"`` once every rank has written its own: the
    whole run's, what the main rank reports. A file that is missing (a rank with nothing left
    to do this run left out nothing: a chunk left out is never done) or that cannot be read
    (:mod:`~labram.stages.embed_progress` says so when it resumes) adds nothing."""
    out = LeftOut(dict(own.recordings), own.n_windows)
    for r in range(world_size):
        if r == rank:
            continue
        try:
            doc = strict_json.loads((progress / f"rank{r}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        left = doc.get("left_out") if isinstance(doc, dict) else None
        n = doc.get("windows_left_out") if isinstance(doc, dict) else None
        if isinstance(left, dict):
            for rid, why in left.items():
                out.recordings.setdefault(str(rid), str(why))
        if type(n) is int and n > 0:
            out.n_windows += n
    return out
