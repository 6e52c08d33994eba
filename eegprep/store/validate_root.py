"""Check a store's root group (``zarr.json``): an eegprep store, of a format this eegprep reads,
whose attributes agree with each other and with the store format.

:func:`root_attributes` is the first thing ``eegprep validate`` reads
(:mod:`eegprep.store.validate`): it tells a store that is damaged (a line) from a location that
holds no eegprep store, or one of a newer format (raised: misuse, not damage).

Concurrency contract: read-only; the root's ``zarr.json`` is written once, when the store is
created.
"""

from __future__ import annotations

import os
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreFormatError, StoreNotFoundError
from eegprep.base.path_limits import described, unmatched_pattern
from eegprep.base.regular_files import not_a_folder
from eegprep.base.sealed import KEY
from eegprep.store.consolidated import without_consolidated
from eegprep.store.fs import Location
from eegprep.store.root_attrs import (
    FORMAT,
    FORMAT_VERSION,
    ROOT_KEYS,
    added_root_keys,
    begun_store,
    refuse_zarr_v2,
    root_seal_problem,
)


def root_attributes(loc: Location, problems: list[str]) -> dict[str, Any] | None:
    """The root group's attributes, or None (and a line in ``problems``) when it is missing or
    damaged; each disagreement inside them is a line too.

    Raises :class:`StoreNotFoundError` or :class:`StoreFormatError` when ``loc`` holds no
    eegprep store at all, or one of a format newer than this eegprep understands."""
    ours = loc.exists("_eegprep") or loc.exists("recordings")
    if not loc.exists("zarr.json"):
        if not ours:
            kind = not_a_folder(loc.root) if loc.local and not loc.zipped else None
            what = f"{kind}, not a store (a store is a folder)" if kind else "no eegprep store here"
            if kind is None and loc.local and not os.path.lexists(loc.root):
                what += unmatched_pattern(loc.root)  # (a pattern the shell passed on)
            raise StoreNotFoundError(f"{loc.named}: {what}")
        begun = begun_store(loc)  # (the skeleton, before the root that comes last)
        if begun:
            raise StoreNotFoundError(begun)
        refuse_zarr_v2(loc)
        problems.append("zarr.json: missing (the store's root group: format, recipe, rate)")
        return None
    try:
        doc = strict_json.loads_zarr_json(loc.read_bytes("zarr.json"), added_root_keys)
        attrs = doc["attributes"]
        if not isinstance(attrs, dict):
            raise TypeError(f"attributes are a {type(attrs).__name__}")
    except (ValueError, KeyError, TypeError, OSError) as exc:  # (OSError: a zip's bad member)
        if not ours:
            raise StoreFormatError(f"{loc.named}: not an eegprep store (no attributes)") from None
        problems.append(f"zarr.json: damaged ({described(exc, named=True)})")
        return None
    if attrs.get("format") != FORMAT:
        if not ours:
            raise StoreFormatError(f"{loc.named}: a Zarr hierarchy, but not an eegprep store")
        problems.append(f"zarr.json: damaged (format {attrs.get('format')!r}, not {FORMAT!r})")
        return None
    version = attrs.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise StoreFormatError(
            f"{loc.named}: store format version {version} is newer than this eegprep understands "
            f"({FORMAT_VERSION}); upgrade eegprep"
        )
    rest, _ = without_consolidated(doc)  # (zarr's, read past: a note, consolidated.py)
    group = {k: v for k, v in rest.items() if k != "attributes"}
    if group != {"zarr_format": 3, "node_type": "group"}:
        problems.append(f"zarr.json: damaged (not a Zarr v3 group: {group})")
    missing = [k for k in ("format_version", "sfreq", "recipe_hash") if k not in attrs]
    if missing:
        problems.append(f"zarr.json: damaged (no {', '.join(missing)})")
    else:
        problems += [f"zarr.json: damaged ({p})" for p in _root_problems(attrs)]
    return attrs


def _root_problems(attrs: dict[str, Any]) -> list[str]:
    """Disagreements inside the root's attributes: their checksum (stores written before it
    have none), the recipe and the hash written from it, the store's rate and the recipe's,
    the channel vocabulary and this eegprep's (a store's vocabulary may be an older, shorter
    one)."""
    from eegprep.pipeline.channels import VOCABULARY
    from eegprep.pipeline.recipe import recipe_hash

    out = []
    sealed = root_seal_problem(attrs)  # stores written since the root was sealed
    if sealed is not None:
        out.append(f"its attributes: {sealed}")
    recipe = attrs.get("recipe")
    if isinstance(recipe, dict):
        digest = recipe_hash(recipe)
        if digest != attrs.get("recipe_hash"):
            out.append(f"its recipe hashes to {digest}, not to its recipe_hash "
                       f"{attrs.get('recipe_hash')!r}")  # fmt: skip
        if recipe.get("sfreq") != attrs.get("sfreq"):
            out.append(f"sfreq {attrs.get('sfreq')!r} is not the recipe's {recipe.get('sfreq')!r}")
    vocabulary = attrs.get("vocabulary")
    if vocabulary is not None and (
        not isinstance(vocabulary, list) or vocabulary != list(VOCABULARY)[: len(vocabulary)]
    ):
        out.append("its channel vocabulary is not eegprep's (channel positions would be wrong)")
    keys = set(attrs) - {KEY} - set(added_root_keys(attrs))
    if keys != ROOT_KEYS:
        odd = sorted(ROOT_KEYS - keys) + sorted(keys - ROOT_KEYS)
        out.append(f"attribute{'s' if len(odd) > 1 else ''} {', '.join(map(repr, odd))} missing "
                   "or not eegprep's (a key's name changed)")  # fmt: skip
    if not isinstance(attrs.get("eegprep_version"), str):
        out.append(f"eegprep_version {attrs.get('eegprep_version')!r} is not a version")
    if attrs.get("unit") != "uV":
        out.append(f"unit {attrs.get('unit')!r}, not 'uV'")
    layout = attrs.get("layout")
    older = {k: v for k, v in LAYOUT.items() if k != "versions"}  # before version groups
    if layout is not None and layout not in (LAYOUT, older):
        out.append(f"layout {layout!r} is not the store format's {LAYOUT!r}")
    return out


# The root's ``layout`` attribute: the same in every store of format version 1.
LAYOUT = {
    "recordings": "recordings/{corpus}/{name}",
    "versions": "recordings/{corpus}/{name}@{k}",
    "index": "_eegprep/index/*.jsonl",
    "chunk_seconds": 60,
    "shard_chunks": 30,
}
