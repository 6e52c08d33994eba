"""Which of ``eegprep validate``'s problem lines ``eegprep ingest --repair`` mends, said on
the line itself (:data:`MENDS`), and only those: the root ``zarr.json`` written again from the
recipe its recordings state (:mod:`eegprep.store.root_repair`), a group document that holds
no recording written again (:mod:`eegprep.store.group_repair`: not where a folder, FIFO or
link is in its place), and an index segment emptied or lost (the ingest lists the recordings
it listed again from their complete groups). Each is checked by a test that damages a store,
runs ``validate``, ``--repair``, and ``validate`` again (``tests/safety/test_validate_mends.py``).
"""

from __future__ import annotations

import re
from typing import Any

from eegprep.store.fs import Location
from eegprep.store.group_repair import no_file
from eegprep.store.index import INDEX_DIR
from eegprep.store.root_repair import root_mendable
from eegprep.store.validate_bookkeeping import group_documents

MENDS = " (`eegprep ingest ... --repair` mends this)"
"""The end of a problem line that ``--repair`` mends."""

_INDEX_MENDED = re.compile(
    re.escape("/".join(INDEX_DIR))
    + r"/[0-9]{10}\.jsonl(: empty |( to [0-9]{10}\.jsonl)? missing: )"
)
"""An index segment emptied, or missing (between others, or the base before them)."""


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
        else p
        for p in problems
    ]
