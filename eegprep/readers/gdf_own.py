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
channel named ``Status`` or ``Trigger``, whose values are codes; the ``eog``, ``misc`` and
``stim_channel`` options as MNE takes them), a channel of 0 samples per record left out.

Concurrency contract: pure functions of the path; the file is opened for each read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.readers.base import (
    Header,
    Signal,
    check_sfreq,
    empty_channels_note,
    frozen_options,
    unit_or_default,
)
from eegprep.readers.gdf_count import counted_fixed
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES, fixed_header
from eegprep.readers.gdf_header import check_gdf
from eegprep.readers.gdf_records import GdfRecords, gdf_records
from eegprep.readers.gdf_values import GdfUnit, gdf_annotations, gdf_units

_STIM_NAMES = ("status", "trigger")  # MNE's stim_channel="auto"
_VOLTAGE_KINDS = ("eeg", "eog")


def mixed_sizes(path: str) -> bool:
    """Whether the GDF file's channels store samples of different sizes (bytes per sample),
    which MNE cannot open; False for a file that is no GDF or whose types GDF does not
    define (:func:`~eegprep.readers.gdf_header.check_gdf` names those)."""
    with open_regular(path, buffering=-1) as fh:
        fixed = fixed_header(fh.read(256))
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
    labels = _labels(path, len(records.n_per_record))
    kinds = _kinds(labels, options)
    units = gdf_units(path)
    kept = tuple(i for i, n in enumerate(records.n_per_record) if n > 0)
    empty = tuple(labels[i] for i, n in enumerate(records.n_per_record) if n == 0)
    signals = tuple(_signal(records, i, labels[i], kinds[i], units[i], default_unit) for i in kept)
    for signal in signals:
        check_sfreq(path, signal.sfreq)
    fastest = max(s.sfreq for s in signals)
    n_fastest = max(s.n_samples for s in signals)
    timed = gdf_annotations(path, fastest, n_fastest, every=True)
    notes = (empty_channels_note(empty, "0 per record"),) if empty else ()
    said = tuple(w for w in (warning, *notes, timed[1] if timed else None) if w)
    return Header(
        path=path,
        reader=reader,
        signals=signals,
        duration=records.n_records * records.duration[0] / records.duration[1],
        annotations=timed[0] if timed else (),
        part=part,
        meta=_meta(path, [kinds[i] for i in kept], fastest),
        options=frozen_options(options),
        layout=(
            ("gdf_own_rate", tuple(range(len(kept)))),
            ("mne_picks", kept),
            ("mne_skips", ()),
        ),
        warnings=said,
        empty_channels=empty,
    )


def _labels(path: str, ns: int) -> list[str]:
    """Each channel's label (16 bytes from byte 256), as :func:`check_gdf` reads it."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(256)
        raw = fh.read(16 * ns)
    return [raw[16 * i : 16 * i + 16].decode("latin-1").strip("\x00 ") for i in range(ns)]


def _kinds(labels: Sequence[str], options: Mapping[str, Any]) -> list[str]:
    """Each channel's kind as MNE's GDF reader gives it: ``eog`` and ``misc`` for the channels
    those options name (labels as written, or indices), ``stim`` for ``stim_channel``'s
    (labels in any letter case; ``'auto'``: ``Status`` or ``Trigger``), ``eeg`` for the
    others."""
    stim = options.get("stim_channel", "auto")
    if stim in ("auto", True):
        stim = list(_STIM_NAMES)
    elif stim is None or stim is False:
        stim = []
    eog = _named(labels, options.get("eog"), exact=True)
    misc = _named(labels, options.get("misc"), exact=True)
    stims = _named(labels, stim, exact=False)
    return [
        "eog" if i in eog else "misc" if i in misc else "stim" if i in stims else "eeg"
        for i in range(len(labels))
    ]


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
    """Channel ``i``: its own rate and length; ``to_uv`` by its unit (a voltage channel whose
    header states no voltage unit in ``default_unit``; a stim channel's codes, and a misc
    channel of another quantity, as they are); its ADC step and range by its own type."""
    if kind in _VOLTAGE_KINDS or (kind == "misc" and unit.volts is not None):
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


def _meta(path: str, kinds: Sequence[str], fastest: float) -> tuple[tuple[str, str], ...]:
    """The header facts MNE's reader would give: the recording's start (GDF 1: text
    ``YYYYMMDDhhmmsscc`` at byte 168; GDF 2: uint64 days since year 0 in units of 2^-32),
    the kinds, no filter stated (0 Hz to half the fastest rate)."""
    return (
        ("format", "GDF"),
        ("meas_date", _start(path)),
        ("ch_types", ",".join(kinds)),
        ("bads", ""),
        ("highpass", "0"),
        ("lowpass", f"{fastest / 2:g}"),
        ("first_samp", "0"),
    )


def _start(path: str) -> str:
    """The recording's start, ISO 8601 in UTC, as MNE reads it; ``""`` where not given."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(0)
        fixed = counted_fixed(path, fh)
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
