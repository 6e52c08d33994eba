"""What lies in a recording group that eegprep did not write: damage, or another program's files.

A recording group holds its ``zarr.json`` (with ``record.json`` and ``removed.json`` once
retired) and its arrays, ``data``, ``channel``, ``time`` and each target series the record
names; each array holds its ``zarr.json`` and the chunks of its chunk grid, each under the key
its chunk key encoding gives (``c.0.3`` with the ``.`` separator, ``c/0/3`` with ``/``). No
reader sees anything else: eegprep's readers and zarr compute each chunk's key from the grid,
and take the arrays by name. :func:`member_findings` sorts what else is there in two kinds:

- damage (a problem line; ``eegprep ingest --repair`` writes the recording again): a folder
  at a chunk's place (zarr reads the array's fill value there: a ``channel`` of empty names
  was named only as a coordinate that differs, and the folder as another program's); an entry
  named as a chunk of one of the arrays but that no read of it sees, a key outside its chunk
  grid (``data/c.5.0`` of a one-shard array), with another number of dimensions than the
  array's (``data/c.0.0.0``) or with the separator of the other key encoding (``data/c/0/0``
  in an array of ``c.0.0`` keys). These are chunks of another shape of the array (its
  ``zarr.json`` or a key rewritten, a copy of another version merged in); a tool that grows
  the array, or trusts the listing, takes them as samples;
- another program's addition (a ``note:`` line, no damage, left as it is): any other file or
  folder, in the group (``notes.txt``, an array xarray's ``to_zarr`` appended, a subgroup) or
  in an array's folder (``data/notes.txt``, ``data/c.0.0.bak``).

Concurrency contract: read-only, one listing of the group and of each array folder (and of each
folder of a ``/`` separated key); a write's temporary file (its name holds
:data:`~eegprep.base.files.TMP_MARK`) is passed over, as everywhere under ``recordings/``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from eegprep.base.files import TMP_MARK
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from eegprep.store.fs import Location
from eegprep.store.group_path import GROUP_FILES

_PART = re.compile(r"[0-9]+")
_DEEPER = 4  # key folders walked below an array's own number of dimensions, then named whole


@dataclass(frozen=True)
class Grid:
    """An array's chunk grid as its ``zarr.json`` states it: chunks per dimension and the
    separator of its default chunk key encoding."""

    n_chunks: tuple[int, ...]
    separator: str

    @classmethod
    def from_document(cls, blob: bytes) -> Grid | None:
        """The grid of an array's ``zarr.json``; None when it states none eegprep can judge
        (damaged: the array's own check reports it; another key encoding than ``default``)."""
        try:
            doc = json.loads(blob)
            shape = [int(s) for s in doc["shape"]]
            chunks = [int(c) for c in doc["chunk_grid"]["configuration"]["chunk_shape"]]
            keys = doc["chunk_key_encoding"]
            separator = str((keys.get("configuration") or {}).get("separator", "/"))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if (
            keys.get("name") != "default"
            or separator not in ("/", ".")
            or len(shape) != len(chunks)
            or any(c <= 0 for c in chunks)
        ):
            return None
        return cls(tuple(math.ceil(s / c) for s, c in zip(shape, chunks, strict=True)), separator)

    def key_problem(self, parts: Sequence[str], separator: str) -> str | None:
        """What is wrong with the chunk key ``c`` + ``parts`` written with ``separator``
        (its parts whole numbers), in words; None when a read of the array sees it."""
        if separator != self.separator:
            return (
                f"a chunk key with the separator {separator!r}, but the array's keys use "
                f"{self.separator!r}"
            )
        if len(parts) != len(self.n_chunks):
            n = counted(len(parts), "dimension")
            return f"a chunk key of {n}, but the array has {len(self.n_chunks)}"
        index = [int(p) for p in parts]
        if [str(i) for i in index] != list(parts) or any(
            i >= n for i, n in zip(index, self.n_chunks, strict=True)
        ):
            grid = " x ".join(map(str, self.n_chunks))
            return f"a chunk outside the array's chunk grid ({grid} chunks)"
        return None


def member_findings(
    loc: Location, group: str, arrays: Sequence[str], *, unjudged: Collection[str] = ()
) -> tuple[list[str], list[str]]:
    """What is in the recording group ``group`` beyond what eegprep writes there.

    Parameters
    ----------
    loc : Location
        The store.
    group : str
        The group's path from the store root.
    arrays : sequence of str
        The arrays eegprep writes in it (``data``, ``channel``, ``time``, the record's targets).
    unjudged : collection of str
        Those of ``arrays`` whose chunks are not judged: their ``zarr.json`` or shape is
        reported damaged already, and the grid it states may not be the record's.

    Returns
    -------
    damage : list of str
        One line per chunk-named entry no read sees (``{path}: ...``), without a prefix.
    added : list of str
        One line per file or folder another program added (``{path}: ...``), no damage.
    """
    damage: list[str] = []
    added: list[str] = []
    known = set(arrays)
    for name, folder in loc.entries(*group.split("/")):
        if TMP_MARK in name:
            continue
        path = f"{group}/{name}"
        if name in unjudged:
            continue
        if name in known and folder:
            _array_members(loc, path, damage, added)
        elif name not in known and not (name in GROUP_FILES and not folder):
            added.append(f"{shown_path(path)}: {_what_it_is(loc, path, folder)}")
    return damage, added


FOLDER_AT_KEY = "a folder where a chunk lies (every chunk is a file): no read gets its values"


def _what_it_is(loc: Location, path: str, folder: bool) -> str:
    """The words of a note about an entry of a recording group that eegprep does not write."""
    if not folder:
        kind = "a file"
    else:
        try:
            node = json.loads(loc.read_bytes(*path.split("/"), "zarr.json")).get("node_type")
        except (OSError, ValueError, AttributeError, RecursionError):
            node = None
        kind = {
            "array": "an array (xarray.open_zarr of the recording group shows it as a variable)",
            "group": "a zarr group (zarr lists it as a subgroup of the recording)",
        }.get(node, "a folder")
    return (
        f"{kind} that eegprep does not write, added by another program; no eegprep reader "
        "reads it and no ingest changes it (not damage; it goes with the group when a "
        "re-ingest replaces the recording and deletes the old version)"
    )


def _array_members(loc: Location, array: str, damage: list[str], added: list[str]) -> None:
    """Sort each entry of the array folder ``array`` but its ``zarr.json``."""
    try:
        grid = Grid.from_document(loc.read_bytes(*array.split("/"), "zarr.json"))
    except OSError:
        grid = None
    if grid is None:
        return  # (the array's own check reports its metadata)
    for name, folder in loc.entries(*array.split("/")):
        if name == "zarr.json" or TMP_MARK in name:
            continue
        path = f"{array}/{name}"
        if name == "c" and folder:
            _key_folder(loc, path, [], grid, damage, added)
            continue
        head, _, rest = name.partition(".")
        parts = rest.split(".")
        if head == "c" and rest and all(_PART.fullmatch(p) for p in parts):
            problem = grid.key_problem(parts, ".")
            if problem and not folder:
                damage.append(f"{shown_path(path)}: {problem}; no read sees it")
            elif not problem and folder:
                damage.append(f"{shown_path(path)}: {FOLDER_AT_KEY}")
            elif problem:
                added.append(f"{shown_path(path)}: {_what_it_is(loc, path, folder)}")
            continue
        if not folder and name == "c":  # (the key of no dimensions)
            problem = grid.key_problem([], grid.separator)
            if problem:
                damage.append(f"{shown_path(path)}: {problem}; no read sees it")
            continue
        added.append(f"{shown_path(path)}: {_what_it_is(loc, path, folder)}")


def _key_folder(
    loc: Location,
    folder_path: str,
    parts: list[str],
    grid: Grid,
    damage: list[str],
    added: list[str],
) -> None:
    """Sort the entries under ``{array}/c/{parts...}``: keys of the ``/`` encoding."""
    for name, folder in loc.entries(*folder_path.split("/")):
        if TMP_MARK in name:
            continue
        path = f"{folder_path}/{name}"
        if not _PART.fullmatch(name):
            added.append(f"{shown_path(path)}: {_what_it_is(loc, path, folder)}")
        elif folder and len(parts) >= len(grid.n_chunks) + _DEEPER:  # (not walked further)
            damage.append(
                f"{shown_path(path)}: a folder of chunk keys of over "
                f"{counted(len(parts) + 1, 'dimension')}, but the array has {len(grid.n_chunks)}; "
                "no read sees it"
            )
        elif (
            folder
            and len(parts) + 1 == len(grid.n_chunks)
            and not grid.key_problem([*parts, name], "/")
        ):
            damage.append(f"{shown_path(path)}: {FOLDER_AT_KEY}")
        elif folder:
            _key_folder(loc, path, [*parts, name], grid, damage, added)
        else:
            problem = grid.key_problem([*parts, name], "/")
            if problem:
                damage.append(f"{shown_path(path)}: {problem}; no read sees it")


__all__ = ["FOLDER_AT_KEY", "Grid", "member_findings"]
