"""One rule for every event a recording stores, whichever reader or sidecar parser gave it.

Events reach a record as ``[onset s, duration s, label, channel]`` from the file's own
annotations (EDF+ TALs, BrainVision markers, EEGLAB, GDF, FIF, CSV marker columns, MATLAB
event tables) and from sidecars (TUH label files, BIDS ``events.tsv``, trial tables, ...).
:func:`recording_events` merges them, a sidecar's moved as the reader moved the file's own
where the file's time counts time missing between the samples; :func:`settle_events` applies
the rule (docs/corpora.md, "Events"), in the stored time base ``[0, n_samples / sfreq]`` s:

- an onset or duration that is no finite number (``nan``, ``inf``, ``1e999``), or a negative
  duration, refuses the recording in one line naming the event: such a value is damage (a
  column read as another, a stop written before its start), and no guess (0, its absolute
  value) can say what the file meant; dropping it would change a labelled corpus's class
  counts unsaid. MNE refuses negative durations the same way.
- more than :data:`MAX_EVENTS` events to store refuse the recording (a label file of 10^7
  lines), counted after the rule below drops exact repeats (a file's own markers and a BIDS
  ``events.tsv`` that repeats them count once) and the events outside the recording.
- an event wholly outside the span is dropped (one starting after the end, even by less than
  a sample: every reader alike; one at the end is kept), and one that straddles an end is cut
  at it: one warning line per file for each, with the count and the first few events.
  Stored events therefore always lie inside the recording.
- a label's characters that the record text rule refuses (:func:`~eegprep.base.field_text.
  refused_char`: newlines, tabs, other control characters, format characters such as bidi
  overrides; not the joiners U+200C and U+200D that Persian and Indic scripts spell words
  with, nor other spaces) become spaces, the label's ends stripped of them, and a label over
  :data:`MAX_LABEL_CHARS` characters is cut to that: one warning line each. An event's
  channel (text from the file too: a TUH label file's montage column, an annotation's channel
  names) is under the same rule, counted with the labels.
  An empty label is kept (an event still marks a time).
- overlapping events are kept, and all are sorted by onset; exact repeats are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.field_text import spaced_text
from eegprep.base.wording import counted
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.ingestion.join_rows import without_join_rows
from eegprep.readers.base import Header
from eegprep.readers.event_count import MAX_EVENTS  # the readers count against it too
from eegprep.readers.kept_time import Removed
from eegprep.store.event_span import span_inside

MAX_LABEL_CHARS = 256
"""Longest event label stored (characters); a longer one is cut to this."""


@dataclass(frozen=True)
class SettledEvents:
    """A recording's events as stored, and the report's warnings about changes made to them.

    Attributes
    ----------
    events : list of [onset s, duration s, label, channel]
        Inside ``[0, n_samples / sfreq]`` s, durations 0 or more, sorted by onset.
    warnings : list of str
        One line per kind of change (dropped, cut, labels cleaned or cut).
    """

    events: list[list[Any]]
    warnings: list[str]


def recording_events(
    m: Manifest, header: Header, sidecar: SidecarResult, path: str
) -> tuple[list[list[Any]], list[str]]:
    """The file's own annotations (unless the manifest drops them) and the sidecar's events,
    ``[onset s, duration s, label, channel]``, all on the samples the reader gives, and the
    report's line on the sidecar's events dropped there.

    A sidecar's times count time as the data file's own do. Where the file's time counts the
    time missing between its samples (an EDF+D's record stamps, MNE's acquisition skips:
    :attr:`~eegprep.readers.base.Header.sidecar_gaps`), the reader moved the file's own
    events onto its samples, and a sidecar's (a BIDS onset, a TUH label: on that clock) are
    moved by the same rule here (:meth:`~eegprep.readers.kept_time.Removed.span`): one after a
    gap moves back by it, one over a gap keeps the samples it covers, one wholly inside a gap
    is dropped. Where the file only states its gaps (a BrainVision pause, an EEGLAB cut:
    :attr:`~eegprep.readers.base.Header.gaps_stated`), its own markers and a sidecar written
    from it (mne-bids' ``events.tsv``, MNE's onsets) count the samples stored: neither moves.
    A sidecar's damaged time refuses the recording first (:func:`settle_events`' rule), so no
    mapping hides it.
    A sidecar's rows of the data file's own join markers (a BIDS ``boundary``, ``New
    Segment``) are left out where the file's own are kept (:mod:`~eegprep.ingestion.join_rows`).
    """
    own = header.annotations if m.sidecar_annotations == "keep" else ()
    events = [[float(a.onset), float(a.duration), a.description, a.channel] for a in own]
    rows, said = [list(e) for e in sidecar.events], []
    if own:  # the data file's own join markers, not a sidecar's rows of them (join_rows)
        rows, unmatched = without_join_rows(header, rows)
        if unmatched:
            said.append(_warning(_UNMATCHED, unmatched))
    if not header.sidecar_gaps or sidecar.on_samples:
        return events + rows, said
    gaps = Removed(header.sidecar_gaps)  # (prepared once: a day's EDF+D has 86,400 gaps)
    placed, dropped = [], []
    for ev in rows:
        _check_times(ev, path)
        span = gaps.span(float(ev[0]), float(ev[1]))
        if span is None:
            dropped.append(list(ev))
        else:
            placed.append([span[0], span[1], *ev[2:]])
    if dropped:
        said.append(_warning("of the sidecar inside a gap of the recording dropped", dropped))
    return events + placed, said


_UNMATCHED = (
    "of the sidecar marking where the samples stop following on, at no such place of the data "
    "file, left out (its own markers say where; a sidecar's rows never make a join)"
)


def settle_events(
    events: list[list[Any]], n_samples: int, sfreq: float, path: str
) -> SettledEvents:
    """``events`` by the module's rule, for a recording of ``n_samples`` samples at ``sfreq``
    (Hz) read from ``path``.

    Raises
    ------
    SourceError
        Naming ``path`` and the first event whose onset or duration is not finite or whose
        duration is negative, or the count of distinct events kept when over
        :data:`MAX_EVENTS`.
    """
    for ev in events:
        _check_times(ev, path)
    end = n_samples / float(sfreq)
    kept, changes = _inside(events, end)
    kept, label_changes = _clean_labels(kept)
    kept = _unique(kept)
    # (counted as stored, after exact repeats are dropped: a file's own markers and a BIDS
    # events.tsv repeating them counted twice, refusing a recording of 600,000 markers; each
    # source was bounded by its reader's own count before it was built)
    if len(kept) > MAX_EVENTS:
        raise SourceError(
            path,
            f"{len(kept):,} distinct events, over the {MAX_EVENTS:,} a recording may store: "
            "thin the label file, or leave the file's own annotations out "
            '(sidecar.annotations = "replace")',
        )
    kept.sort(key=lambda e: (e[0], e[1], str(e[2]), str(e[3])))
    warnings = [
        _warning(f"outside the stored 0-{end:g} s {what}", evs)
        for what, evs in changes.items()
        if evs
    ]
    warnings += [_warning(what, evs) for what, evs in label_changes.items() if evs]
    return SettledEvents(kept, warnings)


def _check_times(ev: list[Any], path: str) -> None:
    """Refuse an event whose onset or duration (s) is no finite number, or whose duration is
    negative."""
    onset, duration = float(ev[0]), float(ev[1])
    label = _shown(ev[2])
    if not math.isfinite(onset):
        problem = f"its onset {onset!r} s is not a finite number"
    elif not math.isfinite(duration):
        problem = f"its duration {duration!r} s is not a finite number"
    elif duration < 0:
        problem = f"its duration {duration:g} s is negative"
    else:
        return
    raise SourceError(
        path,
        f"event {label} at {ev[0]!r} s: {problem}; an event lasts 0 s or more from a finite "
        "onset: fix the event in the file or its label file to ingest the recording",
    )


def _inside(
    events: list[list[Any]], end: float
) -> tuple[list[list[Any]], dict[str, list[list[Any]]]]:
    """The events inside ``[0, end]`` s, cut there (:func:`~eegprep.store.event_span.
    span_inside` with no tolerance: an onset past the end, even by less than a sample, is
    dropped, as MNE's readers drop it), and those changed, by change."""
    kept: list[list[Any]] = []
    changes: dict[str, list[list[Any]]] = {"dropped": [], "cut at the recording's ends": []}
    for ev in events:
        onset, duration = float(ev[0]), float(ev[1])
        span = span_inside(onset, duration, end, 0.0)
        if span is None:
            changes["dropped"].append(ev)
            continue
        if span != (onset, duration):
            changes["cut at the recording's ends"].append(ev)
        kept.append([span[0], span[1], *ev[2:]])
    return kept, changes


def _clean_labels(events: list[list[Any]]) -> tuple[list[list[Any]], dict[str, list[Any]]]:
    """Events with labels that print on one line and are at most :data:`MAX_LABEL_CHARS`
    long, and the events changed, by change. Each distinct text is cleaned once (a file's
    900,000 events carry a handful of labels)."""
    spaced_change = "with characters that do not print (now spaces)"
    cut_change = f"with labels over {counted(MAX_LABEL_CHARS, 'character')} (cut)"
    changes: dict[str, list[Any]] = {spaced_change: [], cut_change: []}
    cleaned: dict[str, tuple[str, bool, bool]] = {}
    out = []
    for ev in events:
        texts = []
        for text in ev[2:4]:  # the label, the channel
            if isinstance(text, str):
                done = cleaned.get(text)
                if done is None:
                    done = cleaned[text] = _clean_text(text)
                text, spaced, cut = done
                if spaced:
                    _note(changes[spaced_change], ev)
                if cut:
                    _note(changes[cut_change], ev)
            texts.append(text)
        out.append([ev[0], ev[1], *texts, *ev[4:]])
    return out, changes


def _clean_text(text: str) -> tuple[str, bool, bool]:
    """An event's label or channel ``text`` under the rule (:func:`_clean_labels`), and
    whether characters that do not print became spaces, and whether it was cut."""
    spaced = spaced_text(text)
    changed = spaced != text
    if changed:
        text = spaced.strip()
    cut = len(text) > MAX_LABEL_CHARS
    return (text[:MAX_LABEL_CHARS] if cut else text), changed, cut


def _note(events: list[Any], ev: list[Any]) -> None:
    """Note ``ev`` among ``events`` once (its label and its channel may both change)."""
    if not events or events[-1] is not ev:
        events.append(ev)


def _unique(events: list[list[Any]]) -> list[list[Any]]:
    """Drop exact repeats (a marker kept both in the file and in its sidecar, as BIDS does)."""
    seen: set[tuple[float, float, str, str]] = set()
    out = []
    for e in events:
        key = (round(float(e[0]), 6), round(float(e[1]), 6), str(e[2]), str(e[3]))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _shown(label: Any) -> str:
    """A label for one line: its repr, at most 60 characters."""
    text = repr(label)
    return text if len(text) <= 60 else text[:57] + "..."


def _warning(what: str, evs: list[list[Any]]) -> str:
    """One report line: how many events ``what``, naming the first three."""
    names = ", ".join(f"{_shown(e[2])} at {float(e[0]):g} s" for e in evs[:3])
    more = f" and {len(evs) - 3} more" if len(evs) > 3 else ""
    return f"{counted(len(evs), 'event')} {what}: {names}{more}"


__all__ = ["MAX_EVENTS", "MAX_LABEL_CHARS", "SettledEvents", "recording_events", "settle_events"]
