"""MAT sidecars saved with MATLAB's ``save -v7.3`` (HDF5) ingest as their v5 originals do.

Every corpus whose manifest reads a MATLAB sidecar (BCI IV-1 ``mrk``/``nfo``, Brain Invaders
``DATA`` flag columns) is ingested twice from its fixture: as written (MAT v5) and with every
``.mat`` saved again as v7.3 (:func:`~eegprep.testing.mat73_writer.resave_mat73`: same
variables, classes, MATLAB shapes; HDF5 sees them transposed). The two stores hold the same
recordings, samples, labels and events. Values that are no markers, and damaged or hostile
v7.3 files, are one line naming the file, as in v5.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest
from eegprep.corpus.sidecars import load_parsers
from eegprep.corpus.sidecars.bci import bci_markers, mat_flag_columns
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.base import Header, Signal
from eegprep.readers.matlab_files import clear_cache, mat_version
from eegprep.store.reader import Store
from eegprep.testing.fixtures import write_fixture
from eegprep.testing.mat73_writer import MAT73_HEADER, resave_mat73, write_mat73

MAT_SIDECAR_PARSERS = {"bci_markers", "mat_flag_columns"}


def _mat_sidecar_corpora() -> list[str]:
    """Every shipped manifest whose sidecar parser reads ``.mat`` files."""
    from eegprep.corpus.manifest import available

    out = []
    for name in available():
        m = load_manifest(name)
        files = (*m.sidecar_suffixes, *m.sidecar_files)
        if m.sidecar_parser and any(f.lower().endswith(".mat") for f in files):
            out.append(name)
    return sorted(out)


def test_every_mat_sidecar_parser_is_covered() -> None:
    """A new MAT sidecar corpus or parser joins the v7.3 check below."""
    names = _mat_sidecar_corpora()
    assert names == ["bciciv1", "target_nontarget"]
    parsers = {load_manifest(n).sidecar_parser for n in names}
    assert parsers == MAT_SIDECAR_PARSERS and parsers <= set(load_parsers())


def _ingest(name: str, root: Path, out: Path) -> Store:
    rep = ingest(name, src=root, out=out, config=IngestConfig(workers=0, progress=False))
    assert (rep.failed, rep.unmatched, rep.n_ingested > 0) == ([], [], True), rep.details
    return open_store(out)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflated"])
@pytest.mark.parametrize("name", ["bciciv1", "target_nontarget"])
def test_v73_copy_of_each_mat_sidecar_fixture_ingests_the_same(
    name: str, compress: bool, tmp_path: Path
) -> None:
    root5 = write_fixture(name, tmp_path / "v5")
    root73 = tmp_path / "v73" / root5.name
    shutil.copytree(root5, root73)
    mats = sorted(root73.rglob("*.mat"))
    assert mats
    for path in mats:
        resave_mat73(root5 / path.relative_to(root73), path, compress=compress)
        assert mat_version(str(path)) == "7.3"
    clear_cache()
    s5 = _ingest(name, root5, tmp_path / "v5.zarr")
    s73 = _ingest(name, root73, tmp_path / "v73.zarr")
    ids = sorted(r.id for r in s5.recordings)
    assert ids == sorted(r.id for r in s73.recordings)
    n_events = 0
    for rid in ids:
        a, b = s5.recording(rid), s73.recording(rid)
        assert (a.labels, a.channels, a.n_samples) == (b.labels, b.channels, b.n_samples)
        events = [(e.onset, e.duration, e.label) for e in a.events]
        assert events == [(e.onset, e.duration, e.label) for e in b.events]
        n_events += len(events)
        assert np.array_equal(s5.read(rid), s73.read(rid))
    assert n_events > 0  # the markers were read, not skipped in both


# -- the parsers on v7.3 files, value by value --------------------------------------------------


def _header(path: Path, sfreq: float = 100.0, n: int = 1000) -> Header:
    signal = Signal("C3", sfreq, n, "uV", 1.0, 0.0)
    return Header(path=str(path), reader="mat", signals=(signal,), duration=n / sfreq)


def _write(path: Path, variables: dict[str, Any], version: str, compress: bool = False) -> Path:
    if version == "7.3":
        write_mat73(path, variables, compress=compress)
    else:
        scipy.io.savemat(path, variables)
    clear_cache()
    return path


def _mrk(**fields: Any) -> dict[str, Any]:
    mrk = {"pos": np.array([[101.0, 351.0]]), "y": np.array([[-1.0, 1.0]])} | fields
    return {"mrk": mrk, "nfo": {"fs": 100.0, "classes": ["left", "foot"]}}


def _one_line(path: Path, said: str, call: Any) -> None:
    with pytest.raises(SourceError) as caught:
        call()
    line = str(caught.value)
    assert re.match(re.escape(str(path)) + ": " + said, line), line
    assert "\n" not in line


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_cues_read_alike_in_v5_and_v73(version: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.mat", _mrk(), version)
    out = bci_markers([str(path)], _header(path), {})
    assert out.events == [[1.0, 4.0, "left", ""], [3.5, 4.0, "foot", ""]]
    path = _write(tmp_path / "e.mat", {"nfo": {"fs": 100.0}}, version)  # evaluation: no mrk
    assert bci_markers([str(path)], _header(path), {}).events == []


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_non_square_cue_arrays_pair_in_matlab_order(version: str, tmp_path: Path) -> None:
    """``mrk.pos`` 3 x 2 and ``mrk.y`` 1 x 6: MATLAB pairs ``pos(k)`` with ``y(k)`` in its
    column-major order, whichever the file's version (v7.3 stores the 3 x 2 as HDF5 2 x 3)."""
    pos = np.array([[101.0, 401.0], [201.0, 501.0], [301.0, 601.0]])  # pos(:) = 101, 201, ... 601
    y = np.array([[-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]])
    path = _write(tmp_path / "a.mat", _mrk(pos=pos, y=y), version)
    out = bci_markers([str(path)], _header(path), {})
    assert [(e[0], e[2]) for e in out.events] == [
        (1.0, "left"), (2.0, "left"), (3.0, "left"), (4.0, "foot"), (5.0, "foot"), (6.0, "foot")
    ]  # fmt: skip


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_non_square_flag_matrix_reads_alike(version: str, tmp_path: Path) -> None:
    data = np.zeros((500, 3))
    data[100:105, -1] = 1.0
    data[200:210, -2] = 1.0
    path = _write(tmp_path / "b.mat", {"DATA": data}, version)
    opts = {"columns": {"target": -2, "nontarget": -1}}
    out = mat_flag_columns([str(path)], _header(path, 100.0, 500), opts)
    assert out.events == [[2.0, 0.0, "target", ""], [1.0, 0.0, "nontarget", ""]]


_BAD_V73 = [
    ({"pos": np.array([[101.0, 351.0 + 2.0j]])}, r"variable 'mrk\.pos' is complex \(351\+2j\)"),
    ({"pos": np.array([[True, True]])}, r"variable 'mrk\.pos' is logical \(true/false\)"),
    ({"pos": "101 351"}, r"variable 'mrk\.pos' is text \('101 351'\)"),
    ({"pos": ["101", "351"]}, r"variable 'mrk\.pos' is a MATLAB cell array"),
    ({"pos": {"a": 1.0}}, r"variable 'mrk\.pos' is a MATLAB struct"),
    ({"pos": np.array([[101.0, np.nan]])}, r"variable 'mrk\.pos' holds nan, not a finite"),
    ({"y": np.array([[-1.0 + 1.0j, 1.0]])}, r"variable 'mrk\.y' is complex \(-1\+1j\)"),
    ({"y": ["left", "foot"]}, r"variable 'mrk\.y' is a MATLAB cell array"),
    ({"y": np.array([[True, False]])}, r"variable 'mrk\.y' is logical"),
    ({"y": np.array([[1.0, 1.0, 1.0]])}, r"mrk\.y has 3 values for 2 cues"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("fields", "said"), _BAD_V73, ids=[str(i) for i in range(len(_BAD_V73))])
def test_v73_cues_that_are_no_numbers_are_one_line(
    fields: dict[str, Any], said: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "a.mat", _mrk(**fields), "7.3")
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_markers_that_are_no_struct_are_one_line(version: str, tmp_path: Path) -> None:
    """``mrk`` or ``nfo`` that is a matrix was taken for "no cues" (``mrk``) or crashed with an
    ``AttributeError`` (``nfo``)."""
    path = _write(tmp_path / "a.mat", {"mrk": np.array([[101.0, 351.0]])}, version)
    said = r"variable 'mrk' is not a MATLAB struct \(an array of shape \(2,\)\)"
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))
    path = _write(tmp_path / "b.mat", {**_mrk(), "nfo": np.array([[100.0, 1.0]])}, version)
    said = r"variable 'nfo' is not a MATLAB struct"
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))
    cell = np.empty((1, 2), dtype=object)  # cells of different shapes: no numpy array
    cell[0, 0], cell[0, 1] = np.zeros((2, 2)), np.zeros((2, 3))
    value = cell if version == "5" else list(cell[0])
    path = _write(tmp_path / "c.mat", {**_mrk(), "mrk": value}, version)
    said = r"variable 'mrk' is not a MATLAB struct \(a MATLAB cell array\)"
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))


@pytest.mark.filterwarnings("error")
def test_v5_struct_array_of_cues_is_one_line(tmp_path: Path) -> None:
    """A 1 x 2 struct array ``mrk`` (one struct per cue) was read as "no cues"."""
    mrk = np.zeros((1, 2), dtype=[("pos", object), ("y", object)])
    mrk[0, 0] = (101.0, -1.0)
    mrk[0, 1] = (351.0, 1.0)
    path = _write(tmp_path / "a.mat", {"mrk": mrk, "nfo": {"fs": 100.0}}, "5")
    said = r"variable 'mrk' is a MATLAB struct array of 2 structs: expected one struct"
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))


def _v73_struct_array(path: Path, fields: dict[str, list[float]]) -> Path:
    """``mrk`` as MATLAB saves a 1 x n struct array in v7.3: a struct group whose fields are
    object references (n x 1 in HDF5), one per struct, with no MATLAB class of their own."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        group = f.create_group("mrk")
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        refs_group = f.create_group("#refs#")
        for key, values in fields.items():
            refs = np.empty((len(values), 1), dtype=h5py.ref_dtype)
            for i, v in enumerate(values):
                ds = refs_group.create_dataset(f"{key}{i}", data=np.array([[v]]))
                ds.attrs["MATLAB_class"] = np.bytes_("double")
                refs[i, 0] = ds.ref
            group.create_dataset(key, data=refs)
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER)
    clear_cache()
    return path


@pytest.mark.filterwarnings("error")
def test_v73_struct_array_of_cues_is_one_line(tmp_path: Path) -> None:
    """Read before as a struct of cells ("mrk.pos is a MATLAB cell array"), which it is not."""
    path = _v73_struct_array(tmp_path / "a.mat", {"pos": [101.0, 351.0], "y": [-1.0, 1.0]})
    said = r"variable 'mrk' is a MATLAB struct array of 2 structs, not one struct"
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_class_names_that_are_no_text_are_one_line(version: str, tmp_path: Path) -> None:
    content = _mrk()
    content["nfo"]["classes"] = [["left"], {"a": 1.0}]
    path = _write(tmp_path / "a.mat", content, version)
    said = r"variable 'nfo\.classes' holds a MATLAB (struct|cell array) where a class name "
    _one_line(path, said, lambda: bci_markers([str(path)], _header(path), {}))


# -- hostile v7.3 files: huge claimed shapes, flipped bytes, cut files ---------------------------


def _hdf5_shape_offsets(raw: bytes, dims: tuple[int, ...]) -> list[int]:
    """Where an HDF5 dataspace message stores the dimensions ``dims`` (8-byte each)."""
    needle = b"".join(int(d).to_bytes(8, "little") for d in dims)
    return [m.start() for m in re.finditer(re.escape(needle), raw)]


def _claiming(path: Path, variables: dict[str, Any], dims: tuple[int, int], claim: int,
              compress: bool) -> Path:  # fmt: skip
    """``variables`` written as v7.3, the dataspace of the one ``dims`` (MATLAB order) dataset
    flipped to claim ``claim`` rows instead."""
    _write(path, variables, "7.3", compress)
    raw = bytearray(path.read_bytes())
    hits = _hdf5_shape_offsets(bytes(raw), dims[::-1])  # HDF5 holds MATLAB's shape reversed
    assert hits
    for at in hits:
        raw[at : at + 8] = claim.to_bytes(8, "little")
    path.write_bytes(bytes(raw))
    clear_cache()
    return path


_CLAIMS = [1 << 40, 1 << 20, 1000, 12]
_HUGE = r"(variable '[a-z.]+' declares shape|this MAT v7\.3 file's HDF5 structure is damaged)"


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflated"])
@pytest.mark.parametrize("claim", _CLAIMS)
def test_v73_cues_claiming_another_shape_are_one_line(
    claim: int, compress: bool, tmp_path: Path
) -> None:
    """A flipped dataspace claims more cues than stored: refused as damage (HDF5's own checks,
    or the bytes the file stores), never read as fill values nor taken for a variable too large
    for memory. Deflated: h5py's ``RuntimeError: Unable to get storage size (bad coordinate
    offset)`` came out as a traceback (raised in h5py's compiled code, it was not recognised
    as h5py's), the 2^40 claim as "raise --file-memory-limit"."""
    pos = np.arange(101.0, 101.0 + 7 * 11).reshape(7, 11)
    content = _mrk(pos=pos, y=np.zeros((7, 11)))
    path = _claiming(tmp_path / "a.mat", content, (7, 11), claim, compress)
    _one_line(path, _HUGE, lambda: bci_markers([str(path)], _header(path), {}))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("claim", _CLAIMS)
def test_v73_rate_claiming_another_shape_is_one_line(claim: int, tmp_path: Path) -> None:
    """The same damage in a value the signal reader reads (``sfreq_variable``)."""
    from eegprep.readers.matlab import MatReader

    data = np.zeros((2, 300))
    content = {"data": data, "fs": np.arange(1.0, 78.0).reshape(7, 11)}
    path = _claiming(tmp_path / "s.mat", content, (7, 11), claim, True)
    call = lambda: MatReader.read_header(str(path), data="data", sfreq_variable="fs")  # noqa: E731
    _one_line(path, _HUGE.replace("[a-z.]+", "fs"), call)


@pytest.mark.slow
@pytest.mark.filterwarnings("error")
def test_v73_sidecar_byte_flips_are_one_line_or_read(tmp_path: Path) -> None:
    """Every byte of a small v7.3 sidecar flipped in turn (a stride): each file is read
    (the flip hit nothing that matters) or refused in one line naming it; nothing else."""
    path = _write(tmp_path / "a.mat", _mrk(), "7.3")
    good = path.read_bytes()
    refused = 0
    for at in range(512, len(good), 7):
        bad = tmp_path / "f.mat"
        bad.write_bytes(good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1 :])
        clear_cache()
        try:
            bci_markers([str(bad)], _header(bad), {})
        except SourceError as exc:
            assert str(exc).startswith(f"{bad}: ") and "\n" not in str(exc), str(exc)
            refused += 1
    assert refused > 0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_cut_v73_sidecar_is_one_line(keep: float, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.mat", _mrk(), "7.3")
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    clear_cache()
    _one_line(path, r".*", lambda: bci_markers([str(path)], _header(path), {}))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("version", ["5", "7.3"])
def test_sidecar_struct_over_the_memory_budget_is_one_line(version: str, tmp_path: Path) -> None:
    """Three 600 kB fields of ``nfo``, each within a 1 MiB budget, 1.8 MB together: v5 counted
    the struct whole and refused it, v7.3 checked field by field and loaded it all."""
    from eegprep.base.limits import Limits, activated

    fields = {f"f{i}": np.zeros((1, 75_000)) for i in range(3)}
    path = _write(tmp_path / "a.mat", {**_mrk(), "nfo": {"fs": 100.0, **fields}}, version)
    with activated(Limits(memory_bytes=1 << 20)):
        _one_line(path, r".*over the per-file memory limit of 1 MiB", _call_cues(path))
        one = _write(
            tmp_path / "b.mat", {**_mrk(), "nfo": {"fs": 100.0, "f0": fields["f0"]}}, version
        )
        assert len(bci_markers([str(one)], _header(one), {}).events) == 2
    if version == "7.3":  # v7.3 reads one field alone: the struct's other fields do not count
        from eegprep.readers.matlab import MatReader

        data = {"x": np.zeros((2, 300)), "fs": 100.0, "f0": fields["f0"], "f1": fields["f1"]}
        both = _write(tmp_path / "c.mat", {"EEG": data}, version)
        with activated(Limits(memory_bytes=1 << 20)):
            header = MatReader.read_header(str(both), data="EEG.x", sfreq_variable="EEG.fs")
        assert header.signals[0].sfreq == 100.0


def _call_cues(path: Path) -> Any:
    return lambda: bci_markers([str(path)], _header(path), {})
