"""EEGLAB datasets in the layouts EEGLAB and other tools save them (scipy, MAT v5), read for what
EEGLAB defines, and against MNE's ``read_raw_eeglab`` where MNE reads the file.

Each layout is written in both forms EEGLAB writes: one ``EEG`` struct (older versions) and each
field a top-level variable (EEGLAB 2019 and later); samples in the ``.set`` or in an ``.fdt``
(float32, channels x samples in MATLAB's column order). What EEGLAB defines: samples in microvolts;
``EEG.srate`` in Hz whatever its class; each event at ``latency`` samples counted from 1 (fractional
where EEGLAB put it between samples), lasting ``duration`` samples (0 where the field is absent),
its numeric ``type`` shown as EEGLAB shows it; ``EEG.xmin`` only the time of the first sample; every
channel in the one unit of ``EEG.data``, whatever its ``chanlocs`` type (a stim channel's codes as
written); channels named by ``EEG.chanlocs(i).labels`` as written, a label that is a number by
EEGLAB's ``int2str`` of it, and a dataset without ``chanlocs`` (EEGLAB's empty set has ``chanlocs =
[]``) as one with an empty ``chanlocs``: channels named from ``EEG.nbchan``. Before, a dataset saved
without ``chanlocs`` was refused in MNE's words (``'Bunch' object has no attribute 'chanlocs'``) as
"a label that is empty or a number", and a label that is a number refused; and a channel whose
``type`` is no voltage (``STIM``, ``RESP``, ``MISC``) was read 10^-6 times the value the file holds
(MNE multiplies every channel of a ``.set`` by 10^-6, microvolts to volts).

Every layout is also saved as MAT v7.3 (HDF5), as EEGLAB saves a dataset over 2 GB or with its
"save as MATLAB 7.3" option on (:mod:`tests.eegprep.eeglab_files`), and reads the same; it was
refused ("MNE reads those only with the pymatreader package")."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader
from tests.eegprep.eeglab_files import MAT_VERSIONS, save_set
from tests.eegprep.reader_checks import check_reader, check_source_error

LABELS = ["Fp1", "Cz", "O1"]
SRATE, N_TIMES = 250.0, 200
EVENTS = [("S  1", 11.0, 0.0), ("stim", 50.5, 2.0), (7.0, 101.0, 0.0)]
"""type, latency (samples from 1), duration (samples) as EEGLAB keeps them."""
READ = [("S  1", 10.0, 0.0), ("stim", 49.5, 2.0), ("7", 100.0, 0.0)]
"""The same events as read: onset and duration in samples from 0, type as EEGLAB shows it."""


def _locs(labels: list[Any], types: list[str] | None = None) -> np.ndarray:
    locs = np.zeros((1, len(labels)), dtype=[("labels", object), ("type", object)])
    for i, label in enumerate(labels):
        locs[0, i] = (label, (types or ["EEG"] * len(labels))[i])
    return locs


def _event_array(events: list[tuple[Any, ...]], *, duration: bool = True) -> np.ndarray:
    """``EEG.event`` as a 1 x n struct array (an ``urevent`` index each)."""
    names = ["type", "latency", *(["duration"] if duration else []), "urevent"]
    out = np.zeros((1, len(events)), dtype=[(name, object) for name in names])
    for i, (kind, latency, length) in enumerate(events):
        out[0, i] = (kind, latency, *([length] if duration else []), float(i + 1))
    return out


def _cell(value: Any) -> np.ndarray:
    """A 1 x 1 MATLAB cell holding ``value`` (as some plugins store an event's field)."""
    out = np.empty((1, 1), dtype=object)
    out[0, 0] = value
    return out


def _event_arrays(events: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """``EEG.event`` as a 1 x 1 struct of arrays, as some exporters write it."""
    kinds, latencies, durations = zip(*events, strict=True)
    return {
        "type": np.array([str(k) for k in kinds], dtype=object),
        "latency": np.array(latencies, dtype=float),
        "duration": np.array(durations, dtype=float),
    }


def _save(
    folder: Path,
    samples: np.ndarray,
    *,
    struct: bool,
    fdt: str | None,
    mat: str = "5",
    **fields: Any,
) -> str:
    """``rec.set`` (``samples``, uV, in it or in ``folder/fdt``) with ``fields`` set, as MAT
    ``mat``; a field given as None is left out."""
    n_channels, n_times = samples.shape
    eeg: dict[str, Any] = {
        "setname": "rec", "filename": "rec.set", "filepath": "", "nbchan": float(n_channels),
        "trials": 1.0, "pnts": float(n_times), "srate": SRATE, "xmin": 0.0,
        "xmax": (n_times - 1) / SRATE, "times": np.zeros((0, 0)), "ref": "common",
        "chanlocs": _locs(LABELS[:n_channels]), "event": _event_array(EVENTS),
        "urevent": np.zeros((0, 0)), "datfile": "",
    }  # fmt: skip
    if fdt is not None:
        np.asarray(samples, "<f4").flatten(order="F").tofile(folder / fdt)
        eeg["data"] = eeg["datfile"] = fdt
    else:
        eeg["data"] = samples
    eeg.update(fields)
    eeg = {key: value for key, value in eeg.items() if value is not None}
    return save_set(folder / "rec.set", {"EEG": eeg} if struct else eeg, mat=mat)


def _uv() -> np.ndarray:
    return np.round(np.random.default_rng(3).normal(0, 25, (len(LABELS), N_TIMES)), 2)


UV = _uv()
MNE_NAMES = [f"EEG {i:03d}" for i in range(len(LABELS))]  # MNE's for a set without chanlocs


def _case(
    fields: dict[str, Any],
    fdt: str | None = None,
    data: np.ndarray = UV,
    labels: list[str] = LABELS,
    kinds: tuple[str, ...] = ("eeg",) * 3,
    events: list[tuple[str, float, float]] = READ,
) -> tuple[Any, ...]:
    """One variant: the .set's fields, its .fdt's name (None: samples in the .set), the
    samples written, and the labels, channel kinds and events read."""
    return fields, fdt, data, labels, list(kinds), events


VARIANTS: dict[str, tuple[Any, ...]] = {
    "in-set double": _case({}),
    "in-set single": _case({}, data=UV.astype(np.float32)),
    "in-set int16": _case({}, data=np.round(UV).astype(np.int16)),
    "fdt, datfile set": _case({}, "rec.fdt"),
    "fdt, datfile empty": _case({"datfile": ""}, "rec.fdt"),
    "fdt named REC.FDT": _case({}, "REC.FDT"),
    "srate int32": _case({"srate": np.int32(250)}),
    "counts uint16": _case({"nbchan": np.uint16(3), "pnts": np.uint16(N_TIMES)}),
    "xmin not 0": _case({"xmin": 12.5, "xmax": 12.5 + 199 / SRATE}),
    "labels with spaces": _case(
        {"chanlocs": _locs(["Fp1 ", " Cz", "O 1"])}, labels=["Fp1 ", " Cz", "O 1"]
    ),
    "types EEG EOG empty": _case(
        {"chanlocs": _locs(LABELS, ["EEG", "EOG", ""])}, kinds=("eeg", "eog", "eeg")
    ),
    "types STIM RESP MISC": _case(
        {"chanlocs": _locs(LABELS, ["STIM", "RESP", "MISC"])}, kinds=("stim", "resp", "misc")
    ),
    "types ECG EMG, fdt": _case(
        {"chanlocs": _locs(LABELS, ["ECG", "EMG", "EEG"])}, "rec.fdt", kinds=("ecg", "emg", "eeg")
    ),
    "chanlocs empty": _case({"chanlocs": np.zeros((0, 0))}, labels=MNE_NAMES),
    "chanlocs missing": _case({"chanlocs": None}, labels=MNE_NAMES),
    "chanlocs missing, fdt": _case({"chanlocs": None}, "rec.fdt", labels=MNE_NAMES),
    "label a number": _case(
        {"chanlocs": _locs(["Fp1", 2.0, np.int16(-31)])}, labels=["Fp1", "2", "-31"]
    ),
    "label a fraction": _case({"chanlocs": _locs([2.5, -2.5, 0.4])}, labels=["3", "-3", "0"]),
    "events without duration": _case(
        {"event": _event_array(EVENTS, duration=False)},
        events=[(kind, onset, 0.0) for kind, onset, _ in READ],
    ),
    "events a struct of arrays": _case({"event": _event_arrays(EVENTS[:2])}, events=READ[:2]),
    "events a struct of numeric arrays": _case(
        {"event": {"type": np.array([7.0, 12.0]), "latency": np.array([11.0, 50.5])}},
        events=[("7", 10.0, 0.0), ("12", 49.5, 0.0)],
    ),
    "one event a struct of values": _case(
        {"event": {"type": "only", "latency": 21.0, "duration": 3.0}},
        events=[("only", 20.0, 3.0)],
    ),
    "latencies text": _case(
        {"event": _event_array([("S  1", "11", 0.0), ("stim", "50.5", 2.0), (7.0, " 101 ", 0.0)])}
    ),
    "latencies in cells": _case(
        {
            "event": _event_array(
                [
                    ("S  1", _cell(11.0), 0.0),
                    ("stim", _cell("50.5"), 2.0),
                    (7.0, _cell(np.array([[101.0]])), 0.0),
                ]
            )
        }
    ),
    "durations text": _case(
        {"event": _event_array([("S  1", 11.0, "0"), ("stim", 50.5, "2"), (7.0, 101.0, "")])}
    ),
    "events a struct of text arrays": _case(
        {
            "event": {
                "type": np.array(["S  1", "stim"], dtype=object),
                "latency": np.array(["11", "50.5"], dtype=object),
                "duration": np.array(["0", "2"], dtype=object),
            }
        },
        events=READ[:2],
    ),
    "one event of text values": _case(
        {"event": {"type": "only", "latency": "21", "duration": "3"}},
        events=[("only", 20.0, 3.0)],
    ),
    "types whole numbers of other classes": _case(
        {
            "event": _event_array(
                [(np.int32(3), 11.0, 0.0), (np.uint8(9), 50.5, 2.0), (_cell("7"), 101.0, 0.0)]
            )
        },
        events=[("3", 10.0, 0.0), ("9", 49.5, 2.0), ("7", 100.0, 0.0)],
    ),
    "urevent kept beside": _case({"urevent": _event_array(EVENTS)}),
    "no events": _case({"event": np.zeros((0, 0))}, events=[]),
}


def _mne(path: str) -> Any:
    """MNE's own reading of ``path`` (None where MNE cannot read it)."""
    import mne

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mne.io.read_raw_eeglab(path, preload=True, verbose="error")
    except (TypeError, ValueError, AttributeError):
        return None


@pytest.mark.parametrize("mat", MAT_VERSIONS, ids=lambda v: f"MAT-{v}")
@pytest.mark.parametrize("layout", ["EEG-struct", "variables"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_set_reads_as_eeglab_defines_it(tmp_path: Path, layout: str, name: str, mat: str) -> None:
    fields, fdt, data, labels, kinds, events = VARIANTS[name]
    path = _save(tmp_path, data, struct=layout == "EEG-struct", fdt=fdt, mat=mat, **fields)
    uv = np.asarray(data, dtype=np.float64)
    header, _ = check_reader(
        MneReader, path, expected_labels=labels, expected_sfreq=SRATE,
        expected_n_samples=N_TIMES, reference_uv=uv, atol=1e-3,
    )  # fmt: skip
    assert [s.kind for s in header.signals] == kinds
    got = [(a.description, a.onset * SRATE, a.duration * SRATE) for a in header.annotations]
    assert [g[0] for g in got] == [e[0] for e in events]
    np.testing.assert_allclose([g[1:] for g in got], [e[1:] for e in events], atol=1e-9)
    raw = _mne(path)
    if raw is not None:  # where MNE reads it: the same samples, rate and times
        np.testing.assert_allclose(raw.get_data() * 1e6, uv, atol=1e-3)
        assert raw.info["sfreq"] == SRATE and raw.ch_names == labels
        np.testing.assert_allclose(raw.annotations.onset, [a.onset for a in header.annotations])


@pytest.mark.parametrize("mat", MAT_VERSIONS, ids=lambda v: f"MAT-{v}")
@pytest.mark.parametrize("layout", ["EEG-struct", "variables"])
@pytest.mark.parametrize("source", ["sub01.fdt", "SUB01.FDT"])
def test_a_set_copied_under_a_new_name_reads_its_own_samples(
    tmp_path: Path, layout: str, source: str, mat: str
) -> None:
    """``rec.set`` saved as a copy of ``sub01.set``: its ``EEG.data`` still names the source's
    ``sub01.fdt``, which lies beside it, and its own samples are in ``rec.fdt``. EEGLAB's
    ``pop_loadset`` reads the file of the set's own stem ("the name of the dataset has changed
    on disk"); eegprep, as MNE, read the source's samples without a word."""
    np.asarray(UV[::-1], "<f4").flatten(order="F").tofile(tmp_path / source)
    path = _save(tmp_path, UV, struct=layout == "EEG-struct", fdt="rec.fdt", data=source, mat=mat)
    check_reader(MneReader, path, expected_labels=LABELS, reference_uv=UV, atol=1e-3)


def test_a_renamed_set_whose_own_samples_file_is_ambiguous_names_that_file(
    tmp_path: Path,
) -> None:
    """Two files differ from the set's own ``rec.fdt`` in letter case alone: the line names the
    file EEGLAB reads, not ``EEG.data``'s (which is there)."""
    np.asarray(UV[::-1], "<f4").flatten(order="F").tofile(tmp_path / "sub01.fdt")
    path = _save(tmp_path, UV, struct=False, fdt="Rec.fdt", data="sub01.fdt")
    np.asarray(UV, "<f4").flatten(order="F").tofile(tmp_path / "REC.fdt")
    check_source_error(
        MneReader, path, r"the \.set's own samples file 'rec\.fdt' \(EEGLAB reads it, as the "
        r"set's name differs from EEG\.data's 'sub01\.fdt'\), which is not there, and 2 files",
    )  # fmt: skip
