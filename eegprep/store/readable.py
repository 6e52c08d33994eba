"""A store's recordings split into those whose index records can be read and those that cannot.

What a summary of many recordings (``eegprep stats``, the HTML report) tabulates and names: one
damaged index record must not hide the summary of 10^5 sound ones, nor be left out unsaid.
"""

from __future__ import annotations

from dataclasses import dataclass

from eegprep.base.errors import StoreFormatError
from eegprep.store.reader import Store


@dataclass(frozen=True)
class Readable:
    """The readable part of a store.

    Attributes
    ----------
    store : Store
        The store without the left-out recordings (a view: nothing is written).
    left_out : tuple of (str, str)
        Each recording whose index record cannot be read, as (id, the one line saying why),
        in id order.
    n_listed : int
        How many recordings the index lists, the left-out ones included.
    """

    store: Store
    left_out: tuple[tuple[str, str], ...]
    n_listed: int


def split_readable(store: Store) -> Readable:
    """``store``'s recordings whose records build into a :class:`Recording` (every value checked,
    and where one is wrong, its group's copy compared), and the rest with their one-line
    problems, with those :attr:`Store.malformed` names (a store opened with
    ``leave_out_malformed``). Parses every record once (what :attr:`Store.recordings` costs);
    reads no sample."""
    left_out = list(store.malformed)
    for rid in store.index_rows():
        try:
            store.recording(rid)
        except StoreFormatError as exc:
            left_out.append((rid, str(exc)))
    kept = store.without(rid for rid, _ in left_out)
    return Readable(kept, tuple(sorted(left_out)), len(store) + len(store.malformed))
