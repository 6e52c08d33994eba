"""Which of ``eegprep validate``'s problem lines ``eegprep ingest --repair`` mends, said on
the line itself (:data:`MENDS`), and only those: the root ``zarr.json`` written again from the
recipe its recordings state (:mod:`eegprep.store.root_repair`), a group document that holds
no recording written again and a damaged ingest report set aside
(:mod:`eegprep.store.group_repair`: not where a folder, FIFO or link is in its place), an index
segment emptied or lost, or a line of one that is no JSON (the ingest lists the recordings they
listed again from their complete groups), the index's last segment lost (the same), a damaged
index head and a stale fields file (written again). Each is
checked by a test that damages a store, runs ``validate``, ``--repair``, and ``validate`` again
(``tests/safety/test_validate_mends.py``).
"""

from __future__ import annotations

import re
from typing import Any

from eegprep.store.fs import Location
from eegprep.store.group_repair import no_file
from eegprep.store.index import INDEX_DIR
from eegprep.store.index_head import HEAD
from eegprep.store.root_repair import root_mendable
from eegprep.store.validate_bookkeeping import group_documents

MENDS = " (`eegprep ingest ... --repair` mends this)"
"""The end of a problem line that ``--repair`` mends."""

_INDEX_MENDED = re.compile(
    re.escape("/".join(INDEX_DIR))
    + r"/[0-9]{10}\.(jsonl(: empty |( to [0-9]{10}\.jsonl)? missing: "
    + r"|: not the segment the last commit wrote | line [0-9]+: not valid JSON )"
    + r"|fields: does not match )"
)
"""An index segment emptied, or missing (between others, the base before them, or the last
one, which the index's head names), or cut short or replaced (:mod:`eegprep.store.index_head`),
a line of one that is no JSON (its recording listed again from its group), a fields file that
does not match its base (the ingest's compaction writes it again)."""

_REPORT = re.compile(r"(_eegprep/reports/[^ /]+): damaged ingest report ")
"""A damaged ingest report, which ``--repair`` sets aside (not a folder or FIFO there)."""


def with_mends(loc: Location, problems: list[str], records: dict[str, dict[str, Any]]) -> list[str]:
    """``problems`` with :data:`MENDS` at the end of each line ``--repair`` mends in store
    ``loc`` (``records``: the listed records, which state the recipe the root is written
    from)."""
    root = root_mendable(loc, records)
    docs = tuple(
        f"{'/'.join((*parts, 'zarr.json'))}: "
        for parts, _attrs in group_documents(loc)
        if no_file(loc, (*parts, "zarr.json")) is None
    )
    return [
        p + MENDS
        if (root and p.startswith("zarr.json: damaged"))
        or p.startswith(docs)
        or _INDEX_MENDED.match(p)
        or (p.startswith(f"{'/'.join(HEAD)}: damaged ") and no_file(loc, HEAD) is None)
        or _report_set_aside(loc, p)
        else p
        for p in problems
    ]


def _report_set_aside(loc: Location, line: str) -> bool:
    """Whether ``line`` names a damaged ingest report that ``--repair`` sets aside: a file."""
    found = _REPORT.match(line)
    return found is not None and no_file(loc, tuple(found.group(1).split("/"))) is None
