"""The canonical channel vocabulary and the mapping of every corpus spelling onto it.

The vocabulary is LaBraM's, in LaBraM's order, so that a channel's index here is its row in the
released weights' spatial embedding table (row = index + 1; row 0 is the CLS token). Only the
first :data:`N_ADDRESSABLE` names have a row in the released 129-row table.

A source label is normalised (prefix ``EEG``, reference suffixes ``-REF``/``-LE``/..., dots and
case removed) and looked up. A label that is not a known EEG site is never guessed: it is either
recognised as a non-EEG signal (ECG, EOG, PHOTIC, ...) or reported as unknown, and dropped.
A channel the file itself types as no EEG (a FIF or EEGLAB ``eog``, ``ecg``, ``stim`` channel)
is non-EEG whatever its label names. Old and new 10-20 names stay distinct (T3 is not T7), as
the released weights saw them; a file that holds both names of one site holds one channel
twice (:data:`SAME_SITE`), and keeps the first.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from eegprep.base.errors import UsageError
from eegprep.base.validation import check_choice
from eegprep.readers.channel_labels import MARKER_LABEL, is_marker_label, normalize_label

VOCABULARY: tuple[str, ...] = tuple(
    """
FP1 FPZ FP2 AF9 AF7 AF5 AF3 AF1 AFZ AF2 AF4 AF6 AF8 AF10 F9 F7 F5 F3 F1 FZ F2 F4 F6 F8 F10
FT9 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 FT10 T9 T7 C5 C3 C1 CZ C2 C4 C6 T8 T10
TP9 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 TP10 P9 P7 P5 P3 P1 PZ P2 P4 P6 P8 P10
PO9 PO7 PO5 PO3 PO1 POZ PO2 PO4 PO6 PO8 PO10 O1 OZ O2 O9 CB1 CB2 IZ O10
T3 T5 T4 T6 M1 M2 A1 A2 CFC1 CFC2 CFC3 CFC4 CFC5 CFC6 CFC7 CFC8
CCP1 CCP2 CCP3 CCP4 CCP5 CCP6 CCP7 CCP8 T1 T2 FTT9h TTP7h TPP9h FTT10h TPP8h TPP10h
FP1-F7 F7-T7 T7-P7 P7-O1 FP2-F8 F8-T8 T8-P8 P8-O2 FP1-F3 F3-C3 C3-P3 P3-O1 FP2-F4 F4-C4 C4-P4 P4-O2
""".split()
)
"""The 136 canonical names, in LaBraM's order (index 0..135)."""

N_ADDRESSABLE = 128
"""Names with a row in the released weights' spatial table (129 rows, row 0 = CLS)."""

# Upper-cased lookup. The six mixed-case "...h" names are matched case-insensitively here;
# LaBraM's own code never matched them (upper-cased data vs mixed-case list), so their rows in
# the released weights are untrained. See docs/corpora.md#channel-names.
_INDEX: dict[str, int] = {name.upper(): i for i, name in enumerate(VOCABULARY)}

SAME_SITE: Mapping[str, str] = MappingProxyType({"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"})
"""The old 10-20 names and the 10-10 names of the same sites (ACNS 2006): each keeps its own
row of the vocabulary, but two channels of one file that name one site are one channel twice."""

LABEL_DECIDES = frozenset({"", "eeg", "misc"})
"""Channel types (MNE's words) under which a channel's label says what it is: none (EDF, CSV
and MATLAB type no channel), EEG, and ``misc``, MNE's type for a channel whose unit it does not
know (a BrainVision channel in ``mv``). Any other type a file states (``eog``, ``ecg``,
``emg``, ``stim``, ``resp``, ``seeg``, ...) makes the channel non-EEG."""

ChannelKind = Literal["eeg", "non_eeg", "unknown"]
OnProblem = Literal["raise", "warn", "ignore"]

# Non-EEG signals seen in the corpora (TUH, Siena, BioSemi, NeuroScan, BrainVision, ...).
# Matched against the normalised label; a match anywhere in a token counts.
_NON_EEG_PATTERNS: tuple[tuple[str, str], ...] = (
    # (EOG, ECG, EKG, EMG anywhere in a label: no site's name holds them; "LEOG", "HEOG_L")
    ("ecg", r"^(?:E?KG|ECG|EKG\d*|ECG\d*|ECGL|ECGR)\b|EKG|ECG"),
    ("eog", r"^(?:EOG|VEO[GLU]?|HEO[GLR]?|LOC|ROC|EOG[LRHV]?\d*|VEOG[LU]?|HEOG[LR]?)$|EOG"),
    ("emg", r"EMG|^CHIN|^LEG"),
    ("photic", r"PHOTIC|^PHO"),
    ("derived", r"^(?:IBI|BURSTS|SUPPR|SUPPRESSION)$"),
    ("respiration", r"RESP|ABDOMEN|THORAX|^AIRFLOW|^SNORE"),
    ("cardiac", r"PULSE|^HR$|^SPO2$|^SAO2$|^PLETH|^BVP$|^BP$"),
    ("skin", r"^GSR|^EDA$|^TEMP"),
    ("marker", MARKER_LABEL),
    ("annotation", r"ANNOTATION"),
    ("dc", r"^DC\d+"),
    ("motion", r"^ACC|^GYRO|^POSITION"),
    # Electrodes off the 10-20/10-10 scalp grid that TUH records: sphenoidal, pharyngeal,
    # eye-region (LUC/RLC) and the C3P/C4P pair. Recognised so that reports stay quiet.
    ("off-scalp", r"^(?:SP[12]|PG[12]|LUC|RLC|C3P|C4P|X\d+|NAS|NZ)$"),
)
_NON_EEG = tuple((kind, re.compile(rx)) for kind, rx in _NON_EEG_PATTERNS)


def _numbered_input(label: str, norm: str) -> bool:
    """Whether a label is a numbered amplifier input with no site: TUH's ``EEG 20-REF`` ..
    ``EEG 128-REF`` (a prefix or a reference around a bare number). A bare ``1`` says nothing
    of what it holds and stays unknown (a manifest renames it, as Siena's does)."""
    return norm.isascii() and norm.isdigit() and norm != label.strip().upper()


def vocabulary_index(name: str) -> int:
    """Index of a canonical name in :data:`VOCABULARY` (case-insensitive).

    Raises
    ------
    UsageError
        If the name is not in the vocabulary, with the closest names as suggestions.
    """
    try:
        return _INDEX[name.upper()]
    except KeyError:
        hint = difflib.get_close_matches(name.upper(), list(_INDEX), n=3)
        more = f" Did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
        raise UsageError(f"{name!r} is not in the channel vocabulary.{more}") from None


@dataclass(frozen=True)
class ChannelMatch:
    """How one source label was understood.

    Attributes
    ----------
    label : str
        The label as the source file spells it.
    kind : {'eeg', 'non_eeg', 'unknown'}
        ``eeg``: a vocabulary site; ``non_eeg``: a recognised other signal; ``unknown``: neither.
    name : str or None
        Canonical vocabulary name (``kind == 'eeg'`` only).
    index : int or None
        Vocabulary index (``kind == 'eeg'`` only).
    detail : str
        For ``non_eeg``, the signal family (``ecg``, ``eog``, ...); else empty.
    """

    label: str
    kind: ChannelKind
    name: str | None = None
    index: int | None = None
    detail: str = ""


def classify_channel(label: str, *, rename: Mapping[str, str] | None = None) -> ChannelMatch:
    """Classify one source label as a vocabulary EEG site, a non-EEG signal, or unknown.

    Parameters
    ----------
    label : str
        The label as stored in the source file.
    rename : mapping of str to str, optional
        Corpus-specific overrides applied first, keyed by the exact source label or by its
        normalised form; a value of ``""`` marks the channel non-EEG (for example cap sites that
        carried EOG electrodes).
    """
    norm = normalize_label(label)
    if rename:
        for key in (label, label.strip(), norm):
            if key in rename:
                target = rename[key]
                if target == "":
                    return ChannelMatch(label, "non_eeg", detail="excluded by manifest")
                norm = normalize_label(target)
                break
    idx = _INDEX.get(norm)
    if idx is not None:
        return ChannelMatch(label, "eeg", VOCABULARY[idx], idx)
    if _numbered_input(label, norm):
        return ChannelMatch(label, "non_eeg", detail="numbered input")
    for kind, rx in _NON_EEG:
        if rx.search(norm):
            return ChannelMatch(label, "non_eeg", detail=kind)
    return ChannelMatch(label, "unknown")


def rename_problem(target: str) -> str:
    """Why a manifest's ``channels.rename`` value would map its channel nowhere: ``""`` when it
    names a vocabulary site (as a label spells one: ``"Fp1"``, ``"EEG T7-REF"``), a signal
    known as non-EEG (``"EOG"``) or is ``""`` (non-EEG); else the line's end, with the closest
    vocabulary names (a rename to ``"Fp1x"`` made its channel unknown in every file)."""
    if target == "" or classify_channel(target).kind != "unknown":
        return ""
    hint = difflib.get_close_matches(normalize_label(target), list(_INDEX), n=3)
    more = f" (did you mean {', '.join(repr(h) for h in hint)}?)" if hint else ""
    return (
        f'names no site of the channel vocabulary{more}: give a vocabulary name, or "" to '
        "mark the channel non-EEG"
    )


@dataclass(frozen=True)
class ChannelMapping:
    """The result of mapping a recording's labels onto the vocabulary.

    Attributes
    ----------
    source_indices : tuple of int
        Positions, in the source's channel list, of the channels kept (in source order).
    names : tuple of str
        Canonical names of the kept channels, parallel to ``source_indices``.
    indices : tuple of int
        Vocabulary indices of the kept channels, parallel to ``source_indices``.
    dropped : tuple of (str, str)
        ``(source label, reason)`` for every channel not kept.
    reference, referenced
        The common reference stripped and the labels it was stripped from (below).
    """

    source_indices: tuple[int, ...]
    names: tuple[str, ...]
    indices: tuple[int, ...]
    dropped: tuple[tuple[str, str], ...] = field(default=())
    reference: str = ""
    """The common reference stripped from the leads' labels (``POZ`` for ``Fp1-POz``, see
    :func:`common_reference`); ``""`` when none was."""
    referenced: tuple[str, ...] = ()
    """The source labels of the leads named against :attr:`reference`, in source order."""

    @property
    def n_channels(self) -> int:
        return len(self.names)

    def unknown(self) -> list[str]:
        """Labels dropped because they map to no vocabulary site and are not known non-EEG."""
        return [lab for lab, why in self.dropped if why.startswith("unknown")]


_BANK = re.compile(r"^[A-H]([1-9]|[12]\d|3[0-2])$")
"""A BioSemi cap electrode's name (the label normalised): bank ``A`` to ``H``, 32 electrodes
each, numbered from 1."""
MIN_BANK_LABELS = 8
"""Labels of that form that are no 10-20/10-10 site (``A3``, ``B1``, ``D17``) a file must hold
for its labels to be read as a BioSemi cap's banks: a sleep recording's ``E1``, ``E2`` (eye
electrodes, AASM) beside ``C3-M2`` is no cap of banks."""
_BANK_REASON = (
    "unknown: a BioSemi cap electrode (its banks A1..H32 name places on the cap, not the 10-20 "
    "site of that name): rename it to its site in the manifest"
)


def bank_electrodes(
    labels: Sequence[str], *, rename: Mapping[str, str] | None = None
) -> frozenset[str]:
    """The labels of a BioSemi cap's banks (``A1`` .. ``H32``) in a file labelled so: where at
    least :data:`MIN_BANK_LABELS` labels of that form are no vocabulary site, every label of
    that form that the manifest does not rename. ``A1`` and ``A2`` are then no ear electrodes,
    ``C1`` .. ``C6`` and ``F1`` .. ``F10`` no 10-10 sites (a 128-electrode cap's bank C, a
    256-electrode cap's bank F), and were mapped to them: empty for any other file."""
    renamed = set(rename or ())
    banks = [
        label
        for label in labels
        if _BANK.match(normalize_label(label))
        and not {label, label.strip(), normalize_label(label)} & renamed
    ]
    off_grid = sum(1 for label in banks if normalize_label(label) not in _INDEX)
    return frozenset(banks) if off_grid >= MIN_BANK_LABELS else frozenset()


MIN_REFERENCED_LEADS = 3
"""Leads a file must name against one site (``Fp1-POz``, ``F3-POz``, ...) for that site to be
read as its common reference: two pairs to one site (``P3-O1``, ``P7-O1``) may be a bipolar
chain's."""
REFERENCE_SHARE = 0.75
"""The share of a file's pairs of two sites that must end at that one site: a double banana's
(``FP1-F7``, ``F7-T3``, ...) most common second site ends 2 or 3 of its 18 to 23 pairs."""


@dataclass(frozen=True)
class CommonReference:
    """A referential montage written as pairs: every lead named against one site.

    Attributes
    ----------
    site : str
        Canonical name of the reference (``POZ`` for ``Fp1-POz``).
    leads : mapping of str to str
        Source label of each lead to it -> canonical name of its first site (``FP1``).
    """

    site: str
    leads: Mapping[str, str]


def _site_pair(norm: str) -> tuple[str, str] | None:
    """The two vocabulary sites a normalised label names as ``FIRST-SECOND``, or None."""
    parts = norm.split("-")
    if len(parts) != 2 or parts[0] == parts[1] or not all(p in _INDEX for p in parts):
        return None
    return VOCABULARY[_INDEX[parts[0]]], VOCABULARY[_INDEX[parts[1]]]


def common_reference(
    labels: Sequence[str], *, rename: Mapping[str, str] | None = None
) -> CommonReference | None:
    """The common reference of a file whose leads are named against one site, or None.

    Among the labels that are a pair of two vocabulary sites (and that the manifest does not
    rename), one second site must end at least :data:`MIN_REFERENCED_LEADS` of them and at
    least :data:`REFERENCE_SHARE` of them all: ``Fp1-POz``, ``F3-POz``, ... (FieldTrip, many
    amplifiers' exports) are then the sites ``FP1``, ``F3``, ... recorded against ``POZ``. A
    bipolar montage's pairs end at many sites and stay derivations; in a file that has a
    common reference, its other pairs stay derivations too.
    """
    renamed = set(rename or ())
    pairs = []
    for label in labels:
        norm = normalize_label(label)
        pair = _site_pair(norm)
        if pair is not None and not {label, label.strip(), norm} & renamed:
            pairs.append((label, pair))
    counts = Counter(second for _, (_, second) in pairs)
    if not counts:
        return None
    site, n = counts.most_common(1)[0]
    if n < MIN_REFERENCED_LEADS or n < REFERENCE_SHARE * len(pairs):
        return None
    return CommonReference(site, {label: first for label, (first, s) in pairs if s == site})


def map_channels(
    labels: Sequence[str],
    *,
    rename: Mapping[str, str] | None = None,
    exclude: Iterable[str] = (),
    on_unknown: OnProblem = "ignore",
    kinds: Sequence[str] | None = None,
    one_per_site: bool = True,
) -> ChannelMapping:
    """Map source labels onto the canonical vocabulary.

    Parameters
    ----------
    labels : sequence of str
        Channel labels in source order.
    rename : mapping, optional
        Corpus overrides, see :func:`classify_channel`.
    exclude : iterable of str
        Canonical names or source labels to drop even though they are EEG sites.
    on_unknown : {'raise', 'warn', 'ignore'}
        What to do when a label is neither an EEG site nor a known non-EEG signal. The label is
        dropped and listed in ``dropped`` in every case; ``'raise'`` raises :class:`UsageError`,
        ``'warn'`` emits a :class:`UserWarning`.
    kinds : sequence of str, optional
        The type the file states for each channel, parallel to ``labels`` (MNE's words, ``""``
        where the format types none). A type outside :data:`LABEL_DECIDES` makes the channel
        non-EEG whatever its label names, unless ``rename`` names it.
    one_per_site : bool
        Keep one channel of each site (:func:`first_of_each_site`). False: every channel of a
        site is kept, for a caller that leaves channels out first (an ingest: a rate too low
        for the band, a ``channels.tsv`` bad), so that the copy kept is the first that is not
        left out; it then calls :func:`first_of_each_site` itself.

    Notes
    -----
    When two labels map to the same site (``EEG FP1-REF`` and ``EEG FP1-LE`` in one file, or
    the old and new names of one site, ``T3`` and ``T7``: :data:`SAME_SITE`) the first is kept
    and the others dropped as duplicates; nothing is averaged or renamed. A channel typed
    non-EEG is dropped first, so it is no EEG channel's duplicate. Leads named against a
    :func:`common_reference` map to their first site.
    """
    _check_choice("on_unknown", on_unknown, ("raise", "warn", "ignore"))
    if kinds is not None and len(kinds) != len(labels):
        raise UsageError(f"{len(kinds)} channel types for {len(labels)} labels")
    mapping = _mapping(labels, rename, exclude, kinds or ())
    if one_per_site:
        mapping = first_of_each_site(mapping, labels)
    unknown = mapping.unknown()
    if unknown and on_unknown != "ignore":
        msg = unknown_message(unknown)
        if on_unknown == "raise":
            raise UsageError(msg)
        import warnings

        warnings.warn(msg, UserWarning, stacklevel=2)
    return mapping


def _typed_non_eeg(
    labels: Sequence[str], kinds: Sequence[str], rename: Mapping[str, str] | None
) -> dict[int, str]:
    """Position -> type of each channel whose file types it as no EEG (a type outside
    :data:`LABEL_DECIDES`) and that the manifest does not rename; a marker label typed
    ``stim`` is left to its label (a ``marker``, whichever reader typed it: a reader types a
    marker ``stim`` by the same rule, :func:`~eegprep.readers.channel_labels.marker_kind`)."""
    renamed = set(rename or ())
    return {
        pos: kind
        for pos, (label, kind) in enumerate(zip(labels, kinds, strict=True))
        if kind.strip().lower() not in LABEL_DECIDES
        and not (kind.strip().lower() == "stim" and is_marker_label(label))
        and not {label, label.strip(), normalize_label(label)} & renamed
    }


def _mapping(
    labels: Sequence[str],
    rename: Mapping[str, str] | None,
    exclude: Iterable[str],
    kinds: Sequence[str],
) -> ChannelMapping:
    """:func:`map_channels`' mapping: each label kept (its first site) or dropped with why
    (typed non-EEG, a banked electrode, non-EEG, unknown, excluded), in source order; two
    channels of one site both kept (:func:`first_of_each_site` keeps one)."""
    typed = _typed_non_eeg(labels, kinds, rename) if kinds else {}
    eeg_labels = [label for pos, label in enumerate(labels) if pos not in typed]
    banked = bank_electrodes(eeg_labels, rename=rename)
    reference = common_reference(eeg_labels, rename=rename)
    leads = reference.leads if reference else {}
    excluded = {e.upper() for e in exclude} | {normalize_label(e) for e in exclude}
    kept: list[tuple[int, str, int]] = []
    dropped: list[tuple[str, str]] = []
    for pos, label in enumerate(labels):
        if pos in typed:
            dropped.append((label, _TYPED_REASON.format(typed[pos])))
            continue
        if label in leads:
            name = leads[label]
            match = ChannelMatch(label, "eeg", name, _INDEX[name.upper()])
        else:
            match = classify_channel(label, rename=rename)
        why = _left_out(match, banked, excluded)
        if why:
            dropped.append((label, why))
        else:
            assert match.index is not None and match.name is not None
            kept.append((pos, match.name, match.index))
    return ChannelMapping(
        tuple(k[0] for k in kept),
        tuple(k[1] for k in kept),
        tuple(k[2] for k in kept),
        tuple(dropped),
        reference=reference.site if reference else "",
        referenced=tuple(label for label in eeg_labels if label in leads),
    )


_TYPED_REASON = "non-EEG (typed {} in the file)"
_TYPED = re.compile(r"non-EEG \(typed (.+) in the file\)")


def typed_kind(reason: str) -> str:
    """The type a file gave a channel that :func:`map_channels` dropped for it, read from its
    reason in :attr:`ChannelMapping.dropped`; ``""`` for any other reason."""
    hit = _TYPED.fullmatch(reason)
    return hit.group(1) if hit else ""


def _site(name: str) -> int:
    """The vocabulary index that stands for the site a canonical name is: its own, or for an
    old 10-20 name the new name's (:data:`SAME_SITE`)."""
    return _INDEX[SAME_SITE.get(name.upper(), name.upper())]


def _left_out(match: ChannelMatch, banked: frozenset[str], excluded: set[str]) -> str:
    """Why the channel ``match`` is left out of the mapping, or ``""`` when it is kept."""
    label = match.label
    if label in banked:
        return _BANK_REASON
    if match.kind == "non_eeg":
        return f"non-EEG ({match.detail})"
    if match.kind == "unknown":
        return "unknown: not a 10-20/10-10 site in the vocabulary"
    if match.name is not None and (
        match.name.upper() in excluded or label.strip().upper() in excluded
    ):
        return "excluded by manifest"
    return ""


def first_of_each_site(mapping: ChannelMapping, labels: Sequence[str]) -> ChannelMapping:
    """``mapping`` keeping the first of its channels at each site (in source order), every
    other dropped as its duplicate (``labels``: the source's, which ``source_indices`` index),
    the reason naming the copy kept: ``duplicate of 'EEG T3-REF': T3 and T7 name one site
    (the old and new 10-20 names)`` (:data:`SAME_SITE`)."""
    seen: dict[int, tuple[str, str]] = {}  # site -> (label, name) of the copy kept
    keep: list[int] = []
    dropped = list(mapping.dropped)
    for pos, (src, name) in enumerate(zip(mapping.source_indices, mapping.names, strict=True)):
        first = seen.get(_site(name))
        if first is None:
            seen[_site(name)] = (labels[src], name)
            keep.append(pos)
        elif first[1] == name:
            dropped.append((labels[src], f"duplicate of {first[0]!r}"))
        else:
            dropped.append((
                labels[src],
                f"duplicate of {first[0]!r}: {first[1]} and {name} name one site (the old "
                "and new 10-20 names)",
            ))  # fmt: skip
    if len(keep) == mapping.n_channels:
        return mapping
    return dataclasses.replace(
        mapping,
        source_indices=tuple(mapping.source_indices[p] for p in keep),
        names=tuple(mapping.names[p] for p in keep),
        indices=tuple(mapping.indices[p] for p in keep),
        dropped=tuple(dropped),
    )


def unknown_message(labels: Sequence[str], damage: Sequence[str] = ()) -> str:
    """The one line naming the channels dropped as unknown, each label as the file has it, or
    quoted where it would not read as itself (empty, control bytes such as a NUL, a comma,
    blanks at its ends): ``''`` or ``'Fp1\\x00\\x01'``, not nothing; ``damage``, parallel to
    ``labels`` (``""`` for none), what else is wrong with each (an unnamed channel's damaged
    calibration), said after it: one line naming both."""
    shown = [
        shown_label(label) + (f" (and without a usable calibration: {why})" if why else "")
        for label, why in zip(labels, [*damage, *[""] * (len(labels) - len(damage))], strict=True)
    ]
    return f"channels not in the vocabulary, dropped: {', '.join(shown)}"


SHOWN_CHARS = 80
"""The most characters of a channel label a message line shows (a header may name a channel
in 10,000 characters)."""


def shown_label(label: str) -> str:
    """A channel label as a message line names it: as the file has it, or quoted where it would
    not read as itself (empty, control bytes such as a NUL, a comma, blanks at its ends), cut
    to :data:`SHOWN_CHARS` characters ending in ``...``."""
    plain = label and label.isprintable() and label == label.strip() and "," not in label
    text = label if plain else repr(label)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _check_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    check_choice(name, value, allowed)
