"""A channel a file lists but holds no samples of (an EDF/BDF signal of 0 samples per record: a
channel the recording system disabled, as some Nihon Kohden and Compumedics exports list them)
is left out with one warning naming it, and the recording is read from the other channels with
the values MNE reads; a file in which no channel holds samples is refused in one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import SIGNAL_FIELDS, write_edf
from tests.eegprep.reader_checks import check_source_error

EVENTS = [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]
_EMPTY_FIELDS = {"label": "", "transducer": "", "physical_dim": "uV", "physical_min": "-100",
                 "physical_max": "100", "digital_min": "-32768", "digital_max": "32767",
                 "prefilter": "", "samples_per_record": "0", "reserved": ""}  # fmt: skip


def _with_empty_signal(path: Path, at: int, label: str) -> None:
    """Insert a signal of 0 samples per record at position ``at`` of the file's signal headers
    (its records unchanged: such a signal takes 0 bytes of each)."""
    data = path.read_bytes()
    ns = int(data[252:256].decode())
    old = data[256 : 256 * (ns + 1)]
    new, pos = b"", 0
    for name, width in SIGNAL_FIELDS:
        block = old[pos : pos + width * ns]
        pos += width * ns
        value = (label if name == "label" else _EMPTY_FIELDS[name]).encode().ljust(width)
        new += block[: width * at] + value + block[width * at :]
    main = bytearray(data[:256])
    main[252:256] = str(ns + 1).encode().ljust(4)
    main[184:192] = str(256 * (ns + 2)).encode().ljust(8)
    path.write_bytes(bytes(main) + new + data[256 * (ns + 1) :])


def _recording(path: Path, *, bdf: bool) -> None:
    """An EDF+C (BDF+C) of 4 s: Fp1 and Cz at 250 Hz, O1 at 125 Hz, with events."""
    rng = np.random.default_rng(5)
    signals = [rng.normal(0, 30, 1000), rng.normal(0, 30, 1000), rng.normal(0, 30, 500)]
    write_edf(
        path, signals, labels=["Fp1", "Cz", "O1"], sfreqs=[250, 250, 125],
        physical_min=-500.0, physical_max=500.0, edf_plus=True, annotations=EVENTS, bdf=bdf,
    )  # fmt: skip


def _read_all(path: Path) -> tuple[object, list[np.ndarray]]:
    header = EdfReader.read_header(str(path))
    values = [
        EdfReader.read_segment(header, [i], 0, s.n_samples)[0] for i, s in enumerate(header.signals)
    ]
    return header, values


@pytest.mark.parametrize("at", [0, 1, 2, 3], ids=["first", "second", "third", "last"])
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
def test_a_signal_of_no_samples_is_left_out_and_the_others_read(
    tmp_path: Path, bdf: bool, at: int
) -> None:
    """It refused the whole file (`'0' samples per record (a whole number >= 1)`); now the
    other signals are read, each at its own rate, with the values of the file without it and
    of MNE, the events unmoved, and one warning names it."""
    import mne

    suffix = ".bdf" if bdf else ".edf"
    plain, path = tmp_path / f"plain{suffix}", tmp_path / f"rec{suffix}"
    _recording(plain, bdf=bdf)
    _recording(path, bdf=bdf)
    _with_empty_signal(path, at, "Disabled 1")
    expected_header, expected = _read_all(plain)
    header, got = _read_all(path)
    assert header.labels == ["Fp1", "Cz", "O1"]
    assert [(s.sfreq, s.n_samples) for s in header.signals] == [
        (250.0, 1000), (250.0, 1000), (125.0, 500)
    ]  # fmt: skip
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert header.annotations == expected_header.annotations
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == EVENTS
    assert header.empty_channels == ("Disabled 1",)
    assert header.warnings == ("channel 'Disabled 1' holds no samples (0 per record): left out",)
    raw = mne.io.read_raw(str(path), preload=True, verbose="error")
    mne_uv = raw.get_data(picks=["Fp1", "Cz"]) * 1e6
    np.testing.assert_allclose(np.stack(got[:2]), mne_uv, rtol=0, atol=1e-3)


@pytest.mark.parametrize("at", [0, 2, 3], ids=["first", "third", "last"])
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
def test_the_mne_reader_leaves_it_out_too(tmp_path: Path, bdf: bool, at: int) -> None:
    """Given MNE reader options, an EDF/BDF goes through MNE, which read the signal as a flat
    channel of zeros at the file's rate (samples the file never held): it is left out the
    same way, and every other channel keeps MNE's values, picked in any order."""
    import mne

    path = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    rng = np.random.default_rng(7)
    write_edf(
        path, list(rng.normal(0, 30, (3, 1000))), labels=["Fp1", "Cz", "O1"], sfreqs=250,
        physical_min=-500.0, physical_max=500.0, edf_plus=True, annotations=EVENTS, bdf=bdf,
    )  # fmt: skip
    _with_empty_signal(path, at, "Disabled 1")
    clear_cache()
    header = MneReader.read_header(str(path), infer_types=False)
    assert header.labels == ["Fp1", "Cz", "O1"]
    assert header.empty_channels == ("Disabled 1",)
    assert header.warnings == ("channel 'Disabled 1' holds no samples (0 per record): left out",)
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == EVENTS
    got = MneReader.read_segment(header, [2, 0], 0, 1000)
    raw = mne.io.read_raw(str(path), preload=True, verbose="error")
    np.testing.assert_allclose(got, raw.get_data(picks=["O1", "Fp1"]) * 1e6, rtol=0, atol=1e-3)
    own = EdfReader.read_header(str(path))
    np.testing.assert_allclose(got, EdfReader.read_segment(own, [2, 0], 0, 1000), atol=1e-3)


def test_two_signals_of_no_samples_are_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.edf"
    _recording(path, bdf=False)
    _with_empty_signal(path, 3, "Off B")
    _with_empty_signal(path, 1, "Off A")
    header = EdfReader.read_header(str(path))
    assert header.labels == ["Fp1", "Cz", "O1"]
    note = "channels 'Off A', 'Off B' hold no samples (0 per record): left out"
    assert header.warnings == (note,)


@pytest.mark.parametrize("reader", ["edf", "mne"])
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
def test_a_file_where_no_signal_holds_samples_is_one_line(
    tmp_path: Path, bdf: bool, reader: str
) -> None:
    path = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    write_edf(path, [], labels=[], sfreqs=[], edf_plus=True, annotations=EVENTS, bdf=bdf)
    _with_empty_signal(path, 0, "Off A")
    _with_empty_signal(path, 1, "Off B")
    clear_cache()
    cls, options = (EdfReader, {}) if reader == "edf" else (MneReader, {"infer_types": False})
    check_source_error(
        cls, str(path), rf"^{re.escape(str(path))}: no signal holds samples: every data "
        r"signal has 0 samples per record \('Off A', 'Off B'\)$", **options,
    )  # fmt: skip


def test_the_ingest_lists_it_among_the_dropped_channels(tmp_path: Path) -> None:
    """The store's record says why the channel is missing, as it does for every channel left
    out, and the report's warning names it once."""
    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(1)
    write_edf(
        src / "rec.edf", list(rng.normal(0, 20, (3, 256 * 20))), labels=["Fp1", "Fp2", "Cz"],
        sfreqs=256, physical_min=-500.0, physical_max=500.0,
    )  # fmt: skip
    _with_empty_signal(src / "rec.edf", 1, "C3")
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    assert report.warnings["rec.edf"] == ["channel 'C3' holds no samples (0 per record): left out"]
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "FP2", "CZ")
    assert ["C3", "holds no samples"] in rec.meta["dropped_channels"]


@pytest.mark.parametrize("cell", ["", " ", '""'], ids=["empty", "a space", "quoted"])
def test_a_table_column_blank_on_every_row_is_named_and_left_out(tmp_path: Path, cell: str) -> None:
    """The `csv` reader took it for a text column and left it out unsaid (only in the
    header's `dropped_columns`): it is a channel that holds no samples, named as such; the
    other columns keep the values they have with it dropped by the `drop` option."""
    from eegprep.readers.csv_table import CsvReader

    values = np.arange(900, dtype=float).reshape(300, 3) / 8
    rows = [f"{a},{cell},{b},{c}" for a, b, c in values]
    path = tmp_path / "rec.csv"
    path.write_text("Fp1,Off,Cz,O1\n" + "\n".join(rows) + "\n")
    header = CsvReader.read_header(str(path), sfreq=100)
    assert header.labels == ["Fp1", "Cz", "O1"]
    assert header.empty_channels == ("Off",)
    assert header.warnings == ("channel 'Off' holds no samples (every cell empty): left out",)
    got = CsvReader.read_segment(header, [0, 1, 2], 0, 300)
    dropped = CsvReader.read_header(str(path), sfreq=100, drop=["Off"])
    assert dropped.empty_channels == () and dropped.warnings == ()
    np.testing.assert_array_equal(got, CsvReader.read_segment(dropped, [0, 1, 2], 0, 300))
    np.testing.assert_allclose(got, values.T.astype(np.float32))


def test_a_table_column_blank_on_its_first_rows_alone_is_no_empty_channel(tmp_path: Path) -> None:
    """A column with text after 250 blank rows is a text column, left out as before: not
    said to hold no samples."""
    from eegprep.readers.csv_table import CsvReader

    rows = [f"{i},{'' if i < 250 else 'note'},{-i}" for i in range(300)]
    path = tmp_path / "rec.csv"
    path.write_text("Fp1,Notes,Cz\n" + "\n".join(rows) + "\n")
    header = CsvReader.read_header(str(path), sfreq=100)
    assert header.labels == ["Fp1", "Cz"]
    assert header.empty_channels == () and header.warnings == ()


@pytest.mark.parametrize("at", [0, 1, 2], ids=["first", "second", "last"])
@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_a_gdf_channel_of_no_samples_is_left_out(tmp_path: Path, version: str, at: int) -> None:
    """It refused the file (`has 0 samples per record (at least 1): the header is damaged`);
    MNE reads it as a flat channel of zeros. It is left out with one warning; the others
    keep the values of the file without it, each at its own rate (a slower channel read by
    eegprep, the faster by MNE), picked in any order."""
    from tests.eegprep.test_reader_gdf_semantics import _gdf

    fast = np.arange(40).reshape(4, 10) * 3 - 50
    slow = np.arange(20).reshape(4, 5) * 100 - 700
    channels = [fast, slow]
    plain, path = tmp_path / "plain.gdf", tmp_path / "rec.gdf"
    _gdf(plain, version, ["uV", "mV"], channels, duration=(1, 10))
    with_empty = [*channels[:at], np.zeros((4, 0), dtype=int), *channels[at:]]
    units = ["uV", "mV"]
    _gdf(path, version, [*units[:at], "uV", *units[at:]], with_empty, duration=(1, 10))
    clear_cache()
    expected = MneReader.read_header(str(plain))
    clear_cache()
    header = MneReader.read_header(str(path))
    assert [(s.sfreq, s.n_samples) for s in header.signals] == [(100.0, 40), (50.0, 20)]
    assert header.labels == [f"ch{i}" for i in range(3) if i != at]
    assert header.empty_channels == (f"ch{at}",)
    assert header.warnings == (f"channel 'ch{at}' holds no samples (0 per record): left out",)
    for pick, n in ((0, 40), (1, 20)):
        np.testing.assert_array_equal(
            MneReader.read_segment(header, [pick], 0, n),
            MneReader.read_segment(expected, [pick], 0, n),
        )
    np.testing.assert_array_equal(
        MneReader.read_segment(header, [1], 3, 13), MneReader.read_segment(expected, [1], 3, 13)
    )


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_a_gdf_where_no_channel_holds_samples_is_one_line(tmp_path: Path, version: str) -> None:
    from tests.eegprep.test_reader_gdf_semantics import _gdf

    path = tmp_path / "rec.gdf"
    _gdf(path, version, ["uV", "uV"], [np.zeros((4, 0), dtype=int)] * 2)
    clear_cache()
    check_source_error(
        MneReader, str(path), rf"^{re.escape(str(path))}: no signal holds samples: every data "
        r"signal has 0 samples per record \('ch0', 'ch1'\)$",
    )  # fmt: skip
