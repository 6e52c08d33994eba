"""Channel units, one rule for every reader: a voltage the file states scales exactly; an
empty or unstated unit, and one that is no voltage, takes the manifest's ``unit`` (the ingest
warning of the one, and of the other where the manifest names no unit). Files are written
byte by byte or by other programs' writers, each expected microvolt computed here from the
values written and the unit's definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from eegprep.base.errors import ManifestError
from eegprep.corpus.manifest import load_manifest, parse_manifest
from eegprep.ingestion.source_channels import open_source
from eegprep.readers.base import unit_to_uv
from eegprep.readers.csv_table import CsvReader
from eegprep.readers.matlab import MatReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import write_edf
from tests.eegprep import test_reader_gdf_semantics as gdf
from tests.eegprep.test_reader_set_semantics import _write_set

UV_PER = {"uV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3}
"""Microvolts in one of each voltage unit, by the SI prefixes' definition."""


@pytest.mark.parametrize(
    ("unit", "uv"),
    [
        ("uV", 1.0), ("UV", 1.0), ("uv", 1.0), ("u V", 1.0), ("microvolts", 1.0),
        ("Microvolt", 1.0), (b"\xb5V".decode("latin-1"), 1.0), ("\u03bcV", 1.0),
        ("\u00b5V", 1.0), ("\u00b5V".encode().decode("latin-1"), 1.0), ("mV", 1e3),
        ("millivolts", 1e3), ("nV", 1e-3), ("V", 1e6), ("volts", 1e6),
        ("", None), ("a.u.", None), ("unknown", None), ("%", None), ("degC", None),
        ("mA", None), ("uS", None), ("n/a", None),
    ],
)  # fmt: skip
def test_unit_spellings(unit: str, uv: float | None) -> None:
    """Case, spaces and every micro sign (U+00B5, Latin-1's 0xB5, the Greek U+03BC, and a
    UTF-8 micro sign read as Latin-1, ``Âµ``) are a voltage; other quantities are none."""
    assert unit_to_uv(unit) == uv


# -- GDF: an unstated or non-voltage unit was volts ------------------------------------------

CODES = np.arange(-3000, 3000, 200).reshape(1, 3, 10)  # (records, channels, per record)
RANGES = (-3.2, 3.2, -32768.0, 32767.0)


def _phys(codes: np.ndarray) -> np.ndarray:
    """Physical values by GDF's definition, shape (channels, samples), in each one's unit."""
    pmin, pmax, dmin, dmax = RANGES
    flat = codes.transpose(1, 0, 2).reshape(codes.shape[1], -1).astype(np.float64)
    return pmin + (flat - dmin) * (pmax - pmin) / (dmax - dmin)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("default_unit", [None, "uV", "mV"])
def test_gdf_unstated_and_non_voltage_units_take_the_manifest_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, default_unit: str | None
) -> None:
    """A GDF channel stating no unit (GDF 1's empty text, GDF 2's PhysDimCode 0) or degrees
    Celsius (PhysDimCode 6048) was read as volts, 10^6 times too large for microvolts, where an
    EDF channel took the manifest's unit; now the GDF one does too."""
    monkeypatch.setitem(gdf._VOLT_CODES, "", 0)
    monkeypatch.setitem(gdf._VOLT_CODES, "degC", 6048)
    path = tmp_path / "x.gdf"
    gdf._gdf(path, version, ["", "degC", "mV"], CODES, ranges=RANGES)
    clear_cache()
    options = {} if default_unit is None else {"default_unit": default_unit}
    header = MneReader.read_header(str(path), **options)
    got = MneReader.read_segment(header, range(3), 0, 10)
    k = UV_PER[default_unit or "uV"]
    expected = _phys(CODES) * np.array([k, k, 1e3])[:, None]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    stated = "degC" if version < "GDF 1.9" else "PhysDimCode 6048"
    assert [s.unit for s in header.signals] == ["", stated, "mV"]


# -- the MNE path of EDF, FIF's multiplier, EEGLAB's unstated unit ---------------------------


def test_edf_read_by_mne_scales_every_voltage_and_takes_the_manifest_s_for_none(
    tmp_path: Path,
) -> None:
    """An EDF given an MNE option is read by MNE, which knows uV, µV and mV and took nV, UV
    and an empty unit for volts (10^9, 10^6 and 10^6 times too large)."""
    rng = np.random.default_rng(4)
    values = [rng.uniform(-400, 400, 256) for _ in range(4)]
    units = ["nV", "UV", "", "mV"]
    path = tmp_path / "x.edf"
    write_edf(path, values, labels=["Fp1", "Cz", "Pz", "O1"], sfreqs=256.0,
              physical_dims=units, physical_min=-500.0, physical_max=500.0)  # fmt: skip
    clear_cache()
    header = MneReader.read_header(str(path), infer_types=False, default_unit="mV")
    got = MneReader.read_segment(header, range(4), 0, 256)
    factors = np.array([1e-3, 1.0, 1e3, 1e3])  # the empty one in the manifest's mV
    step = 1000.0 / 65535  # one code of the physical range, in each channel's unit
    for row, value, k in zip(got, values, factors, strict=True):
        np.testing.assert_allclose(row, value * k, atol=step * k, rtol=1e-6)


def test_fif_unit_multiplier_scales_its_values(tmp_path: Path) -> None:
    """A FIF channel in volts with ``unit_mul`` -6 holds microvolts; MNE leaves the multiplier
    out of its values, which were read 10^6 times too large."""
    import mne

    values = np.random.default_rng(5).normal(0, 30, (2, 500))  # uV, as the file holds them
    info = mne.create_info(["Fp1", "Cz"], 250.0, "eeg")
    raw = mne.io.RawArray(values, info, verbose="error")
    with raw.info._unlock():
        for ch, mul in zip(raw.info["chs"], (-6, -3), strict=True):
            ch["unit_mul"] = mul
    path = tmp_path / "x_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    clear_cache()
    header = MneReader.read_header(str(path))
    got = MneReader.read_segment(header, range(2), 0, 500)
    np.testing.assert_allclose(got, values * np.array([[1.0], [1e3]]), rtol=1e-6)
    assert [s.unit for s in header.signals] == ["uV", "mV"]


def test_a_unitless_fif_eeg_channel_takes_the_manifest_s_unit(tmp_path: Path) -> None:
    """A FIF EEG channel whose unit is FIFF_UNIT_NONE (-1) states none: its values were taken
    as microvolts whatever the manifest said."""
    import mne

    values = np.random.default_rng(9).normal(0, 0.03, (2, 500))  # mV
    raw = mne.io.RawArray(values, mne.create_info(["Fp1", "Cz"], 250.0, "eeg"), verbose="error")
    with raw.info._unlock():
        raw.info["chs"][0]["unit"] = -1
    path = tmp_path / "x_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    clear_cache()
    header = MneReader.read_header(str(path), default_unit="mV")
    got = MneReader.read_segment(header, range(2), 0, 500)
    np.testing.assert_allclose(got, values * np.array([[1e3], [1e6]]), rtol=1e-6)
    assert [s.unit for s in header.signals] == ["", "V"]


def test_eeglab_s_unstated_unit_is_the_manifest_s(tmp_path: Path) -> None:
    """An EEGLAB .set states no unit: MNE takes microvolts, the rule the manifest's unit."""
    values = np.round(np.random.default_rng(6).normal(0, 25, (3, 200)), 2)
    path = _write_set(tmp_path, values, struct=True)
    header = MneReader.read_header(path, default_unit="mV")
    got = MneReader.read_segment(header, range(3), 0, 200)
    np.testing.assert_allclose(got, values * 1e3, rtol=1e-5)
    assert {s.unit for s in header.signals} == {""}


# -- MATLAB and CSV: the manifest's unit where the reader's options name none ----------------


def test_matlab_without_a_unit_option_takes_the_manifest_s(tmp_path: Path) -> None:
    values = np.random.default_rng(7).normal(0, 0.03, (3, 300))  # mV
    scipy.io.savemat(tmp_path / "x.mat", {"X": values})
    path = str(tmp_path / "x.mat")
    header = MatReader.read_header(path, data="X", sfreq=100.0, default_unit="mV")
    np.testing.assert_allclose(MatReader.read_segment(header, range(3), 0, 300), values * 1e3,
                               rtol=1e-5)  # fmt: skip
    assert {s.unit for s in header.signals} == {""}
    header = MatReader.read_header(path, data="X", sfreq=100.0, unit="V", default_unit="mV")
    np.testing.assert_allclose(MatReader.read_segment(header, range(3), 0, 300), values * 1e6,
                               rtol=1e-5)  # fmt: skip


def test_csv_keeps_a_bracketed_unit_that_is_no_voltage(tmp_path: Path) -> None:
    """``Fp1 (degC)``: its unit was dropped for ``uV`` without a word; it is now the channel's
    unit (for the ingest's warning), its values in the manifest's unit like ``Cz``'s."""
    rows = ["Fp1 (degC),Cz,Pz [nV]"] + [f"{i}.5,{-i},{10 * i}" for i in range(50)]
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    header = CsvReader.read_header(str(tmp_path / "x.csv"), sfreq=10.0, default_unit="mV")
    got = CsvReader.read_segment(header, range(3), 0, 50)
    i = np.arange(50.0)
    np.testing.assert_allclose(got, [(i + 0.5) * 1e3, -i * 1e3, 10 * i * 1e-3], rtol=1e-6)
    assert [s.unit for s in header.signals] == ["degC", "", "nV"]


# -- the ingest: every reader gets the manifest's unit; what was assumed is said -------------


def _manifest(reader: str, unit: str | None, **options: Any) -> Any:
    raw = dict(load_manifest("folder").raw)
    raw.pop("unit")
    if unit is not None:
        raw["unit"] = unit
    raw["reader"] = {"name": reader, "options": options}
    return parse_manifest(raw, "my.toml")


def _edf(tmp_path: Path, units: list[str]) -> str:
    values = [np.full(256, 10.0 * (i + 1)) for i in range(len(units))]
    path = tmp_path / "x.edf"
    write_edf(path, values, labels=["Fp1", "Cz", "Pz"][: len(units)], sfreqs=256.0,
              physical_dims=units, physical_min=-500.0, physical_max=500.0)  # fmt: skip
    return str(path)


def test_an_unstated_unit_with_no_manifest_unit_is_said(tmp_path: Path) -> None:
    path = _edf(tmp_path, ["uV", "", ""])
    _, _, warnings = open_source(path, _manifest("edf", None), None)
    assert warnings == [
        "EEG channels whose file states no unit, values taken as uV (the default; the manifest "
        "names no `unit`): Cz, Pz; set `unit` in the manifest to the corpus's unit"
    ]
    header, _, warnings = open_source(path, _manifest("edf", "mV"), None)
    assert warnings == [] and [s.to_uv for s in header.signals] == [1.0, 1e3, 1e3]


@pytest.mark.parametrize("reader", ["mat", "mne"])
def test_every_reader_gets_the_manifest_s_unit(tmp_path: Path, reader: str) -> None:
    """The manifest's ``unit`` was passed to the EDF reader alone: a MATLAB file, which states
    no unit, was read in microvolts whatever the manifest said (an EEGLAB file likewise)."""
    values = np.round(np.random.default_rng(8).normal(0, 0.02, (3, 256)), 4)  # mV
    if reader == "mat":
        scipy.io.savemat(tmp_path / "x.mat", {"X": values})
        path, options = str(tmp_path / "x.mat"), {"data": "X", "sfreq": 128.0,
                                                  "channels": ["Fp1", "Cz", "Pz"]}  # fmt: skip
    else:
        path, options = _write_set(tmp_path, values, struct=True), {}
    header, _, warnings = open_source(path, _manifest(reader, "mV", **options), None)
    got = (MatReader if reader == "mat" else MneReader).read_segment(header, range(3), 0, 256)
    np.testing.assert_allclose(got, values * 1e3, rtol=1e-5)
    assert warnings == []


def test_an_eeglab_file_s_microvolts_by_convention_are_not_warned_of(tmp_path: Path) -> None:
    """EEGLAB keeps microvolts without stating them (MNE reads them so): a manifest naming no
    unit takes them as microvolts without a warning on every file, as an EDF's empty unit
    would get."""
    values = np.round(np.random.default_rng(9).normal(0, 25, (3, 256)), 2)
    path = _write_set(tmp_path, values, struct=True)
    header, _, warnings = open_source(path, _manifest("mne", None), None)
    np.testing.assert_allclose(MneReader.read_segment(header, range(3), 0, 256), values,
                               rtol=1e-5)  # fmt: skip
    assert warnings == []


def test_a_non_voltage_unit_is_taken_as_the_manifest_s_and_named(tmp_path: Path) -> None:
    header, _, warnings = open_source(
        _edf(tmp_path, ["uV", "degC", "%"]), _manifest("edf", "mV"), None
    )
    assert [s.to_uv for s in header.signals] == [1.0, 1e3, 1e3]
    assert warnings == [
        "EEG channels whose unit is not a voltage, values taken as mV: Cz ('degC'), Pz ('%'); "
        "check the file, or leave them out (`[channels] exclude`)"
    ]


def test_a_manifest_unit_that_is_no_voltage_is_refused() -> None:
    with pytest.raises(ManifestError, match=r"my\.toml: key unit must be a voltage .* got 'degC'"):
        _manifest("edf", "degC")


# -- BrainVision: a misc channel keeps no factor of MNE's table ------------------------------


@pytest.mark.parametrize("misc", [None, ["Cz"]])
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_brainvision_channels_are_read_as_the_header_writes_them(
    tmp_path: Path, scale: float, misc: list[str] | None
) -> None:
    """MNE multiplies a ``µS`` channel (no voltage) by 10^-6, its table's factor, as it does a
    ``µV`` channel its ``misc`` option names (kept unitless): both were stored 10^6 times too
    small. With ``misc`` given, ``µS`` and ``mv`` became EEG channels in "volts" (``mv``
    10^3 times too large). Now each is the value the header writes, times ``scale``, in its
    voltage unit, or else in the manifest's (mV here)."""
    from tests.eegprep import test_reader_vhdr_semantics as bv

    values = bv._values("INT_16")
    channels = ["Fp1,,0.5,µS", "Cz,,1,µV", "O1,,2,mv"]
    path = bv._write(tmp_path, channels, bv._binary(values, "INT_16", "MULTIPLEXED"))
    options: dict[str, Any] = {} if misc is None else {"misc": misc}
    header = MneReader.read_header(path, scale=scale, default_unit="mV", **options)
    got = MneReader.read_segment(header, range(3), 0, values.shape[1])
    uv_per_code = np.array([0.5 * 1e3, 1.0, 2.0 * 1e3]) * scale
    np.testing.assert_allclose(got, values * uv_per_code[:, None], rtol=1e-6)
    assert [s.unit for s in header.signals] == ["µS", "µV", "mv"]


def test_a_table_given_as_a_reader_option_reaches_mne(tmp_path: Path) -> None:
    """A manifest's ``[reader.options]`` may give a table (``units = {a = "mV"}``, MNE's
    per-channel units of an EDF channel that states none): it was a ``TypeError`` where the
    readers' caches hash the options, an internal error. It is frozen for the caches, given to
    MNE as a table, and the channel is read in the unit it names."""
    x = np.random.default_rng(0).normal(size=(2, 2560)) * 10
    path = write_edf(tmp_path / "u.edf", list(x), labels=["a", "b"], sfreqs=256.0,
                     physical_dims=["", "uV"])  # fmt: skip
    clear_cache()
    header = MneReader.read_header(str(path), units={"a": "mV"})
    assert header.signals[0].unit == "mV"
    hash(header.options)
    data = MneReader.read_segment(header, range(2), 0, 2560)
    resolution = [s.resolution for s in header.signals]
    np.testing.assert_allclose(data[0], x[0] * 1e3, atol=resolution[0])
    np.testing.assert_allclose(data[1], x[1], atol=resolution[1])
