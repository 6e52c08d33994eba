"""Comment lines (``#`` first) before a table's column-name line are comments, for every
delimiter the ``csv`` reader takes; ``numpy.savetxt``'s ``header=`` (``# Fp1,Cz``) gives the
names.

Before: ``# exported by X`` was read as the column names (the file refused: ``the column-name
line (line 1) has 4 names but the first data row has 1 field``, or ``no numeric signal
columns among '#', 'exported'``), and ``# Fp1,Cz`` gave a channel named ``# Fp1``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.csv_table import CsvReader, clear_cache
from tests.eegprep.reader_checks import read_whole

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "whitespace": " "}
COMMENTS = [["# exported by X, 2024-01-02; 2 channels"], ["#"], ["  # indented", "", "# two"]]
VALUES = np.array([[1.5, -2.0], [3.25, 4.0], [-5.0, 6.5]])


def _table(path: Path, delimiter: str, before: list[str], names: str | None) -> None:
    rows = [delimiter.join(f"{v:g}" for v in row) for row in VALUES]
    lines = [*before, *([names] if names is not None else []), *rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("comments", COMMENTS, ids=["one", "bare", "indented and two"])
@pytest.mark.parametrize("delimiter", DELIMITERS.values(), ids=list(DELIMITERS))
def test_comments_before_the_column_names_are_passed_over(
    tmp_path: Path, delimiter: str, comments: list[str]
) -> None:
    path = tmp_path / "t.csv"
    _table(path, delimiter, comments, delimiter.join(["Fp1", "Cz"]))
    header, data = read_whole(CsvReader, path, clear_cache, sfreq=100)
    assert header.labels == ["Fp1", "Cz"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(data, VALUES.T)


@pytest.mark.parametrize("delimiter", DELIMITERS.values(), ids=list(DELIMITERS))
def test_numpy_savetxt_header_names_the_columns(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "t.txt"
    np.savetxt(path, VALUES, delimiter=delimiter, header=delimiter.join(["Fp1", "Cz"]), fmt="%g")
    header, data = read_whole(CsvReader, path, clear_cache, sfreq=100)
    assert header.labels == ["Fp1", "Cz"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(data, VALUES.T)


def test_a_bad_row_after_comments_is_cited_by_its_editor_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# a\n\n# b\nTime,Fp1\n0,1\n0.01,x\n", encoding="utf-8")
    clear_cache()
    with pytest.raises(SourceError, match=r"t\.csv: line 6, column 'Fp1': 'x' is not a number$"):
        CsvReader.read_header(str(path), time_column="Time")


@pytest.mark.parametrize(
    ("text", "options", "encoding"),
    [("title line\n# comment\nFp1,Cz\n1.5,-2\n3.25,4\n-5,6.5\n", {"header_lines": 1}, "utf-8"),
     ("# comment\nFp1\tCz\n1.5\t-2\n3.25\t4\n-5\t6.5\n", {}, "utf-16"),
     ("# a; b\nFp1;Cz\n1.5;-2\n3.25;4\n-5;6.5\n", {"delimiter": ";"}, "utf-8")],
    ids=["after header_lines", "UTF-16", "a given delimiter"],
)  # fmt: skip
def test_every_variant_of_the_reader_takes_them(
    tmp_path: Path, text: str, options: dict[str, object], encoding: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding=encoding)
    header, data = read_whole(CsvReader, path, clear_cache, sfreq=100, **options)
    assert header.labels == ["Fp1", "Cz"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(data, VALUES.T)
