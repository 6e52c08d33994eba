"""A store's root: its attributes read and checked, and what a folder without a root
``zarr.json`` holds (the beginning of a store, a lost root, a Zarr v2 copy).

The root group's attributes name the format and its version, the sampling rate, the unit, the
recipe and the channel vocabulary, under a checksum (docs/store-format.md). Every reader and
``validate`` read them through here before anything else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreAccessError, StoreFormatError, StoreNotFoundError
from eegprep.base.files import TMP_MARK
from eegprep.base.sealed import KEY as SEAL_KEY
from eegprep.base.sealed import seal_problem
from eegprep.base.write_errors import reason
from eegprep.store.added_attrs import foreign_keys
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR
from eegprep.store.lock_file import creating
from eegprep.store.record_values import root_value_problem

FORMAT = "eegprep-store"
FORMAT_VERSION = 1


def read_root_attrs(loc: Location) -> dict[str, Any] | None:
    """The root attributes when ``loc`` holds an eegprep store; ``None`` when nothing is there.

    Raises :class:`StoreFormatError` when something else is there.
    """
    if not loc.exists("zarr.json"):
        begun = begun_store(loc)
        if begun:
            raise StoreNotFoundError(begun)
        refuse_zarr_v2(loc)
        if root_lost(loc):
            raise StoreFormatError(
                f"{loc.named}: its root zarr.json is missing, but it holds an eegprep store's "
                "index or recordings (the root holds its recipe and format): restore zarr.json "
                "from a backup, or ingest into a new --out; `eegprep validate` lists the rest"
            )
        if loc.local and os.path.isdir(loc.root) and os.listdir(loc.root):
            raise StoreFormatError(
                f"{loc.named}: not an eegprep store (no zarr.json in a non-empty folder)"
            )
        return None
    try:
        meta = strict_json.loads_zarr_json(loc.read_bytes("zarr.json"), added_root_keys)
        attrs = meta.get("attributes", {})
    except (ValueError, AttributeError):
        raise StoreFormatError(
            f"{loc.named}: the root zarr.json is damaged (not a JSON object); run "
            "`eegprep validate` on it"
        ) from None
    except StoreAccessError:  # (the file system's refusal, not damage: its own line)
        raise
    except OSError as exc:  # (a zip file's member that fails its CRC-32: EIO)
        raise StoreFormatError(
            f"{loc.shown(loc.path('zarr.json'))}: the root zarr.json cannot be read "
            f"({reason(exc)}); run `eegprep validate` on the store"
        ) from None
    if not isinstance(attrs, dict) or attrs.get("format") != FORMAT:
        raise StoreFormatError(f"{loc.named}: a Zarr hierarchy, but not an eegprep store")
    if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
        raise StoreFormatError(
            f"{loc.named}: store format version {attrs['format_version']} is newer than this "
            f"eegprep understands ({FORMAT_VERSION}); upgrade eegprep"
        )
    return dict(attrs)


def refuse_zarr_v2(loc: Location) -> None:
    """Refuse, in one line, a Zarr v2 hierarchy (a root ``.zgroup``, no ``zarr.json``): one
    copied from an eegprep store with zarr-python's ``zarr_format=2`` has its names, but none of
    the Zarr v3 metadata eegprep's reads check (its lost root read as damage, each group as
    missing)."""
    if loc.exists(".zgroup") or loc.exists(".zattrs"):
        raise StoreFormatError(
            f"{loc.named}: a Zarr v2 hierarchy (.zgroup, no zarr.json), which eegprep does not "
            "read: an eegprep store is Zarr v3; ingest the corpus into a new store (`eegprep "
            "ingest CORPUS --out ...`)"
        )


_SKELETON = {"recordings/zarr.json", "_eegprep/zarr.json", "_eegprep/lock", "_eegprep/lock.flock"}
"""What an ingest creating a store writes before the root ``zarr.json``, which comes last."""


def unfinished_creation(loc: Location) -> bool:
    """True when the local store folder ``loc`` holds only what an ingest creating it writes
    before its root ``zarr.json`` (:data:`_SKELETON`).

    The root ``zarr.json`` is written last: without it, a folder that holds nothing but the
    skeleton's other objects (and temporary files of an interrupted write), or only the
    skeleton's empty folders (a kill right after the first ``mkdir``), is an unfinished
    store of ours, which the next ingest completes, or one an ingest is creating now.
    """
    if not loc.local or not os.path.isdir(loc.root):
        return False
    if os.path.exists(os.path.join(loc.root, "zarr.json")):
        return False
    found, folders = [], []
    for folder, _dirs, files in os.walk(loc.root):
        rel = os.path.relpath(folder, loc.root)
        if rel != "." and rel.split(os.sep)[0] not in ("recordings", "_eegprep"):
            return False
        folders += [rel] if rel != "." else []
        found += [os.path.normpath(os.path.join(rel, f)).replace(os.sep, "/") for f in files]
        if len(found) > 16:
            return False
    if not found:  # empty folders only: ours when they are the skeleton's
        return bool(folders) and set(folders) <= {"recordings", "_eegprep"}
    return all(f in _SKELETON or TMP_MARK in f for f in found)


def begun_store(loc: Location) -> str | None:
    """The line for a store ``loc`` that is begun and no more (no root ``zarr.json``): one a
    running ingest is creating now (:func:`~eegprep.store.lock_file.creating`), or what an
    ingest killed while creating it left (:func:`unfinished_creation`); None for anything else.
    Readers and ``validate`` say so, instead of 'not an eegprep store' or a missing root and
    groups as damage, while an ingest creates it."""
    live = creating(loc)
    if live is not None:
        return live
    if unfinished_creation(loc):
        return (
            f"{loc.named}: the beginning of a store and no more (what an ingest killed while "
            "creating it leaves): an ingest into it completes it"
        )
    return None


def root_lost(loc: Location) -> bool:
    """Whether ``loc``, which has no root ``zarr.json``, holds what only an eegprep store that
    had one holds: an index segment, or a corpus folder under ``recordings/`` (an interrupted
    creation leaves neither). Opening it, or ingesting into it as a new store (another recipe),
    would take a lost object for an empty store."""
    if any(n.endswith(".jsonl") for n in loc.list(*INDEX_DIR)):
        return True
    return any(n != "zarr.json" and TMP_MARK not in n for n in loc.list("recordings"))


_ROOT_TYPES = (("sfreq", (int, float)), ("recipe", dict), ("recipe_hash", str))
"""Root attributes a reader uses, and their JSON types."""


ROOT_KEYS = frozenset(
    ("format", "format_version", "sfreq", "unit", "recipe", "recipe_hash", "vocabulary",
     "eegprep_version", "layout")
)  # fmt: skip
"""The root's attributes (:func:`eegprep.store.writer.root_attrs`): the same keys in every
store of format version 1, and its checksum (``crc32c``) covers them."""


def added_root_keys(attrs: Mapping[str, Any]) -> list[str]:
    """The root attributes, sorted, that another program added (zarr-python's
    ``root.attrs["note"] = ...``): neither eegprep's nor its checksum, nor one bit from the name
    of one of them that is missing (a key renamed by damage). They are read past, not taken for
    damage, and the checksum does not cover them."""
    return foreign_keys(attrs, {*ROOT_KEYS, SEAL_KEY})


def root_seal_problem(attrs: Mapping[str, Any]) -> str | None:
    """Why the root's checksum does not vouch for eegprep's attributes (None: it does, or a
    store of an earlier version has none); attributes another program added are not covered."""
    added = set(added_root_keys(attrs))
    return seal_problem({k: v for k, v in attrs.items() if k not in added})


def refuse_damaged_root(loc: Location, attrs: dict[str, Any]) -> None:
    """Refuse a root whose attributes fail their checksum (a flipped bit that the JSON kept:
    ``sfreq`` 200 -> 600, a vocabulary name) or lack what a reader uses, in one line naming
    the file (stores written before the checksum have none: their keys are checked)."""
    problem = root_seal_problem(attrs)
    if problem is None:
        bad = [k for k, kind in _ROOT_TYPES if not isinstance(attrs.get(k), kind)]
        problem = f"{', '.join(bad)} missing or not of its type" if bad else None
    problem = problem or root_value_problem(attrs)
    if problem:
        raise StoreFormatError(
            f"{loc.shown(loc.path('zarr.json'))}: the root's attributes are damaged ({problem}); "
            f"`eegprep validate {loc.named}` names what is wrong"
        )
