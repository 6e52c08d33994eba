"""The annotations of every part of a FIF recording split in parts.

MNE writes its whole list of annotations in every part of a recording it splits, and reads the
first part's alone (``read_raw_fif`` keeps ``raws[0].annotations``). A writer that stores in
each part the annotations of its own stretch leaves the later parts' out of what MNE reads:
their events were lost, and those before the recording's start were counted from the first
part alone. :func:`every_part` reads every part's list (an annotation repeated in several
parts, as MNE repeats its whole list, once); :func:`with_every_part` puts the later parts' into
the opened ``Raw``, cropped to its samples unsaid, as MNE crops the first part's (the crops are
said by :func:`~eegprep.readers.mne_events.fif_crops`, the events before the start counted by
:func:`~eegprep.readers.mne_events.before_first_sample`, both from :func:`every_part`).

Each part's annotations are counted before it is opened (``mne_prechecks``: at most
:data:`~eegprep.readers.event_count.MAX_EVENTS` a part); a part holding none is not read.

Concurrency contract: reads the parts MNE opened (``raw.filenames``, eegprep's held names);
:func:`with_every_part` changes the ``Raw`` it is given and nothing else.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from eegprep.readers.event_count import check_event_count
from eegprep.readers.fif_annotations import fif_annotation_count

if TYPE_CHECKING:
    from mne import Annotations
    from mne.io import BaseRaw


Row = tuple[float, float, str, tuple[str, ...]]
"""An annotation: onset (s, from the ``orig_time`` of :func:`_parts`), duration (s), text,
channels."""


def every_part(raw: BaseRaw) -> Annotations | None:
    """The annotations of every part MNE opened as ``raw`` (``raw.filenames``, in order), as
    ``mne.read_annotations`` gives the first part's (its ``orig_time``; a later part's onsets
    moved to it where its own differs): each :data:`Row` as often as the part holding it most
    often holds it (:func:`_union`). ``None`` where a part's cannot be read (a file changed
    since: nothing said)."""
    read = _parts(raw)
    if read is None:
        return None
    origin, parts = read
    return _annotations(list(_union(parts).elements()), origin)


def with_every_part(raw: BaseRaw, path: str) -> None:
    """Add to ``raw`` (the FIF recording ``path``, as MNE opened it) the annotations its later
    parts hold and its first part does not (:func:`every_part`), cropped to its samples unsaid
    as MNE crops the first part's. Nothing for a recording of one part, or where a part cannot
    be read.

    Raises
    ------
    SourceError
        The parts hold more than :data:`~eegprep.readers.event_count.MAX_EVENTS` annotations
        together (each part was counted alone before MNE opened it).
    """
    read = _parts(raw) if len(raw.filenames) > 1 else None
    if read is None:
        return
    origin, parts = read
    union = _union(parts)
    check_event_count(
        path,
        union.total(),
        "the union of its parts' annotations blocks",
        "split the recording into shorter ones, or thin its annotations",
    )
    extra = list((union - Counter(parts[0])).elements())
    if not extra:
        return
    try:
        shell = raw.copy()  # (no samples) MNE's frame and crop for the later parts' annotations
        shell.set_annotations(_annotations(extra, origin), emit_warning=False)
        raw.set_annotations(raw.annotations + shell.annotations, emit_warning=False)
    except Exception:  # (origins MNE cannot place together: the first part's, as MNE reads)
        return


def _union(parts: list[list[Row]]) -> Counter[Row]:
    """Every part's rows, each as many times as the part holding it most often holds it: MNE's
    whole list, repeated in every part, once; two equal events of one part, both."""
    union: Counter[Row] = Counter()
    for part in parts:
        union |= Counter(part)
    return union


def _parts(raw: BaseRaw) -> tuple[Any, list[list[Row]]] | None:
    """The ``orig_time`` of the first part holding annotations (``None`` where none does) and
    each part's :data:`Row` s, their onsets from it; ``None`` where a part cannot be read. A
    part holding no annotation (counted from its tags) is not given to MNE."""
    import mne

    origin, found = None, False
    parts: list[list[Row]] = []
    for name in raw.filenames:
        try:
            ann = mne.read_annotations(name) if fif_annotation_count(str(name)) else None
        except Exception:  # (as fif_crops: nothing said)
            return None
        if ann is None:
            parts.append([])
            continue
        origin, found = (origin, found) if found else (ann.orig_time, True)
        shift = 0.0
        if ann.orig_time is not None and origin is not None:
            shift = (ann.orig_time - origin).total_seconds()
        rows = zip(ann.onset, ann.duration, ann.description, ann.ch_names, strict=True)
        parts.append([(float(o) + shift, float(d), str(t), tuple(c)) for o, d, t, c in rows])
    return origin, parts


def _annotations(rows: list[Row], origin: Any) -> Annotations:
    import mne

    onsets, durations, texts, chans = ([r[i] for r in rows] for i in range(4))
    return mne.Annotations(onsets, durations, texts, orig_time=origin, ch_names=chans)


__all__ = ["every_part", "with_every_part"]
