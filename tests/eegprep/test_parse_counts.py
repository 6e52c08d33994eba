"""Each header and marker file is parsed at most once per read of its recording, whatever the
format (:mod:`eegprep.readers.read_once`): one fixture of every reader format is read through
the public path (``reader_for(path).read_header``, then every sample), and each function that
parses a header or marker file is counted by the runs of its own body (a parse kept for the
read is no run)."""

from __future__ import annotations

import os
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import numpy as np
import pytest

from eegprep.readers import (
    clear_caches,
    cnt_header,
    companions,
    csv_table,
    edf,
    edf_header,
    fif_annotations,
    gdf_count,
    gdf_fixed,
    gdf_header,
    get_reader,
    mat_fields,
    matlab_files,
    reader_for,
    vhdr,
    vhdr_text,
    vmrk,
)
from eegprep.readers.mne_formats import clear_cache
from eegprep.testing.edf_writer import write_edf
from tests.eegprep.test_header_parsed_once import VHDR_LINES, _brainvision

_EDF = [(edf, "read_raw_header"), (edf_header, "parse_edf_fields")]
_BRAINVISION = [
    (vhdr, "read_vhdr"),  # (MNE's rewritten copy of the header counted with the header)
    (vhdr, "_config"),
    (vmrk, "read_vmrk"),
    (companions, "vhdr_bytes"),
    (companions, "_vhdr_entries"),
]
_MAT = [(matlab_files, "mat_version"), (mat_fields, "v5_listing"), (mat_fields, "_v5_fields")]
_GDF = [(gdf_fixed, "fixed_header"), (gdf_count, "told_count"), (gdf_header, "check_gdf")]


def _code(module: Any, name: str) -> CodeType:
    """The code of ``module.name``'s own body (under :func:`~eegprep.readers.read_once.once`)."""
    function = getattr(module, name)
    return getattr(function, "__wrapped__", function).__code__


@contextmanager
def _runs(functions: list[tuple[Any, str]]) -> Iterator[Counter[str]]:
    """The runs of each function's body while the block runs, by ``name`` and the file name of
    its first argument (``name``, ``''`` for another argument): a part of a split FIF is
    another file; MNE's copy of a BrainVision header is the header."""
    codes = {_code(m, n): n for m, n in functions}
    counts: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        name = codes.get(frame.f_code) if event == "call" else None
        if name is None:
            return
        first = frame.f_locals.get(frame.f_code.co_varnames[0])
        part = os.path.basename(first) if isinstance(first, str) and first.endswith(".fif") else ""
        counts[f"{name} {part}".strip()] += 1

    before = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield counts
    finally:
        sys.setprofile(before)


def _read(path: str, **options: Any) -> None:
    """One read of ``path``: its header, then every sample of it (an EDF given MNE options by
    the mne reader)."""
    reader = get_reader("mne") if "eog" in options else reader_for(path)
    header = reader.read_header(path, **options)
    reader.read_segment(header, range(len(header.signals)), 0, header.signals[0].n_samples)


def _edf(folder: Path, suffix: str = ".edf") -> str:
    path = str(folder / f"rec{suffix}")
    write_edf(path, [np.zeros(500), np.ones(500)], labels=["Fp1", "Cz"], sfreqs=250.0)
    return path


def _text_brainvision(folder: Path) -> str:
    """``rec.vhdr`` of text data (``DataFormat=ASCII``), 3 channels of 40 samples."""
    path = _brainvision(folder)
    lines = [line.replace("BINARY", "ASCII") for line in VHDR_LINES]
    lines = [line for line in lines if not line.startswith(("[Binary", "BinaryFormat"))]
    (folder / "rec.vhdr").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    values = np.arange(120).reshape(40, 3)
    (folder / "rec.eeg").write_text("".join(f"{a} {b} {c}\n" for a, b, c in values))
    return path


def _set(folder: Path, *, fdt: bool) -> str:
    from tests.eegprep.test_reader_set_semantics import _write_set

    return _write_set(folder, np.zeros((2, 200)), struct=True, fdt=fdt, mat="5")


def _fif(folder: Path) -> str:
    import mne

    info = mne.create_info(["Fp1", "Cz"], 250.0, "eeg")
    raw = mne.io.RawArray(np.zeros((2, 2500)), info, verbose="error")
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["x"]))
    raw.save(folder / "rec_raw.fif", verbose="error")
    return str(folder / "rec_raw.fif")


def _split(folder: Path) -> str:
    from tests.eegprep.test_fif_split_parts import _split_fif

    _split_fif(folder)
    return str(folder / "rec_raw.fif")


def _gdf(folder: Path) -> str:
    from tests.eegprep.test_reader_gdf_semantics import _gdf

    _gdf(folder / "rec.gdf", "GDF 2.20", ["uV", "uV"], np.zeros((2, 2, 100), dtype=int))
    return str(folder / "rec.gdf")


def _cnt(folder: Path) -> str:
    from tests.eegprep.test_reader_cnt_semantics import _cnt

    ones = [1.0, 1.0]
    codes = np.zeros((2, 100), dtype=int)
    _cnt(folder / "rec.cnt", codes, width=2, baselines=[0, 0], sensitivities=ones,
         calibrations=ones, table=struct.pack("<Bii", 2, 0, 0))  # fmt: skip
    return str(folder / "rec.cnt")


def _mat(folder: Path) -> str:
    import scipy.io

    path = str(folder / "1_20131027.mat")
    arrays = {"djc_eeg1": np.zeros((3, 400)), "djc_eeg2": np.ones((3, 300))}
    scipy.io.savemat(path, arrays, do_compression=True)
    return path


def _csv(folder: Path) -> str:
    rows = "".join(f"{i / 200:.3f},{i},{-i}\n" for i in range(400))
    (folder / "rec.csv").write_text("Time,Fp1,Cz\n" + rows)
    return str(folder / "rec.csv")


_SEED = {"data": r"\w+_eeg\d+", "sfreq": 200.0, "channels": ["A", "B", "C"], "part": "djc_eeg2"}
CASES: dict[str, tuple[Callable[[Path], str], list[tuple[Any, str]], dict[str, Any]]] = {
    "edf": (_edf, _EDF, {}),
    "bdf": (lambda folder: _edf(folder, ".bdf"), _EDF, {}),
    "edf-mne": (_edf, _EDF, {"eog": ["Cz"]}),
    "brainvision": (_brainvision, _BRAINVISION, {}),
    "brainvision-text": (_text_brainvision, [*_BRAINVISION, (vhdr_text._Scan, "__init__")], {}),
    "set": (lambda folder: _set(folder, fdt=False), _MAT, {}),
    "set-fdt": (lambda folder: _set(folder, fdt=True), _MAT, {}),
    "fif": (_fif, [(fif_annotations, "fif_annotation_count")], {}),
    "fif-split": (_split, [(fif_annotations, "fif_annotation_count")], {}),
    "gdf": (_gdf, _GDF, {}),
    "cnt": (_cnt, [(cnt_header, "check_cnt")], {}),
    "mat-seed": (_mat, _MAT, _SEED),
    "csv": (_csv, [(csv_table, "_table")], {"time_column": "Time"}),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_header_file_is_parsed_at_most_once_per_read(tmp_path: Path, kind: str) -> None:
    write, functions, options = CASES[kind]
    path = write(tmp_path)
    clear_caches()
    clear_cache()
    _read(path, **options)  # (imports and MNE's first calls done)
    clear_caches()
    clear_cache()
    with _runs(functions) as counts:
        _read(path, **options)
    assert counts, f"no parse of {kind} counted"
    assert max(counts.values()) == 1, dict(counts)


def test_a_file_rewritten_at_its_size_and_time_is_parsed_again(tmp_path: Path) -> None:
    """Rewritten in place at its size, its modification time put back (a copy tool's
    ``--times``), the header is parsed again within the read: its change time differs, as the
    readers' caches keyed by :func:`~eegprep.base.files.file_version` saw."""
    from eegprep.readers import read_once

    path = _brainvision(tmp_path)
    with read_once.one_read():
        assert vhdr.read_vhdr(path).interval == "2000"
        before = os.stat(path)
        time.sleep(0.05)  # (past a coarse clock's tick: another change time)
        text = Path(path).read_bytes().replace(b"=2000", b"=4000")
        Path(path).write_bytes(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert os.stat(path).st_mtime_ns == before.st_mtime_ns
        assert vhdr.read_vhdr(path).interval == "4000"


def test_a_marker_file_is_kept_for_its_read_alone(tmp_path: Path) -> None:
    """The marker file's parse, shared by every check of one read, is dropped when the read
    ends, and a marker file changed between two reads is parsed again."""
    from eegprep.readers import read_once

    path = _brainvision(tmp_path)
    markers = tmp_path / "rec.vmrk"
    with _runs([(vmrk, "read_vmrk")]) as counts:
        first = reader_for(path).read_header(path)
        assert read_once.n_kept() == 0
        markers.write_bytes(markers.read_bytes().replace(b"S  1", b"S  2"))
        os.utime(markers, ns=(1, 1))
        second = reader_for(path).read_header(path)
    assert counts == {"read_vmrk": 2}
    assert [a.description for a in first.annotations] == ["Stimulus/S  1"]
    assert [a.description for a in second.annotations] == ["Stimulus/S  2"]
