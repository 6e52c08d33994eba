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
from collections.abc import Mapping, Sequence
from typing import Any

import google_crc32c
import numpy as np

from eegprep.base.wording import counted

FIELD = "chunk_crc32c"
"""The record's key."""

TARGETS = "target_crc32c"
"""The record's key for the target series beside ``data`` (MoBI's joint angles): the CRC-32C
of each one's values, float32 little-endian in C order, by name. Zarr writes their chunks, each
with a CRC-32C of its bytes alone, and a target is small and always read whole, so one CRC of
all its values binds each chunk to its place (a chunk of another recording's target of the same
shape read as this one's) and to its recording."""

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
        return f"{FIELD} lists {counted(len(value) // 8, 'chunk')}, but data has {n_chunks}"
    return tuple(int(value[i : i + 8], 16) for i in range(0, len(value), 8))


def values_crc(values: np.ndarray) -> str:
    """The CRC-32C of ``values`` as float32 little-endian in C order, 8 hex digits."""
    blob = np.ascontiguousarray(values, dtype="<f4").reshape(-1).view(np.uint8)
    return f"{google_crc32c.value(blob):08x}"


def target_problem(listed: Any, name: str, values: np.ndarray) -> str | None:
    """What is wrong with target ``name``'s ``values`` against the record's ``target_crc32c``
    (``listed``; None: a record of an earlier version, which lists none), in words, else None."""
    if listed is None:
        return None
    if not isinstance(listed, Mapping) or not all(
        isinstance(v, str) and len(v) == 8 and _HEX.fullmatch(v) for v in listed.values()
    ):
        return f"{TARGETS} is not a table of 8 lower-case hex digits by target name (damaged)"
    if name not in listed:
        return f"{TARGETS} lists no CRC-32C for target {name!r} (damaged)"
    crc = values_crc(values)
    if crc != listed[name]:
        return (
            f"its values are not those its record lists (CRC-32C {crc}, listed {listed[name]}): "
            "rewritten since the ingest, or a chunk of another place or recording"
        )
    return None


__all__ = ["FIELD", "TARGETS", "listed", "parse", "target_problem", "values_crc"]
