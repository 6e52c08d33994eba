"""Which files make up one recording, and their fingerprint.

A recording is often more than one file: BrainVision's ``.vhdr`` names a ``.eeg`` (samples) and
a ``.vmrk`` (markers), EEGLAB's ``.set`` keeps its samples in a ``.fdt``, and a manifest's
sidecars (``.csv_bi``, ``.tse``, seizure lists, ``events.tsv``, ``channels.tsv``) add labels and
events, and a sidecar parser may read more files that its options name (a MoBI trial's
impedance list and ``conductor.txt``: :func:`~eegprep.corpus.sidecars.other_reads`). Every file
whose bytes reach the store enters the recording's fingerprint: its record lists each one
(``source_files``: path relative to the corpus root, size, mtime, BLAKE3), and a re-run calls
the recording current only when every one of them is unchanged.

Size and mtime alone cannot tell: a file rewritten in place with its mtime set back (``touch -r``,
a restore, a careless copy tool) keeps both. Its change time (``st_ctime``, which no program can
set) and inode do not survive that, so a file is taken as unchanged without reading it only when
all four are what they were when its bytes were last hashed (:mod:`eegprep.ingestion.seen_files`
keeps them); otherwise its content hash is compared with the record's.

The content hash is BLAKE3 (256 bits, hex): as collision-resistant as SHA-256 and 3.7x faster
on one core (7.4 vs 2.0 GB/s with SHA-NI, docs/benchmarks.md), which made SHA-256 ~17% of an
ingest's CPU time. Records written before it state SHA-256 (``"sha256"`` keys), and are checked
with it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import blake3

from eegprep.base.files import as_int64, file_version
from eegprep.base.regular_files import open_regular
from eegprep.corpus.discover import SourceItem
from eegprep.corpus.locate import (
    existing_sidecars,
    sidecar_options,
    sidecar_twins,
    wanted_sidecars,
)
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import other_reads
from eegprep.readers.companions import data_files


def recording_files(manifest: Manifest, root: str, item: SourceItem) -> list[str]:
    """Every file whose bytes reach the store for ``item``: relative paths, source first.

    The source, the files its format reads with it (:func:`data_files`), the manifest's
    sidecars that exist now (``[sidecar] suffixes`` and ``files``; their twins in another
    letter case too, which are compared with them: :func:`sidecar_twins`) and the other files
    its sidecar parser reads or depends on the presence of
    (:func:`~eegprep.corpus.sidecars.other_reads`: a MoBI trial's impedance list and
    ``conductor.txt``, the EDF files a Siena seizure block naming its file only by a prefix
    could mean).
    """
    path = os.path.join(root, item.relpath)
    found = [path, *data_files(path)]
    if manifest.sidecar_parser:
        fields = {**item.field_dict(), "part": item.part or ""}
        try:
            wanted = wanted_sidecars(manifest, root, path, fields)
        except Exception:  # a template error is reported by the task itself
            wanted = []
        sidecars = existing_sidecars(wanted)
        found += sidecars + sidecar_twins(wanted)
        try:
            options = sidecar_options(manifest, fields)
            found += other_reads(manifest.sidecar_parser, path, options, sidecars)
        except Exception:  # an option's error: the same, when the parser runs
            pass
    rels = [os.path.relpath(p, root).replace(os.sep, "/") for p in dict.fromkeys(found)]
    return [rels[0], *sorted(set(rels[1:]) - {rels[0]})]


def outside_root(rels: list[str]) -> list[str]:
    """The files among ``rels`` (:func:`recording_files`) that lie outside the corpus root: a
    BrainVision header's ``DataFile=/elsewhere/x.eeg`` or ``../../x.vmrk``. The ingest reads
    none of them (a header from elsewhere would pull any file on the machine into the store,
    and its path and hash into the record); a link inside the root is the user's, followed."""
    return [r for r in rels if r == ".." or r.startswith("../") or os.path.isabs(r)]


@dataclass(frozen=True)
class FileStamp:
    """One file's identity: ``path`` relative to the corpus root, size in bytes, mtime and
    change time (ctime) in ns, and inode number (0 where unknown)."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    inode: int = 0

    def row(self) -> list[Any]:
        """``[path, size, mtime_ns, ctime_ns, inode]``: what :mod:`~eegprep.ingestion.seen_files`
        keeps; each number within int64 (:func:`~eegprep.base.files.as_int64`), so that
        strict JSON holds it."""
        return [
            self.path,
            self.size,
            *(as_int64(n) for n in (self.mtime_ns, self.ctime_ns, self.inode)),
        ]


def stamp_files(root: str, rels: list[str]) -> tuple[FileStamp, ...]:
    """Size, mtime, ctime and inode of each file (``OSError`` when one cannot be read)."""
    out = []
    for rel in rels:
        mtime_ns, size, ctime_ns, inode = file_version(os.path.join(root, rel))
        out.append(FileStamp(rel, size, mtime_ns, ctime_ns, inode))
    return tuple(out)


HASH = "blake3"
"""The content hash a new record states: its key in ``source_files`` and ``source_{HASH}``."""
HASHES = ("blake3", "sha256")
"""The content hashes a record may state, the preferred first (``sha256``: earlier versions)."""
_READ = 1 << 20  # bytes per read while hashing


def file_digest(path: str, algorithm: str = HASH) -> str:
    """The ``algorithm`` (one of :data:`HASHES`) digest of a file's bytes, hex (64 digits)."""
    return StreamDigest(path, algorithm).hexdigest()


class StreamDigest:
    """The ``algorithm`` (one of :data:`HASHES`) digest of one file, from byte ranges that
    were read anyway (a reader's data records, :mod:`eegprep.readers.byte_taps`), in any order
    and overlapping: the bytes before a range that are not yet hashed are read from the file
    first, and :meth:`hexdigest` reads what no range covered up to the end. With no range fed,
    it is :func:`file_digest`: the same bytes give the same digest."""

    def __init__(self, path: str, algorithm: str = HASH) -> None:
        self.path = path
        self._hash: Any = blake3.blake3() if algorithm == "blake3" else hashlib.new(algorithm)
        self._done = 0  # bytes [0, _done) hashed

    def feed(self, offset: int, data: bytes) -> None:
        """``data``, read from the file at ``offset``."""
        end = offset + len(data)
        if end <= self._done:
            return
        if offset > self._done:
            self._read_to(offset)
        self._hash.update(memoryview(data)[self._done - offset :])
        self._done = end

    def _read_to(self, stop: int | None) -> None:
        """Hash the file's bytes from where hashing stopped to ``stop`` (``None``: the end)."""
        buf = bytearray(_READ)
        view = memoryview(buf)
        with open_regular(self.path) as fh:  # a file swapped for a FIFO: refused, not waited on
            fh.seek(self._done)
            while stop is None or self._done < stop:
                want = _READ if stop is None else min(_READ, stop - self._done)
                n = fh.readinto(view[:want])
                if not n:
                    break
                self._hash.update(view[:n])
                self._done += n

    def hexdigest(self) -> str:
        """The whole file's digest (hex): what no range covered is read now."""
        self._read_to(None)
        return str(self._hash.hexdigest())


def fingerprint(
    root: str, stamps: tuple[FileStamp, ...], known: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The record's ``source_files``: each file's path, size, mtime and :data:`HASH` digest
    (from ``known``, by path, where the caller has it: :class:`StreamDigest`)."""
    known = known or {}
    return [
        {
            "path": s.path,
            "size": s.size,
            "mtime_ns": s.mtime_ns,
            HASH: known.get(s.path) or file_digest(os.path.join(root, s.path)),
        }
        for s in stamps
    ]


def listed_files(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's ``source_files`` entries; for a record written before they existed, one
    entry of its source's own keys."""
    listed = record.get("source_files")
    if isinstance(listed, list) and all(isinstance(f, dict) for f in listed):
        return listed
    return [
        {
            "path": record.get("source"),
            "size": record.get("source_size"),
            "mtime_ns": record.get("source_mtime_ns"),
            **{name: record.get(f"source_{name}") for name in HASHES},
        }
    ]


def listed_hashes(record: dict[str, Any]) -> list[str]:
    """The content hash each of a record's files states (:data:`HASHES`, the preferred
    first; ``""`` for a file that states none)."""
    return [next((str(f[n]) for n in HASHES if f.get(n)), "") for f in listed_files(record)]


def is_unchanged(
    record: dict[str, Any],
    root: str,
    stamps: tuple[FileStamp, ...],
    *,
    checksums: bool,
    vouched: bool = False,
) -> bool:
    """Whether the files listed now are exactly the record's, with the same bytes.

    The same paths and sizes and, unless ``vouched``, the same mtimes, and then the same
    content: each file's hash is compared with the one its entry states (BLAKE3, or an earlier
    version's SHA-256), unless ``vouched`` (every file's size, mtime, ctime and inode are still
    those of when its bytes were last hashed and found to be the record's:
    :class:`~eegprep.ingestion.seen_files.SeenFiles`; after ``--verify-checksums`` found a
    touched file's bytes unchanged, its new mtime too). With ``checksums`` the mtimes are not
    compared and every file is hashed. An entry stating no hash (a record of an early version)
    is changed: size and mtime alone cannot tell (it was judged by them, and a file rewritten
    with its mtime set back was taken as unchanged). A record
    written before ``source_files`` existed knows only its source: it is current only when no
    other file makes up the recording now.
    """
    listed = listed_files(record)
    if [f.get("path") for f in listed] != [s.path for s in stamps]:
        return False
    if any(old.get("size") != now.size for old, now in zip(listed, stamps)):
        return False
    if not checksums:
        if vouched:  # these very stamps, new mtimes too, were hashed to the record's bytes
            return True
        if any(old.get("mtime_ns") != now.mtime_ns for old, now in zip(listed, stamps)):
            return False
    for old, now in zip(listed, stamps):
        algorithm = next((name for name in HASHES if old.get(name)), None)
        if algorithm is None:  # the bytes cannot be told the record's
            return False
        if old[algorithm] != file_digest(os.path.join(root, now.path), algorithm):
            return False
    return True
