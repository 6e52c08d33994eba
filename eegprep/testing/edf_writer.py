"""A small, exact writer of EDF (16-bit), EDF+ and BDF (24-bit) files, in numpy only.

Why not pyedflib: tests and demo corpora need byte-level control, to reproduce real headers
(TUH writes ``1.000000`` as the record duration and ``EDF`` in the reserved field) and to build
broken files on purpose. :func:`edf_header_bytes` builds a header alone; :func:`field_span`
says where each field lies in it, so a test can overwrite exactly one field.

Layout (Kemp et al. 1992; EDF+ Kemp & Olivan 2003; BDF = BioSemi's 24-bit variant): a 256-byte
main header, then 256 bytes per signal written field by field (all labels, then all
transducers, ...), then ``n_records`` data records, each holding ``samples_per_record[i]``
little-endian two's-complement samples of every signal ``i`` in turn.

Concurrency contract: :func:`write_edf` writes under a temporary name in the target folder and
renames it into place, so a reader never sees a half-written file; it touches nothing else.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np

from eegprep.base.files import replaced_atomically
from eegprep.base.validation import check_choice
from eegprep.base.wording import counted

__all__ = [
    "DEFAULT_START",
    "MAIN_FIELDS",
    "SIGNAL_FIELDS",
    "edf_date",
    "edf_header_bytes",
    "field_span",
    "format_number",
    "write_edf",
]

MAIN_FIELDS: tuple[tuple[str, int], ...] = (
    ("version", 8),
    ("patient", 80),
    ("recording", 80),
    ("startdate", 8),
    ("starttime", 8),
    ("header_bytes", 8),
    ("reserved", 44),
    ("n_records", 8),
    ("record_duration", 8),
    ("n_signals", 4),
)
"""The 256-byte main header: (field, width in bytes), in file order."""

SIGNAL_FIELDS: tuple[tuple[str, int], ...] = (
    ("label", 16),
    ("transducer", 80),
    ("physical_dim", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefilter", 80),
    ("samples_per_record", 8),
    ("reserved", 32),
)
"""The per-signal header: (field, width in bytes); each field is stored for all signals in turn."""

DEFAULT_START = datetime(2000, 1, 1, 0, 0, 0)
"""Start used when none is given: fixed, so that files are reproducible byte for byte."""

ANNOTATION_LABEL = "EDF Annotations"

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DIGITAL_RANGE = {False: (-32768, 32767), True: (-8388608, 8388607)}  # keyed by `bdf`

Number = float | int | str
PerChannel = Number | Sequence[Number | None] | None


def field_span(name: str, *, n_signals: int, channel: int | None = None) -> slice:
    """Byte range of one header field, for tests that overwrite it.

    Parameters
    ----------
    name : str
        A name from :data:`MAIN_FIELDS` or (with ``channel``) :data:`SIGNAL_FIELDS`.
    n_signals : int
        Number of signals in the header (annotation signal included).
    channel : int, optional
        Signal index, for per-signal fields.

    Returns
    -------
    slice
        ``header[span]`` is the field's bytes.
    """
    fields, base = (MAIN_FIELDS, 0) if channel is None else (SIGNAL_FIELDS, 256)
    offset = 0
    for field, width in fields:
        if field == name:
            if channel is None:
                return slice(offset, offset + width)
            if not 0 <= channel < n_signals:
                raise ValueError(
                    f"channel {channel} out of range for {counted(n_signals, 'signal')}"
                )
            start = base + offset * n_signals + channel * width
            return slice(start, start + width)
        offset += width
    names = ", ".join(repr(f) for f, _ in fields)
    raise ValueError(f"Invalid header field {name!r}: allowed {names}.")


def format_number(value: float, width: int = 8, *, mode: str = "nearest") -> str:
    """Shortest decimal text of ``value`` that fits ``width`` characters.

    Parameters
    ----------
    value : float
        The number.
    width : int
        Field width in characters.
    mode : {'nearest', 'floor', 'ceil'}
        How to round when the value needs more digits than fit: ``floor``/``ceil`` guarantee
        that the written number is <= / >= ``value`` (used for physical minimum / maximum).

    Raises
    ------
    ValueError
        If even the integer part does not fit, or the value is not finite.
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} in an EDF header field")
    rounders: dict[str, Callable[[float], int]] = {
        "nearest": round,
        "floor": math.floor,
        "ceil": math.ceil,
    }
    check_choice("mode", mode, rounders)
    rounder = rounders[mode]
    for decimals in range(width, -1, -1):
        scale = 10**decimals
        scaled = rounder(value * scale)
        text = _plain(scaled, decimals)
        if len(text) <= width:
            return text
    raise ValueError(f"{value!r} does not fit a {width}-character EDF header field")


def _plain(scaled: int, decimals: int) -> str:
    """``scaled / 10**decimals`` as plain decimal text, without trailing zeros or '-0'."""
    sign = "-" if scaled < 0 else ""
    digits = str(abs(int(scaled))).rjust(decimals + 1, "0")
    whole, frac = digits[: len(digits) - decimals], digits[len(digits) - decimals :]
    frac = frac.rstrip("0")
    text = f"{whole}.{frac}" if frac else whole
    return "0" if text == "0" else sign + text


def _field(value: Number, width: int, name: str, *, numeric: bool = False) -> bytes:
    """One header field: printable ASCII, left-aligned, space-padded or truncated to ``width``."""
    text = value if isinstance(value, str) else format_number(float(value), width)
    if numeric and len(text) > width:
        raise ValueError(
            f"header field {name!r}: {text!r} is longer than {counted(width, 'character')}"
        )
    bad = [c for c in text if not 32 <= ord(c) <= 126]
    if bad:
        raise ValueError(
            f"header field {name!r} must be printable ASCII; got {text!r} (bad: {bad[0]!r}). "
            "Transliterate it first."
        )
    return text[:width].ljust(width).encode("ascii")


def edf_header_bytes(
    *,
    labels: Sequence[str],
    samples_per_record: Sequence[int],
    n_records: int,
    physical_min: Sequence[Number],
    physical_max: Sequence[Number],
    digital_min: Sequence[int],
    digital_max: Sequence[int],
    physical_dims: Sequence[str] | str = "uV",
    transducer: Sequence[str] | str = "",
    prefilter: Sequence[str] | str = "",
    record_duration: Number = 1.0,
    patient: str = "",
    recording: str = "",
    start: datetime = DEFAULT_START,
    bdf: bool = False,
    reserved: str | None = None,
) -> bytes:
    """The complete header of an EDF/BDF file, ``256 * (n_signals + 1)`` bytes.

    Parameters
    ----------
    labels : sequence of str, length n_signals
        Signal labels (16 characters each; longer ones are truncated).
    samples_per_record : sequence of int, length n_signals
        Samples of each signal in one data record.
    n_records : int
        Number of data records (``-1`` is allowed: "unknown", as while recording).
    physical_min, physical_max : sequence of float or str, length n_signals
        Physical range of each signal; a ``str`` is written verbatim (byte-level control).
    digital_min, digital_max : sequence of int, length n_signals
        Digital range of each signal.
    physical_dims, transducer, prefilter : str or sequence of str
        Per-signal text fields; one ``str`` is used for every signal.
    record_duration : float or str
        Duration of one data record in seconds; a float is written as TUH does (``1.000000``).
    patient, recording : str
        The 80-character identification fields.
    start : datetime
        Start of the recording (written as ``dd.mm.yy`` and ``hh.mm.ss``).
    bdf : bool
        BioSemi 24-bit header (version ``\\xffBIOSEMI``, reserved ``24BIT``).
    reserved : str, optional
        The 44-character reserved field; default ``''`` (EDF) or ``'24BIT'`` (BDF). EDF+ files
        use ``'EDF+C'``.

    Returns
    -------
    bytes
        The header.
    """
    n = len(labels)
    per_signal = {
        "label": labels,
        "transducer": _per_signal(transducer, n),
        "physical_dim": _per_signal(physical_dims, n),
        "physical_min": physical_min,
        "physical_max": physical_max,
        "digital_min": digital_min,
        "digital_max": digital_max,
        "prefilter": _per_signal(prefilter, n),
        "samples_per_record": samples_per_record,
        "reserved": [""] * n,
    }
    for name, values in per_signal.items():
        if len(values) != n:
            raise ValueError(
                f"{name}: expected {counted(n, 'value')} (one per label), got {len(values)}"
            )
    if reserved is None:
        reserved = "24BIT" if bdf else ""
    if isinstance(record_duration, float | int):
        record_duration = _duration_text(float(record_duration))
    main = {
        "version": "0",
        "patient": patient,
        "recording": recording,
        "startdate": start.strftime("%d.%m.%y"),
        "starttime": start.strftime("%H.%M.%S"),
        "header_bytes": str(256 * (n + 1)),
        "reserved": reserved,
        "n_records": str(int(n_records)),
        "record_duration": record_duration,
        "n_signals": str(n),
    }
    numeric = {"header_bytes", "n_records", "record_duration", "n_signals"}
    out = [_field(main[name], width, name, numeric=name in numeric) for name, width in MAIN_FIELDS]
    if bdf:
        out[0] = b"\xffBIOSEMI"
    numeric_sig = {"physical_min", "physical_max", "digital_min", "digital_max"}
    for name, width in SIGNAL_FIELDS:
        is_num = name in numeric_sig or name == "samples_per_record"
        out.extend(_field(v, width, name, numeric=is_num) for v in per_signal[name])
    header = b"".join(out)
    assert len(header) == 256 * (n + 1)
    return header


def _per_signal(value: Sequence[str] | str, n: int) -> Sequence[str]:
    return [value] * n if isinstance(value, str) else value


def _duration_text(seconds: float) -> str:
    """Record duration as TUH and NEDC tools write it: as many decimals as fit 8 characters."""
    if seconds <= 0:
        raise ValueError(f"record_duration must be > 0 s, got {seconds!r}")
    whole = len(str(int(seconds)))
    text = f"{seconds:.{max(0, 8 - whole - 1)}f}"
    if float(text) != seconds:
        return format_number(seconds)
    return text


def write_edf(
    path: str | os.PathLike[str],
    signals: Sequence[np.ndarray],
    *,
    labels: Sequence[str],
    sfreqs: Sequence[float] | float,
    physical_dims: Sequence[str] | str = "uV",
    physical_min: PerChannel = None,
    physical_max: PerChannel = None,
    digital_min: int | Sequence[int] | None = None,
    digital_max: int | Sequence[int] | None = None,
    record_duration: float = 1.0,
    patient: str = "",
    recording: str = "",
    start: datetime = DEFAULT_START,
    transducer: Sequence[str] | str = "",
    prefilter: Sequence[str] | str = "",
    bdf: bool = False,
    edf_plus: bool = False,
    annotations: Sequence[tuple[float, float | None, str]] = (),
    reserved: str | None = None,
    first_onset: float = 0.0,
    record_onsets: Sequence[float] | None = None,
) -> Path:
    """Write signals in physical units to an EDF, EDF+ or BDF file.

    Parameters
    ----------
    path : path-like
        Output file; its folder must exist. Written atomically (temporary name, then rename).
    signals : sequence of ndarray, each shape (n_times_i,)
        One 1-D array per channel in physical units (``physical_dims``), each at its own rate.
    labels : sequence of str
        Channel labels, one per signal.
    sfreqs : float or sequence of float
        Sampling rate of each signal in Hz. ``sfreq * record_duration`` must be an integer.
    physical_dims : str or sequence of str
        Physical unit of each signal (``'uV'``).
    physical_min, physical_max : float, sequence of (float or None), or None
        Physical range per channel. ``None`` (or a ``None`` entry): the signal's own min/max,
        rounded outwards to what the 8-character field holds; a flat signal gets ``value -+ 1``.
        Values outside the range are clipped to the digital extremes (saturation).
    digital_min, digital_max : int or sequence of int, optional
        Digital range; default the format's full range (16-bit EDF, 24-bit BDF).
    record_duration : float
        Seconds per data record.
    patient, recording : str
        Identification fields (80 printable ASCII characters each; longer text is truncated).
        With ``edf_plus``, empty fields become EDF+'s ``X X X X`` and
        ``Startdate dd-MMM-yyyy X X X``; a given recording field must start with the same
        ``Startdate`` as ``start`` (EDF+ readers such as pyedflib check it).
    start : datetime
        Recording start (second resolution).
    transducer, prefilter : str or sequence of str
        Per-signal text fields.
    bdf : bool
        Write 24-bit BDF instead of 16-bit EDF.
    edf_plus : bool
        Write EDF+C (BDF+C): reserved field ``EDF+C`` and an ``EDF Annotations`` signal
        (``BDF+C`` and ``BDF Annotations`` with ``bdf``).
    annotations : sequence of (onset s, duration s or None, text)
        Events written as EDF+ TALs; requires ``edf_plus``.
    reserved : str, optional
        Override of the reserved field (for example ``'EDF'``, as TUH files have).
    first_onset : float
        With ``edf_plus``: the first record's time-keeping onset, s after the header's start
        time (EDF+'s sub-second start). Every TAL onset is written this much later, as EDF+
        counts them from the header's start time; ``annotations`` count from the first sample.
    record_onsets : sequence of float, optional
        With ``edf_plus``: each record's time-keeping onset, s from the first record's (an
        ``EDF+D`` with gaps); default contiguous records.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        On inconsistent lengths, a rate that does not give whole samples per record, signals
        of different durations, non-finite samples, or annotations without ``edf_plus``.
    """
    n = len(signals)
    if len(labels) != n:
        raise ValueError(f"labels: expected {n} (one per signal), got {len(labels)}")
    if annotations and not edf_plus:
        raise ValueError("annotations need edf_plus=True (plain EDF has no annotation signal)")
    rates = [float(s) for s in _broadcast(sfreqs, n, "sfreqs")]
    spr = [
        _samples_per_record(r, record_duration, lab) for r, lab in zip(rates, labels, strict=True)
    ]
    arrays = [_as_signal(s, lab) for s, lab in zip(signals, labels, strict=True)]
    n_records = _count_records(arrays, spr, labels, record_duration)
    dmin0, dmax0 = _DIGITAL_RANGE[bdf]
    cols: dict[str, list] = {
        "labels": list(labels),
        "samples_per_record": spr,
        "digital_min": [int(v) for v in _broadcast(digital_min, n, "digital_min", dmin0)],
        "digital_max": [int(v) for v in _broadcast(digital_max, n, "digital_max", dmax0)],
        "physical_dims": _broadcast(physical_dims, n, "physical_dims"),
        "transducer": _broadcast(transducer, n, "transducer"),
        "prefilter": _broadcast(prefilter, n, "prefilter"),
    }
    _check_digital(cols["digital_min"], cols["digital_max"], bdf)
    ranges = [
        _physical_range(a, lo, hi)
        for a, lo, hi in zip(
            arrays,
            _broadcast(physical_min, n, "physical_min"),
            _broadcast(physical_max, n, "physical_max"),
            strict=True,
        )
    ]
    cols["physical_min"] = [lo for lo, _ in ranges]
    cols["physical_max"] = [hi for _, hi in ranges]
    blocks = [
        _digital_block(a, float(lo), float(hi), d0, d1, k, n_records, bdf)
        for a, (lo, hi), d0, d1, k in zip(
            arrays, ranges, cols["digital_min"], cols["digital_max"], spr, strict=True
        )
    ]
    if edf_plus:
        block, n_samples = _annotation_block(
            annotations, n_records, record_duration, bdf, first_onset, record_onsets
        )
        blocks.append(block)
        _append_annotation_column(cols, n_samples, bdf)
        reserved = ("BDF+C" if bdf else "EDF+C") if reserved is None else reserved
        patient, recording = _edf_plus_ids(patient, recording, start)
    header = edf_header_bytes(
        **cols,
        n_records=n_records,
        record_duration=record_duration,
        patient=patient,
        recording=recording,
        start=start,
        bdf=bdf,
        reserved=reserved,
    )
    data = np.concatenate(blocks, axis=1) if blocks else np.zeros((n_records, 0), np.uint8)
    return _atomic_write(Path(path), header, data.tobytes())


def _append_annotation_column(cols: dict[str, list], n_samples: int, bdf: bool) -> None:
    """Add the EDF+ annotation signal's header entries to the per-signal columns."""
    dmin, dmax = _DIGITAL_RANGE[bdf]
    extra: dict[str, object] = {
        "labels": "BDF Annotations" if bdf else ANNOTATION_LABEL,
        "samples_per_record": n_samples,
        "digital_min": dmin,
        "digital_max": dmax,
        "physical_min": "-1",
        "physical_max": "1",
    }
    for key, column in cols.items():
        column.append(extra.get(key, ""))


def _edf_plus_ids(patient: str, recording: str, start: datetime) -> tuple[str, str]:
    """EDF+ identification fields; empty ones get the spec's 'unknown' form (``X``)."""
    return patient or "X X X X", recording or f"Startdate {edf_date(start)} X X X"


def edf_date(day: date) -> str:
    """A date as EDF+ identification fields spell it: ``30-DEC-2015``."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}"


def _broadcast(value: object, n: int, name: str, default: object = None) -> list:
    """``value`` as a list of ``n`` entries: a scalar (or None -> ``default``) is repeated."""
    if value is None:
        return [default] * n
    if isinstance(value, str | int | float | np.integer | np.floating):
        return [value] * n
    values = list(value)  # type: ignore[call-overload]
    if len(values) != n:
        raise ValueError(f"{name}: expected one value or {n} (one per signal), got {len(values)}")
    return [default if v is None else v for v in values]


def _samples_per_record(sfreq: float, record_duration: float, label: str) -> int:
    if not (math.isfinite(sfreq) and sfreq > 0):
        raise ValueError(f"channel {label!r}: sampling rate must be > 0 Hz, got {sfreq!r}")
    exact = sfreq * record_duration
    k = round(exact)
    if k < 1 or abs(exact - k) > 1e-9 * max(1.0, exact):
        raise ValueError(
            f"channel {label!r}: sfreq * record_duration = {sfreq!r} Hz * {record_duration!r} s "
            f"= {exact!r} samples per record; it must be a whole number >= 1. "
            "Choose a record_duration that makes it one."
        )
    return int(k)


def _as_signal(signal: np.ndarray, label: str) -> np.ndarray:
    arr = np.asarray(signal, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"channel {label!r}: expected a 1-D signal, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"channel {label!r}: signal holds NaN or infinite values")
    return arr


def _count_records(
    arrays: Sequence[np.ndarray], spr: Sequence[int], labels: Sequence[str], duration: float
) -> int:
    """Number of whole data records, the same for every signal."""
    counts = set()
    for arr, k, label in zip(arrays, spr, labels, strict=True):
        if arr.size % k:
            raise ValueError(
                f"channel {label!r}: {counted(arr.size, 'sample')} is not a whole number of "
                f"{duration!r} s records ({counted(k, 'sample')} each); trim or pad the signal."
            )
        counts.add(arr.size // k)
    if len(counts) > 1:
        detail = ", ".join(
            f"{lab}: {a.size // k}" for a, k, lab in zip(arrays, spr, labels, strict=True)
        )
        raise ValueError(f"signals last different numbers of records ({detail})")
    return counts.pop() if counts else 0


def _check_digital(dmin: Sequence[int], dmax: Sequence[int], bdf: bool) -> None:
    lo, hi = _DIGITAL_RANGE[bdf]
    for a, b in zip(dmin, dmax, strict=True):
        if not lo <= a < b <= hi:
            kind = "24-bit BDF" if bdf else "16-bit EDF"
            raise ValueError(
                f"digital range [{a}, {b}] invalid for {kind}: need {lo} <= min < max <= {hi}"
            )


def _physical_range(arr: np.ndarray, lo: Number | None, hi: Number | None) -> tuple[str, str]:
    """Header text of a channel's physical min/max; automatic bounds enclose the signal."""
    smin = float(arr.min()) if arr.size else 0.0
    smax = float(arr.max()) if arr.size else 0.0
    if smax - smin < 1e-6 * max(1.0, abs(smin)):  # flat: pad symmetrically
        smin, smax = smin - 1.0, smax + 1.0
    lo_txt = format_number(smin, mode="floor") if lo is None else _number_text(lo)
    hi_txt = format_number(smax, mode="ceil") if hi is None else _number_text(hi)
    if float(lo_txt) >= float(hi_txt):
        raise ValueError(f"physical_min {lo_txt} must be below physical_max {hi_txt}")
    return lo_txt, hi_txt


def _number_text(value: Number) -> str:
    return value if isinstance(value, str) else format_number(float(value))


def _digital_block(
    arr: np.ndarray,
    pmin: float,
    pmax: float,
    dmin: int,
    dmax: int,
    spr: int,
    n_records: int,
    bdf: bool,
) -> np.ndarray:
    """Quantised samples as bytes, shape (n_records, spr * bytes per sample), uint8."""
    gain = (dmax - dmin) / (pmax - pmin)
    digital = np.rint((arr - pmin) * gain + dmin)
    np.clip(digital, dmin, dmax, out=digital)
    if bdf:
        raw = digital.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    else:
        raw = digital.astype("<i2").view(np.uint8).reshape(-1, 2)
    return np.ascontiguousarray(raw).reshape(n_records, -1)


def _annotation_block(
    annotations: Sequence[tuple[float, float | None, str]],
    n_records: int,
    record_duration: float,
    bdf: bool,
    first_onset: float = 0.0,
    record_onsets: Sequence[float] | None = None,
) -> tuple[np.ndarray, int]:
    """TALs of every record, shape (n_records, n_bytes) uint8, and samples per record."""
    per_record: list[list[bytes]] = [[] for _ in range(max(n_records, 1))]
    for onset, duration, text in annotations:
        k = min(max(int(onset // record_duration), 0), len(per_record) - 1)
        per_record[k].append(_tal(onset + first_onset, duration, text))
    if record_onsets is None:
        record_onsets = [i * record_duration for i in range(len(per_record))]
    chunks = [
        b"".join([_timekeeping_tal(first_onset + record_onsets[i]), *tals])
        for i, tals in enumerate(per_record)
    ][:n_records]
    width = 3 if bdf else 2
    n_bytes = max((len(c) for c in chunks), default=0) + 1  # at least one trailing NUL
    n_samples = -(-n_bytes // width)
    block = np.zeros((n_records, n_samples * width), np.uint8)
    for i, chunk in enumerate(chunks):
        block[i, : len(chunk)] = np.frombuffer(chunk, np.uint8)
    return block, n_samples


def _timekeeping_tal(onset: float) -> bytes:
    return f"{_tal_number(onset, signed=True)}\x14\x14\x00".encode("ascii")


def _tal(onset: float, duration: float | None, text: str) -> bytes:
    head = _tal_number(onset, signed=True)
    if duration is not None:
        if duration < 0:
            raise ValueError(f"annotation {text!r}: duration must be >= 0 s, got {duration!r}")
        head += "\x15" + _tal_number(duration, signed=False)
    if any(c in text for c in "\x00\x14\x15"):
        raise ValueError(f"annotation text {text!r} holds a TAL control character")
    return head.encode("ascii") + b"\x14" + text.encode("utf-8") + b"\x14\x00"


def _tal_number(value: float, *, signed: bool) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if signed and not text.startswith("-"):
        text = "+" + text
    return text


def _atomic_write(path: Path, header: bytes, data: bytes) -> Path:
    with replaced_atomically(path) as tmp, open(tmp, "wb") as f:
        f.write(header)
        f.write(data)
    return path
