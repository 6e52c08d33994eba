"""Text tables and sidecars with the ends other tools give them: a UTF-8 or UTF-16 byte-order
mark, ``\\r\\n`` or ``\\r`` line ends, a Ctrl-Z (DOS) or NUL padding ending the file. Each reads
as the plain file does, and a bad line is cited as an editor shows it.

Before: a Ctrl-Z or NUL padding ending a table was its last row ("line 5 has 1 field,
expected 3: truncated row?"), and ended an ``events.tsv`` as a cut row; a joints or events
table that numpy could not parse was cited by numpy's count ("at row 1", the fifth line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import event_columns_csv
from eegprep.corpus.sidecars.misc import _read_table, bids_events
from eegprep.ingestion.sidecar_memory import sidecar_bytes
from eegprep.readers.csv_table import CsvReader, clear_cache
from tests.eegprep.test_mat_sidecars import _header

ROWS = ["Time,Fp1,Cz", "0,1.5,2", "0.01,1.6,2.1", "0.02,1.7,2.2"]
MARKS = {"none": b"", "utf-8 mark": b"\xef\xbb\xbf"}
PADS = {"none": "", "ctrl-z": "\x1a", "NULs": "\0" * 64, "ctrl-z line": "\x1a\n"}


def _encoded(text: str, mark: str) -> bytes:
    return text.encode("utf-16") if mark == "utf-16" else MARKS[mark] + text.encode()


@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("mark", [*MARKS, "utf-16"])
def test_a_table_reads_the_same_whatever_its_ends(
    tmp_path: Path, mark: str, end: str, pad: str
) -> None:
    path = tmp_path / "t.csv"
    text = end.join(ROWS) + end + PADS[pad]
    path.write_bytes(_encoded(text, mark))
    clear_cache()
    header = CsvReader.read_header(str(path), time_column="Time")
    got = CsvReader.read_segment(header, [0, 1], 0, 3)
    assert list(header.labels) == ["Fp1", "Cz"] and header.warnings == ()
    np.testing.assert_allclose(got, [[1.5, 1.6, 1.7], [2, 2.1, 2.2]], rtol=1e-6)


@pytest.mark.parametrize("pad", ["", "\x1a", "\0\0\0"])
@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_a_bad_row_of_a_padded_table_is_the_editors_line(
    tmp_path: Path, end: str, pad: str
) -> None:
    path = tmp_path / "t.csv"
    rows = [*ROWS[:2], "", ROWS[2], "0.03,x,2.3", ROWS[3]]
    path.write_bytes((end.join(rows) + end + pad).encode())
    clear_cache()
    with pytest.raises(SourceError, match=r"line 5, column 'Fp1': 'x' is not a number"):
        CsvReader.read_header(str(path), time_column="Time")


@pytest.mark.parametrize("pad", ["\x1a", "\0\0\0", "\x1a\r\n"])
def test_an_events_tsv_ended_by_padding_reads_as_itself(tmp_path: Path, pad: str) -> None:
    path = tmp_path / "x_events.tsv"
    path.write_bytes(b"onset\tduration\ttrial_type\r\n1.5\t0\tgo\r\n" + pad.encode())
    got = bids_events([str(path)], _header(path, 100.0, 1000), {})
    assert [(e[0], e[2]) for e in got.events] == [(1.5, "go")]


def test_a_joints_table_numpy_cannot_parse_is_cited_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "joints.txt"
    path.write_bytes(b"h1\rh2\r0 1 2\r\r0.01 x 2\r0.02 1 2\r")
    with pytest.raises(SourceError) as caught:
        _read_table(str(path), 2)
    assert str(caught.value).endswith("after 2 header lines: line 5: 'x' is not a number")


def test_an_events_csv_numpy_cannot_parse_is_cited_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    path.write_bytes(b"id,HandStart,Grasp\r\ns_0,0,0\r\n\r\ns_1,0,x\r\n")
    with pytest.raises(SourceError) as caught:
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    assert str(caught.value).endswith("line 4: 'x' is not a number")


def test_the_memory_of_a_sidecar_counts_lines_ended_by_cr(tmp_path: Path) -> None:
    lf, cr = tmp_path / "lf.txt", tmp_path / "cr.txt"
    lf.write_bytes(b"1\t2\n" * 1000)
    cr.write_bytes(b"1\t2\r" * 1000)
    assert sidecar_bytes(str(cr)) == sidecar_bytes(str(lf))


def test_a_toml_file_ended_by_ctrl_z_reads_as_itself(tmp_path: Path) -> None:
    from eegprep.base.toml_files import load_toml

    path = tmp_path / "m.toml"
    path.write_bytes(b'\xef\xbb\xbfname = "x"\r\n[reader]\r\nname = "csv"\r\n\x1a')
    assert load_toml(path, "manifest") == {"name": "x", "reader": {"name": "csv"}}


def test_a_toml_file_of_cr_line_ends_says_so(tmp_path: Path) -> None:
    from eegprep.base.errors import ConfigError
    from eegprep.base.toml_files import load_toml

    path = tmp_path / "m.toml"
    path.write_bytes(b'name = "x"\r[reader]\rname = "csv"\r')
    with pytest.raises(ConfigError) as caught:
        load_toml(path, "manifest")
    line = str(caught.value)
    assert "\n" not in line and line.endswith(
        "its lines end in \\r alone, which TOML does not allow: save the manifest with \\n line "
        "ends"
    )
