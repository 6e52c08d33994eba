"""A Neuroscan CNT file's events, each at the sample its event table names, read here in place
of MNE's, which puts them earlier.

Each entry of the event table (after the samples; its 9-byte head states the entry type, 1, 2
or 3) holds an ``Offset``. In tables of type 1 (8-byte entries) and 2 (19-byte entries) it is
a byte position in the file: the first byte of the multiplexed frame (one sample of every
channel) at which the event happened, so the event's sample, counted from 0, is ``(Offset -
header_bytes) / (bytes_per_sample * n_channels)`` with ``header_bytes = 900 + 75 *
n_channels``. In tables of type 3 (19-byte entries, written by SCAN for files over 1 GB) it is
that sample number itself. ``bytes_per_sample`` is the width the samples are read at (2 or 4,
``data_format``), so 16- and 32-bit files place their events alike.

That is how EEGLAB's ``loadcnt``/``pop_loadcnt`` and FieldTrip (``ft_read_event``, through
``loadcnt``; its older ``read_ns_cnt`` counts frames from 0 the same way) read them, and how a
type-3 file's events were checked against those Neuroscan's own software exports. MNE-Python
(``_read_annotations_cnt``) subtracts one sample more, and for type 3 also subtracts the
header's bytes from the sample number: its events were one sample early, and a type-3 table's
the header's size in frames, rounded up, plus one (24 samples for 66 channels at 32 bits). An
event at the first frame (``Offset`` = ``header_bytes``) has no sample in its reading: it gave
-1, which MNE moves to 0.

What MNE makes of each event is kept (docs/corpora.md#neuroscan-cnt-events): its text (the
keypad response, else the keyboard key, else the stimulus code), and rejected spans
(``KeyPad_Accept`` 0xC0 to the next 0xD0: ``BAD_`` and a duration; the 0xD0 markers dropped).
An ``Offset`` that points inside a frame gives the frame it is in, one before the data's first
byte sample 0, as MNE reads them. The table's place is found as MNE finds it (the header's, or
after the header's sample count when that lies past the file's end, or the file is 2 GB or
more); :func:`~eegprep.readers.cnt_header.check_cnt` has refused a table MNE cannot read.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base.regular_files import open_regular
from eegprep.readers.cnt_header import CHANNEL_BYTES, EVENT_TABLE_HEAD, SETUP_BYTES

if TYPE_CHECKING:
    from mne import Annotations
    from mne.io import BaseRaw

_HEAD = [("stim", "<u2"), ("keyboard", "u1"), ("accept", "u1"), ("offset", "<i4")]
_TAIL = [("type", "<i2"), ("code", "<i2"), ("latency", "<f4"), ("epoch", "u1"), ("a2", "u1"),
         ("accuracy", "u1")]  # fmt: skip
_ENTRIES = {1: np.dtype(_HEAD), 2: np.dtype(_HEAD + _TAIL), 3: np.dtype(_HEAD + _TAIL)}
_REJECT, _ACCEPT = 0xC0, 0xD0
_BIG = 2e9  # from this size on MNE places the table after the header's sample count
_MNE_CROPPED = re.compile(r"^(Omitted|Limited) \d+ annotation\(s\) that were")


def event_samples(offsets: np.ndarray, kind: int, data_start: int, frame: int) -> np.ndarray:
    """The 0-based sample of each event table ``Offset`` (see the module): a type-3 table's
    sample numbers as they are; types 1 and 2, the frame holding that byte, ``frame`` bytes
    each from byte ``data_start``; never before sample 0."""
    offsets = offsets.astype(np.int64)
    samples = offsets if kind == 3 else (offsets - data_start) // frame
    return np.maximum(samples, 0)


def _table(fh: Any, size: int, n_bytes: int) -> tuple[int, np.ndarray, int, int] | None:
    """``(type, entries, data_start, frame)`` of the file open as ``fh``; None without one."""
    head = fh.read(SETUP_BYTES)
    n_channels = int.from_bytes(head[370:372], "little")
    n_samples = int.from_bytes(head[864:868], "little", signed=True)
    at = int.from_bytes(head[886:890], "little", signed=True)
    data_start = SETUP_BYTES + CHANNEL_BYTES * n_channels
    frame = n_bytes * n_channels
    if size >= _BIG or at > size:
        at = data_start + frame * n_samples
    if not frame or at < data_start or at + EVENT_TABLE_HEAD.size > size:
        return None
    fh.seek(at)
    kind, length, _ = EVENT_TABLE_HEAD.unpack(fh.read(EVENT_TABLE_HEAD.size))
    dtype = _ENTRIES.get(kind)
    if dtype is None or length < 0:
        return None
    raw = fh.read(length - length % dtype.itemsize)
    return kind, np.frombuffer(raw, dtype=dtype), data_start, frame


def _texts(entries: np.ndarray) -> list[str]:
    """Each event's text as MNE gives it: ``KeyPad Response n`` (the low 4 bits of
    ``KeyPad_Accept``), else ``Keyboard Response n``, else the stimulus code."""
    keypad = entries["accept"] & 0x0F
    return [
        f"KeyPad Response {k}" if k else f"Keyboard Response {b}" if b else str(s)
        for s, b, k in zip(
            entries["stim"].tolist(), entries["keyboard"].tolist(), keypad.tolist(), strict=True
        )
    ]


def cnt_annotations(path: str, sfreq: float, n_bytes: int) -> Annotations:
    """The events of the CNT file ``path`` (samples ``n_bytes`` wide, at ``sfreq`` Hz) as MNE
    annotations from its first sample, each at the sample the format places it (the module)."""
    import mne

    with open_regular(path, buffering=-1) as fh:
        found = _table(fh, os.fstat(fh.fileno()).st_size, n_bytes)
    if found is None or not len(found[1]):
        return mne.Annotations([], [], [], orig_time=None)
    kind, entries, data_start, frame = found
    samples = event_samples(entries["offset"], kind, data_start, frame)
    durations = np.zeros(len(entries))
    texts = _texts(entries)
    accept = entries["accept"]
    markers = np.flatnonzero((accept == _REJECT) | (accept == _ACCEPT))
    first = next((k for k, i in enumerate(markers) if accept[i] == _REJECT), len(markers))
    for start, end in zip(markers[first::2], markers[first + 1 :: 2], strict=False):
        durations[start] = (samples[end] - samples[start]) / sfreq
        texts[start] = "BAD_" + texts[start]
    kept = accept != _ACCEPT
    return mne.Annotations(
        samples[kept] / sfreq, durations[kept], np.array(texts, dtype=object)[kept], orig_time=None
    )


def _width(path: str, n_times: int) -> int:
    """The sample width MNE read (2 or 4 bytes) where its Raw does not say: the bytes from the
    channel table to the event table, per channel and sample (MNE's inference); 2 if none."""
    with open_regular(path, buffering=-1) as fh:
        head = fh.read(SETUP_BYTES)
    n_channels = int.from_bytes(head[370:372], "little")
    at = int.from_bytes(head[886:890], "little", signed=True)
    width = (at - SETUP_BYTES - CHANNEL_BYTES * n_channels) // max(1, n_channels * n_times)
    return 4 if width == 4 else 2


def place_cnt_events(raw: BaseRaw, path: str, caught: list[warnings.WarningMessage]) -> None:
    """Give ``raw``, the CNT file ``path`` MNE opened, its events at the format's samples
    (:func:`cnt_annotations`), inside the ``warnings.catch_warnings(record=True)`` that
    recorded MNE's opening in ``caught``: MNE's notes of its own events dropped or cut at the
    samples' ends are taken out, and those of these events recorded there instead."""
    caught[:] = [w for w in caught if not _MNE_CROPPED.match(str(w.message))]
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    n_bytes = int(extras.get("n_bytes") or _width(path, raw.n_times))
    events = cnt_annotations(path, float(raw.info["sfreq"]), n_bytes)
    raw.set_annotations(events, verbose="warning")


__all__ = ["cnt_annotations", "event_samples", "place_cnt_events"]
