"""What opening a store reads of every index record, and the columnar file that holds it.

Opening a store needs a few fields of every record (:class:`IndexFields`: id, group, corpus,
channels, ``n_samples``, rate, split, subject); the rest of a record (per-channel QC, source
files, events: two thirds of a TUH record's ~1.3 kB) is parsed only when asked for. Parsing the
fields out of the JSON lines costs ~5 us per record, ~0.5 s for 10^5 recordings.

Compaction therefore writes, beside the base segment ``{seq:010d}.jsonl``, its *fields file*
``{seq:010d}.fields``: those fields as columns (MessagePack, each distinct channel list once),
each record's line position in the base, the base's size and BLAKE3 digest, and a CRC-32C of the
whole. Opening reads the base's bytes (they stay in memory, so the store is a snapshot however
its index changes later), checks the digest, and takes the fields from the file, ~15 times
faster. A fields file is derived data: one that is missing, damaged, of another version, or
written for other base bytes (a base rewritten by an older eegprep) is ignored and the base is
parsed as before; ``eegprep validate`` reports it, and the next compaction (any ingest into the
store) writes it again. A base with a record whose fields are not plain (a required key
missing, a type other than the writer's) gets no fields file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple, cast

import blake3
import google_crc32c
import msgspec
import numpy as np

from eegprep.store.record import source_identity

FIELDS_SUFFIX = ".fields"
FORMAT = 1  # the fields file's layout version; another is ignored (the base is parsed)


class IndexFields(msgspec.Struct, frozen=True):
    """The fields of an index record that opening a store and building a window index read,
    decoded without the rest. Absent fields are :data:`msgspec.UNSET` (``split`` and
    ``subject_key``: empty); ``channels`` is its JSON text, unparsed (opening checks only that
    it is a list). Shared values (a channel list's text and ``channel_index``) may be one
    object for many records: read-only."""

    id: str
    group: Any = msgspec.UNSET
    corpus: Any = msgspec.UNSET
    channels: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    channel_index: Any = msgspec.UNSET
    n_samples: Any = msgspec.UNSET
    sfreq: Any = msgspec.UNSET
    split: Any = ""
    subject_key: Any = ""
    deleted: Any = False
    joins: Any = msgspec.UNSET


class BaseLine(NamedTuple):
    """A record's line in a base segment whose fields came from its fields file: the base's
    bytes (one object for all its lines, pickled once with them) and the line's span."""

    base: bytes
    start: int
    stop: int

    def text(self) -> memoryview:
        """The line's bytes (a view of the base)."""
        return memoryview(self.base)[self.start : self.stop]


Entry = tuple[IndexFields, "bytes | BaseLine"]
"""A live record as :func:`eegprep.store.index.read_entries` gives it: its fields and its JSON
line (:func:`line_text`), which :func:`orjson.loads` turns into the whole record when it is
needed."""


def line_text(entry: Entry) -> bytes | memoryview:
    """An entry's JSON line."""
    line = entry[1]
    return line.text() if type(line) is BaseLine else cast(bytes, line)


class _Source(msgspec.Struct):
    """The fields of an index record that say which source it was made from; decoding a line
    into it skips the rest (~1 us for a TUH record's ~1.3 kB, a fifth of a whole parse)."""

    source_blake3: Any = None
    source_sha256: Any = None
    part: Any = None


_SOURCE_DECODER = msgspec.json.Decoder(_Source)


def line_source_identity(line: bytes | memoryview) -> str:
    """The :func:`~eegprep.store.record.source_identity` of the record on the JSON ``line``
    (an entry's :func:`line_text`), without parsing the rest of it; ``""`` for a line that
    states no digest or does not decode (the record's own reader names that problem)."""
    try:
        src = _SOURCE_DECODER.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""
    return source_identity(src.source_blake3 or src.source_sha256, src.part)


Count = Annotated[int, msgspec.Meta(ge=0)]
"""A size, a position or a table number: a negative one (which Python would wrap around to
another entry) makes the file undecodable, so that it is ignored."""


class _Columns(msgspec.Struct, array_like=True):
    """The fields file's content (before its CRC), one list entry per record in base order."""

    format: int
    base_size: Count
    base_blake3: str
    line_starts: list[Count]  # byte offset of each record's line in the base (ends at a newline)
    ids: list[str]
    groups: list[str]
    corpora: list[str]  # each distinct corpus once
    corpus: list[Count]
    channel_lists: list[bytes]  # each distinct channel list's JSON text once
    channel_indexes: list[list[Count]]  # ... and its channel_index
    channel_list: list[Count]
    n_samples: list[Count]
    sfreqs: list[int | float]
    splits: list[str]
    subject_keys: list[str]
    joins: dict[Count, list[Count]] | None = None
    """The ``joins`` of the records that state them, by position (few records have any; every
    file this version writes has the column, ``{}`` for none). ``None``: a file written before
    records had joins, taken only for a base that names no ``joins`` (:func:`decode`)."""


_DECODER = msgspec.msgpack.Decoder(_Columns)


def fields_name(segment: str) -> str:
    """The fields file's name for a base segment's name (``0000000001.jsonl`` ->
    ``0000000001.fields``)."""
    return segment.rsplit(".", 1)[0] + FIELDS_SUFFIX


def is_plain(record: dict[str, Any]) -> bool:
    """Whether a record's opening fields are as eegprep writes them (a fields file can hold
    it): string id, group and corpus; a list of strings for ``channels`` and of integers for
    ``channel_index`` (each under 2^63 in size); integer ``n_samples`` (the same); finite
    positive ``sfreq``; string ``split`` and ``subject_key`` when present; no deletion mark."""
    required = all(type(record.get(k)) is str for k in ("id", "group", "corpus"))
    if not required or not all(type(record.get(k, "")) is str for k in ("split", "subject_key")):
        return False
    channels, index = record.get("channels"), record.get("channel_index")
    if type(channels) is not list or not all(type(c) is str for c in channels):
        return False
    if type(index) is not list or not all(type(i) is int and abs(i) < 2**63 for i in index):
        return False
    n_samples, sfreq = record.get("n_samples"), record.get("sfreq")
    if type(n_samples) is not int or not 0 <= n_samples < 2**63:
        return False
    joins = record.get("joins", [])
    if type(joins) is not list or not all(type(j) is int and 0 <= j < 2**63 for j in joins):
        return False
    if not isinstance(sfreq, int | float) or type(sfreq) is bool:
        return False
    return math.isfinite(sfreq) and sfreq > 0 and not record.get("deleted", False)


def encode(records: Sequence[dict[str, Any]], base: bytes) -> bytes | None:
    """The fields file of the base segment ``base`` (its bytes: the base mark's line, then one
    line per record of ``records``, in that order); ``None`` when a record is not
    :func:`is_plain`."""
    if not all(is_plain(r) for r in records):
        return None
    starts, pos = [], base.index(b"\n") + 1  # after the base mark's line
    for _ in records:
        starts.append(pos)
        pos = base.index(b"\n", pos) + 1
    if pos != len(base):
        raise ValueError("the base segment holds more lines than records")
    corpora: dict[str, int] = {}
    lists: dict[tuple[tuple[str, ...], tuple[int, ...]], int] = {}
    which = []  # each record's channel list's number
    for r in records:
        corpora.setdefault(r["corpus"], len(corpora))
        key = (tuple(r["channels"]), tuple(r["channel_index"]))
        which.append(lists.setdefault(key, len(lists)))
    columns = _Columns(
        format=FORMAT,
        base_size=len(base),
        base_blake3=blake3.blake3(base).hexdigest(),
        line_starts=starts,
        ids=[r["id"] for r in records],
        groups=[r["group"] for r in records],
        corpora=list(corpora),
        corpus=[corpora[r["corpus"]] for r in records],
        # the text the base's line holds for the list (eegprep.store.index._dump's JSON)
        channel_lists=[json.dumps(list(n), separators=(",", ":")).encode() for n, _ in lists],
        channel_indexes=[list(index) for _, index in lists],
        channel_list=which,
        n_samples=[r["n_samples"] for r in records],
        sfreqs=[r["sfreq"] for r in records],
        splits=[r.get("split", "") for r in records],
        subject_keys=[r.get("subject_key", "") for r in records],
        joins={i: r["joins"] for i, r in enumerate(records) if "joins" in r},
    )
    payload = msgspec.msgpack.encode(columns)
    return payload + google_crc32c.value(payload).to_bytes(4, "little")


def _columns(blob: bytes) -> _Columns | None:
    """The columns of the fields file ``blob``; ``None`` when its CRC-32C fails or it does not
    decode (the format version is the caller's to check)."""
    payload, crc = blob[:-4], blob[-4:]
    if len(blob) < 4 or google_crc32c.value(payload).to_bytes(4, "little") != crc:
        return None
    try:
        return _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode(blob: bytes, base: bytes) -> list[Entry] | None:
    """The entries of the base segment ``base`` from its fields file ``blob``, in base order,
    each line a :class:`BaseLine` of ``base``; ``None`` when the file does not hold them
    (damaged, another format, or written for other base bytes)."""
    c = _columns(blob)
    if c is None or not _fits(c, base):
        return None
    n, joins = len(c.ids), c.joins or {}
    raws = [msgspec.Raw(text) for text in c.channel_lists]
    ends = [*c.line_starts[1:], len(base)] if n else []
    try:
        entries: list[Entry] = [
            (
                IndexFields(
                    id=rid,
                    group=group,
                    corpus=c.corpora[k],
                    channels=raws[j],
                    channel_index=c.channel_indexes[j],
                    n_samples=n_samples,
                    sfreq=sfreq,
                    split=split,
                    subject_key=subject_key,
                ),
                BaseLine(base, start, end - 1),
            )
            for rid, group, k, j, n_samples, sfreq, split, subject_key, start, end in zip(
                c.ids,
                c.groups,
                c.corpus,
                c.channel_list,
                c.n_samples,
                c.sfreqs,
                c.splits,
                c.subject_keys,
                c.line_starts,
                ends,
                strict=True,
            )
        ]
    except IndexError:  # a corpus or channel-list number beyond its table
        return None
    for i, at in joins.items():  # the few records with joins
        entries[i] = (msgspec.structs.replace(entries[i][0], joins=at), entries[i][1])
    return entries


def _fits(c: _Columns, base: bytes) -> bool:
    """Whether the columns ``c`` of a fields file are of this format, of equal lengths, and
    for the base segment ``base``: its size and hash, a line start after the base mark for
    each line, in order, none empty, and joins kept where the base has some."""
    n = len(c.ids)
    sizes = {len(x) for x in (c.line_starts, c.groups, c.corpus, c.channel_list, c.n_samples)}
    sizes |= {len(c.sfreqs), len(c.splits), len(c.subject_keys)}
    if (
        c.format != FORMAT
        or sizes != {n}
        or c.base_size != len(base)
        or c.base_blake3 != blake3.blake3(base).hexdigest()
        or len(c.channel_lists) != len(c.channel_indexes)
    ):
        return False
    try:
        starts = np.asarray(c.line_starts, dtype=np.int64)
        first = base.index(b"\n") + 1 if n else 0
    except (OverflowError, ValueError):
        return False
    if n and not (starts[0] == first and (np.diff(starts) > 1).all()):
        return False  # each line after the base mark, in order, none empty
    if c.joins is None and b'"joins"' in base:  # (an earlier writer's file: joins not kept)
        return False
    return not any(i >= n for i in c.joins or {})


def records_cut_off(blob: bytes, base: bytes) -> tuple[int, int] | None:
    """``(k, n)`` when the base segment ``base`` is the first ``k`` of the ``n`` record lines
    that its intact fields file ``blob`` describes, cut at a line's end (a file truncated there
    parses as a shorter, valid index: the records after the cut would vanish without a word);
    ``None`` otherwise (no such cut, or a fields file that is damaged or of another format)."""
    c = _columns(blob)
    if c is None:
        return None
    n = len(c.ids)
    if c.format != FORMAT or len(c.line_starts) != n or not len(base) < c.base_size:
        return None
    try:
        k = c.line_starts.index(len(base))
    except ValueError:
        return None
    for rid, start, end in zip(c.ids[:k], c.line_starts[:k], c.line_starts[1 : k + 1], strict=True):
        try:
            line = msgspec.json.decode(base[start : end - 1])
        except msgspec.DecodeError:
            return None
        if not isinstance(line, dict) or line.get("id") != rid:
            return None  # other bytes than those the fields file describes: not a cut
    return k, n
