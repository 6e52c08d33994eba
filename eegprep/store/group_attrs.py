"""A recording group's attributes: the copy of its index record that reads check the record by.

The writer puts a recording's whole index record in its group's ``zarr.json`` and in an index
line, and no checksum covers either: a flipped bit that leaves the JSON valid changes a value
(``n_samples`` 13600 -> 13601, a label 1 -> 0, a ``group`` path to another recording's, a
``channel_index`` to another site's). The two copies disagree then, which is how
:meth:`eegprep.store.reader.Store.read` (before a recording's first samples) and ``eegprep
validate`` find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import StoreAccessError
from eegprep.base.path_limits import described
from eegprep.store.added_attrs import foreign_keys, shown_keys
from eegprep.store.consolidated import without_consolidated
from eegprep.store.fs import Location
from eegprep.store.record import RECORD_KEYS
from eegprep.store.retired_list import RECORD


def added_keys(attrs: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
    """The attributes, sorted, that another program added to a recording group (zarr-python's
    ``group.attrs[...] = ...``): keys its record lacks that are no record field's name, nor
    one bit from the name of a key of the record that the attributes lack (``past`` for a
    missing ``part``: a key renamed by damage, which differs)."""
    return [k for k in foreign_keys(attrs, record) if k not in RECORD_KEYS]


def not_record_keys(attrs: Mapping[str, Any]) -> list[str]:
    """The attributes of a recording group that are no record field's name (another program's,
    when the group's record is not at hand to compare: :func:`added_keys`)."""
    return [k for k in attrs if k not in RECORD_KEYS]


def differing_keys(attrs: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
    """The keys, sorted, whose values differ between a group's attributes and its record
    (a key present in one only differs; not an attribute another program added:
    :func:`added_keys`)."""
    missing = object()  # (a key of value null present in one only differs too)
    added = set(added_keys(attrs, record))
    return sorted(
        k
        for k in (set(attrs) - added) | set(record)
        if attrs.get(k, missing) != record.get(k, missing)
    )


def not_a_group(doc: Mapping[str, Any]) -> str | None:
    """What makes a recording group's ``zarr.json`` (``doc``) other than the Zarr v3 group
    eegprep writes (``zarr_format`` 3, ``node_type`` group, its attributes); None when it is
    one. zarr and xarray cannot open the group otherwise."""
    doc, _ = without_consolidated(doc)  # (zarr's: ``null``, or zarr.consolidate_metadata's)
    rest = {k: v for k, v in doc.items() if k != "attributes"}
    if rest == {"zarr_format": 3, "node_type": "group"}:
        return None
    return f"not a Zarr v3 group: {rest}"


def group_record_problem(loc: Location, group: str, record: Mapping[str, Any]) -> str | None:
    """What keeps recording group ``group`` from holding ``record`` (its index record) as its
    attributes, or from being a Zarr v3 group, in one line naming the group's ``zarr.json``;
    ``None`` when it holds it."""
    where = loc.shown(loc.path(group, "zarr.json"))
    try:
        doc = strict_json.loads_zarr_json(
            loc.read_bytes(group, "zarr.json"), lambda a: added_keys(a, record)
        )
        attrs = doc["attributes"]
    except FileNotFoundError:
        return (
            f"{where}: missing (the recording's group is gone: a replaced version deleted after "
            "--keep-replaced, or damage; reopen the store)"
        )
    except StoreAccessError:  # (the file system's refusal, no damage: its own line)
        raise
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return f"{where}: damaged ({described(exc, named=True)})"
    if not isinstance(attrs, dict):
        return f"{where}: damaged (its attributes are not an object)"
    node = not_a_group(doc)
    if node:
        return f"{where}: damaged ({node})"
    differ = differing_keys(attrs, record)
    if not differ:
        return None
    return (
        f"{where}: its attributes and the index record differ in {shown_keys(differ)}: one of "
        "them is damaged (`eegprep ingest --repair` writes the recording again)"
    )


def holds_no_record(loc: Location, group: str) -> bool:
    """Whether recording group ``group`` (a path from the store root) is there and holds
    nothing of a record: no ``zarr.json``, or one whose attributes are empty (what a stopped
    ingest leaves of a group it never listed: a worker writes the attributes last), and no
    ``record.json`` (a retired group's sealed copy of its record). False for a group that is not
    there, and for one whose ``zarr.json`` cannot be read or parsed: it may hold a damaged
    record."""
    if loc.exists(group, RECORD) or not loc.exists(group):
        return False
    try:
        doc = strict_json.loads(loc.read_bytes(group, "zarr.json"))
    except FileNotFoundError:
        return True
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("attributes") == {} and not_a_group(doc) is None
