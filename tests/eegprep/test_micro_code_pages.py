"""A micro sign in the code page its writer used: microvolts in every reader that reads a unit
from the file. Shift-JIS's Greek mu (bytes 83 CA, as Nihon Kohden writes it, which MNE's EDF
reader knows), DOS's code page 437 (E6), Windows' Greek code page (EC) and a UTF-8 Greek mu
(CE BC) read as Latin-1 were units "that are no voltage": taken as the manifest's unit with a
warning, so a manifest in millivolts read these channels 1000 times too large."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.base import unit_to_uv
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import field_span, write_edf
from tests.eegprep import test_reader_gdf_semantics as gdf
from tests.eegprep.test_reader_vhdr_semantics import _binary, _expected, _values, _write

MICRO_BYTES = {
    "shift_jis": b"\x83\xca",
    "cp437": b"\xe6",
    "cp1253": b"\xec",
    "utf-8 greek mu": "\u03bc".encode(),
}
"""A micro sign as each code page writes it."""


@pytest.mark.parametrize("written", sorted(MICRO_BYTES))
@pytest.mark.parametrize("read_as", ["latin-1", "cp1252"])
def test_the_unit_read_in_another_code_page_is_microvolts(written: str, read_as: str) -> None:
    unit = (MICRO_BYTES[written] + b"V").decode(read_as)
    assert unit_to_uv(unit) == 1.0
    assert unit_to_uv(unit.replace("V", "S")) is None  # (microsiemens stay no voltage)


@pytest.mark.parametrize("written", sorted(MICRO_BYTES))
def test_edf(tmp_path: Path, written: str) -> None:
    x = np.random.default_rng(0).normal(0, 20, 512)
    path = write_edf(tmp_path / "a.edf", [x], labels=["Fp1"], sfreqs=256)
    blob = bytearray(path.read_bytes())
    span = field_span("physical_dim", n_signals=1, channel=0)
    blob[span] = (MICRO_BYTES[written] + b"V").ljust(span.stop - span.start)
    path.write_bytes(bytes(blob))
    header = EdfReader.read_header(str(path), default_unit="mV")
    assert header.signals[0].to_uv == 1.0
    got = EdfReader.read_segment(header, [0], 0, 512)[0]
    np.testing.assert_allclose(got, x, atol=0.01)  # (one code of the +-range, 16 bits)


@pytest.mark.parametrize("written", sorted(MICRO_BYTES))
def test_brainvision_ansi(tmp_path: Path, written: str) -> None:
    values = _values("INT_16")
    channels = ["Fp1,,0.1,{u}", "Cz,,0.5,{u}", "O1,,2,{u}"]
    path = _write(
        tmp_path, channels, _binary(values, "INT_16", "MULTIPLEXED"), common=["Codepage=ANSI"]
    )
    text = Path(path).read_bytes().replace(b"{u}", MICRO_BYTES[written] + b"V")
    Path(path).write_bytes(text)
    clear_cache()
    header = MneReader.read_header(path, default_unit="mV")
    got = MneReader.read_segment(header, range(3), 0, header.signals[0].n_samples)
    np.testing.assert_allclose(got, _expected(values, [0.1, 0.5, 2], ["µV"] * 3), atol=1e-3)


@pytest.mark.parametrize("written", sorted(MICRO_BYTES))
def test_gdf1(tmp_path: Path, written: str) -> None:
    codes = np.arange(-10, 10).reshape(2, 1, 10) * 1000
    path = tmp_path / "x.gdf"
    gdf._gdf(path, "GDF 1.25", ["uV"], codes)
    blob = bytearray(path.read_bytes())
    blob[256 + 96 : 256 + 104] = (MICRO_BYTES[written] + b"V").ljust(8, b"\0")
    path.write_bytes(bytes(blob))
    clear_cache()
    header = MneReader.read_header(str(path), default_unit="mV")
    got = MneReader.read_segment(header, [0], 0, 20)
    expected = gdf._expected_uv(codes, ["uV"], (-3200, 3200, -32768, 32767))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
