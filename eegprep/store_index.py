"""The store's consolidated index: append-only JSON-lines segments, compacted now and then.

Each commit writes one new segment object (``_eegprep/index/{seq:010d}.jsonl``): O(batch) work,
never a rewrite of one ever-growing file (zarr's consolidated metadata does that, which is
quadratic over a long ingest). Opening a store reads the newest *base* segment and the segments
after it: a handful of objects whatever the number of recordings. Compaction writes a new base
holding every live record, sorted by id (so the final bytes do not depend on completion order),
deletes the older segments, and renames the base to ``0000000001.jsonl`` (so they do not depend
on the commit history either).

A record is a JSON object with at least ``id``; a later record with the same id replaces an
earlier one; ``{"id": ..., "deleted": true}`` removes one.

Concurrency contract: one writer at a time (the store's lock); any number of readers. A reader
that finds a segment deleted under it (compaction) lists again.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from eegprep.store_fs import Location

INDEX_DIR = ("_eegprep", "index")
_BASE_MARK = {"_base": True}
COMPACT_AFTER = 64  # segments beyond the base before a commit compacts
BASE_NAME = f"{1:010d}.jsonl"  # where a compacted base ends up


def _segments(loc: Location) -> list[str]:
    return [n for n in loc.list(*INDEX_DIR) if n.endswith(".jsonl")]


def _parse(blob: bytes) -> tuple[bool, list[dict[str, Any]]]:
    lines = blob.decode("utf-8").splitlines()
    if not lines:
        return False, []
    first = json.loads(lines[0])
    is_base = first == _BASE_MARK
    body = [line for line in lines[1 if is_base else 0 :] if line.strip()]
    rows = orjson.loads("[" + ",".join(body) + "]")  # one parse of the whole segment
    return is_base, rows


def read_index(loc: Location) -> dict[str, dict[str, Any]]:
    """Every live record, keyed by id, in id order."""
    for _attempt in range(5):
        try:
            return _read_once(loc)
        except FileNotFoundError:  # a compaction removed a segment while we read
            continue
    return _read_once(loc)


def _read_once(loc: Location) -> dict[str, dict[str, Any]]:
    names = _segments(loc)
    # newest base first: everything before it is superseded
    start = 0
    blobs: dict[str, bytes] = {}
    for i in range(len(names) - 1, -1, -1):
        blob = loc.read_bytes(*INDEX_DIR, names[i])
        blobs[names[i]] = blob
        if blob.startswith(b'{"_base": true}'):
            start = i
            break
    records: dict[str, dict[str, Any]] = {}
    for name in names[start:]:
        blob = blobs.get(name) or loc.read_bytes(*INDEX_DIR, name)
        _, rows = _parse(blob)
        for row in rows:
            if row.get("deleted"):
                records.pop(row["id"], None)
            else:
                records[row["id"]] = row
    return dict(sorted(records.items()))


def _next_seq(names: list[str]) -> int:
    return int(names[-1].split(".")[0]) + 1 if names else 1


def _dump(rows: list[dict[str, Any]], base: bool) -> bytes:
    lines = [json.dumps(_BASE_MARK)] if base else []
    lines += [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def append(loc: Location, rows: list[dict[str, Any]]) -> None:
    """Commit records as one new segment; compact when segments pile up. Writer only."""
    if not rows:
        return
    names = _segments(loc)
    loc.write_bytes(_dump(rows, base=False), *INDEX_DIR, f"{_next_seq(names):010d}.jsonl")
    if len(names) + 1 > COMPACT_AFTER:
        compact(loc)


def compact(loc: Location) -> None:
    """Rewrite the index as one sorted base segment and delete the older ones. Writer only."""
    names = _segments(loc)
    records = read_index(loc)
    if len(names) == 1 and loc.read_bytes(*INDEX_DIR, names[0]).startswith(b'{"_base": true}'):
        return
    newest = f"{_next_seq(names):010d}.jsonl"
    loc.write_bytes(_dump(list(records.values()), base=True), *INDEX_DIR, newest)
    for name in names:
        loc.remove(*INDEX_DIR, name)
    # A canonical name, so that a store's bytes do not depend on its commit history (a killed
    # and resumed ingest ends byte-identical to an uninterrupted one).
    loc.rename((*INDEX_DIR, newest), (*INDEX_DIR, BASE_NAME))
