"""Class labels stored one-hot (a classes x trials 0/1 matrix, the BBCI toolbox's ``mrk.y``)
are read as the vector of class codes is: one 1 in a column is that class, a column of zeros an
unlabelled trial; several 1s, or another value, are one line naming the file. For every reader
of such labels (the BCI cue parser, the MAT reader's ``events.labels``) and MAT v4, v5, v7.3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import bci_markers
from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache
from tests.eegprep.test_mat_sidecars import _header
from tests.eegprep.test_reader_matlab import write_mat73

POS = np.array([[101.0, 351.0, 601.0]])
ONE_HOT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # left, unlabelled, foot


def _write(path: Path, variables: dict[str, Any], version: str) -> Path:
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables, format=version)
    clear_cache()
    return path


def _cues(tmp_path: Path, y: Any, version: str, pos: np.ndarray = POS) -> Path:
    content = {"mrk": {"pos": pos, "y": y}, "nfo": {"fs": 100.0, "classes": ["left", "foot"]}}
    return _write(tmp_path / "a.mat", content, version)


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize(
    "y",
    [ONE_HOT, ONE_HOT.astype(bool), ONE_HOT.astype(np.uint8), ONE_HOT.T],
    ids=["double", "logical", "uint8", "trials-x-classes"],
)
def test_one_hot_cues_are_named_by_class_and_zero_columns_unlabelled(
    tmp_path: Path, version: str, y: np.ndarray
) -> None:
    path = _cues(tmp_path, y, version)
    out = bci_markers([str(path)], _header(path), {})
    assert out.events == [[1.0, 4.0, "left", ""], [6.0, 4.0, "foot", ""]]


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_one_hot_and_vector_codes_give_the_same_events(tmp_path: Path, version: str) -> None:
    one_hot = bci_markers([str(p := _cues(tmp_path, ONE_HOT[:, [0, 2]], version, POS[:, [0, 2]]))],
                          _header(p), {})  # fmt: skip
    vector = bci_markers([str(p := _cues(tmp_path, np.array([[-1.0, 1.0]]), version,
                                         POS[:, [0, 2]]))], _header(p), {})  # fmt: skip
    assert one_hot.events == vector.events


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_a_single_one_hot_trial_and_a_third_class(tmp_path: Path, version: str) -> None:
    path = _cues(tmp_path, np.array([[0.0], [0.0], [1.0]]), version, np.array([[201.0]]))
    assert bci_markers([str(path)], _header(path), {}).events == [[2.0, 4.0, "cue/3", ""]]


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize(
    ("y", "said"),
    [
        (np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), "trial 1 has 2 classes"),
        (np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), "holds 2 (trial 1): expected 0 or 1"),
        (np.array([[1.0, 0.0, 0.0], [0.0, np.nan, 1.0]]), "holds nan (trial 2)"),
        (np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 1.0]]), "holds -1 (trial 2)"),
    ],
    ids=["several-ones", "two", "nan", "minus-one"],
)
def test_a_bad_one_hot_matrix_is_one_line(
    tmp_path: Path, version: str, y: np.ndarray, said: str
) -> None:
    path = _cues(tmp_path, y, version)
    with pytest.raises(SourceError) as caught:
        bci_markers([str(path)], _header(path), {})
    line = str(caught.value)
    assert line.startswith(f"{path}: variable 'mrk.y' is a one-hot classes x trials matrix")
    assert said in line and "\n" not in line


@pytest.mark.parametrize("version", ["4", "5", "7.3"])
def test_the_mat_reader_reads_one_hot_event_labels(tmp_path: Path, version: str) -> None:
    content = {"x": np.zeros((2, 1000)), "pos": POS, "y": ONE_HOT}
    path = _write(tmp_path / "r.mat", content, version)
    header = MatReader.read_header(
        str(path), data="x", sfreq=100.0, events={"onsets": "pos", "labels": "y"}
    )
    assert [(a.onset, a.description) for a in header.annotations] == [
        (1.0, "1"), (3.5, "event"), (6.0, "2")
    ]  # fmt: skip
    bad = _write(tmp_path / "b.mat", content | {"y": ONE_HOT + ONE_HOT[::-1]}, version)
    with pytest.raises(SourceError, match=r"'y' is a one-hot .* trial 1 has 2 classes"):
        MatReader.read_header(
            str(bad), data="x", sfreq=100.0, events={"onsets": "pos", "labels": "y"}
        )


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_class_names_from_the_bbci_class_name_field(tmp_path: Path, version: str) -> None:
    """The BBCI toolbox names a one-hot ``mrk.y``'s rows in ``mrk.className``; they were
    ignored (``cue/1``) when the file had no ``nfo.classes``."""
    content = {"mrk": {"pos": POS, "y": ONE_HOT, "className": ["left", "foot"]}}
    path = _write(tmp_path / "a.mat", content | {"nfo": {"fs": 100.0}}, version)
    out = bci_markers([str(path)], _header(path), {})
    assert out.events == [[1.0, 4.0, "left", ""], [6.0, 4.0, "foot", ""]]
