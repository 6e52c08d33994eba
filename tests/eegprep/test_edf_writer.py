"""The EDF/BDF writer: read back by pyedflib and MNE, exact header bytes, every error path."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from eegprep.testing.edf_writer import (
    edf_date,
    edf_header_bytes,
    field_span,
    format_number,
    write_edf,
)

START = datetime(2015, 12, 30, 8, 44, 11)


def _signals(rng: np.random.Generator, seconds: int = 6) -> tuple[list[np.ndarray], list[float]]:
    rates = [256.0, 250.0, 1.0]
    sigs = [rng.normal(0, 30, int(seconds * r)) for r in rates[:2]] + [np.zeros(seconds)]
    return sigs, rates


def _step(header: dict) -> float:
    span = header["physical_max"] - header["physical_min"]
    return span / (header["digital_max"] - header["digital_min"])


@pytest.mark.parametrize("bdf", [False, True])
def test_round_trip_pyedflib_mixed_rates(tmp_path: Path, bdf: bool) -> None:
    rng = np.random.default_rng(0)
    sigs, rates = _signals(rng)
    labels = ["EEG FP1-REF", "EEG C3-REF", "IBI"]
    path = write_edf(
        tmp_path / ("x.bdf" if bdf else "x.edf"),
        sigs,
        labels=labels,
        sfreqs=rates,
        patient="aaaaaaaa M 01-JAN-1961 aaaaaaaa Age:53",
        recording="Startdate 30-DEC-2015 aaaaaaaa_s001 00 X",
        start=START,
        bdf=bdf,
    )
    with pyedflib.EdfReader(str(path)) as f:
        assert f.getSignalLabels() == labels
        assert list(f.getSampleFrequencies()) == rates
        assert f.getFileDuration() == 6
        assert f.patient.rstrip() == b"aaaaaaaa M 01-JAN-1961 aaaaaaaa Age:53"
        assert f.recording.rstrip() == b"Startdate 30-DEC-2015 aaaaaaaa_s001 00 X"
        assert f.getStartdatetime() == START
        for i, sig in enumerate(sigs):
            back = f.readSignal(i)
            assert np.max(np.abs(back - sig)) <= _step(f.getSignalHeader(i)) * 0.5 + 1e-9
        bits = 24 if bdf else 16
        assert f.getSignalHeader(0)["digital_max"] == 2 ** (bits - 1) - 1


@pytest.mark.parametrize("bdf", [False, True])
def test_edf_plus_annotations(tmp_path: Path, bdf: bool) -> None:
    rng = np.random.default_rng(1)
    sigs, rates = _signals(rng)
    notes = [(0.0, 1.0, "start"), (1.5, 2.25, "blink"), (4.0, None, "seiz é")]
    path = write_edf(
        tmp_path / "a.edf",
        sigs,
        labels=["A", "B", "C"],
        sfreqs=rates,
        start=START,
        bdf=bdf,
        edf_plus=True,
        annotations=notes,
    )
    raw = path.read_bytes()
    assert raw[field_span("reserved", n_signals=4)].rstrip() == (b"BDF+C" if bdf else b"EDF+C")
    with pyedflib.EdfReader(str(path)) as f:
        assert f.getSignalLabels() == ["A", "B", "C"]
        onsets, durations, texts = f.readAnnotations()
        assert list(onsets) == [0.0, 1.5, 4.0]
        assert list(durations) == [1.0, 2.25, -1.0]  # -1: no duration given
        assert list(texts) == ["start", "blink", "seiz é"]
        assert np.max(np.abs(f.readSignal(0) - sigs[0])) <= _step(f.getSignalHeader(0))


def test_mne_reads_values_and_annotations(tmp_path: Path) -> None:
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(2)
    sigs = [rng.normal(0, 50, 5 * 200) for _ in range(3)]
    path = write_edf(
        tmp_path / "m.edf",
        sigs,
        labels=["EEG FP1-REF", "EEG FP2-REF", "EEG CZ-REF"],
        sfreqs=200.0,
        start=START,
        edf_plus=True,
        annotations=[(2.0, 0.5, "spike")],
    )
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    assert raw.ch_names == ["EEG FP1-REF", "EEG FP2-REF", "EEG CZ-REF"]
    assert raw.info["sfreq"] == 200.0
    step_v = (np.ptp(sigs[0]) + 0.01) / 65535 * 1e-6
    np.testing.assert_allclose(raw.get_data()[0], sigs[0] * 1e-6, atol=step_v)
    assert list(raw.annotations.description) == ["spike"]
    assert raw.annotations.onset[0] == pytest.approx(2.0)
    assert raw.annotations.duration[0] == pytest.approx(0.5)


def test_header_fields_exact(tmp_path: Path) -> None:
    sig = np.linspace(-100, 100, 500)
    path = write_edf(
        tmp_path / "h.edf",
        [sig],
        labels=["EEG FP1-REF"],
        sfreqs=250,
        physical_min=-4999.84,
        physical_max=4999.84,
        digital_min=-32767,
        digital_max=32767,
        transducer="Unknown",
        patient="p" * 100,  # truncated to 80
        start=START,
        reserved="EDF",
    )
    raw = path.read_bytes()
    header = raw[:512]
    assert len(raw) == 512 + 2 * 500
    expected = {
        "version": b"0" + b" " * 7,
        "patient": b"p" * 80,
        "startdate": b"30.12.15",
        "starttime": b"08.44.11",
        "header_bytes": b"512     ",
        "reserved": b"EDF".ljust(44),
        "n_records": b"2       ",
        "record_duration": b"1.000000",
        "n_signals": b"1   ",
    }
    for name, value in expected.items():
        assert header[field_span(name, n_signals=1)] == value, name
    per_signal = {
        "label": b"EEG FP1-REF".ljust(16),
        "transducer": b"Unknown".ljust(80),
        "physical_dim": b"uV".ljust(8),
        "physical_min": b"-4999.84",
        "physical_max": b"4999.84 ",
        "digital_min": b"-32767  ",
        "digital_max": b"32767   ",
        "samples_per_record": b"250     ",
        "reserved": b" " * 32,
    }
    for name, value in per_signal.items():
        assert header[field_span(name, n_signals=1, channel=0)] == value, name


def test_header_layout_many_signals() -> None:
    n = 3
    header = edf_header_bytes(
        labels=["a", "b", "c"],
        samples_per_record=[1, 2, 3],
        n_records=7,
        physical_min=[-1, -2, "-3.5"],
        physical_max=[1, 2, 3],
        digital_min=[-10] * n,
        digital_max=[10] * n,
    )
    assert len(header) == 256 * (n + 1)
    assert header[field_span("samples_per_record", n_signals=n, channel=2)] == b"3       "
    assert header[field_span("physical_min", n_signals=n, channel=2)] == b"-3.5    "
    assert header[field_span("label", n_signals=n, channel=1)] == b"b".ljust(16)
    bdf = edf_header_bytes(
        labels=["a"], samples_per_record=[1], n_records=1, physical_min=[-1],
        physical_max=[1], digital_min=[-1], digital_max=[1], bdf=True,
    )  # fmt: skip
    assert bdf[:8] == b"\xffBIOSEMI"
    assert bdf[field_span("reserved", n_signals=1)].rstrip() == b"24BIT"


def test_corrupted_header_is_rejected_by_pyedflib(tmp_path: Path) -> None:
    path = write_edf(tmp_path / "ok.edf", [np.zeros(100)], labels=["X"], sfreqs=100)
    data = bytearray(path.read_bytes())
    data[field_span("n_signals", n_signals=1)] = b"9   "
    bad = tmp_path / "bad.edf"
    bad.write_bytes(bytes(data))
    with pytest.raises(OSError):
        pyedflib.EdfReader(str(bad))


def test_auto_physical_range_and_flat_signal(tmp_path: Path) -> None:
    sig = np.array([-12.3456789, 0.0, 98.7654321, 5.0] * 25)
    flat = np.full(100, 42.0)
    path = write_edf(tmp_path / "r.edf", [sig, flat], labels=["s", "flat"], sfreqs=100)
    with pyedflib.EdfReader(str(path)) as f:
        h0, h1 = f.getSignalHeader(0), f.getSignalHeader(1)
        assert h0["physical_min"] <= sig.min() and h0["physical_max"] >= sig.max()
        assert (h1["physical_min"], h1["physical_max"]) == (41.0, 43.0)
        np.testing.assert_allclose(f.readSignal(1), 42.0, atol=_step(h1))
        assert np.max(np.abs(f.readSignal(0) - sig)) <= _step(h0)


def test_values_outside_range_saturate(tmp_path: Path) -> None:
    sig = np.array([-500.0, -100.0, 0.0, 100.0, 500.0] * 20)
    path = write_edf(
        tmp_path / "c.edf", [sig], labels=["c"], sfreqs=100,
        physical_min=-100, physical_max=100, digital_min=-1000, digital_max=1000,
    )  # fmt: skip
    with pyedflib.EdfReader(str(path)) as f:
        digital = f.readSignal(0, digital=True)
    assert list(digital[:5]) == [-1000, -1000, 0, 1000, 1000]


def test_same_input_same_bytes(tmp_path: Path) -> None:
    sigs, rates = _signals(np.random.default_rng(3))
    a = write_edf(tmp_path / "a.edf", sigs, labels=["a", "b", "c"], sfreqs=rates)
    b = write_edf(tmp_path / "b.edf", sigs, labels=["a", "b", "c"], sfreqs=rates)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (4999.84, "nearest", "4999.84"),
        (-4999.84, "nearest", "-4999.84"),
        (1.0, "nearest", "1"),
        (-0.0000001, "nearest", "0"),
        (-123456.789, "nearest", "-123457"),
        (0.123456789, "nearest", "0.123457"),
        (-12.3456789, "floor", "-12.3457"),
        (98.7654321, "ceil", "98.76544"),
        (12345678, "nearest", "12345678"),
    ],
)
def test_format_number(value: float, mode: str, expected: str) -> None:
    assert format_number(value, mode=mode) == expected


def test_format_number_errors() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        format_number(123456789.0)
    with pytest.raises(ValueError, match="cannot write"):
        format_number(float("nan"))
    with pytest.raises(ValueError, match="allowed"):
        format_number(1.0, mode="up")


def test_edf_date() -> None:
    assert edf_date(START) == "30-DEC-2015"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sfreqs": 250.5}, "whole number"),
        ({"sfreqs": [100.0]}, "expected one value or 2"),
        ({"labels": ["a"]}, "labels: expected 2"),
        ({"signals": [np.zeros(100), np.zeros(99)]}, "not a whole number"),
        ({"signals": [np.zeros(100), np.zeros(200)]}, "different numbers of records"),
        ({"signals": [np.zeros(100), np.full(100, np.nan)]}, "NaN"),
        ({"signals": [np.zeros(100), np.zeros((2, 50))]}, "1-D"),
        ({"annotations": [(0.0, None, "x")]}, "edf_plus"),
        ({"labels": ["a", "é"]}, "printable ASCII"),
        ({"digital_min": 0, "digital_max": 70000}, "digital range"),
        ({"physical_min": 5.0, "physical_max": 1.0}, "below physical_max"),
        ({"record_duration": 0.0}, "whole number"),
    ],
)
def test_write_errors(tmp_path: Path, kwargs: dict, match: str) -> None:
    args: dict = {
        "signals": [np.zeros(100), np.ones(100)],
        "labels": ["a", "b"],
        "sfreqs": 100.0,
    }
    args.update(kwargs)
    signals = args.pop("signals")
    with pytest.raises(ValueError, match=match):
        write_edf(tmp_path / "e.edf", signals, **args)
    assert not list(tmp_path.iterdir())


def test_field_span_errors() -> None:
    with pytest.raises(ValueError, match="allowed"):
        field_span("nope", n_signals=1)
    with pytest.raises(ValueError, match="out of range"):
        field_span("label", n_signals=1, channel=1)
