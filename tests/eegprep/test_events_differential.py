"""Events across readers, adversarially: each case writes a file as its system writes it,
ingests it and compares the stored events (or the one-line refusal) with the format's own
definition. Companion of ``test_event_times_differential.py``, whose writers it reuses."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import ingest
from tests.eegprep.test_event_times_differential import (
    _START,
    GDF_HZ,
    LABELS,
    SERIAL,
    _assert_same,
    _brainvision,
    _edf,
    _gdf,
    _keep,
    _mne,
    _set,
    _stored,
    _table,
)


@pytest.mark.parametrize("durations", [[-5.0], [0.0, -1.0, -2.0]])
def test_eeglab_negative_duration_is_refused_naming_the_event(
    tmp_path: Path, durations: list[float]
) -> None:
    """The event rule refuses a negative duration naming the event; MNE's bare AssertionError
    was said as "MNE cannot read this EEGLAB file ... check it is complete"."""
    events = [(f"e{i}", 100.0 + 50 * i, d) for i, d in enumerate(durations)]
    path = _set(tmp_path / "src" / "r.set", events)
    rep = ingest("folder", src=path.parent, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0 and len(rep.failed) == 1, rep.failed
    line = str(rep.failed[0])
    first = next(i for i, d in enumerate(durations) if d < 0)
    assert "\n" not in line and "check it is complete" not in line, line
    assert f"EEG.event({first + 1})" in line and f"'e{first}'" in line, line
    assert "negative duration" in line, line


@pytest.mark.parametrize("latency", [-3.0, -0.75, -250.0])
def test_eeglab_event_before_the_first_sample_is_dropped_or_cut(
    tmp_path: Path, latency: float
) -> None:
    """An EEGLAB latency below 0.5 lies before the first sample (latency 1 is sample 0): the
    event rule drops one wholly there and cuts one reaching in, the file ingests. MNE refused
    the whole file for a latency under -0.5 ("event sample index is negative"), and eegprep
    said so, "check it is complete"; one at latency 0 it dropped."""
    sfreq, span = 250.0, 20.0 - latency  # (the long event ends 20 samples after latency 0)
    events = [("early", latency, 0.0), ("long", latency, span), ("later", 11.0, 0.0)]
    path = _set(tmp_path / "src" / "r.set", events)
    out = tmp_path / "s.zarr"
    rep = ingest("folder", src=path.parent, out=out, config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 1, rep.failed
    (rec,) = open_store(out).recordings
    got = [(e.label, e.onset, e.duration) for e in rec.events]
    end = (latency - 1 + span) / sfreq  # the long event's end, from the first sample
    assert [g[0] for g in got] == ["long", "later"], got
    assert got[0][1] == 0.0 and abs(got[0][2] - end) <= 0.5 / 200, got
    assert abs(got[1][1] - 10 / sfreq) <= 0.5 / 200, got


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("mode", [1, 3])
@pytest.mark.parametrize("rate", [1000.0, 500.0])
def test_gdf_event_at_the_end_is_kept_whatever_the_table_rate(
    tmp_path: Path, version: str, mode: int, rate: float
) -> None:
    """An event at the end of the samples (position ``n + 1`` at the samples' rate) is kept at
    the end, as MNE keeps it from a table at the samples' rate, whatever rate the table is
    at: a table at another rate, timed by eegprep, dropped it as past the end."""
    k = rate / GDF_HZ
    rows = [(1, 3, 0), (5 * GDF_HZ + 1, 5, 0), (5 * GDF_HZ - 9, 6, 20)]  # (5 records of 1 s)
    scaled = [(int(k * (p - 1)) + 1, t, int(k * d)) for p, t, d in rows]
    path = _gdf(tmp_path / "src" / "r.gdf", version, _table(version, rate, scaled, mode))
    same = _gdf(tmp_path / "ref" / "r.gdf", version, _table(version, GDF_HZ, rows, mode))
    ref = _mne(same)
    assert ref[-1][:1] == (5.0,) and ref[-1][2] == "5", ref  # (MNE keeps it, at the end)
    _assert_same(_stored(path), ref, GDF_HZ)


def _ingested(path: Path) -> tuple[list[tuple[float, float, str, str]], list[str]]:
    """The events (onset s, duration s, label, channel) ``eegprep ingest folder`` stores for
    the one recording under ``path``'s folder, and the report's warning lines for it."""
    out = path.parent.parent / f"{path.parent.name}.zarr"
    rep = ingest("folder", src=path.parent, out=out, config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 1, rep.failed
    (rec,) = open_store(out).recordings
    got = [(float(e.onset), float(e.duration), str(e.label), str(e.channel)) for e in rec.events]
    return got, rep.warnings.get(path.name, [])


def _end_cases(tmp: Path, reader: str) -> Path:
    """A 5-s recording (250 Hz; BrainVision 500 Hz) holding ``end`` at its end (0 s long),
    ``over`` from 4.9 s lasting 0.5 s, and ``late`` one sample past the end (under 5 ms)."""
    if reader == "edf":
        tals = [_keep(k) for k in range(5)]
        tals[4] += b"+4.9\x150.5\x14over\x14\0+5\x14end\x14\0+5.004\x14late\x14\0"
        return _edf(tmp / "r.edf", tals, reserved="EDF+C")
    if reader == "brainvision":
        marks = [_START, "Stimulus,end,2501,0,0", "Stimulus,over,2451,250,0"]
        return _brainvision(tmp / "r.vhdr", [*marks, "Stimulus,late,2502,0,0"], n_times=2500)
    if reader == "eeglab":
        events = [("end", 1251.0, 0.0), ("over", 1226.0, 125.0), ("late", 1252.0, 0.0)]
        return _set(tmp / "r.set", events, n_times=1250)
    if reader == "gdf":
        rows = [(1251, 1, 0), (1226, 2, 125), (1252, 3, 0)]  # (codes: end, over, late)
        return _gdf(tmp / "r.gdf", "GDF 2.20", _table("GDF 2.20", GDF_HZ, rows, 3))
    return _fif_past_the_end(tmp / "r_raw.fif")


def _fif_past_the_end(path: Path) -> Path:
    """A 5-s FIF at 250 Hz whose annotations reach past its samples."""
    return _fif_with(path, [(5.0, 0.0, "end"), (4.9, 0.5, "over"), (5.004, 0.0, "late")])


def _fif_with(path: Path, spans: list[tuple[float, float, str]]) -> Path:
    """A 5-s FIF at 250 Hz holding ``spans`` (onset s, duration s, text) as annotations
    uncropped, as a file written by another program or cut short after writing holds them
    (MNE's own ``set_annotations`` would crop them)."""
    import mne

    x = np.random.default_rng(0).normal(0, 20e-6, (len(LABELS), 1250))
    raw = mne.io.RawArray(x, mne.create_info(LABELS, 250.0, "eeg"), verbose="error")
    raw._annotations = mne.Annotations(*zip(*spans))
    path.parent.mkdir(parents=True, exist_ok=True)
    raw.save(path, verbose="error")
    return path


@pytest.mark.parametrize("reader", ["edf", "brainvision", "eeglab", "gdf", "fif"])
def test_an_event_past_the_end_is_dropped_by_every_reader(tmp_path: Path, reader: str) -> None:
    """One rule for every reader: an event starting after the last sample's end is dropped,
    even under one stored sample (5 ms) past it, and said with a count in one line; one at
    the end is kept there; one starting inside and running past is cut at the end. The EDF
    reader moved an onset under 5 ms past the end to the end, where MNE's readers dropped it."""
    path = _end_cases(tmp_path / "src", reader)
    got, warnings = _ingested(path)
    codes = {"1": "end", "2": "over", "3": "late"}  # (a GDF event is its type code)
    got = [(o, d, codes.get(t, t).split("/")[-1]) for o, d, t, _ in got]
    assert [g[2] for g in got] == ["over", "end"], got
    assert abs(got[0][0] - 4.9) <= 0.5 / 200 and abs(got[0][1] - 0.1) <= 0.5 / 200, got
    assert got[1][:2] == (5.0, 0.0), got
    said = [w for w in warnings if "dropped" in w]
    assert len(said) == 1 and "1 event" in said[0] and "\n" not in said[0], warnings


@pytest.mark.parametrize("reader", ["eeglab", "fif"])
def test_events_before_the_first_sample_are_said_so(tmp_path: Path, reader: str) -> None:
    """Events before the first sample (an EEGLAB latency below 0.5; a FIF annotation before
    its first sample) are dropped, or cut to start there, and the one line says so, counted;
    it said the events lay outside the samples and that the file's "samples are cut short
    (re-download it)", of a file that was whole (a FIF's, MNE crops unsaid: not said)."""
    if reader == "eeglab":
        events = [("a", -3.0, 0.0), ("b", -10.0, 0.0), ("c", -2.0, 10.0), ("d", 100.0, 0.0)]
        path = _set(tmp_path / "src" / "r.set", events)
    else:
        spans = [(-0.012, 0.0, "a"), (-0.04, 0.0, "b"), (-0.008, 0.04, "c"), (0.4, 0.0, "d")]
        path = _fif_with(tmp_path / "src" / "r_raw.fif", spans)
    got, warnings = _ingested(path)
    assert [g[2] for g in got] == ["c", "d"] and got[0][0] == 0.0, got
    said = [w for w in warnings if "first sample" in w]
    assert len(said) == 1 and "cut short" not in said[0], warnings
    assert "2 events of the file before its first sample were dropped" in said[0], said
    assert "1 event starting before it was cut to start there" in said[0], said
    assert not any("cut short" in w for w in warnings), warnings


def _channel_table(rate: float, rows: list[tuple[int, int, int, int]]) -> bytes:
    """A GDF 2.20 event table of mode 3 at ``rate`` Hz: ``rows`` of (position from 1, type
    code, channel from 1 or 0 for every channel, duration in samples)."""
    n = len(rows)
    pos, typ, chn, dur = zip(*rows)
    table = bytes([3]) + n.to_bytes(3, "little") + struct.pack("<f", rate)
    table += struct.pack(f"<{n}I", *pos) + struct.pack(f"<{n}H", *typ)
    return table + struct.pack(f"<{n}H", *chn) + struct.pack(f"<{n}I", *dur)


@pytest.mark.parametrize("table", ["GDF 1.25", "GDF 2.20", "with channels", "at 1000 Hz"])
def test_gdf_event_at_position_0_is_dropped_in_one_clear_line(tmp_path: Path, table: str) -> None:
    """GDF counts positions from 1: an event at position 0 lies before the first sample. MNE
    drops it (at -1 sample); eegprep drops it too, whether MNE or eegprep times the table (a
    table naming channels, or at another rate), and its one line says where it was, not that
    the file's "samples are cut short (re-download it)"."""
    version = table if table.startswith("GDF") else "GDF 2.20"
    k = 4 if table == "at 1000 Hz" else 1
    if table.startswith("GDF"):
        written = _table(version, GDF_HZ, [(0, 7, 0), (21, 8, 0)], 1)
    else:
        written = _channel_table(k * GDF_HZ, [(0, 7, 1, 0), (20 * k + 1, 8, 2, 0)])
    path = _gdf(tmp_path / "src" / "r.gdf", version, written)
    got, warnings = _ingested(path)
    assert [g[2] for g in got] == ["8"], got
    if table.startswith("GDF"):
        _assert_same([g[:3] for g in got], _mne(path), GDF_HZ)
    said = [w for w in warnings if "dropped" in w]
    assert len(said) == 1 and "cut short" not in said[0], warnings
    assert "1 event of the file before its first sample was dropped" in said[0], said
    assert "position 0" in said[0], said


def test_brainvision_marker_channel_is_stored(tmp_path: Path) -> None:
    """A BrainVision marker's fifth field is the header's channel number it marks (0: every
    channel): stored as that channel's name, "" for every channel. eegprep stored "" for
    each (MNE's reader drops the field)."""
    marks = [_START, "Stimulus,S  1,600,1,2", "Stimulus,S  2,700,1,0", r"Comment,a\1b,700,1,3"]
    got, _ = _ingested(_brainvision(tmp_path / "src" / "r.vhdr", [*marks, "Stimulus,S  3,800,1"]))
    assert [(g[2], g[3]) for g in got] == [
        ("Stimulus/S  1", LABELS[1]),
        ("Comment/a,b", LABELS[2]),
        ("Stimulus/S  2", ""),
        ("Stimulus/S  3", ""),
    ], got


@pytest.mark.parametrize("rate", [GDF_HZ, 1000.0])
def test_gdf_event_channel_is_stored(tmp_path: Path, rate: float) -> None:
    """A GDF event table of mode 3 gives each event's channel (CHN: 1 to the channels' count,
    0: every channel): stored as that channel's name, "" for every channel, whether MNE times
    the table (at the samples' rate) or eegprep does (at another). It was "" for each."""
    k = int(rate / GDF_HZ)
    rows = [(k * 10 + 1, 1, 2, 0), (k * 20 + 1, 2, 0, k), (k * 30 + 1, 3, 3, 0)]
    path = _gdf(tmp_path / "src" / "r.gdf", "GDF 2.20", _channel_table(rate, rows))
    got, _ = _ingested(path)
    assert [(g[2], g[3]) for g in got] == [("1", LABELS[1]), ("2", ""), ("3", LABELS[2])], got
    same = [(p if k == 1 else (p - 1) // k + 1, t, c, d // k) for p, t, c, d in rows]
    ref = _gdf(tmp_path / "ref" / "r.gdf", "GDF 2.20", _channel_table(GDF_HZ, same))
    _assert_same([g[:3] for g in got], _mne(ref), GDF_HZ)  # (times as MNE's at 250 Hz)


@pytest.mark.parametrize("rate", [GDF_HZ, 1000.0])
def test_gdf_event_channel_beyond_the_channels_is_said(tmp_path: Path, rate: float) -> None:
    """A mode-3 event whose channel (CHN) is above the file's channel count names no channel:
    it is stored for every channel (""), as MNE reads the table, and one warning line names the
    number and the count. It was stored so unsaid."""
    k = int(rate / GDF_HZ)
    rows = [(k * 10 + 1, 1, 2, 0), (k * 20 + 1, 2, 9, 0), (k * 30 + 1, 3, 9, 0)]
    path = _gdf(tmp_path / "src" / "r.gdf", "GDF 2.20", _channel_table(rate, rows))
    got, warnings = _ingested(path)
    assert [(g[2], g[3]) for g in got] == [("1", LABELS[1]), ("2", ""), ("3", "")], got
    said = [w for w in warnings if "channel 9" in w]
    assert len(said) == 1 and "\n" not in said[0], warnings
    assert "2 events" in said[0] and f"{len(LABELS)} channels" in said[0], said


@pytest.mark.filterwarnings("ignore:events. you specified:UserWarning")  # (pybv: repeats)
def test_brainvision_channels_as_pybv_writes_them(tmp_path: Path) -> None:
    """pybv writes an event's channels as the marker's channel number, the marker repeated
    for each of several channels (its ``"all"`` as 0): each is stored with its channel's
    name, the repeats kept (one per channel), ``""`` for every channel."""
    from pybv import write_brainvision

    x = np.random.default_rng(0).normal(0, 20e-6, (len(LABELS), 2500))  # (V, as pybv takes)
    events = [
        {"onset": 250, "description": 1, "channels": "Cz"},
        {"onset": 500, "description": 2, "channels": ["Fp1", "O1"]},
        {"onset": 750, "description": 3, "channels": "all", "type": "Response"},
    ]
    folder = tmp_path / "src"
    write_brainvision(data=x, sfreq=500.0, ch_names=LABELS, fname_base="r", folder_out=folder,
                      events=events, unit="µV")  # fmt: skip
    got, _ = _ingested(folder / "r.vhdr")
    assert [(g[2], g[3]) for g in got] == [
        ("Stimulus/S  1", "Cz"),
        ("Stimulus/S  2", "Fp1"),
        ("Stimulus/S  2", "O1"),
        ("Response/R  3", ""),
    ], got
    assert [round(g[0], 6) for g in got] == [0.5, 1.0, 1.0, 1.5], got


def test_brainvision_channels_as_mne_exports_them(tmp_path: Path) -> None:
    """MNE's ``export_raw`` to BrainVision (through pybv) writes an annotation's channels as
    the marker's channel number: stored as MNE's own annotation held them, and the same
    annotations saved as FIF are stored alike."""
    import mne

    x = np.random.default_rng(0).normal(0, 20e-6, (len(LABELS), 2500))
    raw = mne.io.RawArray(x, mne.create_info(LABELS, 500.0, "eeg"), verbose="error")
    names = [("O1",), (), ("Fp1",)]
    raw.set_annotations(mne.Annotations([0.5, 1.0, 1.5], [0.0, 0.0, 0.0], ["a", "b", "c"],
                                        ch_names=names))  # fmt: skip
    (tmp_path / "bv").mkdir()
    mne.export.export_raw(tmp_path / "bv" / "r.vhdr", raw, verbose="error")
    fif = tmp_path / "fif" / "r_raw.fif"
    fif.parent.mkdir()
    raw.save(fif, verbose="error")
    for path in (tmp_path / "bv" / "r.vhdr", fif):
        got, _ = _ingested(path)
        assert [g[3] for g in got] == ["O1", "", "Fp1"], (path.name, got)


def test_cnt_event_past_the_end_is_dropped_as_by_every_reader(tmp_path: Path) -> None:
    """The end rule for a Neuroscan CNT (written by eegprep's own writer: MNE writes none):
    an event at the end is kept there, one a sample past it (4 ms) dropped, in one line."""
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    x = np.random.default_rng(0).normal(0, 20, (len(LABELS), 1250))
    events = [(100, 2), (1250, 1), (1251, 3)]
    path = write_cnt(tmp_path / "src" / "r.cnt", x, LABELS, 250, events=events)
    got, warnings = _ingested(path)
    assert [(round(g[0], 6), g[2]) for g in got] == [(0.4, "2"), (5.0, "1")], got
    said = [w for w in warnings if "dropped" in w]
    assert len(said) == 1 and "1 event" in said[0] and "\n" not in said[0], warnings
