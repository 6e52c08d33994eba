"""What the store's writer last saw of each recording's source files, so that a re-run reads
only the files that may have changed.

A record states each source file's size, mtime and content hash (``source_files``). Size and
mtime survive a rewrite in place whose mtime was set back, so they cannot vouch for the bytes
alone. The kernel's change time (ctime, set on every write or ``utime`` and settable by no
program) and the inode number do not survive it. This file keeps, per recording, each file's
``[path, size, mtime_ns, ctime_ns, inode]`` as it was when the bytes the record's hashes state
were read (at ingest, or by a later content check), with the recording group and those hashes
it vouches for: an entry copied from another store of the same corpus, or left from an
earlier version of the recording, vouches for nothing.
A re-run takes a recording's files as unchanged without reading them only when all of that is
still true; otherwise it hashes them and compares (:func:`eegprep.corpus.sources.is_unchanged`),
and a match is noted here, so that a corpus copied or restored elsewhere is read once, not on
every run.

Stamps taken within a timestamp tick of the moment their bytes were hashed are "racily clean"
(git's word for the same problem): a file rewritten with the same size later in that tick gets
the same mtime and ctime, so its stamps could vouch for bytes it no longer holds. Such stamps
are not noted (:mod:`eegprep.ingestion.racy_stamps`): the next run hashes the file again and
compares it, finds it current (nothing is ingested) when its bytes are the record's, and notes
its stamps once they are older than that run's start by ``RACY_NS`` (3 s).

Each entry states the racy window its stamps were judged under (``window_ns``,
:func:`~eegprep.ingestion.racy_stamps.window_ns`), and vouches only while that window is no
narrower than the one in force (:func:`vouching_entry`): an entry judged under a narrower one
(``EEGPREP_RACY_SECONDS`` widened since), or of a version that noted racy stamps as any other
(``group``, ``hashes``, ``files`` and no ``window_ns``: which of its stamps were racy cannot be
told), vouches for nothing, and the next run hashes those files once and notes them anew. A
window, not the moment the files were hashed: the cache stays the same bytes for the same
stamps, run after run.

It lives in the store as ``_eegprep/seen.json``, written whole and atomically by the writer
(under the store's lock) at the end of an ingest. It is a cache: a missing, damaged or foreign
file, or an entry for another group or other hashes, only means that those files are hashed
again. Writes that change no stamp at all (through a shared ``mmap`` of a page already dirty)
are seen only by hashing every file: ``--verify-checksums``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, TypeGuard

from eegprep.base import strict_json
from eegprep.base.sealed import seal, seal_problem
from eegprep.base.write_errors import reason
from eegprep.corpus.sources import FileStamp, listed_hashes
from eegprep.ingestion import racy_stamps
from eegprep.store.fs import Location
from eegprep.store.writer import SEEN

_VERSION = 1
log = logging.getLogger(__name__)


class SeenFiles:
    """Each recording's source-file stamps as last verified, by record id."""

    def __init__(
        self, entries: dict[str, dict[str, Any]] | None = None, *, since_ns: int | None = None
    ) -> None:
        self._entries = entries or {}
        self.changed = False
        # ns since the epoch, read before any file this run notes was stat-ed or hashed
        self.since_ns = racy_stamps.clock() if since_ns is None else since_ns

    @classmethod
    def load(cls, loc: Location) -> SeenFiles:
        """The store's entries; none when the file is missing or damaged (a warning). Made
        before the run stats or hashes any file: its :attr:`since_ns` is now."""
        if not loc.exists(*SEEN):
            return cls()
        try:
            doc = strict_json.loads(loc.read_bytes(*SEEN))
            if doc.get("version") != _VERSION or not isinstance(doc.get("recordings"), dict):
                raise ValueError("not a seen-files document")
            damaged = seal_problem(doc)
            if damaged:
                raise ValueError(damaged)
        except (OSError, ValueError, AttributeError) as exc:  # (its words: the file named once)
            why = reason(exc) if isinstance(exc, OSError) else exc
            log.warning("%s: ignored (%s); files are checked by content", "/".join(SEEN), why)
            return cls()
        return cls(doc["recordings"])

    def vouches(self, record: dict[str, Any], stamps: tuple[FileStamp, ...]) -> bool:
        """Whether the files of ``record``'s recording, as stamped now, are those last verified
        to hold the bytes its hashes state, for its group."""
        entry = self._entries.get(str(record.get("id")))
        return (
            vouching_entry(entry)
            and entry.get("group") == record.get("group")
            and entry.get("hashes") == listed_hashes(record)
            and all(entry.get("hashes") or [""])
            and entry.get("files") == [s.row() for s in stamps]
        )

    def note(self, record: dict[str, Any], stamps: tuple[FileStamp, ...]) -> None:
        """The files of ``record``'s recording, stamped as ``stamps`` (taken after
        :attr:`since_ns`, and still so after the bytes were hashed), hold the bytes its hashes
        state. Racy stamps (:func:`~eegprep.ingestion.racy_stamps.racy`) are not noted, and
        drop the recording's entry: the next run compares those files by content."""
        rid = str(record.get("id"))
        if racy_stamps.racy(stamps, self.since_ns):
            self.changed |= self._entries.pop(rid, None) is not None
            return
        self._entries[rid] = {
            "group": record.get("group"),
            "hashes": listed_hashes(record),
            "files": [s.row() for s in stamps],
            "window_ns": racy_stamps.window_ns(),  # (the window it was judged under)
        }
        self.changed = True

    def save(self, loc: Location, listed: Iterable[tuple[str, Any]]) -> None:
        """Write the entries of the recordings listed now (``(id, group)``), when any changed."""
        live = dict(listed)
        keep = {
            rid: e
            for rid, e in self._entries.items()
            if isinstance(e, dict) and rid in live and e.get("group") == live[rid]
        }
        if not self.changed and len(keep) == len(self._entries):
            return
        doc = seal({"version": _VERSION, "recordings": dict(sorted(keep.items()))})
        loc.write_bytes(json.dumps(doc, allow_nan=False, separators=(",", ":")).encode(), *SEEN)
        self._entries, self.changed = keep, False


def vouching_entry(entry: Any) -> TypeGuard[dict[str, Any]]:
    """Whether ``entry`` is of this version's form and was noted under a racy window no
    narrower than the one in force now (``window_ns``: its stamps were not racy under it
    then). An entry without ``window_ns`` was written by a version that noted racy stamps
    too: it vouches for nothing."""
    if not isinstance(entry, dict):
        return False
    window = entry.get("window_ns")
    if not isinstance(window, int) or isinstance(window, bool):
        return False
    return window >= racy_stamps.window_ns()
