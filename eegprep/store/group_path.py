"""Recording group paths: ``recordings/{corpus}/{name}`` and its versions ``...@{k}``.

Every path the writer creates, replaces or deletes under ``recordings/`` passes
:func:`check_group`, so that no name can make it touch anything but one recording's folder.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from eegprep.base.errors import StoreFormatError
from eegprep.base.files import TMP_MARK

if TYPE_CHECKING:
    from eegprep.store.fs import Location

GROUP_PATH = re.compile(r"recordings/[a-z0-9][a-z0-9_-]*/[A-Za-z0-9+-][A-Za-z0-9._+~-]*(@[0-9]+)?")
"""A recording group's path as the writer makes it (docs/store-format.md, Names)."""


CORPUS_FOLDER = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""A corpus folder's name under ``recordings/`` (a manifest's ``name``)."""


def groups_on_disk(loc: Location) -> tuple[list[str], list[str]]:
    """The recording groups under ``recordings/`` (``recordings/{corpus}/{name}`` folders
    named as the writer names them), and the paths of the other
    entries there, which no ingest wrote (a file, a Finder ``.DS_Store``, a NAS's ``@eaDir``
    folder): every writer and checker passes over those and leaves them as they are. A file
    where a group lies was taken for one: each ingest then failed writing into it."""
    groups: list[str] = []
    stray: list[str] = []
    for corpus, folder in loc.entries("recordings"):
        if corpus == "zarr.json" or TMP_MARK in corpus:
            continue
        if not folder or not CORPUS_FOLDER.fullmatch(corpus):
            stray.append(f"recordings/{corpus}")
            continue
        for name, folder in loc.entries("recordings", corpus):
            group = f"recordings/{corpus}/{name}"
            if name.lower() == "zarr.json":  # (the corpus group's metadata, even a folder)
                continue
            if folder and GROUP_PATH.fullmatch(group):
                groups.append(group)
            elif TMP_MARK not in name:  # (a write's temporary file)
                stray.append(group)
    return groups, stray


GROUP_FILES = frozenset({"zarr.json", "record.json", "removed.json"})
"""The files a recording group holds beside its arrays (each a folder with a ``zarr.json``)."""


def foreign_folder(loc: Location, group: str) -> bool:
    """Whether the folder ``group``, which no index or retired list names, holds what no
    ingest writes in a group: a file other than :data:`GROUP_FILES`, a folder that is no
    array of chunk files (no ``zarr.json``, an ``array`` node that is not one, a folder
    inside it: zarr's ``c/0/0`` chunks, unless the group holds a record), or its own
    ``zarr.json`` that is no group of eegprep's (an array's; a group whose attributes hold
    none of a record's keys). Such a folder (a user's ``notes/`` in a corpus folder; an array
    or group zarr-python added) was retired and deleted with its files; it is passed over
    like any other entry no ingest writes. What a stopped ingest leaves (arrays, each with its
    ``zarr.json`` written first, the group's attributes empty or its record) is not foreign;
    nor is a document that cannot be read or parsed (it may be a damaged record). A group
    that holds a record (or may: its document damaged) keeps chunks in folders as eegprep
    writes them: a target series' (``joints/c/0/0``), and every array's before a2ec6fd
    (``data/c/0/0``); such a group, taken for another program's, was never listed again
    from its group once the index lost it (a lost index's rebuild dropped every recording
    with a target series, and ``validate`` then found the store sound)."""
    from eegprep.store.record import RECORD_KEYS

    parts = group.split("/")
    doc = _document(loc, *parts)
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    if isinstance(doc, dict):
        record = isinstance(attrs, dict) and bool(RECORD_KEYS & set(attrs))
    else:  # (damaged, it may be a record; missing, nothing says the folder is a group)
        record = loc.exists(*parts, "zarr.json")
    for name, folder in loc.entries(*parts):
        if folder and not _chunk_array(loc, *parts, name, key_folders=record):
            return True
        if not folder and name not in GROUP_FILES:
            return True
    if not isinstance(doc, dict):
        return False
    if doc.get("node_type") == "array":
        return True
    return isinstance(attrs, dict) and bool(attrs) and not record


def _document(loc: Location, *parts: str) -> object:
    """The parsed ``zarr.json`` in the folder ``parts``; None when it is missing, cannot be
    read or does not parse."""
    from eegprep.base import strict_json

    try:
        return strict_json.loads(loc.read_bytes(*parts, "zarr.json"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _chunk_array(loc: Location, *parts: str, key_folders: bool = False) -> bool:
    """Whether the folder ``parts`` may be an array an ingest wrote: a ``zarr.json`` that is
    not another node's (a subgroup's) and, beside it, files only, or (``key_folders``) the
    folder ``c`` of zarr's default chunk keys (``c/0/0``) too."""
    if not loc.exists(*parts, "zarr.json"):
        return False
    doc = _document(loc, *parts)
    if isinstance(doc, dict) and doc.get("node_type") not in (None, "array"):
        return False
    return not any(
        folder and not (key_folders and name == "c") for name, folder in loc.entries(*parts)
    )


def version_group(corpus: str, name: str, version: int) -> str:
    """The group of a recording's ``version`` (1: ``recordings/c/n``; k: ``recordings/c/n@k``)."""
    base = f"recordings/{corpus}/{name}"
    return check_group(base if version <= 1 else f"{base}@{version}")


def group_version(group: str) -> int:
    """The version number of a recording group path (1 when it has no ``@k``)."""
    head, _, tail = group.rpartition("@")
    return int(tail) if head and tail.isascii() and tail.isdigit() else 1  # (``@²``: no int)


def check_group(group: str) -> str:
    """``group`` when it is a recording group path; :class:`StoreFormatError` otherwise.

    Every path the writer creates, replaces or deletes under ``recordings/`` passes here: no
    name can make it touch anything but one recording's own folder.
    """
    parts = group.split("/")
    if not GROUP_PATH.fullmatch(group) or any(
        p in (".", "..") or p.lower() == "zarr.json" for p in parts
    ):
        raise StoreFormatError(f"unsafe recording group path {group!r}: refusing to touch it")
    return group
