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

MAX_EVENTS = 1_000_000
"""Most events one recording may store: ~40 MB of the index's JSON for its record. A day of
markers at 10 Hz is 864,000."""


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
            f"{where} gives {n_events:,} events, over the {MAX_EVENTS:,} a recording may "
            f"store: {fix}",
        )


__all__ = ["MAX_EVENTS", "check_event_count"]
