"""Where an event lies in its recording: the one rule an ingest stores events by, and the same
rule at read time for records earlier versions wrote.

An ingest (:mod:`eegprep.ingestion.events`) stores only events inside the recording,
``[0, n_samples / sfreq]`` seconds, with durations of 0 or more. Ingests before 2026-12-01
stored the file's events uncut (a marker after the last sample, an events.tsv row of a longer
run, a negative onset), and a negative duration was stored as given until 2026-12-04: such
stores still open (:func:`~eegprep.store.record_details.event_times_problem` refuses only what
no ingest wrote), and every consumer reads their events through :func:`events_inside`, so that
no window, annotation or count uses a time outside the recording.
"""

from __future__ import annotations

from eegprep.store.recording import Event, Recording


def span_inside(
    onset: float, duration: float, end: float, tol: float
) -> tuple[float, float] | None:
    """The part of the event ``[onset, onset + duration]`` (s) inside ``[0, end]`` (s), as
    ``(onset, duration)``; None when none of it is inside.

    A negative duration counts as 0 (an earlier version's record). An onset at the end is
    inside; one past it is outside, but for one at most ``tol`` s past it, at the end (read
    time only: an earlier version's "recording ends" marker; an ingest passes 0, so every
    reader drops an onset past the end). A zero-length event before 0 is outside.
    """
    duration = max(duration, 0.0)
    stop = onset + duration
    if onset > end + tol or stop < 0 or (onset < 0 and duration == 0):
        return None
    if onset >= 0 and stop <= end:
        return onset, duration  # inside: as given (onset + duration - onset is not always it)
    start = min(max(onset, 0.0), end)
    return start, max(min(stop, end) - start, 0.0)


def events_inside(rec: Recording) -> tuple[Event, ...]:
    """``rec``'s events as this version's ingest stores them (:func:`span_inside` of each in
    the recording's ``n_samples / sfreq`` s): those wholly outside left out, the others cut at
    the recording's ends. A record this version wrote is returned as it is, with no event built."""
    end, tol = rec.n_samples / rec.sfreq, 1.0 / rec.sfreq
    if all(
        e.onset >= 0.0 and e.duration >= 0.0 and e.onset + e.duration <= end for e in rec.events
    ):
        return rec.events
    out = []
    for e in rec.events:
        span = span_inside(e.onset, e.duration, end, tol)
        if span is not None:
            out.append(Event(span[0], span[1], e.label, e.channel))
    return tuple(out)


__all__ = ["events_inside", "span_inside"]
