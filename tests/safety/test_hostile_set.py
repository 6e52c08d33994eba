"""EEGLAB ``.set`` files with impossible fields give one line naming the field and its value.

A rate of 0 or below reached the report as MNE's ``sfreq must be positive``, a missing one as
``'Bunch' object has no attribute 'srate'``; a missing ``pnts`` was taken as 1 (a recording of
500 samples stored as one sample), a ``pnts`` of -1 or 10^12 made a header of that many
samples, and an ``nbchan`` other than the channels ``chanlocs`` lists read a ``.fdt`` with
every sample misplaced. Now the fields are checked before MNE opens the file, in both layouts
EEGLAB writes (top-level variables, and one ``EEG`` struct).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.mne_formats import MneReader, clear_cache

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "Fz", "Cz", "Pz"]
MISSING = object()


def _fields(n_times: int = 500, seed: int = 0) -> dict[str, Any]:
    """The variables eeglabio writes for a 250 Hz recording (samples in uV, in the .set)."""
    import scipy.io
    from eeglabio.raw import export_set

    data = np.random.default_rng(seed).normal(0, 20e-6, (len(CHANNELS), n_times))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tempfile.TemporaryDirectory() as tmp:
            export_set(f"{tmp}/x.set", data, 250.0, CHANNELS)
            return {k: v for k, v in scipy.io.loadmat(f"{tmp}/x.set").items() if k[0] != "_"}


def _write(path: Path, fields: dict[str, Any], *, struct: bool) -> Path:
    import scipy.io

    fields = {k: v for k, v in fields.items() if v is not MISSING}
    scipy.io.savemat(path, {"EEG": fields} if struct else fields)
    clear_cache()
    return path


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("srate", 0.0, "EEG.srate is 0: it must be the sampling rate, one positive number of Hz"),
        ("srate", -250.0, "EEG.srate is -250: it must be the sampling rate"),
        ("srate", np.nan, "EEG.srate is nan: it must be the sampling rate"),
        ("srate", "fast", "EEG.srate is 'fast': it must be the sampling rate"),
        ("srate", np.zeros((0, 0)), "EEG.srate is empty: it must be the sampling rate"),
        ("srate", MISSING, "EEG.srate (the sampling rate) is missing: save the dataset again"),
        ("nbchan", 0, "EEG.nbchan is 0: it must be a whole number of at least 1"),
        ("nbchan", 2.5, "EEG.nbchan is 2.5: it must be a whole number of at least 1"),
        ("nbchan", 14, "EEG.chanlocs lists 13 channels but EEG.nbchan is 14"),
        ("nbchan", MISSING, "EEG.nbchan is missing: save the dataset again in EEGLAB"),
        ("pnts", -1, "EEG.pnts is -1: it must be a whole number of at least 1"),
        ("pnts", 400, "EEG.data holds 13 x 500 values but EEG.nbchan x EEG.pnts is 13 x 400"),
        ("pnts", 1e12, "EEG.nbchan x EEG.pnts is 13 x 1000000000000"),
        ("pnts", MISSING, "EEG.pnts is missing: save the dataset again in EEGLAB"),
        ("trials", 0, "EEG.trials is 0: it must be a whole number of at least 1"),
        ("srate", 250.0 + 3.0j, "EEG.srate is complex (250+3j), not real: it must be the"),
        ("srate", True, "EEG.srate is logical true (true/false), not a number: it must be"),
        ("nbchan", np.array([[True]]), "EEG.nbchan is logical true (true/false), not a number"),
        ("pnts", 500.0 + 1.0j, "EEG.pnts is complex (500+1j), not real: it must be a whole"),
        # MNE cannot read complex(250, 0) ("float() argument must be ... not 'complex'")
        ("srate", 250.0 + 0.0j, "EEG.srate is complex (250+0j), not real: it must be the"),
    ],
)
@pytest.mark.filterwarnings("error")  # numpy's ComplexWarning never reaches the terminal
def test_an_impossible_field_is_named(
    tmp_path: Path, struct: bool, field: str, value: Any, said: str
) -> None:
    fields = _fields()
    fields[field] = value
    path = _write(tmp_path / "r.set", fields, struct=struct)
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(path))
    assert said in str(caught.value) and "MNE" not in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
def test_a_sound_set_reads_as_written_in_both_layouts(tmp_path: Path, struct: bool) -> None:
    fields = _fields()
    path = _write(tmp_path / "r.set", fields, struct=struct)
    header = MneReader.read_header(str(path))
    assert header.labels == CHANNELS and header.signals[0].sfreq == 250.0
    got = MneReader.read_segment(header, range(len(CHANNELS)), 0, 500)
    np.testing.assert_allclose(got, fields["data"], rtol=1e-6)


def test_a_wrong_nbchan_beside_a_fdt_is_refused_not_misplaced(tmp_path: Path) -> None:
    fields = _fields()
    (fields["data"]).astype("<f4").T.tofile(tmp_path / "r.fdt")
    fields["data"], fields["nbchan"] = "r.fdt", 12
    path = _write(tmp_path / "r.set", fields, struct=False)
    with pytest.raises(SourceError, match=r"EEG.chanlocs lists 13 channels but EEG.nbchan is 12"):
        MneReader.read_header(str(path))


def test_a_bad_set_is_one_line_and_the_good_one_beside_it_ingests(tmp_path: Path) -> None:
    from eegprep.ingestion.driver import IngestConfig, ingest

    src = tmp_path / "src"
    src.mkdir()
    _write(src / "good.set", _fields(250 * 20), struct=False)
    bad = _fields(250 * 20)
    bad["srate"] = 0.0
    _write(src / "bad.set", bad, struct=False)
    cfg = IngestConfig(workers=0, progress=False, mains=50)
    report = ingest("folder", src=src, out=tmp_path / "s.zarr", config=cfg)
    assert report.failed == [
        "bad.set: EEG.srate is 0: it must be the sampling rate, one positive number of Hz; the "
        "dataset is damaged; save the dataset again in EEGLAB"
    ]
    assert report.n_ingested == 1


@pytest.mark.parametrize("compressed", [False, True], ids=["v6", "v7-compressed"])
@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("srate", 0.0, "EEG.srate is 0: it must be the sampling rate"),
        ("nbchan", 14.0, "EEG.chanlocs lists 13 channels but EEG.nbchan is 14"),
        ("pnts", 400.0, "EEG.data holds 13 x 1300000 values but EEG.nbchan x EEG.pnts is 13 x 400"),
    ],
)
def test_an_eeg_struct_over_64_mb_is_checked_in_bounded_memory(
    tmp_path: Path, compressed: bool, field: str, value: float, said: str
) -> None:
    """An EEG struct holding its samples (68 MB of them) skipped every field check when the
    file was over 64 MB (MNE's `sfreq must be positive` reached the report, or a wrong pnts
    was read as given), and a compressed one was loaded whole to check it (its samples' size
    in memory, twice: scipy's listing inflated it too). Now only the fields checked are read,
    the samples stepped over, in a few MB whatever the size."""
    import tracemalloc

    import scipy.io

    fields = _fields()
    n = 1_300_000  # 13 x 1.3e6 float32: 67.6 MB
    fields["data"] = np.zeros((len(CHANNELS), n), np.float32)
    fields["pnts"], fields[field] = float(n), value
    path = tmp_path / "big.set"
    scipy.io.savemat(path, {"EEG": fields}, do_compression=compressed)
    assert compressed or path.stat().st_size > 64e6
    clear_cache()
    tracemalloc.start()
    try:
        with pytest.raises(SourceError) as caught:
            MneReader.read_header(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert said in str(caught.value) and "MNE" not in str(caught.value)
    assert peak < 16e6, f"{peak / 1e6:.0f} MB to check the fields"


def test_a_mat73_eeg_struct_is_read_field_by_field(tmp_path: Path) -> None:
    """A MAT 7.3 (HDF5) EEG struct was loaded whole, samples included, to read its rate and
    counts; now each field is read alone and the samples only described (class, shape)."""
    import tracemalloc

    from eegprep.readers.set_header import read_set_fields
    from tests.eegprep.test_reader_matlab import write_mat73

    n = 200_000  # 13 x 2e5 doubles: 20.8 MB
    eeg = {"srate": 250.0, "nbchan": 13.0, "pnts": float(n), "trials": 1.0}
    eeg |= {"data": np.zeros((len(CHANNELS), n)), "chanlocs": {"X": np.zeros((1, 13))}}
    path = tmp_path / "r73.set"
    write_mat73(path, {"EEG": eeg})
    tracemalloc.start()
    try:
        fields = read_set_fields(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fields is not None and fields.data_shape == (13, n) and fields.n_chanlocs == 13
    got = {k: float(np.asarray(v).squeeze()) for k, v in fields.values.items()}
    assert got == {"srate": 250.0, "nbchan": 13.0, "pnts": float(n), "trials": 1.0}
    assert peak < 4e6, f"{peak / 1e6:.0f} MB to read the fields"
