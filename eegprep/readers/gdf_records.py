"""A GDF file's records decoded by eegprep for the channels MNE would resample.

MNE reads a GDF file whose channels have different samples per record (rates) as if every
channel ran at the fastest rate: it resamples the slower ones by FFT, record block by record
block, which rings at each block's edges (a ramp 0, 100, 200, ... at 50 Hz beside a 100 Hz
channel came back as 0.5, -220, 100, 296, ..., ending at 950 for 1950). Those channels are
read here at their own rate instead, as the EDF reader reads a mixed-rate EDF file: the
physical value of each code by the channel's ranges, ``phys_min + (code - dig_min) *
(phys_max - phys_min) / (dig_max - dig_min)``.

Layout (GDF 1.x and 2.x alike, ``ns`` channels): physical minimum and maximum (float64 from
bytes ``256 + 104 * ns`` and ``256 + 112 * ns``), digital minimum and maximum (from
``256 + 120 * ns`` and ``256 + 128 * ns``: int64 in GDF 1, float64 in GDF 2), samples per
record and sample type (int32 from ``256 + 216 * ns`` and ``256 + 220 * ns``); the records
follow the header, each holding every channel's samples of that record in turn.

Concurrency contract: pure functions of the path; the file is opened for each read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import open_regular
from eegprep.readers.gdf_count import counted_fixed
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES
from eegprep.readers.mne_empty import all_nan_problem, unfilled_rows
from eegprep.readers.read_once import once

_NUMPY_TYPES = {1: "<i1", 2: "<u1", 3: "<i2", 4: "<u2", 5: "<i4", 6: "<u4", 7: "<i8",
                8: "<u8", 16: "<f4", 17: "<f8"}  # fmt: skip


@dataclass(frozen=True)
class GdfRecords:
    """Where each channel's samples lie and what a code is worth.

    Attributes
    ----------
    data_start : int
        Byte of the first record.
    n_records : int
        Records in the file (the header's count).
    duration : tuple of int
        One record's duration in seconds as the header states it: (numerator, denominator).
    n_per_record : tuple of int
        Samples per record, per channel.
    offsets : tuple of int
        Byte of each channel's samples within a record.
    record_bytes : int
        Bytes of one record.
    types : tuple of str
        Each channel's numpy sample type (little-endian).
    cal, offset : tuple of float
        Physical value of a code: ``code * cal + offset``, in the channel's unit.
    physical : tuple of (float, float)
        Each channel's physical minimum and maximum as the header states them.
    digital : tuple of (float, float)
        Each channel's digital minimum and maximum as the header states them.
    """

    data_start: int
    n_records: int
    duration: tuple[int, int]
    n_per_record: tuple[int, ...]
    offsets: tuple[int, ...]
    record_bytes: int
    types: tuple[str, ...]
    cal: tuple[float, ...]
    offset: tuple[float, ...]
    physical: tuple[tuple[float, float], ...] = ()
    digital: tuple[tuple[float, float], ...] = ()

    def sfreq(self, channel: int) -> float:
        """The channel's rate in Hz: its samples per record over a record's seconds."""
        return self.n_per_record[channel] * self.duration[1] / self.duration[0]


@once
def gdf_records(path: str) -> GdfRecords | None:
    """The record layout of a GDF file :func:`~eegprep.readers.gdf_header.check_gdf` passed;
    ``None`` when it is not GDF."""
    with open_regular(path, buffering=-1) as fh:
        fixed = counted_fixed(path)  # (a count of -1 told)
        if fixed is None or 0 in fixed.duration:
            return None
        ns = fixed.n_channels
        fh.seek(256 + 104 * ns)
        physical = np.frombuffer(fh.read(16 * ns), dtype="<f8")
        digital_type = "<i8" if fixed.version < 1.9 else "<f8"
        digital = np.frombuffer(fh.read(16 * ns), dtype=digital_type).astype(np.float64)
        fh.seek(256 + 216 * ns)
        fields = np.frombuffer(fh.read(8 * ns), dtype="<i4").astype(np.int64)
    n_per, codes = fields[:ns].tolist(), fields[ns:].tolist()
    sizes = [n * GDF_TYPE_BYTES[code] for n, code in zip(n_per, codes, strict=True)]
    pmin, pmax, dmin, dmax = physical[:ns], physical[ns:], digital[:ns], digital[ns:]
    span = np.where(dmax != dmin, dmax - dmin, 1.0)
    cal = np.where(pmax != pmin, (pmax - pmin) / span, 1.0)  # MNE's choice where unranged
    return GdfRecords(
        data_start=fixed.header_bytes,
        n_records=fixed.n_records,
        duration=fixed.duration,
        n_per_record=tuple(n_per),
        offsets=tuple(int(v) for v in np.cumsum([0, *sizes[:-1]])),
        record_bytes=int(sum(sizes)),
        types=tuple(_NUMPY_TYPES[code] for code in codes),
        cal=tuple(cal.tolist()),
        offset=tuple((pmin - dmin * cal).tolist()),
        physical=tuple(zip(pmin.tolist(), pmax.tolist(), strict=True)),
        digital=tuple(zip(dmin.tolist(), dmax.tolist(), strict=True)),
    )


@once
def gdf_labels(path: str, ns: int) -> list[str]:
    """Each channel's label (16 bytes from byte 256), as :func:`check_gdf` reads it."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(256)
        raw = fh.read(16 * ns)
    return [raw[16 * i : 16 * i + 16].decode("latin-1").strip("\x00 ") for i in range(ns)]


_CHUNK_BYTES = 1 << 22
"""Records are read about 4 MiB at a time, so memory follows the segment asked for, not the
records it spans (a slow channel's segment spans many records of the fast ones)."""


def read_gdf_samples(
    path: str, records: GdfRecords, channels: list[int], start: int, stop: int
) -> np.ndarray:
    """Samples ``[start, stop)`` (at the channels' own rate, which they share) of
    ``channels``, physical values in each channel's unit, float64, shape (len(channels),
    stop - start); each channel's codes in its own sample type."""
    n = records.n_per_record[channels[0]]
    first, last = start // n, -(-stop // n)  # the records holding the samples
    step = max(1, _CHUNK_BYTES // max(records.record_bytes, 1))
    check_allocation(
        path, min(last - first, step) * records.record_bytes + len(channels) * (stop - start) * 16,
        "reading samples",
    )  # fmt: skip
    out = np.empty((len(channels), stop - start), dtype=np.float64)
    with open_regular(path, buffering=-1) as fh:
        for at in range(first, last, step):
            upto = min(at + step, last)
            fh.seek(records.data_start + at * records.record_bytes)
            size = (upto - at) * records.record_bytes
            raw = fh.read(size)
            if len(raw) < size:
                raise SourceError(
                    path, "the file changed since its header was read (it is shorter)"
                )
            block = np.frombuffer(raw, dtype=np.uint8).reshape(upto - at, records.record_bytes)
            lo, hi = max(start, at * n), min(stop, upto * n)  # this piece's samples
            for row, c in enumerate(channels):
                width = np.dtype(records.types[c]).itemsize
                codes = block[:, records.offsets[c] : records.offsets[c] + n * width]
                values = codes.copy().view(records.types[c]).ravel()[lo - at * n : hi - at * n]
                out[row, lo - start : hi - start] = values * records.cal[c] + records.offset[c]
    return out


def gdf_nan_channels(
    path: str, records: GdfRecords, channels: Sequence[int], labels: Sequence[str]
) -> list[int]:
    """The float channels among ``channels`` NaN at every sample, ascending, as every reader
    of a format of floats finds them (:func:`~eegprep.readers.mne_empty.unfilled_rows`), read
    here in each channel's own type (MNE reads a float channel beside integer ones of its
    size as integers: its NaN unseen) and rate, each rate's channels together; integer
    channels hold no NaN. Both GDF paths (eegprep's own reader, MNE's) leave them out.

    Raises :class:`SourceError` when no channel of ``channels`` holds samples."""
    floats = [i for i in channels if np.dtype(records.types[i]).kind == "f"]
    found: list[int] = []
    for n in sorted({records.n_per_record[i] for i in floats}):
        rows = [i for i in floats if records.n_per_record[i] == n]

        def read(picked: list[int], start: int, stop: int) -> np.ndarray:
            return read_gdf_samples(path, records, picked, start, stop)

        found += unfilled_rows(read, rows, records.n_records * n)
    if found and len(found) == len(channels):
        raise SourceError(path, all_nan_problem([labels[i] for i in sorted(found)]))
    return sorted(found)
