"""Check the retired groups of a store and its retired list; report every problem on one line.

A retired group is a version a re-ingest, ``--prune`` or ``--repair`` replaced, kept unlisted
for readers of an older index until an ingest deletes it after ``--keep-replaced``
(:mod:`eegprep.store.retired_list`). :func:`retired_groups` reads the list
(``_eegprep/retired.json``); :func:`retired_group_problems` reads every byte of one group as
:func:`~eegprep.store.validate_recording.recording_problems` reads a listed recording, against
the sealed copy of the record it was listed with (``{group}/record.json``). Each of its lines
starts with :data:`RETIRED_PREFIX`, so that a damaged retired group names no listed recording.

Concurrency contract: read-only; safe while an ingest writes: a group it deletes meanwhile is
not reported (an ingest clears the group's checksum in the list before it deletes anything).
"""

from __future__ import annotations

from typing import Any

from eegprep.base import strict_json
from eegprep.base.path_limits import described
from eegprep.base.sealed import KEY, seal_problem
from eegprep.store.fs import Location
from eegprep.store.retired_list import (
    RECORD,
    RETIRED,
    RETIRED_REASONS,
    RetiredEntry,
    retired_entries,
)
from eegprep.store.validate_recording import MAX_LINES, REPAIR, recording_problems

RETIRED_PREFIX = "retired group "
NOT_REWRITTEN = "a retired version is not written again"


def retired_group_problems(
    loc: Location, group: str, *, record: str | None = None, notes: list[str] | None = None
) -> list[str] | None:
    """Everything wrong with the retired group ``group`` (a replaced or removed version that
    the index no longer lists, kept for readers of an older index), reading every byte of it
    as :func:`recording_problems` reads a listed recording. Each line starts ``retired group
    {group}``.

    Its record is the sealed copy the writer put in ``{group}/record.json`` when it retired it
    (the index record it was listed with), which its attributes must equal; without one (a
    group retired by an earlier version, or never listed: an orphan) its attributes are taken
    for its record, and only what the arrays repeat of them is checked. ``record``: the
    ``crc32c`` of that ``record.json`` as ``_eegprep/retired.json`` states it (its entry's
    third field; None when the entry says none was written, or is of an earlier version): a
    ``record.json`` that is missing then, or is another one, is damage.

    None when it holds nothing of a recording to check: the group is gone or being deleted (an
    ingest clears its entry's checksum, then deletes its ``record.json``, then its
    ``zarr.json``), holds no record (what a stopped ingest leaves of a group it never listed:
    no ``zarr.json``, or empty attributes), holds the record of neither its own id nor its own
    path (a group copied there: no version of anything), or was replaced because it was damaged
    (``--repair``: its ``record.json`` says so). A record that names this path and another id,
    or this id and another path, is damage (a flipped bit in ``id`` or ``group``).

    ``notes``: where to add the ``note:`` lines of attributes another program added to the
    group's ``zarr.json`` and its arrays', as a listed recording's are noted (none when the
    group is not checked). Without a ``record.json`` the group's attributes are its record:
    eegprep cannot tell one that another program added from a field of the version that wrote
    it, and says nothing of them (its arrays' are noted)."""
    found: list[str] = []
    lines = _retired_group_problems(loc, group, record, found)
    if lines is not None and notes is not None:
        notes += found
    return lines


def _retired_group_problems(
    loc: Location, group: str, record: str | None, notes: list[str]
) -> list[str] | None:
    name = f"{RETIRED_PREFIX}{group}"
    lines: list[str] = []
    kept = _retired_record(loc, group, name, lines, record)
    if kept is not None and kept.get("reason") == "repaired":
        return None  # its damage is known: --repair replaced it
    had_record = kept is not None or bool(lines)
    if record is not None and not had_record:  # the record.json it was retired with is gone
        if not _still_sealed(loc, group):
            return None  # its deletion began meanwhile: an ingest clears the checksum first
        if not loc.exists(group):
            return [f"{name}: missing, all of it ({'/'.join(RETIRED)} lists it with the "
                    f"checksum of the {RECORD} written when it was retired; a reader of an older "
                    "index fails on it)"]  # fmt: skip
        lines.append(f"{name}: {group}/{RECORD} missing ({'/'.join(RETIRED)} says it was "
                     "written when the group was retired: the sealed copy of the record it was "
                     "listed with, which its attributes are checked against)")  # fmt: skip
    try:
        blob: bytes | None = loc.read_bytes(group, "zarr.json")
    except FileNotFoundError:
        blob = None
    except OSError as exc:
        return [*lines, f"{name}: {group}/zarr.json unreadable ({described(exc, named=True)})"]
    if kept is not None:
        if blob is None:
            lines.append(f"{name}: {group}/zarr.json missing (the group's metadata; "
                         f"{group}/{RECORD} holds the record it was listed with)")  # fmt: skip
        else:
            listed_with = f"{group}/{RECORD} (the record it was listed with)"
            lines += recording_problems(
                loc, kept["record"], name=name, source=listed_with, notes=notes
            )
    elif blob is not None:
        found = _attributes_as_record(loc, group, name, blob, notes)
        if found is None and not lines:
            return None
        lines += found or []
    elif not lines:
        return None
    _removed_marker(loc, group, name, kept, lines)
    if not lines:
        return []
    if (had_record and not loc.exists(group, RECORD)) or (
        blob is not None and not loc.exists(group, "zarr.json")
    ):
        return None  # deleted while it was read: its time was up
    return [line.replace(REPAIR, NOT_REWRITTEN) for line in lines]


def _still_sealed(loc: Location, group: str) -> bool:
    """Whether ``_eegprep/retired.json``, read again, still lists ``group`` with the checksum
    of its ``record.json``: an ingest deleting the group clears it first, so a group whose
    deletion began after validate read the list is not taken for damage."""
    try:
        good, _bad = retired_entries(strict_json.loads(loc.read_bytes(*RETIRED)))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return any(e.group == group and e.record is not None for e in good)


def _retired_record(
    loc: Location, group: str, name: str, lines: list[str], sealed: str | None = None
) -> dict[str, Any] | None:
    """The sealed copy of a retired group's record (``{group}/record.json``), or None: absent,
    or damaged (a line in ``lines``): failing its own checksum, or (``sealed``, the checksum
    ``_eegprep/retired.json`` states for it) another record than the one written when the group
    was retired."""
    where = f"{group}/{RECORD}"
    try:
        doc = strict_json.loads(loc.read_bytes(group, RECORD))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        lines.append(f"{name}: {where} damaged ({described(exc, named=True)})")
        return None
    if not isinstance(doc, dict):
        lines.append(f"{name}: {where} damaged (not an object)")
        return None
    keys = {"record", "reason", KEY} | ({"damage"} if doc.get("reason") == "repaired" else set())
    problem = seal_problem(doc)
    if problem is None and KEY not in doc:
        problem = "it has no checksum"
    if problem is None and (set(doc) != keys or doc["reason"] not in RETIRED_REASONS):
        problem = f"keys {sorted(doc)}, reason {doc.get('reason')!r}"
    record = doc.get("record")
    if problem is None and not (isinstance(record, dict) and record.get("group") == group):
        problem = f"its record is not this group's (group {_group_of(record)!r})"
    if problem is None and sealed is not None and doc[KEY] != sealed:
        problem = (f"not the one written when the group was retired: its {KEY} is "
                   f"{doc[KEY]}, {'/'.join(RETIRED)} says {sealed}")  # fmt: skip
    if problem is not None:
        lines.append(f"{name}: {where} damaged ({problem})")
        return None
    return doc


def _removed_marker(
    loc: Location, group: str, name: str, kept: dict[str, Any] | None, lines: list[str]
) -> None:
    """A pruned group's ``removed.json`` (``{"id", "removed_at", "crc32c"}``; earlier versions
    wrote no checksum), which keeps it from being listed again: there when its ``record.json``
    says ``removed``, naming the group's id, its checksum passing."""
    from eegprep.store.writer import REMOVED

    where = f"{group}/{REMOVED}"
    try:
        doc = strict_json.loads(loc.read_bytes(group, REMOVED))
    except FileNotFoundError:
        if kept is not None and kept.get("reason") == "removed":
            lines.append(f"{name}: {where} missing (--prune wrote it, as {group}/{RECORD} "
                         "says: without it a later ingest may list the group again)")  # fmt: skip
        return
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        lines.append(f"{name}: {where} damaged ({described(exc, named=True)})")
        return
    corpus, version = group.split("/")[1:3]
    problem = seal_problem(doc) if isinstance(doc, dict) else "not an object"
    when = doc.get("removed_at") if isinstance(doc, dict) else None
    if problem is None and not (
        set(doc) - {KEY} == {"id", "removed_at"}
        and doc["id"] == f"{corpus}/{version.split('@')[0]}"
        and isinstance(when, int | float)
        and not isinstance(when, bool)
    ):
        problem = f"not the removal mark of this group: {doc}"
    if problem is not None:
        lines.append(f"{name}: {where} damaged ({problem})")


def _group_of(record: Any) -> Any:
    return record.get("group") if isinstance(record, dict) else None


def _attributes_as_record(
    loc: Location, group: str, name: str, blob: bytes, notes: list[str]
) -> list[str] | None:
    """A retired group without its ``record.json``: its attributes taken for its record; None
    for a group that holds none to check (:func:`retired_group_problems`)."""
    attrs: Any = None
    try:
        doc = strict_json.loads(blob)
        attrs = doc.get("attributes") if isinstance(doc, dict) else None
        what = "its attributes are not an object"
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        what = f"{described(exc)}"
    if not isinstance(attrs, dict):
        return [f"{name}: {group}/zarr.json damaged ({what})"]
    if not attrs:
        return None  # what a stopped ingest leaves: no record
    corpus, version = group.split("/")[1:3]
    own_id = attrs.get("id") == f"{corpus}/{version.split('@')[0]}"
    own_group = attrs.get("group") == group
    if not (own_id or own_group):
        return None  # copied there: no version of anything
    if not (own_id and own_group):
        wrong = "group" if own_id else "id"
        return [f"{name}: {group}/zarr.json damaged (its record's {wrong} is "
                f"{attrs.get(wrong)!r}, not this group's)"]  # fmt: skip
    return recording_problems(loc, attrs, name=name, notes=notes)


def retired_groups(loc: Location, problems: list[str]) -> dict[str, RetiredEntry]:
    """Groups of replaced versions, kept a while for readers holding an older index, each with
    its entry in ``_eegprep/retired.json``; a damaged list, or each damaged entry (at most
    :data:`MAX_LINES`), is a line in ``problems``."""
    if not loc.exists(*RETIRED):
        return {}
    try:
        good, bad = retired_entries(strict_json.loads(loc.read_bytes(*RETIRED)))
    except FileNotFoundError:  # (deleted since: an ingest's own replacement is a rename)
        return {}
    except (OSError, ValueError, RecursionError) as exc:  # (a folder, a FIFO: no file to read)
        problems.append(f"{'/'.join(RETIRED)}: damaged ({described(exc, named=True)})")
        return {}
    problems += [f"{'/'.join(RETIRED)}: damaged ({line}; the next ingest ignores it)"
                 for line in bad[:MAX_LINES]]  # fmt: skip
    return {e.group: e for e in good}
