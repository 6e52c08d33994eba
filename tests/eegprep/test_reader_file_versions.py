"""Every reader's in-process cache of a parsed file is keyed by the file's version (mtime,
size, ctime, inode): a file rewritten with its size and mtime restored is parsed again, not
served from the cache (a notebook or service that ingests twice would store the old samples
under the new content hash)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.io

from eegprep.base.files import file_version
from eegprep.readers.csv_table import CsvReader
from eegprep.readers.csv_table import clear_cache as clear_csv
from eegprep.readers.matlab import MatReader
from eegprep.readers.mne_formats import MneReader
from tests.file_ticks import past_the_tick


def _rewrite_keeping_mtime(path: Path, write: object) -> None:
    past_the_tick(path)  # (in the tick of its stamps, a rewrite changes none of them)
    st = path.stat()
    write()  # type: ignore[operator]
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_file_version_changes_when_size_and_mtime_are_restored(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"a" * 100)
    before = file_version(path)
    _rewrite_keeping_mtime(path, lambda: path.write_bytes(b"b" * 100))
    after = file_version(path)
    assert after[:2] == before[:2] and after != before


def test_csv_reader_reparses(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Fp1,Fp2\n1,2\n3,4\n5,6\n")
    opts = {"sfreq": 100.0}
    h = CsvReader.read_header(str(path), **opts)
    assert CsvReader.read_segment(h, [0], 0, 3).tolist() == [[1, 3, 5]]
    _rewrite_keeping_mtime(path, lambda: path.write_text("Fp1,Fp2\n7,2\n3,4\n5,6\n"))
    h = CsvReader.read_header(str(path), **opts)
    assert CsvReader.read_segment(h, [0], 0, 3).tolist() == [[7, 3, 5]]
    clear_csv()


def test_mat_reader_reparses(tmp_path: Path) -> None:
    path = tmp_path / "m.mat"
    x = np.arange(12.0).reshape(2, 6)
    scipy.io.savemat(str(path), {"x": x})
    h = MatReader.read_header(str(path), data="x", sfreq=250)
    assert MatReader.read_segment(h, [0], 0, 6)[0, 0] == 0.0
    _rewrite_keeping_mtime(path, lambda: scipy.io.savemat(str(path), {"x": x + 100}))
    h = MatReader.read_header(str(path), data="x", sfreq=250)
    assert MatReader.read_segment(h, [0], 0, 6)[0, 0] == 100.0


def test_mne_reader_reparses_a_companion(tmp_path: Path) -> None:
    import mne

    info = mne.create_info(["Fp1", "Fp2"], 250.0, "eeg")
    raw = mne.io.RawArray(np.zeros((2, 500)), info, verbose="error")
    mne.export.export_raw(str(tmp_path / "r.vhdr"), raw, verbose="error")
    h = MneReader.read_header(str(tmp_path / "r.vhdr"))
    assert np.all(MneReader.read_segment(h, [0], 0, 10) == 0)
    eeg = tmp_path / "r.eeg"
    body = bytearray(eeg.read_bytes())
    body[0:2] = (1000).to_bytes(2, "little", signed=True)  # int16 code of sample 0, channel 0
    _rewrite_keeping_mtime(eeg, lambda: eeg.write_bytes(bytes(body)))
    h = MneReader.read_header(str(tmp_path / "r.vhdr"))
    assert MneReader.read_segment(h, [0], 0, 10)[0, 0] != 0
