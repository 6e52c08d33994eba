"""Every entry of a corpus folder's tree, each folder listed once, links to folders followed.

A corpus is often assembled with links: ``train -> /mnt/disk2/train``. Python's ``**`` glob
does not follow a link to a folder (before 3.13) while ``*`` does, so ``**/*.edf`` silently
missed every file behind such a link that ``*/*/*.edf`` found. :func:`walk_corpus` follows
each link to a folder once, and refuses, with a line saying why, the links that would list
files twice or for ever: a link to a folder above it (``sub -> ..``, a loop) and a second name
of a folder already listed (a link to a folder of the corpus, or two links to one folder).
The files behind a followed link keep the link's path (``train/a.edf``): no path outside the
corpus folder reaches the store. A folder that cannot be listed (no permission, a stale
mount) is named too: its files would be missing from the plan without a word.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from eegprep.base.files import as_text

LOOP = "a link to its own folder or to one above it (a loop): not followed"
"""Why a link to a folder that holds the link (``sub -> ..``, ``a/b -> ../a``) is passed."""


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
    """

    entries: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def walk_corpus(root: Path) -> Tree:
    """Walk ``root`` (a folder, links already resolved): real folders first, then each link
    to a folder that leads somewhere not yet listed (:data:`LOOP` and second names are
    ``problems``), so that a folder keeps its own name over a link's."""
    tree = Tree()
    above = _ancestors(root)
    listed: dict[tuple[int, int], str] = {}  # (device, inode) of each folder walked -> its path
    links: list[tuple[str, str]] = []  # (relative path, absolute path) of links to folders
    _walk(str(root), "", tree, listed, links)
    while links:
        links.sort()
        rel, path = links.pop(0)
        try:
            st = os.stat(path)
        except OSError as exc:
            tree.problems.append((f"{as_text(rel)}/", f"cannot list this folder: {exc.strerror}"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in above or os.path.realpath(path) in _parents(path):
            tree.problems.append((f"{as_text(rel)}/", LOOP))
        elif key in listed:
            why = (
                f"a link to {as_text(listed[key]) or '.'}/, whose files are listed under that name"
            )
            tree.problems.append((f"{as_text(rel)}/", f"{why}: not followed (each file once)"))
        else:
            _walk(path, rel, tree, listed, links)
    tree.entries.sort()
    tree.problems.sort()
    return tree


def _ancestors(root: Path) -> set[tuple[int, int]]:
    """(device, inode) of ``root`` and of every folder above it."""
    out = set()
    for folder in (root, *root.parents):
        try:
            st = os.stat(folder)
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return out


def _parents(path: str) -> set[str]:
    """The real paths of the folders holding ``path`` (a link), up to ``/``."""
    real = Path(os.path.realpath(os.path.dirname(path)))
    return {str(p) for p in (real, *real.parents)}


def _walk(
    top: str,
    rel_top: str,
    tree: Tree,
    listed: dict[tuple[int, int], str],
    links: list[tuple[str, str]],
) -> None:
    """List the real folders under ``top`` (relative path ``rel_top``), without following
    links: their entries into ``tree``, each link to a folder into ``links``."""
    stack = [(top, rel_top)]
    while stack:
        path, rel = stack.pop()
        try:
            st = os.stat(path)
            listed[(st.st_dev, st.st_ino)] = rel
            with os.scandir(path) as it:
                found = list(it)
        except OSError as exc:
            tree.problems.append(
                (f"{as_text(rel) or '.'}/", f"cannot list this folder: {exc.strerror or exc}")
            )
            continue
        for entry in found:
            sub = f"{rel}/{entry.name}" if rel else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link_to_dir = not is_dir and entry.is_symlink() and entry.is_dir()
            except OSError:
                is_dir = is_link_to_dir = False
            if is_dir:
                stack.append((entry.path, sub))
            elif is_link_to_dir:
                links.append((sub, entry.path))
            else:
                tree.entries.append(sub)
