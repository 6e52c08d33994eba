"""Hand a stored recording to other tools: MNE-Python (``to_mne``)."""

from __future__ import annotations

import os
from typing import Any

from eegprep.store.event_span import events_inside
from eegprep.store.reader import Store, open_store


def standard_montage() -> Any:
    """MNE's 10-20/10-10 template montage (``colin27_1020``; ``standard_1020`` before MNE 1.13)."""
    import mne

    names = mne.channels.get_builtin_montages()
    return mne.channels.make_standard_montage(
        "colin27_1020" if "colin27_1020" in names else "standard_1020"
    )


def to_mne(store: Store | str | os.PathLike[str], recording_id: str) -> Any:
    """A stored recording as an ``mne.io.RawArray``.

    Channels keep their canonical names and get positions from MNE's 10-20 template montage
    (names matched case-insensitively; bipolar pairs and names the montage lacks get none).
    Events become annotations (``ch_names`` set for channel-specific events). Samples are
    converted from microvolts to volts, MNE's unit.

    Parameters
    ----------
    store : Store or str or path
        An open store or its location.
    recording_id : str
        ``"{corpus}/{name}"``.
    """
    import mne

    s = store if isinstance(store, Store) else open_store(store)
    rec = s.recording(recording_id)
    info = mne.create_info(list(rec.channels), rec.sfreq, "eeg")
    raw = mne.io.RawArray(s.read(rec.id).astype("float64") * 1e-6, info, verbose="error")
    raw.set_montage(standard_montage(), match_case=False, on_missing="ignore", verbose="error")
    events = events_inside(rec)  # an earlier store's negative duration: MNE's AssertionError
    if events:
        names = set(rec.channels)
        raw.set_annotations(
            mne.Annotations(
                onset=[e.onset for e in events],
                duration=[e.duration for e in events],
                description=[str(e.label) for e in events],
                ch_names=[[e.channel] if e.channel in names else [] for e in events],
            )
        )
    raw.info["description"] = f"eegprep {s.display} {rec.id} (source {rec.source})"
    return raw
