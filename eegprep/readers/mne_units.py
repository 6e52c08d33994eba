"""Channel units MNE reads otherwise than the one rule of every eegprep reader.

The rule (:func:`~eegprep.readers.base.unit_or_default`): a voltage the file states scales
exactly; an unstated unit, or one that is no voltage, is the manifest's ``unit``. MNE departs
from it in three places, put right here from what the file states:

- EDF/BDF read by MNE (an EDF given MNE reader options): MNE scales ``uV``, ``µV``, ``μV`` and
  ``mV`` and takes every other unit, ``nV``, ``UV`` and an empty one included, for volts
  (:func:`edf_scaled`); a label or unit padded with NUL bytes it keeps whole (``mV\\0\\0``: no
  unit it knows, so volts), where eegprep's EDF reader ends the field at the NUL
  (:func:`edf_texts`). GDF: :func:`~eegprep.readers.gdf_values.gdf_scaled`.
- FIF: a channel's ``unit_mul`` (the unit's power of ten, -6 for uV) is kept in its info and
  left out of its values (:func:`fif_unit`).
- EEGLAB: a ``.set`` states no unit; MNE takes microvolts, for every channel whatever its
  type (:func:`eeglab_unit`).
- BrainVision: MNE keeps a channel in a unit it does not count as a voltage (``µS``, ``C``,
  and any channel of its ``misc`` option) as a unitless misc channel, its values multiplied by
  its own table's factor (10^-6 for ``µS``, and for ``µV`` named in ``misc``)
  (:func:`brainvision_scaled`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.readers.base import Signal, unit_or_default

if TYPE_CHECKING:
    from mne.io import BaseRaw

_PREFIXES = {0: "", -3: "m", -6: "u", -9: "n"}  # FIFF_UNITM_* of a voltage, as a prefix


def rescaled(signal: Signal, k: float, unit: str) -> Signal:
    """``signal`` whose values in microvolts are ``k`` times what its header said, in
    ``unit``: ``to_uv``, the ADC step and the stated range follow."""
    return dataclasses.replace(
        signal,
        unit=unit,
        to_uv=signal.to_uv * k,
        resolution=signal.resolution * k,
        range_uv=None
        if signal.range_uv is None
        else (signal.range_uv[0] * k, signal.range_uv[1] * k),
    )


def edf_scaled(
    raw: BaseRaw, signals: tuple[Signal, ...], units: Sequence[str], default_unit: str
) -> tuple[Signal, ...]:
    """EDF/BDF channels MNE read in volts scaled by the unit their header writes (``units``,
    MNE's ``orig_units`` in channel order): MNE's factor (its extras' ``units``) is replaced by
    :func:`~eegprep.readers.base.unit_or_default`'s; channels MNE keeps in other units (stim)
    and files whose extras do not pair with the channels stay as they are."""
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    factors = np.asarray(extras.get("units", ()), dtype=float)
    if factors.shape != (len(signals),) or len(units) != len(signals):
        return signals
    out = []
    for signal, unit, factor in zip(signals, units, factors.tolist(), strict=True):
        if signal.to_uv != 1e6 or not factor:
            out.append(signal)
            continue
        out.append(rescaled(signal, unit_or_default(unit, default_unit) * 1e-6 / factor, unit))
    return tuple(out)


def edf_texts(
    path: str, raw: BaseRaw, labels: Sequence[str], units: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The labels and units (MNE's, in channel order) of an EDF/BDF read by MNE as eegprep's
    EDF reader reads them (:func:`~eegprep.readers.edf_records.header_text`): a label up to
    its first NUL byte, and a unit MNE gives as ``n/a`` (its text padded with NUL bytes, which
    MNE keeps and then knows no unit of) as the header writes it, found by MNE's index of each
    channel among the file's signals (its extras' ``sel``). Other files as they are."""
    if PurePath(path).suffix.lower() not in (".edf", ".bdf"):
        return list(labels), list(units)
    labels = [label.split("\x00", 1)[0].strip(" ") for label in labels]
    sel = (raw._raw_extras[0] if raw._raw_extras else {}).get("sel")
    if "n/a" not in units or sel is None or len(sel) != len(units):
        return labels, list(units)
    from eegprep.readers.edf import read_raw_header
    from eegprep.readers.edf_header import parse_edf_fields

    try:
        written = [s.unit for s in parse_edf_fields(path, read_raw_header(path)).signals]
    except SourceError:  # (MNE read the fields: a field we would refuse is left to MNE)
        return labels, list(units)
    return labels, [
        written[i] if unit == "n/a" and 0 <= i < len(written) else unit
        for i, unit in zip((int(k) for k in sel), units)
    ]


def fif_unit(ch: Mapping[str, Any]) -> tuple[float, str]:
    """``(k, unit)`` of a FIF channel MNE reads in volts: its values times ``k`` are volts
    (``10 ** unit_mul``: MNE ignores the multiplier), ``unit`` the voltage spelled out
    (``"uV"`` for -6, ``"V x 1e-5"`` for a multiplier with no prefix)."""
    mul = int(ch.get("unit_mul", 0) or 0)
    prefix = _PREFIXES.get(mul)
    return 10.0**mul, f"{prefix}V" if prefix is not None else f"V x 1e{mul}"


def unstated_unit(signal: Signal, default_unit: str) -> Signal:
    """A channel of a format that states no unit (EEGLAB), which MNE reads as microvolts: in
    ``default_unit`` (the manifest's), its unit empty (stated by nothing)."""
    return rescaled(signal, unit_or_default("", default_unit), "")


def eeglab_unit(signal: Signal, default_unit: str) -> Signal:
    """A channel of an EEGLAB ``.set``, whose ``EEG.data`` holds every channel in one unit that
    the file does not state. MNE multiplies every channel by 10^-6 (microvolts to volts),
    whatever its ``chanlocs`` type: a stim, misc or respiration channel was read 10^-6 times
    the value the file holds. A channel of a voltage type, or misc, is in ``default_unit``
    (:func:`unstated_unit`); any other (stim codes, say) holds the file's values, no unit."""
    if signal.to_uv != 1e6:  # MNE's factor taken back out: the file's own values
        signal = rescaled(signal, 1e6 / signal.to_uv, "")
        if signal.kind != "misc":
            return signal
    return unstated_unit(signal, default_unit)


def brainvision_scaled(
    signals: tuple[Signal, ...],
    chs: Sequence[Mapping[str, Any]],
    units: Sequence[str],
    scale: float,
    default_unit: str,
) -> tuple[Signal, ...]:
    """BrainVision channels in the unit their header writes (``units``), whatever MNE made of
    them. MNE's values are ``code x resolution x ch["range"]``, the range its unit table's
    factor (``µV`` 10^-6, ``µS`` 10^-6, a unit it does not know 1) times the reader's ``scale``
    option; and whether a channel is a volts EEG channel or a unitless misc one depends on that
    table and on the ``misc`` option (named there, a ``µV`` channel was read 10^6 times too
    small; with it given, a ``µS`` or ``mv`` one became EEG in "volts"). The value the header
    writes, times ``scale``, is MNE's times ``scale / range``: in microvolts, times
    :func:`~eegprep.readers.base.unit_or_default` of its unit."""
    out = []
    for signal, ch, unit in zip(signals, chs, units, strict=True):
        mne_factor = float(ch.get("range", 0.0) or 0.0)
        if not (np.isfinite(mne_factor) and mne_factor > 0) or not signal.to_uv:
            out.append(signal)
            continue
        to_uv = unit_or_default(unit, default_unit) * scale / mne_factor
        out.append(rescaled(signal, to_uv / signal.to_uv, unit))
    return tuple(out)
