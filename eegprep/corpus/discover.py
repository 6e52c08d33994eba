"""Find a corpus's recordings on disk, as its manifest describes them.

The corpus root is tolerant of being given one level up or down (``/data/tuh_eeg/edf`` or
``/data`` for a root ``/data/tuh_eeg``): the include globs' fixed leading folders decide.
Every file is listed in a stable (sorted) order; files the globs find but the path pattern does
not match are reported, never silently skipped. The folder is walked once
(:mod:`eegprep.corpus.walk`: links to folders followed, loops and second names of a folder
named), and a file found under several names is listed under one, the others named.
"""

from __future__ import annotations

import codecs
import fnmatch
import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eegprep.base.errors import EegprepError, SourceError, StoreFormatError, UsageError
from eegprep.base.files import as_text, enclosing_store
from eegprep.base.path_limits import shown_path, unmatched_pattern
from eegprep.base.regular_files import open_regular, special_file
from eegprep.base.wording import counted
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.orphan_sidecars import orphan_sidecars
from eegprep.corpus.other_readers import (
    looks_like,
    other_reader_hint,
    reads,
    unmatched_reasons,
)
from eegprep.corpus.split_parts import later_parts
from eegprep.corpus.walk import one_name_each, walk_corpus
from eegprep.readers import get_reader
from eegprep.readers.base import Reader, exception_summary

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
    twins: dict[str, str] = field(default_factory=dict)
    """Each second name of a file skipped (a hard link, or a link to a file listed under its
    own name) -> the name it is listed under (:func:`~eegprep.corpus.walk.one_name_each`)."""
    twin_folders: dict[str, str] = field(default_factory=dict)
    """Each folder not walked as a second name of another -> that folder
    (:attr:`~eegprep.corpus.walk.Tree.second_folders`)."""

    def first_name(self, rel: str) -> str | None:
        """The path the file ``rel`` (relative to the root) is listed under where ``rel`` is
        a second name of it (:attr:`twins`, or a path under one of :attr:`twin_folders`),
        else None."""
        if rel in self.twins:
            return self.twins[rel]
        parts = rel.split("/")
        for n in range(len(parts) - 1, 0, -1):
            first = self.twin_folders.get("/".join(parts[:n]))
            if first is not None:
                return "/".join([first, *parts[n:]] if first else parts[n:])
        return None


def _anchor(pattern: str) -> str:
    """The fixed leading folders of a glob (``edf/**/*.edf`` -> ``edf``)."""
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return "/".join(parts)


def resolve_root(manifest: Manifest, root: Path, setting: str = "--src") -> Path:
    """The corpus root, allowing the user's folder to be one level above or below it;
    ``setting`` is what named ``root`` (``--src``, ``EEGPREP_TUH_DIR``, a config file's entry:
    :class:`~eegprep.corpus.folders.CorpusFolder`), which a line about a wrong folder names."""
    encoding = codecs.lookup(sys.getfilesystemencoding()).name
    if encoding != "utf-8":  # names would be mojibake (latin-1) or all 'not UTF-8' (ascii)
        raise UsageError(
            f"{as_text(str(root))}: this Python reads file names as {encoding}, not UTF-8 (Python "
            "outside UTF-8 mode under a locale that is not UTF-8), and a store records every "
            "source by its UTF-8 name: run eegprep with PYTHONUTF8=1, or under a UTF-8 locale "
            "(LANG=C.UTF-8)"
        )
    root = root.expanduser().resolve()
    if as_text(str(root)) != str(root):
        raise UsageError(
            f"{as_text(str(root))}: the corpus folder's path is not UTF-8 (bytes shown as \\xNN) "
            "and the readers cannot open files under it: rename it (and any folder above it "
            "whose name is not UTF-8)"
        )
    try:  # (a folder above it or it that may not be searched or listed: EACCES)
        return _settled_root(manifest, root, setting)
    except OSError as exc:
        raise UsageError(
            f"{_named(root, setting)}: cannot list the corpus folder ({exc.strerror or exc}): "
            "fix its permissions, or name another folder"
        ) from None


def _settled_root(manifest: Manifest, root: Path, setting: str) -> Path:
    """:func:`resolve_root` once ``root``'s path is known to be good; an ``OSError`` where
    ``root`` cannot be looked into (it met the store test as an unusable ``zarr.json``)."""
    if not root.exists():
        raise UsageError(f"{shown_path(root)}: corpus folder not found{unmatched_pattern(root)}")
    if not root.is_dir():
        kind = special_file(root) or "a file"
        raise UsageError(f"{shown_path(root)}: expected the corpus folder, got {kind}")
    store = enclosing_store(root)
    if store is not None:  # `--src` and `--out` swapped: its objects are no recordings
        fix = "did you swap --src and --out?" if setting == "--src" else f"correct {setting}"
        raise UsageError(
            f"{_named(root, setting)}: the corpus folder is {'' if store == root else 'inside '}"
            f"the eegprep store {as_text(str(store))}, not a folder of recordings: {fix}"
        )
    anchors = [a for a in (_anchor(p) for p in manifest.include) if a]
    if not anchors:
        return root
    candidates = [root, root.parent, *sorted(p for p in root.iterdir() if p.is_dir())]
    for cand in candidates:
        if any((cand / a).is_dir() for a in anchors):
            return cand
    return root


def _named(root: Path, setting: str) -> str:
    """``root`` as a line about it names it: with the setting that named it, unless that is
    ``--src`` (the command line the user just typed)."""
    return shown_path(root) if setting == "--src" else f"{shown_path(root)} ({setting})"


def discover(
    manifest: Manifest, root: Path, *, limit: int | None = None, setting: str = "--src"
) -> Discovery:
    """List the recordings of a corpus in sorted order (at most ``limit`` files).

    File names are matched case-insensitively (``*.edf`` finds ``a.EDF`` and ``b.Edf``: real
    archives mix them); folder names are matched as written, since they carry identity (BIDS
    entities, TUH splits) that the path pattern reads case-sensitively. A file whose path
    pattern does not match as spelled is tried again with its extension in lower case.

    Raises
    ------
    UsageError
        When no file at all matches the include globs: one line naming the root (and
        ``setting``, what named it: :func:`resolve_root`), the globs and, when there are any,
        files the globs missed by a hair (another case or extension) or folders that could not
        be listed.
    """
    root = resolve_root(manifest, root, setting)
    files: set[str] = set()
    odd: dict[str, str] = {}  # matched, but no file to read: why
    # links to folders followed once, as `*` and `**` alike; hidden and excluded folders unlisted
    tree = walk_corpus(root, _folders_left_out(manifest.include, manifest.exclude))
    included = _inclusion(manifest.include)
    top = str(root)
    for rel in tree.entries:
        if included(rel):
            path = os.path.join(top, rel)  # (not pathlib: 5x the time on 50,000 files)
            if os.path.isfile(path):
                files.add(rel)
            elif not os.path.isdir(path):
                odd[rel] = _not_a_file(Path(path))
    if not files and not odd:
        raise UsageError(_nothing_found(manifest, root, setting, tree.problems))
    excluded = _exclusion(manifest.exclude)
    rels = sorted(f for f in files if not excluded(f))
    later = later_parts(top, rels)  # read with their first part, no recording of their own
    rels = [rel for rel in rels if rel not in later]
    unmatched = [  # `sourcedata/**` takes `sourcedata/`, `latest` takes `latest/`
        (rel, why) for rel, why in tree.problems if not (excluded(rel) or excluded(rel[:-1]))
    ]
    unmatched += [(as_text(rel), why) for rel, why in sorted(odd.items()) if not excluded(rel)]
    if limit is not None:
        rels = rels[:limit]
    listable = _listable(manifest, root, rels, unmatched)
    kept, twins = one_name_each(root, list(listable))  # among names that can be listed
    unmatched += [(as_text(rel), _twin(first)) for rel, first in twins]
    unmatched += orphan_sidecars(  # (all included files: a `limit` leaves no label file out)
        manifest,
        (rel for rel in tree.entries if not excluded(rel)),
        files,
        lambda rel: (
            included(rel) and not excluded(rel) and recording_fields(manifest, rel) is not None
        ),
    )
    items = _items(manifest, root, kept, listable, unmatched)
    n_files = len(rels) + sum(1 for rel in odd if not excluded(rel))  # odd ones are skipped
    return Discovery(
        root, resolve_names(items), unmatched, n_files, dict(twins), tree.second_folders
    )


def _items(
    manifest: Manifest,
    root: Path,
    kept: list[str],
    listable: dict[str, dict[str, str]],
    unmatched: list[tuple[str, str]],
) -> list[SourceItem]:
    """One :class:`SourceItem` per recording of each file ``kept`` (its path fields in
    ``listable``): one per part a multi-recording reader lists, else one for the file; a
    file whose parts cannot be listed goes to ``unmatched`` with why."""
    reader = get_reader(manifest.reader)
    multi = reader.parts.__func__ is not Reader.parts.__func__  # type: ignore[attr-defined]
    items: list[SourceItem] = []
    for rel in kept:
        fields = listable[rel]
        parts: list[str | None] = [None]
        if multi:
            try:
                parts = reader.parts(str(root / rel), **dict(manifest.reader_options))
            except Exception as exc:  # reported per file; discovery goes on
                unmatched.append((rel, f"cannot list its recordings: {_listing_problem(exc)}"))
                continue
        for part in parts:
            items.append(
                SourceItem(rel, part, _name(manifest, fields, part, rel), tuple(fields.items()))
            )
    return items


def _listable(
    manifest: Manifest, root: Path, rels: list[str], unmatched: list[tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """The path fields of each of ``rels`` that can be listed; ``(rel, why)`` in ``unmatched``
    for each that cannot (a name not UTF-8, a macOS metadata file, a path no rule matches)."""
    out: dict[str, dict[str, str]] = {}
    skipped: list[tuple[str, str]] = []  # why "" : no rule matches it (said below, together)
    for rel in rels:
        if not _is_utf8(rel):  # no index line, report or output line can hold its name
            skipped.append((as_text(rel), NOT_UTF8))
        elif rel.rpartition("/")[2].startswith("._") and is_apple_double(root / rel):
            skipped.append((rel, APPLE_DOUBLE))
        elif (fields := recording_fields(manifest, rel)) is None:
            skipped.append((rel, ""))
        else:
            out[rel] = fields
    # a folder of .mat files given to `folder`: which reader they need, once for them all
    unruled = [r for r, w in skipped if not w]
    said = iter(unmatched_reasons(manifest.name, manifest.reader, unruled, root=str(root)))
    unmatched += [(rel, why) if why else next(said) for rel, why in skipped]
    return out


APPLE_DOUBLE = (
    "a macOS metadata file (AppleDouble, written beside each file copied from a Mac), not a "
    "recording: nothing to read; remove them (`dot_clean DIR` on a Mac, or "
    "`find DIR -name '._*' -delete`)"
)
"""Why a ``._x.edf`` file holding AppleDouble bytes is skipped: every reader called it a
damaged file of its format ("version field is b'\\x00\\x05\\x16\\x07...'"), which sent users
to re-download a corpus that was whole."""

_APPLE_DOUBLE_MAGIC = b"\x00\x05\x16\x07"


def is_apple_double(path: Path) -> bool:
    """Whether ``path`` is a macOS AppleDouble file: a name starting ``._`` and its first four
    bytes AppleDouble's magic number (a file that cannot be read is left to its reader)."""
    if not path.name.startswith("._"):
        return False
    try:
        with open_regular(str(path)) as fh:
            return fh.read(4) == _APPLE_DOUBLE_MAGIC
    except (OSError, EegprepError):
        return False


def _twin(kept: str) -> str:
    """Why a second name of a file is skipped (:func:`one_name_each`)."""
    return (
        f"the same file as {shown_path(kept)} (a hard link, or a link to it): ingested once, under "
        "that name"
    )


def _listing_problem(exc: Exception) -> str:
    """The problem a reader's ``parts`` raised, as one line without the file's path: the
    report's line already opens with the path relative to the root (a :class:`SourceError`'s
    text would repeat it, absolute)."""
    if isinstance(exc, SourceError):
        return exc.problem
    if isinstance(exc, EegprepError):
        return str(exc).replace("\n", " ")
    return exception_summary(exc)


NOT_UTF8 = (
    "its name is not UTF-8 (bytes shown as \\xNN): a store records every source by its name "
    "in UTF-8; rename it (e.g. `convmv -f latin1 -t utf8`) to ingest it"
)
"""Why a file whose path holds bytes that are not UTF-8 is skipped."""


def _is_utf8(rel: str) -> bool:
    """True when ``rel`` (as :func:`os.fsdecode` gives a name) is valid UTF-8 text: a byte that
    is not arrives as a lone surrogate (``surrogateescape``), which no index line can hold."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_a_file(path: Path) -> str:
    """Why ``path``, which a glob matched, is no file to read: a link to nothing or a link
    loop, a FIFO, a socket or a device (reading a FIFO would wait for a writer forever)."""
    from eegprep.base.files import special_kind

    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if os.path.islink(path):
            return f"a link that leads to no file ({exc.strerror}): fix or remove the link"
        return f"cannot be read ({exc.strerror})"
    return f"{special_kind(mode)}, not a file: nothing to read (only regular files are ingested)"


def _any_case_name(pattern: str) -> str:
    """The glob with its last component (the file name) matching in any letter case.

    Portable before Python 3.12's ``case_sensitive``: each letter outside a ``[...]`` class
    becomes ``[xX]``; a class gets its letters in both cases (``[a-c]`` -> ``[a-cA-Ca-c]``).
    """
    head, slash, name = pattern.rpartition("/")
    out: list[str] = []
    i = 0
    while i < len(name):
        c = name[i]
        start = i + 2 if name[i + 1 : i + 2] == "!" else i + 1
        end = name.find("]", start + 1) if c == "[" else -1
        if end != -1:
            neg, body = name[i + 1 : start], name[start:end]
            out.append(f"[{neg}{body}{body.upper()}{body.lower()}]")
            i = end + 1
            continue
        out.append(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c)
        i += 1
    return f"{head}{slash}{''.join(out)}"


def _inclusion(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a relative path matches one of the ``include`` globs, as :meth:`Path.glob`
    matches: ``**`` is any number of folders, ``*``, ``?`` and ``[...]`` stay within one
    name, the last name (the file's) in any letter case (:func:`_any_case_name`). One
    expression for all the globs, matched once per file of the walk."""
    exprs = []
    for pattern in patterns:
        parts = [p for p in _any_case_name(pattern).split("/") if p not in ("", ".")]
        body = "".join("(?:[^/]+/)*" if p == "**" else _glob_part(p) + "/" for p in parts)
        exprs.append(body[:-1] if body.endswith("/") else body)
    expr = re.compile("|".join(f"(?:{e})" for e in exprs), re.DOTALL)
    return lambda rel: bool(expr.fullmatch(rel))


def _glob_part(part: str) -> str:
    """One name of a glob as a regular expression that never crosses a ``/`` (``fnmatch``'s
    rules: ``[!...]`` negates, a ``]`` first in a class is one of its characters, a ``[``
    without its ``]`` is itself)."""
    out: list[str] = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "[":
            j = i + 1 + (part[i + 1 : i + 2] == "!")
            j += part[j : j + 1] == "]"
            end = part.find("]", j)
            if end != -1:
                neg = part[i + 1 : i + 2] == "!"
                body = part[i + 1 + neg : end].replace("\\", "\\\\").replace("[", "\\[")
                body = body.replace("^", "\\^")
                out.append(f"(?!/)[{'^' if neg else ''}{body}]")
                i = end + 1
                continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return "".join(out)


def _exclusion(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a relative path matches one of the ``exclude`` patterns (``fnmatch``, as
    written, or in lower case on both sides: the include rule's file name in any case).

    The patterns are compiled once into one expression: matched one by one, each file cost a
    pass over every pattern, and ``fnmatch``'s cache of compiled patterns holds only 32,768.
    """
    if not patterns:
        return lambda rel: False
    exact = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    folded = re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))
    return lambda rel: bool(exact.match(rel) or folded.match(rel.lower()))


def _folders_left_out(include: tuple[str, ...], exclude: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether the walk passes a folder (its relative path) without listing it: a hidden one
    (``.git``, ``.Trash-1000``), unless an include glob names it (``.data/*.edf``), and one
    whose every file the ``exclude`` patterns leave out (``derivatives/*``, ``sourcedata/**``:
    a pattern ending in ``*`` that matches the folder's path and a ``/``, as written or in
    lower case as :func:`_exclusion` matches, matches every path under it)."""
    named = [p for g in include for p in g.split("/") if p.startswith(".") and p.strip(".")]
    shown = re.compile("|".join(fnmatch.translate(p) for p in named)) if named else None
    wild = [p for p in exclude if p.endswith("*")]
    exact = re.compile("|".join(fnmatch.translate(p) for p in wild)) if wild else None
    folded = re.compile("|".join(fnmatch.translate(p.lower()) for p in wild)) if wild else None

    def left_out(rel: str) -> bool:
        name = rel.rpartition("/")[2]
        if name.startswith(".") and not (shown and shown.match(name)):
            return True
        folder = f"{rel}/"
        return bool(exact and folded and (exact.match(folder) or folded.match(folder.lower())))

    return left_out


def recording_fields(manifest: Manifest, rel: str) -> dict[str, str] | None:
    """Path fields of ``rel``; a pattern written for ``.edf`` also takes ``.EDF``."""
    fields = manifest.fields(rel)
    stem, dot, ext = rel.rpartition(".")
    if fields is not None or not dot or "/" in ext or ext == ext.lower():
        return fields
    fields = manifest.fields(f"{stem}.{ext.lower()}")
    if fields is not None:  # the path as it is on disk, not as it was matched
        fields.update(relpath=rel, suffix=f".{ext}")
    return fields


def _nothing_found(
    manifest: Manifest, root: Path, setting: str, problems: list[tuple[str, str]]
) -> str:
    """The one-line error for a run that matches no file; hints at near misses, first at the
    folders that could not be listed (``problems`` of the walk): what they hold is unknown."""
    globs = ", ".join(manifest.include)
    msg = f"{_named(root, setting)}: no file matches {manifest.name}'s files.include ({globs})"
    unlisted = [(rel, why) for rel, why in problems if why.startswith("cannot list")]
    if unlisted:
        rel, why = unlisted[0]
        more = f" (and {counted(len(unlisted) - 1, 'other folder')})" if len(unlisted) > 1 else ""
        where = os.path.normpath(os.path.join(root, rel))  # (in full: what `chmod` takes)
        return f"{msg}; {shown_path(where)}{more}: {why}: fix its permissions and run again"
    wanted = {_glob_suffix(p) for p in manifest.include} - {""}
    seen: dict[str, int] = {}
    formatted: dict[str, int] = {}  # of those, files whose bytes are of their suffix's format
    packed: dict[str, int] = {}  # `.edf.gz`: a wanted suffix, compressed
    archives: dict[str, int] = {}  # `subject_01_mat.zip`, Kaggle's `train.zip`: any content
    for i, p in enumerate(root.rglob("*")):
        if i >= 100_000:  # a huge wrong folder: the hint is not worth the walk
            break
        if p.is_file() and p.suffix:
            seen[p.suffix] = seen.get(p.suffix, 0) + 1
            if i >= 1000 or looks_like(str(p), p.suffix):  # (the first files' bytes read)
                formatted[p.suffix] = formatted.get(p.suffix, 0) + 1
            inner = Path(p.stem).suffix
            if p.suffix.lower() in PACKED and inner.lower() in wanted:
                packed[inner + p.suffix] = packed.get(inner + p.suffix, 0) + 1
            elif (kind := _archive_suffix(p.name)) is not None:
                archives[kind] = archives.get(kind, 0) + 1
    if not seen:
        return f"{msg}; the folder holds no file with an extension: is {setting} the right folder?"
    if packed:
        hint = ", ".join(counted(n, f"{s} file") for s, n in sorted(packed.items()))
        return (
            f"{msg}; found {hint}, compressed, which eegprep does not read: decompress "
            "them (`gunzip -rk DIR`, `unzip`, `xz -dk`) and run again"
        )
    if archives:  # (before near misses: Inria's TrainLabels.csv lies beside its train.zip)
        hint = ", ".join(counted(n, f"{s} archive") for s, n in sorted(archives.items()))
        return (
            f"{msg}; found {hint}, which eegprep does not read inside: unpack them in place "
            "(`unzip`, `tar -xf`, `7z x`) and run again"
        )
    near = [s for s in seen if s.lower() in wanted]
    top = sorted(seen, key=lambda s: (-seen[s], s))[:5]
    if near:
        hint = ", ".join(counted(seen[s], f"{s} file") for s in near)
        return f"{msg}; found {hint} in folders the globs do not reach: check --include"
    of_format = {s: formatted[s] for s in top if s in formatted}  # (no README.txt: no table)
    other = other_reader_hint(manifest.name, manifest.reader, of_format)
    if other is not None and not any(reads(manifest.reader, s) for s in top):
        # (an --include would not help: the reader cannot open them)
        return f"{msg}; found {other}"
    found = ", ".join(counted(seen[s], f"{s} file") for s in top)
    return f"{msg}; found only {found}: pass --include 'GLOB' or another corpus"


PACKED = frozenset({".gz", ".bz2", ".xz", ".zst", ".zip", ".7z"})
"""Suffixes of a compressed file (``x.edf.gz``): named as such when nothing else matched."""

ARCHIVES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".7z", ".rar")
"""Suffixes (lower case) of an archive of many files, whose name need not say what it holds:
Brain Invaders' ``subject_01_mat.zip``, Kaggle's ``train.zip`` (Grasp-and-Lift, Inria)."""


def _archive_suffix(name: str) -> str | None:
    """The archive suffix ``name`` ends in (``a.tar.gz`` -> ``.tar.gz``), None for another."""
    low = name.lower()
    return next((s for s in ARCHIVES if low.endswith(s) and len(low) > len(s)), None)


def _glob_suffix(pattern: str) -> str:
    """``**/eeg/*_eeg.vhdr`` -> ``.vhdr`` (lower case); ``""`` when the glob names none."""
    name = pattern.rpartition("/")[2]
    ext = name.rpartition(".")[2] if "." in name else ""
    return "" if not ext or any(c in ext for c in "*?[") else f".{ext.lower()}"


def _name(manifest: Manifest, fields: dict[str, str], part: str | None, relpath: str) -> str:
    """The recording's base name: the manifest's ``path.name`` template, made safe.

    A name becomes a folder of the store (``recordings/{corpus}/{name}``), so it holds only
    ``[A-Za-z0-9._+-]``, never starts with ``.`` or ``_`` (so it is never ``.``, ``..`` or
    hidden); a template's ``/`` becomes ``_`` and ``_`` at either end is dropped. When making it
    safe changed anything else (``a b.edf`` -> ``a_b``), a hash of the source path follows
    (``a_b~3f2a1c0d``): two files that differ only in unsafe characters can never share a name,
    whatever order they arrive in. Other clashes are resolved by :func:`resolve_names`.
    """
    try:
        raw = manifest.name_template.format(**fields, part=part or "")
    except KeyError as exc:
        raise UsageError(
            f"{shown_path(manifest.file)}: path.name uses {exc} which the path pattern does not "
            "capture"
        ) from None
    if part and "{part}" not in manifest.name_template:
        raw = f"{raw}_{part}"
    name = _SAFE.sub("_", raw).strip("_").lstrip(".").strip("_")
    lossy = name != raw.replace("/", "_").strip("_") or not name  # "/" -> "_", edge "_" expected
    lossy = lossy or name.lower() in RESERVED_NAMES
    if len(name) > MAX_NAME_LENGTH:  # a folder name must fit the file system (255 bytes)
        name, lossy = name[: MAX_NAME_LENGTH - 9].rstrip("._+-"), True
    if lossy:
        name = f"{name or 'recording'}~{source_digest(relpath, part)}"
    check_name(name)
    return name


def source_digest(relpath: str, part: str | None) -> str:
    """A short, stable hash of a source (path and part) that tells apart names that clash."""
    return hashlib.sha1(f"{relpath}:{part}".encode()).hexdigest()[:8]


RESERVED_NAMES = frozenset({"zarr.json"})
"""Names a corpus folder's own objects take (its group metadata), in any letter case: a
recording so named gets its source's hash."""

MAX_NAME_LENGTH = 128
"""Longer names are cut and take their source's hash: with a version suffix, a name stays far
below the 255 bytes a folder name may have."""

_NAME = re.compile(r"[A-Za-z0-9+-][A-Za-z0-9._+-]*(~[0-9a-f]{6,16})?")


def check_name(name: str) -> str:
    """``name`` when it is a safe recording name; a :class:`StoreFormatError` otherwise.

    The last guard before a name becomes a path in the store: whatever produced it, a name that
    could leave its corpus's folder (``..``, ``.``, a slash, a hidden name) is refused.
    """
    if not _NAME.fullmatch(name) or name in (".", "..") or name.lower() in RESERVED_NAMES:
        raise StoreFormatError(f"unsafe recording name {name!r}: refusing to write it")
    return name


def _listed_names(
    existing: dict[str, dict[str, Any]],
) -> tuple[dict[tuple[str, str | None], str], set[str], dict[str, str]]:
    """From a corpus's index records (``id -> record``): the name each listed source keeps
    (``(source, part) -> name``), every name taken (case-folded), and the names of records
    that name no source they can be matched by (case-folded -> name).

    A recording's name is its id's (``{corpus}/{name}``), never the record's ``name`` field: a
    hand-edited one (``"zz"``, another recording's ``"b"``) had the changed source ingested
    as a new recording beside the listed one, or as a new version of the other one (retiring
    it). A ``source`` that is not text or a ``part`` that is neither text nor null (a list
    was an internal error, ``unhashable type``), or a source two records name (one edited to
    another's), matches no source: the source of that name takes the record's place (it is
    ingested again, or found current), not a new name beside it."""
    claims: dict[tuple[str, str | None], list[str]] = {}
    taken: set[str] = set()
    sourceless: dict[str, str] = {}
    for rid, rec in existing.items():
        name = str(rec.get("id") or rid).split("/", 1)[-1]
        taken.add(name.casefold())
        if not _NAME.fullmatch(name) or name in (".", "..") or name.lower() in RESERVED_NAMES:
            continue
        source, part = rec.get("source", ""), rec.get("part")
        if isinstance(source, str) and (part is None or isinstance(part, str)):
            claims.setdefault((source, part), []).append(name)
        else:
            sourceless[name.casefold()] = name
    for names in (n for n in claims.values() if len(n) > 1):  # (one record's source edited)
        sourceless.update((name.casefold(), name) for name in names)
    listed = {key: names[0] for key, names in claims.items() if len(names) == 1}
    return listed, taken, sourceless


def resolve_names(
    items: list[SourceItem], existing: dict[str, dict[str, Any]] | None = None
) -> list[SourceItem]:
    """Give every source one name for good, whatever files come later.

    ``existing``: the corpus's index records (``id -> record``). A source already in the store
    keeps the name it was listed under. Any other source whose base name is taken (by a listed
    recording of another source, or by another new source in this run) gets its path's hash
    appended, so adding ``b/x.edf`` beside a listed ``a/x.edf`` never renames or duplicates it.
    Names that differ only in letter case clash too: they are one folder on a case-insensitive
    file system (macOS, Windows).
    """
    listed, taken, sourceless = _listed_names(existing or {})
    new = [it for it in items if (it.relpath, it.part) not in listed]
    count: dict[str, int] = {}
    for it in new:
        count[it.name.casefold()] = count.get(it.name.casefold(), 0) + 1
    out = []
    for it in items:
        kept = listed.get((it.relpath, it.part))
        if kept is None and it.name.casefold() in sourceless and count[it.name.casefold()] == 1:
            kept = sourceless[it.name.casefold()]  # (its record names no source: this is it)
        name = it.name if kept is None else kept
        clash = count.get(name.casefold(), 0) > 1 or name.casefold() in taken
        if kept is None and clash and "~" not in name:
            name = f"{name}~{source_digest(it.relpath, it.part)}"
        out.append(SourceItem(it.relpath, it.part, name, it.fields))
    return out
