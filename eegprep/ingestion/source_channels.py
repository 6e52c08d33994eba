"""A source opened for an ingest: its header read, its EEG channels mapped onto the vocabulary.

What the mapping leaves out or takes on trust becomes the report's warnings (duplicate and
unknown labels, units that are no voltage or not stated); a file with no EEG channel is refused
in one line naming the manifest key that maps them. The kept channels are grouped by sampling
rate (how they are read and resampled), and those a sidecar (BIDS ``channels.tsv``) marks bad
or types non-EEG are left out. Two channels of one site are both candidates until then: the
one stored is the first that is not left out (:func:`one_per_site`), so that a site whose first
copy is bad, or too slow for the band, keeps its other copy.
"""

from __future__ import annotations

from dataclasses import replace

from eegprep.base.errors import SourceError
from eegprep.base.field_text import noted_text
from eegprep.base.resources import doc_path
from eegprep.base.wording import counted, noun, some_of
from eegprep.corpus.manifest import Manifest
from eegprep.pipeline.channels import (
    SHOWN_CHARS,
    ChannelMapping,
    classify_channel,
    first_of_each_site,
    map_channels,
    shown_label,
    typed_kind,
    unknown_message,
)
from eegprep.readers import get_reader
from eegprep.readers.base import EMPTY_CHANNEL, Header, unit_to_uv
from eegprep.readers.channel_labels import is_unnamed
from eegprep.readers.damaged_channels import damaged_signals

RateGroup = tuple[float, list[int], int]
"""Channels of one sampling rate: ``(sfreq Hz, positions in the mapping, n_samples)``."""


def open_source(
    path: str, m: Manifest, part: str | None
) -> tuple[Header, ChannelMapping, list[str]]:
    """A source's header, its channels mapped onto the vocabulary (one of each site), and the
    warnings so far: :func:`candidate_channels` then :func:`one_per_site`, no channel left out
    between them."""
    header, mapping, warnings = candidate_channels(path, m, part)
    mapping, said = one_per_site(header, mapping, m)
    return header, mapping, warnings + said


def candidate_channels(
    path: str, m: Manifest, part: str | None
) -> tuple[Header, ChannelMapping, list[str]]:
    """A source's header, its channels mapped onto the vocabulary, every copy of a site kept
    (the copy stored is the first that the next steps do not leave out: :func:`one_per_site`),
    and the warnings so far.

    The first step of an ingest and of in-memory prediction alike (same reader options, same
    mapping, same one-line refusal when no EEG channel maps).
    """
    options = dict(m.reader_options)
    options.setdefault("default_unit", m.unit)  # every reader: a unit the file does not state
    header = get_reader(m.reader).read_header(path, part=part, **options)
    mapping = map_channels(
        header.labels,
        rename=dict(m.rename),
        exclude=m.exclude_channels,
        on_unknown="ignore",
        kinds=[s.kind for s in header.signals],
        one_per_site=False,
    )
    if header.empty_channels:  # (named in the header's warnings)
        empty = tuple((label, EMPTY_CHANNEL) for label in header.empty_channels)
        mapping = replace(mapping, dropped=(*mapping.dropped, *empty))
    if mapping.n_channels == 0:
        raise SourceError(path, headless_problem(header, m) or _no_eeg_problem(header))
    return header, mapping, [*header.warnings, *_mapping_warnings(header, mapping, m.on_unknown)]


def one_per_site(
    header: Header, mapping: ChannelMapping, m: Manifest
) -> tuple[ChannelMapping, list[str]]:
    """``mapping`` (:func:`candidate_channels`', less the channels left out since: a rate too
    low for the band, a ``channels.tsv`` bad) keeping the first channel of each site, and the
    warnings on the channels kept: one line naming every duplicate dropped and the copy kept
    in its place, and their units'."""
    mapping = first_of_each_site(mapping, header.labels)
    dupes = [
        f"{shown_label(label)} ({noted_text(why)[:SHOWN_CHARS]})"
        for label, why in mapping.dropped
        if why.startswith("duplicate")
    ]
    said = [f"duplicate channels, the first of each kept: {', '.join(dupes)}"] if dupes else []
    return mapping, said + _unit_warnings(header, mapping, m)


def _unit_warnings(header: Header, mapping: ChannelMapping, m: Manifest) -> list[str]:
    """What the one rule of units (:func:`~eegprep.readers.base.unit_or_default`) took on
    trust for the EEG channels: a warning naming those whose unit the file states and is no
    voltage (``degC``, ``%``, ``mA``, a writer's mangled ``AuV``), their values taken as the
    manifest's unit, right only if the unit is a typo; and one naming those whose file states
    no unit (empty, MNE's ``n/a``) when the manifest does not say what they are in either, so
    that microvolts were assumed (not for an EEGLAB ``.set``, whose samples are microvolts by
    EEGLAB's convention, as MNE reads them: the manifest's ``unit`` still overrides it)."""
    signals = [header.signals[i] for i in mapping.source_indices]
    odd = [
        f"{s.label} ({s.unit!r})"
        for s in signals
        if s.unit.strip() and s.unit.strip() != "n/a" and unit_to_uv(s.unit) is None
    ]
    out = []
    if odd:
        out.append(
            f"EEG channels whose unit is not a voltage, values taken as {m.unit}: "
            f"{', '.join(odd)}; check the file, or leave them out (`[channels] exclude`)"
        )
    unstated = [s.label for s in signals if s.unit.strip() in ("", "n/a")]
    by_convention = header.path.lower().endswith(".set")  # EEGLAB keeps microvolts, unstated
    if (
        unstated
        and not by_convention
        and "unit" not in m.raw
        and "default_unit" not in dict(m.reader_options)
    ):
        shown = ", ".join(unstated[:5]) + (
            f" and {len(unstated) - 5} more" if len(unstated) > 5 else ""
        )
        out.append(
            f"EEG channels whose file states no unit, values taken as {m.unit} (the default; "
            f"the manifest names no `unit`): {shown}; set `unit` in the manifest to the "
            "corpus's unit"
        )
    return out


MANIFEST_DOC = doc_path("docs/manifest-format.md")
"""The manifest format's doc as a file of this installation (a wheel has no ``docs/`` beside
the folder the user runs in: ``eegprep/docs/`` inside the package)."""


CHANNEL_NAMES_DOC = doc_path("docs/corpora.md#channel-names")
"""Where the rules that map a label onto the vocabulary are written."""


def _number(text: str) -> bool:
    """Whether ``text`` parses as a number (``-1.5``, ``2.5e+00``; ``-1,5`` written with a
    decimal comma)."""
    try:
        float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return True


def headless_problem(header: Header, m: Manifest) -> str | None:
    """Why a text table maps no channel, where every column name its first row gave is a
    number: the table has no header row (``numpy.savetxt``'s), its first row of samples was
    taken for names; None for any other file, or where the manifest names the columns."""
    options = dict(m.reader_options)
    if m.reader != "csv" or "channel_names" in options or not header.labels:
        return None
    if set(header.labels) & set(dict(m.rename)):  # names the manifest maps: a header row
        return None
    if not all(_number(label) for label in header.labels):
        return None
    shown = ", ".join(shown_label(label) for label in header.labels[:4])
    more = ", ..." if len(header.labels) > 4 else ""
    return (
        f"no EEG channel: the file seems to have no header row (its first row, {shown}{more}, "
        "was taken as the column names and every one is a number): give the columns' names "
        f"as `channel_names` in the manifest's reader options ({MANIFEST_DOC})"
    )


def _no_eeg_problem(header: Header) -> str:
    """Why no channel maps: EEG-typed labels (where the format types channels) named first,
    with the manifest key that maps them."""
    eeg = [s.label for s in header.signals if s.kind == "eeg"]
    if eeg:
        shown = ", ".join(eeg[:5]) + (", ..." if len(eeg) > 5 else "")
        return (
            f"no EEG channel in the vocabulary: the file has {counted(len(eeg), 'channel')} typed "
            f"EEG ({shown}) whose labels are not 10-20/10-10 names: map them to cap sites with "
            f"[channels] rename in the manifest ({MANIFEST_DOC})"
        )
    labels = ", ".join(header.labels[:12]) + (" ..." if len(header.labels) > 12 else "")
    return (
        f"no EEG channel in the vocabulary among: {labels}; if some are EEG, map them with "
        f"[channels] rename in the manifest ({MANIFEST_DOC})"
    )


def _mapping_warnings(header: Header, mapping: ChannelMapping, on_unknown: str) -> list[str]:
    """The mapping's lines: the common reference, the sites typed no EEG, the channels not in
    the vocabulary (an unnamed one's damaged calibration on its line: :func:`_unnamed_damage`),
    a :class:`SourceError` where ``on_unknown`` raises."""
    out = [referenced_note(mapping)] if mapping.reference else []
    typed = typed_sites_note(mapping)
    if typed:
        out.append(typed)
    unknown = mapping.unknown()
    if not unknown or on_unknown == "ignore":
        return out
    msg = unknown_message(unknown, _unnamed_damage(header, unknown))
    if on_unknown == "raise":
        raise SourceError(header.path, msg)
    return [*out, msg]


def _unnamed_damage(header: Header, unknown: list[str]) -> list[str]:
    """What leaves each of the ``unknown`` labels no physical values where it is unnamed (the
    reader's line on damaged channels leaves an unnamed one to the line naming it unknown:
    :func:`~eegprep.readers.damaged_channels.damaged_note`), ``""`` else. Unknown labels come
    in source order, as the header's unnamed signals do."""
    damage = damaged_signals(header)
    queue = [damage.get(i, "") for i, label in enumerate(header.labels) if is_unnamed(label)]
    return [queue.pop(0) if is_unnamed(label) and queue else "" for label in unknown]


def typed_sites_note(mapping: ChannelMapping) -> str:
    """The report's line on the channels left out because the file types them as no EEG
    (:data:`~eegprep.pipeline.channels.LABEL_DECIDES`) though their labels name a site (a FIF
    or EEGLAB ``eog`` channel labelled ``Fp1``); ``""`` when there are none."""
    shown = [
        f"{shown_label(label)} ({typed_kind(why)})"
        for label, why in mapping.dropped
        if typed_kind(why) and classify_channel(label).kind == "eeg"
    ]
    if not shown:
        return ""
    n = len(shown)
    return (
        f"{counted(n, 'channel')} left out: the file types {noun(n, 'it', 'them')} as no EEG, "
        f"though {noun(n, 'its label names a site', 'their labels name sites')}: "
        f"{some_of(shown, 10)}; "
        f"if {noun(n, 'it holds', 'they hold')} EEG, map {noun(n, 'it', 'them')} with "
        f"[channels] rename in the manifest ({CHANNEL_NAMES_DOC})"
    )


def referenced_note(mapping: ChannelMapping) -> str:
    """The report's line on the common reference stripped from the leads' labels."""
    shown = ", ".join(shown_label(label) for label in mapping.referenced[:3])
    more = ", ..." if len(mapping.referenced) > 3 else ""
    return (
        f"{counted(len(mapping.referenced), 'channel')} named against one common reference, "
        f"{mapping.reference} ({shown}{more}): each stored as its first site "
        f"({CHANNEL_NAMES_DOC})"
    )


def rate_groups(header: Header, mapping: ChannelMapping) -> list[RateGroup]:
    """EEG channels grouped by sampling rate: ``(sfreq, mapping positions, n_samples)``,
    the group with the most channels first (its head is the QC head).

    Grouping is how the samples are read and resampled (one stream per rate); it is not the
    stored order: :func:`~eegprep.ingestion.task.preprocessed_blocks` puts every row back at
    its mapping position, i.e. in the source file's channel order, however the rates
    interleave.
    """
    by_rate: dict[float, list[int]] = {}
    for pos, src in enumerate(mapping.source_indices):
        by_rate.setdefault(header.signals[src].sfreq, []).append(pos)
    groups = []
    for sfreq, positions in by_rate.items():
        n_samples = min(header.signals[mapping.source_indices[p]].n_samples for p in positions)
        groups.append((sfreq, positions, n_samples))
    groups.sort(key=lambda g: (-len(g[1]), g[0]))
    return groups
