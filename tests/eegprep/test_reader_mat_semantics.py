"""MATLAB files written byte by byte as MATLAB lays them out, and the values expected from the
format's own definition: v5 elements in either byte order ('IM' little-endian, 'MI'
big-endian), zlib-compressed (``miCOMPRESSED``), a double array stored compactly as int16 or
uint8 (as MATLAB's ``save`` does for whole numbers), column-major data; v7.3 (HDF5) datasets
stored transposed from MATLAB's shape, labels as a cell of references or a char matrix.
The expected samples are the arrays written, in MATLAB's orientation: nothing here calls the
reader to compute them."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache
from tests.eegprep.reader_checks import read_whole

_MI = {"i2": 3, "u1": 2, "f8": 9}  # element types: miINT16, miUINT8, miDOUBLE
_LABELS = ["Fp1", "Fp2", "Cz"]


def _element(order: str, kind: int, raw: bytes) -> bytes:
    return struct.pack(order + "II", kind, len(raw)) + raw + b"\0" * (-len(raw) % 8)


def _matrix(order: str, name: str, cls: int, shape: tuple[int, ...], data: bytes) -> bytes:
    """An ``miMATRIX``: flags (class), dimensions, name, then ``data`` (its elements)."""
    body = _element(order, 6, struct.pack(order + "II", cls, 0))
    body += _element(order, 5, struct.pack(order + f"{len(shape)}i", *shape))
    body += _element(order, 1, name.encode())
    return struct.pack(order + "II", 14, len(body) + len(data)) + body + data


def _double(order: str, name: str, values: np.ndarray, stored: str) -> bytes:
    """A MATLAB double array (class 6) whose values are stored as ``stored``, column-major."""
    raw = values.ravel("F").astype(np.dtype(stored).newbyteorder(order)).tobytes()
    return _matrix(order, name, 6, values.shape, _element(order, _MI[stored], raw))


def _char(order: str, text: str) -> bytes:
    return _matrix(order, "", 4, (1, len(text)), _element(order, 16, text.encode()))  # miUTF8


def _v5(path: Path, order: str, compress: bool, x: np.ndarray, stored: str) -> None:
    """``eeg`` (x, MATLAB shape) and a struct ``nfo`` with ``fs`` (250, stored as uint8) and
    ``clab`` (a 1x3 cell of char rows)."""
    cell = b"".join(_char(order, t) for t in _LABELS)
    fields = _element(order, 5, struct.pack(order + "i", 8))  # field name length
    fields += _element(order, 1, b"fs\0\0\0\0\0\0clab\0\0\0\0")
    fields += _double(order, "", np.array([[250.0]]), "u1")
    fields += _matrix(order, "", 1, (1, 3), cell)
    variables = [_double(order, "eeg", x, stored), _matrix(order, "nfo", 2, (1, 1), fields)]
    if compress:
        variables = [
            struct.pack(order + "II", 15, len(z)) + z for z in map(zlib.compress, variables)
        ]
    text = b"MATLAB 5.0 MAT-file, written byte by byte".ljust(116) + b"\0" * 8
    mark = struct.pack(order + "H", 0x0100) + (b"IM" if order == "<" else b"MI")
    path.write_bytes(text + mark + b"".join(variables))


def _read(path: Path, **options: object) -> tuple[object, np.ndarray]:
    return read_whole(MatReader, path, clear_cache, **options)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("stored", ["f8", "i2"])
def test_v5_byte_orders_compression_and_compact_storage(
    tmp_path: Path, order: str, compress: bool, stored: str
) -> None:
    """A 3 x 5 double array, channels as rows: the same values and labels whichever way."""
    x = np.arange(15, dtype=np.float64).reshape(3, 5) * 7 - 40
    if stored == "f8":
        x = x + 0.25
    path = tmp_path / "x.mat"
    _v5(path, order, compress, x, stored)
    header, data = _read(path, data="eeg", sfreq_variable="nfo.fs", channels_variable="nfo.clab")
    assert header.labels == _LABELS
    assert header.signals[0].sfreq == 250.0
    np.testing.assert_array_equal(data, x.astype(np.float32))


def _v73(path: Path, x: np.ndarray, labels: str) -> None:
    """MATLAB ``eeg`` = x (HDF5 stores its transpose), ``fs`` = 200 and ``clab``: a cell of
    char rows shaped 1x3 or 3x1 in MATLAB, or a 3 x 3 char matrix padded with blanks."""
    import h5py

    def matlab(ds: h5py.Dataset, cls: str) -> None:
        ds.attrs["MATLAB_class"] = np.bytes_(cls)

    with h5py.File(path, "w", userblock_size=512) as f:
        matlab(f.create_dataset("eeg", data=x.T), "double")
        matlab(f.create_dataset("fs", data=np.array([[200.0]])), "double")
        if labels == "char":
            rows = np.array([[ord(c) for c in t.ljust(3)] for t in _LABELS], dtype=np.uint16)
            matlab(f.create_dataset("clab", data=rows.T), "char")
        else:
            refs = []
            for i, text in enumerate(_LABELS):
                codes = np.array([[ord(c)] for c in text], dtype=np.uint16)  # MATLAB 1 x n
                ds = f.create_dataset(f"#refs#/{i}", data=codes)
                matlab(ds, "char")
                refs.append(ds.ref)
            cells = np.array([refs], dtype=h5py.ref_dtype)  # HDF5 1x3: MATLAB 3x1
            matlab(f.create_dataset("clab", data=cells if labels == "3x1" else cells.T), "cell")
    with path.open("r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116) + b"\0" * 8 + b"\x00\x02IM")


@pytest.mark.parametrize("labels", ["1x3", "3x1", "char"])
@pytest.mark.parametrize("time_first", [False, True])
def test_v73_transposed_storage_and_labels(tmp_path: Path, labels: str, time_first: bool) -> None:
    """MATLAB 3 x 6 (channels first) or 6 x 3 (time first, as BCI IV-1's ``cnt``): each
    channel's samples and label, whichever way MATLAB held them and HDF5 stores them."""
    x = np.arange(18, dtype=np.float64).reshape(3, 6) * 1.5 - 9
    path = tmp_path / "x.mat"
    _v73(path, x.T if time_first else x, labels)
    header, data = _read(path, data="eeg", sfreq_variable="fs", channels_variable="clab")
    assert header.labels == _LABELS
    assert header.signals[0].sfreq == 200.0
    np.testing.assert_array_equal(data, x.astype(np.float32))
