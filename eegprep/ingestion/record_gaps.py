"""What a listed record does not state that a re-run needs to call its recording current.

A re-ingest skips a recording only when its record says it was made by the same recipe and
manifest, from the same bytes, in the same preprocessing blocks
(:func:`eegprep.ingestion.driver._is_current`). A record written before one of those fields
existed does not say: its recording is ingested again, never taken as current by a guess,
with a report line that names the missing field (nothing listed is lost meanwhile: the new
version replaces the old one only once it is complete). The block length has its own rule
(:func:`eegprep.ingestion.block_lengths.block_change`): a recording that no block can cut
is current without it.
"""

from __future__ import annotations

from typing import Any

from eegprep.base.path_limits import shown_path
from eegprep.corpus.sources import listed_files, listed_hashes


def unstated(record: dict[str, Any]) -> str | None:
    """The report's words for what ``record`` does not state that deciding "current" needs
    (its ``recipe_hash``, its ``manifest_hash``, a content hash of one of its files), or None
    when it states all of them."""
    for key in ("recipe_hash", "manifest_hash"):
        if not isinstance(record.get(key), str) or not record.get(key):
            return f"its record states no {key}"
    hashes = listed_hashes(record)
    missing = [str(f.get("path")) for f, h in zip(listed_files(record), hashes) if not h]
    if missing:
        return f"its record states no content hash of {shown_path(missing[0])}"
    return None


def unstated_note(what: str) -> str:
    """The report's line on a recording ingested again because its record does not state
    ``what`` (:func:`unstated`)."""
    return (
        f"ingested again: {what} (written by an earlier eegprep), so whether it is current "
        "cannot be told"
    )


__all__ = ["unstated", "unstated_note"]
