"""EEGLAB datasets saved as MAT v7.3 (HDF5) ingest as their MAT v5 copies do.

EEGLAB saves a dataset as MAT v7.3 when it is over 2 GB or its "save as MATLAB 7.3" option is
on; MNE reads those only through pymatreader, which eegprep did not install, so every such
``.set`` was refused ("MNE reads those only with the pymatreader package"). The same recording
is saved here in both versions (:mod:`tests.eegprep.eeglab_files`: v7.3 as MATLAB writes it,
HDF5 behind the 512-byte user block, arrays transposed, text as UTF-16 code units, ``chanlocs``
and ``event`` as struct arrays of object references), in both layouts EEGLAB writes (one ``EEG``
struct, or each field a variable of its own: ``save -struct``) and with the samples in the
``.set`` or in an ``.fdt``; an ingest and ``labram predict``'s in-memory reading give the same
samples, channels and events (a ``boundary`` among them). A damaged or cut v7.3 file, and one
whose samples are over ``--file-memory-limit``, is one line naming the file, before anything
loads the samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.ingestion.options import apply_overrides
from eegprep.readers.matlab_files import mat_version
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.eeglab_files import save_set
from tests.safety.corpus import ingest_folder

LABELS = ["Fp1", "Fp2", "C3", "Cz", "C4", "O1", "O2"]
SRATE, N_TIMES = 250.0, 250 * 24
EVENTS = [("S  1", 501.0, 0.0), ("boundary", 3000.5, 500.0), ("S  2", 4001.0, 25.0)]
EVENTS += [(7.0, 5501.0, 0.0)]
"""type, latency (samples from 1), duration (samples): a cut of 2 s at 12 s, and a numeric type."""
LAYOUTS = ["EEG-struct", "variables"]
SAMPLES = ["in-set", "fdt"]


def _uv(seed: int = 0) -> np.ndarray:
    """Seven channels of 24 s at 250 Hz, microvolts, float32 as EEGLAB keeps them."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_TIMES) / SRATE
    alpha = 20 * np.sin(2 * np.pi * 10 * t)
    return (alpha + rng.normal(0, 8, (len(LABELS), N_TIMES))).astype(np.float32)


def _events() -> np.ndarray:
    dt = [(name, object) for name in ("type", "latency", "duration", "urevent")]
    out = np.zeros((1, len(EVENTS)), dtype=dt)
    for i, (kind, latency, duration) in enumerate(EVENTS):
        out[0, i] = (kind, latency, duration, float(i + 1))
    return out


def _chanlocs() -> np.ndarray:
    locs = np.zeros((1, len(LABELS)), dtype=[("labels", object), ("type", object)])
    for i, label in enumerate(LABELS):
        locs[0, i] = (label, "EEG")
    return locs


def _recording(
    folder: Path, *, layout: str, samples: str, mat: str, compress: bool = False, **fields: Any
) -> Path:
    """``folder/rec.set`` (and ``rec.fdt``) as EEGLAB saves it in MAT ``mat`` (``compress``:
    v7.3 arrays deflated, MATLAB's default)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = _uv()
    eeg: dict[str, Any] = {
        "setname": "rec", "filename": "rec.set", "filepath": "", "nbchan": float(len(LABELS)),
        "trials": 1.0, "pnts": float(N_TIMES), "srate": SRATE, "xmin": 0.0,
        "xmax": (N_TIMES - 1) / SRATE, "times": np.zeros((0, 0)), "ref": "common",
        "chanlocs": _chanlocs(), "event": _events(), "urevent": np.zeros((0, 0)),
        "datfile": "", "data": data,
    }  # fmt: skip
    if samples == "fdt":  # float32, MATLAB's column order: each sample's channels together
        data.astype("<f4").flatten(order="F").tofile(folder / "rec.fdt")
        eeg["data"] = eeg["datfile"] = "rec.fdt"
    eeg.update(fields)
    variables = {"EEG": eeg} if layout == "EEG-struct" else eeg
    path = save_set(folder / "rec.set", variables, mat=mat, compress=compress)
    return Path(path)


def _stored(out: Path) -> tuple[Any, ...]:
    """What a store holds of its one recording: channels, samples, events."""
    store = open_store(out)
    (rec,) = store.recordings
    events = [(e.onset, e.duration, e.label) for e in rec.events]
    return rec.channels, rec.n_samples, events, store.read(rec.id)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflated"])
@pytest.mark.parametrize("samples", SAMPLES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_v73_set_ingests_as_its_v5_copy(
    tmp_path: Path, layout: str, samples: str, compress: bool
) -> None:
    stores, warnings = [], []
    for mat in ("5", "7.3"):
        src = tmp_path / f"v{mat}"
        _recording(src, layout=layout, samples=samples, mat=mat, compress=compress)
        assert mat_version(str(src / "rec.set")) == mat
        report = ingest_folder(src, tmp_path / f"v{mat}.zarr")
        assert (report.failed, report.n_ingested) == ([], 1), report.failed
        warnings.append(report.warnings)
        stores.append(_stored(tmp_path / f"v{mat}.zarr"))
    (channels5, n5, events5, data5), (channels73, n73, events73, data73) = stores
    assert channels73 == channels5 == ("FP1", "FP2", "C3", "CZ", "C4", "O1", "O2")
    assert n73 == n5 > 0 and data5.shape == data73.shape
    np.testing.assert_array_equal(data73, data5)
    assert events73 == events5
    assert [label for _, _, label in events73] == ["S  1", "boundary", "S  2", "7"]
    assert warnings[1] == warnings[0]
    assert any("'boundary'" in w for w in warnings[1]["rec.set"])  # the join is kept


@pytest.mark.parametrize("samples", SAMPLES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_labram_predict_reads_a_v73_set_as_its_v5_copy(
    tmp_path: Path, layout: str, samples: str
) -> None:
    """``labram predict``'s reading (:func:`~eegprep.ingestion.inmemory.read_preprocessed`)."""
    read = []
    for mat in ("5", "7.3"):
        path = _recording(tmp_path / f"v{mat}", layout=layout, samples=samples, mat=mat)
        manifest = apply_overrides(load_manifest("folder"), mains=50.0)
        read.append(read_preprocessed(path, manifest))
    v5, v73 = read
    assert v73.channels == v5.channels and len(v73.channels) == len(LABELS)
    assert (v73.sfreq, v73.joins, v73.warnings) == (v5.sfreq, v5.joins, v5.warnings)
    assert v73.joins  # the boundary's join, in both
    np.testing.assert_array_equal(v73.data, v5.data)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_v73_set_without_chanlocs_names_channels_as_its_v5_copy(
    tmp_path: Path, layout: str
) -> None:
    """EEGLAB's empty ``chanlocs`` (``[]``): channels named from ``EEG.nbchan``, in both."""
    headers = []
    for mat in ("5", "7.3"):
        path = _recording(
            tmp_path / f"v{mat}", layout=layout, samples="in-set", mat=mat,
            chanlocs=np.zeros((0, 0)),
        )  # fmt: skip
        headers.append(MneReader.read_header(str(path)))
    v5, v73 = headers
    assert v73.labels == v5.labels == [f"EEG {i:03d}" for i in range(len(LABELS))]
    assert [s.unit for s in v73.signals] == [s.unit for s in v5.signals]


def _damaged(whole: bytes) -> list[bytes]:
    """The file cut in MATLAB's header, at HDF5's superblock, inside its metadata, in the
    middle and just before its end; and 128 bytes scrambled every 256 bytes of its first 4 KiB
    (superblock, object headers, B-trees, heaps) and of its last 2 KiB."""
    n = len(whole)
    cut = [whole[:end] for end in (100, 530, 2048, n // 2, n - 64)]
    starts = [*range(600, 4096, 256), *range(n - 2048, n - 128, 256)]
    scrambled = [
        whole[:at] + bytes(b ^ 0x5A for b in whole[at : at + 128]) + whole[at + 128 :]
        for at in starts
    ]
    return cut + scrambled


@pytest.mark.parametrize("samples", SAMPLES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_cut_or_damaged_v73_set_is_one_line_naming_it(
    tmp_path: Path, layout: str, samples: str
) -> None:
    """Each damaged copy is refused in one line naming the file, or, where the bytes scrambled
    held no structure (padding, a value), read; never a traceback or MNE's own words."""
    path = _recording(tmp_path / "src", layout=layout, samples=samples, mat="7.3")
    damaged = _damaged(path.read_bytes())
    refused = 0
    for i, content in enumerate(damaged):
        path.write_bytes(content)
        clear_cache()
        try:
            header = MneReader.read_header(str(path))
            MneReader.read_segment(header, range(len(LABELS)), 0, N_TIMES)
        except SourceError as exc:
            line = str(exc)
            assert line.startswith(f"{path}: ") and "\n" not in line, (i, line)
            assert "pymatreader" not in line, line  # the damage, not a package, is named
            refused += 1
    assert refused >= 8, refused  # every cut, and the structure scrambled
    path.write_bytes(damaged[3])  # cut in the middle: an ingest reports it and goes on
    report = ingest_folder(path.parent, tmp_path / "s.zarr")
    (line,) = report.failed
    assert "rec.set" in line and "truncated" in line and "\n" not in line


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_v73_set_over_the_memory_limit_is_refused_before_loading(
    tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pymatreader loads a v7.3 file's samples whole, as scipy does a v5 one's: their size is
    checked against ``--file-memory-limit`` first, and nothing is loaded."""
    import pymatreader

    loaded: list[str] = []
    real = pymatreader.read_mat
    monkeypatch.setattr(
        pymatreader, "read_mat", lambda *a, **k: loaded.append(a[0]) or real(*a, **k)
    )
    path = _recording(tmp_path / "src", layout=layout, samples="in-set", mat="7.3")
    report = ingest_folder(path.parent, tmp_path / "s.zarr", file_memory_limit=64 * 1024)
    (line,) = report.failed
    assert "rec.set" in line and "over the per-file memory limit of 64 KiB" in line, line
    assert "--file-memory-limit" in line and "\n" not in line
    assert loaded == []


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("field", ["srate", "nbchan", "event"])
def test_a_v73_field_that_is_an_hdf5_named_datatype_is_one_line(
    tmp_path: Path, layout: str, field: str
) -> None:
    """A flipped link makes a field an HDF5 named datatype (no shape, no values): an ``EEG``
    struct's was ``AttributeError: 'Datatype' object has no attribute 'shape'``."""
    import h5py

    path = _recording(tmp_path, layout=layout, samples="in-set", mat="7.3")
    where = f"EEG/{field}" if layout == "EEG-struct" else field
    with h5py.File(path, "r+") as f:
        del f[where]
        f[where] = np.dtype("<f8")  # a committed (named) datatype where the field was
    clear_cache()
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(path))
    line = str(caught.value)
    assert line.startswith(f"{path}: ") and "\n" not in line, line
    assert "HDF5 Datatype" in line and "damaged" in line, line


@pytest.mark.parametrize("named", ["absolute", "../other/rec.fdt", "sub/rec.fdt"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_v73_set_naming_an_fdt_elsewhere_reads_the_one_beside_it(
    tmp_path: Path, layout: str, named: str
) -> None:
    """``EEG.data`` naming a samples file by a path (EEGLAB keeps only the name; a tool or a
    hand may write a path): the ``.fdt`` beside the set is read, as for a v5 set. A v7.3
    set's ``EEG.data`` was not read, and an absolute path was given to MNE as written: the
    ingest and ``labram predict`` stored the samples of a file outside the corpus."""
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    (-_uv()).astype("<f4").flatten(order="F").tofile(elsewhere / "rec.fdt")  # not these
    name = str(elsewhere / "rec.fdt") if named == "absolute" else named
    manifest = apply_overrides(load_manifest("folder"), mains=50.0)
    stored, predicted = [], []
    for mat in ("5", "7.3"):
        src = tmp_path / f"v{mat}" / "src"
        path = _recording(src, layout=layout, samples="fdt", mat=mat, data=name)
        report = ingest_folder(src, tmp_path / f"v{mat}.zarr")
        assert (report.failed, report.n_ingested) == ([], 1), report.failed
        stored.append(_stored(tmp_path / f"v{mat}.zarr")[3])
        predicted.append(read_preprocessed(path, manifest).data)
    np.testing.assert_array_equal(stored[1], stored[0])
    np.testing.assert_array_equal(predicted[1], predicted[0])
    beside = MneReader.read_segment(MneReader.read_header(str(path)), range(len(LABELS)), 0, 99)
    np.testing.assert_allclose(beside, _uv()[:, :99], atol=1e-3)
