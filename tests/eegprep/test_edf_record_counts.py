"""An EDF/BDF whose header counts other records than the file holds, read as pyedflib and MNE
read the same file.

A header counting 8 records in a file of 10 is read for its 8 (as pyedflib reads it; MNE reads
all 10, counting them from the file's size), with one warning line naming the file and both
counts; a header counting -1 (a recording never closed) is read for the 10 whole records the
file holds, as MNE reads it (pyedflib refuses it); one counting 12 is refused in one line
(pyedflib refuses it; MNE reads the 10). Both eegprep readers (``edf``, ``mne``) agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import field_span, write_edf

LABELS = ["Fp1", "Fp2", "C3", "C4"]
RATE = 256
RECORDS = 10
"""Records the file holds (1 s each)."""


@pytest.fixture(autouse=True)
def _fresh_mne_cache() -> None:
    clear_cache()


def _file(folder: Path, bdf: bool, count: str) -> Path:
    """A file of :data:`RECORDS` records whose header's count field says ``count``."""
    x = np.random.default_rng(0).normal(0, 20, (len(LABELS), RATE * RECORDS))
    path = folder / ("a.bdf" if bdf else "a.edf")
    write_edf(path, list(x), labels=LABELS, sfreqs=float(RATE), bdf=bdf,
              physical_min=-200, physical_max=200)  # fmt: skip
    data = bytearray(path.read_bytes())
    data[field_span("n_records", n_signals=len(LABELS))] = count.ljust(8).encode()
    path.write_bytes(bytes(data))
    return path


def _mne_uv(path: Path) -> np.ndarray:
    """Shape ``(4, n)``: MNE's own read of ``path``, uV."""
    import mne

    return mne.io.read_raw(path, verbose="error").get_data(units="uV")


def _pyedflib_uv(path: Path) -> np.ndarray:
    """Shape ``(4, n)``: pyedflib's own read of ``path``, uV."""
    import pyedflib

    with pyedflib.EdfReader(str(path)) as f:
        return np.stack([f.readSignal(i) for i in range(len(LABELS))])


def _read(reader: type, path: Path) -> tuple[np.ndarray, list[str]]:
    header = reader.read_header(str(path))
    n = header.signals[0].n_samples
    return reader.read_segment(header, list(range(len(LABELS))), 0, n), list(header.warnings)


@pytest.mark.parametrize("reader", [EdfReader, MneReader], ids=lambda r: r.name)
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
def test_a_header_counting_fewer_records_reads_its_count_and_warns(
    tmp_path: Path, reader: type, bdf: bool
) -> None:
    path = _file(tmp_path, bdf, "8")
    got, warnings = _read(reader, path)
    assert got.shape == (len(LABELS), 8 * RATE)
    np.testing.assert_allclose(got, _pyedflib_uv(path), rtol=0, atol=1e-3)
    np.testing.assert_allclose(got, _mne_uv(path)[:, : 8 * RATE], rtol=0, atol=1e-3)
    (line,) = warnings
    assert "the header counts 8 data records" in line and "(10 whole records)" in line
    assert "only the first 8 were read" in line and "\n" not in line


@pytest.mark.parametrize("reader", [EdfReader, MneReader], ids=lambda r: r.name)
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
def test_a_header_counting_minus_one_reads_the_whole_records_as_mne_does(
    tmp_path: Path, reader: type, bdf: bool
) -> None:
    path = _file(tmp_path, bdf, "-1")
    got, warnings = _read(reader, path)
    np.testing.assert_allclose(got, _mne_uv(path), rtol=0, atol=1e-3)
    assert got.shape == (len(LABELS), RECORDS * RATE)
    assert [w for w in warnings if "-1 data records" in w and "read the 10 whole records" in w]


def test_ingest_names_the_file_in_each_line(tmp_path: Path) -> None:
    """Through an ingest: the longer file's warning and the truncated file's refusal are each
    one line starting with the file's name."""
    from eegprep.ingestion.driver import IngestConfig, ingest

    src = tmp_path / "src"
    (src / "long").mkdir(parents=True)
    (src / "cut").mkdir()
    _file(src / "long", False, "8")
    _file(src / "cut", False, "12")
    config = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest("folder", src=src, out=tmp_path / "s.zarr", config=config)
    (line,) = rep.failed
    assert line.startswith("cut/a.edf: file is truncated: its header claims 12 data records")
    assert "(10 whole records): re-download it" in line and "\n" not in line
    (warning,) = rep.warnings["long/a.edf"]
    assert warning.startswith("file is longer than its header says: the header counts 8")
