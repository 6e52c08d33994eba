"""Sample values as the source says them: files written here byte by byte from each format's
specification (EDF/BDF, GDF 1 and 2) or by MNE's own writer (FIF), in the valid variants the
other reader tests leave out, read by eegprep and compared, to float32 precision, with the
values the format defines and with MNE's reading of the same file (``get_data``, volts x 1e6).

Where MNE departs from the specification the test says so and holds eegprep to the
specification alone: MNE's EDF reader takes ``nV``, ``UV``, ``mv`` and an empty unit for volts
and resamples a signal slower than the fastest to that rate (values the file does not hold),
and its GDF reader reads every channel of a file with sample types of one size (``int32``
beside ``float32``) as the first channel's type.

Variants found to agree with the definition and with MNE, kept as guards: EDF/BDF physical
minimum above maximum, digital ranges off zero (0 to 4095), physical offsets, every unit
spelling, several rates; FIF ``cal`` and ``range`` other than 1 in every buffer type.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers import Header, Reader
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache

EPS32 = float(np.finfo(np.float32).eps)
SFREQ = 100
N_RECORDS = 3


def _close(got: np.ndarray, expected: np.ndarray) -> None:
    """``got`` (float32 microvolts) equals ``expected`` to float32 precision: within two
    float32 steps of the channel's largest value."""
    assert got.shape == expected.shape
    worst = np.max(np.abs(got.astype(np.float64) - expected))
    assert worst <= 2 * EPS32 * np.max(np.abs(expected)), (worst, np.max(np.abs(expected)))


def _read_all(reader: type[Reader], path: Path, **options: Any) -> tuple[Header, list]:
    """Every channel's samples, each read on its own (channels may differ in rate)."""
    clear_cache()
    header = reader.read_header(str(path), **options)
    rows = [reader.read_segment(header, [i], 0, s.n_samples)[0]
            for i, s in enumerate(header.signals)]  # fmt: skip
    return header, rows


def _mne_uv(path: Path) -> np.ndarray:
    """MNE's reading of the whole file, every channel in microvolts (MNE's SI unit x 1e6)."""
    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw(str(path), preload=True, verbose="error")
    return raw.get_data() * 1e6


# -- EDF and BDF ---------------------------------------------------------------------------


def _field(value: object, width: int) -> bytes:
    text = value if isinstance(value, bytes) else str(value).encode("ascii")
    assert len(text) <= width
    return text.ljust(width, b" ")


def _write_edf(
    path: Path, codes: list[np.ndarray], signals: list[tuple], spr: list[int], tal_at: int = -1
) -> None:
    """An EDF (BDF for a ``.bdf`` path) of one-second records; ``signals``: each signal's
    ``(unit, physical min, physical max, digital min, digital max)`` as header text; an
    EDF+C annotation signal (``EDF Annotations``, each record's time stamp) before signal
    ``tal_at`` where it is 0 or more."""
    bdf, labels = path.suffix == ".bdf", [f"C{i}" for i in range(len(signals))]
    signals, spr, codes = list(signals), list(spr), list(codes)
    if tal_at >= 0:
        labels.insert(tal_at, "BDF Annotations" if bdf else "EDF Annotations")
        signals.insert(tal_at, ("", "-1", "1", "-32768", "32767"))
        spr.insert(tal_at, 16)
        codes.insert(tal_at, None)
    ns, width = len(signals), 3 if bdf else 2
    head = (b"\xffBIOSEMI" if bdf else _field(0, 8)) + _field("X X X X", 80)
    head += _field("Startdate 01-FEB-2003 X X X", 80) + b"01.02.0304.05.06"
    head += _field(256 * (ns + 1), 8) + _field(("BDF+C" if bdf else "EDF+C") * (tal_at >= 0), 44)
    head += _field(N_RECORDS, 8) + _field(1, 8) + _field(ns, 4)
    columns = [labels, [""] * ns, *zip(*signals, strict=True)]
    for column, w in zip(columns, (16, 80, 8, 8, 8, 8, 8), strict=True):
        head += b"".join(_field(v, w) for v in column)
    head += b"".join(_field(v, w) for w, vs in ((80, [""] * ns), (8, spr), (32, [""] * ns))
                     for v in vs)  # fmt: skip
    body = b""
    for r in range(N_RECORDS):
        for c, n in zip(codes, spr, strict=True):
            if c is None:  # the record's time-keeping annotation
                body += f"+{r}\x14\x14\x00".encode().ljust(n * width, b"\x00")
                continue
            piece = c[r * n : (r + 1) * n].astype("<i4")
            body += piece.view(np.uint8).reshape(-1, 4)[:, :3].tobytes() if bdf else (
                piece.astype("<i2").tobytes()
            )  # fmt: skip
    path.write_bytes(head + body)


_UV = {"uV": 1.0, b"\xb5V": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3, "": 1.0, "mv": 1e3, "UV": 1.0}
"""Each unit's microvolts (an empty one in the default unit, microvolts)."""
_MNE_MISREADS = {"nV", "", "mv", "UV"}
"""Units MNE's EDF reader takes for volts."""

EDF_CASES = {
    # name: (suffix, [(unit, pmin, pmax, dmin, dmax), ...], samples per record)
    "physical min above max": (".edf", [("uV", "500", "-500", "-32768", "32767"),
                                        ("mV", "0.2", "-0.2", "-2048", "2047")], [SFREQ] * 2),
    "digital range not about zero": (".edf", [("uV", "-100", "100", "0", "4095"),
                                              ("uV", "-1", "1", "30000", "32767")], [SFREQ] * 2),
    "physical offset": (".edf", [("uV", "0", "1000", "-32768", "32767"),
                                 ("mV", "1", "3", "-32768", "32767")], [SFREQ] * 2),
    "every unit spelling": (".edf", [(u, "-1", "1", "-32768", "32767") for u in _UV], [SFREQ] * 8),
    "rates 2:1:4 per record": (".edf", [("uV", "-500", "500", "-32768", "32767")] * 3,
                               [SFREQ, SFREQ // 2, SFREQ * 2]),
    "bdf inverted and offset": (".bdf", [("uV", "500", "-500", "-8388608", "8388607"),
                                         ("mV", "0", "100", "-8388608", "8388607")], [SFREQ] * 2),
    "bdf rates 2:1:4 per record": (".bdf", [("uV", "-500", "500", "-8388608", "8388607")] * 3,
                                   [SFREQ, SFREQ // 2, SFREQ * 2]),
    "bdf codes far from zero": (".bdf", [("uV", "-1", "1", "8000000", "8388607"),
                                         ("uV", "-100", "100", "-8388608", "-8000000")],
                                [SFREQ] * 2),
}  # fmt: skip


def _edf_case(
    tmp_path: Path, case: str, tal_at: int = -1
) -> tuple[Path, list[np.ndarray], list[float]]:
    """The case's file; each signal's microvolts by the EDF definition, ``pmin + (code -
    dmin) * (pmax - pmin) / (dmax - dmin)`` in its unit; each signal's unit in microvolts."""
    suffix, signals, spr = EDF_CASES[case]
    rng = np.random.default_rng(len(case))
    codes, expected = [], []
    for (unit, *texts), n in zip(signals, spr, strict=True):
        pmin, pmax, dmin, dmax = (float(t) for t in texts)
        c = rng.integers(min(dmin, dmax), max(dmin, dmax) + 1, n * N_RECORDS)
        codes.append(c)
        expected.append((pmin + (c - dmin) * (pmax - pmin) / (dmax - dmin)) * _UV[unit])
    path = tmp_path / f"rec{suffix}"
    _write_edf(path, codes, signals, spr, tal_at)
    return path, expected, [_UV[s[0]] for s in signals]


@pytest.mark.parametrize("case", sorted(EDF_CASES))
def test_edf_values_are_the_format_s_and_mne_s(tmp_path: Path, case: str) -> None:
    """Each signal as the EDF definition gives it, at its own rate, by eegprep's reader; and
    by MNE's where the signals share a rate (MNE resamples the others)."""
    path, expected, _ = _edf_case(tmp_path, case)
    _, spr = EDF_CASES[case][1:]
    header, rows = _read_all(EdfReader, path)
    assert [s.label for s in header.signals] == [f"C{i}" for i in range(len(expected))]
    assert [s.sfreq for s in header.signals] == [float(n) for n in spr]
    assert [s.n_samples for s in header.signals] == [len(e) for e in expected]
    for got, want in zip(rows, expected, strict=True):
        _close(got, want)
    header, rows = _read_all(MneReader, path, infer_types=False)  # (through MNE)
    assert [s.sfreq for s in header.signals] == [float(n) for n in spr]
    for got, want in zip(rows, expected, strict=True):
        _close(got, want)
    if len(set(spr)) == 1:
        units = [s[0] for s in EDF_CASES[case][1]]
        for by_mne, want, unit in zip(_mne_uv(path), expected, units, strict=True):
            if unit not in _MNE_MISREADS:
                _close(by_mne.astype(np.float32), want)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
@pytest.mark.parametrize("tal_at", [-1, 0, 2])
@pytest.mark.parametrize(
    "options",
    [{"infer_types": True}, {"exclude": ["C0"]}, {"include": ["C2", "C1"]},
     {"exclude": ["C0", "C2"]}],
)  # fmt: skip
def test_mixed_rates_read_through_mne_keep_each_signal_s_own_rate(
    tmp_path: Path, suffix: str, tal_at: int, options: dict[str, Any]
) -> None:
    """An EDF/BDF given MNE reader options: MNE resamples every signal slower than the
    fastest it keeps to that rate by FFT, values the file does not hold (before: read as
    MNE gave them, at its rate); each is read at its own rate, with its own codes, wherever
    the annotation signal lies and whichever signals MNE keeps."""
    case = "rates 2:1:4 per record" if suffix == ".edf" else "bdf rates 2:1:4 per record"
    path, expected, _ = _edf_case(tmp_path, case, tal_at)
    spr = EDF_CASES[case][2]
    header, rows = _read_all(MneReader, path, **options)
    for signal, got in zip(header.signals, rows, strict=True):
        i = int(signal.label[1:])
        assert (signal.sfreq, signal.n_samples) == (float(spr[i]), spr[i] * N_RECORDS)
        _close(got, expected[i])


# -- GDF -----------------------------------------------------------------------------------

_GDF_TYPES = {1: "<i1", 2: "<u1", 3: "<i2", 4: "<u2", 5: "<i4", 6: "<u4", 7: "<i8", 8: "<u8",
              16: "<f4", 17: "<f8"}  # fmt: skip
_MICROVOLTS_CODE = 4256 + 19  # GDF 2's PhysDimCode of uV


def _write_gdf(
    path: Path, version: str, channels: list[np.ndarray], types: list[int], ranges: list[tuple]
) -> None:
    """A GDF file of one-second records, channel ``i`` of sample type ``types[i]`` (GDF's
    code), ``channels[i]`` shape (records, its samples per record), ``ranges[i]`` its (physical
    min, physical max, digital min, digital max) in uV; an empty event table (mode 1)."""
    ns, n_records, gdf2 = len(channels), len(channels[0]), version >= "GDF 1.9"
    head = bytearray(256)
    head[:8] = version.encode()
    struct.pack_into("<H" if gdf2 else "<q", head, 184, ns + 1 if gdf2 else 256 * (ns + 1))
    struct.pack_into("<q", head, 236, n_records)
    struct.pack_into("<II", head, 244, 1, 1)
    struct.pack_into("<H" if gdf2 else "<I", head, 252, ns)
    pmin, pmax, dmin, dmax = (list(column) for column in zip(*ranges, strict=True))
    fields = b"".join(f"ch{i}".encode().ljust(16, b"\0") for i in range(ns)) + bytes(80 * ns)
    if gdf2:
        fields += bytes(6 * ns) + struct.pack(f"<{ns}H", *[_MICROVOLTS_CODE] * ns)
        fields += struct.pack(f"<{4 * ns}d", *pmin, *pmax, *dmin, *dmax) + bytes(80 * ns)
    else:
        fields += b"uV".ljust(8, b"\0") * ns + struct.pack(f"<{2 * ns}d", *pmin, *pmax)
        fields += struct.pack(f"<{2 * ns}q", *map(int, dmin), *map(int, dmax)) + bytes(80 * ns)
    fields += struct.pack(f"<{ns}i", *[c.shape[1] for c in channels])
    fields += struct.pack(f"<{ns}i", *types) + bytes(32 * ns)
    pairs = list(zip(channels, types, strict=True))
    body = b"".join(
        c[r].astype(_GDF_TYPES[t]).tobytes() for r in range(n_records) for c, t in pairs
    )
    path.write_bytes(bytes(head) + fields + body + b"\x01" + bytes(7))


GDF_MIXED = {
    # name: [(sample type, samples per record, (pmin, pmax, dmin, dmax)), ...]
    "int32 float32 uint32": [(5, 8, (-500, 500, -(2**31), 2**31 - 1)), (16, 8, (-1, 1, -1, 1)),
                             (6, 8, (0, 10, 0, 2**32 - 1))],
    "float32 int32": [(16, 8, (-100, 100, -1, 1)), (5, 8, (-500, 500, -(2**31), 2**31 - 1))],
    "int16 uint16": [(3, 8, (-500, 500, -32768, 32767)), (4, 8, (-1, 1, 0, 65535))],
    "int8 uint8": [(1, 8, (-500, 500, -128, 127)), (2, 8, (-1, 1, 0, 255))],
    "int64 float64 uint64": [(7, 8, (-500, 500, -(2**40), 2**40)), (17, 8, (-1, 1, -1, 1)),
                             (8, 8, (0, 10, 0, 2**40))],
    "int32 float32, a slower float32": [(5, 8, (-500, 500, -(2**31), 2**31 - 1)),
                                        (16, 8, (-1, 1, -1, 1)), (16, 4, (-1, 1, -1, 1))],
}  # fmt: skip


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("case", sorted(GDF_MIXED))
def test_gdf_channels_of_other_sample_types_of_one_size(
    tmp_path: Path, case: str, version: str
) -> None:
    """Each channel's codes in its own sample type, scaled by its own ranges. MNE reads a file
    whose channels store types of one size as if all were the first channel's type (a float32
    channel's bits beside int32 ones as integers, 10^8 times too large; a uint16's codes above
    32767 as negative): eegprep reads such a file itself, each channel by its type, with no
    ADC step for a float channel (none to quantize at)."""
    rng = np.random.default_rng(sum(map(ord, case)))
    channels, expected = [], []
    for code, n, (pmin, pmax, dmin, dmax) in GDF_MIXED[case]:
        low, high = sorted((dmin, dmax))
        c = rng.integers(max(low, -(10**9)), min(high, 10**9) + 1, size=(N_RECORDS, n))
        c = c + rng.uniform(-0.5, 0.5, c.shape) if code >= 16 else c
        stored = c.astype(_GDF_TYPES[code]).astype(np.float64).ravel()
        channels.append(c)
        expected.append(pmin + (stored - dmin) * (pmax - pmin) / (dmax - dmin))
    path = tmp_path / "rec.gdf"
    spec = GDF_MIXED[case]
    _write_gdf(path, version, channels, [t for t, _, _ in spec], [r for _, _, r in spec])
    header, rows = _read_all(MneReader, path)
    assert [s.label for s in header.signals] == [f"ch{i}" for i in range(len(spec))]
    assert [s.sfreq for s in header.signals] == [float(n) for _, n, _ in spec]
    for got, want, signal, (code, _, _) in zip(rows, expected, header.signals, spec, strict=True):
        _close(got, want)
        assert (signal.resolution == 0.0) == (code >= 16)


# -- FIF and BrainVision: read through MNE, its values kept -------------------------------


@pytest.mark.parametrize("fmt", ["single", "double", "short", "int"])
def test_fif_non_unit_calibrations_are_mne_s_values(tmp_path: Path, fmt: str) -> None:
    """Per-channel ``cal`` and ``range`` other than 1 in every buffer type: eegprep's
    microvolts are MNE's volts x 1e6, for EEG, EOG and ECG channels alike."""
    import mne

    info = mne.create_info(["Fp1", "Cz", "EOG1", "ECG"], 250.0, ["eeg", "eeg", "eog", "ecg"])
    for ch, cal, rng in zip(info["chs"], [1e-7, 2e-7, 5e-8, 1e-6], [1.0, 0.5, 4.0, 2.0],
                            strict=True):  # fmt: skip
        ch["cal"], ch["range"] = cal, rng
    data = np.random.default_rng(5).normal(0, 50e-6, (4, 500))
    path = tmp_path / "rec_raw.fif"
    mne.io.RawArray(data, info, verbose="error").save(path, fmt=fmt, verbose="error")
    header, rows = _read_all(MneReader, path)
    assert [s.label for s in header.signals] == ["Fp1", "Cz", "EOG1", "ECG"]
    assert header.signals[0].sfreq == 250.0 and header.signals[0].n_samples == 500
    for got, want in zip(rows, _mne_uv(path), strict=True):
        _close(got, want)
