"""Records of recordings written by hand into a store (tests and benchmarks), without ingest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eegprep.pipeline.channels import vocabulary_index
from eegprep.store.record import RecordingRecord


def hand_record(
    rid: str, channels: Sequence[str], n_samples: int, *, sfreq: float = 200.0, **fields: Any
) -> RecordingRecord:
    """The record of recording ``rid`` (``"{corpus}/{name}"``) in its first version's group.

    Parameters
    ----------
    channels : sequence of str
        Canonical names (their vocabulary indices become ``channel_index``).
    n_samples : int
        Samples per channel at ``sfreq`` (Hz).
    **fields
        Any other :class:`RecordingRecord` field (``subject``, ``labels``, ``events``, ...).
    """
    corpus, name = rid.split("/", 1)
    return RecordingRecord(
        id=rid,
        group=f"recordings/{rid}",
        corpus=corpus,
        name=name,
        channels=tuple(channels),
        channel_index=tuple(vocabulary_index(c) for c in channels),
        n_samples=n_samples,
        sfreq=sfreq,
        **fields,
    )
