"""Which files make up one recording, and their fingerprint.

A recording is often more than one file: BrainVision's ``.vhdr`` names a ``.eeg`` (samples) and
a ``.vmrk`` (markers), EEGLAB's ``.set`` keeps its samples in a ``.fdt``, and a manifest's
sidecars (``.csv_bi``, ``.tse``, seizure lists, ``events.tsv``, ``channels.tsv``) add labels and
events. Every file whose bytes reach the store enters the recording's fingerprint: its record
lists each one (``source_files``: path relative to the corpus root, size, mtime, SHA-256), and
a re-run calls the recording current only when every one of them is unchanged.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from eegprep.corpus.discover import SourceItem
from eegprep.corpus.locate import existing_sidecars, wanted_sidecars
from eegprep.corpus.manifest import Manifest
from eegprep.readers.companions import data_files


def recording_files(manifest: Manifest, root: str, item: SourceItem) -> list[str]:
    """Every file whose bytes reach the store for ``item``: relative paths, source first.

    The source, the files its format reads with it (:func:`data_files`) and the manifest's
    sidecars that exist now (``[sidecar] suffixes`` and ``files``).
    """
    path = os.path.join(root, item.relpath)
    found = [path, *data_files(path)]
    if manifest.sidecar_parser and (manifest.sidecar_suffixes or manifest.sidecar_files):
        fields = {**item.field_dict(), "part": item.part or ""}
        try:
            wanted = wanted_sidecars(manifest, root, path, fields)
        except Exception:  # a template error is reported by the task itself
            wanted = []
        found += existing_sidecars(wanted)
    rels = [os.path.relpath(p, root).replace(os.sep, "/") for p in dict.fromkeys(found)]
    return [rels[0], *sorted(set(rels[1:]) - {rels[0]})]


@dataclass(frozen=True)
class FileStamp:
    """One file's identity: ``path`` relative to the corpus root, size in bytes, mtime in ns."""

    path: str
    size: int
    mtime_ns: int


def stamp_files(root: str, rels: list[str]) -> tuple[FileStamp, ...]:
    """Size and mtime of each file (``OSError`` when one cannot be read)."""
    out = []
    for rel in rels:
        st = os.stat(os.path.join(root, rel))
        out.append(FileStamp(rel, st.st_size, st.st_mtime_ns))
    return tuple(out)


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(root: str, stamps: tuple[FileStamp, ...]) -> list[dict[str, Any]]:
    """The record's ``source_files``: each file's path, size, mtime and SHA-256."""
    return [
        {
            "path": s.path,
            "size": s.size,
            "mtime_ns": s.mtime_ns,
            "sha256": file_sha256(os.path.join(root, s.path)),
        }
        for s in stamps
    ]


def is_unchanged(
    record: dict[str, Any], root: str, stamps: tuple[FileStamp, ...], *, checksums: bool
) -> bool:
    """Whether the files listed now are exactly the record's, with the same bytes.

    By size and mtime, or, with ``checksums``, by SHA-256 of every file. A record written
    before ``source_files`` existed knows only its source: it is current only when no other
    file makes up the recording now.
    """
    listed = record.get("source_files")
    if listed is None:
        listed = [
            {
                "path": record.get("source"),
                "size": record.get("source_size"),
                "mtime_ns": record.get("source_mtime_ns"),
                "sha256": record.get("source_sha256"),
            }
        ]
    if [f.get("path") for f in listed] != [s.path for s in stamps]:
        return False
    for old, now in zip(listed, stamps):
        if old.get("size") != now.size:
            return False
        if checksums:
            if old.get("sha256") != file_sha256(os.path.join(root, now.path)):
                return False
        elif old.get("mtime_ns") != now.mtime_ns:
            return False
    return True
