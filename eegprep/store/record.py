"""The typed recording record: what the index lists and each recording group's attributes hold.

A :class:`RecordingRecord` is frozen: the ingest builds every value first and the record once
(then :meth:`RecordingRecord.replace` for the QC, known only after the samples are written).
JSON is the store's form of it: :meth:`RecordingRecord.to_dict` gives the object the index
line and the group's ``zarr.json`` hold (both written with sorted keys, so the bytes depend on
the keys and values alone), :meth:`RecordingRecord.from_dict` reads one back, from this
version's stores and from earlier ones (docs/store-format.md lists the keys).

Keys an earlier eegprep did not write are tolerated: the identity and description fields take
their empty defaults (``""``, ``{}``, ``[]``), and the provenance fields (what the source files
were, what produced the samples, the QC) stay ``None``, "not stated", and are left out of
:meth:`~RecordingRecord.to_dict` again: a record stating no ``source_files`` is still one
written before they were listed (:func:`eegprep.corpus.sources.is_unchanged`), one without a
``recipe_hash`` never current. Keys this version does not know are kept in
:attr:`~RecordingRecord.extra` and written back: a round trip through a record loses nothing
but the ``null`` step of a record that does not state its encoding.

The nested values (events, labels, QC, file stamps, dropped channels) are the plain JSON
containers, shared with the dicts the record is built from and gives: treat them as read-only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def source_identity(digest: Any, part: Any) -> str:
    """What makes two records the same recording whatever their ids and stores: the source
    file's content digest (``source_blake3``, or ``source_sha256`` in records of earlier
    versions) and the ``part`` of it the recording is (``digest#part``); ``""`` when the record
    states no digest (such a record is the same as no other)."""
    if not isinstance(digest, str) or not digest:
        return ""
    return f"{digest}#{part}" if part else digest


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingRecord:
    """One recording version as the index lists it (and its group's attributes repeat it)."""

    id: str
    """``"{corpus}/{name}"``, unique in the store."""
    group: str
    """Zarr group of this version, from the store root: ``recordings/{corpus}/{name}`` for the
    first, ``recordings/{corpus}/{name}@{k}`` for version ``k`` of a re-ingested recording."""
    corpus: str
    """The corpus (manifest) name."""
    name: str = ""
    """The recording's name within its corpus (``id`` without the corpus)."""
    subject: str = ""
    """Subject as the corpus defines it; ``""`` when it does not."""
    session: str = ""
    """Session as the corpus defines it; ``""`` when it does not."""
    split: str = ""
    """``train``/``eval``/``dev``/... as the corpus defines it; ``""`` when it does not."""
    subject_key: str = ""
    """Corpus-independent subject identity (``tuh:aaaaaaaa`` for every TUH subset)."""
    channels: tuple[str, ...]
    """Canonical channel names, in stored row order (the source file's order)."""
    channel_index: tuple[int, ...]
    """Vocabulary index of each of ``channels`` (:data:`eegprep.pipeline.channels.VOCABULARY`)."""
    n_samples: int
    """Samples per channel at ``sfreq`` (samples)."""
    sfreq: float
    """The store's sampling rate (Hz): 200.0."""
    joins: tuple[int, ...] = ()
    """Where the source's samples stop following on in time (a gap, a pause, a stretch cut
    out): the first stored sample of each continuous stretch after the first, ascending, each
    ``0 < j < n_samples``; ``()`` (and no key in the JSON) for a continuous recording. Each
    stretch was filtered alone; no window is cut across a join."""
    labels: dict[str, Any] = field(default_factory=dict)
    """Recording-level labels (``{"abnormal": 1}``, ``{"montage": "01_tcp_ar"}``, ...)."""
    events: list[list[Any]] = field(default_factory=list)
    """``[onset, duration, label, channel]`` rows sorted by onset: onset and duration in seconds
    from the first stored sample, inside ``[0, n_samples / sfreq]``; channel ``""`` for all."""
    source: str = ""
    """The source file, relative to the corpus root."""
    part: str | None = None
    """The recording inside a multi-recording source file; ``None``: the whole file."""
    source_size: int | None = None
    """The source file's size when ingested (bytes); ``None``: not stated."""
    source_mtime_ns: int | None = None
    """The source file's modification time when ingested (nanoseconds since the epoch)."""
    source_blake3: str | None = None
    """The source file's BLAKE3 (256 bits, hex); ``None`` in records of earlier versions."""
    source_sha256: str | None = None
    """The source file's SHA-256 (hex), stated by records of earlier versions instead."""
    source_files: list[dict[str, Any]] | None = None
    """Every file whose bytes reached the store, source first: ``{"path", "size" (bytes),
    "mtime_ns" (ns), "blake3"}`` each (``"sha256"`` instead in records of earlier versions);
    ``None``: a record from before they were listed."""
    orig_sfreq: float | tuple[float, ...] | None = None
    """The source's sampling rate (Hz), or its rates, ascending, when its channels differ."""
    orig_duration_s: float | None = None
    """The source recording's length (seconds, rounded to the microsecond)."""
    mains_hz: float | None = None
    """The mains frequency notched out (Hz)."""
    encoding: str | None = None
    """How ``data`` is stored: ``quantized``, ``float32`` or ``float16`` (``auto`` resolved);
    ``None``: not stated, a record of an earlier version (the store's recipe says)."""
    quantum_uv: float | None = None
    """The quantized encoding's step (uV); ``None`` for the float encodings."""
    max_error_uv: float | None = None
    """The largest error of a stored sample against the computed one (uV): ``quantum_uv / 2``;
    ``None`` for the float encodings."""
    recipe_hash: str | None = None
    """Hash of the preprocessing recipe that produced the samples."""
    block_seconds: float | None = None
    """The length of the blocks the streamed (``fast``) pipeline cut the recording into (s):
    the recipe's, or shorter where ``--file-memory-limit`` halved it. Another block moves a
    quantized sample by one quantum here and there (docs/store-format.md, "Reproducibility");
    ``None`` in the ``mne`` mode (no blocks) and in records of earlier versions."""
    band_hz: tuple[float, float] | None = None
    """The pass band applied (Hz): ``(l_freq, h_freq)``, the manifest's lower ``h_freq`` if any."""
    dropped_channels: list[list[str]] = field(default_factory=list)
    """``[source label, reason]`` of each source channel left out (non-EEG, unknown, ...)."""
    targets: tuple[str, ...] = ()
    """Names of the time series stored beside ``data`` in the group (sampled at ``sfreq``)."""
    manifest_hash: str | None = None
    """Hash of the manifest the recording was ingested with."""
    chunk_crc32c: str | None = None
    """The CRC-32C of each chunk of ``data``, in order, 8 hex digits each: a chunk read at
    another place than its own is found (:mod:`eegprep.store.chunk_sums`); ``None`` in records
    of earlier versions."""
    target_crc32c: dict[str, str] | None = None
    """The CRC-32C of each of ``targets``' values (float32 little-endian, C order), by name:
    a target read from another place or recording is found (:mod:`eegprep.store.chunk_sums`);
    ``None`` for a recording without targets and in records of earlier versions."""
    qc: dict[str, Any] | None = None
    """Quality checks: ``flat_channels``, ``clipped_channels``, ``line_noise_db`` (dB by mains
    Hz), ``median_rms_uv`` (uV), ``rms_uv`` (uV per channel); ``None`` until computed."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys this version of eegprep does not know, kept as read and written back."""

    def _stated_provenance(self) -> list[tuple[str, Any]]:
        """The source's and the original recording's fields :meth:`to_dict` writes after
        ``part``, in its order, those that are None left out (not stated); a record that
        does not state its encoding (an earlier version's) adds the step it has."""
        orig = self.orig_sfreq
        optional: list[tuple[str, Any]] = [
            ("source_size", self.source_size),
            ("source_mtime_ns", self.source_mtime_ns),
            ("source_blake3", self.source_blake3),
            ("source_sha256", self.source_sha256),
            ("source_files", self.source_files),
            ("orig_sfreq", list(orig) if isinstance(orig, tuple) else orig),
            ("orig_duration_s", self.orig_duration_s),
            ("mains_hz", self.mains_hz),
        ]
        if self.encoding is None:  # an earlier version's record: the step alone, if it stated one
            optional += [("quantum_uv", self.quantum_uv), ("max_error_uv", self.max_error_uv)]
        return [(key, value) for key, value in optional if value is not None]

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON: the object the index line and the group's ``zarr.json`` hold.

        The keys an ingest writes, in its order (``qc`` last, once computed), sequences as
        lists; a provenance field that is ``None`` is left out (not stated). ``quantum_uv``
        and ``max_error_uv`` go with ``encoding``, ``null`` included; a record that does not
        state its encoding (an earlier version's) keeps only a step it has. :attr:`extra`
        follows.
        """
        out: dict[str, Any] = {
            "id": self.id,
            "group": self.group,
            "corpus": self.corpus,
            "name": self.name,
            "subject": self.subject,
            "session": self.session,
            "split": self.split,
            "subject_key": self.subject_key,
            "channels": list(self.channels),
            "channel_index": list(self.channel_index),
            "n_samples": self.n_samples,
            "sfreq": self.sfreq,
            **({"joins": list(self.joins)} if self.joins else {}),
            "labels": self.labels,
            "events": self.events,
            "source": self.source,
            "part": self.part,
        }
        out.update(self._stated_provenance())
        if self.encoding is not None:
            out["encoding"] = self.encoding
            out["quantum_uv"] = self.quantum_uv
            out["max_error_uv"] = self.max_error_uv
        if self.recipe_hash is not None:
            out["recipe_hash"] = self.recipe_hash
        if self.block_seconds is not None:
            out["block_seconds"] = self.block_seconds
        if self.band_hz is not None:
            out["band_hz"] = list(self.band_hz)
        out["dropped_channels"] = self.dropped_channels
        out["targets"] = list(self.targets)
        if self.manifest_hash is not None:
            out["manifest_hash"] = self.manifest_hash
        if self.chunk_crc32c is not None:
            out["chunk_crc32c"] = self.chunk_crc32c
        if self.target_crc32c is not None:
            out["target_crc32c"] = self.target_crc32c
        if self.qc is not None:
            out["qc"] = self.qc
        if self.extra:
            clash = sorted(self.extra.keys() & _KEYS)
            if clash:
                raise ValueError(f"record {self.id!r}: extra keys {clash} are record fields")
            out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RecordingRecord:
        """A record from its JSON object (an index line, a group's attributes).

        ``id``, ``group``, ``corpus``, ``channels``, ``channel_index``, ``n_samples`` and
        ``sfreq`` are required (``KeyError`` when missing, ``TypeError`` when a sequence is
        not one); every other key may be missing, as in records of earlier versions.

        Sets the fields through their slots rather than ``__init__`` (which goes through
        ``object.__setattr__`` for each of them, frozen): opening a store builds one record per
        recording, and this halves what they cost.
        """
        get = d.get
        obj = object.__new__(cls)
        for key, put in _REQUIRED:
            put(obj, d[key])
        for key, put, default in _OPTIONAL:
            put(obj, get(key, default))
        orig, band = get("orig_sfreq"), get("band_hz")
        for key, value in (
            ("channels", tuple(d["channels"])),
            ("channel_index", tuple(d["channel_index"])),
            ("labels", get("labels", {})),
            ("events", get("events", [])),
            ("orig_sfreq", tuple(orig) if isinstance(orig, list) else orig),
            ("band_hz", None if band is None else (band[0], band[1])),
            ("dropped_channels", get("dropped_channels", [])),
            ("targets", tuple(get("targets") or ())),  # null: none, as the checks read it
            ("joins", tuple(get("joins") or ())),  # null: none, as Recording.joins reads it
            ("extra", {} if d.keys() <= _KEYS else {k: v for k, v in d.items() if k not in _KEYS}),
        ):
            _SET[key](obj, value)
        return obj

    def replace(self, **changes: Any) -> RecordingRecord:
        """A copy with ``changes`` (field names and values): records are never changed."""
        return dataclasses.replace(self, **changes)


_KEYS = frozenset(f.name for f in dataclasses.fields(RecordingRecord)) - {"extra"}
"""The keys a record's JSON object may hold for its fields."""

RECORD_KEYS = _KEYS
"""The names of a record's fields, as its JSON object and its group's attributes spell them."""


def _setter(name: str) -> Any:
    """The slot's own setter of field ``name`` (``__setattr__`` refuses: the class is frozen)."""
    return getattr(RecordingRecord, name).__set__


_SET = {f.name: _setter(f.name) for f in dataclasses.fields(RecordingRecord)}
_CONVERTED = {"channels", "channel_index", "labels", "events", "orig_sfreq"}
_CONVERTED |= {"band_hz", "dropped_channels", "targets", "joins", "extra"}
_REQUIRED = tuple(
    (f.name, _SET[f.name])
    for f in dataclasses.fields(RecordingRecord)
    if f.name not in _CONVERTED and f.default is dataclasses.MISSING
)
_OPTIONAL = tuple(
    (f.name, _SET[f.name], f.default)  # immutable defaults: "" or None
    for f in dataclasses.fields(RecordingRecord)
    if f.name not in _CONVERTED and f.default is not dataclasses.MISSING
)
