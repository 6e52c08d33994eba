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
are not noted (:func:`racy`): the next run hashes the file again and compares it, finds it
current (nothing is ingested) when its bytes are the record's, and notes its stamps once they
are older than that run's start by :data:`RACY_NS`.

It lives in the store as ``_eegprep/seen.json``, written whole and atomically by the writer
(under the store's lock) at the end of an ingest. It is a cache: a missing, damaged or foreign
file, or an entry for another group or other hashes, only means that those files are hashed
again. Writes that change no stamp at all (through a shared ``mmap`` of a page already dirty)
are seen only by hashing every file: ``--verify-checksums``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from eegprep.base import strict_json
from eegprep.base.sealed import seal, seal_problem
from eegprep.corpus.sources import FileStamp, listed_hashes
from eegprep.store.fs import Location
from eegprep.store.writer import SEEN

_VERSION = 1
log = logging.getLogger(__name__)

RACY_NS = 3_000_000_000
"""How close (ns) to the moment a file's bytes were hashed its stamps may lie and still be
racy: 2 s, the coarsest timestamp tick in use (FAT's mtime; ext3, HFS+, ISO 9660 and many
NFS/SMB servers keep whole seconds, older kernels stamp to a jiffy, up to 10 ms), plus 1 s for
a file server's clock running behind this machine's. A fixed bound rather than a measured
tick: a whole-second mtime (``mtime_ns % 10**9 == 0``) cannot tell a whole-second file system
from a file whose date a tool set (``tar``, ``cp -p``), and the bound costs one more hash of
the files changed in the last seconds before an ingest."""

clock = time.time_ns
"""The wall clock, ns since the epoch: the clock file stamps are taken from. Tests put their
own, so that no test depends on how long it ran."""


def racy(stamps: Iterable[FileStamp], since_ns: int) -> bool:
    """Whether a write after ``since_ns`` (ns since the epoch, read before the stamps were
    taken and the bytes hashed) could have left any of ``stamps`` as it was.

    A write stamps the file with its own moment, on the file system's clock and rounded down
    to its tick, so it can repeat a stamp only where that stamp is no older than the tick the
    write lands in. A stamp more than :data:`RACY_NS` before ``since_ns`` is safe; a later
    one, or one in the future (a clock ahead, a date set by a tool), is racy, mtime or ctime
    alike (some systems' ctime is not a change time)."""
    cutoff = since_ns - RACY_NS
    return any(max(s.mtime_ns, s.ctime_ns) > cutoff for s in stamps)


class SeenFiles:
    """Each recording's source-file stamps as last verified, by record id."""

    def __init__(
        self, entries: dict[str, dict[str, Any]] | None = None, *, since_ns: int | None = None
    ) -> None:
        self._entries = entries or {}
        self.changed = False
        # ns since the epoch, read before any file this run notes was stat-ed or hashed
        self.since_ns = clock() if since_ns is None else since_ns

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
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s: ignored (%s); files are checked by content", "/".join(SEEN), exc)
            return cls()
        return cls(doc["recordings"])

    def vouches(self, record: dict[str, Any], stamps: tuple[FileStamp, ...]) -> bool:
        """Whether the files of ``record``'s recording, as stamped now, are those last verified
        to hold the bytes its hashes state, for its group."""
        entry = self._entries.get(str(record.get("id")))
        return (
            isinstance(entry, dict)
            and entry.get("group") == record.get("group")
            and entry.get("hashes") == listed_hashes(record)
            and all(entry.get("hashes") or [""])
            and entry.get("files") == [s.row() for s in stamps]
        )

    def note(self, record: dict[str, Any], stamps: tuple[FileStamp, ...]) -> None:
        """The files of ``record``'s recording, stamped as ``stamps`` (taken after
        :attr:`since_ns`, and still so after the bytes were hashed), hold the bytes its hashes
        state. Racy stamps (:func:`racy`) are not noted, and drop the recording's entry: the
        next run compares those files by content."""
        rid = str(record.get("id"))
        if racy(stamps, self.since_ns):
            self.changed |= self._entries.pop(rid, None) is not None
            return
        self._entries[rid] = {
            "group": record.get("group"),
            "hashes": listed_hashes(record),
            "files": [s.row() for s in stamps],
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
