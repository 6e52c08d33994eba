"""An EEGLAB ``.set``'s ``EEG.event`` latencies and durations as numbers, however the file
stores them.

EEGLAB keeps each event's ``latency`` (samples, counted from 1) and ``duration`` (samples) as
doubles, but some EEGLAB versions and plugins store them as text (``'1024'``, ``'1024.5'``), in
a 1 x 1 cell, or empty. MNE subtracts 1 from each latency as it finds it, so text refused the
whole file (``unsupported operand type(s) for -: 'str' and 'int'``), an empty one too
(``setting an array element with a sequence``), and a NaN it dropped without a word.

:func:`numeric_events` reads each as EEGLAB's ``str2double`` would: the text of a finite
decimal number (spaces around it allowed) is that number, a one-element cell its element; a
latency that is no number (empty, other text, NaN, infinite) becomes NaN, which MNE drops, and
:func:`unread_note` is the one warning that names those events. A duration that is no number
is read as an empty one (MNE: none, 0 s). MNE-free: :mod:`eegprep.readers.set_raw` applies it to
the ``EEG`` MNE loaded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.wording import of_total, some_of

_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
"""The text of a decimal number as MATLAB's ``str2double`` reads it (ASCII digits only)."""

UNREAD = "eegprep_unread_events"
"""The attribute of the Raw MNE opened a ``.set`` as (:mod:`eegprep.readers.set_raw`) that
holds the one warning naming the events whose latency is no number, left out, or None."""


@dataclass(frozen=True)
class Unread:
    """An event whose latency is no number: its place in ``EEG.event`` (from 1), its type
    and its latency as shown in the warning."""

    number: int
    kind: str
    value: str


def numeric_events(event: Any) -> tuple[Any, str | None]:
    """``event`` (MNE's loading of ``EEG.event``: a dict of lists, one per field, or of one
    value each for a single event) with each ``latency`` and ``duration`` a float where it is
    a number or the text of one (``nan`` for a latency that is none; an empty array, as MNE
    reads an empty one, for a duration), and the warning naming the events whose latency is
    no number (:func:`unread_note`; None where each is one)."""
    if not isinstance(event, dict) or "latency" not in event:
        return event, None
    latencies, one = _values(event["latency"])
    kinds = _values(event.get("type", [""] * len(latencies)))[0]
    unread: list[Unread] = []
    for i, value in enumerate(latencies):
        number = _number(value)
        if number is None or not math.isfinite(number):
            kind = _kind(kinds[i]) if i < len(kinds) else ""
            unread.append(Unread(i + 1, kind, _shown(value, number)))
            number = math.nan
        latencies[i] = number
    event["latency"] = latencies[0] if one else latencies
    if "duration" in event:
        durations, one_duration = _values(event["duration"])
        durations = [_duration(value) for value in durations]
        event["duration"] = durations[0] if one_duration else durations
    return event, unread_note(unread, len(latencies))


def _values(field: Any) -> tuple[list[Any], bool]:
    """A field's values as a list, and whether it held one event's value alone."""
    if isinstance(field, list | tuple):
        return list(field), False
    if isinstance(field, np.ndarray) and field.ndim > 0 and field.dtype.kind in "iufbO":
        return list(field.ravel()), False
    return [field], True


def _number(value: Any) -> float | None:
    """``value`` as a float where it is one number or the text of one; else None."""
    while isinstance(value, list | tuple | np.ndarray) and np.size(value) == 1:
        value = value[0] if isinstance(value, list | tuple) else value.ravel()[0]
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        return float(value) if _DECIMAL.fullmatch(value) else None
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


def _duration(value: Any) -> Any:
    """A duration as a float where it is a number or the text of one; else as an empty one."""
    number = _number(value)
    return np.zeros((0,)) if number is None else number


def _shown(value: Any, number: float | None) -> str:
    """A latency that is no number as the warning shows it: ``empty``, ``NaN``, its text."""
    if isinstance(value, list | tuple | np.ndarray) and np.size(value) == 0:
        return "empty"
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        text = value.strip()
        return repr(text[:40] + ("..." if len(text) > 40 else "")) if text else "empty"
    if number is not None:
        return "NaN" if math.isnan(number) else f"{number:g}"
    return repr(str(value)[:40])


def _kind(value: Any) -> str:
    """An event's type as shown: its text, or a number's shortest form."""
    number = _number(value) if not isinstance(value, str) else None
    return f"{number:g}" if number is not None else str(value)


def unread_note(unread: list[Unread], n_events: int) -> str | None:
    """The one warning naming the events whose latency is no number (None where none is)."""
    if not unread:
        return None
    first = unread[0]
    if len(unread) == 1:
        which = f"the event is left out ({of_total(1, n_events, 'event')})"
    else:
        places = "EEG.event" + some_of([f"({u.number})" for u in unread])
        which = f"those events are left out ({of_total(len(unread), n_events, 'event')}: {places})"
    return (
        f"EEG.event({first.number}).latency ({first.kind!r}) is {first.value}, no number of "
        f"samples: {which}; give each a latency in samples in EEGLAB and save the dataset again"
    )


def unread_events(raw: Any) -> str | None:
    """The warning naming the events of the ``.set`` MNE opened as ``raw`` whose latency is no
    number (None for any other file, and where each is one)."""
    note = getattr(raw, UNREAD, None)
    return note if isinstance(note, str) else None
