"""Zarr's consolidated metadata in a store's groups: read past, named by ``validate``, removed
by the next ingest.

``zarr.consolidate_metadata(store)`` (or ``path=...`` for one group) rewrites a group's
``zarr.json`` with a ``consolidated_metadata`` key: a copy of the metadata of every node below
it, which zarr-python and xarray then trust instead of listing the store (a node missing from
the copy is not found: ``KeyError: '...' not found in consolidated metadata``). eegprep never
writes it and never reads it. It is no damage: every reader reads past it, and ``eegprep
validate`` names it on a ``note:`` line (saying when it no longer lists a recording the index
lists). An ingest changes what lies below the root, ``recordings`` and each corpus group, so
before anything else it writes those groups' ``zarr.json`` again without the key (whole, under a
temporary name, renamed); a recording group's copy stays (its members never change). Run
``zarr.consolidate_metadata`` again after the ingest to have it back.

Concurrency contract: :func:`drop_consolidated` runs in the writer holding the store's lock;
the rest only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreAccessError
from eegprep.base.wording import counted
from eegprep.store.fs import Location

KEY = "consolidated_metadata"
"""The key zarr-python's ``consolidate_metadata`` adds to a group's ``zarr.json``."""

_FORM = frozenset({"kind", "must_understand", "metadata"})


def is_zarrs(value: Any) -> bool:
    """Whether ``value`` (a group document's :data:`KEY`) is what zarr-python writes there:
    ``null`` (a group it created) or ``{"kind": "inline", "must_understand": false,
    "metadata": {...}}``. Anything else is no zarr's: damage where it is found."""
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and set(value) <= _FORM
        and value.get("kind") == "inline"
        and value.get("must_understand", False) is False
        and isinstance(value.get("metadata"), dict)
    )


def without_consolidated(doc: Any) -> tuple[Any, dict[str, Any] | None]:
    """A group's parsed ``zarr.json`` without zarr's consolidated metadata, and that metadata's
    node documents by path (None when it holds none, or ``null``). A value of another form
    stays in the document (which then differs from the one eegprep wrote: damage)."""
    if not isinstance(doc, dict) or KEY not in doc or not is_zarrs(doc[KEY]):
        return doc, None
    value = doc[KEY]
    rest = {k: v for k, v in doc.items() if k != KEY}
    return rest, (value["metadata"] if value is not None else None)


def consolidated_note(where: str, nodes: Mapping[str, Any], expected: Iterable[str] = ()) -> str:
    """The ``note:`` line for zarr's consolidated metadata in ``where`` (a ``zarr.json``),
    listing ``nodes`` by path from its group; ``expected``: the paths (from that group) of
    groups the index lists below it, each of which a current copy lists."""
    lacking = sorted(p for p in expected if p not in nodes)
    state = (
        f"stale: it lacks {len(lacking)} listed recording group"
        f"{'s' if len(lacking) > 1 else ''} ({lacking[0]}{', ...' if len(lacking) > 1 else ''}), "
        "which zarr and xarray readers trusting it do not find"
        if lacking
        else f"{counted(len(nodes), 'node')}"
    )
    return (
        f"{where}: zarr's consolidated metadata ({state}), added by zarr.consolidate_metadata, "
        "not eegprep: read past, not damage (an ingest removes it from the root, recordings "
        "and corpus groups, whose members it changes)"
    )


def root_consolidated_note(loc: Location, listed_groups: Iterable[str]) -> list[str]:
    """The note for the root's consolidated metadata (none when it holds none), stale when it
    lacks a group the index lists (``listed_groups``, paths from the store root)."""
    try:
        doc = strict_json.loads_zarr_json(loc.read_bytes("zarr.json"), lambda a: list(a))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return []  # (the root's own check reports it)
    _, nodes = without_consolidated(doc)
    return [] if nodes is None else [consolidated_note("zarr.json", nodes, listed_groups)]


def container_groups(loc: Location) -> list[tuple[str, ...]]:
    """The groups whose members an ingest changes: the root, ``recordings`` and each corpus
    group (paths from the store root, as parts)."""
    corpora = [
        ("recordings", name)
        for name in loc.list("recordings")
        if name != "zarr.json" and loc.exists("recordings", name, "zarr.json")
    ]
    return [(), ("recordings",), *corpora]


def drop_consolidated(loc: Location) -> list[str]:
    """Write each of :func:`container_groups`'s ``zarr.json`` that holds zarr's consolidated
    metadata again without it (every other key kept as it was); the paths written. Writer only,
    before its first change to the store: a copy left in place would go stale with it."""
    dropped = []
    for parts in container_groups(loc):
        try:  # (Python's json, as zarr-python's: an added attribute's NaN is kept as it is)
            doc = json.loads(loc.read_bytes(*parts, "zarr.json"))
        except StoreAccessError:  # (the file system's refusal: the ingest stops with it)
            raise
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            continue  # (missing or damaged: validate's, and the ingest's own checks)
        rest, _ = without_consolidated(doc)
        if rest is doc:  # (none there, or a value of no zarr's: left for validate to name)
            continue
        loc.write_bytes(json.dumps(rest, sort_keys=True).encode(), *parts, "zarr.json")
        dropped.append("/".join((*parts, "zarr.json")))
    return dropped
