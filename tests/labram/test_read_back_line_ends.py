"""Tables and JSON labram reads back (``predictions.csv``, ``log.csv``, a splits or run
file), saved by an editor or a tool with other line ends: a line cited is the one an editor
shows, and a Ctrl-Z ending the file (a DOS tool's end of text) is no row.

Before: ``predictions.csv`` counted ``\\n`` alone, so a NUL on line 4 of a file of ``\\r`` line
ends was "line 1"; a Ctrl-Z ending it was a row of one field; a ``log.csv`` of ``\\r`` line ends
lost every row (cut at its last ``\\n``: none); a JSON error in a file of ``\\r`` line ends was
"line 1 column 40"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from labram.data.tasks import TASKS
from labram.stages.predictions import read_predictions, write_predictions
from labram.train.runlog import whole_rows
from tests.labram.test_foreign_predictions import _index


def _written(tmp: Path) -> Path:
    return write_predictions(tmp / "predictions.csv", TASKS["tuab"], _index(),
                             np.array([[0.1], [-0.2], [0.3], [0.9]]))  # fmt: skip


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_a_predictions_file_s_bad_line_is_the_one_an_editor_shows(tmp_path: Path, end: str) -> None:
    lines = _written(tmp_path).read_text().splitlines()
    lines[3] = lines[3][:5] + "\0" + lines[3][5:]
    path = tmp_path / "edited.csv"
    path.write_bytes(end.join(lines).encode() + end.encode())
    with pytest.raises(UsageError) as caught:
        read_predictions(path)
    assert "line 4 holds a NUL byte" in str(caught.value)


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_a_predictions_file_ended_by_ctrl_z_reads_as_itself(tmp_path: Path, end: str) -> None:
    path = _written(tmp_path)
    want = read_predictions(path)
    lines = path.read_text().splitlines()
    dos = tmp_path / "dos.csv"
    dos.write_bytes((end.join(lines) + end + "\x1a").encode())
    assert read_predictions(dos)["rows"] == want["rows"]


def test_a_log_of_cr_line_ends_keeps_its_rows() -> None:
    text = "step,loss\r1,0.5\r2,0.25\r3,0.1"  # (the last row cut: no line end)
    assert whole_rows(text) == "step,loss\r1,0.5\r2,0.25\r"
    assert whole_rows(text.replace("\r", "\n")) == "step,loss\n1,0.5\n2,0.25\n"


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_json_error_cites_the_line_an_editor_shows(end: str) -> None:
    doc = end.join(["{", '  "format": "splits",', '  "folds": [1, 2,]', "}"])
    with pytest.raises(json.JSONDecodeError) as caught:
        strict_json.loads(doc)
    assert caught.value.lineno == 3 and caught.value.colno == 18
    assert "line 3 column 18" in str(caught.value)
