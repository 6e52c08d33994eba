"""Events moved onto the samples kept, where spans of a recording's time hold none.

A recording whose samples do not follow on in time (an EDF+D's gaps between data records,
MNE's ``BAD_ACQ_SKIP`` spans left out) is stored as its stretches end to end; its events are
timed on the recording's clock. :func:`moved` puts them on the samples kept: a time after a
removed span moves back by its length, a time inside one moves to the join the span left. So
an event keeps the samples it covered: one reaching over a gap covers the end of the stretch
before it and the start of the one after, its duration those samples' time (not the gap's);
one wholly inside a removed span marks no sample kept and is dropped (counted).

One mapping for every event of such a recording: the readers move the file's own events by it
(:mod:`eegprep.readers.edf_gaps`, :mod:`eegprep.readers.mne_gaps`) and list the spans removed
on the header (:attr:`~eegprep.readers.base.Header.gaps`); the ingest moves a sidecar's events
(a BIDS ``events.tsv``, a TUH label file: timed on the same clock) by those spans
(:mod:`eegprep.ingestion.events`), unless the file only states them (a BrainVision pause, an
EEGLAB cut: :attr:`~eegprep.readers.base.Header.sidecar_gaps`).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Sequence

from eegprep.readers.base import Annotation

_TOLERANCE = 1e-9
"""Seconds within which a time is at a span's edge (a TAL's digits, a float's round-off)."""


class Removed:
    """The ``removed`` spans of one recording (``[a, b)`` s, ascending, disjoint), prepared
    once so that each time or event is placed by bisection: an EDF+D of a day in 1-s records
    can have 86,400 gaps and as many events, and a scan of every span for every event
    (5,000 events over 20,000 gaps took 78 s) grows with their product.

    The sums are those of a scan, in the same order (the whole spans before ``t``, then the
    part of the one holding it), so every time comes out the same to the last bit."""

    __slots__ = ("_before", "_spans", "_starts", "_stops")

    def __init__(self, removed: Sequence[tuple[float, float]]) -> None:
        self._spans = [(float(a), float(b)) for a, b in removed]
        self._starts = [a for a, _ in self._spans]
        self._stops = [b for _, b in self._spans]
        # _before[k]: the length of the first k spans, summed left to right as sum() does
        self._before = [0.0, *itertools.accumulate(b - a for a, b in self._spans)]

    def seconds(self, t: float) -> float:
        """Time ``t`` (s on the recording's clock) on the samples kept: less the time removed
        before it; inside a span, the join it left."""
        k = bisect.bisect_right(self._stops, t)  # the spans wholly before t (b <= t)
        gone = self._before[k] if k else 0
        if k < len(self._spans) and self._starts[k] < t:
            gone += t - self._starts[k]  # (t inside span k: its part before t)
        return t - gone

    def span(self, onset: float, duration: float) -> tuple[float, float] | None:
        """An event at ``onset`` lasting ``duration`` (s on the recording's clock) on the
        samples kept: ``(onset, duration)`` s, or None where it lies wholly inside one removed
        span and marks no sample kept."""
        end = onset + duration
        k = bisect.bisect_right(self._stops, onset)  # the one span that may hold onset
        if k < len(self._spans):
            a, b = self._spans[k]
            if a + _TOLERANCE < onset < b - _TOLERANCE and end <= b + _TOLERANCE:
                return None
        start = self.seconds(onset)
        return start, (max(0.0, self.seconds(end) - start) if duration else 0.0)


def clock_gaps(pauses: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """The spans ``[a, b)`` of the recording's clock that pauses left out, from ``(join s on
    the samples kept, pause s)`` ascending by join: each pause starts at its join plus the
    pauses before it. Pauses of 0 s leave no span."""
    out, before = [], 0.0
    for join, pause in pauses:
        if pause > 0:
            out.append((join + before, join + before + pause))
            before += pause
    return tuple(out)


def kept_seconds(t: float, removed: Sequence[tuple[float, float]]) -> float:
    """Time ``t`` (s on the recording's clock) on the samples kept: less the time ``removed``
    (spans ``[a, b)``, s, ascending, disjoint) before it; inside a span, the join it left.
    (For many times over one recording's spans, prepare them once: :class:`Removed`.)"""
    return Removed(removed).seconds(t)


def kept_span(
    onset: float, duration: float, removed: Sequence[tuple[float, float]]
) -> tuple[float, float] | None:
    """An event at ``onset`` lasting ``duration`` (s on the recording's clock) on the samples
    kept: ``(onset, duration)`` s (module docstring), or None where it lies wholly inside one of
    the ``removed`` spans (``[a, b)`` s, ascending, disjoint) and marks no sample kept. (For
    many events over one recording's spans, prepare them once: :class:`Removed`.)"""
    return Removed(removed).span(onset, duration)


def moved(
    events: Sequence[Annotation], removed: Sequence[tuple[float, float]]
) -> tuple[list[Annotation], int]:
    """``events`` (onsets s on the recording's clock) on the samples kept (:func:`kept_span`),
    and how many were dropped, lying wholly inside one of the ``removed`` spans."""
    if not removed:
        return list(events), 0
    spans = Removed(removed)
    kept, dropped = [], 0
    for ev in events:
        span = spans.span(ev.onset, ev.duration)
        if span is None:
            dropped += 1
        else:
            kept.append(dataclasses.replace(ev, onset=span[0], duration=span[1]))
    return kept, dropped
