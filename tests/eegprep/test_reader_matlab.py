"""MatReader on MAT v5 (scipy) and v7.3 (HDF5 in MATLAB's layout) files written here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import scipy.io

from eegprep.readers import get_reader, reader_for
from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache

try:  # the repository root on sys.path (PYTHONPATH=. or tests/ as a package)
    from tests.eegprep.reader_checks import check_reader, check_source_error, check_usage_error
except ImportError:  # pytest's rootdir-less "prepend" import of tests/eegprep
    from reader_checks import check_reader, check_source_error, check_usage_error

SEED_LABELS = [f"E{i}" for i in range(62)]
BCI_LABELS = [f"C{i}" for i in range(59)]
SPIS_LABELS = [f"S{i}" for i in range(64)]


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    clear_cache()


def _seed_arrays() -> dict[str, np.ndarray]:
    """SEED-like keys djc_eeg1..djc_eeg15: 62 x T at 200 Hz, microvolts, T differs per trial."""
    rng = np.random.default_rng(2)
    return {f"djc_eeg{k}": rng.normal(scale=30.0, size=(62, 200 + 7 * k)) for k in range(1, 16)}


def _bci_content() -> dict[str, Any]:
    """BCI IV-1-like: cnt time x 59 int16 (0.1 uV per count), nfo.fs/nfo.clab, mrk.pos/mrk.y."""
    rng = np.random.default_rng(3)
    cnt = rng.integers(-3000, 3000, size=(1000, 59)).astype(np.int16)
    nfo = {"fs": 100.0, "clab": np.array(BCI_LABELS, dtype=object), "classes": ["left", "foot"]}
    mrk = {"pos": np.array([[101, 351, 601]], dtype=float), "y": np.array([[-1.0, 1.0, -1.0]])}
    return {"cnt": cnt, "nfo": nfo, "mrk": mrk}


def _spis_array() -> np.ndarray:
    """SPIS-like dataRest: 68 rows (64 EEG, 3 EOG, 1 trigger) x T at 256 Hz."""
    rng = np.random.default_rng(4)
    return rng.normal(scale=10.0, size=(68, 700))


# -- MAT v7.3 in MATLAB's layout ---------------------------------------------------------------

_MAT73_TEXT = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
    b"HDF5 schema 1.00 ."
)


def write_mat73(path: Path, variables: dict[str, Any]) -> None:
    """Write ``variables`` as MATLAB 7.3 does: 512-byte user block, arrays transposed.

    Numbers become MATLAB double/intN arrays (at least 2-D), bools a logical array (uint8),
    complex numbers a compound of ``real`` and ``imag``, str a char row (uint16), a list of
    str a cell row (object references into ``#refs#``), a dict a struct group.
    """
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            _h5_put(f, f, name, value)
    header = _MAT73_TEXT.ljust(116) + b" " * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as fh:
        fh.write(header)


def _h5_put(f: h5py.File, group: h5py.Group, name: str, value: Any) -> None:
    if isinstance(value, dict):
        sub = group.create_group(name)
        sub.attrs["MATLAB_class"] = np.bytes_("struct")
        for key, item in value.items():
            _h5_put(f, sub, key, item)
    elif isinstance(value, str):
        ds = group.create_dataset(name, data=np.array([[ord(c) for c in value]], np.uint16).T)
        ds.attrs["MATLAB_class"] = np.bytes_("char")
    elif isinstance(value, list):
        refs_group = f.require_group("#refs#")
        refs = []
        for i, item in enumerate(value):
            key = f"{name}_{len(refs_group)}_{i}"
            _h5_put(f, refs_group, key, item)
            refs.append(refs_group[key].ref)
        ds = group.create_dataset(name, data=np.array([refs], dtype=h5py.ref_dtype).T)
        ds.attrs["MATLAB_class"] = np.bytes_("cell")
    else:
        arr = np.atleast_2d(np.asarray(value))
        cls = {"float64": "double", "float32": "single"}.get(arr.dtype.name, arr.dtype.name)
        if arr.dtype.kind == "b":
            arr, cls = arr.astype(np.uint8), "logical"
        elif arr.dtype.kind == "c":
            pair = np.dtype([("real", "<f8"), ("imag", "<f8")])
            arr, cls = np.rec.fromarrays([arr.real, arr.imag], dtype=pair), "double"
        ds = group.create_dataset(name, data=arr.T)
        ds.attrs["MATLAB_class"] = np.bytes_(cls)


# -- tests ------------------------------------------------------------------------------------


def test_registry_finds_the_mat_reader() -> None:
    assert get_reader("mat") is MatReader
    assert reader_for("x.mat") is MatReader


def test_seed_v5_parts_in_natural_order(tmp_path: Path) -> None:
    arrays = _seed_arrays()
    path = str(tmp_path / "1_20131027.mat")
    scipy.io.savemat(path, arrays, do_compression=True)
    opts = {"data": r"\w+_eeg\d+", "sfreq": 200.0, "channels": SEED_LABELS}
    parts = MatReader.parts(path, **opts)
    assert parts == [f"djc_eeg{k}" for k in range(1, 16)]
    for part in ("djc_eeg2", "djc_eeg10"):
        header, _ = check_reader(
            MatReader,
            path,
            part=part,
            expected_labels=SEED_LABELS,
            expected_sfreq=200.0,
            expected_n_samples=arrays[part].shape[1],
            reference_uv=arrays[part],
            **opts,
        )
        assert header.meta_dict()["variable"] == part
        assert header.meta_dict()["mat_version"] == "5"
        assert header.option("layout") == "channels_first"
    check_usage_error(MatReader, path, r"matches 15 variables.*part=", **opts)
    one = MatReader.read_header(path, **dict(opts, data="djc_eeg1"))
    assert one.part is None and one.meta_dict()["variable"] == "djc_eeg1"


def test_bci_iv_1_struct_v5(tmp_path: Path) -> None:
    content = _bci_content()
    path = str(tmp_path / "BCICIV_calib_ds1a.mat")
    scipy.io.savemat(path, content)
    header, _ = check_reader(
        MatReader,
        path,
        expected_labels=BCI_LABELS,
        expected_sfreq=100.0,
        expected_n_samples=1000,
        reference_uv=content["cnt"].T * 0.1,
        data="cnt",
        sfreq_variable="nfo.fs",
        channels_variable="nfo.clab",
        scale=0.1,
        events={"onsets": "mrk.pos", "labels": "mrk.y"},
    )
    assert header.option("layout") == "time_first"  # 59 labels match the second axis
    assert header.signals[0].resolution == pytest.approx(0.1)
    assert [(a.onset, a.description) for a in header.annotations] == [
        (1.0, "-1"),
        (3.5, "1"),
        (6.0, "-1"),
    ]


def test_spis_v73_and_v5_read_the_same(tmp_path: Path) -> None:
    """SPIS ships v7.3 per its README and v5 per a loader: both read alike (rows 1-64)."""
    data = _spis_array()
    v73, v5 = str(tmp_path / "S02_restingPre_EC.mat"), str(tmp_path / "S02_v5.mat")
    write_mat73(Path(v73), {"dataRest": data, "info": {"fs": 256.0, "clab": SPIS_LABELS}})
    scipy.io.savemat(v5, {"dataRest": data, "info": {"fs": 256.0, "clab": SPIS_LABELS}})
    opts = {"data": "dataRest", "rows": "0:64", "sfreq_variable": "info.fs"}
    h73, full73 = check_reader(
        MatReader, v73, reference_uv=data[:64], channels_variable="info.clab", **opts
    )
    h5, full5 = check_reader(MatReader, v5, channels_variable="info.clab", **opts)
    assert h73.meta_dict()["mat_version"] == "7.3"
    assert h73.labels == h5.labels == SPIS_LABELS
    assert h73.option("rows") == tuple(range(64))
    np.testing.assert_array_equal(full73, full5)


def test_v73_time_first_with_rows_and_default_labels(tmp_path: Path) -> None:
    """Brain Invaders-like DATA: column 0 time, 1-32 EEG, two stimulus flags; time x columns."""
    rng = np.random.default_rng(5)
    data = np.column_stack([np.arange(600) / 512, rng.normal(size=(600, 32)), np.zeros((600, 2))])
    path = str(tmp_path / "subject_01_session_01.mat")
    write_mat73(Path(path), {"DATA": data.astype(np.float32)})
    header, _ = check_reader(
        MatReader,
        path,
        expected_labels=[f"ch{r + 1}" for r in range(1, 33)],
        reference_uv=data[:, 1:33].T.astype(np.float32),
        atol=0,
        data="DATA",
        sfreq=512,
        rows=list(range(1, 33)),
        layout="time_first",
    )
    assert header.meta_dict()["dtype"] == "float32"


def test_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "seed.mat")
    scipy.io.savemat(
        path, {"djc_eeg1": np.ones((4, 50)), "cube": np.ones((2, 3, 4)), "s": {"a": 1}}
    )
    ok = {"sfreq": 200.0}
    check_source_error(
        MatReader,
        path,
        r"variable 'djc_eeg' not found; variables in the file: djc_eeg1, cube, s\. "
        r"Did you mean 'djc_eeg1'\?",
        data="djc_eeg",
        **ok,
    )
    check_source_error(MatReader, path, r"shape \(2, 3, 4\); expected 2-D", data="cube", **ok)
    check_source_error(MatReader, path, r"'s' is a MATLAB struct", data="s", **ok)
    check_source_error(MatReader, path, r"'s.b' not found; fields of 's': a", data="s.b", **ok)
    check_source_error(
        MatReader, path, r"rows \[9\] outside the 4 channels", data="djc_eeg1", rows=[9], **ok
    )
    check_source_error(
        MatReader,
        path,
        r"3 channel labels for 4 channels",
        data="djc_eeg1",
        channels=["a", "b", "c"],
        **ok,
    )
    check_usage_error(
        MatReader, path, r"Unknown option 'sfrq'.*Did you mean 'sfreq'", data="x", sfrq=1
    )
    check_usage_error(MatReader, path, r"needs option `data`", **ok)
    check_usage_error(MatReader, path, r"needs `sfreq`", data="djc_eeg1")
    check_usage_error(MatReader, path, r"`layout`: allowed 'auto'", data="x", layout="rows", **ok)
    check_usage_error(MatReader, path, r"`sfreq`: expected a positive", data="x", sfreq=-1)
    check_usage_error(MatReader, path, r"`unit`: allowed", data="x", unit="furlong", **ok)
    check_usage_error(
        MatReader, path, r"Unknown option 'onset'", data="x", events={"onset": "p"}, **ok
    )
    check_usage_error(
        MatReader, path, r"`rows`: expected 'start:stop'", data="djc_eeg1", rows="a:b", **ok
    )


def test_not_a_mat_file_empty_and_truncated(tmp_path: Path) -> None:
    opts = {"data": "x", "sfreq": 100.0}
    text = tmp_path / "notes.mat"
    text.write_text("subject,age\n1,20\n")
    check_source_error(MatReader, str(text), r"not a MATLAB file: expected a 'MATLAB 5.0", **opts)
    empty = tmp_path / "empty.mat"
    empty.write_bytes(b"")
    check_source_error(MatReader, str(empty), r"file is empty", **opts)
    check_source_error(MatReader, str(tmp_path / "absent.mat"), r"file not found", **opts)

    full = tmp_path / "full.mat"
    scipy.io.savemat(full, {"x": np.arange(4000.0).reshape(4, 1000)})
    cut = tmp_path / "cut.mat"
    cut.write_bytes(full.read_bytes()[:2000])
    check_source_error(
        MatReader,
        str(cut),
        r"MAT file truncated: .* declares 32048 bytes, 1864 remain: re-download",
        **opts,
    )
    cut.write_bytes(full.read_bytes()[:60])
    check_source_error(MatReader, str(cut), r"truncated MAT file: 60 bytes", **opts)

    v73 = tmp_path / "v73.mat"
    write_mat73(v73, {"x": np.ones((4, 5000))})
    cut.write_bytes(v73.read_bytes()[:3000])
    check_source_error(  # sizes counted from the file's start, its 512-byte user block in
        MatReader,
        str(cut),
        r"file is truncated: it has 3,000 bytes, its HDF5 superblock says \d",
        **opts,
    )


def test_repeated_channel_label_comes_back_as_given(tmp_path: Path) -> None:
    path = tmp_path / "dup.mat"
    scipy.io.savemat(path, {"x": np.arange(1500.0).reshape(3, 500)})
    clear_cache()
    header = MatReader.read_header(str(path), data="x", sfreq=250, channels=["Fp1", "Cz", "Cz"])
    assert header.labels == ["Fp1", "Cz", "Cz"]
    x = MatReader.read_segment(header, [1, 2], 0, 1)
    np.testing.assert_array_equal(x[:, 0], [500.0, 1000.0])


def test_a_v73_reference_loop_is_one_clear_error(tmp_path: Path) -> None:
    """A MAT v7.3 cell that refers to itself (a crafted file) nests without end: refused by
    name, not a RecursionError."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mat73 import MAX_MAT_DEPTH
    from eegprep.readers.matlab_files import mat_version, small_variable

    path = tmp_path / "loop.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        cell = f.create_dataset("nfo", shape=(1, 1), dtype=h5py.ref_dtype)
        cell.attrs["MATLAB_class"] = np.bytes_("cell")
        cell[0, 0] = cell.ref
    with path.open("r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" "))
    clear_cache()
    assert mat_version(str(path)) == "7.3"
    with pytest.raises(SourceError, match=f"'nfo' nests more than {MAX_MAT_DEPTH} levels"):
        small_variable(str(path), "7.3", "nfo")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("sparse", r"MATLAB sparse, not a numeric array: save it as a full matrix"),
        ("complex", r"MATLAB complex128, not a numeric array: EEG samples are real"),
        ("cell", r"MATLAB cell of 2 arrays, not one continuous recording .*: save one numeric"),
        ("struct", r"MATLAB struct, not a numeric array: name its field .* data = \"eeg\.data\""),
    ],
)
def test_a_data_variable_of_another_class_says_what_to_do(
    kind: str, expected: str, tmp_path: Path
) -> None:
    """Every non-numeric class said 'name its field', which only a struct can act on."""
    import scipy.sparse

    from eegprep.base.errors import SourceError

    x = np.random.default_rng(0).normal(0, 20, (4, 500))
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = x, x
    value = {
        "sparse": scipy.sparse.csc_matrix(x),
        "complex": x + 1j * x,
        "cell": cell,
        "struct": {f"f{i}": 1.0 for i in range(100)},
    }[kind]
    path = tmp_path / f"{kind}.mat"
    scipy.io.savemat(path, {"eeg": value, "fs": 250.0})
    clear_cache()
    with pytest.raises(SourceError, match=expected):
        MatReader.read_header(str(path), data="eeg", sfreq_variable="fs")


# -- numbers that are no numbers -------------------------------------------------------------

_EIGHT_SECONDS = np.random.default_rng(0).normal(0, 20, (4, 2000))
_BAD_NUMBERS = [
    ("complex", 250.0 + 2.0j, r"is complex \(250\+2j\), not real"),
    ("zero imaginary", np.complex128(250.0 + 0.0j), r"is complex \(250\+0j\), not real"),
    ("logical", True, r"is logical true \(true/false\), not a number"),
    ("struct", {"a": 1.0}, r"is a MATLAB struct"),
    ("empty", np.zeros((0, 0)), r"is empty"),
    ("nan", np.nan, r"is nan, not a finite number"),
    ("inf", np.inf, r"is inf, not a finite number"),
    ("zero", 0.0, r"is 0, out of range"),
    ("two", np.array([[250.0, 500.0]]), r"holds 2 values of shape \(2,\)"),
]


def _write(path: Path, version: str, variables: dict[str, Any]) -> str:
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables)
    clear_cache()
    return str(path)


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize(("kind", "value", "said"), _BAD_NUMBERS, ids=[b[0] for b in _BAD_NUMBERS])
@pytest.mark.filterwarnings("error")  # numpy's ComplexWarning never reaches the terminal
def test_a_rate_that_is_no_number_is_one_line_naming_it(
    kind: str, value: Any, said: str, version: str, tmp_path: Path
) -> None:
    """A complex ``fs`` was read as its real part (numpy printed ``ComplexWarning``), a logical
    one as 1 Hz, a struct as "no single sampling rate"."""
    from eegprep.base.errors import SourceError

    path = _write(tmp_path / "r.mat", version, {"eeg": _EIGHT_SECONDS, "nfo": {"fs": value}})
    with pytest.raises(SourceError) as caught:
        MatReader.read_header(path, data="eeg", sfreq_variable="nfo.fs")
    line = str(caught.value)
    assert line.startswith(f"{path}: variable 'nfo.fs' ") and "\n" not in line
    assert re.search(said + r": expected one sampling rate in Hz", line), line


_BAD_EVENTS = [
    ("onsets", np.array([[1.0, 2.0 + 1.0j]]), r"'pos' is complex \(2\+1j\), not real"),
    ("onsets", np.array([[1.0, np.nan]]), r"'pos' holds nan, not a finite number"),
    ("onsets", np.array([[True, False]]), r"'pos' is logical \(true/false\)"),
    ("durations", np.array([[1.0, -3.0]]), r"'dur' holds -3, out of range"),
    ("durations", np.array([[1.0 + 1.0j, 0.0]]), r"'dur' is complex \(1\+1j\), not real"),
    ("labels", np.array([[1.0, 1.0j]]), r"'y' is complex \(1j\), not real"),
    ("labels", np.array([[True, False]]), r"'y' is logical \(true/false\)"),
    ("labels", np.array([[1.0, np.inf]]), r"'y' holds inf, not a finite number"),
]


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize(("key", "value", "said"), _BAD_EVENTS, ids=[str(i) for i in range(8)])
@pytest.mark.filterwarnings("error")
def test_event_variables_that_are_no_numbers_are_one_line_naming_them(
    key: str, value: Any, said: str, version: str, tmp_path: Path
) -> None:
    """Event positions, durations and numeric labels went through ``float()``: a complex one
    lost its imaginary part with a ``ComplexWarning``, a NaN position became an event at NaN."""
    from eegprep.base.errors import SourceError

    names = {"onsets": "pos", "durations": "dur", "labels": "y"}
    variables = {"eeg": _EIGHT_SECONDS, "pos": np.array([[1.0, 2.0]]), "dur": np.zeros((1, 2))}
    variables |= {"y": np.array([[1.0, 2.0]]), names[key]: value}
    path = _write(tmp_path / "r.mat", version, variables)
    with pytest.raises(SourceError, match="^" + re.escape(path) + ": variable " + said):
        MatReader.read_header(path, data="eeg", sfreq=250.0, events=names)


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.filterwarnings("error")
def test_logical_or_complex_samples_are_refused_by_class(version: str, tmp_path: Path) -> None:
    """Logical samples were read as 0/1 microvolts; complex v7.3 samples (MATLAB's compound of
    ``real`` and ``imag``) passed the header as 'double'."""
    from eegprep.base.errors import SourceError

    for value, said in [
        (_EIGHT_SECONDS > 0, r"MATLAB logical, not a numeric array: EEG samples are numbers"),
        (_EIGHT_SECONDS + 0j, r"MATLAB complex128, not a numeric array: EEG samples are real"),
    ]:
        path = _write(tmp_path / "r.mat", version, {"eeg": value})
        with pytest.raises(SourceError, match=said):
            MatReader.read_header(path, data="eeg", sfreq=250.0)


def _cell(*arrays: np.ndarray) -> np.ndarray:
    """A MATLAB cell row as scipy writes one (an object array)."""
    out = np.empty((1, len(arrays)), dtype=object)
    for i, a in enumerate(arrays):
        out[0, i] = a
    return out


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize("where", ["variable", "field"])
def test_a_cell_of_one_trial_is_read_as_its_array_in_every_version(
    version: str, where: str, tmp_path: Path
) -> None:
    """FieldTrip keeps a continuous recording as ``data.trial``, a cell of one matrix. A v5
    struct field of that kind was read (scipy unwraps a 1 x 1 cell), the same v7.3 field and a
    cell variable of either version were refused as 'a MATLAB cell'; a cell of several trials
    said 'a MATLAB object' (v5) or 'a MATLAB cell' (v7.3)."""
    from eegprep.base.errors import SourceError

    x = _EIGHT_SECONDS
    one, two = (
        ([x] if version == "7.3" else _cell(x)),
        ([x, x[:, :900]] if version == "7.3" else _cell(x, x[:, :900])),
    )
    for value, n in [(one, 1), (two, 2)]:
        content = {"trial": value, "fsample": 250.0}
        path = _write(
            tmp_path / f"{n}.mat", version, {"data": content} if where == "field" else content
        )
        name = "data.trial" if where == "field" else "trial"
        if n == 2:
            with pytest.raises(SourceError) as caught:
                MatReader.read_header(path, data=name, sfreq=250.0)
            line = str(caught.value)
            assert line.startswith(f"{path}: variable {name!r} is a MATLAB cell of 2 arrays, ")
            assert "not one continuous recording" in line and "\n" not in line
            continue
        header = MatReader.read_header(path, data=name, sfreq=250.0)
        assert (len(header.labels), header.signals[0].n_samples) == x.shape
        got = MatReader.read_segment(header, [0, 3], 100, 700)
        np.testing.assert_array_equal(got, x[[0, 3], 100:700].astype(np.float32))


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_a_name_through_a_cell_of_structs_reads_alike_in_every_version(
    version: str, tmp_path: Path
) -> None:
    """FieldTrip's epoched datasets (pymatreader's ``ft_v7.mat`` and ``ft_v73.mat``) are a cell
    of structs. A name through a cell of three said 'a MATLAB struct array of 3 structs' (v5)
    and 'fields of ... none (not a struct)' (v7.3); through a cell of one struct, v5 read it
    (scipy unwraps the cell) and v7.3 did not find it."""
    from eegprep.base.errors import SourceError

    x = _EIGHT_SECONDS
    one = {"trial": x, "fsample": 250.0}
    for n in (1, 3):
        items = [dict(one) for _ in range(n)]
        value = items if version == "7.3" else _cell(*items)
        path = _write(tmp_path / f"{n}.mat", version, {"eps": value})
        if n == 1:
            header = MatReader.read_header(path, data="eps.trial", sfreq_variable="eps.fsample")
            assert header.signals[0].sfreq == 250.0 and len(header.labels) == x.shape[0]
            got = MatReader.read_segment(header, [1], 0, 50)
            np.testing.assert_array_equal(got, x[[1], :50].astype(np.float32))
            continue
        with pytest.raises(SourceError) as caught:
            MatReader.read_header(path, data="eps.trial", sfreq_variable="eps.fsample")
        line = str(caught.value)
        assert line.startswith(f"{path}: variable 'eps' is a MATLAB cell of 3 values, not one ")
        assert "'eps.trial' names no single value" in line and "\n" not in line


@pytest.mark.parametrize("version", ["5", "7.3"])
@pytest.mark.parametrize("where", ["variable", "field"])
def test_a_cell_of_one_text_as_samples_is_named_char_in_every_version(
    version: str, where: str, tmp_path: Path
) -> None:
    """A cell of one text named as the samples said 'a MATLAB cell' (a v5 variable),
    'a MATLAB <U5' (a v5 field, numpy's words) and 'a MATLAB char' (v7.3): now 'char' alike."""
    from eegprep.base.errors import SourceError

    value = ["hello"] if version == "7.3" else _cell(np.array("hello"))
    content = {"x": value}
    path = _write(tmp_path / "t.mat", version, {"d": content} if where == "field" else content)
    name = "d.x" if where == "field" else "x"
    with pytest.raises(SourceError) as caught:
        MatReader.read_header(path, data=name, sfreq=100.0)
    assert str(caught.value) == (
        f"{path}: variable {name!r} is a MATLAB char, not a numeric array: save the samples as "
        "a numeric matrix"
    )
