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
    with pytest.raises(SourceError, match=r"line 3 has 3 fields, expected 2: a stray delimiter\?$"):
        CsvReader.read_header(str(path), sfreq=100)
