"""One recording as a store's index lists it (:class:`Recording`), and its events
(:class:`Event`): what :class:`~eegprep.store.reader.Store` hands out, built from index records
without touching the recording's arrays."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from eegprep.store.record import RecordingRecord


@dataclass(frozen=True)
class Event:
    """An event in the recording's time base at the store rate.

    ``onset`` and ``duration`` in seconds from the recording's first stored sample;
    ``channel`` empty for events on all channels.
    """

    onset: float
    duration: float
    label: str
    channel: str = ""

    def to_list(self) -> list[Any]:
        return [self.onset, self.duration, self.label, self.channel]


@dataclass(frozen=True)
class Recording:
    """One recording as the index lists it.

    Attributes
    ----------
    id : str
        ``"{corpus}/{name}"``, unique in the store.
    corpus, subject, session, split : str
        Identity; ``split`` is ``train``/``eval``/``dev``/... as the corpus defines it, or ``""``.
    subject_key : str
        Corpus-independent subject identity (``tuh:aaaaaaaa`` for every TUH subset), used to
        keep evaluation subjects out of pre-training.
    channels : tuple of str
        Canonical channel names, in stored row order.
    channel_index : tuple of int
        Vocabulary indices of ``channels`` (``eegprep.pipeline.channels.VOCABULARY``).
    n_samples : int
        Samples per channel at ``sfreq``.
    sfreq : float
        Store rate, Hz (200).
    labels : dict
        Recording-level labels (``{"abnormal": 1}``, ``{"emotion": 3}``, ...).
    events : tuple of Event
        Events in the stored time base.
    source : str
        Source file, relative to the corpus root.
    group : str
        Zarr group path of the recording inside the store.
    meta : dict
        The whole index record (original rate, checksums, encoding, QC, ...) as its JSON
        object; treat it as read-only.
    record : RecordingRecord
        The same record, typed (built on first use: opening a store of 10^5 recordings builds
        none).
    """

    id: str
    corpus: str
    subject: str
    session: str
    split: str
    subject_key: str
    channels: tuple[str, ...]
    channel_index: tuple[int, ...]
    n_samples: int
    sfreq: float
    labels: dict[str, Any]
    events: tuple[Event, ...]
    source: str
    group: str
    meta: dict[str, Any] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        """The recording's name within its corpus (``id`` without the corpus)."""
        return self.id.split("/", 1)[1]

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sfreq

    @property
    def joins(self) -> tuple[int, ...]:
        """The first sample of each continuous stretch after the first (the source's samples
        do not follow on in time there); ``()`` for a continuous recording."""
        return tuple(self.meta.get("joins") or ())

    @functools.cached_property
    def record(self) -> RecordingRecord:
        """The index record, typed (built on first use)."""
        return RecordingRecord.from_dict(self.meta)

    @property
    def qc(self) -> dict[str, Any]:
        return dict(self.meta.get("qc") or {})

    @classmethod
    def from_record(cls, record: RecordingRecord | dict[str, Any]) -> Recording:
        """A Recording from an index record, typed or as its JSON object.

        ``id``, ``group``, ``corpus``, ``channels``, ``channel_index``, ``n_samples`` and
        ``sfreq`` are required (``KeyError``/``TypeError`` otherwise), as
        :meth:`RecordingRecord.from_dict` requires them. Fills the instance's fields directly:
        a frozen dataclass's ``__init__`` sets each through ``object.__setattr__``, a third of
        the cost of opening a 100,000-recording store.
        """
        typed = record if isinstance(record, RecordingRecord) else None
        d: dict[str, Any] = record.to_dict() if isinstance(record, RecordingRecord) else record
        get = d.get
        events = get("events")
        obj = object.__new__(cls)
        obj.__dict__.update(
            id=d["id"],
            corpus=d["corpus"],
            subject=get("subject", ""),
            session=get("session", ""),
            split=get("split", ""),
            subject_key=get("subject_key", ""),
            channels=tuple(d["channels"]),
            channel_index=tuple(d["channel_index"]),  # ints, as the index stores them
            n_samples=d["n_samples"],
            sfreq=float(d["sfreq"]),
            labels=get("labels") or {},
            events=tuple(Event(*e) for e in events) if events else (),
            source=get("source", ""),
            group=d["group"],
            meta=d,
        )
        if typed is not None:
            obj.__dict__["record"] = typed
        return obj
