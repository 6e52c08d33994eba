"""The store's consolidated index: append-only JSON-lines segments, compacted now and then.

Each commit writes one new segment object (``_eegprep/index/{seq:010d}.jsonl``): O(batch) work,
never a rewrite of one ever-growing file (zarr's consolidated metadata does that, which is
quadratic over a long ingest). Opening a store reads the newest *base* segment and the segments
after it: a handful of objects whatever the number of recordings. Compaction writes a new base
holding every live record, sorted by id (so the final bytes do not depend on completion order),
deletes the older segments, and renames the base to ``0000000001.jsonl`` (so they do not depend
on the commit history either).

A record is a JSON object with at least ``id``; a later record with the same id replaces an
earlier one; ``{"id": ..., "deleted": true}`` removes one. A recording's record is a
:class:`~eegprep.store.record.RecordingRecord`, written as :meth:`~.RecordingRecord.to_dict`
gives it; reading gives the JSON objects as they are (a reader types them with
:meth:`~.RecordingRecord.from_dict`; :mod:`eegprep.store.validate` judges damaged ones).

Damage: a line that is not a JSON object with a string ``id`` (bad UTF-8, cut short, ``NaN``
written by earlier versions of eegprep) is skipped by :func:`read_index_checked` and
reported as one line naming the segment and line; :func:`read_index` refuses the index with
that line. Every line is written as strict JSON (no ``NaN`` or infinities).

Concurrency contract: one writer at a time (the store's lock); any number of readers. A reader
that finds a segment deleted under it (compaction) lists again.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

import msgspec
import orjson

from eegprep.base.errors import StoreAccessError, StoreFormatError
from eegprep.base.strict_json import TINY_SPELLING
from eegprep.base.strict_json import loads as strict_loads
from eegprep.base.wording import counted
from eegprep.base.write_errors import reason
from eegprep.store import index_fields
from eegprep.store.fs import MAX_DOCUMENT_BYTES, Location
from eegprep.store.index_fields import Entry, IndexFields
from eegprep.store.index_head import (
    HEAD,
    INDEX_FOLDER,
    Head,
    head_document,
    head_problems,
    listing,
    read_head,
    write_head,
)
from eegprep.store.record import RecordingRecord

Row = RecordingRecord | dict[str, Any]
"""What a segment line holds: a recording's record, or a JSON object (a deletion mark)."""


_FIELDS = msgspec.json.Decoder(IndexFields)

INDEX_DIR = INDEX_FOLDER
_BASE_MARK = {"_base": True}
_BASE_LINE = b'{"_base": true}'  # the first line of a base segment, as json.dumps writes it
COMPACT_AFTER = 64  # segments beyond the base before a commit compacts
BASE_NAME = f"{1:010d}.jsonl"  # where a compacted base ends up


MAX_LINE_BYTES = MAX_DOCUMENT_BYTES
"""The longest index line read (512 MiB). The longest record eegprep writes is one of
:data:`~eegprep.readers.event_count.MAX_EVENTS` events whose labels are 256 characters each
written as 12-byte escapes: ~300 MB (a real one: a few kB); the same record is a retired
group's ``record.json``, under the same cap. A longer line (a sparse file of gigabytes is one
line of zeros) is a damaged line, read no further than this: memory stays bounded."""

_LONG_MARK = b"\x00\xff eegprep: line of "
"""What a line longer than :data:`MAX_LINE_BYTES` is read as (then its length): no JSON, and
judged by :func:`_by_line` as a damaged line of that length."""


def _segment_bytes(loc: Location, name: str) -> bytes:
    """A segment's bytes, each line longer than :data:`MAX_LINE_BYTES` replaced by a mark
    (:data:`_LONG_MARK`): memory of the lines kept and the cap, whatever the file's size."""
    return loc.read_capped_lines(
        MAX_LINE_BYTES, lambda n: _LONG_MARK + str(n).encode(), *INDEX_DIR, name
    )


def _long_problem(line: bytes) -> str:
    """The problem of a line read as :data:`_LONG_MARK` (else ``""``)."""
    if not line.startswith(_LONG_MARK):
        return ""
    return (
        f"{line[len(_LONG_MARK) :].decode('ascii', 'replace')} bytes, longer than any index "
        f"record ({MAX_LINE_BYTES // 2**20} MiB at most): not read"
    )


def _segments(loc: Location) -> list[str]:
    return [n for n in loc.list(*INDEX_DIR) if n.endswith(".jsonl")]


_INT64_MAX = 2**63 - 1


def may_be_misread(labels: Any, text: bytes | memoryview = b"") -> bool:
    """Whether a record's ``labels``, as orjson parsed them from ``text`` (the line, or the
    segment it is in), hold a number orjson may have read wrong: it reads
    ``1180591620717411303424`` (2**70) and ``-18446744073709551616`` as floats, their last
    digits lost, 2**63 .. 2**64-1 as integers no int64 holds, and ``1e-400`` (not zero, beyond
    a float's smallest) as ``0.0``. A float of 2**63 or more in size, such an integer, or a
    float 0 where ``text`` spells a tiny number
    (:data:`~eegprep.base.strict_json.TINY_SPELLING`: a regular expression over the bytes, so
    that a store of ``0.0`` labels opens as fast): the line is then judged by
    :func:`misread_problem` (a microsecond for the few labels of a record)."""
    return _misread(labels, TINY_SPELLING.search(text) is not None)


def _misread(labels: Any, tiny: bool) -> bool:
    if isinstance(labels, float):
        return abs(labels) >= 2.0**63 or (tiny and labels == 0.0)
    if isinstance(labels, int):
        return labels > _INT64_MAX
    if isinstance(labels, dict):
        return any(_misread(v, tiny) for v in labels.values())
    if isinstance(labels, list):
        return any(_misread(v, tiny) for v in labels)
    return False


def misread_problem(line: bytes | memoryview) -> str | None:
    """What is wrong with an index line holding an integer beyond int64 or a number that
    underflows a float to 0 (a label written by another program: eegprep writes neither),
    else None (a float written as one, ``1e19`` or ``0.0``)."""
    try:
        strict_loads(bytes(line))
    except ValueError as exc:  # (StrictJSONError: orjson parsed the line, so no other)
        if "underflows" in str(exc):
            return f"holds a number that underflows ({exc}): a reader takes it as a 0 never written"
        return (
            f"holds an integer beyond 64 bits ({exc}), which a reader would take as a float "
            "without its last digits"
        )
    return None


JSON_SPACE = b" \t\r\n"
"""The bytes JSON takes for white space (RFC 8259); no other is stripped from a segment."""


def _parse(blob: bytes, name: str) -> tuple[bool, list[dict[str, Any]], list[str]]:
    """A segment's records and the problems of the lines that are not records.

    Returns ``(is_base, records, problems)``; a problem is one line naming the segment's path
    in the store and the line number.
    """
    first, _, rest = blob.partition(b"\n")
    is_base = first.strip(JSON_SPACE) == _BASE_LINE
    # JSON's white space only, as each line is judged (bytes.strip() takes \x0b and \x0c
    # too: a flipped last newline was a record here, and a damaged line to every reader)
    body = (rest if is_base else blob).strip(JSON_SPACE)
    try:  # one parse of the whole segment as a JSON list, the common case (a blank or
        # damaged line fails it, and the lines are then read one by one)
        rows = orjson.loads(b"[" + body.replace(b"\n", b",") + b"]") if body else []
        tiny = TINY_SPELLING.search(body) is not None
        if all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rows) and not any(
            _misread(r.get("labels"), tiny)
            for r in rows  # (else each line is judged)
        ):
            return is_base, rows, []
    except orjson.JSONDecodeError:
        pass
    return _by_line(blob, name, _parse_line)


def _by_line(
    blob: bytes, name: str, take: Callable[[bytes], tuple[Any, str]]
) -> tuple[bool, list[Any], list[str]]:
    """A segment read one line at a time: ``take(line)`` gives the line's item or what is wrong
    with it; returns ``(is_base, items, problems)``, each problem naming the line."""
    lines = blob.split(b"\n")
    is_base = lines[0].strip(JSON_SPACE) == _BASE_LINE
    items, problems = [], []
    for number, line in enumerate(lines, start=1):
        if (number == 1 and is_base) or not line.strip():
            continue
        item, problem = (None, _long_problem(line)) if line[:1] == b"\x00" else (None, "")
        if not problem:
            item, problem = take(line)
        if problem:
            problems.append(f"{'/'.join(INDEX_DIR)}/{name} line {number}: {problem}")
        else:
            items.append(item)
    return is_base, items, problems


def _parse_entries(blob: bytes, name: str) -> tuple[bool, list[Entry], list[str]]:
    """A segment's records as :data:`Entry` (fields and line), and the problems of the lines
    that are not records, as :func:`_parse` states them (:func:`_entry`)."""
    return _by_line(blob, name, _entry)


def _entry(line: bytes) -> tuple[Entry | None, str]:
    """A line's :data:`Entry`, or what is wrong with it: a line is a record exactly when
    :func:`_parse_line` takes it. ``msgspec`` decodes the fields of a line it takes (it skips
    the others, checking their JSON but not their UTF-8, which is checked apart: eegprep
    writes ASCII); any other line is judged, and its fields read, by ``orjson``."""
    try:
        if not line.isascii():
            line.decode("utf-8")
        return (_FIELDS.decode(line), line), ""
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        pass  # orjson judges the line (msgspec nests less deep, say)
    row, problem = _parse_line(line)
    return (None, problem) if problem else ((_fields_of(row), line), "")


def _fields_of(row: dict[str, Any]) -> IndexFields:
    """:class:`IndexFields` of a record parsed whole (a line the fast decoder did not take)."""
    unset = msgspec.UNSET
    channels = msgspec.Raw(orjson.dumps(row["channels"])) if "channels" in row else unset
    return IndexFields(
        id=row["id"],
        group=row.get("group", unset),
        corpus=row.get("corpus", unset),
        channels=channels,
        channel_index=row.get("channel_index", unset),
        n_samples=row.get("n_samples", unset),
        sfreq=row.get("sfreq", unset),
        split=row.get("split", ""),
        subject_key=row.get("subject_key", ""),
        deleted=row.get("deleted", False),
        joins=row.get("joins", unset),
    )


def _parse_line(line: bytes) -> tuple[dict[str, Any], str]:
    """One record, or ``({}, what is wrong with the line)``."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, f"not valid UTF-8 ({exc})"
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            loose = json.loads(text)  # Python's parser takes what JSON readers refuse
        except (ValueError, RecursionError):  # (nested deeper than Python recurses)
            return {}, f"not valid JSON ({exc})"
        return {}, _loose_problem(loose)
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        return {}, "not an index record (a JSON object with a string 'id')"
    problem = misread_problem(line) if may_be_misread(row.get("labels"), line) else None
    return ({}, problem) if problem else (row, "")


def _loose_problem(value: Any) -> str:
    """What a line that Python's parser reads as ``value`` and orjson refuses holds: a lone
    surrogate (``"\\udcff"``: no character, the escape of a byte that is not UTF-8, which
    another program may write), or else NaN or Infinity (an older eegprep wrote them)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return (
            "holds a lone surrogate (a \\udXXX escape that is no character), which JSON "
            "readers refuse"
        )
    except (ValueError, RecursionError):
        pass
    return "holds NaN or Infinity, which JSON does not allow (older eegprep)"


def read_index(loc: Location) -> dict[str, dict[str, Any]]:
    """Every live record, keyed by id, in id order.

    Raises :class:`StoreFormatError` (one line) when a line of the index is damaged.
    """
    records, problems = read_index_checked(loc)
    _refuse_damage(loc, problems)
    return records


def _refuse_damage(loc: Location, problems: list[str]) -> None:
    """One line for a damaged index (its first damaged line and how many more)."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StoreFormatError(
            f"{loc.named}: damaged index: {problems[0]}{more}; `eegprep validate {loc.named}` "
            f"lists the damage, `eegprep ingest CORPUS --out {loc.named} --repair` repairs it"
        )


def read_index_checked(loc: Location) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every live record that can be read, keyed by id, in id order, and one line per damaged
    index line (``_eegprep/index/0000000003.jsonl line 7: not valid JSON (...)``). A damaged
    line is skipped: the record it held is missing from the result."""
    return _read(loc, _parse, lambda row: (row["id"], row.get("deleted")))


def read_entries(loc: Location, *, damaged: list[str] | None = None) -> dict[str, Entry]:
    """Every live record as its :class:`IndexFields` and JSON line, keyed by id, in id order:
    what :func:`read_index` reads, for a reader that needs a few fields of every record and the
    rest of only some (a 10^5-recording index of TUH records: ~0.2 s instead of ~1.4 s, and a
    fifth of the memory). Raises :class:`StoreFormatError` as :func:`read_index` does; with
    ``damaged`` given, a damaged line is skipped instead and its one line appended there (as
    :func:`read_index_checked` does: what a summary of the other records names); a segment
    emptied, cut short or lost is still refused (how many records it held is not known)."""
    entries, problems = _read(
        loc, _parse_entries, lambda e: (e[0].id, e[0].deleted), _base_entries(loc)
    )
    lost = problems  # a segment cut short or lost: its records are named by no line, and
    if damaged is not None:  # never counted as one; a damaged line is what a summary names
        lost = [p for p in problems if not _LINE_PROBLEM.match(p)]
        damaged += [p for p in problems if _LINE_PROBLEM.match(p)]
    _refuse_damage(loc, lost)
    return entries


_LINE_PROBLEM = re.compile(re.escape("/".join(INDEX_DIR)) + r"/[^/ ]+ line [0-9]+: ")
"""A damaged line's problem (:func:`_by_line`): the one record it held is what is lost."""


def _base_entries(loc: Location) -> Callable[[bytes, str], list[Entry] | None]:
    """The entries of a base segment from its fields file (:mod:`eegprep.store.index_fields`),
    or ``None`` where there is no such file for these bytes (the base is then parsed)."""

    def read(blob: bytes, name: str) -> list[Entry] | None:
        fields = _fields_blob(loc, name, blob)
        return None if fields is None else index_fields.decode(fields, blob)

    return read


def _fields_blob(loc: Location, name: str, base: bytes) -> bytes | None:
    """The bytes of base segment ``name``'s fields file; ``None`` when it has none, or one
    larger than any written for the base's bytes ``base`` (a column per field of each line:
    never twice the lines' size): it is then not read (a sparse file of gigabytes, say), and
    the base is parsed instead."""
    fields = (*INDEX_DIR, index_fields.fields_name(name))
    try:
        if loc.size(*fields) > 2 * len(base) + 2**20:
            return None
        return loc.read_bytes(*fields)
    except FileNotFoundError:
        return None


def _read(
    loc: Location,
    parse: Callable[[bytes, str], tuple[bool, list[Any], list[str]]],
    key: Callable[[Any], tuple[str, Any]],
    base: Callable[[bytes, str], list[Any] | None] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`_read_once`, again when a compaction removed a segment or changed the index's
    head meanwhile."""
    for _attempt in range(5):
        head = read_head(loc)[0]  # (before the listing: a commit's segment is then listed)
        try:
            records, problems = _read_once(loc, parse, key, base, head)
        except FileNotFoundError:  # a compaction removed a segment while we read
            continue
        except StoreAccessError:  # (the file system's refusal, not damage: its own line)
            raise
        except OSError as exc:  # a segment that is not a readable file (a FIFO, a folder)
            where = loc.shown(exc.filename) if exc.filename else "/".join(INDEX_DIR)
            raise StoreFormatError(
                f"{where}: the index cannot be read ({reason(exc)}): remove or replace "
                "that file (`eegprep validate` lists the damage)"
            ) from None
        if not problems or head is None or read_head(loc)[0] == head:
            return records, problems  # (a head changed meanwhile: a commit or a compaction)
    return _read_once(loc, parse, key, base, read_head(loc)[0])


def _read_once(
    loc: Location,
    parse: Callable[[bytes, str], tuple[bool, list[Any], list[str]]],
    key: Callable[[Any], tuple[str, Any]],
    base: Callable[[bytes, str], list[Any] | None] | None = None,
    head: Head | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The live records of the segments, parsed by ``parse``; ``key``: a record's id and
    whether it is a deletion mark; ``base``, when given, the base segment's records without
    parsing it, or ``None`` (it is then parsed); ``head``: the index's head, read before the
    segments were listed (:mod:`eegprep.store.index_head`), or ``None``."""
    names = _segments(loc)
    start, blobs = _newest_base(loc, names)  # everything before it is superseded
    records: dict[str, Any] = {}
    problems: list[str] = _lost_start(names, blobs) + _lost_later(names[start:])
    ordered = True  # a base alone is written sorted: no need to sort it again
    last: list[Any] = []  # the rows of the segment the head names, when read here
    for name in names[start:]:
        blob = blobs.get(name) or _segment_bytes(loc, name)
        if not blob:  # eegprep writes no segment without a line: cut short (a crash, a copy)
            problems.append(
                f"{'/'.join(INDEX_DIR)}/{name}: empty (cut short: what it listed is lost)"
            )
            continue
        is_base = blob.startswith(_BASE_LINE)
        rows = base(blob, name) if base is not None and is_base else None
        if rows is None:
            _, rows, bad = parse(blob, name)
            problems += bad
            if is_base and name == names[start]:
                problems += _cut_base(loc, name, blob)
        ordered = ordered and name == names[start] and is_base
        last = rows if head is not None and name == head.segment else last
        for row in rows:
            rid, deleted = key(row)
            if deleted:
                records.pop(rid, None)
            else:
                records[rid] = row

    def blob_of(name: str) -> bytes:
        return blobs.get(name) or _segment_bytes(loc, name)

    problems += head_problems(
        head,
        names,
        blob_of,
        lambda name: [_listing(r) for r in (last or parse(blob_of(name), name)[1])],
        problems,
    )
    if ordered and all(a < b for a, b in zip(records, list(records)[1:])):
        return records, problems
    return dict(sorted(records.items())), problems


def _listing(row: Row | Entry) -> str:
    """What an index row lists (:func:`~eegprep.store.index_head.listing`): a record or a
    JSON object as written or parsed, or an :data:`Entry` as read."""
    if isinstance(row, RecordingRecord):
        return listing(row.id, False)
    if isinstance(row, tuple):
        return listing(row[0].id, row[0].deleted)
    return listing(row["id"], row.get("deleted"))


def _cut_base(loc: Location, name: str, blob: bytes) -> list[str]:
    """A line for base segment ``name`` (bytes ``blob``) when its fields file shows it was cut
    at a line's end (:func:`~eegprep.store.index_fields.records_cut_off`); none otherwise."""
    fields = _fields_blob(loc, name, blob)
    cut = None if fields is None else index_fields.records_cut_off(fields, blob)
    if cut is None:
        return []
    k, n = cut
    return [
        f"{'/'.join(INDEX_DIR)}/{name}: cut short: it holds {k} of the {counted(n, 'record')} "
        f"its fields file lists (the {n - k} after line {k + 1} are lost)"
    ]


def _lost_start(names: list[str], blobs: dict[str, bytes]) -> list[str]:
    """A line when the index holds no base segment and does not start at the first segment
    (``0000000001.jsonl``): what the segments before it listed (its base, deleted) is lost, and
    the rest would read as a shorter index. Every index eegprep writes holds a base or starts
    there (a compaction cut short has deleted some segments before its new base: that base is
    read). ``blobs``: the segments :func:`_newest_base` read, all of them when it found none."""
    if not names or any(blob.startswith(_BASE_LINE) for blob in blobs.values()):
        return []
    first = names[0].split(".")[0]
    if not (first.isascii() and first.isdigit()) or int(first) <= 1:  # (``²``: no int)
        return []
    return [
        f"{'/'.join(INDEX_DIR)}/{BASE_NAME} missing: the index starts at {names[0]}, which is no "
        "base segment (what the segments before it listed is lost)"
    ]


def _lost_later(names: list[str]) -> list[str]:
    """A line per segment missing between the newest base and the last segment (``names``,
    from the base on): each commit writes the next number after the last one, and a compaction
    writes its base after every segment, so an index eegprep writes has no gap from its newest
    base on. A gap is a later segment deleted: read without it, the index would give the
    versions its records replaced, and list what its deletion marks removed (stale data)."""
    seqs = [int(n[:-6]) for n in names if n[:-6].isascii() and n[:-6].isdigit()]
    return [
        f"{'/'.join(INDEX_DIR)}/{before + 1:010d}.jsonl"
        + (f" to {after - 1:010d}.jsonl" if after - before > 2 else "")
        + f" missing: the index goes on at {after:010d}.jsonl (what it listed is lost: read "
        "without it, the index would be an older one)"
        for before, after in itertools.pairwise(seqs)
        if after > before + 1
    ]


def record_segment(loc: Location, rid: str) -> str | None:
    """The name of the segment whose line the index's record of ``rid`` is read from (the
    last one listing it, from the newest base on); None when none does. For messages: it
    parses the segments again."""
    names = _segments(loc)
    start, blobs = _newest_base(loc, names)
    found = None
    for name in names[start:]:
        blob = blobs.get(name) or _segment_bytes(loc, name)
        for line in blob.split(b"\n"):
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("id") == rid:
                found = name
    return found


def _newest_base(loc: Location, names: list[str]) -> tuple[int, dict[str, bytes]]:
    """The position in ``names`` of the newest base segment (0 when there is none) and the
    bytes of the segments read from the newest back to it."""
    blobs: dict[str, bytes] = {}
    for i in range(len(names) - 1, -1, -1):
        blob = blobs[names[i]] = _segment_bytes(loc, names[i])
        if blob.startswith(_BASE_LINE):
            return i, blobs
    return 0, blobs


def _next_seq(names: list[str]) -> int:
    return int(names[-1].split(".")[0]) + 1 if names else 1


def _dump(rows: Sequence[Row], base: bool) -> bytes:
    """Segment bytes; strict JSON (a ValueError for NaN or infinities: a bug where the value
    entered the record)."""
    lines = [json.dumps(_BASE_MARK, allow_nan=False)] if base else []
    for r in rows:
        obj = r.to_dict() if isinstance(r, RecordingRecord) else r
        lines.append(json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def append(loc: Location, rows: Sequence[Row]) -> None:
    """Commit records as one new segment; compact when segments pile up. Writer only.

    ``rows``: recordings' records (:class:`RecordingRecord`) and deletion marks
    (``{"id": ..., "deleted": True}``)."""
    if not rows:
        return
    names = _segments(loc)
    name, blob = f"{_next_seq(names):010d}.jsonl", _dump(rows, base=False)
    loc.write_bytes(blob, *INDEX_DIR, name)
    # the head after the segment it names: a kill or a failure (a full disk) between the two
    # leaves it naming the one before, which is sound; the commit has listed its rows
    with contextlib.suppress(OSError):
        write_head(loc, name, blob, [_listing(r) for r in rows])
    if len(names) + 1 > COMPACT_AFTER:
        # the rows are listed now: a compaction that fails (a full disk) leaves the segments,
        # all readable, and must not read as the segment unwritten (the commit would undo it)
        with contextlib.suppress(OSError):
            compact(loc)


def compact(loc: Location) -> None:
    """Rewrite the index as one sorted base segment and delete the older ones. Writer only.

    Damaged lines are dropped (the recordings they listed are no longer listed, and the next
    ingest writes them again)."""
    names = _segments(loc)
    records, problems = read_index_checked(loc)
    rows = list(records.values())
    if names == [BASE_NAME] and not problems:  # (a base left under another name by a kill
        # between compaction's renames is rewritten: the canonical name is part of the bytes)
        blob = _segment_bytes(loc, names[0])
        if blob.startswith(_BASE_LINE) and _fields_current(loc, names[0], blob, rows):
            _name_base(loc, blob, [_listing(r) for r in rows])
            return
    newest = f"{_next_seq(names):010d}.jsonl"
    base = _dump(rows, base=True)
    fields = index_fields.encode(rows, base)
    loc.write_bytes(base, *INDEX_DIR, newest)
    if fields is not None:  # written before the base is renamed: never a base without it
        loc.write_bytes(fields, *INDEX_DIR, index_fields.fields_name(newest))
    listed = [_listing(r) for r in rows]
    write_head(loc, newest, base, listed)  # before the segments it supersedes are deleted
    for name in names:
        loc.remove(*INDEX_DIR, name)
    for name in loc.list(*INDEX_DIR):  # older fields files (and one for a base just removed)
        if name.endswith(index_fields.FIELDS_SUFFIX) and name != index_fields.fields_name(newest):
            loc.remove(*INDEX_DIR, name)
    # A canonical name, so that a store's bytes do not depend on its commit history (a killed
    # and resumed ingest ends byte-identical to an uninterrupted one). The fields file first:
    # a base under the canonical name is then never paired with an older fields file (and a
    # fields file without its base, after a crash here, is ignored and replaced next time).
    if fields is not None:
        loc.rename(
            (*INDEX_DIR, index_fields.fields_name(newest)),
            (*INDEX_DIR, index_fields.fields_name(BASE_NAME)),
        )
    loc.rename((*INDEX_DIR, newest), (*INDEX_DIR, BASE_NAME))
    write_head(loc, BASE_NAME, base, listed)  # (killed before: the head names these bytes)


def _name_base(loc: Location, blob: bytes, listed: list[str]) -> None:
    """Write the head for the lone base ``blob`` (listing ``listed``) unless it names it
    already: a store written before the head gains one, and a damaged one is written again."""
    want = head_document(BASE_NAME, blob, listed)
    try:
        if loc.read_bytes(*HEAD) == want:
            return
    except FileNotFoundError:
        pass
    except StoreAccessError:
        raise
    except (OSError, ValueError):  # (a folder there, a document too large: written anew)
        pass
    loc.write_bytes(want, *HEAD)


def fields_file_problem(loc: Location) -> str | None:
    """What is wrong with the newest base segment's fields file, when it has one that does not
    hold exactly the fields and lines that parsing the base gives (``eegprep validate``)."""
    names = _segments(loc)
    start, blobs = _newest_base(loc, names)
    name = names[start] if names else ""
    blob = blobs.get(name, b"")
    fields = _fields_blob(loc, name, blob) if blob.startswith(_BASE_LINE) else None
    if fields is None:
        return None
    _, parsed, problems = _parse_entries(blob, name)
    if problems:  # a damaged base: its lines are reported, and the fields file is ignored
        return None
    entries = index_fields.decode(fields, blob)
    if (
        entries is not None
        and len(entries) == len(parsed)
        and all(_same_entry(a, b) for a, b in zip(entries, parsed, strict=True))
    ):
        return None
    return (
        f"{'/'.join(INDEX_DIR)}/{index_fields.fields_name(name)}: does not match the base "
        f"segment {name} (damaged, or written for other bytes): opening parses the base "
        "instead, and the next ingest into the store writes it again"
    )


def _same_entry(a: Entry, b: Entry) -> bool:
    """Two entries with equal fields (the channel lists compared as lists) and line bytes."""
    fa, fb = a[0], b[0]
    same = bytes(index_fields.line_text(a)) == bytes(index_fields.line_text(b))
    lists = [orjson.loads(bytes(cast(msgspec.Raw, f.channels))) for f in (fa, fb)]
    return same and lists[0] == lists[1] and fa == msgspec.structs.replace(fb, channels=fa.channels)


def _fields_current(loc: Location, name: str, base: bytes, rows: list[dict[str, Any]]) -> bool:
    """Whether base segment ``name`` (bytes ``base``, records ``rows``) has the fields file it
    should: a valid one, or none when a record is not plain."""
    blob = _fields_blob(loc, name, base)
    if blob is None:
        return not all(index_fields.is_plain(r) for r in rows)
    return index_fields.decode(blob, base) is not None
