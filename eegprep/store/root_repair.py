"""Repair of a store's root ``zarr.json`` (``eegprep ingest --repair``).

The root holds no recording: its attributes (format, version, rate, unit, recipe and its hash,
channel vocabulary, layout, the eegprep version that wrote them, and their checksum:
:func:`eegprep.store.writer.root_attrs`) all follow from the ingest's recipe. A damaged root
(zero-filled, cut short, not JSON, failing its checksum, an empty folder in its place) is
written again from it when the store's listed recordings state that recipe's hash: no other
recipe can be the store's, and the ``eegprep_version`` written is this one's. Attributes
another program added are kept where the damaged document still parses. When no listed
recording states a recipe, or they state another, or a folder holding anything is in its
place, nothing is written: one line says what to do.

Concurrency contract: :func:`opened_root` runs in the writer, which takes the store's lock
before it writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from eegprep.base import strict_json
from eegprep.base.errors import StoreFormatError, StoreNotFoundError
from eegprep.pipeline.recipe import ENCODINGS, Recipe
from eegprep.store.fs import Location
from eegprep.store.index import read_index_checked
from eegprep.store.root_attrs import (
    FORMAT,
    added_root_keys,
    read_root_attrs,
    root_lost,
    root_seal_problem,
)

ROOT = "zarr.json"


class StoreWriter(Protocol):
    """What :func:`opened_root` uses of :class:`eegprep.store.writer.StoreWriter`."""

    loc: Location
    recipe: Recipe
    repair: bool
    root_repaired: str | None

    def _lock(self) -> None: ...


def opened_root(
    writer: StoreWriter, make: Callable[[Recipe], dict[str, Any]]
) -> dict[str, Any] | None:
    """The store's root attributes (:func:`read_root_attrs`); with ``writer.repair``, a damaged root
    (:func:`root_damage`) is first written again as ``make`` gives it from ``writer.recipe``
    (:func:`eegprep.store.writer.root_attrs`) under the store's lock (its line put in
    ``writer.root_repaired``), or refused in one line saying what to do."""
    loc, repair = writer.loc, writer.repair
    try:
        attrs = read_root_attrs(loc)
    except StoreNotFoundError:
        raise
    except StoreFormatError:
        if not repair or root_damage(loc) is None:
            raise
        attrs = None
    damage = root_damage(loc) if repair else None
    if damage is None:
        return attrs
    writer._lock()  # (before the index is read: no other ingest changes it under us)
    recipe = _store_recipe(loc, writer.recipe)
    writer.recipe = recipe
    _clear_empty_folder(loc)
    kept = _kept_attrs(loc)
    new = {**make(recipe), **kept}
    loc.write_bytes(_document(new), ROOT)
    also = f" ({', '.join(sorted(kept))} kept)" if kept else ""
    writer.root_repaired = (
        f"{ROOT}: {damage}: written again from the recipe "
        f"{recipe.hash()} its recordings state{also}"
    )
    return new


def root_damage(loc: Location) -> str | None:
    """What is wrong with the root ``zarr.json`` of a store that holds an eegprep index or
    recordings (:func:`root_lost`), when ``--repair`` can write it again; None when it is
    sound, missing, or not a damaged eegprep root (another format, a newer version)."""
    path = loc.path(ROOT)
    if loc.local and os.path.isdir(path):
        return "a folder in its place" if root_lost(loc) else None
    if not loc.exists(ROOT) or not root_lost(loc):
        return None
    try:
        meta = strict_json.loads_zarr_json(loc.read_bytes(ROOT), added_root_keys)
    except (ValueError, OSError):
        return "not a JSON document (damaged: zero-filled, cut short or overwritten)"
    attrs = meta.get("attributes") if isinstance(meta, dict) else None
    if not isinstance(attrs, dict):
        return "no attributes (damaged)"
    if attrs.get("format") != FORMAT:
        return f"format {attrs.get('format')!r}, not {FORMAT!r} (damaged)"
    if meta.get("node_type") != "group" or meta.get("zarr_format") != 3:
        return "not a Zarr v3 group document (damaged)"
    problem = root_seal_problem(attrs)
    return f"its attributes are damaged ({problem})" if problem else None


def root_mendable(loc: Location, records: dict[str, dict[str, Any]]) -> bool:
    """Whether ``--repair`` writes the damaged root again (:func:`root_damage`): the listed
    ``records`` state one recipe's hash, and no folder holding anything is in its place."""
    if root_damage(loc) is None:
        return False
    path = loc.path(ROOT)
    if loc.local and os.path.isdir(path) and os.listdir(path):
        return False
    return len({r.get("recipe_hash") for r in records.values()} - {None}) == 1


def _store_recipe(loc: Location, recipe: Recipe) -> Recipe:
    """``recipe``, or it in the encoding the store's recordings state (an ``auto`` ingest into
    a store written in another), when its hash is the one every listed recording states;
    else one line saying what to do."""
    hashes = _stated_hashes(loc)
    found = stated_recipe(loc, recipe, hashes)
    if found is not None:
        return found
    where = f"{loc.shown(loc.path(ROOT))}: the root zarr.json is damaged and"
    if not hashes:
        raise StoreFormatError(
            f"{where} no listed recording states the store's recipe, so it cannot be written "
            "again: restore zarr.json from a backup, or ingest into a new --out"
        )
    stated = ", ".join(sorted(str(h) for h in hashes))
    raise StoreFormatError(
        f"{where} its recordings state recipe {stated}, not this ingest's {recipe.hash()}: run "
        "`eegprep ingest ... --repair` with the options the store was written with"
    )


def _stated_hashes(loc: Location) -> set[str]:
    """The recipe hashes the store's listed records state."""
    records, _problems = read_index_checked(loc)
    return {str(h) for h in (r.get("recipe_hash") for r in records.values()) if h is not None}


def stated_recipe(loc: Location, recipe: Recipe, hashes: set[str] | None = None) -> Recipe | None:
    """``recipe``, or it in another encoding where it names none (``auto``: as an ingest
    extends a store in the encoding it was written with), whose hash is the one every listed
    record of store ``loc`` states (``hashes``, read when not given); None when none is."""
    hashes = _stated_hashes(loc) if hashes is None else hashes
    tries = [recipe]
    if recipe.encoding == "auto":
        tries += [recipe.with_(encoding=e) for e in ENCODINGS if e != "auto"]
    return next((c for c in tries if hashes == {c.hash()}), None)


def _clear_empty_folder(loc: Location) -> None:
    """Remove an empty folder in the root document's place; refuse one holding anything (it
    may be a user's), in one line."""
    path = loc.path(ROOT)
    if not (loc.local and os.path.isdir(path)):
        return
    if os.listdir(path):
        raise StoreFormatError(
            f"{loc.shown(path)}: a folder in place of the store's root document, and it holds "
            "files: left alone (move it away, then `eegprep ingest ... --repair` writes the "
            "document again)"
        )
    os.rmdir(path)


def _kept_attrs(loc: Location) -> dict[str, Any]:
    """The attributes another program added to the damaged root, where it still parses."""
    try:
        meta = strict_json.loads_zarr_json(loc.read_bytes(ROOT), added_root_keys)
        attrs = meta["attributes"]
        return {k: attrs[k] for k in added_root_keys(attrs)}
    except (ValueError, OSError, KeyError, TypeError):
        return {}


def _document(attrs: dict[str, Any]) -> bytes:
    from eegprep.store.recording_writer import group_json

    return group_json(attrs)
