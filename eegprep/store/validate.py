"""Check a store byte by byte against its own index; report every problem on one line.

:func:`check_store` (and :func:`validate`, its counts and lines) checks the store as a whole,
each part by the module whose job it is, in this order:

- the root group (:mod:`eegprep.store.validate_root`),
- the index, groups on disk that it does not list, and the bookkeeping files beside the
  recordings (:mod:`eegprep.store.validate_bookkeeping`),
- every listed recording, reading every byte of it (:func:`recording_problems`, in
  :mod:`eegprep.store.validate_recording`),
- the retired groups (versions a re-ingest or ``--prune`` replaced, kept for readers of an
  older index), read the same way, their lines apart (:func:`retired_group_problems`, in
  :mod:`eegprep.store.validate_retired`).

Dependencies go one way: this module imports the four; ``validate_bookkeeping`` and
``validate_retired`` import ``validate_recording``; ``validate_bookkeeping`` imports
``validate_retired`` (for the prefix of a retired group's lines). Every public name of the four
that callers use is importable from here.

Each problem is one line naming the recording id or the object; nothing raised while checking
escapes (it becomes a line too): a damaged store is reported, never a traceback. What is no
damage, a group that holds no record (what a stopped ingest leaves) or an attribute another
program added to a ``zarr.json``, is a note, apart (:attr:`Validation.notes`). Only misuse
raises: a location that holds no eegprep store at all, or one of a newer format.

Concurrency contract: read-only; safe while an ingest writes: groups it is committing and the
folder of a corpus it is starting are not reported while it holds the lock, a store it is
creating is a :class:`StoreNotFoundError` saying so, and a retired group it deletes meanwhile
is not reported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from eegprep.store.added_attrs import added_notes
from eegprep.store.consolidated import root_consolidated_note
from eegprep.store.fs import Location
from eegprep.store.group_attrs import holds_no_record
from eegprep.store.index import INDEX_DIR, record_segment
from eegprep.store.record_values import rate_problem
from eegprep.store.root_attrs import added_root_keys
from eegprep.store.validate_bookkeeping import (
    bookkeeping_problems,
    index_records,
    no_record_notes,
    same_source_problems,
    unlisted_groups,
)
from eegprep.store.validate_mends import with_mends
from eegprep.store.validate_recording import (
    BLOCK,
    MAX_LINES,
    REPAIR,
    recording_problems,
)
from eegprep.store.validate_retired import (
    NOT_REWRITTEN,
    RETIRED_PREFIX,
    retired_group_problems,
    retired_groups,
)
from eegprep.store.validate_root import LAYOUT, ROOT_KEYS, root_attributes

__all__ = [
    "BLOCK",
    "LAYOUT",
    "MAX_LINES",
    "NOT_REWRITTEN",
    "REPAIR",
    "RETIRED_PREFIX",
    "ROOT_KEYS",
    "Validation",
    "check_store",
    "recording_problems",
    "retired_group_problems",
    "validate",
]


@dataclass(frozen=True)
class Validation:
    """What :func:`check_store` found: ``checked`` listed recordings, ``retired`` retired
    groups checked, ``problems`` one line each (those of retired groups start with
    :data:`RETIRED_PREFIX`), and ``notes``, one line each about what is no damage: groups
    that hold no record (what a stopped ingest leaves), which the next ingest retires and
    later deletes, and attributes another program added to a group's or an array's
    ``zarr.json`` (:mod:`eegprep.store.added_attrs`) and files or folders it put in a
    recording group (:mod:`eegprep.store.group_members`), listed recordings' and retired
    groups' alike."""

    checked: int
    retired: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def retired_problems(self) -> list[str]:
        return [p for p in self.problems if p.startswith(RETIRED_PREFIX)]


def validate(url: str) -> tuple[int, list[str]]:
    """Check a whole store. Returns (recordings checked, problems: one line each), the
    problems of retired groups included (:func:`check_store`).

    Raises :class:`StoreNotFoundError` or :class:`StoreFormatError` only when ``url`` holds
    no eegprep store at all, or one of a format newer than this eegprep understands.
    """
    result = check_store(url)
    return result.checked, result.problems


def check_store(url: str) -> Validation:
    """Check a whole store: its listed recordings, its bookkeeping, and its retired groups
    (replaced versions kept for readers of an older index: :func:`retired_group_problems`),
    whose problems are lines of their own, each starting ``retired group {group}``. Groups
    that hold no record are no damage: each is a line of :attr:`Validation.notes`."""
    loc = Location.parse(url)
    problems: list[str] = []
    notes: list[str] = []
    attrs = root_attributes(loc, problems)
    loc.stop_if_refused()  # (the file system's refusal is no damage: the command stops)
    if attrs and not problems:  # (a damaged root's keys may be eegprep's, renamed)
        notes += added_notes("zarr.json", added_root_keys(attrs))
    records = index_records(loc, problems)
    problems += same_source_problems(records)
    if attrs:
        groups = [r.get("group") for r in records.values()]
        notes += root_consolidated_note(loc, [g for g in groups if isinstance(g, str)])
    retired = retired_groups(loc, problems)
    unlisted_groups(loc, records, set(retired), problems, notes)
    bookkeeping_problems(loc, records, problems, notes)
    loc.stop_if_refused()
    recipe_hash = attrs.get("recipe_hash") if attrs else None
    rate = attrs.get("sfreq") if attrs else None
    sfreq = float(rate) if rate is not None and rate_problem(rate, None) is None else None
    vocabulary = attrs.get("vocabulary") if attrs else None
    if not (isinstance(vocabulary, list) and all(isinstance(v, str) for v in vocabulary)):
        vocabulary = None  # (reported with the root; eegprep's)
    for record in records.values():
        loc.stop_if_refused()
        rid = record.get("id")
        source = functools.partial(_index_line, loc, rid)
        problems += recording_problems(
            loc, record, recipe_hash=recipe_hash, source=source, notes=notes, sfreq=sfreq,
            vocabulary=vocabulary,
        )  # fmt: skip
    listed = {r.get("group") for r in records.values()}
    n_retired, empty = 0, []
    for group in sorted(set(retired) - listed):  # (a listed one is checked above)
        found = retired_group_problems(loc, group, record=retired[group].record, notes=notes)
        if found is not None:
            n_retired += 1
            problems += found
        elif holds_no_record(loc, group):
            empty.append(group)
    notes += no_record_notes(empty, retired=True)
    loc.stop_if_refused()
    problems = with_mends(loc, problems, records)
    return Validation(len(records), n_retired, problems, notes)


def _index_line(loc: Location, rid: Any) -> str:
    """``the index record (in _eegprep/index/{segment})``: the segment of ``rid``'s line."""
    try:
        segment = record_segment(loc, str(rid))
    except (OSError, ValueError):
        segment = None
    return "the index record" + (f" (in {'/'.join(INDEX_DIR)}/{segment})" if segment else "")
