"""MneReader on FIF, BrainVision and EEGLAB files written here by MNE."""

from __future__ import annotations

import os
import pickle

import mne
import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import get_reader, reader_for
from eegprep.readers.mne_formats import MneReader, clear_cache

try:  # the repository root on sys.path (PYTHONPATH=. or tests/ as a package)
    from tests.eegprep.reader_checks import check_reader, check_source_error, check_usage_error
except ImportError:  # pytest's rootdir-less "prepend" import of tests/eegprep
    from reader_checks import check_reader, check_source_error, check_usage_error

SFREQ = 250.0
LABELS = ["Fp1", "Fp2", "Cz", "HEOG"]


@pytest.fixture
def raw() -> mne.io.RawArray:
    """2 s of 4 channels (3 EEG, 1 EOG) at 250 Hz, ~20 uV, with two annotations."""
    rng = np.random.default_rng(1)
    info = mne.create_info(LABELS, SFREQ, ["eeg", "eeg", "eeg", "eog"])
    data = rng.normal(scale=20e-6, size=(4, 500))
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(mne.Annotations([0.5, 1.25], [0.25, 0.0], ["blink", "cue"]))
    return raw


def _reference_uv(raw: mne.io.BaseRaw) -> np.ndarray:
    return raw.get_data() * 1e6


def test_registry_finds_the_mne_reader() -> None:
    assert get_reader("mne") is MneReader
    assert reader_for("x.vhdr") is MneReader


def test_fif(raw: mne.io.RawArray, tmp_path) -> None:
    path = str(tmp_path / "rec_raw.fif")
    raw.save(path, verbose="error")
    header, _ = check_reader(
        MneReader,
        path,
        expected_labels=LABELS,
        expected_sfreq=SFREQ,
        expected_n_samples=500,
        reference_uv=_reference_uv(raw),
    )
    assert [s.to_uv for s in header.signals] == [1e6] * 4
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (0.5, 0.25, "blink"),
        (1.25, 0.0, "cue"),
    ]
    meta = header.meta_dict()
    assert meta["format"] == "FIF"
    assert meta["ch_types"] == "eeg,eeg,eeg,eog"


def test_fif_cropped_annotations_count_from_the_first_sample(raw, tmp_path) -> None:
    """A cropped FIF starts at first_samp > 0: onsets are relative to the file's first sample."""
    path = str(tmp_path / "crop_raw.fif")
    raw.copy().crop(tmin=0.2).save(path, verbose="error")
    header, _ = check_reader(MneReader, path, expected_n_samples=450)
    assert header.meta_dict()["first_samp"] == "50"
    assert [a.onset for a in header.annotations] == pytest.approx([0.3, 1.05])


def test_fif_stim_channel_is_not_scaled(raw, tmp_path) -> None:
    stim = mne.io.RawArray(
        np.array([[0.0, 1.0, 0.0, 2.0] * 125]),
        mne.create_info(["STI"], SFREQ, ["stim"]),
        verbose="error",
    )
    raw.add_channels([stim])
    path = str(tmp_path / "stim_raw.fif")
    raw.save(path, verbose="error")
    header, full = check_reader(MneReader, path)
    assert header.signals[-1].to_uv == 1.0
    np.testing.assert_array_equal(full[-1, :4], [0.0, 1.0, 0.0, 2.0])


def test_brainvision(raw, tmp_path) -> None:
    pytest.importorskip("pybv")
    path = str(tmp_path / "rec.vhdr")
    mne.export.export_raw(path, raw, verbose="error")
    header, _ = check_reader(
        MneReader,
        path,
        expected_labels=LABELS,
        expected_sfreq=SFREQ,
        reference_uv=_reference_uv(raw),
        eog=["HEOG"],
    )
    assert header.signals[0].unit == "µV"  # the file's own unit, from raw._orig_units
    assert [a.description for a in header.annotations] == ["Comment/blink", "Comment/cue"]
    assert header.option("eog") == ("HEOG",)
    assert pickle.loads(pickle.dumps(header)).option("eog") == ("HEOG",)


def test_brainvision_missing_data_file(raw, tmp_path) -> None:
    pytest.importorskip("pybv")
    path = str(tmp_path / "rec.vhdr")
    mne.export.export_raw(path, raw, verbose="error")
    os.remove(tmp_path / "rec.eeg")
    check_source_error(MneReader, path, r"its samples file 'rec\.eeg' \(DataFile= in it\) is not")


def test_eeglab(raw, tmp_path) -> None:
    pytest.importorskip("eeglabio")
    path = str(tmp_path / "rec.set")
    mne.export.export_raw(path, raw, verbose="error")
    header, _ = check_reader(
        MneReader,
        path,
        expected_labels=LABELS,
        expected_sfreq=SFREQ,
        reference_uv=_reference_uv(raw),
    )
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.5, "blink"),
        (1.25, "cue"),
    ]


def test_changed_file_is_reopened(raw, tmp_path) -> None:
    path = str(tmp_path / "rec_raw.fif")
    raw.save(path, verbose="error")
    header = MneReader.read_header(path)
    raw.copy().crop(tmax=1.0).save(path, overwrite=True, verbose="error")
    os.utime(path, ns=(1, 1))  # a new mtime even on coarse clocks
    with pytest.raises(SourceError, match="changed since its header was read"):
        MneReader.read_segment(header, [0], 0, 10)
    clear_cache()


def test_errors(raw, tmp_path) -> None:
    path = str(tmp_path / "rec_raw.fif")
    raw.save(path, verbose="error")
    check_usage_error(MneReader, path, r"Unknown option 'montage'", montage="standard_1020")
    check_usage_error(MneReader, path, r"Did you mean 'allow_maxshield'", allow_maxshild=True)
    check_usage_error(MneReader, path, r"always reads lazily", preload=True)
    check_source_error(MneReader, str(tmp_path / "absent_raw.fif"), "file not found")
    empty = tmp_path / "empty_raw.fif"
    empty.write_bytes(b"")
    check_source_error(MneReader, str(empty), r"file is empty")
    junk = tmp_path / "junk_raw.fif"
    junk.write_bytes(b"not a fif file at all" * 10)
    check_source_error(MneReader, str(junk), r"MNE cannot read this FIF file: \w+")
    odd = tmp_path / "rec.xyz"
    odd.write_bytes(b"x")
    check_usage_error(MneReader, str(odd), r"got suffix '\.xyz'")


def test_repeated_labels_come_back_as_the_file_has_them(tmp_path) -> None:
    """MNE renames a repeated ``T8-P8`` to ``T8-P8-0``/``T8-P8-1``; the header undoes it, for
    EDF through MNE and EEGLAB alike, and leaves a label that really ends in ``-1`` alone."""
    from eeglabio.raw import export_set

    from eegprep.testing.edf_writer import write_edf

    rng = np.random.default_rng(0)
    labels = ["FP1-F7", "T8-P8", "T8-P8", "EKG-1"]
    write_edf(tmp_path / "chb.edf", list(rng.normal(size=(4, 2500)) * 20), labels=labels,
              sfreqs=250)  # fmt: skip
    export_set(str(tmp_path / "rec.set"), rng.normal(size=(4, 500)) * 2e-5, 250.0, labels)
    for name in ("chb.edf", "rec.set"):
        header = MneReader.read_header(str(tmp_path / name))
        assert header.labels == labels, name
        n = header.signals[0].n_samples
        x = MneReader.read_segment(header, [1, 2], 0, n)
        assert not np.array_equal(x[0], x[1])  # each copy keeps its own samples


def test_repeated_brainvision_label_is_kept_as_the_file_has_it(tmp_path) -> None:
    """MNE cannot open a BrainVision file with a repeated label; the reader opens a copy of
    the header with MNE's suffixes and gives the file's labels back, as every reader does:
    ingest keeps the first under its name and reports the other."""
    from pybv import write_brainvision

    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest

    data = np.random.default_rng(1).normal(scale=20e-6, size=(3, 500))
    src = tmp_path / "src"
    write_brainvision(data=data, sfreq=250.0, ch_names=["Fp1", "Cz", "Cx"], fname_base="bv",
                      folder_out=str(src), overwrite=True)  # fmt: skip
    vhdr = src / "bv.vhdr"
    vhdr.write_text(vhdr.read_text(encoding="utf-8").replace("Ch3=Cx,", "Ch3=Cz,"), "utf-8")
    clear_cache()
    header = MneReader.read_header(str(vhdr))
    assert header.labels == ["Fp1", "Cz", "Cz"]
    x = MneReader.read_segment(header, [0, 1, 2], 0, 500)
    np.testing.assert_allclose(x, data * 1e6, rtol=1e-4, atol=0.1)
    cfg = IngestConfig(workers=0, mains=50.0, progress=False)
    rep = ingest("folder", src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.failed == [] and "duplicate" in " ".join(rep.warnings["bv.vhdr"])
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "CZ")


def test_fif_with_eeg_typed_channels_outside_the_vocabulary_says_so(tmp_path) -> None:
    """60 channels typed EEG named ``EEG 001``..: the line counts them and points to rename."""
    from eegprep.ingestion.driver import IngestConfig, ingest

    names = [f"MEG {i:04d}" for i in range(1, 7)] + [f"EEG {i:03d}" for i in range(1, 61)]
    kinds = ["mag"] * 6 + ["eeg"] * 60
    info = mne.create_info(names, 250.0, kinds)
    data = np.random.default_rng(2).normal(scale=1e-6, size=(66, 2500))
    (tmp_path / "src").mkdir()
    mne.io.RawArray(data, info, verbose="error").save(tmp_path / "src" / "rec_raw.fif")
    cfg = IngestConfig(workers=0, mains=50.0, progress=False)
    (line,) = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg).failed
    assert "60 channels typed EEG (EEG 001, EEG 002, EEG 003, EEG 004, EEG 005, ...)" in line
    assert "[channels] rename in the manifest" in line and "MEG" not in line


def test_a_field_mne_parses_but_cannot_interpret_is_one_source_error(
    raw, tmp_path, monkeypatch
) -> None:
    """A damaged FIF channel kind (found by flipping bytes: MNE opens the file, then raises
    ``ValueError: Unknown channel type`` while describing it) is the file's one-line error,
    not an internal error."""
    path = str(tmp_path / "rec_raw.fif")
    raw.save(path, verbose="error")
    clear_cache()

    def unknown(self, *args, **kwargs):
        raise ValueError('Unknown channel type (931517095) for channel "Cz"')

    monkeypatch.setattr(mne.io.BaseRaw, "get_channel_types", unknown)
    check_source_error(MneReader, path, r"MNE cannot describe this FIF file's channels, .*"
                       r"ValueError: Unknown channel type \(931517095\)")  # fmt: skip


def test_a_damaged_brainvision_marker_is_named_as_such(tmp_path) -> None:
    """A marker whose position is not a number: the line names the marker file, its line and
    the field, in eegprep's words (:mod:`eegprep.readers.vmrk`), not the recording."""
    from pybv import write_brainvision

    data = np.random.default_rng(1).normal(scale=20e-6, size=(3, 500))
    write_brainvision(data=data, sfreq=250.0, ch_names=["Fp1", "Cz", "Oz"], fname_base="bv",
                      folder_out=str(tmp_path), events=np.array([[100, 1], [300, 2]]),
                      overwrite=True)  # fmt: skip
    vmrk = tmp_path / "bv.vmrk"
    lines = vmrk.read_text(encoding="utf-8").splitlines()
    (i,) = [k for k, line in enumerate(lines) if line.startswith("Mk2=")]
    parts = lines[i].split(",")
    parts[2] = "abc"  # the position, in samples
    lines[i] = ",".join(parts)
    vmrk.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clear_cache()
    check_source_error(MneReader, str(tmp_path / "bv.vhdr"),
                       r"its marker file bv\.vmrk, line \d+ \('Mk2=Stimulus,S  2,abc,1,0'\): "
                       r"its position 'abc' is not a sample")  # fmt: skip
