"""A GDF file whose channels store samples of different sizes, read by eegprep without MNE.

BioSig- and OpenViBE-style converters write an ``int32`` status or trigger channel, or
``float32``/``float64`` channels, beside ``int16`` EEG. MNE's GDF reader takes one sample size
for the whole file (``RuntimeError: Reading multiple data types not supported``), so such a
file is read here from its own header (:mod:`eegprep.readers.gdf_header` checks it first, as
for every GDF file): each channel in its own sample type (int8 ... uint64, float32, float64)
at its own rate (samples per record over the record's duration), its physical value
``phys_min + (code - dig_min) * (phys_max - phys_min) / (dig_max - dig_min)`` in the unit its
header states (:func:`~eegprep.readers.gdf_values.gdf_units`), records read a few MiB at a
time (:func:`~eegprep.readers.gdf_records.read_gdf_samples`), events from the event table at
its own rate (:func:`~eegprep.readers.gdf_values.gdf_annotations`).

The header has MNE's shape for a GDF file, so that :class:`~eegprep.readers.mne_formats.
MneReader` reads its segments as it reads the channels it never leaves to MNE
(:mod:`eegprep.readers.mne_own_reads`): kinds as MNE gives them (``eeg``; ``stim`` for a
channel named ``Status`` or ``Trigger``, whose values are codes, and for any marker label, as
every reader types it; the ``eog``, ``misc`` and ``stim_channel`` options as MNE takes them),
the filter settings the header states as MNE
records them (:func:`_filters`), a channel of 0 samples per record left out, and a float
channel NaN at every sample (:func:`~eegprep.readers.gdf_records.gdf_nan_channels`, the rule
of the MNE-read GDF path too).

Concurrency contract: pure functions of the path; the file is opened for each read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.readers.base import (
    NAN_FILLED,
    Header,
    Signal,
    check_sfreq,
    empty_channels_note,
    frozen_options,
    unit_or_default,
)
from eegprep.readers.channel_labels import marked
from eegprep.readers.damaged_channels import (
    LAYOUT_KEY,
    damaged_note,
    gdf_range_damage,
    kept_damage,
)
from eegprep.readers.gdf_count import counted_fixed, written_fixed
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES
from eegprep.readers.gdf_header import check_gdf
from eegprep.readers.gdf_records import GdfRecords, gdf_labels, gdf_nan_channels, gdf_records
from eegprep.readers.gdf_values import GdfUnit, gdf_annotations, gdf_units
from eegprep.readers.read_once import once

_STIM_NAMES = ("status", "trigger")  # MNE's stim_channel="auto"
_VOLTAGE_KINDS = ("eeg", "eog")


@once
def mixed_sizes(path: str) -> bool:
    """Whether the GDF file's channels store samples of different sizes (bytes per sample),
    which MNE cannot open; False for a file that is no GDF or whose types GDF does not
    define (:func:`~eegprep.readers.gdf_header.check_gdf` names those)."""
    fixed = written_fixed(path)  # (the header's one parse: read_once.py)
    with open_regular(path, buffering=-1) as fh:
        size = os.fstat(fh.fileno()).st_size
        if fixed is None or not 0 < 256 * (fixed.n_channels + 1) <= size:
            return False  # (check_gdf names an absurd channel count: none read here)
        ns = fixed.n_channels
        fh.seek(256 + 220 * ns)
        codes = np.frombuffer(fh.read(4 * ns), dtype="<i4")
    if codes.size != ns or not all(int(c) in GDF_TYPE_BYTES for c in codes):
        return False
    return len({GDF_TYPE_BYTES[int(c)] for c in codes}) > 1


def gdf_own_header(
    path: str, options: Mapping[str, Any], part: str | None, default_unit: str, reader: str
) -> Header:
    """The header of a GDF file of mixed sample sizes (see the module), ``options`` the MNE
    options of ``read_raw_gdf`` (checked by the caller): ``eog``, ``misc``, ``stim_channel``."""
    warning = check_gdf(path)  # (every field MNE would fail on; a longer file's warning)
    records = gdf_records(path)
    if records is None:  # (check_gdf refuses what this cannot read)
        raise SourceError(path, "not a GDF file it can read: re-export it")
    labels = gdf_labels(path, len(records.n_per_record))
    kinds = _kinds(labels, options)
    units = gdf_units(path)
    filled = [i for i, n in enumerate(records.n_per_record) if n > 0]
    fastest = max(records.sfreq(i) for i in filled)
    n_fastest = max(records.n_records * records.n_per_record[i] for i in filled)
    unfilled = gdf_nan_channels(path, records, filled, labels)
    kept = tuple(i for i in filled if i not in unfilled)
    empty = tuple(i for i in range(len(labels)) if i not in kept)
    signals = marked(  # (a marker typed stim as every reader types it, its scale MNE's)
        tuple(_signal(records, i, labels[i], kinds[i], units[i], default_unit) for i in kept)
    )
    for signal in signals:
        check_sfreq(path, signal.sfreq)
    timed = gdf_annotations(path, fastest, n_fastest, every=True)
    filters = _filters(path, records, _stims(labels, options))
    notes = [
        empty_channels_note([labels[i] for i in found], detail)
        for found, detail in (([i for i in empty if i not in unfilled], "0 per record"),
                              (unfilled, NAN_FILLED))
        if found
    ]  # fmt: skip
    damaged = kept_damage(gdf_range_damage(records, labels, units), kept)  # (reads refused)
    said = tuple(
        w
        for w in (
            warning,
            *notes,
            damaged_note(damaged, [labels[i] for i in kept]),
            timed[1] if timed else None,
        )
        if w
    )
    return Header(
        path=path,
        reader=reader,
        signals=signals,
        duration=records.n_records * records.duration[0] / records.duration[1],
        annotations=timed[0] if timed else (),
        part=part,
        meta=_meta(path, [s.kind for s in signals], filters),
        options=frozen_options(options),
        layout=(
            ("gdf_own_rate", tuple(range(len(kept)))),
            ("mne_picks", kept),
            ("mne_skips", ()),
            (LAYOUT_KEY, damaged),
        ),
        warnings=said,
        empty_channels=tuple(labels[i] for i in empty),
    )


def _kinds(labels: Sequence[str], options: Mapping[str, Any]) -> list[str]:
    """Each channel's kind as MNE's GDF reader gives it: ``eog`` and ``misc`` for the channels
    those options name (labels as written, or indices), ``stim`` for ``stim_channel``'s
    (:func:`_stims`), ``eeg`` for the others."""
    eog = _named(labels, options.get("eog"), exact=True)
    misc = _named(labels, options.get("misc"), exact=True)
    stims = _stims(labels, options)
    return [
        "eog" if i in eog else "misc" if i in misc else "stim" if i in stims else "eeg"
        for i in range(len(labels))
    ]


def _stims(labels: Sequence[str], options: Mapping[str, Any]) -> set[int]:
    """The channels ``stim_channel`` names, as MNE finds them (labels in any letter case;
    ``'auto'``: ``Status`` or ``Trigger``)."""
    stim = options.get("stim_channel", "auto")
    if stim in ("auto", True):
        stim = list(_STIM_NAMES)
    elif stim is None or stim is False:
        stim = []
    return _named(labels, stim, exact=False)


def _named(labels: Sequence[str], value: Any, *, exact: bool) -> set[int]:
    """The channels an option names: labels (``exact``: as written, else in any letter case)
    or indices (negative from the end), one or a list."""
    items = [value] if isinstance(value, (str, int)) else list(value or ())
    written = list(labels) if exact else [label.lower() for label in labels]
    out = set()
    for item in items:
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and -len(labels) <= item < len(labels):
            out.add(item % len(labels))
        elif isinstance(item, str) and (item if exact else item.lower()) in written:
            out.add(written.index(item if exact else item.lower()))
    return out


def _signal(
    records: GdfRecords, i: int, label: str, kind: str, unit: GdfUnit, default_unit: str
) -> Signal:
    """Channel ``i``: its own rate and length; ``to_uv`` by its unit (a voltage or misc
    channel whose header states no voltage unit in ``default_unit``, as the MNE-read path and
    every reader take it: a misc channel's label decides whether it is EEG; a stim channel's
    codes as they are); its ADC step and range by its own type."""
    if kind in _VOLTAGE_KINDS or kind == "misc":
        to_uv = unit.volts * 1e6 if unit.volts is not None else unit_or_default("", default_unit)
    else:
        to_uv = 1.0
    integer = np.dtype(records.types[i]).kind in "iu"
    low, high = records.physical[i]
    ranged = integer and np.isfinite(low) and np.isfinite(high) and low != high
    return Signal(
        label=label,
        sfreq=records.sfreq(i),
        n_samples=records.n_records * records.n_per_record[i],
        unit=unit.text if kind != "stim" else "",
        to_uv=to_uv,
        resolution=abs(records.cal[i] * to_uv) if integer else 0.0,
        kind=kind,
        range_uv=(min(low, high) * to_uv, max(low, high) * to_uv) if ranged else None,
    )


def _meta(path: str, kinds: Sequence[str], filters: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """The header facts MNE's reader would give: the recording's start (GDF 1: text
    ``YYYYMMDDhhmmsscc`` at byte 168; GDF 2: uint64 days since year 0 in units of 2^-32),
    the kinds, the filters the header states (:func:`_filters`)."""
    return (
        ("format", "GDF"),
        ("meas_date", _start(path)),
        ("ch_types", ",".join(kinds)),
        ("bads", ""),
        ("highpass", filters[0]),
        ("lowpass", filters[1]),
        ("first_samp", "0"),
    )


_PASS = {"highpass": "HP", "lowpass": "LP"}  # a GDF 1 prefiltering text's words


def _filters(path: str, records: GdfRecords, stims: set[int]) -> tuple[str, str]:
    """The high-pass and low-pass (Hz) the header states, as MNE's GDF reader records them
    (``info['highpass']``, ``info['lowpass']``): each channel's (GDF 1: ``HP:0.1Hz LP:70Hz``
    in its 80-byte prefiltering text from byte ``256 + 136 * ns``; GDF 2: float32 low-pass,
    high-pass and notch from ``256 + 204 * ns``) but the stim channels'; where they differ the
    highest high-pass and the lowest low-pass; none stated (0, empty, NaN, text no number)
    0 Hz and half the rate of the fastest channel but the stim channels, as is a high-pass
    above the low-pass. MNE's record has no notch."""
    ns = len(records.n_per_record)
    with open_regular(path, buffering=-1) as fh:
        fixed = counted_fixed(path)
        gdf1 = fixed is not None and fixed.version < 1.9
        fh.seek(256 + (136 if gdf1 else 204) * ns)
        raw = fh.read((80 if gdf1 else 8) * ns)
    if gdf1:
        texts = [raw[80 * i : 80 * i + 80].decode("latin-1").split("\x00")[0] for i in range(ns)]
        stated = {k: [_prefilter(t, word) for t in texts] for k, word in _PASS.items()}
    else:
        values = np.frombuffer(raw.ljust(8 * ns, b"\0"), dtype="<f4").astype(np.float64)
        stated = {"lowpass": list(values[:ns]), "highpass": list(values[ns:])}
    filtered = [i for i in range(ns) if i not in stims]
    rate = max(records.sfreq(i) for i in (filtered or range(ns)))
    high, low = (_one(stated[k], filtered, k) for k in ("highpass", "lowpass"))
    high = 0.0 if np.isnan(high) else high
    low = rate / 2 if np.isnan(low) or low <= 0 else low
    if high > low:  # (MNE: "Highpass cutoff frequency ... is greater than lowpass")
        high, low = 0.0, rate / 2
    return f"{high:g}", f"{low:g}"


def _one(values: Sequence[float], channels: Sequence[int], key: str) -> float:
    """The one setting of ``channels``: the highest high-pass, the lowest low-pass stated; NaN
    for none (0 states none)."""
    numbers = [values[i] for i in channels if not np.isnan(values[i])]
    value = (max if key == "highpass" else min)(numbers) if numbers else np.nan
    return np.nan if value == 0 else float(value)


_STATED = {word: re.compile(rf"{word}:\s*([a-zA-Z0-9,.]+)(Hz)?") for word in _PASS.values()}


def _prefilter(text: str, word: str) -> float:
    """The frequency (Hz) a prefiltering text states after ``HP:`` or ``LP:`` (its last
    such; ``DC`` 0), as MNE reads it; NaN where none, or no number."""
    value = ""
    for match in _STATED[word].findall(text):
        if match[0]:
            value = match[0].replace("Hz", "").replace(",", ".")
    if value == "DC":
        return 0.0
    return float(value) if value.replace(".", "", 1).isdigit() else np.nan


def _start(path: str) -> str:
    """The recording's start, ISO 8601 in UTC, as MNE reads it; ``""`` where not given."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(0)
        fixed = counted_fixed(path)
        fh.seek(168)
        raw = fh.read(16)
    if fixed is None or len(raw) < 16:
        return ""
    try:
        if fixed.version < 1.9:
            text = raw.decode("latin-1").strip()
            if text[14:16] == "  ":
                text = text[:14] + "00"
            start = datetime(
                int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]),
                int(text[10:12]), int(text[12:14]), int(text[14:16]) * 10**4, tzinfo=UTC,
            )  # fmt: skip
        else:
            value = int.from_bytes(raw[:8], "little")
            if not value:
                return ""
            start = datetime(1, 1, 1, tzinfo=UTC) + timedelta(value * 2.0**-32 - 367)
    except (ValueError, OverflowError):
        return ""
    return start.isoformat()
