"""A rate with no exact ratio to 200 Hz is resampled by the nearest one within 1 ppm.

999.9999 Hz (a rate measured from time stamps) has no ratio ``up/down`` with ``down`` at most
100,000 within 1e-6 Hz of 200 Hz, and every reader's file at such a rate was refused (`no ratio
up/down`). It is now resampled by the nearest such ratio (1/5) where the rate that ratio
implies is within 1 ppm of the stated one (times off by at most 3.6 ms an hour); the record
states the rate as read (``orig_sfreq``). A rate further off (1000.002 Hz: 2 ppm from 1000) is
still one line saying why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.preprocess import RateRatioError, resampling_ratio

TONES = ((7.0, 50.0), (23.0, 30.0))
"""(Hz, uV) of the sines every channel carries."""


def _tones(t: np.ndarray) -> np.ndarray:
    """Shape ``(2, len(t))``: the two tones of :data:`TONES` at times ``t`` (s)."""
    return np.stack([a * np.sin(2 * np.pi * f * t + k) for k, (f, a) in enumerate(TONES)])


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (999.9999, (1, 5)),
        (float(np.float32(999.9999)), (1, 5)),
        (511.99999, (25, 64)),
        (256.0000001, (25, 32)),
        (1000 / 3, (3, 5)),
        (600.614990234375, (7805, 23439)),
        (1e6, (1, 5000)),
    ],
)
def test_a_rate_within_1_ppm_of_a_ratio_is_resampled_by_it(
    rate: float, expected: tuple[int, int]
) -> None:
    assert resampling_ratio(rate, 200.0) == expected


@pytest.mark.parametrize("rate", [1000.002, 999.998])
def test_a_rate_further_off_is_one_line_saying_so(rate: float) -> None:
    with pytest.raises(
        RateRatioError,
        match=r"^source rate .* within 1 ppm \(the nearest, 1/5, is 2 ppm off\): .* first$",
    ):
        resampling_ratio(rate, 200.0)


def _fif(src: Path, rate: float, n: int) -> Path:
    import mne

    info = mne.create_info(["Fz", "Cz"], rate, "eeg")
    raw = mne.io.RawArray(_tones(np.arange(n) / rate) * 1e-6, info, verbose=False)
    raw.save(src / "a_raw.fif", verbose=False)
    return src / "a_raw.fif"


def _edf(src: Path, per_record: int, duration: float, n: int) -> Path:
    from eegprep.testing.edf_writer import write_edf

    x = _tones(np.arange(n) / (per_record / duration))
    path = src / "a.edf"
    write_edf(
        path,
        list(x),
        labels=["Fz", "Cz"],
        sfreqs=per_record / duration,
        record_duration=duration,
        physical_min=-100,
        physical_max=100,
    )
    return path


def _csv(src: Path, rate: float, n: int) -> Path:
    """A table with a header row, its rate the manifest's ``sfreq`` (``src/../tables.toml``)."""
    from tests.eegprep.test_headless_tables import _manifest

    text = _manifest(src.parent).read_text().replace("sfreq = 200", f"sfreq = {rate!r}")
    (src.parent / "tables.toml").write_text(text)
    with open(src / "a.csv", "w") as fh:
        fh.write("Fz,Cz\n")
        np.savetxt(fh, _tones(np.arange(n) / rate).T, delimiter=",", fmt="%.6f")
    return src / "a.csv"


def _mat(src: Path, rate: float, n: int) -> Path:
    """A MAT v5 file with its rate in a variable, ``fs``, and its manifest (as ``_csv``)."""
    import scipy.io

    from tests.eegprep.test_common_reference import _mat_manifest

    (src.parent / "tables.toml").write_text(_mat_manifest(src.parent).read_text())
    labels = np.array(["Fz", "Cz"], dtype=object)
    data = _tones(np.arange(n) / rate)
    scipy.io.savemat(src / "a.mat", {"data": data, "label": labels, "fs": rate})
    return src / "a.mat"


def _ingest(src: Path, out: Path):  # type: ignore[no-untyped-def]
    from eegprep.ingestion.driver import IngestConfig, ingest

    manifest = src.parent / "tables.toml"
    return ingest(
        manifest if manifest.exists() else "folder",
        src=src,
        out=out,
        config=IngestConfig(workers=0, progress=False, mains=50),
    )


@pytest.mark.parametrize("reader", ["fif", "edf", "csv", "mat"])
def test_a_file_at_999_9999_hz_is_stored_on_its_time_axis(tmp_path: Path, reader: str) -> None:
    """FIF (MNE's reader; 999.9999 Hz as a float32), EDF (eegprep's own: 2000 samples a
    2.000001 s record, 999.9995 Hz), CSV (the manifest's ``sfreq = 999.9999``) and MAT (a
    variable's): the store
    holds the tones at ``k / 200`` s, as MNE's FFT resampling of the same samples gives them."""
    from mne.filter import resample

    from eegprep import open_store

    src = tmp_path / "src"
    src.mkdir()
    n_in = 60_000
    rates = {"fif": float(np.float32(999.9999)), "edf": 2000 / 2.000001}
    if reader == "edf":
        _edf(src, 2000, 2.000001, n_in)
    else:
        {"fif": _fif, "csv": _csv, "mat": _mat}[reader](src, 999.9999, n_in)
    rep = _ingest(src, tmp_path / "s.zarr")
    assert rep.failed == [], rep.failed
    store = open_store(tmp_path / "s.zarr")
    (rec,) = store.recordings
    rate = rec.record.orig_sfreq
    assert rate == rates.get(reader, 999.9999)
    assert rec.n_samples == round(n_in * 200 / rate)
    (note,) = [w for lines in rep.warnings.values() for w in lines if "nearest ratio" in w]
    assert note.startswith(f"source rate {rate!r} Hz resampled by 1/5, the nearest ratio "), note
    assert "ppm off: the last sample's time is off by 0.0" in note and note.endswith(" ms"), note
    rows = [[c.upper() for c in rec.channels].index(name) for name in ("FZ", "CZ")]
    y = store.read(rec.id)[rows]
    keep = slice(20 * 200, rec.n_samples - 20 * 200)  # away from the edges' filter ringing
    truth = _tones(np.arange(rec.n_samples)[keep] / 200.0)
    np.testing.assert_allclose(y[:, keep], truth, rtol=0, atol=0.5)
    # MNE's FFT resampling of the same samples (npad=0 keeps time): n_in / 5 output samples
    ref = resample(_tones(np.arange(n_in) / rate), 200.0, rate, npad=0, verbose="error")
    np.testing.assert_allclose(y[:, keep], ref[:, keep], rtol=0, atol=0.5)


def test_an_edf_further_off_is_one_line(tmp_path: Path) -> None:
    """500 samples a 0.500001 s record: 999.998 Hz, 2 ppm from 1000 Hz."""
    src = tmp_path / "src"
    src.mkdir()
    _edf(src, 500, 0.500001, 30_000)
    rep = _ingest(src, tmp_path / "s.zarr")
    (line,) = rep.failed
    assert line.startswith("a.edf: source rate 999.998") and "within 1 ppm" in line, line
    assert "\n" not in line and "internal error" not in line


@pytest.mark.parametrize(
    ("rate", "note"),
    [
        (250.0, None),
        (float(np.float32(204.8)), None),
        (5000 / 3, None),
        (
            999.9999,
            "source rate 999.9999 Hz resampled by 1/5, the nearest ratio with down at most "
            "100,000 to the recipe's 200 Hz, 0.1 ppm off: the last sample's time is off by 0.36 "
            "ms",
        ),
    ],
)
def test_only_a_ratio_that_is_not_exact_is_told(rate: float, note: str | None) -> None:
    """The warning an ingest gives a recording of an hour at ``rate``."""
    from eegprep.pipeline.preprocess import near_ratio_note

    assert near_ratio_note(rate, 200.0, 3600.0) == note
