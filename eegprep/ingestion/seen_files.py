"""What the store's writer last saw of each recording's source files, so that a re-run reads
only the files that may have changed.

A record states each source file's size, mtime and content hash (``source_files``). Size and
mtime survive a rewrite in place whose mtime was set back, so they cannot vouch for the bytes
alone. The kernel's change time (ctime, set on every write or ``utime`` and settable by no
program) and the inode number do not survive it. This file keeps, per recording, each file's
``[path, size, mtime_ns, ctime_ns, inode]`` as it was when the bytes the record's hashes state
were read (at ingest, or by a later content check), and the recording group it vouches for.
A re-run takes a recording's files as unchanged without reading them only when all of that is
still true; otherwise it hashes them and compares (:func:`eegprep.corpus.sources.is_unchanged`),
and a match is noted here, so that a corpus copied or restored elsewhere is read once, not on
every run.

It lives in the store as ``_eegprep/seen.json``, written whole and atomically by the writer
(under the store's lock) at the end of an ingest. It is a cache: a missing, damaged or foreign
file, or an entry for another group, only means that those files are hashed again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from eegprep.base import strict_json
from eegprep.corpus.sources import FileStamp
from eegprep.store.fs import Location

SEEN = ("_eegprep", "seen.json")
_VERSION = 1
log = logging.getLogger(__name__)


class SeenFiles:
    """Each recording's source-file stamps as last verified, by record id."""

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None) -> None:
        self._entries = entries or {}
        self.changed = False

    @classmethod
    def load(cls, loc: Location) -> SeenFiles:
        """The store's entries; none when the file is missing or damaged (a warning)."""
        if not loc.exists(*SEEN):
            return cls()
        try:
            doc = strict_json.loads(loc.read_bytes(*SEEN))
            if doc.get("version") != _VERSION or not isinstance(doc.get("recordings"), dict):
                raise ValueError("not a seen-files document")
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s: ignored (%s); files are checked by content", "/".join(SEEN), exc)
            return cls()
        return cls(doc["recordings"])

    def vouches(self, rid: str, group: Any, stamps: tuple[FileStamp, ...]) -> bool:
        """Whether ``rid``'s files, as stamped now, are those last verified for ``group``."""
        entry = self._entries.get(rid)
        return (
            isinstance(entry, dict)
            and entry.get("group") == group
            and entry.get("files") == [s.row() for s in stamps]
        )

    def note(self, rid: str, group: str, stamps: tuple[FileStamp, ...]) -> None:
        """``rid``'s files, stamped as ``stamps``, hold the bytes ``group``'s record states."""
        self._entries[rid] = {"group": group, "files": [s.row() for s in stamps]}
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
        doc = {"version": _VERSION, "recordings": dict(sorted(keep.items()))}
        loc.write_bytes(json.dumps(doc, allow_nan=False, separators=(",", ":")).encode(), *SEEN)
        self._entries, self.changed = keep, False
