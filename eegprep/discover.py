"""Find a corpus's recordings on disk, as its manifest describes them.

The corpus root is tolerant of being given one level up or down (``/data/tuh_eeg/edf`` or
``/data`` for a root ``/data/tuh_eeg``): the include globs' fixed leading folders decide.
Every file is listed in a stable (sorted) order; files the globs find but the path pattern does
not match are reported, never silently skipped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from eegprep.errors import UsageError
from eegprep.manifest import Manifest
from eegprep.readers import get_reader
from eegprep.readers.base import Reader

_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class SourceItem:
    """One recording to ingest: a file (and a part of it, for multi-recording files)."""

    relpath: str
    part: str | None
    name: str
    fields: tuple[tuple[str, str], ...]

    def field_dict(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass
class Discovery:
    root: Path
    items: list[SourceItem]
    unmatched: list[tuple[str, str]] = field(default_factory=list)
    n_files: int = 0


def _anchor(pattern: str) -> str:
    """The fixed leading folders of a glob (``edf/**/*.edf`` -> ``edf``)."""
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return "/".join(parts)


def resolve_root(manifest: Manifest, root: Path) -> Path:
    """The corpus root, allowing the user's folder to be one level above or below it."""
    root = root.expanduser().resolve()
    if not root.exists():
        raise UsageError(f"{root}: corpus folder not found")
    if not root.is_dir():
        raise UsageError(f"{root}: expected the corpus folder, got a file")
    anchors = [a for a in (_anchor(p) for p in manifest.include) if a]
    if not anchors:
        return root
    candidates = [root, root.parent, *sorted(p for p in root.iterdir() if p.is_dir())]
    for cand in candidates:
        if any((cand / a).is_dir() for a in anchors):
            return cand
    return root


def discover(manifest: Manifest, root: Path, *, limit: int | None = None) -> Discovery:
    """List the recordings of a corpus in sorted order (at most ``limit`` files)."""
    root = resolve_root(manifest, root)
    files: set[str] = set()
    for pattern in manifest.include:
        for p in root.glob(pattern):
            if p.is_file():
                files.add(p.relative_to(root).as_posix())
    rels = sorted(f for f in files if not any(fnmatch.fnmatch(f, x) for x in manifest.exclude))
    if limit is not None:
        rels = rels[:limit]
    reader = get_reader(manifest.reader)
    multi = reader.parts.__func__ is not Reader.parts.__func__  # type: ignore[attr-defined]
    items: list[SourceItem] = []
    unmatched: list[tuple[str, str]] = []
    for rel in rels:
        fields = manifest.fields(rel)
        if fields is None:
            unmatched.append((rel, f"path matches no rule of {manifest.name}'s path.pattern"))
            continue
        parts: list[str | None] = [None]
        if multi:
            try:
                parts = reader.parts(str(root / rel), **dict(manifest.reader_options))
            except Exception as exc:  # reported per file; discovery goes on
                unmatched.append((rel, f"cannot list its recordings: {exc}"))
                continue
        for part in parts:
            items.append(
                SourceItem(rel, part, _name(manifest, fields, part), tuple(fields.items()))
            )
    return Discovery(root, _dedupe(items), unmatched, len(rels))


def _name(manifest: Manifest, fields: dict[str, str], part: str | None) -> str:
    try:
        name = manifest.name_template.format(**fields, part=part or "")
    except KeyError as exc:
        raise UsageError(
            f"{manifest.file}: path.name uses {exc} which the path pattern does not capture"
        ) from None
    if part and "{part}" not in manifest.name_template:
        name = f"{name}_{part}"
    return _SAFE.sub("_", name).strip("_") or "recording"


def _dedupe(items: list[SourceItem]) -> list[SourceItem]:
    """Make names unique: a clash gets a short hash of its path (stable across runs)."""
    count: dict[str, int] = {}
    for it in items:
        count[it.name] = count.get(it.name, 0) + 1
    out = []
    for it in items:
        if count[it.name] > 1:
            digest = hashlib.sha1(f"{it.relpath}:{it.part}".encode()).hexdigest()[:6]
            it = SourceItem(it.relpath, it.part, f"{it.name}~{digest}", it.fields)
        out.append(it)
    return out
