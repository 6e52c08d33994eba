"""Damage that ``test_reader_fuzz_formats.py`` found, one class per test: each is refused in one
line naming the file and the field, in the project's words, where it was a crash of the whole
process, an overflow deep in MNE, or a library's message passed through.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from eegprep.base.errors import SourceError
from eegprep.readers.csv_table import CsvReader
from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache
from eegprep.readers.mne_formats import MneReader
from eegprep.readers.mne_formats import clear_cache as clear_mne_cache
from tests.safety.test_reader_fuzz import _cnt_seed, _gdf_seed

EEG = np.random.default_rng(0).normal(0, 20, (4, 2500))


def _one_line(path: Path, err: pytest.ExceptionInfo[SourceError]) -> str:
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for raw in ("Error -3", "TypeError", "OverflowError", "codec", "MNE cannot"):
        assert raw not in message, message
    return message


def test_a_mat_data_element_of_no_matlab_type_is_refused_not_a_crash(tmp_path: Path) -> None:
    """A flipped byte made a numeric variable's data element type 124: scipy's compiled
    parser read its type table out of bounds and the process died (a segmentation fault:
    every file of the ingest lost). Both readers that hand a MAT file to scipy now walk its
    elements first; run in a child process, so that a crash fails this test alone."""
    mat, set_ = tmp_path / "r.mat", tmp_path / "r.set"
    scipy.io.savemat(mat, {"fs": 250.0, "eeg": EEG})
    from eeglabio.raw import export_set

    export_set(str(set_), EEG * 1e-6, 250.0, ["Fp1", "Fp2", "Cz", "Oz"])
    for path in (mat, set_):
        blob = bytearray(path.read_bytes())
        assert struct.unpack_from("<I", blob, 176)[0] in (7, 9)  # the first variable's data
        struct.pack_into("<I", blob, 176, 124)
        path.write_bytes(bytes(blob))
    code = textwrap.dedent(f"""
        from eegprep.readers.matlab import MatReader
        from eegprep.readers.mne_formats import MneReader
        for read in (lambda: MatReader.read_header({str(mat)!r}, data="eeg", sfreq_variable="fs"),
                     lambda: MneReader.read_header({str(set_)!r})):
            try:
                read()
            except Exception as exc:
                print(type(exc).__name__, exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    for line in lines:
        assert line.startswith("SourceError "), line
        assert (
            "the MATLAB variable at byte 128 is damaged inside (the data is a data element "
            "of type 124, which MATLAB does not write)"
        ) in line, line


def test_a_damaged_zlib_stream_and_unparsable_variables_are_named_in_our_words(
    tmp_path: Path,
) -> None:
    """zlib's and scipy's own words (`Error -3 while decompressing data: incorrect data
    check`, `Expecting miINT32 as data type`) reached the report."""
    path = tmp_path / "z.mat"
    scipy.io.savemat(path, {"eeg": EEG, "fs": 250.0}, do_compression=True)
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 0xFF  # inside the last compressed variable's stream
    path.write_bytes(bytes(blob))
    clear_cache()
    with pytest.raises(SourceError) as err:
        MatReader.read_header(str(path), data="eeg", sfreq_variable="fs")
    assert "does not inflate (its zlib stream is damaged)" in _one_line(path, err)


def test_eeglab_chanlocs_without_labels_empty_data_name_and_huge_counts(tmp_path: Path) -> None:
    """MNE failed with `KeyError: 'labels'` (chanlocs text, or its labels field damaged),
    `not enough values to unpack` (EEG.data = ''), `Python int too large to convert to C long`
    (EEG.pnts = 1e308, samples in a .fdt)."""
    from tests.safety.test_hostile_set import _fields, _write

    cases = {
        "chanlocs": ("abc", "EEG.chanlocs is a MATLAB char, not a struct array of channel"),
        "data": ("", "EEG.data is empty text: it must hold the samples, or name the .fdt"),
        "pnts": (1e308, "EEG.pnts is 1e+308: it must be a whole number of at least 1 (and at"),
    }
    for field, (value, said) in cases.items():
        for struct_ in (False, True):
            fields = _fields()
            if field == "pnts":
                fields["data"].astype("<f4").T.tofile(tmp_path / "r.fdt")
                fields["data"] = "r.fdt"
            fields[field] = value
            path = _write(tmp_path / "r.set", fields, struct=struct_)
            with pytest.raises(SourceError) as err:
                MneReader.read_header(str(path))
            assert said in _one_line(path, err)
    fields = _fields()
    labels = fields["chanlocs"].dtype.names
    renamed = fields["chanlocs"].astype([("lRbels" if n == "labels" else n, "O") for n in labels])
    fields["chanlocs"] = renamed
    for struct_ in (False, True):
        path = _write(tmp_path / "r.set", fields, struct=struct_)
        with pytest.raises(SourceError) as err:
            MneReader.read_header(str(path))
        assert "EEG.chanlocs has no field 'labels' (the channel names; its fields: 'lRbels'" in (
            _one_line(path, err)
        )


@pytest.mark.parametrize(
    ("at", "value", "said"),
    [
        (0, b"GDX 2.20", r"not a GDF file: it starts with b'GDX 2.20'"),
        (0, b"GDF 2.x0", r"not a GDF file: it starts with b'GDF 2.x0'"),
        (9, b"\xdd\x41", r"patient field \(bytes 8-74\) holds byte 0xdd at byte 9, not UTF-8"),
        (168, struct.pack("<Q", 2**64 - 1), r"recording start \(bytes 168-176\) is 1844\d+, "),
        (176, struct.pack("<Q", 2**63), r"patient's birthday \(bytes 176-184\) is 9223\d+, "),
    ],
)
def test_gdf_text_and_dates_mne_fails_on_are_named(
    tmp_path: Path, at: int, value: bytes, said: str
) -> None:
    """MNE: `Bad GDF file provided.`, `'utf-8' codec can't decode byte 0xdd`, `OverflowError:
    date value out of range`."""
    blob = bytearray(_gdf_seed(tmp_path, "2.20"))
    blob[at : at + len(value)] = value
    path = tmp_path / "bad.gdf"
    path.write_bytes(bytes(blob))
    clear_mne_cache()
    with pytest.raises(SourceError, match=said) as err:
        MneReader.read_header(str(path))
    _one_line(path, err)


@pytest.mark.parametrize(
    ("at", "value", "said"),
    [
        (121, b"M\xfcller", r"patient name \(bytes 121-141\) holds byte 0xfc at byte 122, not ASC"),
        (900 + 75 * 2, b"C\xe9", r"label of channel 3 \(byte 1050\) is 'Cé', not ASCII"),
        (864, struct.pack("<i", 7145424), r"sample count \(byte 864\) is 7145424 and .* not 2"),
        (864, struct.pack("<i", 0), r"sample count \(byte 864\) is 0 and its event table"),
    ],
)
def test_cnt_text_and_sample_width_mne_fails_on_are_named(
    tmp_path: Path, at: int, value: bytes, said: str
) -> None:
    """MNE: `'ascii' codec can't decode byte 0xfc`, `Could not automatically compute number
    of bytes per sample`."""
    blob = bytearray(_cnt_seed(tmp_path))
    blob[at : at + len(value)] = value
    path = tmp_path / "bad.cnt"
    path.write_bytes(bytes(blob))
    clear_mne_cache()
    with pytest.raises(SourceError, match=said) as err:
        MneReader.read_header(str(path))
    _one_line(path, err)


def test_a_csv_number_numpy_does_not_read_is_named_by_line_and_column(tmp_path: Path) -> None:
    """`1_000` is a number to Python's float and not to numpy's parser: the line said only
    "a data row cannot be parsed as numbers"."""
    rows = [f"{i / 250:.4f},{v:.3f}" for i, v in enumerate(EEG[0])]
    rows[10] = "0.0400,1_000"
    path = tmp_path / "t.csv"
    path.write_text("Time,Fp1\n" + "\n".join(rows) + "\n")
    with pytest.raises(SourceError) as err:
        CsvReader.read_header(str(path), time_column="Time")
    assert "line 12, column 'Fp1': '1_000' is not a number" in _one_line(path, err)


def test_the_zlib_damage_is_found_by_the_budget_walk_too(tmp_path: Path) -> None:
    """A compressed .set whose stream is damaged: the one line names the byte."""
    from tests.safety.test_hostile_set import _fields

    path = tmp_path / "c.set"
    scipy.io.savemat(path, {"EEG": _fields()}, do_compression=True)
    blob = bytearray(path.read_bytes())
    blob[600] ^= 0xFF
    path.write_bytes(bytes(blob))
    clear_mne_cache()
    with pytest.raises(SourceError) as err:
        MneReader.read_header(str(path))
    message = _one_line(path, err)
    assert "the compressed variable at byte 128 does not inflate" in message or (
        "damaged inside" in message
    ), message
    assert zlib.error is not None
