"""Events and reads placed on the samples kept of a recording with many gaps (kept_time.py).

An EDF+D of a day in 1-s records can have a gap after every record (86,400) and a marker in
every record. Placing each event by a scan of every gap grew with their product: 5,000 events
over 20,000 gaps took 78 s, so such a file held a worker for hours. Each is now placed by
bisection over the gaps prepared once, with the same sums, so every time is unchanged to the bit.
Likewise the mne reader's reads around MNE's acquisition skips (eegprep/readers/mne_gaps.py).
"""

from __future__ import annotations

import numpy as np

from eegprep.readers.base import Annotation
from eegprep.readers.kept_time import Removed, kept_seconds, kept_span, moved


def _scanned_seconds(t: float, removed: list[tuple[float, float]]) -> float:
    """The mapping as the module's docstring defines it, by a scan of every span."""
    return t - sum(max(0.0, min(t, b) - a) for a, b in removed)


def _scanned_span(
    onset: float, duration: float, removed: list[tuple[float, float]]
) -> tuple[float, float] | None:
    end = onset + duration
    if any(a + 1e-9 < onset < b - 1e-9 and end <= b + 1e-9 for a, b in removed):
        return None
    start = _scanned_seconds(onset, removed)
    return start, (max(0.0, _scanned_seconds(end, removed) - start) if duration else 0.0)


def _gaps(rng: np.random.Generator, n: int) -> list[tuple[float, float]]:
    """``n`` disjoint ascending spans with random lengths and room between them."""
    edges = np.cumsum(rng.uniform(0.001, 3.0, size=2 * n))
    return [(float(edges[2 * k]), float(edges[2 * k + 1])) for k in range(n)]


def test_each_time_and_event_is_placed_as_a_scan_of_every_gap_places_it() -> None:
    rng = np.random.default_rng(7)
    removed = _gaps(rng, 40)
    edges = [t for span in removed for t in span]
    times = [*rng.uniform(-1.0, edges[-1] + 5.0, size=400).tolist(), *edges, 0.0]
    times += [t + d for t in edges for d in (1e-10, -1e-10, 2e-9, -2e-9)]  # at the edges
    spans = Removed(removed)
    for t in times:
        assert spans.seconds(t) == _scanned_seconds(t, removed)  # to the bit
        assert kept_seconds(t, removed) == _scanned_seconds(t, removed)
        for duration in (0.0, 1e-9, 0.3, 2.5, 40.0):
            assert spans.span(t, duration) == _scanned_span(t, duration, removed)
            assert kept_span(t, duration, removed) == _scanned_span(t, duration, removed)
    assert Removed([]).seconds(12.5) == 12.5 and Removed([]).span(1.0, 2.0) == (1.0, 2.0)


class _Counted(list):  # type: ignore[type-arg]
    """Spans that count the passes over them: one per preparation, one per event or read
    were each scanned (a time bound measured the machine, and a loaded one missed it)."""

    passes = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.passes += 1
        return super().__iter__()


def test_events_over_thousands_of_gaps_are_moved_with_one_pass_over_the_gaps() -> None:
    # was: 4,000 events over 4,000 gaps took ~12 s (each event scanned every gap, twice)
    removed = _Counted((2.0 * k + 1.0, 2.0 * k + 1.001) for k in range(4000))
    events = [Annotation(2.0 * k + 0.5, 0.7, "marker") for k in range(4000)]
    removed.passes = 0
    kept, dropped = moved(events, removed)
    passes = removed.passes
    assert passes == 1, f"{passes} passes over the gaps for 4,000 events"
    assert dropped == 0 and len(kept) == 4000
    # each reaches over the gap after it: its samples' 0.699 s, starting 1 ms earlier a gap
    assert [(round(a.onset, 9), round(a.duration, 9)) for a in kept[:2]] == [
        (0.5, 0.699),
        (2.499, 0.699),
    ]
    assert [(a.onset, a.duration) for a in kept[-3:]] == [
        _scanned_span(e.onset, e.duration, removed) for e in events[-3:]
    ]


def _scanned_pieces(spans: list[tuple[int, int]], n: int, start: int, stop: int) -> list:
    """MNE's samples that kept samples ``[start, stop)`` are, by a scan of every stretch."""
    out, at, kept = [], 0, 0
    for a, b in [*spans, (n, n)]:
        if a > at:
            lo, hi = max(start, kept), min(stop, kept + a - at)
            if hi > lo:
                out.append((at + lo - kept, at + hi - kept))
            kept += a - at
        at = b
    return out


def test_the_pieces_of_a_read_around_mne_skips_are_those_of_a_scan() -> None:
    from eegprep.readers.mne_gaps import Skips

    rng = np.random.default_rng(11)
    for first in (0, 5):  # a skip at the very start, or not
        edges = np.cumsum(rng.integers(1, 40, size=60)).tolist()
        spans = [(first + a, first + b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        n = spans[-1][1] + int(rng.integers(0, 20))  # a skip at the very end, or not
        skips = Skips(tuple(spans), n)
        for start in range(0, skips.n_kept, 3):
            for length in (1, 7, 50, skips.n_kept):
                stop = min(start + length, skips.n_kept)
                assert skips.pieces(start, stop) == _scanned_pieces(spans, n, start, stop)


def test_reads_over_thousands_of_mne_skips_each_take_no_scan_of_them() -> None:
    # was: ~55 s for one read per stretch of a file with 10,000 skips (each read scanned every
    # skip); a read builds Skips again from the header's layout, as MneReader.read_segment does
    from eegprep.readers.mne_gaps import Skips

    class Spans(tuple):  # type: ignore[type-arg]
        """The header's skips, counting the passes over them."""

        passes = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            Spans.passes += 1
            return super().__iter__()

    spans = Spans((100 * k + 50, 100 * k + 60) for k in range(4000))
    Spans.passes = 0
    pieces = [Skips(spans, 400_000).pieces(k, k + 90) for k in range(0, 360_000, 90)]
    passes = Spans.passes
    assert passes == 1, f"{passes} passes over the skips for 4,000 reads"
    assert pieces[0] == [(0, 50), (60, 100)] and pieces[1] == [(100, 150), (160, 200)]
