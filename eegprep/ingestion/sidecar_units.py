"""A sidecar's channel units (a BIDS ``channels.tsv``'s ``units``) beside the data file's own.

The data file's own unit wins wherever it states one (or its format's convention does: an
EEGLAB ``.set`` holds microvolts, :data:`CONVENTION_UNITS`): a sidecar that gives a kept EEG channel
another (``mV`` where the file says ``uV``; ``uV`` and ``µV`` are one unit) is one report line
naming the sidecar and each such channel with both units. The ``V`` mne-bids writes for a
``.set`` (:data:`TOOL_UNITS`) is no such line: the standard tool's word, nothing to act on.
Where the file states no unit (empty, MNE's ``n/a``), the sidecar's voltage is the channel's:
the header is read again with it as the unit the file does not state (the reader's
``default_unit``, the one rule of units of :func:`~eegprep.readers.base.unit_or_default`), in
place of the manifest's ``unit``. That needs one voltage for every kept EEG channel the file
leaves unitless; where the sidecar gives them several, or leaves some out, the manifest's
``unit`` stays and one line says so.
"""

from __future__ import annotations

import os
from dataclasses import replace

from eegprep.base.wording import counted, noun, some_of
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.pipeline.channels import ChannelMapping, shown_label
from eegprep.readers import get_reader
from eegprep.readers.base import Header, Signal, unit_or_default, unit_to_uv

UnitPair = tuple[str, str, str]
"""A kept EEG channel's ``(label, unit its file states, unit the sidecar gives)``."""


def sidecar_units(
    path: str,
    m: Manifest,
    part: str | None,
    header: Header,
    mapping: ChannelMapping,
    sidecar: SidecarResult,
) -> tuple[Header, list[str]]:
    """``header`` with the sidecar's units taken where the file states none (read again, see
    the module), and the report's lines: the units that disagree with the file's own, and
    the unitless channels left in the manifest's ``unit``."""
    if not sidecar.units:
        return header, []
    given = {name.strip(): unit for name, unit in sidecar.units.items()}
    ext = os.path.splitext(header.path)[1].lower()
    pairs = [_pair(header.signals[src], ext, given) for src in mapping.source_indices]
    said = _disagreements(pairs, sidecar.units_file)
    header, filled = _unstated_filled(path, m, part, header, pairs, sidecar.units_file)
    return header, said + filled


CONVENTION_UNITS = {".set": "uV"}
"""The unit a format's convention fixes where its files state none, by extension: an EEGLAB
``.set`` holds microvolts (as MNE reads it), whatever a ``channels.tsv`` says."""

TOOL_UNITS = {".set": "V"}
"""The unit the standard tool writes in a ``channels.tsv`` for a format of
:data:`CONVENTION_UNITS`, by extension: mne-bids writes ``V`` for an EEGLAB ``.set``. Beside
the convention it is no disagreement the user can act on, so never a report line; another
unit (``mV``) is one."""


def _pair(signal: Signal, ext: str, given: dict[str, str]) -> UnitPair:
    """A kept channel's :data:`UnitPair`: the unit its file states, else its format's
    convention (:data:`CONVENTION_UNITS`, ``ext`` the file's lower-case extension), else
    ``""``; the table's unit from ``given`` (names stripped), ``""`` where it has none or gives
    the :data:`TOOL_UNITS` beside the convention."""
    unit, other = signal.unit.strip(), given.get(signal.label.strip(), "")
    if _stated(unit):
        return signal.label, unit, other
    own = CONVENTION_UNITS.get(ext, "")
    if own and other and _same_unit(other, TOOL_UNITS.get(ext, "")):
        other = ""
    return signal.label, own, other


def _stated(unit: str) -> bool:
    return unit not in ("", "n/a")


def _same_unit(a: str, b: str) -> bool:
    """Whether two units are one: the same voltage (``uV``, ``µV``), or the same other text."""
    fa, fb = unit_to_uv(a), unit_to_uv(b)
    return fa == fb if fa is not None or fb is not None else a.lower() == b.lower()


def _disagreements(pairs: list[UnitPair], sidecar: str) -> list[str]:
    """The one line naming the channels whose file states a unit the sidecar does not give."""
    odd = [
        f"{shown_label(label)} (file {own}, {sidecar} {other})"
        for label, own, other in pairs
        if _stated(own) and other and not _same_unit(own, other)
    ]
    if not odd:
        return []
    return [
        f"{sidecar} gives {counted(len(odd), 'channel')} another unit than the data file, "
        f"whose own {noun(len(odd), 'is', 'are')} used: {some_of(odd, 10)}"
    ]


def _unstated_filled(
    path: str, m: Manifest, part: str | None, header: Header, pairs: list[UnitPair], sidecar: str
) -> tuple[Header, list[str]]:
    """``header`` read again with the sidecar's one voltage for the kept channels whose file
    states no unit (their unit text the sidecar's), or as it was with a line saying why not."""
    unstated = [(label, other) for label, own, other in pairs if not _stated(own)]
    factors = {unit_to_uv(other) for _, other in unstated}
    if not unstated or factors == {None}:
        return header, []
    if len(factors) > 1:
        shown = [f"{shown_label(label)} ({other or 'none'})" for label, other in unstated]
        return header, [
            f"{sidecar} gives the channels whose data file states no unit no one voltage: "
            f"{some_of(shown, 10)}; each taken as the manifest's unit ({m.unit})"
        ]
    unit = unstated[0][1]
    options = dict(m.reader_options)
    options.setdefault("default_unit", m.unit)
    if unit_or_default("", str(options["default_unit"])) != unit_to_uv(unit):
        options["default_unit"] = unit
        header = get_reader(m.reader).read_header(path, part=part, **options)
    named = {label for label, _ in unstated}
    signals = tuple(
        replace(s, unit=unit) if s.label in named and not _stated(s.unit.strip()) else s
        for s in header.signals
    )
    return replace(header, signals=signals), []
