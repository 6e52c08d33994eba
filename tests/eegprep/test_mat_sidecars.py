"""Sidecar parsers that read MATLAB files (BCI IV-1 cues, Brain Invaders flag columns): values
that are no numbers are one line naming the file and the variable, never numpy's warning."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import bci_markers, mat_flag_columns
from eegprep.readers.base import Header, Signal
from eegprep.readers.matlab_files import clear_cache
from tests.eegprep.test_reader_matlab import write_mat73


def _header(path: Path, sfreq: float = 100.0, n: int = 1000) -> Header:
    signal = Signal("C3", sfreq, n, "uV", 1.0, 0.0)
    return Header(path=str(path), reader="mat", signals=(signal,), duration=n / sfreq)


def _write(path: Path, variables: dict[str, Any], version: str = "5") -> Path:
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables)
    clear_cache()
    return path


def _mrk(**fields: Any) -> dict[str, Any]:
    mrk = {"pos": np.array([[101.0, 351.0]]), "y": np.array([[-1.0, 1.0]])} | fields
    return {"mrk": mrk, "nfo": {"fs": 100.0, "classes": ["left", "foot"]}}


def test_sound_cues_are_named_by_class(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.mat", _mrk())
    out = bci_markers([str(path)], _header(path), {})
    assert out.events == [[1.0, 4.0, "left", ""], [3.5, 4.0, "foot", ""]]


_BAD_CUES = [
    ("pos", np.array([[101.0, 351.0 + 2.0j]]), r"'mrk\.pos' is complex \(351\+2j\), not real"),
    ("pos", np.array([[101.0, np.nan]]), r"'mrk\.pos' holds nan, not a finite number"),
    ("pos", np.array([[0.0, 351.0]]), r"'mrk\.pos' holds 0, out of range"),
    ("pos", np.array([[True, True]]), r"'mrk\.pos' is logical \(true/false\)"),
    ("y", np.array([[-1.0 + 1.0j, 1.0]]), r"'mrk\.y' is complex \(-1\+1j\), not real"),
    ("y", np.array([[True, False]]), r"'mrk\.y' is logical \(true/false\)"),
    ("y", np.array([[np.inf, 1.0]]), r"'mrk\.y' holds inf, not a finite number"),
]


@pytest.mark.parametrize(("field", "value", "said"), _BAD_CUES, ids=[str(i) for i in range(7)])
@pytest.mark.filterwarnings("error")  # numpy's ComplexWarning never reaches the terminal
def test_cues_that_are_no_numbers_are_one_line(
    field: str, value: Any, said: str, tmp_path: Path
) -> None:
    """``mrk.pos`` went through ``np.asarray(..., dtype=float)``: a complex position lost its
    imaginary part with a ``ComplexWarning``, a logical one became sample 1."""
    path = _write(tmp_path / "a.mat", _mrk(**{field: value}))
    with pytest.raises(SourceError) as caught:
        bci_markers([str(path)], _header(path), {})
    line = str(caught.value)
    assert re.match(re.escape(str(path)) + ": variable " + said, line), line
    assert "\n" not in line


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.filterwarnings("error")
def test_flag_columns_are_read_and_checked(version: str, tmp_path: Path) -> None:
    """Brain Invaders ``DATA``: flags in the last columns; a complex matrix, a column that is
    not there, and a NaN flag are one line each (they were numpy's warning, an ``IndexError``,
    and an event at every NaN)."""
    data = np.zeros((500, 4))
    data[100:105, -1] = 1.0
    options = {"columns": {"target": -1}}
    path = _write(tmp_path / "b.mat", {"DATA": data}, version)
    out = mat_flag_columns([str(path)], _header(path, 100.0, 500), options)
    assert out.events == [[1.0, 0.0, "target", ""]]
    for value, opts, said in [
        (data + 1j, options, r"variable 'DATA' is complex \(1j\), not real"),
        (data, {"columns": {"target": 4}}, r"variable 'DATA' has 4 columns, no column 4"),
        (np.where(data > 0, np.nan, data), options, r"column -1 of variable 'DATA' holds nan"),
    ]:
        path = _write(tmp_path / "b.mat", {"DATA": value}, version)
        with pytest.raises(SourceError, match=re.escape(str(path)) + ": " + said):
            mat_flag_columns([str(path)], _header(path, 100.0, 500), opts)
