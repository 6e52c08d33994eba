"""How many events one recording may hold, checked by a reader before it builds them.

A file can state far more events than any recording holds: a noisy CSV marker column changes
value at nearly every sample (10^8 changes in a long file), a GDF event table counts up to
2^32 entries. Each event built costs ~200 bytes of Python objects (an
:class:`~eegprep.readers.base.Annotation`, its label text) against 8 bytes of the number it
came from, so a reader counts first, with numpy or from the file's own count, and refuses the
file in one line over :data:`MAX_EVENTS`, before it allocates them. The ingest's rule of events
(:mod:`eegprep.ingestion.events`) refuses a recording over the same bound, whichever readers
and sidecars its events came from.
"""

from __future__ import annotations

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted

MAX_EVENTS = 100_000
"""Most events one recording may store: ~4 MB of the index's JSON for its record, an hour of
markers at 28 Hz. The bound is what keeps an ingest's time and memory bounded, whatever the
format: each event costs ~25 us and ~1 KB of Python objects in the ingest's own event rule and
record (an EDF+ of 1,000,000 annotations ingested in 26 s and 1.17 GB, its own reader the
fastest), and more in MNE's (an annotation with an extras dict each, copied whole and cropped
element by element: a FIF of 1,000,000 held 1.77 GB for 236 s, a GDF 1.57 GB for 105 s). At
100,000 every format ingests in 1.8-7.8 CPU s and under 250 MB (docs/benchmarks.md, section
12); it was 1,000,000."""


def check_event_count(path: str, n_events: int, where: str, fix: str) -> None:
    """Refuse ``path`` when ``where`` (``"marker column 'code'"``) gives more than
    :data:`MAX_EVENTS` events; ``fix`` says what to change.

    Raises
    ------
    SourceError
        Naming the file, the count, where the events are and what to do.
    """
    if n_events > MAX_EVENTS:
        raise SourceError(
            path,
            f"{where} gives {counted(n_events, 'event', sep=',')}, over the {MAX_EVENTS:,} a "
            f"recording may store: {fix}",
        )


__all__ = ["MAX_EVENTS", "check_event_count"]
