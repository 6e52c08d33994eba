"""Repair of the store's bookkeeping documents (``eegprep ingest --repair``): the ``zarr.json``
of ``recordings``, of ``_eegprep`` and of each corpus group written again, and a damaged ingest
report set aside.

These group documents hold no recording: their whole content is fixed (the group eegprep
writes, with its fixed attributes), so a damaged one (a flipped bit, cut, zero-filled, deleted)
can be written again exactly, and nothing below it changes. Attributes another program added
to one (zarr-python's ``group.attrs["x"] = 1``) are kept when the damaged document still parses;
when it does not, its line says they could not be kept. An ingest report is history, not data:
a damaged one is renamed with :data:`~eegprep.store.reports.DAMAGED_SUFFIX` in its folder (no
reader reads it, ``validate`` does not judge it), never deleted. A folder, FIFO or link at a
document's place is a line and is left alone (it may be a user's).

Without ``--repair`` nothing is changed: one line says what ``--repair`` would do for the
group documents (the reports are read only under ``--repair``: they may hold many megabytes, and
``eegprep validate`` names a damaged one).

Concurrency contract: :func:`repair_bookkeeping` runs in the writer holding the store's lock.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from eegprep.base.wording import counted
from eegprep.store.added_attrs import foreign_keys, shown_keys
from eegprep.store.fs import Location
from eegprep.store.reports import DAMAGED_SUFFIX, REPORTS, read_report, report_names
from eegprep.store.validate_bookkeeping import group_doc_problem, group_documents

METADATA = "(store metadata)"
"""The ingest report's key for the lines of :func:`repair_bookkeeping`."""

_LEFT = "left alone (move it away, then `eegprep ingest ... --repair` writes the document again)"


def repair_bookkeeping(loc: Location, *, repair: bool) -> list[str]:
    """Write again each damaged group document that holds no recording and set aside each
    damaged ingest report (``repair``), one line each; without ``repair`` one line saying
    what it would do for the group documents (none when all is sound; the reports unread).
    A folder, FIFO or link in such a document's place: one line, left alone."""
    lines: list[str] = []
    pending: list[str] = []
    for parts, attrs in group_documents(loc):
        problem = group_doc_problem(loc, parts, attrs)
        if problem is None:
            continue
        where = "/".join((*parts, "zarr.json"))
        what = no_file(loc, (*parts, "zarr.json"))
        if what:
            lines.append(f"{where}: {what} in place of the group's document: {_LEFT}")
        elif not repair:
            pending.append(where)
        else:
            blob, kept = _group_blob(loc, parts, attrs)
            loc.write_bytes(blob, *parts, "zarr.json")
            lines.append(f"{problem}: written again as eegprep writes it{kept}")
    if repair:  # (a plain ingest reads no report: a store's reports may hold many MB)
        lines += _reports(loc, repair, pending)
    if pending:
        lines.append(
            f"{counted(len(pending), 'damaged bookkeeping document')} ({pending[0]}"
            f"{', ...' if len(pending) > 1 else ''}): `eegprep ingest ... --repair` writes "
            "each group document again and sets each damaged ingest report aside"
        )
    return lines


def _reports(loc: Location, repair: bool, pending: list[str]) -> list[str]:
    """Set aside each damaged ingest report (``repair``; else each is put in ``pending``),
    a line each; a folder or FIFO at a report's place is a line, left alone."""
    lines = []
    try:
        names = report_names(loc)
    except OSError:
        return []  # (validate names a folder it cannot list; nothing to set aside)
    for name in names:
        _, problem = read_report(loc, name)
        if problem is None:
            continue
        where = "/".join((*REPORTS, name))
        what = no_file(loc, (*REPORTS, name))
        if what:
            lines.append(f"{where}: {what} in place of an ingest report: left alone")
        elif not repair:
            pending.append(where)
        else:
            aside = _aside_name(loc, name)
            loc.rename((*REPORTS, name), (*REPORTS, aside))
            lines.append(
                f"{problem}: set aside as {aside} (a record of an earlier ingest, not data; "
                "no reader reads it now)"
            )
    return lines


def _aside_name(loc: Location, name: str) -> str:
    """A name in the reports folder for the damaged report ``name`` that nothing holds."""
    taken = set(loc.list(*REPORTS))
    aside, n = name + DAMAGED_SUFFIX, 1
    while aside in taken:
        n += 1
        aside = f"{name}{DAMAGED_SUFFIX}.{n}"
    return aside


def no_file(loc: Location, parts: tuple[str, ...]) -> str | None:
    """What lies at ``parts`` when it is there and no regular file (``a folder``, ``a FIFO``,
    ``a symbolic link``, ``no regular file``); None when it is a file or missing."""
    path = loc.path(*parts)
    if not loc.local:
        return "a folder" if loc.fs.isdir(path) else None
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "a symbolic link" if stat.S_ISLNK(mode) else "no regular file"


def _group_blob(loc: Location, parts: tuple[str, ...], attrs: dict[str, Any]) -> tuple[bytes, str]:
    """The group document eegprep writes at ``parts`` (attributes ``attrs``) with the
    attributes another program added to the damaged one, where it still parses; and the end
    of the repair's line saying which were kept, or that they could not be read."""
    lost = "; it could not be read, so attributes another program may have added are not kept"
    try:  # (Python's json, as zarr-python's: an added attribute's NaN is read as it is)
        old = json.loads(loc.read_bytes(*parts, "zarr.json"))
        found = old.get("attributes") if isinstance(old, dict) else None
    except FileNotFoundError:
        found, lost = {}, ""
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        found = None
    added = foreign_keys(found, attrs) if isinstance(found, dict) else []
    kept = {k: found[k] for k in added} if isinstance(found, dict) else {}
    meta = {"zarr_format": 3, "node_type": "group", "attributes": {**kept, **attrs}}
    blob = json.dumps(meta, sort_keys=True).encode()
    if not isinstance(found, dict):
        return blob, lost
    said = f"; {shown_keys(added)} (added by another program) kept" if added else ""
    return blob, said
