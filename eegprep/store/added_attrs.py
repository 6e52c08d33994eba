"""Attributes another program added to a ``zarr.json`` of the store: which keys they are, the
document without them, and the ``note:`` line that names them.

zarr-python's ``node.attrs["x"] = ...`` and xarray (``_ARRAY_DIMENSIONS``) rewrite a group's or
an array's ``zarr.json`` with one more key in its ``attributes``. eegprep reads past such a key:
it is left out wherever a document is compared with the one eegprep wrote, and ``eegprep
validate`` names it on a note line, not as damage. A key of eegprep's that a flipped bit renamed
is missing where eegprep looks for it, and the renamed key (one bit from it) is not taken for an
added one: damage.

The attributes eegprep writes on each array of a recording group are :data:`ARRAY_KEYS`
(``tests/eegprep/test_shards.py`` checks them against the documents the writer makes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from eegprep.base import strict_json
from eegprep.base.field_text import listed_text
from eegprep.base.sealed import one_bit_apart

ARRAY_KEYS: dict[str, frozenset[str]] = {
    "data": frozenset({"units", "sampling_rate", "encoding", "quantum_uv"}),
    "channel": frozenset(),
    "time": frozenset({"units", "scale_factor", "long_name"}),
}
"""The attribute keys eegprep may write on each array of a recording group, by the array's
name; a target series (any other name: ``joints``) gets none."""


def array_keys(name: str) -> frozenset[str]:
    """The attribute keys eegprep may write on the array ``name`` of a recording group."""
    return ARRAY_KEYS.get(name, frozenset())


def foreign_keys(found: Mapping[str, Any], ours: Collection[str]) -> list[str]:
    """The keys of ``found`` (a ``zarr.json``'s attributes), sorted, that another program added
    beside eegprep's ``ours``: not one of ``ours``, nor one bit from one of ``ours`` that
    ``found`` lacks (``unitr`` for a missing ``units``: a key renamed by damage)."""
    lost = [k for k in ours if k not in found]
    return sorted(k for k in found if k not in ours and not any(one_bit_apart(k, m) for m in lost))


def without_added(blob: bytes, ours: Collection[str]) -> tuple[Any, list[str]]:
    """A ``zarr.json`` (``blob``) parsed as :func:`~eegprep.base.strict_json.loads_zarr_json`
    parses it (a NaN in an added attribute read past), with the attributes another program
    added beside eegprep's ``ours`` taken out; and those keys, sorted. A document without an
    ``attributes`` object is returned whole, with no keys.

    Raises what :func:`~eegprep.base.strict_json.loads_zarr_json` raises: ``ValueError`` (not
    JSON, or not strict JSON outside the added attributes), ``UnicodeDecodeError``."""
    doc = strict_json.loads_zarr_json(blob, lambda a: foreign_keys(a, ours))
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    if not isinstance(attrs, dict):
        return doc, []
    added = foreign_keys(attrs, ours)
    if added:
        doc = {**doc, "attributes": {k: v for k, v in attrs.items() if k not in added}}
    return doc, added


SHOWN_KEY_CHARS = 80
"""The most characters of one added key a line shows (another program's keys are unbounded:
one of 100,000 characters made a ``note:`` line of 100 kB)."""


def shown_keys(keys: list[str], most: int = 8) -> str:
    """``a, b, c`` (the first ``most`` of ``keys``, then ``and N more``), each cut to
    :data:`SHOWN_KEY_CHARS` characters (ending in ``...``) and listed by
    :func:`~eegprep.base.field_text.listed_text` (a key ``a, b`` is quoted, never two keys)."""

    def one(key: str) -> str:
        cut = key if len(key) <= SHOWN_KEY_CHARS else key[: SHOWN_KEY_CHARS - 3] + "..."
        return listed_text(cut)

    more = f" and {len(keys) - most} more" if len(keys) > most else ""
    return ", ".join(one(k) for k in keys[:most]) + more


def added_notes(where: str, keys: list[str]) -> list[str]:
    """A ``note:`` line (none when ``keys`` is empty) about attributes another program added
    to ``where``: eegprep reads past them, and they are no damage."""
    if not keys:
        return []
    return [f"{where}: attribute{'s' if len(keys) > 1 else ''} {shown_keys(keys)} added by "
            "another program (not eegprep's): ignored, not damage"]  # fmt: skip
