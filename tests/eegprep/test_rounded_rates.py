"""Promise: a rate given by a rounded header field is the whole rate the field stands for,
whichever reader reads the file, and a rate the field spells exactly is kept.

An EDF/BDF record duration fills 8 characters: one sample a record at 256 Hz is written
``0.003906`` s (1/256 is 0.00390625), and a BrainVision ``SamplingInterval`` is often whole
microseconds (``3906``). Before: both gave 256.016 Hz, stored as the source's rate, its samples
resampled to 200 Hz by a ratio of large numbers and stretched by 0.006%.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers import Header, Reader
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.readers.rounded_rate import rate_of_period
from eegprep.testing.edf_writer import field_span, format_number, write_edf

SECONDS = 10
ROUNDED = "is rounded"
EVENTS = [(2.5, 0.5, "blink"), (7.25, 0.0, "cue")]


def _reader(name: str) -> tuple[type[Reader], dict[str, Any]]:
    """eegprep's EDF reader, or MNE's (which a reader option sends an EDF through)."""
    clear_cache()
    return (EdfReader, {}) if name == "edf" else (MneReader, {"infer_types": False})


def _duration_field(path: Path) -> str:
    head = path.read_bytes()[:256]
    return head[field_span("record_duration", n_signals=0)].decode("ascii").strip()


def _edf(path: Path, rate: float, per_record: int, **kw: Any) -> Path:
    """A recording of two signals, the second at half the rate, ``SECONDS`` long, with
    :data:`EVENTS` (EDF+C), ``per_record`` samples of the fastest a record."""
    t = np.arange(int(round(rate * SECONDS))) / rate
    x = 40 * np.sin(2 * np.pi * 7 * t)
    return write_edf(
        path, [x, x[::2]], labels=["Fp1", "Cz"], sfreqs=[rate, rate / 2],
        record_duration=per_record / rate, edf_plus=True, annotations=EVENTS, **kw,
    )  # fmt: skip


def _rate_notes(header: Header) -> list[str]:
    return [w for w in header.warnings if ROUNDED in w]


@pytest.mark.parametrize("reader", ["edf", "mne"])
@pytest.mark.parametrize("bdf", [False, True])
@pytest.mark.parametrize(("rate", "per_record"), [(256, 2), (512, 2), (1024, 2), (2048, 2)])
def test_a_rounded_record_duration_gives_the_whole_rate_it_stands_for(
    tmp_path: Path, reader: str, bdf: bool, rate: int, per_record: int
) -> None:
    path = _edf(tmp_path / ("r.bdf" if bdf else "r.edf"), rate, per_record, bdf=bdf)
    written = _duration_field(path)
    assert len(written) == 8 and float(written) != per_record / rate  # (the writer rounded it)
    cls, options = _reader(reader)
    header = cls.read_header(str(path), **options)
    fastest = header.signals[0]
    assert fastest.sfreq == rate and fastest.n_samples == rate * SECONDS
    if reader == "edf":  # (MNE resamples the slower signal to the fastest rate)
        assert header.signals[1].sfreq == rate / 2
    assert header.duration == SECONDS
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == EVENTS
    notes = _rate_notes(header)
    assert len(notes) == 1, header.warnings
    assert repr(written) in notes[0] and f"{rate:g} Hz" in notes[0]
    assert f"{per_record / float(written):.6g} Hz" in notes[0]  # (what the field gives)


SPELLED = [
    (409.6, 1024),  # 2.5 s a record, written 2.500000: exact
    (0.5, 1),  # one sample every 2 s
    (5000 / 3, 1),  # 0.0006 s: several whole rates near it, none rounder
    (250, 1),  # 0.004 s: exact
]


@pytest.mark.parametrize(
    ("reader", "rate", "per_record"),
    # (MNE reads no EDF of a signal below 1 Hz as this one: the edf reader's case only)
    [(reader, *case) for reader in ("edf", "mne") for case in SPELLED
     if reader == "edf" or case[0] >= 1],
)  # fmt: skip
def test_a_rate_the_field_spells_exactly_is_kept(
    tmp_path: Path, reader: str, rate: float, per_record: int
) -> None:
    path = write_edf(
        tmp_path / "x.edf", [np.zeros(4 * per_record)], labels=["Fp1"], sfreqs=rate,
        record_duration=per_record / rate,
    )  # fmt: skip
    written = _duration_field(path)
    cls, options = _reader(reader)
    header = cls.read_header(str(path), **options)
    assert header.signals[0].sfreq == pytest.approx(per_record / float(written), rel=1e-12)
    assert _rate_notes(header) == [], header.warnings


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_an_edf_d_with_a_rounded_duration_keeps_its_gap_on_the_whole_rate(
    tmp_path: Path, reader: str
) -> None:
    """Records stamped at k/256 s (each written to 6 decimals) follow on at 256 Hz; the gap of
    1 s after the first 2 s is one, and the join lies on a sample."""
    rate, n = 256, 4 * 256
    onsets = [k / rate + (1.0 if k >= n // 2 else 0.0) for k in range(n)]
    path = write_edf(
        tmp_path / "d.edf", [np.zeros(n)], labels=["Fp1"], sfreqs=rate, record_duration=1 / rate,
        edf_plus=True, reserved="EDF+D", record_onsets=onsets, annotations=[(3.5, 0.0, "ev")],
    )  # fmt: skip
    cls, options = _reader(reader)
    header = cls.read_header(str(path), **options)
    assert header.signals[0].sfreq == rate and header.duration == 4.0
    assert header.joins == (2.0,)
    ((start, stop),) = header.gaps
    assert start == 2.0 and stop == pytest.approx(3.0, abs=1e-6)  # (stamps to 6 decimals)
    (event,) = header.annotations
    assert event.onset == pytest.approx(2.5, abs=1e-6)
    assert len(_rate_notes(header)) == 1


@pytest.mark.parametrize(("rate", "per_record"), [(256, 1), (256, 3), (1000, 3), (2048, 1)])
def test_a_period_rounded_to_its_last_digit_stands_for_its_whole_rate(
    rate: int, per_record: int
) -> None:
    text = format_number(per_record / rate)
    got = rate_of_period(text, per_record)
    if float(text) == per_record / rate:  # spelled exactly: nothing to change
        assert got is None
    else:
        assert got == rate


def _brainvision(folder: Path, interval: str, rate: float) -> Path:
    """A BrainVision recording of ``SECONDS`` at ``rate`` with markers at samples 641 and 1921
    (1-based), its ``SamplingInterval`` written ``interval``."""
    from pybv import write_brainvision

    n = int(round(rate * SECONDS))
    x = np.random.default_rng(2).normal(0, 20, (2, n))
    write_brainvision(
        data=x * 1e-6, sfreq=rate, ch_names=["Fp1", "Cz"], fname_base="bv", folder_out=folder,
        events=np.array([[640, 1], [1920, 2]]), overwrite=True, unit="µV",
    )  # fmt: skip
    vhdr = folder / "bv.vhdr"
    text = vhdr.read_text(encoding="utf-8")
    vhdr.write_text(re.sub(r"SamplingInterval=.*", f"SamplingInterval={interval}", text))
    return vhdr


@pytest.mark.filterwarnings("ignore:Encountered")  # (pybv's words on the micro sign)
@pytest.mark.parametrize(
    ("interval", "rate"),
    [("3906", 256), ("1953", 512), ("977", 1024), ("488", 2048), ("3906.3", 256)],
)
def test_a_rounded_sampling_interval_gives_the_whole_rate_it_stands_for(
    tmp_path: Path, interval: str, rate: int
) -> None:
    header = MneReader.read_header(str(_brainvision(tmp_path, interval, rate)))
    assert header.signals[0].sfreq == rate
    assert header.duration == SECONDS
    assert [a.onset for a in header.annotations] == [640 / rate, 1920 / rate]
    notes = _rate_notes(header)
    assert len(notes) == 1 and f"SamplingInterval={interval!r}" in notes[0]
    assert f"{rate:g} Hz" in notes[0]


@pytest.mark.filterwarnings("ignore:Encountered")
@pytest.mark.parametrize("interval", ["2441.40625", "2441", "4000", "3906.25"])
def test_a_sampling_interval_near_no_whole_rate_or_exact_is_kept(
    tmp_path: Path, interval: str
) -> None:
    header = MneReader.read_header(str(_brainvision(tmp_path, interval, 1e6 / float(interval))))
    assert header.signals[0].sfreq == pytest.approx(1e6 / float(interval), rel=1e-12)
    assert _rate_notes(header) == [], header.warnings


@pytest.mark.filterwarnings("ignore:Encountered")
def test_the_ingest_stores_the_whole_rate_the_length_and_the_events(tmp_path: Path) -> None:
    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    _edf(src / "rounded.edf", 256, 2)
    (src / "bv").mkdir()
    _brainvision(src / "bv", "3906", 256)
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    store = open_store(tmp_path / "s.zarr")
    edf = store.recording("folder/rounded")
    bv = store.recording("folder/bv_bv")
    for rec in (edf, bv):
        assert rec.record.orig_sfreq in (256.0, (256.0, 128.0))
        assert rec.n_samples == SECONDS * int(store.sfreq)
    assert [(e.onset, e.duration, e.label) for e in edf.events] == EVENTS
    assert [e.onset for e in bv.events] == [640 / 256, 1920 / 256]
    for name, field in (("rounded.edf", "'0.007812'"), ("bv/bv.vhdr", "'3906'")):
        notes = [w for w in report.warnings[name] if ROUNDED in w]
        assert len(notes) == 1 and field in notes[0] and "256 Hz" in notes[0], notes


def _csv(path: Path, rate: float, decimals: int, n: int = 2560) -> Path:
    """A table of ``n`` rows at ``rate``, its ``Time`` column in s to ``decimals`` decimals, a
    marker at row 1281 (1-based, after the names)."""
    t = np.arange(n) / rate
    x = np.random.default_rng(4).normal(0, 20, n)
    rows = [f"{t[i]:.{decimals}f},{x[i]:.3f},{int(i == 1280)}" for i in range(n)]
    path.write_text("Time,Fp1,Mark\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("decimals", [3, 4])
def test_a_time_column_of_rounded_times_gives_the_whole_rate_it_stands_for(
    tmp_path: Path, decimals: int
) -> None:
    """Before: the median step of 1/256 s written to ms is 4 ms, read as 250 Hz (to 0.1 ms:
    256.41 Hz), every sample and event stored 2.4% late."""
    from eegprep.readers.csv_table import CsvReader
    from eegprep.readers.csv_table import clear_cache as clear_csv

    clear_csv()
    path = _csv(tmp_path / "t.csv", 256, decimals)
    header = CsvReader.read_header(str(path), time_column="Time", marker_column="Mark")
    assert header.signals[0].sfreq == 256 and header.duration == SECONDS
    assert [a.onset for a in header.annotations] == [1280 / 256]
    notes = _rate_notes(header)
    assert len(notes) <= 1 and all("time column 'Time'" in w and "256 Hz" in w for w in notes)


@pytest.mark.parametrize(("rate", "decimals"), [(409.6, 6), (1000 / 3, 3), (250, 3)])
def test_a_time_column_near_no_whole_rate_keeps_its_own(
    tmp_path: Path, rate: float, decimals: int
) -> None:
    from eegprep.readers.csv_table import CsvReader
    from eegprep.readers.csv_table import clear_cache as clear_csv

    clear_csv()
    header = CsvReader.read_header(
        str(_csv(tmp_path / "t.csv", rate, decimals)), time_column="Time"
    )
    assert header.signals[0].sfreq == pytest.approx(rate, rel=1e-5)
    assert _rate_notes(header) == [], header.warnings


def _segmented(folder: Path, interval: str, n: int, markers: list[str]) -> str:
    """A BrainVision recording of ``n`` samples of 2 channels, ``SamplingInterval`` written
    ``interval``, with ``markers``."""
    header = ["Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
              "DataFile=r.eeg", "MarkerFile=r.vmrk", "DataFormat=BINARY",
              "DataOrientation=MULTIPLEXED", "NumberOfChannels=2",
              f"SamplingInterval={interval}", "[Binary Infos]", "BinaryFormat=INT_16",
              "[Channel Infos]", "Ch1=Fp1,,1,µV", "Ch2=Cz,,1,µV"]  # fmt: skip
    (folder / "r.vhdr").write_text("\r\n".join(header) + "\r\n", encoding="utf-8")
    x = np.random.default_rng(5).integers(-200, 200, size=(n, 2)).astype("<i2")
    (folder / "r.eeg").write_bytes(x.tobytes())
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "[Common Infos]",
             "Codepage=UTF-8", "DataFile=r.eeg", "[Marker Infos]",
             *(f"Mk{i}={m}" for i, m in enumerate(markers, start=1))]  # fmt: skip
    (folder / "r.vmrk").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return str(folder / "r.vhdr")


def test_a_new_segment_joins_on_the_sample_at_the_whole_rate(tmp_path: Path) -> None:
    """A ``New Segment`` at sample 10000 (0-based) of a 256 Hz file written ``3906``: the join
    at 10000 / 256 s (MNE's 256.016 Hz put it a sample later: 10000 x 1.00006 rounds up), and
    the pause its date states (30 s after the first segment's 10000 samples) on that clock."""
    markers = [
        "New Segment,,1,1,0,20231010120000000000",
        "Stimulus,S  1,12801,1,0",
        "New Segment,,10001,1,0,20231010120109062500",  # 39.0625 s of samples, then 30 s
    ]
    header = MneReader.read_header(_segmented(tmp_path, "3906", 60 * 256, markers))
    assert header.signals[0].sfreq == 256
    assert header.joins == (10000 / 256,)
    ((start, stop),) = header.gaps
    assert start == 10000 / 256 and stop == pytest.approx(10000 / 256 + 30, abs=1e-6)
    onsets = {a.description: a.onset for a in header.annotations}
    assert onsets["Stimulus/S  1"] == 12800 / 256 and onsets["New Segment/"] == 10000 / 256


@pytest.mark.parametrize("text", ["0.0000010000000", "1e-9", "1e400", "0.000000000000000001"])
def test_a_field_of_an_absurd_rate_stands_for_none(text: str) -> None:
    """A rate past any amplifier (10^12 Hz from a field precise to 10^-7) is left to the
    reader's own refusal; the rule weighs no billion whole rates to find one."""
    assert rate_of_period(text, 1e6) is None
