"""Odd and hostile MATLAB files through every MAT reader a corpus uses (the signal reader with
its variable options, the BCI IV-1 cue parser, the Brain Invaders flag columns): a v4 file, a
file cut inside a variable, sparse matrices, 64-bit integers beyond 2^53, struct arrays where
one struct belongs, cells of text, non-ASCII names. Each is read as MATLAB means it or refused
in one line naming the file; warnings are errors here (numpy's never reach the terminal)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import bci_markers, mat_flag_columns
from eegprep.readers.base import Header, Signal
from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache
from eegprep.testing.mat73_writer import MAT73_HEADER, write_mat73

pytestmark = pytest.mark.filterwarnings("error")

X = np.arange(600.0).reshape(2, 300)


def _header(path: Path) -> Header:
    signal = Signal("C3", 100.0, 1000, "uV", 1.0, 0.0)
    return Header(path=str(path), reader="mat", signals=(signal,), duration=10.0)


def _save(path: Path, variables: dict[str, Any], version: str = "5", **kw: Any) -> Path:
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables, format=version, **kw)  # type: ignore[arg-type]
    clear_cache()
    return path


def _one_line(path: Path, said: str, call: Callable[[], Any]) -> str:
    clear_cache()
    with pytest.raises(SourceError) as caught:
        call()
    line = str(caught.value)
    assert re.match(re.escape(str(path)) + ": " + said, line), line
    assert "\n" not in line
    return line


def _signal(path: Path, **options: Any) -> Callable[[], Header]:
    return lambda: MatReader.read_header(str(path), **options)


def _cues(path: Path) -> Callable[[], Any]:
    return lambda: bci_markers([str(path)], _header(path), {})


# -- MAT v4 -------------------------------------------------------------------------------------


def test_v4_file_is_read_by_every_mat_reader(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.mat", {"x": X, "fs": np.array([[100.0]])}, "4")
    header = MatReader.read_header(str(path), data="x", sfreq_variable="fs")
    assert (len(header.signals), header.signals[0].sfreq, header.signals[0].n_samples) == (
        2,
        100.0,
        300,
    )
    np.testing.assert_array_equal(MatReader.read_segment(header, [0, 1], 0, 3), X[:, :3])
    flags = mat_flag_columns([str(path)], _header(path), {"variable": "x", "columns": {"t": 0}})
    assert flags.events == [[0.01, 0.0, "t", ""]]  # x(1, :) = 0, 1, ...: on from sample 1
    assert bci_markers([str(path)], _header(path), {}).events == []  # v4 holds no struct


# -- cut files: a listing stopped at the cut and the variables after it were left out ----------


_TRIALS = {f"djc_eeg{k}": np.random.default_rng(k).normal(size=(2, 2000)) for k in range(1, 6)}


@pytest.mark.parametrize("version", ["4", "5", "5z"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_cut_file_is_refused_not_listed_short(version: str, keep: float, tmp_path: Path) -> None:
    """SEED-like: 5 trials, the file cut inside the 3rd (or 5th). The listing gave the trials
    before the cut (and the cut one), and the ingest stored those without a word; a
    parser looking for a variable after the cut (BCI IV-1's ``mrk``) found "no cues"."""
    kw = {"do_compression": True} if version == "5z" else {}
    path = _save(tmp_path / "s.mat", _TRIALS, version[0], **kw)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    said = r"MAT file truncated: "
    _one_line(path, said, lambda: MatReader.parts(str(path), data=r"\w+_eeg\d+", sfreq=200.0))
    if version != "4":
        _one_line(path, said, _cues(path))


def test_file_cut_inside_a_tag_is_refused(tmp_path: Path) -> None:
    """Cut 4 bytes into the last variable's 8-byte tag: the walk found no room for a tag and
    stopped, as at a clean end."""
    path = _save(tmp_path / "s.mat", {"a": X, "b": X})
    raw = path.read_bytes()
    whole = _save(tmp_path / "one.mat", {"a": X}).read_bytes()
    path.write_bytes(raw[: len(whole) + 4])
    said = r"MAT file truncated: it ends 4 bytes into a variable's 8-byte tag"
    _one_line(path, said, lambda: MatReader.parts(str(path), data="a", sfreq=200.0))


# -- sparse matrices -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_sparse_values_are_named_sparse(version: str, tmp_path: Path) -> None:
    """v5: scipy loads MATLAB sparse as a scipy matrix, called "a MATLAB cell array"; v7.3
    keeps it as a group (data, ir, jc), called "a MATLAB struct" or "shape ()"."""
    pos = scipy.sparse.csc_matrix([[101.0, 351.0]])
    content = {
        "DATA": scipy.sparse.csc_matrix(X),
        "fs": scipy.sparse.csc_matrix([[100.0]]),
        "full": X,
        "mrk": {"pos": pos, "y": np.array([[-1.0, 1.0]])},
    }
    path = _save(tmp_path / "a.mat", content, version)
    sparse = r"is a MATLAB sparse of shape "
    _one_line(path, r"variable 'mrk\.pos' " + sparse + "1 x 2", _cues(path))
    opts = {"variable": "DATA", "columns": {"t": -1}}
    flags = lambda: mat_flag_columns([str(path)], _header(path), opts)  # noqa: E731
    _one_line(path, r"variable 'DATA' " + sparse + "2 x 300", flags)
    said = r"variable 'fs' " + sparse + r"1 x 1 \(save it full in MATLAB: full\(x\)\): expected"
    _one_line(path, said, _signal(path, data="full", sfreq_variable="fs"))
    said = r"variable 'DATA' is a MATLAB sparse, not a numeric array: save it as a full matrix"
    _one_line(path, said, _signal(path, data="DATA", sfreq=100.0))


# -- 64-bit integers beyond 2^53 ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_int64_beyond_2_53_is_refused_not_rounded(version: str, tmp_path: Path) -> None:
    """float64 holds every integer up to 2^53 only: cue ``2^53 + 1`` became ``2^53``."""
    big = 2**53 + 1
    content = {
        "x": X,
        "fs": np.array([[big]], dtype=np.uint64),
        "mrk": {"pos": np.array([[101, big]], dtype=np.int64), "y": np.array([[-1, 1]])},
    }
    path = _save(tmp_path / "a.mat", content, version)
    said = r"variable 'mrk\.pos' holds 9007199254740993, beyond 2\^53: not exact"
    _one_line(path, said, _cues(path))
    said = r"variable 'fs' is 9007199254740993, beyond 2\^53: not exact"
    _one_line(path, said, _signal(path, data="x", sfreq_variable="fs"))
    content["mrk"] = {"pos": np.array([[101, 351]], dtype=np.int64), "y": np.array([[-1, 1]])}
    path = _save(tmp_path / "b.mat", content, version)  # small 64-bit integers are numbers
    assert [e[0] for e in bci_markers([str(path)], _header(path), {}).events] == [1.0, 3.5]


# -- struct arrays where one struct belongs ------------------------------------------------------


def _v5_struct_array(path: Path) -> Path:
    nfo = np.zeros((1, 2), dtype=[("fs", object), ("clab", object)])
    nfo[0, 0] = (100.0, np.array(["Cz", "Pz"], dtype=object))
    nfo[0, 1] = (200.0, np.array(["Cz", "Pz"], dtype=object))
    return _save(path, {"x": X, "nfo": nfo})


def _v73_struct_array(path: Path) -> Path:
    """``nfo`` as MATLAB saves a 1 x 2 struct array in v7.3: fields of object references."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        ds = f.create_dataset("x", data=X.T)
        ds.attrs["MATLAB_class"] = np.bytes_("double")
        group = f.create_group("nfo")
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        refs_group = f.create_group("#refs#")
        refs = np.empty((2, 1), dtype=h5py.ref_dtype)
        for i, v in enumerate((100.0, 200.0)):
            one = refs_group.create_dataset(f"fs{i}", data=np.array([[v]]))
            one.attrs["MATLAB_class"] = np.bytes_("double")
            refs[i, 0] = one.ref
        group.create_dataset("fs", data=refs)
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER)
    clear_cache()
    return path


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_struct_array_field_is_named_a_struct_array(version: str, tmp_path: Path) -> None:
    """``sfreq_variable = 'nfo.fs'`` of a 1 x 2 struct array: v5 said "'nfo.fs' not found;
    fields of 'nfo': none (not a struct)", v7.3 "'nfo.fs' is a MATLAB cell array"."""
    make = _v5_struct_array if version == "5" else _v73_struct_array
    path = make(tmp_path / "a.mat")
    said = r"variable 'nfo' is a MATLAB struct array of 2 structs, not one struct: 'nfo\.fs'"
    _one_line(path, said, _signal(path, data="x", sfreq_variable="nfo.fs"))


# -- cells of text --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_cell_of_text_event_labels_are_read(version: str, tmp_path: Path) -> None:
    """A cell of strings is how MATLAB keeps several text labels: v5 refused it ("'evl' is a
    MATLAB cell array") while v7.3 read it. A 2 x 2 cell pairs with a 2 x 2 onset matrix in
    MATLAB's column-major order."""
    onsets = np.array([[101.0, 301.0], [201.0, 401.0]])  # onsets(:) = 101, 201, 301, 401
    labels = np.empty((2, 2), dtype=object)
    labels[:] = [["a", "c"], ["b", "d"]]  # labels(:) = a, b, c, d
    content = {"x": X, "ev": onsets, "evl": labels}
    path = _save(tmp_path / "a.mat", content, version)
    header = MatReader.read_header(
        str(path), data="x", sfreq=100.0, events={"onsets": "ev", "labels": "evl"}
    )
    got = [(a.onset, a.description) for a in header.annotations]
    assert got == [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")]


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_cell_of_text_where_numbers_belong_is_one_line(version: str, tmp_path: Path) -> None:
    content = {
        "DATA": X,
        "mrk": {"pos": np.array([[101.0, 351.0]]), "y": ["left", "foot"]},
        "nfo": {"fs": 100.0},
    }
    if version == "5":
        content["mrk"]["y"] = np.array(["left", "foot"], dtype=object)  # type: ignore[index]
    path = _save(tmp_path / "a.mat", content, version)
    _one_line(path, r"variable 'mrk\.y' is a MATLAB cell array: expected cue classes", _cues(path))


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_cell_of_arrays_as_channel_labels_is_one_line(version: str, tmp_path: Path) -> None:
    """Cells of shapes 2 x 2 and 2 x 3 as ``channels_variable``: v7.3 gave numpy's
    ``ValueError: could not broadcast input array``."""
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.zeros((2, 2)), np.zeros((2, 3))
    content = {"x": X, "lab": cell if version == "5" else list(cell[0])}
    path = _save(tmp_path / "a.mat", content, version)
    said = r"variable 'lab' holds no channel labels \(expected strings\)"
    _one_line(path, said, _signal(path, data="x", sfreq=100.0, channels_variable="lab"))


# -- text beyond U+FFFF, and char data that is no text -----------------------------------------


def test_v73_text_beyond_u_ffff_reads_as_in_v5(tmp_path: Path) -> None:
    """MATLAB keeps text as UTF-16: an emoji is a surrogate pair, which v7.3 gave as two lone
    surrogates (a str no UTF-8 file or terminal can take); v5 read it right."""
    labels = np.array(["Fp1 \U0001f600", "Cz"], dtype=object)
    got = []
    for version in ("5", "7.3"):
        path = _save(tmp_path / f"{version}.mat", {"x": X, "lab": labels}, version)
        header = MatReader.read_header(str(path), data="x", sfreq=100.0, channels_variable="lab")
        got.append([s.label for s in header.signals])
    assert got[0] == got[1] == ["Fp1 \U0001f600", "Cz"]
    "".join(got[1]).encode("utf-8")


@pytest.mark.parametrize(
    ("units", "said"),
    [
        (np.array([[0x61, 0xD800]], dtype=np.uint16), r"U\+D800 \(half of a surrogate pair\)"),
        (np.array([[97.0, 98.5]]), r"float64 values"),  # chr() of a float: a TypeError
        (np.array([[97, -3]], dtype=np.int16), r"code -3"),  # chr() of -3: a ValueError
    ],
    ids=["lone-surrogate", "float", "negative"],
)
def test_v73_char_that_is_no_text_is_one_line(units: Any, said: str, tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "a.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        ds = f.create_dataset("x", data=X.T)
        ds.attrs["MATLAB_class"] = np.bytes_("double")
        ds = f.create_dataset("lab", data=units.T)
        ds.attrs["MATLAB_class"] = np.bytes_("char")
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER)
    said = r"variable 'lab' is MATLAB text \(char\) but holds " + said + ", which is no text"
    _one_line(path, said, _signal(path, data="x", sfreq=100.0, channels_variable="lab"))


# -- names that are not ASCII -----------------------------------------------------------------


def test_non_ascii_variable_names_are_read_or_suggested(tmp_path: Path) -> None:
    """MATLAB names are ASCII; another writer's are not: found when named, suggested when not."""
    path = _save(tmp_path / "u.mat", {"données": X, "fs": np.array([[100.0]])}, "7.3")
    header = MatReader.read_header(str(path), data="données", sfreq_variable="fs")
    assert header.signals[0].n_samples == 300
    said = r"variable 'donnees' not found; variables in the file: données, fs\. Did you mean"
    _one_line(path, said, _signal(path, data="donnees", sfreq_variable="fs"))
    v5 = _save(tmp_path / "v5.mat", {"dxnnees": X, "fs": 100.0})
    v5.write_bytes(v5.read_bytes().replace(b"dxnnees", "dénnees".encode("latin-1")))
    clear_cache()
    header = MatReader.read_header(str(v5), data="dénnees", sfreq_variable="fs")
    assert header.signals[0].n_samples == 300
