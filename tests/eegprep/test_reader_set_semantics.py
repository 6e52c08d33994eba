"""EEGLAB datasets as EEGLAB lays them out, written here with scipy (MAT v5, the ``EEG`` struct
of older versions and the top-level variables of newer ones), read for what EEGLAB defines:
``EEG.data`` in microvolts, channels x samples, in the ``.set`` as double, single or int16 or in
an ``.fdt`` of float32 in MATLAB's column order; ``EEG.srate`` in Hz, not always whole; each
event at ``EEG.event.latency`` samples counted from 1. A ``boundary`` event marks where samples
were cut out, and its ``duration`` counts the samples removed, which the samples kept do not
hold: it lasts no time on them.

Every test runs on each MATLAB version EEGLAB saves a dataset in (MAT v5, and v7.3: HDF5, as
EEGLAB writes datasets over 2 GB; :mod:`tests.eegprep.eeglab_files`): the same fields read the
same. A v7.3 dataset was refused ("MNE reads those only with the pymatreader package")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from eegprep.readers.mne_formats import MneReader
from tests.eegprep.eeglab_files import MAT_VERSIONS, resave_set, save_set
from tests.eegprep.reader_checks import check_reader, check_source_error

LABELS = ["Fp1", "Cz", "O1"]
N_TIMES = 200
SRATE = 250.0
MAT = {"version": "5"}
"""The MATLAB version :func:`_write_set` saves in (set for each test by :func:`mat_version`)."""


@pytest.fixture(autouse=True, params=MAT_VERSIONS, ids=lambda v: f"MAT-{v}")
def mat_version(request: pytest.FixtureRequest) -> Any:
    """Each test once per MATLAB version EEGLAB saves a ``.set`` in."""
    MAT["version"] = request.param
    yield request.param
    MAT["version"] = "5"


def _chanlocs(labels: list[Any]) -> np.ndarray:
    """``EEG.chanlocs``: a 1 x n struct array, a label and a type each (no positions)."""
    locs = np.zeros((1, len(labels)), dtype=[("labels", object), ("type", object)])
    for i, label in enumerate(labels):
        locs[0, i] = (label, "EEG")
    return locs


def _events(events: list[tuple[Any, float, float]]) -> np.ndarray:
    """``EEG.event``: type, latency (samples from 1) and duration (samples) of each."""
    dt = [("type", object), ("latency", object), ("duration", object), ("urevent", object)]
    out = np.zeros((1, len(events)), dtype=dt)
    for i, (kind, latency, duration) in enumerate(events):
        out[0, i] = (kind, float(latency), float(duration), float(i + 1))
    return out


def _write_set(
    folder: Path,
    data: np.ndarray,
    *,
    struct: bool,
    fdt: bool = False,
    srate: float = SRATE,
    events: list[tuple[Any, float, float]] = (),  # type: ignore[assignment]
    name: str = "rec",
    mat: str | None = None,
    **fields: Any,
) -> str:
    """``{name}.set`` (and ``{name}.fdt``) as EEGLAB saves ``data`` (channels x samples,
    uV), as MAT ``mat`` (default: the version the test runs on)."""
    folder.mkdir(parents=True, exist_ok=True)
    n_channels, n_times = data.shape[:2]
    eeg: dict[str, Any] = {
        "setname": "rec", "filename": f"{name}.set", "nbchan": float(n_channels),
        "trials": 1.0, "pnts": float(n_times), "srate": srate, "xmin": 0.0,
        "xmax": (n_times - 1) / srate, "times": np.zeros((0, 0)),
        "chanlocs": _chanlocs(LABELS[:n_channels]), "urevent": np.zeros((0, 0)),
        "event": _events(events) if events else np.zeros((0, 0)), "ref": "common",
    }  # fmt: skip
    if fdt:  # float32, channels x samples in MATLAB's column order: each sample's channels
        np.asarray(data, dtype="<f4").flatten(order="F").tofile(folder / f"{name}.fdt")
        eeg["data"] = f"{name}.fdt"
    else:
        eeg["data"] = data
    eeg.update(fields)
    variables = {"EEG": eeg} if struct else eeg
    return save_set(folder / f"{name}.set", variables, mat=mat or MAT["version"])


def _microvolts(seed: int = 0) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(0, 25, (len(LABELS), N_TIMES)), 2)


LAYOUTS = ["EEG-struct", "variables"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("stored", "fdt"),
    [("double", False), ("single", False), ("int16", False), ("float32 .fdt", True)],
)
def test_samples_in_every_class_and_file_are_microvolts(
    tmp_path: Path, layout: str, stored: str, fdt: bool
) -> None:
    uv = _microvolts()
    if stored == "int16":
        uv = np.round(uv)
    data = uv.astype(
        {"double": np.float64, "single": np.float32, "int16": np.int16}.get(stored, np.float64)
    )
    path = _write_set(tmp_path, data, struct=layout == "EEG-struct", fdt=fdt)
    check_reader(
        MneReader, path, expected_labels=LABELS, expected_sfreq=SRATE,
        expected_n_samples=N_TIMES, reference_uv=uv, atol=1e-4,
    )  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_rate_that_is_no_whole_number_is_kept(tmp_path: Path, layout: str) -> None:
    srate = 1000 / 3
    path = _write_set(tmp_path, _microvolts(), struct=layout == "EEG-struct", srate=srate)
    header = MneReader.read_header(path)
    assert header.signals[0].sfreq == srate
    assert header.duration == pytest.approx(N_TIMES / srate)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fdt", [False, True], ids=["in-set", "fdt"])
def test_a_boundary_lasts_no_time_on_the_samples_kept(
    tmp_path: Path, layout: str, fdt: bool
) -> None:
    """EEGLAB writes ``boundary`` where it removed samples, its duration the number removed
    (here 150 samples cut at latency 180.5, between samples 180 and 181). MNE gave it that
    duration on the samples kept: the event covered the last 20 samples, and the reader warned
    that events reach past the samples, "its samples are cut short (re-download it)"."""
    events = [("S  1", 11, 0), ("boundary", 180.5, 150), ("S  2", 191, 4)]
    path = _write_set(
        tmp_path, _microvolts(), struct=layout == "EEG-struct", fdt=fdt, events=events
    )
    header = MneReader.read_header(path)
    got = [(a.onset * SRATE, a.duration * SRATE) for a in header.annotations]
    assert [a.description for a in header.annotations] == ["S  1", "boundary", "S  2"]
    np.testing.assert_allclose(got, [(10, 0), (179.5, 0), (190, 4)], atol=1e-9)
    (warning,) = header.warnings  # the join, and nothing of a file cut short
    assert warning.startswith("discontinuous: EEGLAB 'boundary' marker")
    # the stretch after the cut starts at sample 180 (counted from 0): kept apart from it
    assert header.joins == (180 / SRATE,)
    assert "its 2 stretches are kept separately" in warning
    # the 150 samples removed (0.6 s) are the gap on the recording's clock, read uncut though
    # MNE cut the event at the samples' end (it outlasts the 20 samples after it)
    assert f"joins at {180 / SRATE:g} s; 0.6 s of its clock lie between them" in warning
    np.testing.assert_allclose(header.gaps, [(180 / SRATE, 330 / SRATE)], atol=1e-12)


def test_a_boundary_of_unknown_length_is_no_gap(tmp_path: Path) -> None:
    """A ``boundary`` whose duration is NaN (EEGLAB's "unknown") states no gap: the join is
    kept, no gap length given, and the warning says so."""
    events = [("boundary", 100.5, float("nan")), ("S  1", 150, 0)]
    path = _write_set(tmp_path, _microvolts(), struct=False, events=events)
    header = MneReader.read_header(path)
    assert header.joins == (100 / SRATE,) and header.gaps == ()
    (warning,) = header.warnings
    assert warning.endswith(
        "; how long it paused is not stated (the 'boundary' at 0.4 s has the duration nan): "
        "a sidecar's times are not moved"
    )


def test_a_boundary_before_the_first_sample_says_nothing_of_a_cut_file(tmp_path: Path) -> None:
    """Samples removed from the start: EEGLAB leaves a ``boundary`` at latency 0.5, before the
    first sample, lasting the samples removed. MNE cut it to start at 0 and the reader warned
    that the samples were cut short. It joins nothing; its line says the time removed before
    the first sample (tests/eegprep/test_leading_markers.py)."""
    events = [("boundary", 0.5, 30), ("S  1", 11, 0)]
    path = _write_set(tmp_path, _microvolts(), struct=False, events=events)
    header = MneReader.read_header(path)
    assert header.joins == () and header.gaps == ()
    assert [w.split(":")[0] for w in header.warnings] == [
        "1 EEGLAB 'boundary' marker at or before the first sample"
    ]
    assert [(a.onset, a.duration) for a in header.annotations] == [(0, 0), (10 / SRATE, 0)]


def test_an_event_past_the_samples_is_still_named(tmp_path: Path) -> None:
    events = [("boundary", 100.5, 40), ("S  9", 190, 30)]  # the second reaches past the end
    path = _write_set(tmp_path, _microvolts(), struct=True, events=events)
    header = MneReader.read_header(path)
    assert any("1 event reaches past them and was cut" in w for w in header.warnings)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_epochs_and_a_channel_count_other_than_the_samples_are_refused(
    tmp_path: Path, layout: str
) -> None:
    struct = layout == "EEG-struct"
    epochs = np.stack([_microvolts(0), _microvolts(1)], axis=2)
    path = _write_set(tmp_path / "epochs", epochs, struct=struct, trials=2.0)
    check_source_error(MneReader, path, r"an epoched EEGLAB dataset \(2 trials\)")
    path = _write_set(tmp_path / "count", _microvolts(), struct=struct, nbchan=4.0)
    check_source_error(MneReader, path, r"chanlocs lists 3 channels but EEG\.nbchan is 4")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_numeric_event_type_is_its_code(tmp_path: Path, layout: str) -> None:
    """EEGLAB stores a numeric ``EEG.event.type`` as a double and shows 7 as ``7``. MNE wrote it
    ``'7.0'``, so a task's code 7 never matched; every other reader writes ``'7'``."""
    types = [7.0, -99.0, 1234567.0, 7.5, "S  1", np.int16(3)]
    events = [(kind, 10 + 10 * i, 0) for i, kind in enumerate(types)]
    path = _write_set(tmp_path, _microvolts(), struct=layout == "EEG-struct", events=events)
    header = MneReader.read_header(path)
    assert [a.description for a in header.annotations] == [
        "7",
        "-99",
        "1234567",
        "7.5",
        "S  1",
        "3",
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_fdt_of_more_channels_than_nbchan_is_named_so(tmp_path: Path, layout: str) -> None:
    """Four channels in the .fdt, ``EEG.nbchan`` 3 and no ``chanlocs`` to check it by: read as
    three channels of more samples, every value in another channel and time, with a warning
    that said only that the file was longer."""
    four = np.round(np.random.default_rng(5).normal(0, 25, (4, 150)), 2)
    path = _write_set(
        tmp_path, four, struct=layout == "EEG-struct", fdt=True, nbchan=3.0,
        chanlocs=np.zeros((0, 0)),
    )  # fmt: skip
    (warning,) = MneReader.read_header(path).warnings
    assert "data file rec.fdt is longer than its header says" in warning
    assert "it also holds exactly EEG.pnts=150 samples of 4 channels" in warning


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("label", ["", np.zeros((0, 0))], ids=["empty", "[]"])
def test_an_empty_channel_label_is_read_as_empty_text(
    tmp_path: Path, layout: str, label: Any
) -> None:
    """An empty label (``''``, an empty array) refused the whole file (MNE: ``unhashable type:
    'numpy.ndarray'``), though such a channel, of no 10-20 site, is one the ingest drops: it is
    read as ``""``, the other channels as written (tests/eegprep/test_dropped_channel_damage.py)."""
    path = _write_set(
        tmp_path, _microvolts(), struct=layout == "EEG-struct",
        chanlocs=_chanlocs(["Fp1", label, "O1"]),
    )  # fmt: skip
    assert MneReader.read_header(path).labels == ["Fp1", "", "O1"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("label", [float("nan")], ids=["NaN"])
def test_a_channel_label_that_is_no_text_is_one_line(
    tmp_path: Path, layout: str, label: Any
) -> None:
    """MNE failed in its own words ("dig_ch_pos must be an instance of str", "unhashable type:
    'numpy.ndarray'"), and the line said to check the file is complete. (A label that is a
    whole number is read as EEGLAB's ``int2str`` gives it: tests/eegprep/test_set_save_layouts.py;
    NaN has no such text.)"""
    path = _write_set(
        tmp_path, _microvolts(), struct=layout == "EEG-struct",
        chanlocs=_chanlocs(["Fp1", label, "O1"]),
    )  # fmt: skip
    check_source_error(
        MneReader, path,
        r"MNE cannot read EEG\.chanlocs, .* a label that is neither text nor a finite",
    )  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("latency", "shown"),
    [("abc", "'abc'"), (np.zeros((0, 0)), "empty"), ("", "empty"), (float("nan"), "NaN"),
     ("1e999", "'1e999'")],
    ids=["text", "[]", "''", "NaN", "inf"],
)  # fmt: skip
def test_an_event_latency_that_is_no_number_is_one_warning_the_rest_kept(
    tmp_path: Path, layout: str, latency: Any, shown: str
) -> None:
    """MNE failed on the whole file in its own words (`unsupported operand type(s) for -: 'str'
    and 'int'`, `setting an array element with a sequence`), and a NaN it dropped unsaid: the
    event is left out in one warning naming it by its field, the others kept (a latency that is
    the text of a number is that number: tests/eegprep/test_set_save_layouts.py)."""
    event = _events([("stim", 11.0, 0.0), ("resp", 51.0, 0.0), ("end", 151.0, 0.0)])
    event[0, 1]["latency"] = latency
    path = _write_set(tmp_path, _microvolts(), struct=layout == "EEG-struct", event=event)
    header = MneReader.read_header(path)
    assert [(a.description, a.onset * SRATE) for a in header.annotations] == [
        ("stim", 10.0), ("end", 150.0)
    ]  # fmt: skip
    (said,) = [w for w in header.warnings if "EEG.event" in w]
    assert said.startswith(f"EEG.event(2).latency ('resp') is {shown}, no number of samples:")
    assert "left out (1 of 3 events)" in said and "\n" not in said


@pytest.mark.parametrize("layout", LAYOUTS)
def test_many_events_whose_latency_is_no_number_are_one_warning(
    tmp_path: Path, layout: str
) -> None:
    """Each event left out is counted in the one line, the first named."""
    event = _events([(f"e{i}", 11.0 + i, 0.0) for i in range(6)])
    for i in (1, 3, 4):
        event[0, i]["latency"] = "n/a"
    path = _write_set(tmp_path, _microvolts(), struct=layout == "EEG-struct", event=event)
    header = MneReader.read_header(path)
    assert [a.description for a in header.annotations] == ["e0", "e2", "e5"]
    (said,) = [w for w in header.warnings if "EEG.event" in w]
    assert said.startswith("EEG.event(2).latency ('e1') is 'n/a', no number of samples:")
    assert "left out (3 of 6 events: EEG.event(2), (4), (5))" in said


@pytest.mark.parametrize("layout", LAYOUTS)
def test_events_without_a_latency_field_are_named_by_their_field(
    tmp_path: Path, layout: str
) -> None:
    """MNE fails on ``EEG.event`` without ``latency`` (``KeyError``): one line naming it."""
    event = {"type": np.array(["a", "b"], dtype=object), "lat": np.array([1.0, 2.0])}
    path = _write_set(tmp_path, _microvolts(), struct=layout == "EEG-struct", event=event)
    check_source_error(
        MneReader, path, r"MNE cannot read EEG\.event, the events' latencies and types \(.*\): "
        r"no latency field, say; give each event a latency in samples in EEGLAB",
    )  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_samples_in_an_old_dat_file_are_named_for_what_they_are(
    tmp_path: Path, layout: str
) -> None:
    """Older EEGLAB versions kept the samples in a ``.dat`` file, which MNE does not read: it
    was "MNE cannot read this EEGLAB file: NotImplementedError: ...; check it is complete",
    sending the user to re-download a whole file. It says what the file is and what to do."""
    struct = layout == "EEG-struct"  # written as v5 to edit, saved as the version tested
    path = Path(_write_set(tmp_path, _microvolts(), struct=struct, fdt=True, mat="5"))
    content = scipy.io.loadmat(path, squeeze_me=False)
    content = {k: v for k, v in content.items() if not k.startswith("__")}
    if layout == "EEG-struct":
        content["EEG"]["data"][0, 0] = np.array(["rec.dat"])
    else:
        content["data"] = "rec.dat"
    scipy.io.savemat(path, content)
    resave_set(path, mat=MAT["version"])
    (tmp_path / "rec.fdt").rename(tmp_path / "rec.dat")
    check_source_error(
        MneReader, str(path), r"EEG\.data names a '\.dat' samples file, the layout of older EEGLAB"
    )
