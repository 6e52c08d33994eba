"""Channels of a file read by MNE whose header gives their samples no physical values: a
BrainVision channel whose resolution is no number, 0, not finite or overflowing float32; a GDF
channel whose physical or digital range is empty, not finite or absurd (:func:`gdf_damage`);
an EDF/BDF signal without calibration read through MNE (given MNE options:
:func:`~eegprep.readers.edf.edf_damage`).

Such a channel refuses only a read of its own samples, as an EDF signal without calibration
does (:func:`~eegprep.readers.edf._no_calibration`): a damaged ``Status`` or EOG channel,
which eegprep never keeps, does not refuse the EEG beside it. MNE is given a copy of the
header with a resolution of 1 for it (:func:`~eegprep.readers.vhdr_raw.read_raw_brainvision`).

Pure functions of the path and the header; nothing is kept between calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PurePath

from eegprep.base.errors import SourceError
from eegprep.readers.base import DEFAULT_UNIT, Header
from eegprep.readers.channel_labels import is_unnamed
from eegprep.readers.companions import BRAINVISION_HEADERS
from eegprep.readers.edf import MAX_ABS_UV, edf_damage
from eegprep.readers.gdf_records import GdfRecords, gdf_labels, gdf_records
from eegprep.readers.gdf_values import GdfUnit, gdf_units
from eegprep.readers.vhdr import read_vhdr

LAYOUT_KEY = "damaged"
"""The key, in an MNE-read header's layout, of its damaged channels: ``(index, problem)``
pairs, the index into the header's signals."""


def damaged_channels(
    path: str, kept: Sequence[int], default_unit: str = DEFAULT_UNIT
) -> tuple[tuple[int, str], ...]:
    """``(index, problem)`` of each damaged channel of ``path`` among the file's channels
    ``kept`` (the index into ``kept``: the header's signals); ``()`` for formats other than
    BrainVision, GDF, EDF and BDF (``default_unit``: an EDF signal's unit where it states no
    voltage, for its range in microvolts)."""
    suffix = PurePath(path).suffix.lower()
    if suffix in BRAINVISION_HEADERS:
        problems = [c.damage for c in read_vhdr(path).channels]
    elif suffix == ".gdf":
        problems = gdf_damage(path)
    elif suffix in (".edf", ".bdf"):
        problems = edf_damage(path, default_unit)
    else:
        return ()
    return kept_damage(problems, kept)


def kept_damage(problems: Sequence[str], kept: Sequence[int]) -> tuple[tuple[int, str], ...]:
    """``(index, problem)`` of each channel among ``kept`` (the index into ``kept``) whose
    entry of ``problems`` (one per channel of the file, ``""`` where none) names one."""
    return tuple(
        (at, problems[i]) for at, i in enumerate(kept) if i < len(problems) and problems[i]
    )


def gdf_damage(path: str) -> list[str]:
    """What leaves each channel of a GDF file no physical values (``""`` where nothing does):
    :func:`gdf_range_damage` of the file's header."""
    records = gdf_records(path)
    if records is None:
        return []
    return gdf_range_damage(records, gdf_labels(path, len(records.physical)), gdf_units(path))


def gdf_range_damage(
    records: GdfRecords, labels: Sequence[str], units: Sequence[GdfUnit]
) -> list[str]:
    """What leaves each channel of a GDF header (``records``, its ``labels`` and ``units``, as
    a reader that parsed it holds them) no physical values (``""`` where nothing does): a
    physical or digital range that is not finite or empty (minimum equal to maximum: MNE
    reads it with a gain of 1, a digital range of 0 so gave values of millions of uV), or a
    physical range beyond :data:`~eegprep.readers.edf.MAX_ABS_UV` in its unit."""
    out = []
    for i, ((pmin, pmax), (dmin, dmax)) in enumerate(zip(records.physical, records.digital)):
        volts = units[i].volts if i < len(units) else None
        to_uv = 1.0 if volts is None else volts * 1e6
        problem = _range_problem(pmin, pmax, dmin, dmax, to_uv)
        out.append(f"channel {labels[i]!r}: {problem}" if problem else "")
    return out


def _range_problem(pmin: float, pmax: float, dmin: float, dmax: float, to_uv: float) -> str:
    """What is wrong with a channel's ranges (``to_uv``: microvolts per physical unit)."""
    if not all(math.isfinite(v) for v in (pmin, pmax, dmin, dmax)):
        return f"a physical range of {pmin:g} to {pmax:g}, digital {dmin:g} to {dmax:g}"
    if dmin == dmax:
        return f"digital minimum equals maximum ({dmin:g})"
    if pmin == pmax:
        return f"physical minimum equals maximum ({pmin:g})"
    if max(abs(pmin), abs(pmax)) * to_uv > MAX_ABS_UV:
        return f"a physical range of {pmin:g} to {pmax:g} (beyond +-{MAX_ABS_UV:g} uV)"
    return ""


def damaged_note(damaged: Sequence[tuple[int, str]], labels: Sequence[str]) -> str | None:
    """The one warning naming every damaged channel (``None`` where none is; ``labels``: the
    header's signals', which ``damaged`` indexes), an unnamed one's aside: the ingest says its
    damage on the line naming it as a channel not in the vocabulary, one line for both
    (:func:`damaged_signals`)."""
    named = [problem for at, problem in damaged if not is_unnamed(labels[at])]
    if not named:
        return None
    return "channels without a usable calibration, no samples read: " + "; ".join(named)


def damaged_signals(header: Header) -> dict[int, str]:
    """Signal index -> what leaves it no physical values, for every damaged signal of a
    header of any reader (:data:`LAYOUT_KEY`; an EDF/BDF header of eegprep's own reader: its
    ``calibration`` said as a problem); ``{}`` where none is."""
    layout = dict(header.layout)
    if LAYOUT_KEY in layout:
        return dict(layout[LAYOUT_KEY])
    return {i: c for i, c in enumerate(layout.get("calibration", ())) if isinstance(c, str)}


def check_damaged(header: Header, picks: Sequence[int]) -> None:
    """Refuse, in one line naming the channel and its field, a read of a damaged channel's
    samples (:data:`LAYOUT_KEY`)."""
    for at, problem in dict(header.layout).get(LAYOUT_KEY, ()):
        if at in picks:
            raise SourceError(
                header.path, f"{problem}: no physical values for its samples; leave the "
                "channel out (`[channels] exclude`) or correct its header"
            )  # fmt: skip
