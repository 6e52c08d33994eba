"""Every entry of a corpus folder's tree, each folder listed once, links to folders followed.

A corpus is often assembled with links: ``train -> /mnt/disk2/train``. Python's ``**`` glob
does not follow a link to a folder (before 3.13) while ``*`` does, so ``**/*.edf`` silently
missed every file behind such a link that ``*/*/*.edf`` found. :func:`walk_corpus` follows
each link to a folder once, and refuses, with a line saying why, the links that would list
files twice or for ever: a link to a folder above it (``sub -> ..``, a loop) and a second name
of a folder already listed (a link to a folder of the corpus, or two links to one folder).
The files behind a followed link keep the link's path (``train/a.edf``): no path outside the
corpus folder reaches the store. A folder that cannot be listed (no permission, a stale
mount) is named too: its files would be missing from the plan without a word; so is an
eegprep store met on the way (its objects are never sources).

A folder the caller leaves out (:func:`is_hidden` by default: ``.git``, ``.datalad``,
``.Trash-1000``, ``.snapshot``; the manifest's ``exclude`` in :mod:`eegprep.corpus.discover`) is
never listed: a DataLad dataset's ``.git/annex`` of a million objects or an excluded
``derivatives/`` costs one ``scandir`` entry each. A link to a file inside one
(``x.edf -> .git/annex/objects/...``) is listed under its own name and still read.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eegprep.base.files import as_text
from eegprep.base.path_limits import shown_path

LOOP = "a link to its own folder or to one above it (a loop): not followed"
"""Why a link to a folder that holds the link (``sub -> ..``, ``a/b -> ../a``) is passed."""

STORE = "an eegprep store (the output of an ingest): its files are no sources, not searched"
"""Why a folder (or a link to one) holding an eegprep store's marks is not walked: its chunk
files are never recordings, and a store holds many (a link to a store beside a corpus)."""
STORE_MARKS = frozenset({"zarr.json", "_eegprep"})
"""The names an eegprep store's root holds (:func:`~eegprep.base.files.enclosing_store`)."""


@dataclass
class Tree:
    """What :func:`walk_corpus` found.

    Attributes
    ----------
    entries : list of str
        Every entry that is no folder (files, links to files or to nothing, FIFOs, devices),
        as a path relative to the root with ``/`` between folders, in sorted order.
    problems : list of (str, str)
        ``("folder/", why)`` for each folder or link to one that was not listed.
    second_folders : dict of str to str
        Each folder not listed as a second name of a folder listed (a link to it, a bind
        mount) -> that folder's path (``""``: the root), both relative, without a final ``/``.
    """

    entries: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    second_folders: dict[str, str] = field(default_factory=dict)


def is_hidden(rel: str) -> bool:
    """Whether the folder ``rel`` (relative to the corpus root, ``/`` between names) is hidden:
    its name starts with ``.``."""
    return rel.rpartition("/")[2].startswith(".")


def walk_corpus(root: Path, left_out: Callable[[str], bool] = is_hidden) -> Tree:
    """Walk ``root`` (a folder, links already resolved): real folders first, then each link
    to a folder that leads somewhere not yet listed (:data:`LOOP` and second names are
    ``problems``), so that a folder keeps its own name over a link's.

    A folder or link to one below ``root`` for whose relative path ``left_out`` is true is
    neither listed nor named: nothing under it is an entry, whatever it holds."""
    tree = Tree()
    above = _ancestors(root)
    listed: dict[tuple[object, object], str] = {}  # _identity of each folder walked -> its path
    links: list[tuple[str, str]] = []  # (relative path, absolute path) of links to folders
    _walk(str(root), "", tree, listed, links, left_out)
    while links:  # a heap: in sorted order, each taken in log time (50,000 links to folders)
        rel, path = heapq.heappop(links)
        try:
            st = os.stat(path)
        except OSError as exc:
            tree.problems.append((f"{as_text(rel)}/", f"cannot list this folder: {exc.strerror}"))
            continue
        key = _identity(path, st)
        if key in above or os.path.realpath(path) in _parents(path):
            tree.problems.append((f"{as_text(rel)}/", LOOP))
        elif key in listed:
            tree.problems.append((f"{as_text(rel)}/", _second_name(listed[key])))
            tree.second_folders[rel] = listed[key]
        else:
            _walk(path, rel, tree, listed, links, left_out)
    tree.entries.sort()
    tree.problems.sort()
    return tree


def _second_name(first: str) -> str:
    """Why a folder reached again under another name is not listed again."""
    return (
        f"a second name of {shown_path(first) or '.'}/, whose files are listed under that name: "
        "not followed (each file once)"
    )


def _identity(path: str, st: os.stat_result) -> tuple[object, object]:
    """What tells a file or folder apart: its device and inode, or, where the file system
    gives every file inode 0 (some network and FUSE mounts, FAT on Windows), its real path
    (then two hard links are two files: every file one "same file" would drop the corpus)."""
    if st.st_ino:
        return st.st_dev, st.st_ino
    return "path", os.path.realpath(path)


def _ancestors(root: Path) -> set[tuple[object, object]]:
    """(device, inode) of ``root`` and of every folder above it."""
    out = set()
    for folder in (root, *root.parents):
        try:
            st = os.stat(folder)
        except OSError:
            continue
        out.add(_identity(str(folder), st))
    return out


def _parents(path: str) -> set[str]:
    """The real paths of the folders holding ``path`` (a link), up to ``/``."""
    real = Path(os.path.realpath(os.path.dirname(path)))
    return {str(p) for p in (real, *real.parents)}


def _walk(
    top: str,
    rel_top: str,
    tree: Tree,
    listed: dict[tuple[object, object], str],
    links: list[tuple[str, str]],
    left_out: Callable[[str], bool],
) -> None:
    """List the real folders under ``top`` (relative path ``rel_top``), without following
    links: their entries into ``tree``, each link to a folder into ``links``; a folder or link
    to one that is ``left_out`` is passed unlisted."""
    stack = [(top, rel_top)]
    while stack:
        path, rel = stack.pop()
        try:
            key = _identity(path, os.stat(path))
            if key in listed:  # reached again: a bind mount of a folder above, or inside a
                # folder that a link listed first
                tree.problems.append((f"{as_text(rel)}/", _second_name(listed[key])))
                tree.second_folders[rel] = listed[key]
                continue
            listed[key] = rel
            with os.scandir(path) as it:  # by name: the file system's order is no one's
                found = sorted(it, key=lambda entry: entry.name)
        except OSError as exc:
            tree.problems.append(
                (f"{as_text(rel) or '.'}/", f"cannot list this folder: {exc.strerror or exc}")
            )
            continue
        if rel and {entry.name for entry in found} >= STORE_MARKS:
            tree.problems.append((f"{as_text(rel)}/", STORE))
            continue
        folders: list[tuple[str, str]] = []
        for entry in found:
            sub = f"{rel}/{entry.name}" if rel else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link_to_dir = not is_dir and entry.is_symlink() and entry.is_dir()
            except OSError:
                is_dir = is_link_to_dir = False
            if (is_dir or is_link_to_dir) and left_out(sub):
                continue
            if is_dir:
                folders.append((entry.path, sub))
            elif is_link_to_dir:
                heapq.heappush(links, (sub, entry.path))
            else:
                tree.entries.append(sub)
        stack.extend(reversed(folders))  # walked in name order: a second name is the later one


def one_name_each(root: Path, rels: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """``rels`` (files under ``root``) with each file kept under one name, and the
    ``(dropped, kept)`` pairs of its other names: hard links, and links to a file listed
    under its own name. Ingested under both, one recording was two (twice the hours, and the
    same samples on both sides of a subject split when its folders name two subjects).

    The name kept is the first, in sorted order, among those with no hidden folder in them
    (not a DataLad dataset's ``.git/annex/objects/...``), then among those that are no link.
    Give only names that can be listed (in UTF-8, matching the path pattern): a name kept
    that is not would leave the file out under every name."""
    by_file: dict[tuple[object, object], list[str]] = {}
    top = str(root)
    for rel in rels:
        path = os.path.join(top, rel)
        try:
            st = os.stat(path)
        except OSError:  # gone since the walk: the task says so
            by_file[(-1, len(by_file))] = [rel]
            continue
        by_file.setdefault(_identity(path, st), []).append(rel)
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for names in by_file.values():
        if len(names) > 1:
            names.sort(key=lambda r: (_hidden(r), os.path.islink(os.path.join(top, r)), r))
        kept.append(names[0])
        dropped += [(other, names[0]) for other in names[1:]]
    return sorted(kept), sorted(dropped)


def _hidden(rel: str) -> bool:
    """Whether a folder on the path ``rel`` is hidden (its name starts with ``.``)."""
    return any(part.startswith(".") for part in rel.split("/")[:-1])
