"""The CSV files labram writes (``predictions.csv``, ``labram predict --csv``) on names it did
not make: a class, subject or file name a spreadsheet would run as a formula (OWASP's "CSV
injection": a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a line break), a comma, a
double quote, a line break, ESC, a class named as a fixed column (``label``). Every such cell
is written as text (a ``'`` before it), every row parses back with Python's ``csv`` into the
same cells, ``read_predictions`` gives each value back exactly, and a CSV printed to a
terminal shows no control sequence."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from labram.data.tasks import Task
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predict import write_csv
from labram.stages.predictions import read_predictions, write_predictions

FORMULAS = ("=1+2", "@SUM(A1)", "+1", "-2+3", "\t=1", "'quoted", 'a,b"c')
"""Names a spreadsheet runs as formulas (the first five), one that starts with the quote that
marks text, and one that needs CSV quoting."""
START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _index(subjects: tuple[str, ...]) -> WindowIndex:
    plans = [RecordingPlan(0, f"c/{s}", "c", s, np.arange(19), np.arange(19)) for s in subjects]
    n = len(subjects)
    rec = np.arange(n)
    labels = rec.astype(np.float32)[:, None]
    return WindowIndex(["s.zarr"], plans, rec, np.zeros(n, int), np.full(n, 4), np.zeros(n, int),
                       labels)  # fmt: skip


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_predictions_csv_holds_no_formula_and_reads_back_exactly(tmp_path: Path) -> None:
    task = Task(name="label:k", kind="multiclass", classes=FORMULAS, window_seconds=None)
    n = len(FORMULAS)
    path = write_predictions(tmp_path / "predictions.csv", task, _index(FORMULAS), np.eye(n))
    rows = _cells(path.read_text(encoding="utf-8"))
    assert len(rows) == 1 + n and {len(r) for r in rows} == {6 + n + 1}  # and row_crc32
    for row in rows:
        for cell in row:
            assert not cell.startswith(START), row  # (a number written as one: none here)
    back = read_predictions(path)
    assert back["classes"] == list(FORMULAS)
    assert [r["label"] for r in back["rows"]] == list(FORMULAS)
    assert [r["subject"] for r in back["rows"]] == list(FORMULAS)
    assert [r["recording"] for r in back["rows"]] == [f"c/{s}" for s in FORMULAS]


def test_a_regression_predictions_csv_of_negative_numbers_and_formula_names_reads_back(
    tmp_path: Path,
) -> None:
    """Numbers are written as numbers, never quoted as formulas (``-1.5`` read back as
    ``'-1.5`` is no number), and each row's CRC-32 is of its cells as written, the quote of
    a name starting with ``=`` included, so the file reads back without a mismatch."""
    task = Task(name="target:k", kind="regression", classes=(), window_seconds=None)
    names = ("=x", "-y", "plain")
    outputs = np.array([[-1.5], [2.25], [-0.125]])
    path = write_predictions(tmp_path / "predictions.csv", task, _index(names), outputs)
    back = read_predictions(path)
    assert [r["pred_0"] for r in back["rows"]] == [-1.5, 2.25, -0.125]
    assert [r["subject"] for r in back["rows"]] == list(names)


def test_predict_csv_holds_no_formula() -> None:
    classes = ["normal", '=HYPERLINK("http://x","y")']
    files = ["=cmd|' /C calc'!A0.edf", "@x.edf", "-1.edf", 'plain,"q".edf']
    probs = dict.fromkeys(classes, 0.5)
    recs = [{"file": f, "n_windows": 1, "label": classes[1], "probabilities": probs} for f in files]
    out = io.StringIO()
    write_csv({"classes": classes, "recordings": recs}, out)
    rows = _cells(out.getvalue())
    assert len(rows) == 1 + len(files) and {len(r) for r in rows} == {2 + 2 + 1}
    for row in rows:
        for cell in row:
            assert not cell.startswith(START), row
    assert rows[0][3] == "p_" + classes[1]
    assert [r[0] for r in rows[1:]] == ["'" + f if f[0] in "=@-" else f for f in files]
    assert rows[1][2] == "0.5"  # numbers stay numbers


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_predict_csv_on_a_terminal_is_one_line_a_row_without_control_sequences() -> None:
    classes = ["a", "b"]
    names = ["\x1b[2Jclear.edf", "two\nlines.edf", "back\rover.edf", "\u202eevil.edf"]
    recs = [
        {"file": f, "n_windows": 1, "label": "a", "probabilities": dict.fromkeys(classes, 0.5)}
        for f in names
    ]
    out = _Terminal()
    write_csv({"classes": classes, "recordings": recs}, out)
    text = out.getvalue()
    assert text.count("\n") == 1 + len(names)
    for raw in ("\x1b", "\r", "\u202e"):
        assert raw not in text
    for shown in (r"\x1b[2Jclear.edf", r"two\nlines.edf", r"back\rover.edf", r"\u202eevil.edf"):
        assert shown in text
    piped = io.StringIO()  # a file or pipe keeps the names as they are (quoted)
    write_csv({"classes": classes, "recordings": recs}, piped)
    assert [r[0] for r in _cells(piped.getvalue())[1:]] == names


def test_predict_csv_class_columns_never_share_a_name_with_a_fixed_one() -> None:
    """A class named ``label`` (a store's label values are the classes) made a second ``label``
    column: a reader by name (``csv.DictReader``) took the class's probability column or the
    predicted label for the other."""
    classes = ["label", "file", "n_windows"]
    probs = {"label": 0.7, "file": 0.2, "n_windows": 0.1}
    rec = {"file": "r.edf", "n_windows": 3, "label": "label", "probabilities": probs}
    out = io.StringIO()
    write_csv({"classes": classes, "recordings": [rec]}, out)
    head = _cells(out.getvalue())[0]
    assert len(set(head)) == len(head)
    (row,) = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert row["file"] == "r.edf" and row["n_windows"] == "3" and row["label"] == "label"
    assert float(row["p_label"]) == 0.7 and float(row["p_file"]) == 0.2


def test_predict_csv_under_an_output_encoding_that_cannot_write_a_name() -> None:
    """``labram predict --csv`` under ``PYTHONIOENCODING=latin-1`` (or an ASCII locale) with a
    class or file named in Japanese was ``UnicodeEncodeError``, an internal error: such a
    character is now written as its escape, as every printed line."""
    classes = ["\u65e5\u672c", "b"]
    rec = {"file": "\u00e9\u65e5.edf", "n_windows": 1, "label": classes[0],
           "probabilities": dict.fromkeys(classes, 0.5)}  # fmt: skip
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="latin-1", newline="")
    write_csv({"classes": classes, "recordings": [rec]}, out)
    out.flush()
    rows = _cells(raw.getvalue().decode("latin-1"))
    assert rows == [
        ["file", "n_windows", "p_\\u65e5\\u672c", "p_b", "label"],
        ["\u00e9\\u65e5.edf", "1", "0.5", "0.5", "\\u65e5\\u672c"],
    ]
