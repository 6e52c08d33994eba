"""The retired list (``_eegprep/retired.json``) and a retired group's sealed record.

A replaced or pruned recording's group is *retired*: kept, unlisted, for readers of an older
index until an ingest deletes it after ``--keep-replaced``. The list names each retired group,
when it was retired and, when the writer put the record it was listed with into the group
(``{group}/record.json``, sealed), that file's checksum: so a ``record.json`` lost later
(deleted, or replaced by another) is damage that ``eegprep validate`` reports, never taken for
a group that an earlier version retired without one (docs/store-format.md, Versions).

File layout: ``{"retired": [[group, time, record], ...], "crc32c": ...}``: ``time`` in seconds
since the epoch, ``record`` the group's ``record.json``'s own ``crc32c`` (8 hex digits: the
CRC-32C of its contents, :mod:`eegprep.base.sealed`), or null when the group holds none (an
orphan never listed). Rows of earlier versions have no
third field (``[group, time]``), and the earliest files are a bare list of them; both are read
as rows that say nothing of a ``record.json``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eegprep.base.errors import StoreFormatError
from eegprep.base.sealed import KEY, seal, seal_problem
from eegprep.store.group_path import check_group

RETIRED = ("_eegprep", "retired.json")
RECORD = "record.json"  # in a retired group: the record it was listed with (retired_record)
RETIRED_REASONS = ("replaced", "removed", "repaired")
_CHECKSUM = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class RetiredEntry:
    """One row of the retired list.

    Attributes
    ----------
    group : str
        The retired recording group (``recordings/{corpus}/{name}[@k]``).
    when : float
        When it was retired, seconds since the epoch.
    record : str or None
        8 hex digits: the ``crc32c`` of the ``record.json`` the group held when it was listed
        here (:func:`record_seal`). None: it held none (a group never listed), its deletion
        has begun, or the row is of an earlier version, which did not say.
    """

    group: str
    when: float
    record: str | None = None


def record_seal(blob: bytes) -> str | None:
    """The checksum a ``record.json`` (``blob``) states, its ``crc32c`` key (a
    :class:`RetiredEntry`'s ``record``); None when it is not a JSON object holding one."""
    try:
        doc = json.loads(blob)
    except (ValueError, RecursionError):
        return None
    value = doc.get(KEY) if isinstance(doc, dict) else None
    return value if isinstance(value, str) and _CHECKSUM.fullmatch(value) else None


def retired_document(entries: Iterable[RetiredEntry]) -> bytes:
    """``_eegprep/retired.json`` (module docstring), rows sorted by group; the checksum
    (:mod:`eegprep.base.sealed`) lets ``validate`` find a flipped digit of a time, a letter of
    a group or of a record's checksum."""
    rows = [[check_group(e.group), e.when, e.record] for e in sorted(entries, key=_by_group)]
    return json.dumps(seal({"retired": rows}), allow_nan=False).encode()


def _by_group(entry: RetiredEntry) -> tuple[str, float]:
    return entry.group, entry.when


def retired_entries(doc: Any) -> tuple[list[RetiredEntry], list[str]]:
    """The valid rows of ``_eegprep/retired.json`` (:func:`retired_document`, the two-field
    rows of earlier versions, or the bare list of them that the first versions wrote), and a
    line for each other row (not a recording group path of this store, no finite time, or a
    third field that is not a checksum or null). When the file's checksum fails no row is
    trusted: the groups they stood for are found again as unlisted groups."""
    if isinstance(doc, dict):
        problem = seal_problem(doc)
        if problem is None and set(doc) != {"retired", KEY}:
            problem = f"keys {sorted(doc)} are not 'retired' and {KEY!r}"
        if problem is not None:
            return [], [problem]
        doc = doc["retired"]
    rows = doc
    if not isinstance(rows, list):
        return [], [f"not a list of [group, time, record] ({type(rows).__name__})"]
    good, bad = [], []
    for row in rows:
        entry = _retired_row(row)
        if entry is None:
            bad.append(f"entry {row!r} is not a recording group, a time and a record checksum")
        else:
            good.append(entry)
    return good, bad


def _retired_row(row: Any) -> RetiredEntry | None:
    if not (isinstance(row, list) and len(row) in (2, 3)):
        return None
    group, when = row[:2]
    record = row[2] if len(row) == 3 else None
    number = isinstance(when, int | float) and not isinstance(when, bool)
    if not (isinstance(group, str) and number and math.isfinite(when)):
        return None
    if not (record is None or (isinstance(record, str) and _CHECKSUM.fullmatch(record))):
        return None
    try:
        check_group(group)
    except StoreFormatError:
        return None
    return RetiredEntry(group, float(when), record)


def retired_record(record: dict[str, Any], reason: str, damage: list[str] | None = None) -> bytes:
    """A retired group's :data:`RECORD`: ``{"record": the index record it was listed with,
    "reason": "replaced" | "removed" (--prune) | "repaired" (replaced by --repair, ``damage``
    the problems found), "crc32c"}``. Its attributes are the only other copy of the record once
    the index lists another version: a flipped label or hash in them is found by this one."""
    doc: dict[str, Any] = {"record": record, "reason": reason}
    if reason == "repaired":
        doc["damage"] = [str(line) for line in (damage or [])[:20]]
    return json.dumps(seal(doc), sort_keys=True, allow_nan=False).encode()
