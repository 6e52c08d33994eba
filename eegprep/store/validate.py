"""Check a store byte by byte against its own index; report every problem on one line.

:func:`validate` checks the store as a whole (its root group, its index and the index's fields
file, groups on disk that the index does not list) and every listed recording with
:func:`recording_problems`, which reads every byte of the recording: the group and its
metadata, every shard (present, whole, its index's CRC-32C), every chunk (its CRC-32C where the
store has them, decoded to a whole chunk, finite samples), the ``channel`` and ``time``
coordinates and any target series. Retired groups (versions a re-ingest or ``--prune``
replaced, kept for readers of an older index) are read the same way
(:func:`retired_group_problems`), their lines apart (:func:`check_store`).

Each problem is one line naming the recording id or the object; nothing raised while checking
escapes (it becomes a line too): a damaged store is reported, never a traceback. What is no
damage, a group that holds no record (what a stopped ingest leaves), is a note, apart
(:attr:`Validation.notes`). Only misuse
raises: a location that holds no eegprep store at all, or one of a newer format.

Concurrency contract: read-only; safe while an ingest writes, except that groups it is
committing at that moment may be reported as not listed (a retired group it deletes meanwhile
is not reported).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import StoreFormatError, StoreNotFoundError
from eegprep.base.files import TMP_MARK
from eegprep.base.sealed import KEY, seal_problem
from eegprep.store.fs import Location
from eegprep.store.group_attrs import differing_keys, holds_no_record, not_a_group, shown_keys
from eegprep.store.index import INDEX_DIR, fields_file_problem, read_index_checked
from eegprep.store.lock_file import ingest_running
from eegprep.store.reader import FORMAT, FORMAT_VERSION
from eegprep.store.retired_list import (
    RECORD,
    RETIRED,
    RETIRED_REASONS,
    RetiredEntry,
    retired_entries,
)
from eegprep.store.shard_reader import ShardReader

BLOCK = 360_000  # samples per read of an array not in eegprep's own layout (one shard)
MAX_LINES = 20  # problems listed per recording (and unlisted groups per store), then a count


@dataclass(frozen=True)
class Validation:
    """What :func:`check_store` found: ``checked`` listed recordings, ``retired`` retired
    groups checked, ``problems`` one line each (those of retired groups start with
    :data:`RETIRED_PREFIX`), and ``notes``, one line each about what is no damage: groups
    that hold no record (what a stopped ingest leaves), which the next ingest retires and
    later deletes."""

    checked: int
    retired: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def retired_problems(self) -> list[str]:
        return [p for p in self.problems if p.startswith(RETIRED_PREFIX)]


RETIRED_PREFIX = "retired group "


def validate(url: str) -> tuple[int, list[str]]:
    """Check a whole store. Returns (recordings checked, problems: one line each), the
    problems of retired groups included (:func:`check_store`).

    Raises :class:`StoreNotFoundError` or :class:`StoreFormatError` only when ``url`` holds
    no eegprep store at all, or one of a format newer than this eegprep understands.
    """
    result = check_store(url)
    return result.checked, result.problems


def check_store(url: str) -> Validation:
    """Check a whole store: its listed recordings, its bookkeeping, and its retired groups
    (replaced versions kept for readers of an older index: :func:`retired_group_problems`),
    whose problems are lines of their own, each starting ``retired group {group}``. Groups
    that hold no record are no damage: each is a line of :attr:`Validation.notes`."""
    loc = Location.parse(url)
    problems: list[str] = []
    notes: list[str] = []
    attrs = _root_attrs(loc, problems)
    records = _index(loc, problems)
    retired = _retired(loc, problems)
    _unlisted_groups(loc, records, set(retired), problems, notes)
    _bookkeeping(loc, records, problems)
    recipe_hash = attrs.get("recipe_hash") if attrs else None
    for record in records.values():
        rid = record.get("id")
        source = functools.partial(_index_line, loc, rid)
        problems += recording_problems(loc, record, recipe_hash=recipe_hash, source=source)
    listed = {r.get("group") for r in records.values()}
    n_retired, empty = 0, []
    for group in sorted(set(retired) - listed):  # (a listed one is checked above)
        found = retired_group_problems(loc, group, record=retired[group].record)
        if found is not None:
            n_retired += 1
            problems += found
        elif holds_no_record(loc, group):
            empty.append(group)
    notes += _no_record_notes(empty, retired=True)
    return Validation(len(records), n_retired, problems, notes)


def _no_record_notes(groups: list[str], *, retired: bool) -> list[str]:
    """A ``note`` line for each group that holds no record (at most :data:`MAX_LINES`)."""
    what = "no zarr.json, or empty attributes: what a stopped ingest leaves of a group it never "
    if retired:
        prefix = RETIRED_PREFIX
        what += "listed, or a deletion cut short); nothing to check: an ingest deletes it after "
    else:
        prefix = ""
        what += "listed); not damage: the next ingest retires it, and deletes it after "
    lines = [f"{prefix}{g}: holds no record ({what}--keep-replaced" for g in groups]
    if len(lines) > MAX_LINES:
        more = len(lines) - MAX_LINES
        lines = [*lines[:MAX_LINES], f"recordings: {more} more groups that hold no record"]
    return lines


def _index_line(loc: Location, rid: Any) -> str:
    """``the index record (in _eegprep/index/{segment})``: the segment of ``rid``'s line."""
    from eegprep.store.index import record_segment

    try:
        segment = record_segment(loc, str(rid))
    except (OSError, ValueError):
        segment = None
    return "the index record" + (f" (in {'/'.join(INDEX_DIR)}/{segment})" if segment else "")


def retired_group_problems(
    loc: Location, group: str, *, record: str | None = None
) -> list[str] | None:
    """Everything wrong with the retired group ``group`` (a replaced or removed version that
    the index no longer lists, kept for readers of an older index), reading every byte of it
    as :func:`recording_problems` reads a listed recording. Each line starts ``retired group
    {group}``.

    Its record is the sealed copy the writer put in ``{group}/record.json`` when it retired it
    (the index record it was listed with), which its attributes must equal; without one (a
    group retired by an earlier version, or never listed: an orphan) its attributes are taken
    for its record, and only what the arrays repeat of them is checked. ``record``: the
    ``crc32c`` of that ``record.json`` as ``_eegprep/retired.json`` states it (its entry's
    third field; None when the entry says none was written, or is of an earlier version): a
    ``record.json`` that is missing then, or is another one, is damage.

    None when it holds nothing of a recording to check: the group is gone or being deleted (an
    ingest clears its entry's checksum, then deletes its ``record.json``, then its
    ``zarr.json``), holds no record (what a stopped ingest leaves of a group it never listed:
    no ``zarr.json``, or empty attributes), holds the record of neither its own id nor its own
    path (a group copied there: no version of anything), or was replaced because it was damaged
    (``--repair``: its ``record.json`` says so). A record that names this path and another id,
    or this id and another path, is damage (a flipped bit in ``id`` or ``group``)."""
    name = f"{RETIRED_PREFIX}{group}"
    lines: list[str] = []
    kept = _retired_record(loc, group, name, lines, record)
    if kept is not None and kept.get("reason") == "repaired":
        return None  # its damage is known: --repair replaced it
    had_record = kept is not None or bool(lines)
    if record is not None and not had_record:  # the record.json it was retired with is gone
        if not _still_sealed(loc, group):
            return None  # its deletion began meanwhile: an ingest clears the checksum first
        if not loc.exists(group):
            return [f"{name}: missing, all of it ({'/'.join(RETIRED)} lists it with the "
                    f"checksum of the {RECORD} written when it was retired; a reader of an older "
                    "index fails on it)"]  # fmt: skip
        lines.append(f"{name}: {group}/{RECORD} missing ({'/'.join(RETIRED)} says it was "
                     "written when the group was retired: the sealed copy of the record it was "
                     "listed with, which its attributes are checked against)")  # fmt: skip
    try:
        blob: bytes | None = loc.read_bytes(group, "zarr.json")
    except FileNotFoundError:
        blob = None
    except OSError as exc:
        return [*lines, f"{name}: {group}/zarr.json unreadable ({type(exc).__name__}: {exc})"]
    if kept is not None:
        if blob is None:
            lines.append(f"{name}: {group}/zarr.json missing (the group's metadata; "
                         f"{group}/{RECORD} holds the record it was listed with)")  # fmt: skip
        else:
            listed_with = f"{group}/{RECORD} (the record it was listed with)"
            lines += recording_problems(loc, kept["record"], name=name, source=listed_with)
    elif blob is not None:
        found = _attributes_as_record(loc, group, name, blob)
        if found is None and not lines:
            return None
        lines += found or []
    elif not lines:
        return None
    _removed_marker(loc, group, name, kept, lines)
    if not lines:
        return []
    if (had_record and not loc.exists(group, RECORD)) or (
        blob is not None and not loc.exists(group, "zarr.json")
    ):
        return None  # deleted while it was read: its time was up
    return [line.replace(REPAIR, NOT_REWRITTEN) for line in lines]


REPAIR = "`eegprep ingest --repair` writes the recording again"
NOT_REWRITTEN = "a retired version is not written again"


def _still_sealed(loc: Location, group: str) -> bool:
    """Whether ``_eegprep/retired.json``, read again, still lists ``group`` with the checksum
    of its ``record.json``: an ingest deleting the group clears it first, so a group whose
    deletion began after validate read the list is not taken for damage."""
    try:
        good, _bad = retired_entries(strict_json.loads(loc.read_bytes(*RETIRED)))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return any(e.group == group and e.record is not None for e in good)


def _retired_record(
    loc: Location, group: str, name: str, lines: list[str], sealed: str | None = None
) -> dict[str, Any] | None:
    """The sealed copy of a retired group's record (``{group}/record.json``), or None: absent,
    or damaged (a line in ``lines``): failing its own checksum, or (``sealed``, the checksum
    ``_eegprep/retired.json`` states for it) another record than the one written when the group
    was retired."""
    where = f"{group}/{RECORD}"
    try:
        doc = strict_json.loads(loc.read_bytes(group, RECORD))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        lines.append(f"{name}: {where} damaged ({type(exc).__name__}: {exc})")
        return None
    if not isinstance(doc, dict):
        lines.append(f"{name}: {where} damaged (not an object)")
        return None
    keys = {"record", "reason", KEY} | ({"damage"} if doc.get("reason") == "repaired" else set())
    problem = seal_problem(doc)
    if problem is None and KEY not in doc:
        problem = "it has no checksum"
    if problem is None and (set(doc) != keys or doc["reason"] not in RETIRED_REASONS):
        problem = f"keys {sorted(doc)}, reason {doc.get('reason')!r}"
    record = doc.get("record")
    if problem is None and not (isinstance(record, dict) and record.get("group") == group):
        problem = f"its record is not this group's (group {_group_of(record)!r})"
    if problem is None and sealed is not None and doc[KEY] != sealed:
        problem = (f"not the one written when the group was retired: its {KEY} is "
                   f"{doc[KEY]}, {'/'.join(RETIRED)} says {sealed}")  # fmt: skip
    if problem is not None:
        lines.append(f"{name}: {where} damaged ({problem})")
        return None
    return doc


def _removed_marker(
    loc: Location, group: str, name: str, kept: dict[str, Any] | None, lines: list[str]
) -> None:
    """A pruned group's ``removed.json`` (``{"id", "removed_at", "crc32c"}``; earlier versions
    wrote no checksum), which keeps it from being listed again: there when its ``record.json``
    says ``removed``, naming the group's id, its checksum passing."""
    from eegprep.store.writer import REMOVED

    where = f"{group}/{REMOVED}"
    try:
        doc = strict_json.loads(loc.read_bytes(group, REMOVED))
    except FileNotFoundError:
        if kept is not None and kept.get("reason") == "removed":
            lines.append(f"{name}: {where} missing (--prune wrote it, as {group}/{RECORD} "
                         "says: without it a later ingest may list the group again)")  # fmt: skip
        return
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        lines.append(f"{name}: {where} damaged ({type(exc).__name__}: {exc})")
        return
    corpus, version = group.split("/")[1:3]
    problem = seal_problem(doc) if isinstance(doc, dict) else "not an object"
    when = doc.get("removed_at") if isinstance(doc, dict) else None
    if problem is None and not (
        set(doc) - {KEY} == {"id", "removed_at"}
        and doc["id"] == f"{corpus}/{version.split('@')[0]}"
        and isinstance(when, int | float)
        and not isinstance(when, bool)
    ):
        problem = f"not the removal mark of this group: {doc}"
    if problem is not None:
        lines.append(f"{name}: {where} damaged ({problem})")


def _group_of(record: Any) -> Any:
    return record.get("group") if isinstance(record, dict) else None


def _attributes_as_record(loc: Location, group: str, name: str, blob: bytes) -> list[str] | None:
    """A retired group without its ``record.json``: its attributes taken for its record; None
    for a group that holds none to check (:func:`retired_group_problems`)."""
    attrs: Any = None
    try:
        doc = strict_json.loads(blob)
        attrs = doc.get("attributes") if isinstance(doc, dict) else None
        what = "its attributes are not an object"
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        what = f"{type(exc).__name__}: {exc}"
    if not isinstance(attrs, dict):
        return [f"{name}: {group}/zarr.json damaged ({what})"]
    if not attrs:
        return None  # what a stopped ingest leaves: no record
    corpus, version = group.split("/")[1:3]
    own_id = attrs.get("id") == f"{corpus}/{version.split('@')[0]}"
    own_group = attrs.get("group") == group
    if not (own_id or own_group):
        return None  # copied there: no version of anything
    if not (own_id and own_group):
        wrong = "group" if own_id else "id"
        return [f"{name}: {group}/zarr.json damaged (its record's {wrong} is "
                f"{attrs.get(wrong)!r}, not this group's)"]  # fmt: skip
    return recording_problems(loc, attrs, name=name)


def recording_problems(
    loc: Location,
    record: dict[str, Any],
    *,
    recipe_hash: str | None = None,
    name: str | None = None,
    source: str | Callable[[], str] = "the index record",
) -> list[str]:
    """Everything wrong with one listed recording, reading every byte of it (no Store needed).

    Parameters
    ----------
    loc : Location
        The store.
    record : dict
        The recording's index record.
    recipe_hash : str, optional
        The store's recipe hash; the record's must equal it when given.
    name : str, optional
        What each line starts with; the record's id when not given.
    source : str or callable, optional
        Where ``record`` comes from, as a line naming it says (or a function giving it, asked
        only then).

    Returns
    -------
    list of str
        One line per problem, each starting with ``name``; empty when it is sound.
    """
    rid = name if name is not None else str(record.get("id", "?"))
    out: list[str] = []
    with warnings.catch_warnings():  # numcodecs' zarr3 codecs (quantized encoding)
        warnings.simplefilter("ignore")
        try:
            _check_recording(loc, record, rid, recipe_hash, out, source)
        except Exception as exc:  # a check must never crash validate: report and go on
            out.append(f"{rid}: cannot be checked: {type(exc).__name__}: {exc}")
    if len(out) > MAX_LINES:
        out = [*out[:MAX_LINES], f"{rid}: {len(out) - MAX_LINES} more problems"]
    return out


def _check_recording(
    loc: Location,
    record: dict[str, Any],
    rid: str,
    recipe_hash: str | None,
    out: list[str],
    source: str | Callable[[], str],
) -> None:
    group, channels, n_samples = (
        record.get("group"),
        record.get("channels"),
        record.get("n_samples"),
    )

    def src() -> str:
        return source() if callable(source) else source

    if not (isinstance(group, str) and isinstance(channels, list) and isinstance(n_samples, int)):
        out.append(f"{rid}: {src()} lacks a valid 'group', 'channels' or 'n_samples'")
        return
    if not _GROUP_OF.fullmatch(group) or group.split("/", 1)[1].split("@")[0] != record.get("id"):
        out.append(
            f"{rid}: {src()} names the group {group!r}, which is not a version of "
            f"recordings/{record.get('id')} (damaged)"
        )
        return  # (not read: it may be another recording's)
    if recipe_hash is not None and record.get("recipe_hash") != recipe_hash:
        out.append(
            f"{rid}: recipe hash {record.get('recipe_hash')} in {src()} differs from the store's "
            f"{recipe_hash}"
        )
    if not _group_metadata(loc, rid, group, record, out, src):
        return
    checks: list[tuple[str, Callable[..., None]]] = [
        ("data", _data),
        ("channel", _channel),
        ("time", _time),
        ("targets", _targets),
        ("metadata", _array_documents),
    ]
    for name, check in checks:
        try:
            check(loc, rid, group, record, out)
        except StoreFormatError as exc:  # (names the file)
            out.append(f"{rid}: {exc}")
        except Exception as exc:
            out.append(f"{rid}: {group}/{name} unreadable: {type(exc).__name__}: {exc}")


_GROUP_OF = re.compile(r"recordings/[^/@]+/[^/@]+(@[1-9][0-9]*)?")
"""A recording group's path: ``recordings/{id}`` or ``recordings/{id}@{k}``."""


def _group_metadata(
    loc: Location,
    rid: str,
    group: str,
    record: dict[str, Any],
    out: list[str],
    source: str | Callable[[], str],
) -> bool:
    """The group's ``zarr.json`` parses and agrees with the record; False when it is missing."""
    try:
        blob = loc.read_bytes(group, "zarr.json")
    except FileNotFoundError:
        other = source() if callable(source) else source
        out.append(f"{rid}: recording group {group} missing (no {group}/zarr.json), as "
                   f"{other} names it")  # fmt: skip
        return False
    try:
        doc = strict_json.loads(blob)
        attrs = doc["attributes"]
    except (ValueError, KeyError, TypeError) as exc:
        out.append(f"{rid}: {group}/zarr.json damaged ({type(exc).__name__}: {exc})")
        return True
    if not isinstance(attrs, dict):
        out.append(f"{rid}: {group}/zarr.json damaged (its attributes are not an object)")
        return True
    node = not_a_group(doc)
    if node:
        out.append(f"{rid}: {group}/zarr.json damaged ({node})")
    # the attributes are the whole record, written with it: any difference is damage to one
    differ = differing_keys(attrs, record)
    if differ:
        shown, other = shown_keys(differ), source() if callable(source) else source
        out.append(
            f"{rid}: {group}/zarr.json attributes and {other} differ in {shown}: one of them is "
            f"damaged ({REPAIR})"
        )
    problem = channel_index_problem(record)
    if problem:
        out.append(f"{rid}: index record: {problem}")
    return True


def channel_index_problem(record: dict[str, Any]) -> str | None:
    """Whether the record's ``channel_index`` (each channel's row of the model's position
    table) is the vocabulary's index of each of its ``channels``; a flipped index would give a
    channel another site's position, silently."""
    channels, index = record.get("channels") or [], record.get("channel_index")
    if index is None:
        return None  # records of versions before the field
    expected = [_position(str(c)) for c in channels]
    if list(index) != expected:
        bad = [str(c) for c, i, e in zip(channels, index, expected, strict=False) if i != e]
        return (
            f"channel_index {list(index)[:8]} does not give the vocabulary's positions of its "
            f"channels (first wrong: {', '.join(bad[:3]) or 'the count'})"
        )
    return None


def _data(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    expected = (len(record["channels"]), record["n_samples"])
    reader = ShardReader.open(loc, f"{group}/data")
    if reader is None:  # not in eegprep's own layout: zarr reads it
        _data_with_zarr(loc, rid, group, expected, out)
        return
    if (reader.n_channels, reader.n_samples) != expected:
        shape = (reader.n_channels, reader.n_samples)
        out.append(f"{rid}: data shape {shape}, index says {expected}")
        return
    problem = reader.decoding_problem(record.get("encoding"), record.get("quantum_uv"))
    if problem:
        out.append(f"{rid}: {problem}")
    nonfinite = None
    for start, stop, samples in reader.scan():
        if isinstance(samples, StoreFormatError):
            out.append(f"{rid}: {samples}")
        elif nonfinite is None and not np.isfinite(samples).all():
            nonfinite = (start, stop)
    if nonfinite is not None:
        out.append(f"{rid}: non-finite samples in [{nonfinite[0]}, {nonfinite[1]})")


def _array_documents(
    loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]
) -> None:
    """``data``, ``channel`` and ``time``'s ``zarr.json`` must be the documents eegprep writes
    for the record (no checksum covers them; a flipped bit in a codec's settings can change how
    zarr and xarray decode every sample). Records of versions that state no ``encoding`` are
    not compared; the earlier variants of the documents (no CRC-32C codecs, Blosc zstd level 3
    for the quantized encoding) are accepted."""
    from eegprep.store.shards import Layout, metadata_documents
    from eegprep.store.writer import CHUNK_SECONDS, SHARD_CHUNKS

    encoding = record.get("encoding")
    if encoding not in ("float32", "float16", "quantized"):
        return
    sfreq = float(record["sfreq"])
    chunk = int(CHUNK_SECONDS * sfreq)
    quantum = record.get("quantum_uv") if encoding == "quantized" else None
    layout = Layout(len(record["channels"]), sfreq, encoding, quantum, chunk, chunk * SHARD_CHUNKS)
    for name, want in metadata_documents(layout, int(record["n_samples"])).items():
        try:
            doc = strict_json.loads(loc.read_bytes(group, name, "zarr.json"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # the check of that array reports it
        named = any(f"{group}/{name}/zarr.json" in p for p in out)  # already, more precisely
        if not named and doc not in _variants(want):
            out.append(
                f"{rid}: {group}/{name}/zarr.json is not the metadata eegprep writes for this "
                f"record (damaged; {REPAIR})"
            )


def _variants(doc: dict[str, Any]) -> list[Any]:
    """``doc`` and the forms earlier eegprep versions wrote of it."""

    def edit(node: Any, crc: bool, zstd: bool) -> Any:
        if isinstance(node, dict):
            if zstd and node.get("name") == "blosc":
                return {**node, "configuration": {**node["configuration"], "cname": "zstd",
                                                  "clevel": 3}}  # fmt: skip
            return {k: edit(v, crc, zstd) for k, v in node.items()}
        if isinstance(node, list):
            return [edit(x, crc, zstd) for x in node if crc or x != {"name": "crc32c"}]
        return node

    forms = [edit(doc, crc, zstd) for crc in (True, False) for zstd in (False, True)]
    return forms + [_names_zstd(form) for form in forms if _names_zstd(form) != form]


_VLEN = {"name": "vlen-utf8", "configuration": {}}
_NAMES_ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}


def _names_zstd(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``channel`` array's document as earlier versions wrote it: its names compressed with
    zstd after ``vlen-utf8`` (the other arrays' documents are returned unchanged)."""
    codecs = doc.get("codecs")
    if not isinstance(codecs, list) or codecs[:1] != [_VLEN]:
        return doc
    return {**doc, "codecs": [_VLEN, _NAMES_ZSTD, *codecs[1:]]}


def _data_with_zarr(
    loc: Location, rid: str, group: str, expected: tuple[int, int], out: list[str]
) -> None:
    data = _zarr_array(loc, f"{group}/data")
    if data.shape != expected:
        out.append(f"{rid}: data shape {data.shape}, index says {expected}")
        return
    for start in range(0, expected[1], BLOCK):
        try:
            block = np.asarray(data[:, start : start + BLOCK])
        except Exception as exc:
            out.append(f"{rid}: samples from {start} unreadable: {type(exc).__name__}: {exc}")
            continue
        if not np.isfinite(block).all():
            out.append(f"{rid}: non-finite samples in [{start}, {start + block.shape[1]})")
            return


def _position(name: str) -> int:
    """``name``'s row of the vocabulary, -1 for a name not in it."""
    from eegprep.base.errors import UsageError
    from eegprep.pipeline.channels import vocabulary_index

    try:
        return vocabulary_index(name)
    except UsageError:
        return -1


def _chunk_missing(loc: Location, array: str) -> bool:
    """Whether a one-chunk coordinate array's chunk file is gone (zarr would read its fill
    value in its place: empty names, zeros)."""
    return not (loc.exists(array, "c.0") or loc.exists(array, "c", "0"))


def _channel(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    if record["channels"] and _chunk_missing(loc, f"{group}/channel"):
        out.append(f"{rid}: {group}/channel/c.0 missing (the channel names)")
        return
    names = [str(c) for c in _small_array(loc, f"{group}/channel")]
    if names != list(record["channels"]):
        out.append(f"{rid}: channel coordinate {names} differs from the index {record['channels']}")


def _time(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    n = record["n_samples"]
    if n and _chunk_missing(loc, f"{group}/time"):
        out.append(f"{rid}: {group}/time/c.0 missing (the sample numbers)")
        return
    time = _small_array(loc, f"{group}/time")
    if time.shape != (n,):
        out.append(f"{rid}: time coordinate shape {time.shape}, index says ({n},)")
    elif not np.array_equal(time, np.arange(n)):
        out.append(f"{rid}: time coordinate is not the sample numbers 0 .. {n - 1}")


def _targets(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    for name in record.get("targets") or []:
        values = _small_array(loc, f"{group}/{name}")
        if values.shape[-1:] != (record["n_samples"],):
            out.append(f"{rid}: target {name!r} shape {values.shape}, not n_samples long")


def _small_array(loc: Location, path: str) -> Any:
    """All of an array that is not ``data`` (``channel``, ``time``, a target: small), read by
    zarr; a :class:`StoreFormatError` naming the file when it cannot be: its ``zarr.json``
    (missing, not JSON, not an array zarr opens) or its chunk (failing its CRC-32C, cut)."""
    meta = f"{path}/zarr.json"
    try:
        strict_json.loads(loc.read_bytes(*meta.split("/")))
    except FileNotFoundError:
        raise StoreFormatError(f"{meta}: missing (the array's metadata)") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise StoreFormatError(f"{meta}: damaged ({type(exc).__name__}: {exc})") from None
    try:
        array = _zarr_array(loc, path)
    except Exception as exc:
        raise StoreFormatError(f"{meta}: damaged ({type(exc).__name__}: {exc})") from None
    try:
        return np.asarray(array[...])
    except Exception as exc:
        chunks = [n for n in loc.list(*path.split("/")) if n != "zarr.json"]
        where = f"{path}/{chunks[0]}" if len(chunks) == 1 else f"{path} (its chunks)"
        what = "fails its CRC-32C check" if "checksum" in str(exc) else "cannot be decoded"
        raise StoreFormatError(
            f"{where}: {what}, corrupt or cut short ({type(exc).__name__}: {exc})"
        ) from None


def _zarr_array(loc: Location, path: str) -> Any:
    import zarr

    return zarr.open_array(loc.zarr_store(path, read_only=True), mode="r")


def _root_attrs(loc: Location, problems: list[str]) -> dict[str, Any] | None:
    """The root group's attributes, or None (and a problem) when it is missing or damaged."""
    ours = loc.exists("_eegprep") or loc.exists("recordings")
    if not loc.exists("zarr.json"):
        if not ours:
            raise StoreNotFoundError(f"{loc.display}: no eegprep store here")
        problems.append("zarr.json: missing (the store's root group: format, recipe, rate)")
        return None
    try:
        doc = strict_json.loads(loc.read_bytes("zarr.json"))
        attrs = doc["attributes"]
        if not isinstance(attrs, dict):
            raise TypeError(f"attributes are a {type(attrs).__name__}")
    except (ValueError, KeyError, TypeError) as exc:
        if not ours:
            raise StoreFormatError(f"{loc.display}: not an eegprep store (no attributes)") from None
        problems.append(f"zarr.json: damaged ({type(exc).__name__}: {exc})")
        return None
    if attrs.get("format") != FORMAT:
        if not ours:
            raise StoreFormatError(f"{loc.display}: a Zarr hierarchy, but not an eegprep store")
        problems.append(f"zarr.json: damaged (format {attrs.get('format')!r}, not {FORMAT!r})")
        return None
    version = attrs.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise StoreFormatError(
            f"{loc.display}: store format version {version} is newer than this eegprep understands "
            f"({FORMAT_VERSION}); upgrade eegprep"
        )
    group = {k: v for k, v in doc.items() if k not in ("attributes", "consolidated_metadata")}
    if group != {"zarr_format": 3, "node_type": "group"}:
        problems.append(f"zarr.json: damaged (not a Zarr v3 group: {group})")
    missing = [k for k in ("format_version", "sfreq", "recipe_hash") if k not in attrs]
    if missing:
        problems.append(f"zarr.json: damaged (no {', '.join(missing)})")
    else:
        problems += [f"zarr.json: damaged ({p})" for p in _root_problems(attrs)]
    return attrs


def _root_problems(attrs: dict[str, Any]) -> list[str]:
    """Disagreements inside the root's attributes: their checksum (stores written before it
    have none), the recipe and the hash written from it, the store's rate and the recipe's,
    the channel vocabulary and this eegprep's (a store's vocabulary may be an older, shorter
    one)."""
    from eegprep.pipeline.channels import VOCABULARY
    from eegprep.pipeline.recipe import recipe_hash

    out = []
    sealed = seal_problem(attrs)  # stores written since the root was sealed: every attribute
    if sealed is not None:
        out.append(f"its attributes: {sealed}")
    recipe = attrs.get("recipe")
    if isinstance(recipe, dict):
        digest = recipe_hash(recipe)
        if digest != attrs.get("recipe_hash"):
            out.append(f"its recipe hashes to {digest}, not to its recipe_hash "
                       f"{attrs.get('recipe_hash')!r}")  # fmt: skip
        if recipe.get("sfreq") != attrs.get("sfreq"):
            out.append(f"sfreq {attrs.get('sfreq')!r} is not the recipe's {recipe.get('sfreq')!r}")
    vocabulary = attrs.get("vocabulary")
    if vocabulary is not None and (
        not isinstance(vocabulary, list) or vocabulary != list(VOCABULARY)[: len(vocabulary)]
    ):
        out.append("its channel vocabulary is not eegprep's (channel positions would be wrong)")
    keys = set(attrs) - {KEY} if KEY in attrs else set(attrs)
    if keys != ROOT_KEYS:
        odd = sorted(ROOT_KEYS - keys) + sorted(keys - ROOT_KEYS)
        out.append(f"attribute{'s' if len(odd) > 1 else ''} {', '.join(map(repr, odd))} missing "
                   "or not eegprep's (a key's name changed)")  # fmt: skip
    if not isinstance(attrs.get("eegprep_version"), str):
        out.append(f"eegprep_version {attrs.get('eegprep_version')!r} is not a version")
    if attrs.get("unit") != "uV":
        out.append(f"unit {attrs.get('unit')!r}, not 'uV'")
    layout = attrs.get("layout")
    older = {k: v for k, v in LAYOUT.items() if k != "versions"}  # before version groups
    if layout is not None and layout not in (LAYOUT, older):
        out.append(f"layout {layout!r} is not the store format's {LAYOUT!r}")
    return out


# The root's attributes (eegprep.store.writer.root_attrs): the same keys in every store of
# format version 1.
ROOT_KEYS = {
    "format",
    "format_version",
    "sfreq",
    "unit",
    "recipe",
    "recipe_hash",
    "vocabulary",
    "eegprep_version",
    "layout",
}

# The root's ``layout`` attribute: the same in every store of format version 1.
LAYOUT = {
    "recordings": "recordings/{corpus}/{name}",
    "versions": "recordings/{corpus}/{name}@{k}",
    "index": "_eegprep/index/*.jsonl",
    "chunk_seconds": 60,
    "shard_chunks": 30,
}


def _index(loc: Location, problems: list[str]) -> dict[str, dict[str, Any]]:
    try:
        records, damaged = read_index_checked(loc)
    except Exception as exc:
        problems.append(f"{'/'.join(INDEX_DIR)}: unreadable ({type(exc).__name__}: {exc})")
        return {}
    problems += damaged
    try:
        stale = fields_file_problem(loc)
    except Exception as exc:
        stale = f"{'/'.join(INDEX_DIR)}: fields file unreadable ({type(exc).__name__}: {exc})"
    if stale:
        problems.append(stale)
    return records


def _unlisted_groups(
    loc: Location,
    records: dict[str, dict[str, Any]],
    retired: set[str],
    problems: list[str],
    notes: list[str],
) -> None:
    """Recording groups on disk that the index does not list (nor lists as retired): a
    problem each, but for those that hold no record (what a stopped ingest leaves), a note."""
    try:
        on_disk = _groups_on_disk(loc, problems)
        listed = {r.get("group") for r in records.values()} | retired
        unlisted = [g for g in on_disk if g not in listed]
        has_index = any(n.endswith(".jsonl") for n in loc.list(*INDEX_DIR))
    except Exception as exc:
        problems.append(f"recordings: cannot be listed ({type(exc).__name__}: {exc})")
        return
    if not unlisted or ingest_running(loc):
        return  # (a running ingest's groups: on object stores it writes them in place)
    empty = [g for g in unlisted if holds_no_record(loc, g)]
    notes += _no_record_notes(empty, retired=False)
    unlisted = [g for g in unlisted if g not in set(empty)]
    if not unlisted:
        return
    if not records:
        what = "index lists none of them" if has_index else "index missing"
        problems.append(
            f"{what}: {len(unlisted)} recording groups under recordings/ are not listed"
        )
        return
    for group in unlisted[:MAX_LINES]:
        if loc.exists(group, RECORD):  # only a retired group holds one
            problems.append(
                f"{group}: a retired group (it holds {RECORD}) that {'/'.join(RETIRED)} "
                "does not list (that list lost or damaged): the next ingest retires it again"
            )
            continue
        problems.append(
            f"{group}: recording group on disk that the index does not list (an ingest stopped "
            "mid-commit, or its index line damaged: the next ingest lists it again from the "
            "group, or retires it)"
        )
    if len(unlisted) > MAX_LINES:
        problems.append(f"recordings: {len(unlisted) - MAX_LINES} more unlisted groups")


def _groups_on_disk(loc: Location, problems: list[str]) -> list[str]:
    """``recordings/{corpus}/{name}`` folders; a corpus group whose ``zarr.json`` is missing or
    damaged is a problem."""
    groups = []
    for corpus in loc.list("recordings"):
        if corpus == "zarr.json" or TMP_MARK in corpus:
            continue
        _group_doc(loc, ("recordings", corpus), {}, problems)
        for name in loc.list("recordings", corpus):
            if name != "zarr.json" and TMP_MARK not in name:
                groups.append(f"recordings/{corpus}/{name}")
    return groups


# The attributes of the groups that hold no recording: each group's whole ``zarr.json`` is known,
# so a flipped bit anywhere in it is a difference (no single-bit flip of JSON's whitespace is
# whitespace).
_GROUP_ATTRS: dict[tuple[str, ...], dict[str, Any]] = {
    ("recordings",): {},
    ("_eegprep",): {"description": "eegprep bookkeeping"},
}


def _group_doc(
    loc: Location, parts: tuple[str, ...], attrs: dict[str, Any], problems: list[str]
) -> None:
    """A group's ``zarr.json`` must be exactly the group eegprep writes there."""
    where = "/".join((*parts, "zarr.json"))
    try:
        doc = strict_json.loads(loc.read_bytes(*parts, "zarr.json"))
    except FileNotFoundError:
        problems.append(f"{where}: missing (a group of the store)")
        return
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: damaged ({type(exc).__name__}: {exc})")
        return
    want = {"zarr_format": 3, "node_type": "group", "attributes": attrs}
    if doc != want:
        problems.append(f"{where}: damaged (not the group document eegprep writes: {want})")


def _bookkeeping(loc: Location, records: dict[str, dict[str, Any]], problems: list[str]) -> None:
    """The objects beside the recordings: the two top groups' metadata, the ingest reports and
    the seen-files cache (which the next ingest ignores when damaged, but which is named here)."""
    from eegprep.store.reader import read_reports

    try:
        for parts, attrs in _GROUP_ATTRS.items():
            if parts == ("_eegprep",) and not loc.exists("_eegprep"):
                continue
            _group_doc(loc, parts, attrs, problems)
        problems += read_reports(loc)[1]
        _seen_problems(loc, records, problems)
    except Exception as exc:  # never a traceback: a line
        problems.append(f"_eegprep: cannot be checked ({type(exc).__name__}: {exc})")


def _seen_problems(loc: Location, records: dict[str, dict[str, Any]], problems: list[str]) -> None:
    """``_eegprep/seen.json``: strict JSON of its layout, each entry for the current version of
    a listed recording stating that record's content hashes and files (paths, sizes, mtimes).
    An entry for another group or id is stale (a killed ingest writes none: the next one drops
    it), never trusted; any other flipped bit fails the file's ``crc32c`` (earlier versions
    wrote none)."""
    from eegprep.corpus.sources import listed_files, listed_hashes
    from eegprep.store.writer import SEEN

    where = "/".join(SEEN)
    if not loc.exists(*SEEN):
        return
    try:
        doc = strict_json.loads(loc.read_bytes(*SEEN))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: damaged ({type(exc).__name__}: {exc}); a cache, ignored")
        return
    entries = doc.get("recordings") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or not {"version", "recordings"} <= set(doc) <= {"version", "recordings", KEY}
        or doc.get("version") != 1
        or not isinstance(entries, dict)
    ):
        problems.append(f"{where}: damaged (not a seen-files document); a cache, ignored")
        return
    damaged = seal_problem(doc)
    if damaged:
        problems.append(f"{where}: damaged ({damaged}); a cache, ignored")
        return
    bad = []
    for rid, entry in entries.items():
        record = records.get(rid)
        if not isinstance(entry, dict) or set(entry) != {"group", "hashes", "files"}:
            bad.append(rid)
            continue
        if record is None or entry["group"] != record.get("group"):
            continue  # stale: vouches for nothing
        files = entry["files"]
        listed = [[f.get("path"), f.get("size"), f.get("mtime_ns")] for f in listed_files(record)]
        ok = (
            entry["hashes"] == listed_hashes(record)
            and isinstance(files, list)
            and all(
                isinstance(row, list)
                and len(row) == 5
                and all(isinstance(x, int) and not isinstance(x, bool) for x in row[1:])
                for row in files
            )
            and [row[:3] for row in files] == listed
        )
        if not ok:
            bad.append(rid)
    if bad:
        problems.append(
            f"{where}: damaged ({len(bad)} entries do not match the index, first {bad[0]!r}); "
            "a cache, ignored for them"
        )


def _retired(loc: Location, problems: list[str]) -> dict[str, RetiredEntry]:
    """Groups of replaced versions, kept a while for readers holding an older index, each with
    its entry in ``_eegprep/retired.json``."""
    if not loc.exists(*RETIRED):
        return {}
    try:
        good, bad = retired_entries(strict_json.loads(loc.read_bytes(*RETIRED)))
    except ValueError as exc:
        problems.append(f"{'/'.join(RETIRED)}: damaged ({type(exc).__name__}: {exc})")
        return {}
    problems += [f"{'/'.join(RETIRED)}: damaged ({line}; the next ingest ignores it)"
                 for line in bad[:MAX_LINES]]  # fmt: skip
    return {e.group: e for e in good}
