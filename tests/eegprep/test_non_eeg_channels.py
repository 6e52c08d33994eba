"""Channels that are no scalp EEG, and channel units, as real systems write them: a channel's
type never changes its microvolts, a non-EEG or non-voltage channel never becomes a 10-20
channel at a guessed scale, and what is taken on trust is named.

Files are written by the project's own writers (EDF/BDF, GDF, CNT) or MNE's (FIF); each
expected microvolt is computed here from the values written and the unit's definition, or
read back through the same file with the channel typed EEG (a differential reading)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mne
import numpy as np
import pyedflib
import pytest

from eegprep.ingestion.source_channels import open_source
from eegprep.pipeline.channels import classify_channel
from eegprep.readers.base import unit_to_uv
from eegprep.readers.csv_table import CsvReader
from eegprep.readers.edf import EdfReader
from eegprep.readers.gdf_own import gdf_own_header
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import write_edf
from tests.eegprep import test_reader_cnt_semantics as cnt
from tests.eegprep import test_reader_gdf_semantics as gdf
from tests.eegprep.test_gdf_mixed_sizes import _Channel, _codes, _write
from tests.eegprep.test_units import _manifest

UV_PER = {"uV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3}
"""Microvolts in one of each voltage unit, by the SI prefixes' definition."""


def _read(path: Path, **options: Any) -> tuple[np.ndarray, list[Any]]:
    clear_cache()
    header = MneReader.read_header(str(path), **options)
    n = min(s.n_samples for s in header.signals)
    return MneReader.read_segment(header, range(len(header.signals)), 0, n), list(header.signals)


# -- a misc channel MNE holds in volts is in volts -------------------------------------------


@pytest.mark.parametrize(("unit_mul", "prefix"), [(0, "V"), (-3, "mV"), (-6, "uV")])
def test_a_fif_misc_channel_in_volts_is_read_in_its_unit(
    tmp_path: Path, unit_mul: int, prefix: str
) -> None:
    """A FIF channel typed misc whose FIFF unit is volts (Neuromag's ``MISC`` inputs; any
    channel MNE exports as misc in volts) was read as if MNE's volts were microvolts: 10^6
    times too small, and named in the report as a unit that is no voltage (``FIFF unit
    107``). Its values, times the unit's multiplier, are now volts, as an EEG channel's are."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 40, (3, 512)) * 1e-6  # volts, as MNE holds them
    paths = {}
    for kind in ("eeg", "misc"):
        raw = mne.io.RawArray(x, mne.create_info(["Fp1", "Cz", "O2"], 256.0, kind), verbose=0)
        with raw.info._unlock():
            for ch in raw.info["chs"]:
                ch["unit"], ch["unit_mul"] = mne.io.constants.FIFF.FIFF_UNIT_V, unit_mul
        paths[kind] = tmp_path / f"{kind}_raw.fif"
        raw.save(paths[kind], verbose=0)
    expected = x * 10.0**unit_mul * 1e6
    for kind, path in paths.items():
        got, signals = _read(path)
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        assert [s.unit for s in signals] == [prefix] * 3, kind
    _, _, warnings = open_source(str(paths["misc"]), _manifest("mne", "mV"), None)
    assert not [w for w in warnings if "unit" in w]


def _edf_file(tmp_path: Path, bdf: bool, units: list[str]) -> tuple[Path, np.ndarray]:
    values = np.round(np.random.default_rng(1).normal(0, 80, (len(units), 1024)), 1)
    path = tmp_path / f"x.{'bdf' if bdf else 'edf'}"
    labels = ["Fp1", "Cz", "O2", "Pz", "F3"][: len(units)]
    write_edf(path, list(values), labels=labels, sfreqs=256.0, physical_dims=units,
              physical_min=-500.0, physical_max=500.0, bdf=bdf)  # fmt: skip
    return path, values


@pytest.mark.parametrize("bdf", [False, True])
@pytest.mark.parametrize("default_unit", ["uV", "mV"])
def test_an_edf_misc_channel_is_read_as_its_eeg_twin(
    tmp_path: Path, bdf: bool, default_unit: str
) -> None:
    """An EDF/BDF read by MNE with channels named in its ``misc`` option: one whose unit is
    empty or no voltage (``%``, ``degC``) was kept at MNE's values (the file's, as
    microvolts) whatever the manifest's ``unit``, where the report said it was taken as that
    unit, and its empty unit was named ``FIFF unit 107``. Each is now the value its twin read
    as EEG gives, and its unit is the file's."""
    units = ["uV", "", "%", "mV", "degC"]
    path, values = _edf_file(tmp_path, bdf, units)
    k = UV_PER[default_unit]
    expected = values * np.array([1.0, k, k, 1e3, k])[:, None]
    as_eeg, eeg_signals = _read(path, default_unit=default_unit)
    as_misc, signals = _read(path, default_unit=default_unit, misc=["Fp1", "Cz", "O2", "Pz", "F3"])
    resolution = 1000.0 / (2**24 if bdf else 2**16) * max(k, 1e3)
    np.testing.assert_allclose(as_eeg, expected, atol=resolution)
    np.testing.assert_allclose(as_misc, as_eeg, rtol=1e-6)
    assert [s.kind for s in signals] == ["misc"] * 5
    assert [unit_to_uv(s.unit) for s in signals] == [unit_to_uv(s.unit) for s in eeg_signals]
    assert [s.unit for s in signals][1:3] == ["", "%"]


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("default_unit", ["uV", "mV"])
def test_a_gdf_misc_channel_is_read_in_its_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, default_unit: str
) -> None:
    """A GDF channel named in MNE's ``misc`` option was kept at MNE's "volts": one in mV
    10^3 times too small, one in uV 10^6 times, one in no unit or degC at the file's values
    whatever the manifest's unit. Each is now the value its unit (or the manifest's) gives."""
    monkeypatch.setitem(gdf._VOLT_CODES, "", 0)
    monkeypatch.setitem(gdf._VOLT_CODES, "degC", 6048)
    codes = np.arange(-3000, 3000, 150).reshape(1, 4, 10)
    ranges = (-3.2, 3.2, -32768.0, 32767.0)
    path = tmp_path / "x.gdf"
    gdf._gdf(path, version, ["", "degC", "mV", "uV"], codes, ranges=ranges)
    pmin, pmax, dmin, dmax = ranges
    flat = codes.transpose(1, 0, 2).reshape(4, -1).astype(np.float64)
    k = UV_PER[default_unit]
    physical = pmin + (flat - dmin) * (pmax - pmin) / (dmax - dmin)
    expected = physical * np.array([k, k, 1e3, 1.0])[:, None]
    got, signals = _read(path, default_unit=default_unit, misc=["ch0", "ch1", "ch2", "ch3"])
    assert [s.kind for s in signals] == ["misc"] * 4
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_a_cnt_misc_channel_is_in_microvolts(tmp_path: Path) -> None:
    """Neuroscan CNT values are microvolts by the format; a channel named in MNE's ``misc``
    option was stored 10^6 times too small (MNE's volts as microvolts)."""
    codes = np.random.default_rng(2).integers(-2000, 2000, (3, 1000))
    base, sens, cal = [0, 5, -3], [1.0, 2.0, 0.5], [1.0, 1.0, 2.0]
    path = tmp_path / "x.cnt"
    cnt._cnt(path, codes, width=2, baselines=base, sensitivities=sens, calibrations=cal,
             labels=["FP1", "CZ", "O2"])  # fmt: skip
    got, signals = _read(path, misc=["FP1", "O2"])
    assert [s.kind for s in signals] == ["misc", "eeg", "misc"]
    np.testing.assert_allclose(got, cnt._expected(codes, base, sens, cal), rtol=1e-5, atol=1e-4)


# -- a unit in brackets after a label: the label is the site, the unit the reader's ----------

VOLTAGES = [
    "millivolts",
    "volts",
    "u V",
    "mVolt",
    "nanovolts",
    "\u00b5V".encode().decode("latin-1"),
]
"""Voltages the unit rule reads (:func:`~eegprep.readers.base.unit_to_uv`) that the label rule
did not take off a label (it knew ``uV``, ``µV``, ``μV``, ``mV``, ``nV``, ``V`` and
``microvolts`` alone)."""


@pytest.mark.parametrize("unit", VOLTAGES)
def test_a_label_s_bracketed_voltage_is_taken_off_as_the_reader_reads_it(unit: str) -> None:
    """``Fp1 [millivolts]`` was no site (dropped as ``not a 10-20/10-10 site``) while the CSV
    reader read the column in millivolts: the label rule and the unit rule disagreed on what a
    voltage is. Every voltage the unit rule reads is now taken off the label."""
    assert unit_to_uv(unit) is not None
    for label in (f"Fp1 [{unit}]", f"EEG Cz-REF ({unit})"):
        assert classify_channel(label).kind == "eeg", label
    assert [classify_channel(f"Fp1 [{unit}]").name, classify_channel(f"Cz ({unit})").name] == [
        "FP1",
        "CZ",
    ]


def test_a_table_s_units_in_brackets_map_every_column_as_the_reader_reads_it(
    tmp_path: Path,
) -> None:
    """A table whose header states each column's unit: every voltage is read at its scale, a
    site whose unit is no voltage (``C4 [?]``, ``T4 (degC)``) or none (``O2 []``) is the site,
    its values in the manifest's unit and named by the report (as an EDF channel's is, and as
    docs/corpora.md says of ``Fp1 (degC)``: they were dropped as ``not a 10-20/10-10
    site``); signals of other kinds (``SpO2 (%)``, ``Temp [degC]``) are non-EEG; another
    bracket (``Cz (ref)``) leaves the label unknown."""
    columns = {
        "Fp1 [millivolts]": 1e3, "Fp2 (volts)": 1e6, "F3 [u V]": 1.0, "F4 [uV]": 1.0,
        "C4 [?]": 1e3, "T4 (degC)": 1e3, "O2 []": 1e3, "SpO2 (%)": None, "Temp [degC]": None,
        "Cz (ref)": None,
    }  # fmt: skip
    values = np.round(np.random.default_rng(4).normal(0, 30, (len(columns), 200)), 2)
    rows = [",".join(columns)] + [",".join(map(str, values[:, t])) for t in range(200)]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    header, mapping, warnings = open_source(str(path), _manifest("csv", "mV", sfreq=100.0), None)
    kept = list(mapping.source_indices)
    assert [header.labels[i] for i in kept] == [c for c, k in columns.items() if k is not None]
    got = CsvReader.read_segment(header, kept, 0, 200)
    factors = np.array([columns[header.labels[i]] for i in kept], dtype=float)
    np.testing.assert_allclose(got, values[kept] * factors[:, None], rtol=1e-6)
    dropped = dict(mapping.dropped)
    assert dropped["SpO2 (%)"].startswith("non-EEG") and dropped["Temp [degC]"].startswith("non")
    assert dropped["Cz (ref)"].startswith("unknown")
    assert [w for w in warnings if "not a voltage" in w] == [
        "EEG channels whose unit is not a voltage, values taken as mV: C4 [?] ('?'), "
        "T4 (degC) ('degC'); check the file, or leave them out (`[channels] exclude`)"
    ]


# -- EDF: a unit cut by its 8-character field ------------------------------------------------


@pytest.mark.parametrize("bdf", [False, True])
def test_a_unit_cut_by_the_edf_field_is_the_voltage_it_spells(tmp_path: Path, bdf: bool) -> None:
    """An EDF/BDF physical dimension holds 8 characters: a writer's ``microvolts`` and
    ``millivolts`` are ``microvol`` and ``millivol`` in the file. They were no voltage, taken
    as the manifest's unit (mV here: a microvolt channel 10^3 times too large) and named as
    not a voltage. Each is its voltage, checked against pyedflib's physical values."""
    units = ["microvol", "Millivol", "nanovolt", "uV"]
    values = np.round(np.random.default_rng(5).normal(0, 80, (4, 1024)), 1)
    path = tmp_path / f"x.{'bdf' if bdf else 'edf'}"
    write_edf(path, list(values), labels=["Fp1", "Cz", "O2", "Pz"], sfreqs=256.0,
              physical_dims=units, physical_min=-500.0, physical_max=500.0, bdf=bdf)  # fmt: skip
    with pyedflib.EdfReader(str(path)) as f:
        assert [f.getPhysicalDimension(i) for i in range(4)] == units
        physical = np.array([f.readSignal(i) for i in range(4)])
    header, mapping, warnings = open_source(str(path), _manifest("edf", "mV"), None)
    got = EdfReader.read_segment(header, list(mapping.source_indices), 0, 1024)
    np.testing.assert_allclose(got, physical * np.array([1.0, 1e3, 1e-3, 1.0])[:, None],
                               rtol=1e-5, atol=1e-3)  # fmt: skip
    assert not [w for w in warnings if "unit" in w]


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
def test_both_gdf_paths_read_a_misc_channel_alike(tmp_path: Path, version: str) -> None:
    """eegprep's own GDF reader (files of mixed sample sizes) kept a misc channel whose header
    states no voltage at the file's values whatever the manifest's ``unit`` (a channel whose
    label names a site is EEG however MNE types it); the MNE-read path takes the manifest's.
    Both now give every misc channel the values an EEG-typed one gets."""
    channels = [_Channel("Fp1", "int16", 4, ""), _Channel("Cz", "int16", 4, "mV"),
                _Channel("O2", "int16", 4, "uV"), _Channel("Pz", "int16", 4, "")]  # fmt: skip
    codes = [_codes(c, 3, seed) for seed, c in enumerate(channels)]
    path = tmp_path / "x.gdf"
    _write(path, version, channels, codes)
    misc = {"misc": ["Fp1", "Cz", "O2"]}
    mne_read, _ = _read(path, default_unit="mV", **misc)
    own = gdf_own_header(str(path), misc, None, "mV", "mne")
    assert [s.kind for s in own.signals] == ["misc"] * 3 + ["eeg"]
    got = MneReader.read_segment(own, range(4), 0, 12)
    np.testing.assert_allclose(got, mne_read, rtol=1e-6)
    pmin, pmax, dmin, dmax = channels[0].ranges
    physical = pmin + (codes[0].ravel() - dmin) * (pmax - pmin) / (dmax - dmin)
    np.testing.assert_allclose(got[0], physical * 1e3, rtol=1e-6)
