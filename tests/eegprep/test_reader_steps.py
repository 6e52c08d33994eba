"""Every format read through MNE that stores integer samples reports its ADC step, so that the
default (``auto``) encoding stores it quantized, as it does EDF; float formats report none."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures.cnt_writer import write_cnt
from eegprep.testing.fixtures.gdf_writer import write_gdf

try:  # the repository root on sys.path (PYTHONPATH=. or tests/ as a package)
    from tests.eegprep.reader_checks import check_reader
except ImportError:  # pytest's rootdir-less "prepend" import of tests/eegprep
    from reader_checks import check_reader

LABELS = ["Fp1", "Fp2", "Cz"]


def _data_v(n: int = 1000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=20e-6, size=(len(LABELS), n))


def _on_grid(x_uv: np.ndarray, step_uv: float) -> float:
    """The largest distance, in steps, from a sample to the nearest multiple of ``step_uv``."""
    codes = x_uv.astype(np.float64) / step_uv
    return float(np.abs(codes - np.round(codes)).max())


def _brainvision(folder, fmt: str, resolution: float) -> str:
    """A BrainVision recording in ``fmt``: pybv's ``binary_int16`` or ``binary_float32``, or
    ``binary_int32``, its int16 codes rewritten as INT_32 (which pybv does not write)."""
    from pybv import write_brainvision

    written = "binary_int16" if fmt == "binary_int32" else fmt
    write_brainvision(data=_data_v(), sfreq=250.0, ch_names=LABELS, fname_base=fmt,
                      folder_out=str(folder), fmt=written, resolution=resolution, unit="µV",
                      overwrite=True)  # fmt: skip
    vhdr, eeg = folder / f"{fmt}.vhdr", folder / f"{fmt}.eeg"
    if fmt == "binary_int32":
        eeg.write_bytes(np.fromfile(eeg, "<i2").astype("<i4").tobytes())
        text = vhdr.read_text(encoding="utf-8")
        assert "BinaryFormat=INT_16" in text
        vhdr.write_text(text.replace("BinaryFormat=INT_16", "BinaryFormat=INT_32"), "utf-8")
    clear_cache()
    return str(vhdr)


@pytest.mark.parametrize(("fmt", "resolution"), [("binary_int16", 0.1), ("binary_int32", 0.05)])
def test_brainvision_integers_report_their_resolution(tmp_path, fmt, resolution) -> None:
    pytest.importorskip("pybv")
    header = MneReader.read_header(_brainvision(tmp_path, fmt, resolution))
    assert [s.resolution for s in header.signals] == pytest.approx([resolution] * 3, rel=1e-9)
    x = MneReader.read_segment(header, [0, 1, 2], 0, 1000)
    assert _on_grid(x, resolution) < 1e-2  # the step is the file's: float32 round-off only


def test_brainvision_floats_report_no_step(tmp_path) -> None:
    pytest.importorskip("pybv")
    header = MneReader.read_header(_brainvision(tmp_path, "binary_float32", 0.1))
    assert [s.resolution for s in header.signals] == [0.0] * 3


@pytest.mark.parametrize("n_bytes", [2, 4])
def test_neuroscan_cnt_reports_its_resolution(tmp_path, n_bytes) -> None:
    path = write_cnt(tmp_path / "rec.cnt", _data_v() * 1e6, ["FP1", "FP2", "CZ"], 200,
                     resolution_uv=0.05, n_bytes=n_bytes)  # fmt: skip
    data_format = "int16" if n_bytes == 2 else "int32"
    header = MneReader.read_header(str(path), data_format=data_format)
    # the file holds the factor as float32 fields (cal * sensitivity / 204.8)
    assert [s.resolution for s in header.signals] == pytest.approx([0.05] * 3, rel=1e-6)
    step = header.signals[0].resolution
    assert _on_grid(MneReader.read_segment(header, [0], 0, 1000), step) < 1e-2


def test_fif_short_buffers_report_cal_times_range_and_float_buffers_none(tmp_path) -> None:
    info = mne.create_info([*LABELS, "STI"], 250.0, ["eeg", "eeg", "eeg", "stim"])
    stim = np.tile([0.0, 1.0, 0.0, 2.0], 250)[None]
    raw = mne.io.RawArray(np.vstack([_data_v(), stim]), info, verbose="error")
    short, single = str(tmp_path / "short_raw.fif"), str(tmp_path / "single_raw.fif")
    raw.save(short, fmt="short", verbose="error")
    raw.save(single, verbose="error")
    clear_cache()
    header = MneReader.read_header(short)
    again = mne.io.read_raw_fif(short, verbose="error")
    expected = [ch["cal"] * ch["range"] for ch in again.info["chs"]]
    got = [s.resolution / s.to_uv for s in header.signals]
    assert got == pytest.approx(expected, rel=1e-12)
    assert all(s.resolution > 0 for s in header.signals)
    eeg = MneReader.read_segment(header, [0, 1, 2], 0, 1000)
    for row, signal in zip(eeg, header.signals, strict=False):
        assert _on_grid(row[None], signal.resolution) < 1e-2
    assert [s.resolution for s in MneReader.read_header(single).signals] == [0.0] * 4


@pytest.mark.parametrize("version", ["1.25", "2.20"])
@pytest.mark.parametrize(
    ("sample_type", "step"), [("int16", 0.1), ("int32", 2 * 3276.7 / (2**32 - 2)), ("float32", 0.0)]
)
def test_gdf_reads_and_reports_the_step_of_integer_types(
    tmp_path, sample_type, step, version
) -> None:
    """GDF 1.25 and 2.20 files (written here: MNE reads GDF but cannot write it), read against
    the microvolts written, within half a code; integer types report their code, float32 none."""
    x = _data_v(1000) * 1e6
    path = write_gdf(tmp_path / "rec.gdf", x, ["FP1", "FP2", "CZ"], 250, sample_type=sample_type,
                     version=version)  # fmt: skip
    header, _ = check_reader(MneReader, str(path), expected_labels=["FP1", "FP2", "CZ"],
                             expected_sfreq=250.0, expected_n_samples=1000, reference_uv=x,
                             atol=max(step, 1e-4) / 2 + 1e-4)  # fmt: skip
    assert [s.resolution for s in header.signals] == pytest.approx([step] * 3, rel=1e-9)
    # the file states its physical range for integer codes (the clipping check's rails)
    rails = [None] * 3 if not step else [(-3276.7, 3276.7)] * 3
    assert [s.range_uv for s in header.signals] == [
        None if r is None else pytest.approx(r, rel=1e-9) for r in rails
    ]
    if step > 1e-3:  # (int32's step here is below float32's resolution of the samples)
        full = MneReader.read_segment(header, [0, 1, 2], 0, 1000)
        # codes are offset by half a step from zero here (an even digital span): distance to
        # the grid through that offset
        offset = -3276.7 - (np.iinfo(sample_type).min + 1) * step
        assert _on_grid(full.astype(np.float64) - offset, step) < 2e-2


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_edf_through_mne_reports_the_step_eegprep_reads(tmp_path, suffix) -> None:
    """An EDF or BDF given an MNE option is read by MNE: its steps equal eegprep's reader's."""
    path = tmp_path / f"rec{suffix}"
    write_edf(path, list(_data_v() * 1e6), labels=["FP1", "FP2", "CZ"], sfreqs=[250] * 3,
              physical_min=-500.0, physical_max=500.0, bdf=suffix == ".bdf")  # fmt: skip
    ours = EdfReader.read_header(str(path))
    through_mne = MneReader.read_header(str(path), stim_channel=None)
    assert through_mne.reader == MneReader.name
    mine = [s.resolution for s in ours.signals]
    assert all(r > 0 for r in mine)
    assert [s.resolution for s in through_mne.signals] == pytest.approx(mine, rel=1e-9)
    for theirs, want in zip(through_mne.signals, ours.signals, strict=True):
        assert theirs.range_uv == pytest.approx(want.range_uv, rel=1e-9)  # (for clipping)


def test_auto_encoding_quantizes_integer_brainvision_and_keeps_floats(tmp_path) -> None:
    """The default encoding: BrainVision INT_16 at 0.1 uV is stored at 0.1 / 8 uV (error at
    most 1/16 of the step, stated in the record); IEEE_FLOAT_32 as float32."""
    pytest.importorskip("pybv")
    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.pipeline.recipe import Recipe

    src = tmp_path / "src"
    src.mkdir()
    _brainvision(src, "binary_int16", 0.1)
    _brainvision(src, "binary_float32", 0.1)
    cfg = IngestConfig(workers=0, mains=50.0, progress=False)
    rep = ingest("folder", src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.failed == [] and rep.n_ingested == 2
    store = open_store(tmp_path / "s.zarr")
    ints = next(r for r in store.recordings if "int16" in r.name)
    floats = next(r for r in store.recordings if "float32" in r.name)
    assert ints.meta["encoding"] == "quantized"
    assert ints.meta["quantum_uv"] == pytest.approx(0.1 / 8)
    assert ints.meta["max_error_uv"] == pytest.approx(0.1 / 16)
    assert floats.meta["encoding"] == "float32" and floats.meta["quantum_uv"] is None
    # the stated bound holds against the same file stored as float32
    exact = IngestConfig(workers=0, mains=50.0, progress=False, recipe=Recipe(encoding="float32"))
    ingest("folder", src=src, out=tmp_path / "f.zarr", config=exact)
    ref = open_store(tmp_path / "f.zarr")
    same = next(r for r in ref.recordings if r.name == ints.name)
    error = np.abs(store.read(ints.id).astype(np.float64) - ref.read(same.id)).max()
    assert 0 < error <= ints.meta["max_error_uv"] * (1 + 1e-3)


def test_channels_mne_excludes_leave_the_others_paired_or_unknown(tmp_path) -> None:
    """``exclude``: MNE's EDF arrays follow its channels (the steps stay eegprep's); GDF's do
    not (every channel's calibration, then the kept ones' units, and its samples are another
    channel's): the GDF file is refused with the option (test_reader_gdf_semantics.py)."""
    x = _data_v() * 1e6
    ranges = [500.0, 200.0, 800.0]  # a step per channel, to tell them apart
    write_edf(tmp_path / "rec.edf", list(x), labels=["FP1", "FP2", "CZ"], sfreqs=[250] * 3,
              physical_min=[-r for r in ranges], physical_max=ranges)  # fmt: skip
    ours = EdfReader.read_header(str(tmp_path / "rec.edf"))
    header = MneReader.read_header(str(tmp_path / "rec.edf"), exclude=["FP2"])
    assert header.labels == ["FP1", "CZ"]
    want = [ours.signals[0].resolution, ours.signals[2].resolution]
    assert [s.resolution for s in header.signals] == pytest.approx(want, rel=1e-9)
    gdf = write_gdf(tmp_path / "rec.gdf", x, ["FP1", "FP2", "CZ"], 250)
    with pytest.raises(SourceError, match="option 'exclude' on a GDF file"):
        MneReader.read_header(str(gdf), exclude=["FP2"])


@pytest.mark.parametrize("kept", ["all", "no physical ranges", "no calibration"])
def test_an_edf_family_file_never_takes_the_channel_infos_step_of_1_v(tmp_path, kept) -> None:
    """MNE before 1.13.2 kept no physical ranges among a GDF's reader extras. The step then came
    from the channel infos, whose calibration is 1 for MNE's edf module: a step of 1 V, and the
    quantized encoding stored every int16 GDF's samples as zeros. The step is the extras' own
    (``cal x units``), or unknown (0: float32) where MNE keeps no calibration; never 1 V."""
    from eegprep.readers.mne_steps import code_steps, stated_ranges

    x = _data_v(1000) * 1e6
    path = write_gdf(tmp_path / "rec.gdf", x, ["FP1", "FP2", "CZ"], 250, sample_type="int16",
                     version="2.20")  # fmt: skip
    raw = mne.io.read_raw_gdf(path, verbose="error")
    extras = raw._raw_extras[0]
    if kept != "all":
        extras.pop("physical_min", None), extras.pop("physical_max", None)
    if kept == "no calibration":
        extras.pop("cal")
    steps = code_steps(raw)
    assert steps == pytest.approx([0.0 if kept == "no calibration" else 1e-7] * 3, rel=1e-9)
    rails = stated_ranges(raw)
    assert rails == ([None] * 3 if kept != "all" else [pytest.approx((-3276.7e-6, 3276.7e-6))] * 3)
