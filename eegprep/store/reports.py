"""The ingest reports a store keeps (``_eegprep/reports/``): their file names, their order and
reading them.

An ingest writes one report per run (:meth:`~eegprep.store.writer.StoreWriter`, under the
store's lock), named by a sequence number so that the order never depends on the clock; every
reader (``eegprep stats``, ``validate``, :meth:`~eegprep.store.reader.Store.reports`) reads them
here, leaving out a damaged one with a line that names it.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from eegprep.base import strict_json
from eegprep.base.path_limits import described
from eegprep.base.sealed import seal_problem
from eegprep.store.fs import Location

REPORTS = ("_eegprep", "reports")
_REPORT_LISTS = ("failed", "unmatched")  # lists of lines that readers of a report print


_REPORT_NAME = re.compile(r"ingest-(\d{1,18})-\d{8}T\d{6}-\d+\.json", re.ASCII)


def report_order(name: str) -> tuple[int, str]:
    """Where the report file ``name`` stands among a store's reports: by the ingest's sequence
    number (``ingest-{n}-{UTC time}-{pid}.json``, one more than the last report's, written under
    the lock), not by the clock, which goes back (NTP, a fixed clock) and repeats a second
    under a process id a container gives every run; reports of earlier versions
    (``ingest-{UTC time}-{pid}.json``) first, by name."""
    m = _REPORT_NAME.fullmatch(name)
    return (int(m[1]) if m else 0, name)


def next_report_name(loc: Location) -> str:
    """A new report's file name (:func:`report_order`): the next sequence number, then the
    UTC time and process id, for people reading the folder."""
    seq = max((report_order(n)[0] for n in loc.list(*REPORTS)), default=0) + 1
    return time.strftime(f"ingest-{seq}-%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}.json"


def read_reports(loc: Location) -> tuple[list[dict[str, Any]], list[str]]:
    """The store's ingest reports, oldest first, and one line for each that is damaged (not
    strict JSON, not an object, or its lists of skipped files not lists of text). A report is
    a record of what an ingest did, not data: a damaged one is left out, never a crash."""
    reports: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        names = report_names(loc)
    except OSError as exc:
        return [], [f"{'/'.join(REPORTS)}: unreadable ({described(exc)})"]
    for name in names:
        doc, problem = read_report(loc, name)
        if problem:
            problems.append(problem)
        elif doc is not None:
            reports.append(doc)
    return reports, problems


def report_names(loc: Location) -> list[str]:
    """The names of the store's ingest reports, oldest first (a report set aside as damaged,
    :data:`DAMAGED_SUFFIX`, is none)."""
    return sorted((n for n in loc.list(*REPORTS) if n.endswith(".json")), key=report_order)


DAMAGED_SUFFIX = ".damaged"
"""What ``eegprep ingest --repair`` adds to the name of a damaged report it sets aside (in
the same folder: no reader reads it, nothing lists it)."""


def read_report(loc: Location, name: str) -> tuple[dict[str, Any] | None, str | None]:
    """The ingest report ``name`` of the store, or the line saying how it is damaged."""
    where = "/".join((*REPORTS, name))
    try:
        doc = strict_json.loads(loc.read_bytes(*REPORTS, name))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, f"{where}: damaged ingest report ({described(exc, named=True)})"
    if not isinstance(doc, dict):
        return None, f"{where}: damaged ingest report (a {type(doc).__name__}, not an object)"
    damaged = seal_problem(doc)
    if damaged:
        return None, f"{where}: damaged ingest report ({damaged})"
    bad = [
        k
        for k in _REPORT_LISTS
        if k in doc and not (isinstance(doc[k], list) and all(isinstance(x, str) for x in doc[k]))
    ]
    if bad:
        return None, f"{where}: damaged ingest report ({bad[0]!r} is not a list of text)"
    return doc, None
