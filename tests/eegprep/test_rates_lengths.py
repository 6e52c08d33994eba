"""Source rates and lengths: every rate a reader gives is stored on the right time axis.

A FIF (and a MATLAB ``single``) keeps a recording's rate as a float32. A rate that is a simple
fraction with no short decimal, 5000/3 Hz (BrainVision's ``SamplingInterval=600``), reads back
as 1666.6666259765625 Hz: neither that value nor its shortest decimal (1666.6666) has a ratio
to 200 Hz within 1e-6 Hz, and the file was refused (`no ratio up/down`), though MNE reads and
resamples it. The rate is now the fraction of smallest denominator that float32 rounds to the
value (5000/3 Hz), resampled by its exact ratio (3/25).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.preprocess import resampling_ratio

SIMPLE_RATES = [(5000, 3), (1000, 3), (2000, 3), (10000, 7), (4000, 9), (1024, 3)]
"""Rates ``p/q`` Hz of a few digits each way whose float32 value has no short decimal."""


@pytest.mark.parametrize(("p", "q"), SIMPLE_RATES)
def test_a_float32_rate_of_a_simple_fraction_gets_its_exact_ratio(p: int, q: int) -> None:
    ratio = Fraction(200) / Fraction(p, q)
    rate = float(np.float32(p / q))
    assert resampling_ratio(rate, 200.0) == (ratio.numerator, ratio.denominator)


def test_a_fif_at_5000_3_hz_is_stored_on_its_time_axis(tmp_path: Path) -> None:
    import mne

    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest

    src = tmp_path / "src"
    src.mkdir()
    sfreq, n_in = 5000 / 3, 100_000  # 60 s
    t = np.arange(n_in) / sfreq
    x = np.stack([50 * np.sin(2 * np.pi * 7.0 * t), 30 * np.cos(2 * np.pi * 11.0 * t)])
    info = mne.create_info(["Fz", "Cz"], sfreq, "eeg")
    mne.io.RawArray(x * 1e-6, info, verbose=False).save(src / "a_raw.fif", verbose=False)
    read_rate = mne.io.read_raw_fif(src / "a_raw.fif", verbose=False).info["sfreq"]
    assert read_rate != sfreq  # a float32: the case under test
    config = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest("folder", src=src, out=tmp_path / "s.zarr", config=config)
    assert rep.failed == [], rep.failed
    store = open_store(tmp_path / "s.zarr")
    (rec,) = store.recordings
    assert rec.n_samples == round(n_in * 200 / read_rate)
    y = store.read(rec.id)
    keep = slice(20 * 200, rec.n_samples - 20 * 200)  # away from the edges' filter ringing
    t_out = np.arange(rec.n_samples)[keep] / 200.0
    truth = np.stack([50 * np.sin(2 * np.pi * 7.0 * t_out), 30 * np.cos(2 * np.pi * 11.0 * t_out)])
    rows = [[c.upper() for c in rec.channels].index(name) for name in ("FZ", "CZ")]
    # 0.5 uV is 0.23 ms at 7 Hz and 50 uV: a rate off by one part in 1e5 drifts 4x that here
    np.testing.assert_allclose(y[rows][:, keep], truth, rtol=0, atol=0.5)


@pytest.mark.parametrize("duration", ["1e30", "20", "2"])
def test_a_rate_under_any_band_is_not_told_to_lower_the_low_pass(
    tmp_path: Path, duration: str
) -> None:
    """An EDF record duration of ``duration`` s for 1 sample a record: a rate (1e-30 Hz, a
    damaged field) at or under twice the 0.1 Hz high-pass was told to `set h_freq below 5e-31
    Hz`, a band no manifest can give (h_freq must exceed l_freq)."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.edf_writer import field_span, write_edf

    src = tmp_path / "src"
    src.mkdir()
    path = write_edf(src / "slow.edf", [np.zeros(5)], labels=["Fz"], sfreqs=1.0)
    raw = bytearray(path.read_bytes())
    raw[field_span("record_duration", n_signals=1)] = duration.ljust(8).encode()
    path.write_bytes(bytes(raw))
    config = IngestConfig(workers=0, progress=False, mains=50)
    (line,) = ingest("folder", src=src, out=tmp_path / "s.zarr", config=config).failed
    sfreq = 1 / float(duration)
    assert line.startswith("slow.edf: ") and "cannot carry the 75 Hz low-pass" in line, line
    assert ("set `h_freq` below" in line) == (sfreq / 2 > 0.1), line


def _time_table(path: Path, name: str, times: np.ndarray) -> str:
    rows = "".join(f"{t:.3f},{np.sin(t):.4f},1.5\n" for t in times)
    path.write_text(f"{name},Fz,Cz\n{rows}", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("name", "options"), [("time", {}), ("t", {"sfreq": 256.0})])
def test_a_time_column_in_ms_stating_no_unit_is_one_line(
    tmp_path: Path, name: str, options: dict
) -> None:
    """Times in milliseconds under a column that states no unit were read as seconds: 256 Hz as
    0.256 Hz, silently, then an ingest's advice to set `h_freq` below 0.128 Hz."""
    from eegprep.base.errors import SourceError
    from eegprep.readers import get_reader

    times = np.arange(256 * 20) / 256 * 1e3
    path = _time_table(tmp_path / "ms.csv", name, times)
    with pytest.raises(SourceError, match=r"states no unit.* 0\.256\d* Hz read as seconds") as err:
        get_reader("csv").read_header(path, time_column=name, **options)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    for unit, kept in (("ms", 256.0), ("s", 0.256)):  # a stated unit is taken as stated
        header = get_reader("csv").read_header(path, time_column=name, time_unit=unit)
        assert header.signals[0].sfreq == pytest.approx(kept, rel=1e-6)
    renamed = _time_table(tmp_path / "named.csv", f"{name} (ms)", times)
    header = get_reader("csv").read_header(renamed, time_column=f"{name} (ms)")
    assert header.signals[0].sfreq == pytest.approx(256.0, rel=1e-6)


@pytest.mark.parametrize("version", ["1.25", "2.20"])
@pytest.mark.parametrize(("num", "den"), [(0, 1), (0, 0), (1, 0)])
def test_a_gdf_record_duration_of_zero_is_one_line(
    tmp_path: Path, version: str, num: int, den: int
) -> None:
    """A GDF record duration whose numerator is 0 was read at a rate MNE guesses (records of
    1 s: 256 samples a record as 256 Hz), with no warning passed on; a denominator 0 was
    refused already."""
    import struct

    from eegprep.base.errors import SourceError
    from eegprep.readers import reader_for
    from eegprep.testing.fixtures.gdf_writer import write_gdf

    path = tmp_path / "zero.gdf"
    write_gdf(path, np.ones((2, 256 * 3)), ["Fz", "Cz"], 256, version=version)
    raw = bytearray(path.read_bytes())
    raw[244:252] = struct.pack("<II", num, den)  # the record duration, num/den seconds
    path.write_bytes(bytes(raw))
    with pytest.raises(SourceError, match=rf"record duration is {num}/{den} seconds") as err:
        reader_for(str(path)).read_header(str(path))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
