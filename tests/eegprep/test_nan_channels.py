"""A channel of a rectangular array of floats (EEGLAB ``EEG.data`` in the ``.set`` or an
``.fdt``, FIF, a MATLAB variable in v5 or v7.3, BrainVision float or text samples) that is NaN
at every sample holds no samples: the way such a format writes a channel missing from a
recording (EEGLAB's and FieldTrip's fill). It is left out with one warning, as an EDF signal of
0 samples per record is, and the others are read as written; a file in which no channel holds
samples is one line. A channel NaN at some samples only is no such channel. (Neuroscan CNT and
EDF store integer codes, which hold no NaN: a constant channel there is a flat channel, which
the QC names.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from eegprep.readers.base import Header, Reader
from eegprep.readers.matlab import MatReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.mat73_writer import write_mat73
from tests.eegprep import test_reader_set_semantics as set_files
from tests.eegprep.reader_checks import check_source_error

LABELS = ["Fp1", "Fp2", "C3", "C4", "O1"]
SFREQ = 250
N_TIMES = 6000  # past the first samples read for every channel, so a channel is read on


def _set(folder: Path, data: np.ndarray, *, fdt: bool) -> tuple[Reader, str, dict]:
    labels, set_files.LABELS = set_files.LABELS, LABELS
    try:
        path = set_files._write_set(folder, data, struct=True, fdt=fdt, srate=float(SFREQ))
    finally:
        set_files.LABELS = labels
    return MneReader, path, {}


def _fif(folder: Path, data: np.ndarray) -> tuple[Reader, str, dict]:
    import mne

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rec_raw.fif"
    info = mne.create_info(LABELS, SFREQ, "eeg")
    mne.io.RawArray(data * 1e-6, info, verbose=False).save(path, verbose=False)
    clear_cache()
    return MneReader, str(path), {}


def _mat(folder: Path, data: np.ndarray, *, v73: bool) -> tuple[Reader, str, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rec.mat"
    names = np.array(LABELS, dtype=object)
    if v73:
        write_mat73(path, {"data": data, "labels": names})
    else:
        scipy.io.savemat(path, {"data": data, "labels": names})
    return MatReader, str(path), {"data": "data", "sfreq": SFREQ, "channels": LABELS}


def _brainvision(folder: Path, data: np.ndarray, *, text: bool) -> tuple[Reader, str, dict]:
    """``IEEE_FLOAT_32`` samples, or text ones (``nan`` where NaN), one sample a line."""
    from tests.eegprep import test_reader_vhdr_semantics as vhdr_files

    channels = [f"{name},,1,µV" for name in LABELS]
    if text:
        rows = "".join(" ".join(f"{v:.3f}" for v in sample) + "\r\n" for sample in data.T)
        path = vhdr_files._write(folder, channels, rows, fmt="ASCII",
                                 ascii_infos=["SkipLines=0", "DecimalSymbol=."])  # fmt: skip
    else:
        stored = np.ascontiguousarray(data.T).astype("<f4").tobytes()
        path = vhdr_files._write(folder, channels, stored, fmt="IEEE_FLOAT_32")
    return MneReader, path, {}


WRITERS: dict[str, Callable[[Path, np.ndarray], tuple[Reader, str, dict]]] = {
    "BrainVision float": lambda f, d: _brainvision(f, d, text=False),
    "BrainVision text": lambda f, d: _brainvision(f, d, text=True),
    "EEGLAB .set": lambda f, d: _set(f, d, fdt=False),
    "EEGLAB .fdt": lambda f, d: _set(f, d, fdt=True),
    "FIF": _fif,
    "MAT v5": lambda f, d: _mat(f, d, v73=False),
    "MAT v7.3": lambda f, d: _mat(f, d, v73=True),
}


def _microvolts() -> np.ndarray:
    return np.round(np.random.default_rng(3).normal(0, 25, (len(LABELS), N_TIMES)), 3)


def _read(reader: Reader, path: str, options: dict) -> tuple[Header, np.ndarray]:
    header = reader.read_header(path, **options)
    n = header.signals[0].n_samples
    return header, reader.read_segment(header, list(range(len(header.signals))), 0, n)


@pytest.mark.parametrize("at", [0, 2, 4], ids=["first", "middle", "last"])
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_a_channel_nan_at_every_sample_is_left_out(tmp_path: Path, fmt: str, at: int) -> None:
    """It refused the whole recording after every block was read and filtered ("non-finite
    samples (NaN/inf) in channels C3"); now the others are read as written and one warning
    names it. A channel NaN on every sample read first but a number after is kept (its NaN
    are the ingest's to refuse, as any non-finite sample)."""
    uv = _microvolts()
    uv[at] = np.nan
    partly = 3 if at != 3 else 1
    uv[partly, : N_TIMES - 1] = np.nan
    reader, path, options = WRITERS[fmt](tmp_path, uv)
    header, got = _read(reader, path, options)
    kept = [i for i in range(len(LABELS)) if i != at]
    assert header.labels == [LABELS[i] for i in kept]
    assert header.empty_channels == (LABELS[at],)
    note = f"channel {LABELS[at]!r} holds no samples (every sample NaN): left out"
    assert header.warnings == (note,)
    np.testing.assert_allclose(got, uv[kept], atol=1e-3)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_a_file_where_no_channel_holds_samples_is_one_line(tmp_path: Path, fmt: str) -> None:
    uv = np.full((len(LABELS), N_TIMES), np.nan)
    reader, path, options = WRITERS[fmt](tmp_path, uv)
    check_source_error(
        reader, path, r"no channel holds samples: every sample of every channel", **options
    )


def test_the_ingest_lists_it_among_the_dropped_channels(tmp_path: Path) -> None:
    """An EEGLAB dataset of a NaN channel: stored without it, the record saying why."""
    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    uv = np.random.default_rng(1).normal(0, 20, (len(LABELS), SFREQ * 20))
    uv[2] = np.nan
    _set(tmp_path / "src", uv, fdt=True)
    report = ingest_folder(tmp_path / "src", tmp_path / "s.zarr")
    assert report.failed == []
    assert report.warnings["rec.set"] == [
        "channel 'C3' holds no samples (every sample NaN): left out"
    ]
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1", "FP2", "C4", "O1")
    assert ["C3", "holds no samples"] in rec.meta["dropped_channels"]


def _savetxt(folder: Path, data: np.ndarray) -> str:
    """A table as ``numpy.savetxt`` writes one (``nan`` in each cell of a NaN channel)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rec.csv"
    np.savetxt(path, data.T, delimiter=",", header=",".join(LABELS), comments="", fmt="%.3f")
    from eegprep.readers.csv_table import clear_cache as clear_tables

    clear_tables()
    return str(path)


@pytest.mark.parametrize("at", [0, 4])
def test_a_table_column_nan_on_every_row_is_left_out(tmp_path: Path, at: int) -> None:
    """It refused the table (``non-finite value (nan/inf) on line 2``), where a column blank on
    every row was left out: now both are, each named for how the file says it."""
    from eegprep.readers.csv_table import CsvReader

    uv = _microvolts()
    uv[at] = np.nan
    header, got = _read(CsvReader, _savetxt(tmp_path, uv), {"sfreq": SFREQ})
    kept = [i for i in range(len(LABELS)) if i != at]
    assert header.labels == [LABELS[i] for i in kept] and header.empty_channels == (LABELS[at],)
    assert header.warnings == (
        f"channel {LABELS[at]!r} holds no samples (every sample NaN): left out",
    )
    np.testing.assert_allclose(got, uv[kept], atol=1e-3)
    uv[:] = np.nan
    path = _savetxt(tmp_path, uv)
    check_source_error(CsvReader, path, r"no channel holds samples: every value", sfreq=SFREQ)
