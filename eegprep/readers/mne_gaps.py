"""Where a file MNE opened holds samples that are no recording, or samples that do not follow
on in time, put on eegprep's terms: the rule eegprep's own EDF reader keeps
(:mod:`eegprep.readers.edf_gaps`), so that a file gives the same samples, joins and events
whichever reader reads it.

- An EDF+D (or an EDF+C or plain EDF whose records' time-keeping annotations show gaps): MNE
  1.13 reads its data records end to end as if they followed on, with no word of the gaps, and
  times its events on the recording's clock (an event after a gap lands that many seconds
  late, one in the last stretch past the samples' end is dropped as "outside"). Its gaps are
  found here by eegprep's own parse of the records (:func:`edf_gaps`), its events read and
  placed as the EDF reader places them.
- ``BAD_ACQ_SKIP`` (a FIF's acquisition skips, or a span saved so: MNE fills it with zeros on
  reading): those samples were never recorded, so they are left out (:class:`Skips`): the
  stretches either side are stored end to end with a join, the events after a skip move back
  by its length and those wholly inside one are dropped (:func:`~eegprep.readers.kept_time
  .moved`).
- An EDF's first data record stamped after its start time: MNE keeps the header's start; the
  start is moved by that onset here (:func:`edf_file_start`), as the EDF reader moves it
  (:mod:`eegprep.readers.edf_lead`).

Used by :mod:`eegprep.readers.mne_formats`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.base.errors import SourceError
from eegprep.readers.base import Annotation
from eegprep.readers.edf import read_raw_header
from eegprep.readers.edf_dates import edf_start, started
from eegprep.readers.edf_gaps import TimedEvents, timed_events
from eegprep.readers.edf_header import parse_edf_fields
from eegprep.readers.edf_lead import first_record_onset, lead_warning
from eegprep.readers.edf_records import (
    channel_annotations,
    parse_layout,
    read_annotation_records,
)

if TYPE_CHECKING:
    from mne.io import BaseRaw

SKIP = "BAD_ACQ_SKIP"
"""MNE's description of samples it filled in where none were acquired."""


def edf_gaps(path: str) -> TimedEvents | None:
    """The events of the EDF/BDF at ``path`` and the gaps between its data records, by their
    time-keeping annotations, as eegprep's EDF reader reads them (no gap where its records
    follow on); ``None`` for another format or a file without an annotation signal. MNE's own
    events of an EDF are not taken: it times the texts of the first record's time-keeping TAL
    (``+0.25\x14\x14Start\x14``) from the header's start time, not the first sample (0.25 s
    late; one of a first record at ``+5`` was dropped as past the end). Raises
    :class:`~eegprep.base.errors.SourceError` where the EDF reader does (an EDF+D without
    time-keeping annotations, records out of order)."""
    if PurePath(path).suffix.lower() not in (".edf", ".bdf"):
        return None
    head = read_raw_header(path)
    try:
        layout = parse_layout(head)
        fields = parse_edf_fields(path, head)
    except (UnicodeDecodeError, ValueError):
        return None  # a malformed field: MNE's own message names it
    if not layout.annotation_spans and fields.continuity != "D":
        return None
    tals = read_annotation_records(path, layout)
    fastest = max(layout.samples_per_record, default=1)
    seconds = fields.record_seconds
    timed = timed_events(
        path, tals.annotations, tals.record_onsets, seconds, fastest, fields.continuity
    )
    labels = [s.label for s in fields.data_signals]
    return replace(timed, events=channel_annotations(timed.events, labels))


def edf_lead_warning(path: str) -> str | None:
    """The EDF reader's line on an EDF/BDF whose first data record starts a second or more
    after its start (:func:`~eegprep.readers.edf_lead.lead_warning`); None for another format,
    or a header that cannot be parsed (the reader's own message names the field)."""
    if PurePath(path).suffix.lower() not in (".edf", ".bdf"):
        return None
    try:
        return lead_warning(first_record_onset(path, parse_layout(read_raw_header(path))))
    except (OSError, SourceError, UnicodeDecodeError, ValueError):
        return None


def edf_file_start(path: str) -> str:
    """The start of the EDF/BDF at ``path`` as eegprep's own EDF reader reads it (ISO 8601;
    ``""``: unknown): the header's date and time moved by the first record's onset."""
    try:
        head = read_raw_header(path)
        f = parse_edf_fields(path, head)
        lead = first_record_onset(path, parse_layout(head))
    except (OSError, SourceError, UnicodeDecodeError, ValueError):
        return ""
    start = started(edf_start(f.startdate, f.starttime, f.recording), lead)
    return start.isoformat() if start is not None else ""


def skip_spans(raw: BaseRaw, n_samples: int) -> tuple[tuple[int, int], ...]:
    """MNE's samples ``[start, stop)`` (of its ``n_samples``, counted from its first sample)
    that its ``BAD_ACQ_SKIP`` annotations span, ascending, overlapping or touching spans
    merged (MNE lists a FIF's skip twice when its annotations also name it)."""
    first = float(raw.first_time)
    sfreq = float(raw.info["sfreq"])
    spans = []
    for onset, duration, desc in zip(
        raw.annotations.onset, raw.annotations.duration, raw.annotations.description, strict=True
    ):
        if str(desc) != SKIP or duration <= 0:
            continue
        a = max(0, _sample(float(onset) - first, sfreq))
        b = min(n_samples, _sample(float(onset) + float(duration) - first, sfreq))
        if b > a:
            spans.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def _sample(seconds: float, sfreq: float) -> int:
    """The first sample at or after ``seconds`` (within a millionth of a sample: on it)."""
    return math.ceil(seconds * sfreq - 1e-6)


@dataclass(frozen=True)
class Skips:
    """A recording of ``n_source`` samples less the ``spans`` MNE filled in.

    Attributes
    ----------
    spans : tuple of (int, int)
        Samples ``[start, stop)`` of MNE's, ascending and disjoint (:func:`skip_spans`).
    n_source : int
        Samples per channel MNE reads.
    """

    spans: tuple[tuple[int, int], ...]
    n_source: int

    @property
    def n_kept(self) -> int:
        """Samples per channel kept."""
        return self.n_source - sum(b - a for a, b in self.spans)

    def stretches(self) -> list[tuple[int, int, int]]:
        """The stretches kept: ``(source start, source stop, start on the samples kept)``."""
        return list(_stretch_table(self.spans, self.n_source)[0])

    @property
    def joins(self) -> tuple[int, ...]:
        """Where each stretch after the first starts on the samples kept (samples)."""
        return tuple(k for _, _, k in self.stretches() if 0 < k < self.n_kept)

    def pieces(self, start: int, stop: int) -> list[tuple[int, int]]:
        """MNE's samples ``[a, b)`` that the kept samples ``[start, stop)`` are, in order: the
        stretches from the first ending after ``start`` (bisected in the recording's table,
        made once: a read per stretch scanning all of 10,000 skips took 55 s)."""
        table, ends = _stretch_table(self.spans, self.n_source)
        out = []
        for i in range(bisect.bisect_right(ends, start), len(table)):
            a, b, k = table[i]
            if k >= stop:
                break  # (this and every later stretch start past the read)
            lo, hi = max(start, k), min(stop, k + b - a)
            if hi > lo:
                out.append((a + lo - k, a + hi - k))
        return out

    def removed_seconds(self, sfreq: float) -> tuple[tuple[float, float], ...]:
        """The spans left out, s from MNE's first sample (:attr:`~eegprep.readers.base.Header
        .gaps`)."""
        return tuple((a / sfreq, b / sfreq) for a, b in self.spans)


_TABLES: list[tuple[object, int, tuple[tuple[tuple[int, int, int], ...], tuple[int, ...]]]] = []
"""The last few recordings' stretch tables, by the very ``spans`` object their header holds (a
read builds its :class:`Skips` again from the header's layout: no scan or hash of its spans)."""


def _stretch_table(
    spans: Sequence[tuple[int, int]], n_source: int
) -> tuple[tuple[tuple[int, int, int], ...], tuple[int, ...]]:
    """:meth:`Skips.stretches` of ``spans`` in ``n_source`` samples, and where each ends on the
    samples kept (ascending), made once per recording: each read asks for its pieces."""
    for held, n, table in _TABLES:
        if held is spans and n == n_source:
            return table
    out, at, kept = [], 0, 0
    for a, b in [*spans, (n_source, n_source)]:
        if a > at:
            out.append((at, a, kept))
            kept += a - at
        at = b
    table = (tuple(out), tuple(k + b - a for a, b, k in out))
    _TABLES[:] = [(spans, n_source, table), *_TABLES[:7]]
    return table


def without_skips(events: Sequence[Annotation]) -> list[Annotation]:
    """``events`` less MNE's ``BAD_ACQ_SKIP`` annotations (the samples they span are not
    stored: :class:`Skips`)."""
    return [e for e in events if e.description != SKIP]
