"""Each stored chunk's CRC-32C, listed by its place in the recording's record.

A chunk's CRC-32C (the last four bytes zarr's ``crc32c`` codec appends) vouches for its bytes,
not for where they lie: a whole shard of another recording of the same channel count and
chunk count (a copy or sync tool that mixed up two files, a restore from the wrong backup),
or a chunk moved within its shard under a rewritten index, passes every checksum and was
read, and passed ``eegprep validate``, as the samples of this place. So an ingest lists
every chunk's CRC-32C in order in the record (``chunk_crc32c``: 8 hex digits per chunk of
``data``, the first chunk first); a reader compares each chunk's own CRC with the one listed
for its place, at no cost beyond the four bytes it already reads. Records of versions before
this one list none: their chunks are checked by their own CRC alone, as before.

:func:`listed` makes the field from the CRCs the shard writer kept; :func:`parse` reads it
back for an array of ``n_chunks`` chunks, or says in words why it cannot be.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

FIELD = "chunk_crc32c"
"""The record's key."""

_HEX = re.compile(r"[0-9a-f]*")


def listed(crcs: Sequence[int]) -> str:
    """The field's value for chunks whose CRC-32C values are ``crcs``, in order."""
    return "".join(f"{crc:08x}" for crc in crcs)


def parse(value: Any, n_chunks: int) -> tuple[int, ...] | str:
    """The CRC-32C of each of ``n_chunks`` chunks that ``value`` (the record's field) lists,
    or what is wrong with it, in words for one line."""
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 8:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return f"{FIELD} {shown} is not 8 lower-case hex digits per chunk"
    if len(value) != 8 * n_chunks:
        return f"{FIELD} lists {len(value) // 8} chunks, but data has {n_chunks}"
    return tuple(int(value[i : i + 8], 16) for i in range(0, len(value), 8))


__all__ = ["FIELD", "listed", "parse"]
