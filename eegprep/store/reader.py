"""Reading eegprep stores: ``open_store(url)`` -> :class:`Store`.

The format is specified in docs/store-format.md. In short: a Zarr v3 hierarchy whose root
attributes carry the format, sampling rate, unit, recipe and vocabulary; one group per recording
version under ``recordings/{corpus}/{name}`` (``...@{k}`` once re-ingested) holding ``data``
(``channel`` x ``time``, microvolts) and its ``channel`` and ``time`` coordinates; and an index
of our own under ``_eegprep/index`` that lists every complete recording and its current group.
A recording the index does not list does not exist.

Concurrency contract: a :class:`Store` is a read-only snapshot of the index taken when it was
opened; reading samples is safe from any number of threads and processes while an ingest
writes: an ingest never changes or deletes a listed group, and writes a re-ingested recording
as a new version, so a snapshot reads the bytes it listed until replaced versions expire
(``--keep-replaced``, a day by default).
"""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, cast

import msgspec
import numpy as np
import orjson

from eegprep.base.errors import (
    RecordingNotFoundError,
    StoreAccessError,
    StoreFormatError,
    StoreNotFoundError,
    UsageError,
)
from eegprep.base.files import TMP_MARK
from eegprep.base.gc_pause import gc_paused
from eegprep.base.path_limits import described, unmatched_pattern
from eegprep.base.regular_files import not_a_folder
from eegprep.base.shown_text import quoted_path
from eegprep.base.wording import counted, noun, of_total
from eegprep.store.added_attrs import array_keys, without_added
from eegprep.store.chunk_sums import TARGETS, target_problem
from eegprep.store.fs import Location
from eegprep.store.group_attrs import group_record_problem, holds_no_record
from eegprep.store.group_path import groups_on_disk
from eegprep.store.index import INDEX_DIR, may_be_misread, misread_problem, read_entries
from eegprep.store.index_fields import (
    BaseLine,
    Entry,
    IndexFields,
    line_source_identity,
    line_text,
)
from eegprep.store.lock_file import ingest_running
from eegprep.store.record_details import details_problem
from eegprep.store.record_values import (
    chunk_problem,
    fields_problem,
    group_problem,
    kinds_problem,
    record_problem,
    samples_type_problem,
)
from eegprep.store.recording import Recording
from eegprep.store.reports import read_reports
from eegprep.store.root_attrs import read_root_attrs, refuse_damaged_root


class Store:
    """A read-only view of an eegprep store. Use :func:`open_store`."""

    def __init__(
        self,
        loc: Location,
        attrs: dict[str, Any],
        entries: dict[str, Entry],
        *,
        leave_out_malformed: bool = False,
    ):
        self._loc = loc
        self.attrs = attrs
        malformed = _malformed(loc, entries)
        if malformed and not leave_out_malformed:  # one line naming each (the first few)
            many = f"{len(malformed)} index records are malformed: " * (len(malformed) > 1)
            raise StoreFormatError(many + named_problems([m for _, m in malformed]))
        #: (id, one line) of each record left out for a missing key or channels no list
        self.malformed = tuple(malformed)
        if malformed:  # (the ids as one set: built per entry, 10^4 left out took 120 s)
            left_out = {rid for rid, _ in malformed}
            entries = {rid: e for rid, e in entries.items() if rid not in left_out}
        self._entries = entries  # id -> (the fields opening reads, the record's JSON line)
        self._records: dict[str, dict[str, Any]] = {}  # whole records, parsed on first use
        self._fields: Mapping[str, IndexFields] | None = None
        self._sources: Mapping[str, str] | None = None
        self._recordings: dict[str, Recording] = {}  # built on first use
        self._seen: dict[tuple[Any, ...], str | None] = {}  # channels and rows judged
        self._arrays: dict[str, Any] = {}
        self._readers: dict[str, Any] = {}
        self._checked: set[str] = set()  # recordings whose group holds their record
        self._data_checked: set[str] = set()  # groups whose data/zarr.json is eegprep's
        self._root: Any = None
        self.report_problems: list[str] = []  # damaged ingest reports, set by reports()

    @property
    def url(self) -> str:
        return self._loc.url

    @property
    def display(self) -> str:
        """:attr:`url` as messages and reports show it: credentials hidden."""
        return self._loc.display

    @property
    def named(self) -> str:
        """The store's path or URL as a message names it (:attr:`Location.named`)."""
        return self._loc.named

    @property
    def sfreq(self) -> float:
        return float(self.attrs["sfreq"])

    @property
    def recipe(self) -> dict[str, Any]:
        return dict(self.attrs["recipe"])

    @property
    def recipe_hash(self) -> str:
        return str(self.attrs["recipe_hash"])

    @property
    def recordings(self) -> list[Recording]:
        """Every complete recording, in id order. A record that cannot be built raises
        :class:`StoreFormatError` once all were tried, in one line naming each (the first
        :data:`NAMED` of them) and counting them: a training run is refused before its first
        step for every damaged record at once, not for one per run."""
        built, refused = [], []
        for rid in self._entries:
            try:
                built.append(self._built(rid))
            except StoreFormatError as exc:
                refused.append(str(exc))
        refuse_all(
            refused,
            f"{self.named}: {of_total(len(refused), len(self), 'index record')} cannot be used",
            "; `eegprep stats` summarises the others",
        )
        return built

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Recording]:
        return iter(self.recordings)  # (every record checked before the first is used)

    def __contains__(self, rid: object) -> bool:
        return rid in self._entries

    def recording(self, rid: str) -> Recording:
        if rid in self._entries:
            return self._built(rid)
        import difflib

        near = difflib.get_close_matches(rid, list(self._entries), n=1)
        hint = f" Did you mean {quoted_path(near[0])}?" if near else ""
        raise RecordingNotFoundError(f"{self.named}: no recording {quoted_path(rid)}.{hint}")

    def index_rows(self) -> Mapping[str, Mapping[str, Any]]:
        """Every recording's index record as its JSON object, by id, in id order (read-only;
        each parsed when first looked up)."""
        return _Records(self)

    def index_fields(self) -> Mapping[str, IndexFields]:
        """Every recording's id, group, corpus, ``channel_index``, ``n_samples``, ``sfreq``,
        ``split`` and ``subject_key`` (:class:`~eegprep.store.index.IndexFields`), by id, in id
        order: for code that scans 10^5 recordings for a few fields (the window index), which
        then parses no record and builds no :class:`Recording`.

        Their values are checked first (:func:`~eegprep.store.record_values.fields_problem`):
        a record whose ``n_samples``, ``sfreq`` (the store's), ``channel_index`` (rows of the
        store's vocabulary), ``corpus``, ``split`` or ``subject_key`` (text) no eegprep store
        holds raises :class:`StoreFormatError`, one line naming it."""
        if self._fields is None:
            found = self._fields_problems()
            if len(found) == 1:
                raise StoreFormatError(self._record_error(*found[0]))
            if found:
                more = " | more not named here" if len(found) > NAMED else ""  # (not counted:
                named = [f"{rid}: {problem}" for rid, problem in found[:NAMED]]  # the search
                said = named_problems(named) + more  # stops at the first past the named ones)
                raise StoreFormatError(
                    f"{self.named}: index records that are not ones eegprep writes ({said}); "
                    "run `eegprep validate`, then ingest the corpus again (`eegprep ingest ... "
                    "--repair`)"
                )
            self._fields = MappingProxyType({rid: e[0] for rid, e in self._entries.items()})
        return self._fields

    def _fields_problems(self) -> list[tuple[str, str]]:
        """The (id, problem) of the records whose fields no eegprep store holds, in id order:
        up to :data:`NAMED` + 1 of them (each search starts after the one before)."""
        ids, fields = list(self._entries), [e[0] for e in self._entries.values()]
        found: list[tuple[str, str]] = []
        start = 0
        while len(found) <= NAMED:
            hit = fields_problem(ids[start:], fields[start:], self.sfreq, self._vocabulary)
            if hit is None:
                break
            found.append(hit)
            start = ids.index(hit[0], start) + 1
        return found

    @property
    def _vocabulary(self) -> list[str] | None:
        """The store's channel vocabulary (opening checked it is a list of names), or None:
        eegprep's (stores of the first versions state none)."""
        vocabulary = self.attrs.get("vocabulary")
        return vocabulary if isinstance(vocabulary, list) else None

    def _record_error(self, rid: str, problem: str) -> str:
        """The line refusing recording ``rid`` whose record holds a value no eegprep store
        holds (``problem``, :func:`~eegprep.store.record_values.record_problem`)."""
        return (
            f"{self.named}: {rid}: its index record is not one eegprep writes ({problem}); "
            "run `eegprep validate`, then ingest the corpus again (`eegprep ingest ... --repair`)"
        )

    def source_identities(self) -> Mapping[str, str]:
        """Every recording's source identity (:func:`eegprep.store.record.source_identity`:
        its source file's content digest and part; ``""`` where the record states none), by
        id, in id order: what tells that two stores hold the same recording. Read from the
        index lines in memory, without parsing whole records or opening any group (~0.1 s
        for 10^5 recordings; once per store)."""
        if self._sources is None:
            self._sources = MappingProxyType(
                {rid: line_source_identity(line_text(e)) for rid, e in self._entries.items()}
            )
        return self._sources

    def without(self, ids: Iterable[str]) -> Store:
        """This store as if the recordings ``ids`` were not listed (a view: nothing is
        written); ids it does not list are ignored."""
        drop = set(ids)
        if not drop:
            return self
        kept = {rid: e for rid, e in self._entries.items() if rid not in drop}
        view = Store(self._loc, self.attrs, kept)
        view._records = {rid: r for rid, r in self._records.items() if rid in kept}
        view._recordings = {rid: r for rid, r in self._recordings.items() if rid in kept}
        view._seen = self._seen  # (channels and rows judged: the same for either)
        return view

    def _record(self, rid: str) -> dict[str, Any]:
        """Recording ``rid``'s whole index record, parsed from its line once."""
        row = self._records.get(rid)
        if row is None:
            try:
                line = line_text(self._entries[rid])
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:  # (what opening's decoder took, nested
                raise StoreFormatError(  # beyond orjson's depth, say)
                    f"{self.named}: index record {rid!r} cannot be read ({exc}); run "
                    "`eegprep validate`, then `eegprep ingest ... --repair`"
                ) from None
            wide = misread_problem(line) if may_be_misread(row.get("labels"), line) else None
            if wide:  # (a label 2**70 or 1e-400 another program wrote: never
                # read as 1.18e21 or 0)
                raise StoreFormatError(self._record_error(rid, wide))
            self._records[rid] = row
        return row

    def _built(self, rid: str) -> Recording:
        """Recording ``rid``, built from its index record once its values were checked
        (:func:`~eegprep.store.record_values.record_problem` and
        :func:`~eegprep.store.record_details.details_problem`: one line, else)."""
        rec = self._recordings.get(rid)
        if rec is None:
            record = self._record(rid)
            built = _recording(self._loc, record)  # (a key missing, or no Recording: one line)
            problem = record_problem(
                record, self.sfreq, self._vocabulary, seen=self._seen
            ) or details_problem(record, self.sfreq)
            if problem:  # (when its group's copy differs, that says more: one was damaged)
                group = record.get("group")  # (compared only when it is the record's own: a
                differ = (  # path elsewhere, or another recording's group, is not read)
                    isinstance(group, str)
                    and group_problem(record) is None
                    and group_record_problem(self._loc, group, record)
                )
                raise StoreFormatError(
                    f"{rid}: {differ}; run `eegprep validate`"
                    if differ
                    else self._record_error(rid, problem)
                )
            rec = self._recordings[rid] = built
        return rec

    def _checked_recording(self, rid: str) -> Recording:
        """The recording, once its group's attributes were found equal to its index record
        (:mod:`eegprep.store.group_attrs`; once per recording): a flipped bit in either copy
        that JSON still parses (a length, a label, a channel's position, the group's path) is
        refused in one line before any sample is read, never read as other samples."""
        rec = self.recording(rid)
        if rid not in self._checked:
            problem = group_record_problem(self._loc, rec.group, self._record(rid))
            if problem:
                raise StoreFormatError(f"{rid}: {problem}; run `eegprep validate`")
            self._checked.add(rid)
        return rec

    def _shape_problem(self, rid: str, shape: tuple[int, ...]) -> str | None:
        """What is wrong with a ``data`` array of ``shape`` for recording ``rid``'s record."""
        rec = self.recording(rid)
        if tuple(shape) == (rec.n_channels, rec.n_samples):
            return None
        where = self._loc.shown(self._loc.path(rec.group, "data", "zarr.json"))
        return (
            f"{rid}: {where}: shape {list(shape)}, but the record says "
            f"{counted(rec.n_channels, 'channel')} "
            f"x {counted(rec.n_samples, 'sample')}: the metadata is damaged; run `eegprep validate`"
        )

    def array(self, rid: str) -> Any:
        """The recording's zarr ``data`` array (``channel`` x ``time``)."""
        arr = self._arrays.get(rid)
        if arr is None:
            import zarr

            group = self._checked_data(rid).group
            try:
                if self._root is None:
                    self._root = zarr.open_group(self._loc.zarr_store(read_only=True), mode="r")
                with warnings.catch_warnings():  # numcodecs' zarr3 codecs (quantized encoding)
                    warnings.simplefilter("ignore")
                    arr = self._root[f"{group}/data"]
            except Exception as exc:  # zarr: missing or damaged metadata (it raises any type)
                if (refused := self._loc.decoded_refusal(exc, "read", group, "data")) is not None:
                    raise refused from exc
                raise StoreFormatError(
                    f"{self.named}: {rid}: the metadata of {group}/data is unreadable "
                    f"({described(exc)}); run `eegprep validate`"
                ) from exc
            problem = self._shape_problem(rid, arr.shape) or self._zarr_problem(rid, arr)
            if problem:
                raise StoreFormatError(problem)
            self._arrays[rid] = arr
        return arr

    def _zarr_problem(self, rid: str, arr: Any) -> str | None:
        """What is wrong with recording ``rid``'s ``data`` as zarr reads it (an array not in
        eegprep's own layout): samples of a type no eegprep store holds, or chunks too large to
        decode at once (:mod:`~eegprep.store.record_values`); None: it can be read."""
        problem = samples_type_problem(arr.dtype) or chunk_problem(arr.chunks, arr.dtype.itemsize)
        if problem is None:
            return None
        where = self._loc.shown(self._loc.path(self.recording(rid).group, "data", "zarr.json"))
        return (
            f"{self.named}: {rid}: {where}: {problem}: not read; ingest the corpus into a new "
            "store (`eegprep ingest`)"
        )

    def check_samples(self, rid: str) -> None:
        """Refuse, in one line naming the store, the recording and the file, a recording whose
        ``data`` array is not what eegprep writes for its record (as every read of its samples
        does): for a reader that reads none of them (a record of 0 samples gives no window)."""
        self._checked_data(rid)

    def reads_own_layout(self, rid: str) -> bool:
        """Whether recording ``rid``'s ``data`` is in eegprep's own layout, read by its shard
        reader (each chunk's CRC-32C checked): not an array of another layout, which zarr reads
        as it says (another program's, an earlier version's)."""
        return self._reader(rid) is not None

    def read(self, rid: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``[start, stop)`` of every channel, float32 microvolts, ``(channels, n)``."""
        rec = self.recording(rid)
        stop = rec.n_samples if stop is None else stop
        if not 0 <= start <= stop <= rec.n_samples:
            raise UsageError(
                f"{rid}: segment [{start}, {stop}) outside the recording's [0, {rec.n_samples})"
            )
        reader = self._reader(rid)
        if reader is not None:
            return reader.read(start, stop)
        arr = self.array(rid)  # (refuses an array it cannot read, in its own line)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = arr[:, start:stop]
        except Exception as exc:  # zarr: a checksum, a missing object, damaged metadata (any type)
            group = self._checked_data(rid).group
            if (refused := self._loc.decoded_refusal(exc, "read", group, "data")) is not None:
                raise refused from exc
            raise StoreFormatError(
                f"{self.named}: {rid}: samples [{start}, {stop}) unreadable "
                f"({described(exc)}); run `eegprep validate`"
            ) from exc
        return np.asarray(data, dtype=np.float32)

    def iter_chunks(
        self, rid: str, first: int, last: int
    ) -> tuple[Iterator[np.ndarray], float | None]:
        """Stored chunks ``[first, last)`` of the recording (each ``(channels, chunk_samples)``,
        the last one its samples only; fresh arrays), and the divisor that turns them into
        microvolts: the quantized encoding's stored integers with their divisor (``int /
        divisor`` is :meth:`read`'s value), or float32 microvolts with ``None``. For a reader
        that scales samples once, into its own output (the training batches).

        The chunks are decoded one at a time as the iterator is advanced (to use each while it
        is in the CPU's cache). The range is checked here; a damaged chunk raises when reached.
        Read nothing else in this thread until the iterator is done (it holds the thread's read
        buffer)."""
        rec = self.recording(rid)
        chunk = self.chunk_samples(rid)
        n_chunks = -(-rec.n_samples // chunk)
        if not 0 <= first <= last <= n_chunks:
            raise UsageError(
                f"{rid}: chunks [{first}, {last}) outside the recording's [0, {n_chunks})"
            )
        reader = self._reader(rid)
        if reader is not None:
            return reader.iter_chunks(first, last), reader.divisor
        data = self.read(rid, first * chunk, min(rec.n_samples, last * chunk))
        return iter([data[:, j : j + chunk] for j in range(0, data.shape[1], chunk)]), None

    def chunk_samples(self, rid: str) -> int:
        """Samples per stored chunk of the recording's ``data`` (the unit a read decodes)."""
        reader = self._reader(rid)
        if reader is not None:
            return int(reader.chunk)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return int(self.array(rid).chunks[1])
        except Exception as exc:  # damaged metadata: zarr raises any type
            if (refused := self._loc.decoded_refusal(exc, "read", rid)) is not None:
                raise refused from exc
            raise StoreFormatError(
                f"{self.named}: {rid}: the metadata of its data is unreadable "
                f"({described(exc)}); run `eegprep validate`"
            ) from exc

    def _checked_data(self, rid: str) -> Recording:
        """The recording, once its group holds its record (:meth:`_checked_recording`) and its
        ``data`` array's ``zarr.json`` was found to be what eegprep writes for that record
        (:mod:`eegprep.store.array_docs`; once per group and open store, ~50 us): a flipped
        bit that still parses (a fill value, a codec's level, a data type, a chunk shape)
        would have every read decode other samples, and fails no checksum. Every reader of
        samples (:meth:`read`, :meth:`iter_chunks`, :meth:`chunk_samples`, :meth:`array`)
        passes here."""
        rec = self._checked_recording(rid)
        if rec.group not in self._data_checked:
            self._check_document(rid, rec.group, "data", self._record(rid))
            self._data_checked.add(rec.group)
        return rec

    def _reader(self, rid: str) -> Any:
        """The direct shard reader of the recording's ``data`` (``None``: read with zarr)."""
        if rid not in self._readers:
            from eegprep.store.shard_reader import ShardReader

            rec = self._checked_data(rid)
            reader = ShardReader.open(self._loc, f"{rec.group}/data")
            if reader is not None:
                meta = rec.meta
                problem = reader.decoding_problem(
                    meta.get("encoding"), meta.get("quantum_uv")
                ) or reader.expect(meta.get("chunk_crc32c"))
                if problem:
                    raise StoreFormatError(f"{rid}: {problem}; run `eegprep validate`")
                problem = self._shape_problem(rid, (reader.n_channels, reader.n_samples))
                if problem:
                    raise StoreFormatError(problem)
            self._readers[rid] = reader
        return self._readers[rid]

    def read_target(self, rid: str, name: str) -> np.ndarray:
        """A time series stored beside the EEG (MoBI joint angles, say), at the store rate:
        float32, shape ``(n_rows, n_samples)``.

        Raises :class:`UsageError` when the record names no target ``name``, and
        :class:`StoreFormatError` (one line) when the target cannot be read or its
        ``zarr.json`` is not what eegprep writes for the record (a flipped bit in its data type
        or a codec would give other values; :mod:`eegprep.store.array_docs`)."""
        import zarr

        group = self._checked_recording(rid).group
        record = self._record(rid)
        targets = [str(t) for t in record.get("targets") or []]
        if name not in targets:
            raise UsageError(
                f"{self.named}: {rid}: no target {name!r}; its record names "
                f"{', '.join(map(repr, targets)) or 'none'}"
            )
        self._check_document(rid, group, name, record)
        try:
            if self._root is None:
                self._root = zarr.open_group(self._loc.zarr_store(read_only=True), mode="r")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = np.asarray(self._root[f"{group}/{name}"][:])
        except Exception as exc:  # a checksum, a missing object, damaged metadata (any type)
            if (refused := self._loc.decoded_refusal(exc, "read", group, name)) is not None:
                raise refused from exc
            raise StoreFormatError(
                f"{self.named}: {rid}: target {name!r} unreadable "
                f"({described(exc)}); run `eegprep validate`"
            ) from exc
        problem = target_problem(record.get(TARGETS), name, values)
        if problem:
            raise StoreFormatError(
                f"{self.named}: {rid}: target {name!r} ({group}/{name}): {problem}; run "
                "`eegprep validate`"
            )
        return values

    def _check_document(self, rid: str, group: str, name: str, record: dict[str, Any]) -> None:
        """Refuse, in one line naming the file and the first field that differs, an array
        (``data`` or a target) whose ``zarr.json`` (less attributes another program added)
        differs from what eegprep writes for ``record``; a missing or unparsable one is left
        to the read (which names it)."""
        from eegprep.store.array_docs import document_problem

        try:
            doc, _ = without_added(self._loc.read_bytes(group, name, "zarr.json"), array_keys(name))
        except StoreAccessError:
            raise
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return
        differs = document_problem(record, name, doc)
        if differs is not None:
            where = self._loc.shown(self._loc.path(group, name, "zarr.json"))
            raise StoreFormatError(
                f"{self.named}: {rid}: {where}: not the metadata eegprep writes for this "
                f"recording ({differs}): damaged; run `eegprep validate`"
            )

    def reports(self) -> list[dict[str, Any]]:
        """Ingest reports saved in the store, oldest first. A damaged one (cut short, a flipped
        bit, not a report) is left out and named in :attr:`report_problems`."""
        reports, self.report_problems = read_reports(self._loc)
        return reports


REQUIRED = ("id", "group", "corpus", "channels", "channel_index", "n_samples", "sfreq")
"""The keys every index record has (:meth:`RecordingRecord.from_dict` requires them too)."""

_required = operator.attrgetter(*REQUIRED)  # an index record's IndexFields -> their values


NAMED = 5
"""The most damaged records one refusal names; it counts the rest (`eegprep validate` lists all)."""


def named_problems(problems: list[str]) -> str:
    """The first :data:`NAMED` of ``problems`` (one line each) joined into one line, the rest
    counted: what a refusal of many damaged records says."""
    rest = len(problems) - NAMED
    return " | ".join(problems[:NAMED]) + (f" | {rest} more not named here" if rest > 0 else "")


def refuse_all(problems: list[str], head: str, tail: str) -> None:
    """Raise :class:`StoreFormatError` for every one of ``problems`` (one line each) at once:
    the problem's own line when there is one, else ``head``, the first :data:`NAMED` of them
    in brackets (:func:`named_problems`) and ``tail``; nothing when there is none."""
    if len(problems) == 1:
        raise StoreFormatError(problems[0])
    if problems:
        raise StoreFormatError(f"{head} ({named_problems(problems)}){tail}")


def _malformed(loc: Location, entries: dict[str, Entry]) -> list[tuple[str, str]]:
    """Each index record without a required key or with channels that are not lists, and
    the one line naming it (the rest is checked when a record is used), in id order."""
    unset = msgspec.UNSET
    found = []
    for rid, (fields, line) in entries.items():
        if isinstance(line, BaseLine):  # from the base's fields file: plain, checked there
            continue
        if (
            unset in _required(fields)
            or bytes(cast(msgspec.Raw, fields.channels))[:1] != b"["  # (set: its JSON text)
            or type(fields.channel_index) is not list
        ):
            try:
                _recording(loc, orjson.loads(line))  # the record's own one-line error
            except StoreFormatError as exc:
                found.append((rid, str(exc)))
                continue
            missing = [k for k, v in zip(REQUIRED, _required(fields), strict=True) if v is unset]
            what = f"no {', '.join(missing)}" if missing else "channels or channel_index no list"
            found.append((rid, f"{loc.named}: index record {rid!r} is malformed ({what}); run "
                          "`eegprep validate`, then `eegprep ingest ... --repair`"))  # fmt: skip
    return found


class _Records(Mapping[str, Mapping[str, Any]]):
    """A store's index records by id, each parsed from its JSON line when looked up."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getitem__(self, rid: str) -> Mapping[str, Any]:
        if rid not in self._store._entries:
            raise KeyError(rid)
        return MappingProxyType(self._store._record(rid))

    def __iter__(self) -> Iterator[str]:
        return iter(self._store._entries)

    def __len__(self) -> int:
        return len(self._store._entries)


def _recording(loc: Location, record: dict[str, Any]) -> Recording:
    """The recording an index line (its JSON object) lists."""
    try:
        return Recording.from_record(record)
    except (KeyError, TypeError, ValueError) as exc:
        said = kinds_problem(record) or f"{exc!r} missing or malformed"  # (in words, when known)
        raise StoreFormatError(
            f"{loc.named}: index record {record.get('id')!r} is incomplete ({said}); run "
            "`eegprep validate`, then `eegprep ingest ... --repair`"
        ) from None


def open_store(url: str | os.PathLike[str], *, leave_out_malformed: bool = False) -> Store:
    """Open an eegprep store (local path or fsspec URL) for reading.

    Reads the root metadata and the index (a handful of objects), not the recordings. Each
    :class:`Recording` is built from its index record when first asked for; a record without
    a required key (:data:`REQUIRED`) fails the open, one with other malformed fields fails,
    in one line, where it is used. ``leave_out_malformed``: those records, and index lines
    that cannot be read at all (named by their segment and line), are left out of the store
    instead, each with its line in :attr:`Store.malformed` (what a summary names).
    """
    loc = Location.parse(url)
    attrs = read_root_attrs(loc)
    if attrs is None:
        kind = not_a_folder(loc.root) if loc.local and not loc.zipped else None
        if kind is not None:  # a FIFO, a device, a link loop: no store can be made there
            raise StoreNotFoundError(f"{loc.named}: {kind}, not a store (a store is a folder)")
        hint = unmatched_pattern(loc.root) if loc.local and not os.path.lexists(loc.root) else ""
        if hint:  # (a pattern passed on by the shell: "create one" named a store of that name)
            raise StoreNotFoundError(f"{loc.named}: no eegprep store here{hint}")
        raise StoreNotFoundError(
            f"{loc.named}: no eegprep store here; create one with `eegprep ingest CORPUS --out "
            f"{loc.named}`"
        )
    refuse_damaged_root(loc, attrs)
    damaged: list[str] | None = [] if leave_out_malformed else None
    with gc_paused():  # ~10^6 small containers for a large index
        entries = read_entries(loc, damaged=damaged)
    if not entries and not damaged:
        _refuse_lost_index(loc)
    store = Store(loc, attrs, entries, leave_out_malformed=leave_out_malformed)
    if damaged:  # index lines that cannot be read: named by the line, their records unknown
        store.malformed += tuple((p.split(": ", 1)[0], p) for p in damaged)
    return store


def _refuse_lost_index(loc: Location) -> None:
    """Refuse a store whose index is gone while recording groups are on disk (its segments
    deleted): it would read as empty. Not while an ingest runs: it may be moving its first
    recording into place, which it lists next; nor when no group holds a record (what an
    ingest stopped before its first commit leaves on an object store, where workers write
    their groups in place): no recording was ever complete, and the store is empty."""
    if any(n.endswith(".jsonl") for n in loc.list(*INDEX_DIR)) or ingest_running(loc):
        return
    groups = [g for g in groups_on_disk(loc)[0] if TMP_MARK not in g.rsplit("/", 1)[1]]
    if any(not holds_no_record(loc, g) for g in groups):  # (stops at the first with a record)
        raise StoreFormatError(
            f"{loc.named}: index missing ({'/'.join(INDEX_DIR)} holds no segment), but "
            f"{counted(len(groups), 'recording group')} {noun(len(groups), 'is', 'are')} under "
            "recordings/: the next `eegprep ingest "
            f"CORPUS --out {loc.named}` lists them again from their groups (`eegprep validate` "
            "checks the store)"
        )
