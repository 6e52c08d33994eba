"""Whether a listed recording's source file is still under the corpus folder: the evidence
``eegprep ingest --prune`` acts on.

A source is gone only when the file system says it does not exist. Two kinds of evidence are
not proof, and keep the recording:

- the file cannot be checked (no permission, a stale mount, an I/O error): said per recording;
- the file is missing behind a folder of its path that hides what it held: a link to nothing
  (``site -> /mnt/disk2/site`` with that disk not mounted), a folder that exists but holds no
  entry at all (the folder a second disk is mounted on, while it is not mounted), or a mount
  point with nothing on it but ``lost+found`` (an automounted share not mounted, a fresh disk
  mounted in place of the corpus's). Every file behind such a folder reads as missing, though
  none was renamed, moved or deleted; the share guard of ``--prune`` counts the whole corpus,
  and one such folder of many passed it. These are said per folder.

The folder a recording's source was on is not compared by device (``st_dev``): neither the
record nor the seen-files cache notes the device, and a device number is not stable across
reboots for network and removable file systems.
"""

from __future__ import annotations

import os
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted, noun
from eegprep.corpus.discover import Discovery, SourceItem
from eegprep.corpus.sources import HASHES, file_digest

GONE = "gone"
""":meth:`SourcePresence.state` of a source the file system says does not exist."""

_FRESH_DISK = frozenset({"lost+found"})
"""What a mount point may hold and still count as holding nothing (an ext file system's root)."""


class SourcePresence:
    """Checks listed sources under one corpus folder ``root``; each folder of their paths is
    looked at once (a thousand sources behind one unmounted disk cost one listing)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._hides: dict[str, str | None] = {}  # folder (relative) -> what hides its files

    def state(self, source: object) -> str:
        """``""`` when ``source`` (relative to the root) exists, :data:`GONE` when the file
        system says it does not (no such file, or a parent that is no folder), else why it
        cannot tell (one phrase)."""
        if not isinstance(source, str) or not source:
            return GONE
        try:
            os.lstat(os.path.join(self.root, source))
        except (FileNotFoundError, NotADirectoryError):
            return GONE
        except OSError as exc:
            return exc.strerror or type(exc).__name__
        return ""

    def hiding_folder(self, source: str) -> tuple[str, str] | None:
        """``(folder, what it is)`` for the first folder of a missing ``source``'s path (below
        the root) that hides the files it held, else None: the source is gone."""
        parts = source.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            if folder not in self._hides:
                self._hides[folder] = self._what_hides(os.path.join(self.root, *parts[:i]))
            what = self._hides[folder]
            if what == "":  # (missing: so is every folder below it)
                return None
            if what is not None:
                return folder, what
        return None

    @staticmethod
    def _what_hides(path: str) -> str | None:
        """What ``path`` is when it hides the files it held, ``""`` when it does not exist,
        else None (a folder with entries: a missing file in it is gone)."""
        try:
            os.lstat(path)
        except OSError:
            return ""
        if os.path.islink(path) and not os.path.exists(path):
            return "a link whose target is missing"
        try:
            with os.scandir(path) as entries:
                names = {e.name for _, e in zip(range(len(_FRESH_DISK) + 1), entries)}
        except OSError:  # (not a folder, or not listable: the file's own lstat decided)
            return None
        if not names:
            return (
                "a mount point with nothing on it" if os.path.ismount(path) else "an empty folder"
            )
        if names <= _FRESH_DISK and os.path.ismount(path):
            return "a mount point with nothing on it but lost+found"
        return None


_WHAT_TO_DO = {
    "a link whose target is missing": "remove the link to prune them",
}


def hidden_note(folder: str, what: str, ids: list[str]) -> str:
    """The one line that names the recordings kept behind ``folder``."""
    names = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    todo = _WHAT_TO_DO.get(what, "remove the folder to prune them")
    return (
        f"{len(ids)} listed recordings kept, their sources are under {shown_path(folder)}, {what} "
        f"(a disk not mounted?): {names}; mount it, or if they are gone, {todo}"
    )


def moved_sources(
    items: list[SourceItem], records: dict[str, dict[str, Any]], root: str
) -> dict[tuple[str, str | None], str]:
    """The sources of ``items`` that are a listed recording's source moved: ``(relpath, part)
    -> id``.

    A file moved to another folder under its corpus (another session's, subject's or montage's:
    fields its path gives) keeps the name the manifest gives it. When the recording of that
    name (``records``: the corpus's, by id; a name with a ``~`` suffix by the name before it)
    has no source under ``root`` now, and the file's bytes are that source's (its content
    digest, and the same ``part``), it is that recording: it is ingested again as it, its
    fields taken from the new path, and never listed beside it under a new name (two records
    of one source, which ``eegprep validate`` reports and training reads twice) while the stale
    one stays. Only a file whose name is such a recording's is read, once; the first in the
    order of ``items`` takes it.
    """
    presence = SourcePresence(root)
    by_name: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for rid, rec in ((rid, rec) for rid, rec in records.items() if _matchable(rec)):
        name = rid.split("/", 1)[-1].split("~", 1)[0].casefold()
        by_name.setdefault(name, []).append((rid, rec))
    listed = {(r.get("source"), r.get("part")) for r in records.values() if _matchable(r)}
    moved: dict[tuple[str, str | None], str] = {}
    for it in items:
        key = (it.relpath, it.part)
        if key in listed:
            continue
        for rid, rec in by_name.get(it.name.casefold(), []):
            if rid not in moved.values() and _is_moved(presence, it, rec):
                moved[key] = rid
                break
    return moved


def _matchable(record: dict[str, Any]) -> bool:
    """Whether ``record`` names a source a file can be matched by (a ``source`` of text, a
    ``part`` of text or null: a record edited to others matches none,
    :func:`~eegprep.corpus.discover.resolve_names`)."""
    part = record.get("part")
    return isinstance(record.get("source"), str) and (part is None or isinstance(part, str))


def _is_moved(presence: SourcePresence, item: SourceItem, record: dict[str, Any]) -> bool:
    """Whether ``item`` holds the bytes of ``record``'s source, which is gone."""
    if record.get("part") != item.part or presence.state(record.get("source")) != GONE:
        return False
    for algorithm in HASHES:
        digest = record.get(f"source_{algorithm}")
        if isinstance(digest, str) and digest:
            try:
                return file_digest(os.path.join(presence.root, item.relpath), algorithm) == digest
            except (OSError, SourceError):  # (its own line comes when it is ingested)
                return False
    return False


def held_elsewhere(
    gone: dict[str, str], present: list[str], roots: list[str]
) -> dict[str, list[str]]:
    """Which of the listed recordings ``gone`` (id -> source, gone under the corpus folder
    given now) another folder the corpus was ingested from (``roots``, newest first) still
    holds, when that folder is no earlier copy of this one: ``{root: ids}``.

    Such sources are not gone: the ingest was given another folder (a sub-folder of the corpus,
    or a second corpus under one manifest name), and ``--prune`` would remove recordings whose
    files are all there. A folder this one is a copy of (or was moved from, and still there)
    holds most of the sources that are here too (``present``: the others' sources): a file
    deleted from the copy is gone. So a folder counts only when it holds more of the gone
    sources than of those here.
    """
    out: dict[str, list[str]] = {}
    left = dict(gone)
    for other in roots:
        there = SourcePresence(other)
        held = [rid for rid, source in left.items() if there.state(source) == ""]
        if not held:
            continue
        shared = 0
        for source in present:
            shared += there.state(source) == ""
            if shared >= len(held):
                break
        if shared < len(held):
            out[other] = held
            for rid in held:
                del left[rid]
    return out


def elsewhere_note(other: str, ids: list[str], root: str, setting: str = "--src") -> str:
    """The one line that names the recordings kept because ``other`` still holds them;
    ``setting`` named ``root`` (``--src``, a variable, a config file's entry)."""
    n = len(ids)
    names = ", ".join(ids[:3]) + (", ..." if n > 3 else "")
    them = noun(n, "it", "them")
    return (
        f"{counted(n, 'listed recording')} {noun(n, 'has', 'have')} no source under "
        f"{shown_path(root)} but {noun(n, 'does', 'do')} under {shown_path(other)}, which this "
        f"corpus was ingested from before (is {setting} the folder "
        f"{noun(n, 'it was', 'they were')} ingested from? a second corpus under one manifest "
        f"name?): {names}; kept, --prune "
        f"removes {them} only once {shown_path(other)} no longer holds {them}"
    )


def second_names(
    mine: dict[str, dict[str, Any]], found: Discovery, skip: set[str]
) -> dict[str, tuple[dict[str, Any], str]]:
    """The listed recordings of ``mine`` (``skip`` left out) whose source is now a second name
    of another file (:meth:`~eegprep.corpus.discover.Discovery.first_name`: a hard link, a
    link to it or to its folder), which discovery skips: ``id -> (record, the name it is
    listed under)``. Each was left listed from bytes its path may no longer hold, neither
    ingested again nor named."""
    out = {}
    for rid, rec in sorted(mine.items()):
        source = rec.get("source")
        first = found.first_name(source) if isinstance(source, str) else None
        if rid not in skip and first is not None:
            out[rid] = (rec, first)
    return out


def twin_note(rid: str, rec: dict[str, Any], first: str) -> str:
    """The line on a listed recording (record ``rec``) whose source is now a second name of
    ``first``."""
    return (
        f"{rid}: its source {shown_path(str(rec.get('source')))} is now a second name of "
        f"{shown_path(first)} (a hard link, or a link to it or to its folder), ingested under "
        "that name only: its record holds what the file held before; --prune removes it"
    )
