"""A BIDS ``*_channels.tsv``'s ``units`` beside the data file's own unit: the file's unit wins
where it states one (a disagreement is one report line naming the table and the channels), the
table's is the channel's where the file states none, and the table's ``type`` decides the
class (a ``TRIG`` or ``MISC`` channel is never stored). Each case is checked against a twin
file whose own header states the unit: stored sample for sample as it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.ingestion.sidecar_units import sidecar_units
from eegprep.pipeline.channels import map_channels
from eegprep.readers.base import Header, Signal
from eegprep.testing.edf_writer import write_edf

SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)
CHANS = ["Fp1", "Cz", "O2", "Status"]


def _bids(
    root: Path, dims: list[str], rows: dict[str, tuple[str, str]], scale: float = 1e-3
) -> Path:
    """A BIDS EDF recording (read through MNE, as the ``bids`` manifest reads it): ``dims``
    the header's unit of each channel, ``rows`` each channel's ``(type, units)`` in its
    ``channels.tsv`` (none written when empty). Samples are the same numbers in every file
    of one ``scale`` (EEG-like in millivolts at 1e-3, in microvolts at 1)."""
    folder = root / "sub-01" / "eeg"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(0, 40 * scale, (len(CHANS), 20 * 256)), 4)
    write_edf(folder / "sub-01_task-rest_eeg.edf", list(x), labels=CHANS, sfreqs=256.0,
              physical_dims=dims, physical_min=-500 * scale, physical_max=500 * scale)  # fmt: skip
    if rows:
        lines = [f"{name}\t{kind}\t{unit}" for name, (kind, unit) in rows.items()]
        (folder / "sub-01_task-rest_channels.tsv").write_text(
            "name\ttype\tunits\n" + "\n".join(lines) + "\n"
        )
    return root


def _ingest(src: Path, out: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The stored channels' samples and the recording's report lines."""
    report = ingest("bids", src=src, out=out, config=SERIAL)
    assert report.failed == []
    store = open_store(out)
    [rec] = store.recordings
    warnings = [w for ws in report.warnings.values() for w in ws]
    return dict(zip(rec.channels, store.read(rec.id), strict=True)), warnings


EEG_MV = {"Fp1": ("EEG", "mV"), "Cz": ("EEG", "mV"), "O2": ("EEG", "mV")}


def test_a_unit_the_file_leaves_unstated_is_the_tables(tmp_path: Path) -> None:
    """An EDF whose header states no unit, its ``channels.tsv`` ``mV``: it was read in the
    manifest's ``uV``, 1000 times too small (the table's units unread). It is now read in
    millivolts, sample for sample as its twin whose header says ``mV``."""
    got, said = _ingest(_bids(tmp_path / "a", [""] * 4, EEG_MV), tmp_path / "a.zarr")
    twin, _ = _ingest(_bids(tmp_path / "b", ["mV"] * 4, {}), tmp_path / "b.zarr")
    assert list(got) == ["FP1", "CZ", "O2"]
    for name in got:
        np.testing.assert_array_equal(got[name], twin[name])
    assert not [w for w in said if "unit" in w]


def test_the_file_s_own_unit_wins_and_a_disagreement_is_one_line(tmp_path: Path) -> None:
    """A header in ``uV`` and a table saying ``mV`` for Fp1 and Cz (``µV`` for O2, one unit
    with ``uV``): the header's unit is used, as its twin with no table; one line names the
    table and the two channels with both units."""
    rows = {**EEG_MV, "O2": ("EEG", "µV")}
    got, said = _ingest(_bids(tmp_path / "a", ["uV"] * 4, rows, 1.0), tmp_path / "a.zarr")
    twin, _ = _ingest(_bids(tmp_path / "b", ["uV"] * 4, {}, 1.0), tmp_path / "b.zarr")
    for name in twin:
        np.testing.assert_array_equal(got[name], twin[name])
    lines = [w for w in said if "another unit" in w]
    assert lines == [
        "sub-01_task-rest_channels.tsv gives 2 channels another unit than the data file, whose "
        "own are used: Fp1 (file uV, sub-01_task-rest_channels.tsv mV), Cz (file uV, "
        "sub-01_task-rest_channels.tsv mV)"
    ]


def test_the_table_s_type_decides_a_trigger_or_misc_channel(tmp_path: Path) -> None:
    """``Cz`` typed ``MISC`` and ``Status`` typed ``TRIG`` (or even ``EEG``): neither is stored."""
    rows = {"Fp1": ("EEG", "uV"), "Cz": ("MISC", "uV"), "O2": ("EEG", "uV"),
            "Status": ("EEG", "n/a")}  # fmt: skip
    got, _ = _ingest(_bids(tmp_path / "a", ["uV"] * 4, rows, 1.0), tmp_path / "a.zarr")
    assert list(got) == ["FP1", "O2"]
    rows["Status"] = ("TRIG", "n/a")
    got, _ = _ingest(_bids(tmp_path / "b", ["uV"] * 4, rows, 1.0), tmp_path / "b.zarr")
    assert list(got) == ["FP1", "O2"]


def test_the_in_memory_path_takes_the_table_s_unit_as_the_ingest_does(tmp_path: Path) -> None:
    """``labram predict``'s path (:func:`read_preprocessed`) reads the unitless file in the
    table's millivolts too: the same samples as the twin whose header says ``mV``."""
    manifest = dataclasses.replace(load_manifest("bids"), mains=50.0)
    name = "sub-01/eeg/sub-01_task-rest_eeg.edf"
    got = read_preprocessed(_bids(tmp_path / "a", [""] * 4, EEG_MV) / name, manifest)
    twin = read_preprocessed(_bids(tmp_path / "b", ["mV"] * 4, {}) / name, manifest)
    assert got.channels == twin.channels == ["FP1", "CZ", "O2"]
    np.testing.assert_array_equal(got.data, twin.data)


def _set_units(units: dict[str, str], path: str = "x.set") -> tuple[Header, Header, list[str]]:
    """An EEGLAB-like header (Cz, Pz: unitless, as MNE reads a ``.set``), what
    :func:`sidecar_units` made of it beside a table of ``units``, and its report lines."""
    signals = tuple(Signal(name, 250.0, 10, unit="") for name in ("Cz", "Pz"))
    header = Header(path=path, reader="mne", signals=signals, duration=0.04)
    sidecar = SidecarResult(units=units, units_file="x_channels.tsv")
    mapping = map_channels(["Cz", "Pz"])
    got, said = sidecar_units(path, load_manifest("bids"), None, header, mapping, sidecar)
    return header, got, said


@pytest.mark.parametrize("path", ["x.set", "X.SET"])
@pytest.mark.parametrize("volts", ["V", "v", " V ", "volt"])
def test_an_eeglab_set_beside_the_volts_mne_bids_writes_is_no_line(path: str, volts: str) -> None:
    """mne-bids writes ``units`` ``V`` for an EEGLAB ``.set``, whose samples are microvolts by
    EEGLAB's convention: the convention stays the file's own unit, and the table's volts, what
    the standard tool writes, are no disagreement the user can act on (it was one line for
    every file)."""
    header, got, said = _set_units({"Cz": volts, "Pz": "V"}, path)
    assert got == header
    assert said == []


def test_an_eeglab_set_beside_another_unit_is_still_one_line() -> None:
    """A table giving a ``.set``'s channel a unit other than the volts mne-bids writes (``mV``)
    is a disagreement: one line, the convention's microvolts used; ``µV`` agrees."""
    header, got, said = _set_units({"Cz": "mV", "Pz": "µV"})
    assert got == header
    assert said == [
        "x_channels.tsv gives 1 channel another unit than the data file, whose own is used: "
        "Cz (file uV, x_channels.tsv mV)"
    ]


def test_volts_beside_a_file_that_states_its_unit_is_still_one_line() -> None:
    """Only a format's convention forgives the tool's ``V``: an EDF whose header says ``uV``
    beside a table's ``V`` is one line, as before."""
    header = Header(path="x.edf", reader="mne", signals=(Signal("Cz", 250.0, 10, unit="uV"),),
                    duration=0.04)  # fmt: skip
    sidecar = SidecarResult(units={"Cz": "V"}, units_file="x_channels.tsv")
    mapping = map_channels(["Cz"])
    got, said = sidecar_units("x.edf", load_manifest("bids"), None, header, mapping, sidecar)
    assert got == header
    assert said == [
        "x_channels.tsv gives 1 channel another unit than the data file, whose own is used: "
        "Cz (file uV, x_channels.tsv V)"
    ]


def test_a_label_padded_with_blanks_finds_its_row() -> None:
    """A header label with blanks around it (``" Cz "``) finds the table's ``Cz`` row (names
    stripped once, one lookup): its ``mV`` is reported for it."""
    header = Header(path="x.edf", reader="mne", signals=(Signal(" Cz ", 250.0, 10, unit="uV"),),
                    duration=0.04)  # fmt: skip
    sidecar = SidecarResult(units={"Cz": "mV"}, units_file="x_channels.tsv")
    mapping = map_channels([" Cz "])
    _, said = sidecar_units("x.edf", load_manifest("bids"), None, header, mapping, sidecar)
    assert len(said) == 1 and "(file uV, x_channels.tsv mV)" in said[0]


@pytest.mark.parametrize(("units", "lines"), [("V", 0), ("mV", 1)])
def test_a_bids_eeglab_recording_as_mne_bids_writes_it(
    tmp_path: Path, units: str, lines: int
) -> None:
    """A BIDS ``.set`` with the ``channels.tsv`` mne-bids writes (``units`` ``V``) ingests with
    no units line (it had one for every file); a table saying ``mV`` for it still has one. Its
    samples are the ``.set``'s microvolts either way."""
    from tests.eegprep.test_event_times_differential import LABELS, _set

    folder = tmp_path / "src" / "sub-01" / "eeg"
    _set(folder / "sub-01_task-rest_eeg.set", [], n_times=250 * 20)
    rows = "".join(f"{name}\tEEG\t{units}\n" for name in LABELS)
    (folder / "sub-01_task-rest_channels.tsv").write_text("name\ttype\tunits\n" + rows)
    got, said = _ingest(tmp_path / "src", tmp_path / f"{units}.zarr")
    assert list(got) == ["FP1", "CZ", "O1"]
    assert len([w for w in said if "another unit" in w]) == lines, said
