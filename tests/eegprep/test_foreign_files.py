"""Files written by other tools (scipy, h5py, pybv, plain text from other systems) through
every reader: right values, or one line naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.corpus.discover import discover
from eegprep.corpus.manifest import load_manifest


def test_a_file_whose_recordings_cannot_be_listed_is_named_once(tmp_path: Path) -> None:
    import scipy.io

    root = tmp_path / "Pre-SART EEG"
    root.mkdir()
    scipy.io.savemat(root / "S02_restingPre_EC.mat", {"data": np.zeros((68, 512))})
    found = discover(load_manifest("spis"), tmp_path)
    [(rel, why)] = found.unmatched
    assert rel == "Pre-SART EEG/S02_restingPre_EC.mat"
    assert why.startswith("cannot list its recordings: variable 'dataRest' not found")
    assert str(tmp_path) not in why and "\n" not in why


def test_a_latin1_table_is_read_with_its_labels(tmp_path: Path) -> None:
    """A table exported on Windows (cp1252/Latin-1: 0xB5 for µ) is read, not refused."""
    from eegprep.readers.csv_table import CsvReader

    values = np.arange(600, dtype=float).reshape(200, 3) / 4
    lines = ["id;Fp1;Fp2;EOG [µV]"] + [
        f"Zürich_{i};" + ";".join(map(str, v)) for i, v in enumerate(values)
    ]
    path = tmp_path / "table.csv"
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    header = CsvReader.read_header(str(path), sfreq=100, drop=["id"])
    assert header.labels == ["Fp1", "Fp2", "EOG [µV]"]
    got = CsvReader.read_segment(header, [0, 1, 2], 0, 200)
    np.testing.assert_array_equal(got, values.T.astype(np.float32))


def test_a_row_with_an_extra_field_is_not_called_truncated(tmp_path: Path) -> None:
    from eegprep.base.errors import SourceError
    from eegprep.readers.csv_table import CsvReader

    path = tmp_path / "table.csv"
    path.write_text("Fp1,Fp2\n1,2\n3,,4\n5,6\n")
    with pytest.raises(
        SourceError, match=r"line 3 has 3 fields, the header 2: a stray delimiter\? fix the file$"
    ):
        CsvReader.read_header(str(path), sfreq=100)


def _brainvision(folder: Path, stem: str) -> tuple[Path, np.ndarray]:
    """A pybv recording (float32, 5 channels x 2 s at 250 Hz, two markers); data in volts."""
    pybv = pytest.importorskip("pybv")
    rng = np.random.default_rng(0)
    data = rng.normal(0, 20e-6, (5, 500))
    pybv.write_brainvision(
        data=data, sfreq=250, ch_names=["Fp1", "Fp2", "C3", "Cz", "O1"], fname_base=stem,
        folder_out=str(folder), events=np.array([[100, 1], [300, 2]]), overwrite=True,
    )  # fmt: skip
    return folder / f"{stem}.vhdr", data


def _rename_header_entries(vhdr: Path, data: str, markers: str) -> None:
    text = vhdr.read_text(encoding="utf-8").splitlines()
    out = [
        f"DataFile={data}" if line.startswith("DataFile=") else
        f"MarkerFile={markers}" if line.startswith("MarkerFile=") else line
        for line in text
    ]  # fmt: skip
    vhdr.write_text("\n".join(out) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "markers"),
    [
        ("REC.EEG", "Rec.VMRK"),  # written on a case-insensitive file system
        ("C:\\Users\\lab\\rec.eeg", "D:\\export\\rec.vmrk"),  # a Windows path
        ("session_04.eeg", "session_04.vmrk"),  # the names before the files were renamed
    ],
)
def test_brainvision_files_named_otherwise_are_found_beside_the_header(
    tmp_path: Path, data: str, markers: str
) -> None:
    from eegprep.readers.companions import data_files
    from eegprep.readers.mne_formats import MneReader

    vhdr, truth = _brainvision(tmp_path, "rec")
    _rename_header_entries(vhdr, data, markers)
    header = MneReader.read_header(str(vhdr))
    got = MneReader.read_segment(header, range(5), 0, 500)
    np.testing.assert_allclose(got, truth * 1e6, atol=1e-3)
    assert [a.description for a in header.annotations] == ["Stimulus/S  1", "Stimulus/S  2"]
    assert len(header.warnings) == 2  # one note per file, naming both names
    assert all("which is not there: read 'rec." in w for w in header.warnings)
    assert sorted(Path(p).name for p in data_files(str(vhdr))) == ["rec.eeg", "rec.vmrk"]


@pytest.mark.parametrize("codepage", ["UTF-8", "ANSI", None])
def test_a_brainvision_data_file_named_in_accented_letters_is_found(
    tmp_path: Path, codepage: str | None
) -> None:
    """The header's DataFile= and MarkerFile= were read as Latin-1 whatever its Codepage= said:
    a UTF-8 header naming `données.eeg` (as pybv and Recorder write them) was refused as
    naming a missing `donnÃ©es.eeg`, though MNE reads it. Now decoded as MNE decodes it."""
    from eegprep.readers.companions import data_files
    from eegprep.readers.mne_formats import MneReader

    vhdr, truth = _brainvision(tmp_path, "données")
    other = tmp_path / "session 2.vhdr"  # a header of another stem: found by its entries only
    lines = [ln for ln in vhdr.read_text(encoding="utf-8").splitlines() if "Codepage" not in ln]
    if codepage is not None:
        lines.insert(lines.index("[Common Infos]") + 1, f"Codepage={codepage}")
    other.write_bytes("\n".join(lines).encode("cp1252" if codepage == "ANSI" else "utf-8"))
    vhdr.unlink()
    header = MneReader.read_header(str(other))
    np.testing.assert_allclose(
        MneReader.read_segment(header, range(5), 0, 500), truth * 1e6, atol=1e-3
    )
    assert header.warnings == () and len(header.annotations) == 2
    assert sorted(Path(p).name for p in data_files(str(other))) == ["données.eeg", "données.vmrk"]


def test_a_brainvision_data_file_in_another_folder_is_fingerprinted(tmp_path: Path) -> None:
    from eegprep.readers.companions import data_files
    from eegprep.readers.mne_formats import MneReader

    (tmp_path / "headers").mkdir()
    vhdr, _ = _brainvision(tmp_path / "headers", "rec")
    (tmp_path / "raw").mkdir()
    (vhdr.parent / "rec.eeg").rename(tmp_path / "raw" / "rec.eeg")
    _rename_header_entries(vhdr, "../raw/rec.eeg", "rec.vmrk")
    assert MneReader.read_header(str(vhdr)).warnings == ()
    assert sorted(data_files(str(vhdr))) == [
        str(tmp_path / "headers" / "rec.vmrk"), str(tmp_path / "raw" / "rec.eeg")
    ]  # fmt: skip


@pytest.mark.parametrize("layout", ["channels_first", "time_first"])
def test_a_mat_variable_saved_the_other_way_round_is_read_along_its_time_axis(
    tmp_path: Path, layout: str
) -> None:
    """Another loader saved the transpose of what the manifest's layout says (SPIS: v5 and
    v7.3 copies of one corpus): more channels than samples cannot be EEG, so time is the
    longer axis, with a note; the values are the file's."""
    import scipy.io

    from eegprep.readers.matlab import MatReader

    data = np.random.default_rng(0).normal(0, 10, (6, 1000))  # channels x time
    stored = data.T if layout == "channels_first" else data
    scipy.io.savemat(tmp_path / "rec.mat", {"x": stored})
    header = MatReader.read_header(str(tmp_path / "rec.mat"), data="x", sfreq=250, layout=layout)
    assert [s.n_samples for s in header.signals] == [1000] * 6
    np.testing.assert_array_equal(
        MatReader.read_segment(header, range(6), 0, 1000), data.astype(np.float32)
    )
    [note] = header.warnings
    assert "read as 6 channels x 1000 samples" in note and f"layout = {layout!r}" in note


def test_an_hdf5_file_written_by_h5py_is_read_as_mat_73(tmp_path: Path) -> None:
    """HDF5 written by other software than MATLAB has no MATLAB_class attributes: its numeric
    datasets are numeric arrays (were refused as 'a MATLAB struct'), of their dtype's class."""
    h5py = pytest.importorskip("h5py")
    from eegprep.readers.matlab import MatReader

    data = np.random.default_rng(0).normal(0, 10, (4, 800))
    with h5py.File(tmp_path / "rec.mat", "w") as f:
        f["eeg"] = data.astype(np.float32)  # numpy order: MATLAB sees 800 x 4
        f["counts"] = np.round(data).astype(np.int16)
        f["fs"] = np.array([[200.0]])
    header = MatReader.read_header(
        str(tmp_path / "rec.mat"), data="eeg", sfreq_variable="fs", layout="time_first"
    )
    assert header.signals[0].sfreq == 200.0 and header.warnings == ()
    np.testing.assert_array_equal(
        MatReader.read_segment(header, range(4), 0, 800), data.astype(np.float32)
    )
    counts = MatReader.read_header(str(tmp_path / "rec.mat"), data="counts", sfreq=200)
    assert counts.signals[0].resolution == 1.0  # integer samples: one code is one unit
    np.testing.assert_array_equal(
        MatReader.read_segment(counts, range(4), 0, 800), np.round(data).astype(np.float32)
    )


def test_an_eeg_channel_too_slow_for_the_low_pass_is_left_out_not_the_file(
    tmp_path: Path,
) -> None:
    """pyedflib EDF+ with EEG at 256 Hz and one EEG channel at 128 Hz (below the 75 Hz
    low-pass): the file was refused whole ('set h_freq below 64 Hz'); now that channel is
    left out, with its reason, and the others are stored."""
    pyedflib = pytest.importorskip("pyedflib")
    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    rates = {"Fp1": 256, "Fp2": 256, "C3": 128, "Cz": 256}
    w = pyedflib.EdfWriter(str(src / "rec.edf"), 4, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([
        dict(label=k, dimension="uV", sample_frequency=v, physical_max=500.0,
             physical_min=-500.0, digital_max=32767, digital_min=-32768)
        for k, v in rates.items()
    ])  # fmt: skip
    rng = np.random.default_rng(0)
    w.writeSamples([rng.normal(0, 20, v * 20) for v in rates.values()])
    w.close()
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    assert report.warnings["rec.edf"] == [
        "channels at a rate too low for the 75 Hz low-pass, left out: C3 (128 Hz)"
    ]
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "FP2", "CZ")
    assert ["C3", "128 Hz cannot carry the 75 Hz low-pass"] in rec.meta["dropped_channels"]


def test_an_empty_label_is_quoted_in_the_unknown_channels_line(tmp_path: Path) -> None:
    """An EDF signal whose label is blank (pyedflib writes one): the report line ended in
    ``dropped: `` and named nothing; labels that would not read as themselves are quoted."""
    pyedflib = pytest.importorskip("pyedflib")
    from eegprep.pipeline.channels import unknown_message
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    w = pyedflib.EdfWriter(str(src / "rec.edf"), 3, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([
        dict(label=k, dimension="uV", sample_frequency=256, physical_max=500.0,
             physical_min=-500.0, digital_max=32767, digital_min=-32768)
        for k in ("Fp1", "", "Cz")
    ])  # fmt: skip
    w.writeSamples([np.random.default_rng(i).normal(0, 20, 256 * 20) for i in range(3)])
    w.close()
    report = ingest_folder(src, tmp_path / "s.zarr", mains=50.0)
    assert report.warnings["rec.edf"] == ["channels not in the vocabulary, dropped: ''"]
    assert unknown_message(["Fp1\x00\x01", "EKG", "a, b"]) == (
        "channels not in the vocabulary, dropped: 'Fp1\\x00\\x01', EKG, 'a, b'"
    )


def _pyedflib_edf(path: Path, seconds: int = 4) -> None:
    """A pyedflib EDF (plain, no annotation signal): Fp1 and Cz at 256 Hz, 1 s records."""
    pyedflib = pytest.importorskip("pyedflib")
    w = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDF)
    w.setSignalHeaders([
        dict(label=k, dimension="uV", sample_frequency=256, physical_max=500.0,
             physical_min=-500.0, digital_max=32767, digital_min=-32768)
        for k in ("Fp1", "Cz")
    ])  # fmt: skip
    w.writeSamples([np.random.default_rng(i).normal(0, 20, 256 * seconds) for i in range(2)])
    w.close()


@pytest.mark.parametrize("spelling", [b"1e0     ", b"1.0E+00 "])
def test_a_record_duration_in_exponent_form_is_read_as_the_number_it_spells(
    tmp_path: Path, spelling: bytes
) -> None:
    """'1e0' s per record (MNE reads it as 1 s): pyedflib reads another rate, and the file was
    refused; our own header parser reads it, with a note, and the samples are the file's."""
    from eegprep.readers.edf import EdfReader

    plain = tmp_path / "plain.edf"
    _pyedflib_edf(plain)
    odd = tmp_path / "odd.edf"
    raw = bytearray(plain.read_bytes())
    raw[244:252] = spelling  # the main header's record duration field
    odd.write_bytes(bytes(raw))
    want = EdfReader.read_header(str(plain))
    got = EdfReader.read_header(str(odd))
    assert [s.sfreq for s in got.signals] == [256.0, 256.0] and got.duration == want.duration
    np.testing.assert_array_equal(
        EdfReader.read_segment(got, [0, 1], 0, 1024), EdfReader.read_segment(want, [0, 1], 0, 1024)
    )
    assert [a.description for a in got.annotations] == [a.description for a in want.annotations]
    [note] = got.warnings
    assert "read with eegprep's own header parser" in note


def test_a_decimal_comma_table_is_read(tmp_path: Path) -> None:
    """A European spreadsheet export: ';' between fields, ',' before decimals (was refused
    as having 'no numeric signal columns'); a bad row is named with its line as before."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.csv_table import CsvReader

    values = np.round(np.random.default_rng(0).normal(0, 30, (300, 2)), 3)
    rows = [";".join(f"{v:.3f}".replace(".", ",") for v in row) for row in values]
    good = tmp_path / "good.csv"
    good.write_text("\r\n".join(["Time;Fp1;Cz"] + [f"{i};{r}" for i, r in enumerate(rows)]))
    header = CsvReader.read_header(str(good), sfreq=100, drop=["Time"])
    assert header.labels == ["Fp1", "Cz"] and header.meta_dict()["decimal"] == ","
    np.testing.assert_allclose(CsvReader.read_segment(header, [0, 1], 0, 300), values.T, atol=1e-4)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(["Fp1;Cz", *rows[:5], "1,5;x", *rows[5:]]))
    with pytest.raises(SourceError, match=r"line 7, column 'Cz': 'x' is not a number$"):
        CsvReader.read_header(str(bad), sfreq=100)


@pytest.mark.parametrize(("unit", "resolution"), [("mv", 1e-4), ("millivolts", 1e-4), ("nv", 100)])
def test_a_brainvision_voltage_unit_mne_does_not_know_is_scaled_from_it(
    tmp_path: Path, unit: str, resolution: float
) -> None:
    """MNE knows 'V mV µV uV nV' only; a channel in 'mv' (another writer's spelling) became a
    unitless misc channel whose values are in millivolts, and was stored as if microvolts:
    1000x too small."""
    from eegprep.readers.mne_formats import MneReader

    vhdr, truth = _brainvision(tmp_path, "rec")  # float32, microvolts, resolution 0.1
    text = vhdr.read_text(encoding="utf-8")
    # the same samples, their step stated in another unit: 0.1 uV = 1e-4 mV = 100 nV
    text = text.replace("Ch1=Fp1,,0.1,µV", f"Ch1=Fp1,,{resolution:g},{unit}")
    vhdr.write_text(text, encoding="utf-8")
    header = MneReader.read_header(str(vhdr))
    got = MneReader.read_segment(header, range(5), 0, 500)
    np.testing.assert_allclose(got, truth * 1e6, atol=1e-3)


def test_an_eeg_channel_in_a_unit_that_is_no_voltage_is_named(tmp_path: Path) -> None:
    """pyedflib EDF whose Cz says 'degC' (a temperature sensor on an EEG label): its values
    were stored as microvolts without a word; the report now names it."""
    pyedflib = pytest.importorskip("pyedflib")
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    w = pyedflib.EdfWriter(str(src / "rec.edf"), 3, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([
        dict(label=k, dimension=u, sample_frequency=256, physical_max=500.0,
             physical_min=-500.0, digital_max=32767, digital_min=-32768)
        for k, u in (("Fp1", "uV"), ("Cz", "degC"), ("Pz", "mV"))
    ])  # fmt: skip
    w.writeSamples([np.random.default_rng(i).normal(0, 20, 256 * 20) for i in range(3)])
    w.close()
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.warnings["rec.edf"] == [
        "EEG channels whose unit is not a voltage, values taken as uV: Cz ('degC'); check the "
        "file, or leave them out (`[channels] exclude`)"
    ]


def test_an_eeglab_73_set_without_pymatreader_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EEGLAB saves large datasets as MAT 7.3; MNE reads those only through pymatreader, and
    without it the line was scipy's 'Please use HDF reader ...; check it is complete'."""
    import importlib.util

    pytest.importorskip("eeglabio")
    from eeglabio.raw import export_set

    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader, clear_cache

    path = tmp_path / "big.set"
    data = np.random.default_rng(0).normal(0, 2e-5, (4, 1000))
    export_set(str(path), data, 250.0, ["Fp1", "Fp2", "C3", "Cz"], fmt="v7.3")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pymatreader" else real(name, *a),
    )
    clear_cache()
    with pytest.raises(SourceError, match=r"MAT 7\.3 \(HDF5\) file.*pip install pymatreader$"):
        MneReader.read_header(str(path))


def test_clinical_referential_labels_map_to_their_sites(tmp_path: Path) -> None:
    """A clinical system's referential montage ('EEG Fp1-A1', 'C4-A1', Nihon Kohden's 'POL O1',
    'Cz-CLE') had every channel unknown: the file was refused as having no EEG channel. The
    ear or mastoid reference goes like '-REF' and '-LE' do; 'A1-A2' stays a pair, unknown."""
    pyedflib = pytest.importorskip("pyedflib")
    from eegprep import open_store
    from eegprep.pipeline.channels import classify_channel
    from tests.safety.corpus import ingest_folder

    labels = ["EEG Fp1-A1", "EEG C4-A1", "POL O1", "Cz-CLE", "A1-A2"]
    src = tmp_path / "src"
    src.mkdir()
    w = pyedflib.EdfWriter(str(src / "rec.edf"), len(labels), file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([
        dict(label=k, dimension="uV", sample_frequency=256, physical_max=500.0,
             physical_min=-500.0, digital_max=32767, digital_min=-32768)
        for k in labels
    ])  # fmt: skip
    w.writeSamples([np.random.default_rng(i).normal(0, 20, 256 * 20) for i in range(len(labels))])
    w.close()
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "C4", "O1", "CZ")
    assert report.warnings["rec.edf"] == ["channels not in the vocabulary, dropped: A1-A2"]
    assert [classify_channel(x).name for x in ("Fp1 [uV]", "T3-M2", "EEG A1-REF")] == [
        "FP1",
        "T3",
        "A1",
    ]


_ASCII_VHDR = """Brain Vision Data Exchange Header File Version 1.0

[Common Infos]
Codepage=UTF-8
DataFile=rec.dat
MarkerFile=rec.vmrk
DataFormat=ASCII
DataOrientation=MULTIPLEXED
NumberOfChannels=2
SamplingInterval=4000

[ASCII Infos]
DecimalSymbol={decimal}
SkipLines=1
SkipColumns=0

[Channel Infos]
Ch1=Fp1,,1,µV
Ch2=Cz,,1,µV
"""


@pytest.mark.parametrize("decimal", [".", ","])
def test_an_ascii_brainvision_file_is_read(tmp_path: Path, decimal: str) -> None:
    """BrainVision with DataFormat=ASCII (a text data file; BrainVision Analyzer's export):
    MNE reads it, and our data-file size check failed on it with 'TypeError: unhashable type:
    dict' (MNE keeps the [ASCII Infos] as a dict where binary files have a type name)."""
    from eegprep.readers.mne_formats import MneReader

    values = np.round(np.random.default_rng(0).normal(0, 20, (2, 500)), 2)
    (tmp_path / "rec.vhdr").write_text(_ASCII_VHDR.format(decimal=decimal), encoding="utf-8")
    rows = [" ".join(f"{v:.2f}".replace(".", decimal) for v in col) for col in values.T]
    (tmp_path / "rec.dat").write_text("\n".join(["Fp1 Cz", *rows]) + "\n")
    header = MneReader.read_header(str(tmp_path / "rec.vhdr"))
    assert header.labels == ["Fp1", "Cz"] and header.signals[0].sfreq == 250.0
    np.testing.assert_allclose(MneReader.read_segment(header, [0, 1], 0, 500), values, atol=1e-4)


def test_an_epoched_eeglab_set_is_named_as_such(tmp_path: Path) -> None:
    """eeglabio's epochs export (3 trials): the line was MNE's advice to programmers
    ('Please use mne.io.read_epochs_eeglab') followed by 'check it is complete'."""
    pytest.importorskip("eeglabio")
    from eeglabio.epochs import export_set

    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader

    data = np.random.default_rng(0).normal(0, 2e-5, (3, 4, 250))
    events = np.array([[0, 0, 1], [250, 0, 2], [500, 0, 1]])
    path = tmp_path / "epochs.set"
    export_set(str(path), data, 250, events, 0.0, 0.996, ["Fp1", "Fp2", "C3", "Cz"])
    with pytest.raises(SourceError, match=r": an epoched EEGLAB dataset \(3 trials\), not a"):
        MneReader.read_header(str(path))


@pytest.mark.parametrize("fmt", ["v5", "v7.3"])
def test_an_eeglab_set_counts_its_channel_locations_in_every_mat_version(
    tmp_path: Path, fmt: str
) -> None:
    """A MAT 7.3 ``chanlocs`` (an HDF5 group, listed with no shape) counted as 1 entry, so
    the ``.set`` checks refused every 7.3 dataset of 2 or more channels ('EEG.chanlocs lists 1
    channels but EEG.nbchan is 4') whenever pymatreader was there for MNE to read it."""
    pytest.importorskip("eeglabio")
    from eeglabio.raw import export_set

    from eegprep.readers.set_header import check_set, read_set_fields

    path = tmp_path / "rec.set"
    data = np.random.default_rng(0).normal(0, 2e-5, (4, 1000))
    export_set(str(path), data, 250.0, ["Fp1", "Fp2", "C3", "Cz"], fmt=fmt)
    fields = read_set_fields(str(path))
    assert fields is not None and fields.n_chanlocs == 4
    check_set(str(path))


@pytest.mark.parametrize("variant", ["v7.3 without pymatreader", "EEG struct, .fdt missing"])
def test_an_epoched_eeglab_set_is_named_as_such_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    """Epochs were refused only when MNE read the samples: pymatreader's
    ``test_epochs_onefile_h5.set`` (MAT 7.3, 4 trials) was sent to install pymatreader, and an
    epoched ``EEG`` struct whose ``.fdt`` is not there to copy it; either way the user fixed
    that and was refused again. ``EEG.trials`` is read first, in every MAT version and layout."""
    import importlib.util

    import scipy.io

    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader, clear_cache

    path = tmp_path / "epochs.set"
    counts = {"srate": 250.0, "nbchan": 4.0, "pnts": 250.0, "trials": 3.0}
    if variant.startswith("v7.3"):  # eeglabio's own 7.3 epochs export fails in h5py
        from eegprep.testing.mat73_writer import write_mat73

        write_mat73(path, {**counts, "data": np.zeros((4, 250, 3), np.float32)})
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "pymatreader" else real(name, *a),
        )
    else:
        scipy.io.savemat(path, {"EEG": {**counts, "data": "epochs.fdt"}})
    clear_cache()
    with pytest.raises(SourceError, match=r": an epoched EEGLAB dataset \(3 trials\), not a"):
        MneReader.read_header(str(path))


def test_a_brainvision_header_listing_more_channels_than_it_counts_is_refused(
    tmp_path: Path,
) -> None:
    """NumberOfChannels=4 over a 5-channel data file whose five channels [Channel Infos] lists:
    MNE dropped Ch5 and read the samples as 4 channels (every value misplaced, silently)."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader

    vhdr, _ = _brainvision(tmp_path, "rec")
    vhdr.write_text(
        vhdr.read_text(encoding="utf-8").replace("NumberOfChannels=5", "NumberOfChannels=4"),
        encoding="utf-8",
    )
    with pytest.raises(
        SourceError, match=r"NumberOfChannels=4 but \[Channel Infos\] also lists Ch5="
    ):
        MneReader.read_header(str(vhdr))


def test_a_missing_samples_file_is_named_by_its_field(tmp_path: Path) -> None:
    """A BrainVision .eeg or an EEGLAB .fdt that is not there: MNE's FileNotFoundError gave an
    absolute path and our line ended 'check it is complete'."""
    import scipy.io

    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader

    vhdr, _ = _brainvision(tmp_path, "rec")
    (tmp_path / "rec.eeg").unlink()
    with pytest.raises(SourceError) as bv:
        MneReader.read_header(str(vhdr))
    assert bv.value.problem == (
        "its samples file 'rec.eeg' (DataFile= in it) is not beside it, under that name or its "
        "own stem: copy it there, or re-download the recording"
    )
    pytest.importorskip("eeglabio")
    from eeglabio.raw import export_set

    export_set(str(tmp_path / "s.set"), np.zeros((2, 500)), 250.0, ["Fp1", "Cz"])
    fields = scipy.io.loadmat(tmp_path / "s.set", appendmat=False)
    fields = {k: v for k, v in fields.items() if not k.startswith("__")}
    scipy.io.savemat(tmp_path / "split.set", {**fields, "data": "split_samples.fdt"})
    with pytest.raises(SourceError, match=r"'split_samples\.fdt' \(EEG\.data in it\) is not"):
        MneReader.read_header(str(tmp_path / "split.set"))


def test_an_eeglab_samples_file_in_upper_case_is_read(tmp_path: Path) -> None:
    """EEG.data = 'REC.FDT' (saved on Windows): MNE refuses any extension but '.fdt' with a
    message about its own parameter, and eegprep refused it too; it is read now, as EEGLAB
    reads it (tests/eegprep/test_companion_case.py has every case). Another extension is
    still one line saying what to rename."""
    import scipy.io

    pytest.importorskip("eeglabio")
    from eeglabio.raw import export_set

    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader

    export_set(str(tmp_path / "s.set"), np.zeros((2, 500)), 250.0, ["Fp1", "Cz"])
    fields = scipy.io.loadmat(tmp_path / "s.set", appendmat=False)
    fields = {k: v for k, v in fields.items() if not k.startswith("__")}
    scipy.io.savemat(tmp_path / "rec.set", {**fields, "data": "REC.FDT"})
    np.ones((500, 2), dtype="<f4").tofile(tmp_path / "REC.FDT")
    header = MneReader.read_header(str(tmp_path / "rec.set"))
    np.testing.assert_array_equal(MneReader.read_segment(header, [0, 1], 0, 500), 1.0)
    scipy.io.savemat(tmp_path / "bin.set", {**fields, "data": "REC.BIN"})
    np.ones((500, 2), dtype="<f4").tofile(tmp_path / "REC.BIN")
    with pytest.raises(SourceError, match=r"EEG\.data names a samples file ending in '\.BIN'"):
        MneReader.read_header(str(tmp_path / "bin.set"))


@pytest.mark.parametrize("suffix", [".SET", ".Set"])
def test_an_eeglab_file_with_an_upper_case_suffix_is_read(tmp_path: Path, suffix: str) -> None:
    """MNE refuses an EEGLAB file named anything but ``.set`` ("Allowed values are '.set' and
    '.fdt', but got '.SET'"), and our line blamed EEG.data; it is read through a ``.set``
    link now, samples embedded or in a ``.fdt``, as the same file named ``.set``."""
    import os
    import shutil

    import scipy.io

    pytest.importorskip("eeglabio")
    from eeglabio.raw import export_set

    from eegprep.readers.mne_formats import MneReader, clear_cache

    rng = np.random.default_rng(0)
    export_set(str(tmp_path / "s.set"), rng.standard_normal((2, 500)) * 1e-5, 250.0,
               ["Fp1", "Cz"])  # fmt: skip
    fields = scipy.io.loadmat(tmp_path / "s.set", appendmat=False)
    fields = {k: v for k, v in fields.items() if not k.startswith("__")}
    scipy.io.savemat(tmp_path / "split.set", {**fields, "data": "split.fdt"})
    (rng.standard_normal((500, 2)) * 10).astype("<f4").tofile(tmp_path / "split.fdt")
    for stem in ("s", "split"):
        lower = str(tmp_path / f"{stem}.set")
        other = tmp_path / "other" / f"{stem}{suffix}"
        other.parent.mkdir(exist_ok=True)
        shutil.copy(lower, other)
        if stem == "split":
            shutil.copy(tmp_path / "split.fdt", other.parent / "split.fdt")
        want = MneReader.read_header(lower)
        got = MneReader.read_header(str(other))
        assert got.signals == want.signals and got.duration == want.duration
        n = round(want.duration * want.signals[0].sfreq)
        clear_cache()  # the samples read later, after the header's links were made
        a = MneReader.read_segment(want, [0, 1], 0, n)
        b = MneReader.read_segment(got, [0, 1], 0, n)
        assert np.array_equal(a, b) and np.abs(a).max() > 0, stem
        assert os.path.exists(other)


@pytest.mark.parametrize("kind", ["epo", "ave", "eve"])
def test_a_fif_that_is_no_raw_recording_is_named_as_such(tmp_path: Path, kind: str) -> None:
    """A folder of MNE results beside the raw FIF (eeglabio ships ``test-eve.fif``): epochs,
    an average and events were each 'MNE cannot read this FIF file: ValueError: No raw data in
    /abs/path...; check it is complete', advice for a damaged file, with the path spelt twice.
    The raw FIF beside them is ingested."""
    import mne

    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    info = mne.create_info(["Fp1", "Fp2", "Cz"], 250.0, "eeg")
    x = np.random.default_rng(0).normal(0, 2e-5, (3, 250 * 20))
    mne.io.RawArray(x, info, verbose="error").save(src / "rec_raw.fif", verbose="error")
    name = f"rec-{kind}.fif"
    if kind == "epo":
        epochs = mne.EpochsArray(x[:, :750].reshape(3, 3, 250).swapaxes(0, 1), info)
        epochs.save(src / name, verbose="error")
    elif kind == "ave":
        mne.EvokedArray(x[:, :250], info).save(src / name, verbose="error")
    else:
        mne.write_events(src / name, np.array([[250, 0, 1], [500, 0, 2]]), verbose="error")
    report = ingest_folder(src, tmp_path / "s.zarr")
    (line,) = report.failed
    assert line.startswith(f"{name}: this FIF file holds no continuous recording"), line
    assert "\n" not in line and str(tmp_path) not in line and "complete" not in line
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "FP2", "CZ")


def test_a_raw_fif_cut_short_anywhere_is_named_truncated(tmp_path: Path) -> None:
    """A raw FIF cut in its header was 'holds no continuous recording (... MNE epochs, an
    evoked average ...)' or 'MNE cannot read this FIF file: ValueError: can only convert an
    array of size 1 ...', as though whole; every cut is now one 'file is truncated' line
    (ingest's word for a cut EDF), and the whole file beside the cut ones is ingested."""
    import mne

    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    info = mne.create_info(["Fp1", "Fp2", "Cz"], 250.0, "eeg")
    x = np.random.default_rng(0).normal(0, 2e-5, (3, 250 * 20))
    mne.io.RawArray(x, info, verbose="error").save(src / "whole_raw.fif", verbose="error")
    data = (src / "whole_raw.fif").read_bytes()
    cuts = [100, 1000, 2000, len(data) // 2, len(data) - 100]
    for n in cuts:
        (src / f"cut{n}_raw.fif").write_bytes(data[:n])
    report = ingest_folder(src, tmp_path / "s.zarr")
    failed = sorted(report.failed)
    assert len(failed) == len(cuts), failed
    for line in failed:
        assert "file is truncated" in line and "re-download it" in line, line
        assert "\n" not in line and "no continuous recording" not in line, line
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "FP2", "CZ")


@pytest.mark.parametrize("fmt", ["BrainVision", "EEGLAB"])
def test_a_recording_whose_samples_do_not_follow_on_in_time_is_kept_stretch_by_stretch(
    tmp_path: Path, fmt: str
) -> None:
    """A BrainVision recording paused and resumed (a second 'New Segment' marker) and an EEGLAB
    dataset with stretches cut out ('boundary' events) were stored as one continuous
    recording, first without a word, then with a warning asking the user to split it; now
    each stretch is filtered alone, the record lists the join at the store rate (1 s: sample
    200), and the warning says so in one line (the events themselves are kept)."""
    from eegprep import open_store
    from eegprep.pipeline import preprocess
    from eegprep.pipeline.recipe import Recipe
    from eegprep.readers.mne_formats import MneReader
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    if fmt == "BrainVision":
        vhdr, _ = _brainvision(src, "rec")
        vmrk = vhdr.with_suffix(".vmrk")
        lines = vmrk.read_text(encoding="utf-8").rstrip("\n")
        vmrk.write_text(lines + "\nMk3=New Segment,,251,1,0,20200101120000000000\n", "utf-8")
        name, kind = "rec.vhdr", "BrainVision 'New Segment'"
    else:
        pytest.importorskip("eeglabio")
        from eeglabio.raw import export_set

        data = np.random.default_rng(0).normal(0, 2e-5, (4, 2500))
        data[:, 250:] += 4e-4  # a step of 400 uV where the stretch cut out was
        cut = (np.array(["boundary"]), np.array([1.0]), np.array([0.0]))
        export_set(str(src / "rec.set"), data, 250.0, ["Fp1", "Fp2", "C3", "Cz"], annotations=cut)
        name, kind = "rec.set", "EEGLAB 'boundary'"
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    joins = [w for w in report.warnings[name] if w.startswith("discontinuous: ")]
    # (the marker file gives no recording start, so how long it paused is unknown; the
    # boundary states 0 samples removed)
    unstated = (
        "; how long it paused is not stated (no 'New Segment' marker at the first sample gives "
        "the recording's start): a sidecar's times are not moved"
    )
    assert joins == [
        f"discontinuous: {kind} marker where the samples do not follow on in time; its 2 "
        "stretches are kept separately (filtered each alone, no window across a join), stored "
        "end to end with joins at 1 s" + (unstated if fmt == "BrainVision" else "")
    ]
    store = open_store(tmp_path / "s.zarr")
    (rec,) = store.recordings
    assert rec.joins == (200,)
    header = MneReader.read_header(str(src / name))
    n = header.signals[0].n_samples
    source = MneReader.read_segment(header, list(range(len(header.signals))), 0, n)
    recipe = Recipe.from_dict(store.recipe)
    alone = [preprocess.process(p, 250.0, 60.0, recipe) for p in np.split(source, [250], axis=1)]
    step = float(rec.meta.get("max_error_uv") or 0.0)  # (every channel stored, in file order)
    np.testing.assert_allclose(store.read(rec.id), np.hstack(alone), atol=step + 1e-3, rtol=0)
