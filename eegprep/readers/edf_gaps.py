"""Where an EDF's data records leave gaps in time, and its events placed on the samples kept.

An EDF+D stamps each data record with its onset (its time-keeping annotation); a record that
starts later than the one before it ends opens a new continuous *stretch*. The samples of the
stretches are read end to end (the *joined* time axis, as the file stores them); each join is
listed on the header (:attr:`~eegprep.readers.base.Header.joins`, seconds on the joined axis)
so that the preprocess filters each stretch alone and no training window spans a join. The
file's events, timed from its first sample in real time, are moved back by the gaps before
them (an event reaching over a gap keeps the samples either side of it, its duration less the
gap's); an event wholly inside a gap marks no sample kept and is dropped (counted in the
warning).

Refused as broken, not as gapped: an EDF+D whose first record carries no time-keeping
annotation (its gaps are unknown), one with a record left unstamped, and records out of order
or overlapping (a record starting before the one stamped before it ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted
from eegprep.readers.base import Annotation
from eegprep.readers.kept_time import moved


@dataclass(frozen=True)
class Stretches:
    """The gaps between an EDF's data records.

    Attributes
    ----------
    records : tuple of int
        The record (counted from 0) that starts each stretch after the first, ascending.
    gaps : tuple of float
        Seconds missing before each of ``records`` (positive).
    seconds : float
        The duration of one data record, s.
    """

    records: tuple[int, ...] = ()
    gaps: tuple[float, ...] = ()
    seconds: float = 1.0

    @property
    def joins(self) -> tuple[float, ...]:
        """Where each stretch after the first starts on the joined time axis, s."""
        return tuple(k * self.seconds for k in self.records)

    @property
    def removed(self) -> tuple[tuple[float, float], ...]:
        """Each gap's span ``[start, stop)`` on the recording's clock, s from the first sample
        (:attr:`~eegprep.readers.base.Header.gaps`)."""
        out, shift = [], 0.0
        for k, gap in zip(self.records, self.gaps, strict=True):
            start = k * self.seconds + shift
            out.append((start, start + gap))
            shift += gap
        return tuple(out)


def find_stretches(
    path: str,
    onsets: Sequence[float | None],
    seconds: float,
    max_samples_per_record: int,
    continuity: str,
) -> Stretches:
    """The gaps the records' time-keeping ``onsets`` (s, one per record; None: unstamped)
    leave, each record ``seconds`` long. A difference within half a sample period of the
    fastest signal (``max_samples_per_record`` samples a record) is no gap: a header's duration
    is rounded to its 8 characters (``0.333333``) and a TAL's onset to its writer's digits.

    ``continuity`` is the header's (``"D"``, ``"C"`` or ``""``): an ``EDF+D`` must stamp every
    record; an ``EDF+C`` or a plain EDF is checked where its records are stamped (a paused
    recording's records glued end to end under an EDF+C header have gaps all the same).
    Raises :class:`SourceError` for what is broken rather than gapped (module docstring)."""
    if continuity == "D" and (not onsets or onsets[0] is None):
        raise SourceError(path, "EDF+D file without time-keeping annotations: its gaps are unknown")
    half = seconds / max(max_samples_per_record, 1) / 2
    last: tuple[int, float] | None = None  # the last stamped record and its onset
    records: list[int] = []
    gaps: list[float] = []
    t0 = onsets[0] if onsets and onsets[0] is not None else 0.0
    for k, onset in enumerate(onsets):
        if onset is None:
            if continuity == "D":
                problem = f"data record {k} has no time-keeping annotation: its place is unknown"
                raise SourceError(path, f"discontinuous EDF+D: {problem}")
            continue
        expected = None if last is None else last[1] + (k - last[0]) * seconds
        if expected is not None and onset - expected > half:
            records.append(k)
            gaps.append(onset - expected)
        elif expected is not None and onset - expected < -half:
            raise SourceError(path, f"{_kind(continuity)}: data record {k} starts at "
                              f"{onset - t0:g} s, before the record stamped before it ends "
                              f"({expected - t0:g} s): records out of order or overlapping; "
                              "the file is damaged")  # fmt: skip
        last = (k, onset)
    return Stretches(tuple(records), tuple(gaps), seconds)


def _kind(continuity: str) -> str:
    """How a file is named in a message: by what its header says it is."""
    if continuity == "D":
        return "discontinuous EDF+D"
    return "EDF+C" if continuity == "C" else "plain EDF"


def placed(
    annotations: Sequence[tuple[float, float, str]], stretches: Stretches
) -> tuple[list[Annotation], int]:
    """The events (``(onset, duration, text)``, onsets in s from the first sample in real time)
    on the joined time axis (:func:`~eegprep.readers.kept_time.moved`): each time moved back by
    the gaps before it, so that an event reaching over a gap covers the samples either side of
    its join (its duration less the gap's); those wholly inside a gap dropped. Returns the
    events kept and how many were dropped."""
    return moved([Annotation(o, d, t) for o, d, t in annotations], stretches.removed)


@dataclass(frozen=True)
class TimedEvents:
    """An EDF's events on the samples kept, and where its records leave gaps.

    Attributes
    ----------
    events : tuple of Annotation
        The file's events on the samples kept (s from the first sample), those in a gap
        dropped.
    joins : tuple of float
        Where each stretch after the first starts, s on the samples kept.
    gaps : tuple of (float, float)
        The gaps' spans on the recording's clock, s (:attr:`Stretches.removed`).
    warning : str or None
        The one line on the gaps (:func:`gap_warning`); None without any.
    """

    events: tuple[Annotation, ...] = ()
    joins: tuple[float, ...] = ()
    gaps: tuple[tuple[float, float], ...] = ()
    warning: str | None = None


def timed_events(
    path: str,
    annotations: Sequence[tuple[float, float, str]],
    onsets: Sequence[float | None],
    seconds: float,
    fastest: int,
    continuity: str,
) -> TimedEvents:
    """The ``annotations`` of the EDF at ``path`` placed on the samples kept, by the gaps its
    records' time-keeping ``onsets`` leave (:func:`find_stretches`: ``seconds`` a record,
    ``fastest`` samples a record of its fastest signal, ``continuity`` the header's)."""
    stretches = find_stretches(path, onsets, seconds, fastest, continuity)
    events, n_dropped = placed(annotations, stretches)
    warning = gap_warning(continuity, stretches, n_dropped)
    return TimedEvents(tuple(events), stretches.joins, stretches.removed, warning)


def gap_warning(continuity: str, stretches: Stretches, n_dropped: int) -> str | None:
    """The header's one line on the gaps (None without any): how many stretches, kept
    separately, where they join on the samples kept, how long each gap is, and the events that
    fell inside a gap."""
    if not stretches.records:
        return None
    n = len(stretches.records)
    at = ", ".join(f"{t:g} s" for t in stretches.joins[:5]) + (", ..." if n > 5 else "")
    long = ", ".join(f"{g:g} s" for g in stretches.gaps[:5]) + (", ..." if n > 5 else "")
    said = "" if continuity == "D" else ", by its time-keeping annotations"
    lost = f"; {counted(n_dropped, 'event')} inside a gap dropped" if n_dropped else ""
    return (
        f"discontinuous{said}: {counted(n, 'gap')} ({long}) between data records; its {n + 1} "
        f"stretches are kept separately (filtered each alone, no window across a join), stored "
        f"end to end with joins at {at}{lost}"
    )
