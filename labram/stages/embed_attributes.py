"""A checksum inside the attributes of every Zarr node of a ``labram embed`` store, checked
whenever labram opens the store again.

The store's identity lives in its ``zarr.json`` documents: the root group's attributes (the
checkpoint, its kind, the stores, the task and its ``classes``, where the model came from) and
each array's (``coordinates``, ``label_key``), with a copy of every array's in the root's
consolidated metadata, which is what ``xarray.open_zarr`` reads. A flipped character there is
still JSON (``"classes": ["normal", "abnormal"]`` read as ``["normal", "abnormam"]``) and a
reader sees other names, unsaid.

Each node's attributes end in :data:`~eegprep.base.sealed_json.KEY`, the SHA-256 of its other
attributes (:func:`~eegprep.base.sealed_json.digest`), and ``_labram/embed.json`` (sealed
itself) says so (:data:`SEALED`): a node of such a store whose attributes, or their copy in
the consolidated metadata, do not match, or lack the checksum, is one line naming the file. A
store written before (no :data:`SEALED` in its ``embed.json``) is read as before.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import KEY, digest

SEALED = "attributes_sealed"
"""The entry of ``_labram/embed.json`` saying that every node's attributes carry :data:`KEY`."""


def seal_attributes(group: Any) -> None:
    """Add :data:`KEY` to the attributes of the Zarr group ``group`` and of each of its arrays
    (once every other attribute is written: each later change would need a new checksum)."""
    for node in (group, *(group[name] for name in sorted(group.array_keys()))):
        plain = strict_json.loads(strict_json.dumps(dict(node.attrs)))  # (as read back)
        node.attrs[KEY] = digest(plain)


def final_metadata(group: Any, out: Path) -> None:
    """Seal the attributes of ``group`` (the embedding store ``out``, every attribute written:
    :func:`seal_attributes`), then consolidate its metadata into the root ``zarr.json`` (what
    xarray reads), once: only chunks are written after."""
    import zarr

    with warnings.catch_warnings():  # "not part of the Zarr v3 specification": xarray reads
        warnings.simplefilter("ignore")  # it; "_labram is not recognized": not zarr's, ours
        seal_attributes(group)
        zarr.consolidate_metadata(str(out))


def check_attributes(out: Path, read: Callable[[Path], dict[str, Any]]) -> None:
    """Refuse, in one line naming the file, an embedding store ``out`` (one whose
    ``embed.json`` says :data:`SEALED`) where a node's attributes do not match their
    :data:`KEY`: its own ``zarr.json``, and each array's copy in the root's consolidated
    metadata. ``read``: a ``zarr.json`` as a JSON object, or one line naming it.

    Raises
    ------
    UsageError
        Attributes changed since labram wrote them (a flipped bit, a bad copy), or a
        ``zarr.json`` that is no JSON object.
    """
    root = out / "zarr.json"
    doc = read(root)
    _check(root, doc.get("attributes"), "its attributes")
    consolidated = doc.get("consolidated_metadata")
    copies = consolidated.get("metadata") if isinstance(consolidated, dict) else None
    for name, meta in sorted(copies.items()) if isinstance(copies, dict) else ():
        attrs = meta.get("attributes") if isinstance(meta, dict) else None
        _check(root, attrs, f"the attributes of {name!r} in its consolidated metadata")
    for node in sorted(p for p in out.iterdir() if (p / "zarr.json").is_file()):
        path = node / "zarr.json"
        _check(path, read(path).get("attributes"), "its attributes")


def _check(path: Path, attrs: Any, what: str) -> None:
    if not isinstance(attrs, dict) or KEY not in attrs:
        why = f"{what} lack their {KEY}"
    elif attrs[KEY] != digest(attrs):
        why = f"{what} do not match their {KEY}"
    else:
        return
    raise UsageError(
        f"{shown_path(path)}: {why} (changed since labram wrote them: a flipped bit, a bad copy): "
        "the embedding store is damaged; pick another --out"
    )


__all__ = ["SEALED", "check_attributes", "final_metadata", "seal_attributes"]
