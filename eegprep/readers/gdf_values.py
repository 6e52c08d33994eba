"""What MNE's GDF reader misreads, read again from the header by the format's definition:
each channel's physical unit and the event table's own rate.

MNE scales a GDF channel only when its unit is ``uV`` (GDF 1's text) or PhysDimCode 4275 or
4274 (uV, mV; GDF 2), and takes every other unit for volts: a GDF 1 channel in mV was read
1000 times too large, one in nV 10^9 times. It divides the event table's positions by the
samples' rate, though the table states its own (GDF 1 and GDF 2 before 1.94: 3 bytes, a whole
number of Hz, after the mode byte; later: float32 after a 3-byte count): events at 1000 Hz
beside samples at 100 Hz fell 10 times late, or past the end. :func:`gdf_scaled` and
:func:`gdf_annotations` correct the header MNE gave (:mod:`eegprep.readers.mne_formats`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted, noun
from eegprep.readers.base import DEFAULT_UNIT, Annotation, Signal, unit_or_default, unit_to_uv
from eegprep.readers.gdf_count import counted_fixed
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES
from eegprep.readers.gdf_records import GdfRecords, gdf_records
from eegprep.readers.mne_units import rescaled
from eegprep.readers.read_once import once

if TYPE_CHECKING:
    from mne.io import BaseRaw


_VOLT = 4256  # GDF 2's PhysDimCode of volts; its low 5 bits are a decimal prefix
_PREFIXES = {0: ("", 1.0), 1: ("da", 1e1), 2: ("h", 1e2), 3: ("k", 1e3), 4: ("M", 1e6),
             5: ("G", 1e9), 6: ("T", 1e12), 16: ("d", 1e-1), 17: ("c", 1e-2), 18: ("m", 1e-3),
             19: ("u", 1e-6), 20: ("n", 1e-9), 21: ("p", 1e-12)}  # fmt: skip


@dataclass(frozen=True)
class GdfUnit:
    """A channel's physical dimension as its GDF header states it.

    ``text``: the unit as written (GDF 1's 8-byte field, or GDF 2's PhysDimCode spelled out,
    ``"mV"``); ``volts``: volts per physical unit (1e-3 for mV), ``None`` where the unit is no
    voltage or not understood."""

    text: str
    volts: float | None


@once
def gdf_units(path: str) -> list[GdfUnit]:
    """Each channel's physical dimension, in file order: GDF 1.x's text field (8 bytes per
    channel from byte ``256 + 96 * ns``), GDF 2.x's PhysDimCode (uint16 from ``256 + 102 * ns``,
    volts 4256 plus a prefix code: 18 milli, 19 micro, 20 nano, ...).

    MNE scales only ``uV`` (GDF 1) and codes 4275 and 4274 (uV, mV; GDF 2) and takes every other
    unit for volts: a channel in mV (GDF 1) or nV was read 10^3 or 10^9 times too large."""
    with open_regular(path, buffering=-1) as fh:
        fixed = counted_fixed(path)  # (a count of -1 told)
        if fixed is None:
            return []
        ns = fixed.n_channels
        if fixed.version < 1.9:
            fh.seek(256 + 96 * ns)
            raw = fh.read(8 * ns)
            return [_text_unit(raw[8 * i : 8 * i + 8]) for i in range(len(raw) // 8)]
        fh.seek(256 + 102 * ns)
        codes = np.frombuffer(fh.read(2 * ns), dtype="<u2").tolist()
    return [_code_unit(code) for code in codes]


def _text_unit(raw: bytes) -> GdfUnit:
    """GDF 1's unit text (UTF-8, else Latin-1, where 0xB5 is the micro sign)."""
    raw = raw.split(b"\0")[0]
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = raw.decode("latin-1").strip()
    factor = unit_to_uv(text)
    return GdfUnit(text, None if factor is None else factor * 1e-6)


def _code_unit(code: int) -> GdfUnit:
    """GDF 2's PhysDimCode: a voltage with a decimal prefix, or something else (``None``),
    named by its code (``"PhysDimCode 6048"``, degrees Celsius) so that the ingest's warning
    can name it; code 0 states no unit (``""``)."""
    prefix = _PREFIXES.get(code & 0x1F)
    if code & 0xFFE0 != _VOLT or prefix is None:
        return GdfUnit(f"PhysDimCode {code}" if code else "", None)
    return GdfUnit(f"{prefix[0]}V", prefix[1])


@dataclass(frozen=True)
class GdfEvents:
    """A GDF event table as written: positions and durations in samples of the table's own
    rate.

    Attributes
    ----------
    rate : float
        The table's sampling rate in Hz (GDF 1 and GDF 2 before 1.94: 3 bytes, a whole number;
        later: float32); 0 when the file does not state one.
    onsets : np.ndarray, shape (n_events,), int64
        Each event's first sample at ``rate``, 0-based (the file counts from 1).
    codes : np.ndarray, shape (n_events,), int64
        Each event's type code.
    durations : np.ndarray, shape (n_events,), int64
        Each event's length in samples at ``rate`` as the table states it (mode 3), 0 for a
        table without durations (mode 1).
    channels : np.ndarray, shape (n_events,), int64
        Each event's channel (mode 3's CHN), counted from 1; 0 for every channel, and for a
        table without channels (mode 1).
    labels : tuple of str
        The header's channel labels, in file order (for ``channels``).
    """

    rate: float
    onsets: np.ndarray
    codes: np.ndarray
    durations: np.ndarray
    channels: np.ndarray
    labels: tuple[str, ...] = ()

    def channel(self, i: int) -> str:
        """Event ``i``'s channel as the header labels it; ``""`` for every channel (or a
        number no channel has, as MNE reads the table: it drops the field)."""
        k = int(self.channels[i])
        return self.labels[k - 1] if 0 < k <= len(self.labels) else ""


@once
def gdf_events(path: str) -> GdfEvents | None:
    """The event table after the records (a file :func:`check_gdf` passed); ``None`` when there
    is none, or it is of a mode MNE does not read."""
    with open_regular(path, buffering=-1) as fh:
        fixed = counted_fixed(path)  # (a count of -1 told)
        if fixed is None:
            return None
        ns = fixed.n_channels
        fh.seek(256)
        names = fh.read(16 * ns)
        fh.seek(256 + 216 * ns)
        fields = np.frombuffer(fh.read(8 * ns), dtype="<i4").astype(np.int64)
        widths = [GDF_TYPE_BYTES.get(int(code), 0) for code in fields[ns:]]
        fh.seek(fixed.header_bytes + fixed.n_records * int(np.dot(fields[:ns], widths)))
        table = fh.read(8)
        if len(table) < 8 or table[0] not in (1, 3):
            return None
        if fixed.version < 1.94:
            rate = float(int.from_bytes(table[1:4], "little"))
            n = int.from_bytes(table[4:8], "little")
        else:
            n = int.from_bytes(table[1:4], "little")
            rate = float(np.frombuffer(table[4:8], dtype="<f4")[0])
        body = fh.read(n * (12 if table[0] == 3 else 6))
    onsets = np.frombuffer(body, "<u4", n).astype(np.int64) - 1
    codes = np.frombuffer(body, "<u2", n, 4 * n).astype(np.int64)
    durations, channels = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if table[0] == 3:
        channels = np.frombuffer(body, "<u2", n, 6 * n).astype(np.int64)
        durations = np.frombuffer(body, "<u4", n, 8 * n).astype(np.int64)
    labels = tuple(names[16 * i : 16 * i + 16].decode("latin-1").strip("\x00 ") for i in range(ns))
    rate = rate if np.isfinite(rate) and rate > 0 else 0.0
    return GdfEvents(rate, onsets, codes, durations, channels, labels)


def gdf_scaled(
    path: str, raw: BaseRaw, signals: tuple[Signal, ...], default_unit: str = DEFAULT_UNIT
) -> tuple[Signal, ...]:
    """GDF voltage channels scaled by the unit their header states
    (:func:`gdf_units`), where MNE scaled them by another (it
    knows uV, and mV in GDF 2 only, and reads every other unit as volts): ``to_uv``, the ADC
    step and the stated range follow, as MNE's values in "volts" carry MNE's factor. A channel
    whose header states no unit (code 0, an empty text) or one that is no voltage (``degC``,
    ``a.u.``) is in ``default_unit`` (the manifest's), as every reader takes it
    (:func:`~eegprep.readers.base.unit_or_default`): MNE read it as volts, 10^6 times too
    large for a recording in microvolts."""
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    mne_factors = np.asarray(extras.get("units", ()), dtype=float)
    units = gdf_units(path)
    if len(units) != len(signals) or mne_factors.shape != (len(signals),):
        if any(u.volts != 1e-6 for u in units):  # MNE left channels out: none to pair
            raise SourceError(
                path,
                "its channels state units other than uV, or none, which MNE misreads (as "
                "volts), and the reader's options leave some channels out: read every channel "
                "(drop exclude/include)",
            )
        return signals
    out = []
    for signal, unit, mne_factor in zip(signals, units, mne_factors.tolist(), strict=True):
        if signal.to_uv != 1e6 or not mne_factor:
            out.append(signal)
            continue
        k = _volts(unit, default_unit) / mne_factor  # MNE's "volts" times k are volts
        out.append(rescaled(signal, k, unit.text))
    return tuple(out)


def _volts(unit: GdfUnit, default_unit: str) -> float:
    """Volts per physical unit of a channel: its stated voltage's, else ``default_unit``'s."""
    if unit.volts is not None:
        return unit.volts
    return unit_or_default("", default_unit) * 1e-6


def gdf_annotations(
    path: str, sfreq: float, n_samples: int, *, every: bool = False
) -> tuple[tuple[Annotation, ...], str | None] | None:
    """A GDF file's events timed at its event table's own rate, where that differs from the
    samples' (MNE divides their positions by the samples' rate: an event table at 1000 Hz
    beside samples at 100 Hz put every event 10 times later, or dropped it past the end), or
    where an event names its channel (MODE 3's CHN, which MNE drops; each event's channel is
    its label, ``""`` for every channel); ``None`` (MNE's events stand) where neither holds or
    the table states no rate. Events after the end of the samples are dropped, with a warning
    saying so (one at the end is kept, as MNE keeps it: it was dropped), and so are those at
    position 0, before the first sample (GDF counts from 1; MNE drops them too), in the same
    line. Each event lasts one sample of the
    recording or more, as MNE gives the same table at the samples' rate (its duration at least
    one sample; mode 1 states none): an event at another table rate lasted one sample of that
    rate (a mode-1 event at 1000 Hz beside samples at 250 Hz lasted 1 ms there, 4 ms at 250 Hz).
    ``every``: the events of a file eegprep reads without MNE (:mod:`eegprep.readers.gdf_own`),
    given whatever the rates (a table that states none at ``sfreq``)."""
    table = gdf_events(path)
    rate = (table.rate or (sfreq if every else 0.0)) if table is not None else 0.0
    if table is None or not rate:
        return None
    if rate == sfreq and not every and not table.channels.any():
        return None
    seconds = n_samples / sfreq
    onsets = table.onsets / rate
    durations = np.maximum(table.durations / rate, 1.0 / sfreq)
    late = onsets > seconds + 1e-9  # (one at the end is kept, as MNE does)
    early = table.onsets < 0  # (position 0)
    kept = np.flatnonzero(~late & ~early).tolist()
    events = tuple(
        Annotation(
            float(onsets[i]), float(durations[i]), str(int(table.codes[i])), table.channel(i)
        )
        for i in kept
    )
    said = (
        _table_dropped(seconds, rate, int(late.sum()), int(early.sum())),
        _no_channel(table, kept),
    )
    return events, "; ".join(w for w in said if w) or None


def _no_channel(table: GdfEvents, kept: list[int]) -> str | None:
    """The warning for events among ``kept`` (indices of ``table``'s) whose channel (mode 3's
    CHN) is above the file's channel count: stored for every channel (``""``), as MNE reads
    the table; None for none."""
    beyond = sorted({int(table.channels[i]) for i in kept if table.channels[i] > len(table.labels)})
    if not beyond:
        return None
    n = sum(1 for i in kept if table.channels[i] > len(table.labels))
    numbers = ", ".join(map(str, beyond[:3])) + (
        f" and {len(beyond) - 3} more" if len(beyond) > 3 else ""
    )
    return (
        f"{counted(n, 'event')} of its event table {noun(n, 'names', 'name')} "
        f"{noun(len(beyond), 'channel')} {numbers} (CHN), beyond its "
        f"{counted(len(table.labels), 'channel')}: stored for every channel (no channel "
        "named), as MNE reads them"
    )


def _table_dropped(seconds: float, rate: float, late: int, early: int) -> str | None:
    """The warning for ``late`` events of a GDF event table (at ``rate`` Hz) past the end of
    samples ``seconds`` long and ``early`` at position 0, dropped; None for none."""
    said = []
    if late:
        said.append(
            f"{counted(late, 'event')} of its event table (at {rate:g} Hz) "
            f"{noun(late, 'lies', 'lie')} outside them and {noun(late, 'was')} dropped: if they "
            "mark later parts of the recording, its samples are cut short (re-download it)"
        )
    if early:
        said.append(
            f"{counted(early, 'event')} of the file before its first sample "
            f"{noun(early, 'was')} dropped (at position 0: GDF counts positions from 1)"
        )
    return f"the file's samples span 0-{seconds:g} s; " + "; ".join(said) if said else None


def gdf_own_rates(
    path: str, raw: BaseRaw, signals: tuple[Signal, ...]
) -> tuple[tuple[Signal, ...], tuple[int, ...]]:
    """The signals of a GDF file MNE misreads, read by eegprep instead
    (:mod:`eegprep.readers.gdf_records`), and the indices of those channels; the signals as
    they are, and ``()``, when MNE reads every channel as the file stores it.

    MNE misreads two kinds: a channel slower than the fastest, which it resampled to the
    fastest rate with ringing at block edges (read here at its own rate and length), and every
    channel of a file whose channels store different sample types of one size (``int32`` beside
    ``float32``, ``int16`` beside ``uint16``), all of which it read as the first channel's type:
    a float32 channel's bits as integers (values 10^8 times too large), a uint16's codes above
    32767 as negative ones. The values read here are the file's physical values, where MNE's
    carried its unit factor: ``to_uv`` takes that factor over, and each channel's ADC step and
    range follow its own sample type (:func:`_own_steps`)."""
    records = gdf_records(path)
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    factors = np.asarray(extras.get("units", ()), dtype=float)
    if records is None or len(records.n_per_record) != len(signals) or factors.size != len(signals):
        return signals, ()
    fastest = max(records.n_per_record)
    mixed = len(set(records.types)) > 1  # (MNE read every channel as the first one's type)
    own = tuple(i for i, n in enumerate(records.n_per_record) if n < fastest or mixed)
    out = list(signals)
    for i in own:
        to_uv = signals[i].to_uv * float(factors[i])
        out[i] = dataclasses.replace(
            signals[i],
            sfreq=records.sfreq(i),
            n_samples=records.n_records * records.n_per_record[i],
            to_uv=to_uv,
            **_own_steps(records, i, signals[i], to_uv if mixed else None),
        )
    return tuple(out), own


def _own_steps(records: GdfRecords, i: int, signal: Signal, to_uv: float | None) -> dict[str, Any]:
    """Channel ``i``'s ADC step and range in uV, by its own sample type, where MNE took the
    first channel's (``to_uv`` given: a file of mixed types): none for floats, one code's
    value for integers (the range MNE gave, or none); ``{}`` keeps MNE's."""
    if to_uv is None:
        return {}
    if np.dtype(records.types[i]).kind == "f":
        return {"resolution": 0.0, "range_uv": None}
    return {"resolution": abs(records.cal[i] * to_uv), "range_uv": signal.range_uv}
