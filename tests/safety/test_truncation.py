"""A file shorter than its header claims is refused, one line with both sizes, by every reader
that can know; a longer one is read as its header describes it, with a warning naming both
counts. pyedflib's C messages never reach stdout (``--json`` stays parseable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import write_edf

LABELS = ["EEG FP1-REF", "EEG FP2-REF", "EEG C3-REF", "EEG C4-REF"]
RECORD_BYTES = 4 * 250 * 2  # 4 signals x 250 samples x 2 bytes
READERS = [EdfReader, MneReader]


def _edf(path: Path, seconds: int = 10) -> Path:
    rng = np.random.default_rng(0)
    signals = [20 * rng.standard_normal(250 * seconds) for _ in LABELS]
    write_edf(path, signals, labels=LABELS, sfreqs=250)
    return path


@pytest.fixture(autouse=True)
def _fresh_mne_cache() -> None:
    clear_cache()


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_shorter_edf_is_refused_naming_both_sizes(reader, tmp_path: Path) -> None:
    full = _edf(tmp_path / "full.edf").read_bytes()
    cut = tmp_path / "cut.edf"
    cut.write_bytes(full[: -RECORD_BYTES - 10])
    with pytest.raises(SourceError, match=r"truncated: .*claims 10 data records.*8 whole"):
        reader.read_header(str(cut))


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_longer_edf_reads_the_header_count_and_warns(reader, tmp_path: Path) -> None:
    path = _edf(tmp_path / "long.edf")
    good = reader.read_header(str(path))
    before = reader.read_segment(good, [0, 1], 0, 2500)
    clear_cache()
    with open(path, "ab") as fh:
        fh.write(path.read_bytes()[-2 * RECORD_BYTES :])  # two records the header does not count
    header = reader.read_header(str(path))
    assert header.signals[0].n_samples == good.signals[0].n_samples == 2500
    (warning,) = header.warnings
    assert "header counts 10 data records" in warning and "12 whole records" in warning
    x = reader.read_segment(header, [0, 1], 0, 2500)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_unknown_record_count_without_a_whole_record_is_refused(reader, tmp_path: Path) -> None:
    """A count of -1 (a recording not closed) is read for the whole records the file holds
    (tests/eegprep/test_edf_other_writers.py); a file that holds none is refused."""
    path = _edf(tmp_path / "open.edf")
    data = bytearray(path.read_bytes()[: 256 * 5 + RECORD_BYTES - 1])
    data[236:244] = b"-1      "
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"-1 data records .* no whole record of 2000 bytes"):
        reader.read_header(str(path))


def _brainvision(tmp_path: Path) -> Path:
    from pybv import write_brainvision

    data = np.random.default_rng(1).normal(scale=20e-6, size=(3, 500))
    write_brainvision(
        data=data, sfreq=250.0, ch_names=["Fp1", "Cz", "O1"], fname_base="bv",
        folder_out=str(tmp_path), overwrite=True,
    )  # fmt: skip
    return tmp_path / "bv.vhdr"


def test_brainvision_data_file_cut_inside_a_sample_is_refused(tmp_path: Path) -> None:
    vhdr = _brainvision(tmp_path)
    eeg = tmp_path / "bv.eeg"
    eeg.write_bytes(eeg.read_bytes()[:-6])  # inside a sample (3 x float32): MNE reads 499
    with pytest.raises(SourceError, match=r"data file bv.eeg ends inside a sample: its 5994 "):
        MneReader.read_header(str(vhdr))


def _eeglab_with_fdt(tmp_path: Path, n_samples: int = 500) -> tuple[Path, Path]:
    import scipy.io
    from eeglabio.raw import export_set

    data = np.random.default_rng(2).normal(scale=20e-6, size=(3, n_samples))
    embedded = tmp_path / "embedded.set"
    export_set(str(embedded), data, 250.0, ["Fp1", "Cz", "O1"], precision="single")
    fields = {k: v for k, v in scipy.io.loadmat(embedded).items() if not k.startswith("__")}
    fields["data"] = "rec.fdt"
    path, fdt = tmp_path / "rec.set", tmp_path / "rec.fdt"
    scipy.io.savemat(path, fields, appendmat=False)
    (data * 1e6).astype("<f4").T.tofile(fdt)  # EEGLAB: float32, channels fastest
    return path, fdt


def test_eeglab_fdt_shorter_is_refused_longer_warns(tmp_path: Path) -> None:
    path, fdt = _eeglab_with_fdt(tmp_path)
    whole = fdt.read_bytes()
    fdt.write_bytes(whole[: -3 * 4 * 10])
    with pytest.raises(SourceError, match=r"data file rec.fdt is truncated: 5880 bytes"):
        MneReader.read_header(str(path))
    clear_cache()
    fdt.write_bytes(whole + whole[: 3 * 4 * 10])
    header = MneReader.read_header(str(path))
    assert header.signals[0].n_samples == 500
    assert "longer than its header" in header.warnings[0] and "510 samples" in header.warnings[0]


@pytest.mark.parametrize("version", ["1.25", "2.20"])
@pytest.mark.parametrize("sample_type", ["int16", "float32"])
def test_shorter_gdf_is_refused_naming_both_sizes(
    tmp_path: Path, sample_type: str, version: str
) -> None:
    """GDF 1.x and 2.x (MNE reads the event table from the middle of a cut file's data, or
    fails with an IndexError): refused before MNE opens it, whether cut or claiming more
    records, or more channels than the file can describe."""
    from eegprep.testing.fixtures.gdf_writer import write_gdf

    x = 20 * np.random.default_rng(0).standard_normal((4, 2500))
    full = write_gdf(tmp_path / "full.gdf", x, ["FP1", "FP2", "C3", "C4"], 250,
                     sample_type=sample_type, version=version).read_bytes()  # fmt: skip
    record = 4 * 250 * (2 if sample_type == "int16" else 4)
    header = 256 * 5
    cut = tmp_path / "cut.gdf"
    cut.write_bytes(full[: header + 7 * record + 10])
    with pytest.raises(SourceError, match=r"truncated: .*claims 10 data records.*7 whole"):
        MneReader.read_header(str(cut))
    claims = bytearray(full)
    claims[236:244] = (12).to_bytes(8, "little")  # two records more than the file holds
    more = tmp_path / "more.gdf"
    more.write_bytes(bytes(claims))
    with pytest.raises(SourceError, match=r"truncated: .*claims 12 data records.*10 whole"):
        MneReader.read_header(str(more))
    assert MneReader.read_header(str(tmp_path / "full.gdf")).signals[0].n_samples == 2500
    claims = bytearray(full)
    width = 4 if version == "1.25" else 2  # the channel count: uint32, or uint16 in GDF 2
    claims[252 : 252 + width] = b"\xff" * width  # 4 billion (65,535) channels: refused at once
    many = tmp_path / "many.gdf"
    many.write_bytes(bytes(claims))
    with pytest.raises(SourceError, match=rf"claims {2 ** (8 * width) - 1} channels, .* damaged"):
        MneReader.read_header(str(many))


@pytest.mark.parametrize("n_bytes", [2, 4])
def test_shorter_neuroscan_cnt_is_refused_naming_both_sizes(tmp_path: Path, n_bytes: int) -> None:
    """A CNT's samples end where its header places the event table: a file cut among the
    samples, inside the event table or inside the header is refused in one line naming the
    sizes (MNE says only ``unpack requires a buffer of 9 bytes``); the whole file reads."""
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    x = 20 * np.random.default_rng(0).standard_normal((4, 2000))
    full = write_cnt(tmp_path / "full.cnt", x, ["FP1", "FP2", "C3", "C4"], 200, n_bytes=n_bytes,
                     events=[(100, 1), (900, 2)]).read_bytes()  # fmt: skip
    table = 900 + 75 * 4 + 2000 * 4 * n_bytes
    header = MneReader.read_header(str(tmp_path / "full.cnt"))
    assert header.signals[0].n_samples == 2000 and len(header.annotations) == 2
    for cut, expected in (
        (
            table - 4 * n_bytes * 3,
            rf"event table\) at byte {table} but it has {table - 12 * n_bytes}",
        ),
        (table + 9 + 19, rf"event table holds 38 bytes from byte {table + 9}, but the file has"),
        (600, r"600 bytes, less than the 900-byte CNT header"),
    ):
        path = tmp_path / f"cut{cut}.cnt"
        path.write_bytes(full[:cut])
        with pytest.raises(SourceError, match=r"file is truncated: .*" + expected) as err:
            MneReader.read_header(str(path))
        assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_truncated_fif_is_refused(tmp_path: Path) -> None:
    import mne

    info = mne.create_info(["Fp1", "Cz", "O1"], 250.0, "eeg")
    data = np.random.default_rng(3).normal(scale=20e-6, size=(3, 2500))
    path = tmp_path / "rec_raw.fif"
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SourceError, match=r"file is truncated \(Invalid tag"):
        MneReader.read_header(str(path))


def test_ingest_json_stays_json_with_a_truncated_edf(tmp_path: Path) -> None:
    """pyedflib prints ``filesize ... != ...`` from C on fd 1; the report on stdout must parse."""
    root = tmp_path / "tuh"
    rel = "edf/000/aaaaaaaa/s001_2015/01_tcp_ar/aaaaaaaa_s001_t000.edf"
    (root / rel).parent.mkdir(parents=True)
    full = _edf(tmp_path / "full.edf", seconds=20).read_bytes()
    (root / rel).write_bytes(full[:-RECORD_BYTES])
    cmd = [sys.executable, "-c", "from cli import eegprep_cli; eegprep_cli()"]
    args = ["ingest", "tuh", "--src", str(root), "--out", str(tmp_path / "s.zarr")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [*cmd, *args, "--workers", "0", "--json"], capture_output=True, text=True, env=env
    )
    report = json.loads(proc.stdout)
    assert proc.returncode == 3, proc.stderr
    (line,) = report["failed"]
    assert line.startswith(rel + ": file is truncated: its header claims 20 data records")


@pytest.mark.parametrize("layout", ["chunked", "contiguous"])
def test_mat73_data_never_written_is_refused_not_read_as_zeros(tmp_path: Path, layout: str) -> None:
    """A MAT 7.3 (HDF5) variable whose shape declares more samples than the file stores: HDF5
    would read the rest as zeros (here 62 channels x 10^8 samples: 5.8 days at 200 Hz)."""
    import h5py

    from eegprep.readers.matlab_files import data_info

    path = tmp_path / "cut.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        shape = (100_000_000, 62)  # MATLAB's order: samples x channels for a 62 x 1e8 array
        if layout == "chunked":
            ds = f.create_dataset("eeg", shape=shape, dtype="<f8", chunks=(10_000, 62))
            ds[:10_000] = 1.0  # one chunk of 10,000 written
        else:
            f.create_dataset("eeg", shape=shape, dtype="<f8")  # never written: no storage
        ds = f["eeg"]
        ds.attrs["MATLAB_class"] = np.bytes_("double")
    with open(path, "r+b") as fh:  # MATLAB's 7.3 signature in the user block
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    with pytest.raises(SourceError, match="declares shape \\(62, 100000000\\)"):
        data_info(str(path), "7.3", "eeg")


def test_eeglab_data_of_another_shape_than_its_fields_is_named(tmp_path: Path) -> None:
    """An embedded .set whose pnts says 3000 samples over 2500 stored: MNE asserts, and the
    line said only "AssertionError: (3000, 2500)". Now named from the fields, before MNE."""
    import scipy.io
    from eeglabio.raw import export_set

    data = np.random.default_rng(3).normal(scale=20e-6, size=(3, 2500))
    path = tmp_path / "emb.set"
    export_set(str(path), data, 250.0, ["Fp1", "Cz", "O1"], precision="single")
    fields = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    fields["pnts"] = np.array([[3000.0]])
    scipy.io.savemat(path, fields, appendmat=False)
    clear_cache()
    with pytest.raises(
        SourceError, match=r"EEG.data holds 3 x 2500 values but EEG.nbchan x EEG.pnts is 3 x 3000"
    ):
        header = MneReader.read_header(str(path))
        MneReader.read_segment(header, [0, 1, 2], 0, header.signals[0].n_samples)
