"""Each channel's ADC step and stated converter range, as MNE's ``Raw`` gives them.

:mod:`eegprep.readers.mne_formats` takes a channel's :attr:`~eegprep.readers.base.Signal.resolution`
(the value of one integer code, so that the default encoding quantizes it as it does EDF) and
the range the clipping check compares samples with from here: EDF, BDF and GDF from the reader
extras MNE's ``edf`` module keeps, every other integer format from the channel infos.
Pure functions of an opened ``Raw``; nothing is kept between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mne.io import BaseRaw

_INTEGER_FORMATS = frozenset({"short", "int"})  # BaseRaw.orig_format of integer samples


def code_steps(raw: BaseRaw) -> list[float]:
    """Each channel's ADC step in MNE's units (volts for voltages): the change in the value
    :meth:`~mne.io.BaseRaw.get_data` returns per integer code of the file; 0.0 where the file
    stores floats (or MNE does not say).

    EDF, BDF and GDF (:func:`_edf_extras`): ``cal * units`` of the reader's extras (physical
    range / digital range, and the unit's factor), when the samples' type is an integer (GDF may
    store floats). Every other format MNE reads with integer samples (``orig_format`` ``short``
    or ``int``: BrainVision INT_16 and INT_32, Neuroscan CNT, FIF's short and int buffers)
    returns ``code * cal * range`` of each channel's info (minus a baseline for CNT).
    """
    n = len(raw.info["chs"])
    extras = _edf_extras(raw)
    if extras is not None:
        if not _integer_samples(extras):
            return [0.0] * n
        cal, units = np.asarray(extras["cal"], float), np.asarray(extras["units"], float)
        if cal.shape != (n,) or units.shape != (n,):  # (channels MNE excluded: not ours to pair)
            return [0.0] * n
        steps = np.abs(cal * units)
    elif _edf_family(raw):  # extras this MNE does not keep: the step is not known
        return [0.0] * n
    elif raw.orig_format in _INTEGER_FORMATS:
        steps = np.abs([float(ch["cal"]) * float(ch["range"]) for ch in raw.info["chs"]])
    else:
        return [0.0] * n
    return [float(s) if np.isfinite(s) and s > 0 else 0.0 for s in steps]


def stated_ranges(raw: BaseRaw) -> list[tuple[float, float] | None]:
    """Each channel's converter range as the file states it, ``(low, high)`` in MNE's units:
    the physical minimum and maximum of EDF, BDF and GDF files with integer samples (the values
    of the extreme codes, for the clipping check); ``None`` for every other format (an integer
    type's own extremes need not be the amplifier's) and where MNE's arrays do not follow its
    channels."""
    n = len(raw.info["chs"])
    extras = _edf_extras(raw)
    if extras is None or not _integer_samples(extras):
        return [None] * n
    if not all(key in extras for key in ("physical_min", "physical_max")):  # (MNE < 1.13.2: GDF)
        return [None] * n
    lows, highs, units = (
        np.asarray(extras[key], float) for key in ("physical_min", "physical_max", "units")
    )
    if not lows.shape == highs.shape == units.shape == (n,):
        return [None] * n
    out: list[tuple[float, float] | None] = []
    for lo, hi, unit in zip(lows * units, highs * units, units, strict=True):
        ok = np.isfinite(lo) and np.isfinite(hi) and lo != hi and unit != 0
        out.append((float(min(lo, hi)), float(max(lo, hi))) if ok else None)
    return out


def _edf_extras(raw: BaseRaw) -> dict[str, Any] | None:
    """The reader extras of an EDF, BDF or GDF file as MNE's ``edf`` module keeps them
    (calibrations, units, sample type; the physical ranges too, except for GDF files before
    MNE 1.13.2); ``None`` for other formats, and where MNE keeps none of these."""
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    keys = ("cal", "units", "dtype_np")
    return extras if all(key in extras for key in keys) else None


def _edf_family(raw: BaseRaw) -> bool:
    """Whether MNE read ``raw`` with its ``edf`` module (EDF, BDF, GDF), whose channel infos
    carry no calibration (``cal`` and ``range`` 1: a code of those would be 1 V). Their steps
    come from the reader's extras alone: a GDF read by MNE before 1.13.2, whose extras lacked
    the physical ranges, was given the infos' step of 1 V, and its int16 samples were stored
    as zeros (quantized at a sixteenth of that step)."""
    return type(raw).__name__ in ("RawEDF", "RawBDF", "RawGDF")


def _integer_samples(extras: dict[str, Any]) -> bool:
    """Whether the file of these :func:`_edf_extras` stores integer codes (GDF may store
    floats)."""
    return bool(np.issubdtype(np.dtype(extras["dtype_np"]), np.integer))
