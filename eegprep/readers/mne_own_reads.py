"""The channels of an MNE-opened file that MNE misreads, read by eegprep instead.

Two formats, whose files MNE reads with its ``edf`` module:

- **GDF**: a channel slower than the fastest, and every channel of a file whose channels store
  different sample types of one size (:func:`~eegprep.readers.gdf_values.gdf_own_rates`),
  read by :mod:`eegprep.readers.gdf_records`.
- **EDF and BDF given MNE reader options** (``infer_types``, ``exclude``, ...): MNE reads
  every signal as if it ran at the fastest rate, a slower one resampled by FFT record block by
  record block, values the file does not hold (a ramp 0, 100, 200, ... at 50 Hz beside a
  100 Hz signal came back ringing at each block's edges). Those signals are read by eegprep's
  own EDF reader, at their own rate and length, each code by its own calibration
  (:func:`edf_own_rates`). MNE's reader extras pair each channel it kept with its signal in the
  file (``sel``) and give every signal's samples per record (``n_samps``); eegprep's EDF header
  lists the data signals (neither annotations nor of 0 samples per record) in file order, so
  the two are matched by place and checked by label. A file whose samples MNE keeps otherwise
  than its records lay them out (an EDF+D's gaps left out) stays as MNE reads it.

The header's ``layout`` names those channels (``gdf_own_rate``; ``edf_own_rate`` and the
``edf_header`` they are read by); :func:`own_segment` reads them.

Concurrency contract: pure functions of the path, MNE's opened ``raw`` and the header.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base.errors import EegprepError, SourceError
from eegprep.readers.base import Header, Signal
from eegprep.readers.edf import EdfReader
from eegprep.readers.gdf_records import gdf_records, read_gdf_samples
from eegprep.readers.gdf_values import gdf_own_rates, gdf_scaled

if TYPE_CHECKING:
    from mne.io import BaseRaw


@dataclass(frozen=True)
class OwnReads:
    """The channels eegprep reads itself: a GDF file's (their indices), an EDF/BDF file's
    slower signals (each ``(channel, signal of edf_header)``)."""

    gdf: tuple[int, ...] = ()
    edf: tuple[tuple[int, int], ...] = ()
    edf_header: Header | None = None


def own_reads(
    path: str,
    raw: BaseRaw,
    signals: tuple[Signal, ...],
    labels: Sequence[str],
    default_unit: str,
    skipped: Sequence[Any],
) -> tuple[tuple[Signal, ...], OwnReads]:
    """``signals`` with those eegprep reads itself described as it reads them, and which
    (``skipped``: the spans MNE left out of its samples, an EDF+D's gaps)."""
    if PurePath(path).suffix.lower() == ".gdf":
        signals, gdf = gdf_own_rates(path, raw, gdf_scaled(path, raw, signals, default_unit))
        return signals, OwnReads(gdf=gdf)
    if type(raw).__name__ in ("RawEDF", "RawBDF") and not skipped:
        signals, edf, header = edf_own_rates(path, raw, signals, labels, default_unit)
        return signals, OwnReads(edf=edf, edf_header=header)
    return signals, OwnReads()


def own_segment(header: Header, picks: Sequence[int], start: int, stop: int) -> np.ndarray | None:
    """Samples ``[start, stop)`` of ``picks`` (one rate) in microvolts, float32, where eegprep
    reads them itself; ``None`` where MNE does."""
    layout = dict(header.layout)
    if picks[0] in layout.get("gdf_own_rate", ()):
        return _gdf_segment(header, picks, start, stop)
    edf = dict(layout.get("edf_own_rate", ()))
    if picks[0] in edf:
        return EdfReader.read_segment(layout["edf_header"], [edf[p] for p in picks], start, stop)
    return None


def _gdf_segment(header: Header, picks: Sequence[int], start: int, stop: int) -> np.ndarray:
    """Samples of GDF channels eegprep reads, at their own rate, in microvolts, float32, shape
    (n_picks, stop - start)."""
    records = gdf_records(header.path)
    n = header.signals[picks[0]].n_samples
    channels = [dict(header.layout).get("mne_picks", picks)[p] for p in picks]  # (the file's)
    if records is None or records.n_records * records.n_per_record[channels[0]] != n:
        raise SourceError(
            header.path, "the file changed since its header was read: read the header again"
        )
    data = read_gdf_samples(header.path, records, channels, start, stop)
    factors = np.array([header.signals[p].to_uv for p in picks], dtype=np.float64)
    return (data * factors[:, None]).astype(np.float32)


OwnRates = tuple[tuple[Signal, ...], tuple[tuple[int, int], ...], Header | None]
"""An EDF/BDF file's signals (the slower ones at their own rate), each slower one's
``(channel, signal of the EDF header)``, and that header (``None`` where every channel is
MNE's)."""


def edf_own_rates(
    path: str, raw: BaseRaw, signals: tuple[Signal, ...], labels: Sequence[str], default_unit: str
) -> OwnRates:
    """``signals`` (MNE's channels, ``labels`` as the file writes them) with each channel
    slower than MNE's rate taken from eegprep's EDF header of ``path``: its rate, length, unit
    factor, ADC step and range; the channel's kind stays MNE's. ``signals`` as they are where
    every channel runs at the fastest rate, where MNE's extras do not pair with its channels,
    or where eegprep's reader refuses the file (MNE's reading is kept)."""
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    sel, n_samps = (np.asarray(extras.get(key, ()), dtype=np.int64) for key in ("sel", "n_samps"))
    if sel.shape != (len(signals),) or not sel.size or sel.max(initial=0) >= n_samps.size:
        return signals, (), None
    slower = [i for i, j in enumerate(sel.tolist()) if 0 < n_samps[j] < n_samps[sel].max()]
    if not slower:
        return signals, (), None
    try:
        header = EdfReader.read_header(path, default_unit=default_unit)
    except EegprepError:
        return signals, (), None
    data = _data_signals(raw, n_samps)
    pairs = [(i, data.index(int(sel[i]))) for i in slower if int(sel[i]) in data]
    if len(pairs) != len(slower) or len(data) != len(header.signals):
        return signals, (), None
    if any(header.signals[k].label != labels[i] for i, k in pairs):
        return signals, (), None
    out = list(signals)
    for i, k in pairs:
        own = header.signals[k]
        out[i] = dataclasses.replace(
            signals[i], sfreq=own.sfreq, n_samples=own.n_samples, to_uv=own.to_uv,
            resolution=own.resolution, range_uv=own.range_uv,
        )  # fmt: skip
    return tuple(out), tuple(pairs), header


def _data_signals(raw: BaseRaw, n_samps: np.ndarray) -> list[int]:
    """The file places of the data signals, as eegprep's EDF header lists them: neither an
    annotation signal (MNE's ``tal_idx``: ``EDF Annotations``, ``BDF Annotations``) nor one of
    0 samples per record."""
    tal = {int(j) for j in np.atleast_1d(raw._raw_extras[0].get("tal_idx", ()))}
    return [j for j in range(n_samps.size) if n_samps[j] > 0 and j not in tal]
