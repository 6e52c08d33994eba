"""Recording group paths: ``recordings/{corpus}/{name}`` and its versions ``...@{k}``.

Every path the writer creates, replaces or deletes under ``recordings/`` passes
:func:`check_group`, so that no name can make it touch anything but one recording's folder.
"""

from __future__ import annotations

import re

from eegprep.base.errors import StoreFormatError

GROUP_PATH = re.compile(r"recordings/[a-z0-9][a-z0-9_-]*/[A-Za-z0-9+-][A-Za-z0-9._+~-]*(@[0-9]+)?")
"""A recording group's path as the writer makes it (docs/store-format.md, Names)."""


def version_group(corpus: str, name: str, version: int) -> str:
    """The group of a recording's ``version`` (1: ``recordings/c/n``; k: ``recordings/c/n@k``)."""
    base = f"recordings/{corpus}/{name}"
    return check_group(base if version <= 1 else f"{base}@{version}")


def group_version(group: str) -> int:
    """The version number of a recording group path (1 when it has no ``@k``)."""
    head, _, tail = group.rpartition("@")
    return int(tail) if head and tail.isdigit() else 1


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
