"""A channel label's site name as the vocabulary looks it up, and the one rule of marker labels.

:func:`normalize_label` takes a label as a file writes it to the upper-cased name it spells
(prefix, reference suffix, bracketed unit and padding gone); :data:`MARKER_LABEL` is the rule
that makes a normalised label a stimulus, trigger or marker channel. Both live here, below the
readers, so that a reader that types its channels itself (MNE's formats, eegprep's own GDF
reader) types a marker ``stim`` by the same rule :mod:`eegprep.pipeline.channels` drops it by
(:func:`marker_kind`): a marker channel is typed EEG by no reader.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from eegprep.readers.base import Signal, unit_to_uv

# Prefixes that corpora put before the site name ("EEG FP1-REF", "EEG-Fp1", "EEG:Cz"; "POL Fp1"
# in Nihon Kohden exports).
_PREFIX = re.compile(r"^(?:EEG|EXG|POL)[\s:_-]+", re.IGNORECASE)
# Reference suffixes ("-REF", "-LE", "-Ref", " REF", "-AVG", "-AR", "-CAR", "-M1M2", "-CLE").
_REF_SUFFIX = re.compile(r"[\s_-]+(?:REF|LE|CLE|AVG|AV|AR|CAR|LINKED|M1M2|A1A2)$", re.IGNORECASE)
# One ear or mastoid as the reference ("EEG Fp1-A1", "C3-M2"): the referential montages of
# clinical systems; stripped only from a scalp site ("A1-A2" stays a pair of references).
_EAR_REF = re.compile(r"-(?:A1|A2|M1|M2)$", re.IGNORECASE)
_EARS = frozenset({"A1", "A2", "M1", "M2"})
# Dashes other than ASCII's (Unicode's hyphens, en and em dashes, the minus sign) between a
# site and its reference ("Fp1", an en dash, "Ref" as a word processor writes it) or two sites.
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63]")
# Blanks and NULs padding a label, in any order ("Cz\x00 \x00": a fixed-width field).
_PADDING = re.compile(r"^[\s\x00]+|[\s\x00]+$")
# A unit after the name in brackets, as table headers write it ("Fp1 [uV]", "Cz (µV)",
# "Pz (millivolts)", "T4 (degC)", "O2 []"): the text a CSV column's unit is read from.
_BRACKETED_TAIL = re.compile(r"\s*[(\[]\s*([^()\[\]]*?)\s*[)\]]$")
_OTHER_UNITS = frozenset(
    "% ? degc °c a.u. au unknown n/a none ma ua µa μa us µs μs mmhg bpm ohm kohm".split()
)
"""Units that are no voltage, lower case, as a bracket after a label states them (the ones the
docs name among units that are no voltage, and a vital sign's): taken off the label like a
voltage, so that ``Fp1 (degC)`` is the site, its unit named by the ingest's warning."""

MARKER_LABEL = (
    r"^(?:STI|STIM|STATUS|TRIG|TRIGGER|DI|DIN|SYNC|EVENT|MARK|MARKER|MK)(?:[\s_-]?\d+)?$"
    r"|^(?:TRIG|EVENT|MARK|MK)\w*$"
)
"""The rule that makes a label a stimulus, trigger or marker channel (the normalised label:
upper case, padding, prefix and reference suffix gone): a name real systems write, alone or
with a number after it, a blank, ``_`` or ``-`` between (``STI 014``, ``STI014``, ``STIM``,
``Status``, ``Status1``, ``TRIGGER``, ``Trig 1``, EGI's ``DI``, ``DIN``, ``DIN1``..``DIN8``,
``Sync``, ``Event``, ``Marker``), or a word starting ``TRIG``, ``EVENT``, ``MARK`` or ``MK``
(``MkIdx``, ``Markers``). No 10-20/10-10 site matches it; such a channel is non-EEG
(``marker``), never stored, whatever reader gave it."""


def normalize_label(label: str) -> str:
    """Return the upper-cased site name a source label spells, before vocabulary lookup.

    ``"EEG FP1-REF"`` -> ``"FP1"``, ``"Fp1."`` -> ``"FP1"``, ``"EEG Fc1"`` -> ``"FC1"``,
    ``"FP1-F7"`` -> ``"FP1-F7"`` (bipolar pairs keep their dash); an ear or mastoid reference
    (``"EEG Fp1-A1"``, ``"C3-M2"``, ``"C3-CLE"``), Nihon Kohden's ``"POL "`` prefix and a
    bracketed unit (``"Fp1 [uV]"``, ``"Fp1 (millivolts)"``, ``"Fp1 (degC)"``:
    :func:`_without_unit`) go as the other reference suffixes do; ``"A1-A2"`` stays a pair.
    """
    # (the unit read before NFKC too, which spells a mis-decoded micro sign's ``µ`` as ``μ``)
    text = _PADDING.sub("", _plain_text(_without_unit(_PADDING.sub("", label))))
    text = _without_unit(text)
    text = _PREFIX.sub("", text)
    text = _PADDING.sub("", text.rstrip(".").strip())
    text = _REF_SUFFIX.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    # "FP1 - F7" -> "FP1-F7"
    text = re.sub(r"\s*-\s*", "-", text)
    site = _EAR_REF.sub("", text)
    if site != text and site and site.upper() not in _EARS:
        text = site
    return text.upper()


def _without_unit(text: str) -> str:
    """``text`` without a bracketed unit after the name: any voltage the one rule of units
    reads (:func:`~eegprep.readers.base.unit_to_uv`: ``[millivolts]``, ``(u V)``, ``(V)``),
    one of :data:`_OTHER_UNITS`, or none (``[]``); another bracket (``Cz (ref)``) stays."""
    hit = _BRACKETED_TAIL.search(text)
    if hit is None:
        return text
    unit = hit.group(1)
    if unit and unit_to_uv(unit) is None and unit.lower() not in _OTHER_UNITS:
        return text
    return text[: hit.start()]


def _plain_text(label: str) -> str:
    """``label`` in its Unicode compatibility form (NFKC: full-width letters and digits,
    U+FF26 U+FF50 U+FF11, are ``Fp1``; a no-break space is a space), without invisible format
    characters (a byte-order mark or a zero-width space a copy left inside it), its dashes
    ASCII's."""
    text = unicodedata.normalize("NFKC", label)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _DASHES.sub("-", text)


_MARKER = re.compile(MARKER_LABEL)
MARKER_RETYPED = frozenset({"", "eeg", "misc"})
"""The types (MNE's words) a marker channel's label overrides: none, ``eeg`` (MNE's GDF, CNT,
EEGLAB and BrainVision readers type every channel of no stated type so) and ``misc``."""


def is_marker_label(label: str) -> bool:
    """Whether ``label`` names a stimulus, trigger or marker channel (:data:`MARKER_LABEL`)."""
    return _MARKER.search(normalize_label(label)) is not None


def is_unnamed(label: str) -> bool:
    """Whether ``label`` names nothing (empty, blanks or NUL bytes alone): a channel of no
    site, which the ingest names among the channels not in the vocabulary."""
    return not normalize_label(label)


def marker_kind(label: str, kind: str) -> str:
    """The type a reader gives a channel labelled ``label`` that its format types ``kind``:
    ``stim`` for a marker label (:func:`is_marker_label`) typed EEG, misc or nothing, so that
    no reader counts a marker channel as EEG (its values are codes); ``kind`` otherwise."""
    if kind.strip().lower() in MARKER_RETYPED and is_marker_label(label):
        return "stim"
    return kind


def marked(signals: tuple[Signal, ...]) -> tuple[Signal, ...]:
    """``signals`` each of the type :func:`marker_kind` gives it. Only the type changes: a
    marker's values keep the scale the reader gave them (a manifest that renames one to a site
    keeps it, in microvolts as the file states them)."""
    return tuple(replace(s, kind=marker_kind(s.label, s.kind)) for s in signals)
