"""Promise: a recording refused for samples that are not finite says what its source holds.

A float source's finite value beyond float32's range (``1e39`` uV in a FIF, CSV or MAT file of
doubles) reads as infinite, and one just inside it (``3e38`` uV, a BrainVision float32 file's
too) overflows float32 when filtered: both were refused as ``non-finite samples (NaN/inf) in
channels F3``, sending the user to look for a NaN or an infinity that the file does not hold.
Now the refused channels' sources are read again (only then): a NaN or an infinite value as
read is named with its first time and float32's range, and finite values whose filtering
overflows are refused as the loud channel they are, with their size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4"]
FS = 250


def _manifest(tmp: Path) -> Path:
    """The folder manifest, with CSV and MAT files read by their readers."""
    text = Path(load_manifest("folder").file).read_text().replace('name = "folder"', 'name = "ov"')
    text = text.replace("mains = 0 ", "mains = 50").replace(
        "edf|bdf|vhdr|", "csv|mat|edf|bdf|vhdr|"
    )
    text = text.replace('"**/*.cnt"]', '"**/*.cnt", "**/*.csv", "**/*.mat"]')
    readers = {
        "csv": '[reader]\nname = "csv"\n\n[reader.options]\ntime_column = "Time"\n',
        "mat": '[reader]\nname = "mat"\n\n[reader.options]\ndata = "eeg"\n'
        'sfreq_variable = "fs"\nchannels_variable = "labels"\n',
    }
    (tmp / "mne.toml").write_text(text)
    for kind, reader in readers.items():
        (tmp / f"{kind}.toml").write_text(text.replace('[reader]\nname = "mne"\n', reader))
    return tmp


def _write(folder: Path, fmt: str, x: np.ndarray) -> str:
    """``x`` (channels, samples) uV as ``fmt``; the manifest that reads it."""
    import mne

    folder.mkdir(parents=True)
    if fmt == "fif":
        raw = mne.io.RawArray(x * 1e-6, mne.create_info(CHANNELS, FS, "eeg"), verbose=False)
        raw.save(folder / "a_raw.fif", fmt="double", verbose=False)
    elif fmt == "csv":
        rows = [f"{i / FS!r}," + ",".join(repr(float(v)) for v in col) for i, col in enumerate(x.T)]
        (folder / "a.csv").write_text("Time," + ",".join(CHANNELS) + "\n" + "\n".join(rows) + "\n")
        return "csv"
    elif fmt == "mat":
        import scipy.io

        scipy.io.savemat(folder / "a.mat", {"eeg": x, "fs": float(FS), "labels": CHANNELS})
        return "mat"
    else:
        import pybv

        pybv.write_brainvision(
            data=x, sfreq=FS, ch_names=CHANNELS, fname_base="a", folder_out=str(folder),
            fmt="binary_float32", unit="µV",
        )  # fmt: skip
    return "mne"


def _refusal(tmp_path: Path, fmt: str, value: float) -> str:
    x = np.random.default_rng(0).standard_normal((len(CHANNELS), FS * 60)) * 30
    x[2, 4000] = value  # F3, at 16 s
    kind = _write(tmp_path / "src", fmt, x)
    manifest = _manifest(tmp_path) / f"{kind}.toml"
    cfg = IngestConfig(workers=0, progress=False)
    out = tmp_path / "s.zarr"
    report = ingest(str(manifest), src=tmp_path / "src", out=out, config=cfg)
    assert report.n_ingested == 0 and len(report.failed) == 1, report.failed
    (line,) = report.failed
    assert "\n" not in line
    (source,) = [
        p for p in (tmp_path / "src").iterdir() if p.suffix in (".fif", ".csv", ".mat", ".vhdr")
    ]
    with pytest.raises(SourceError) as caught:  # labram predict's in-memory path: the same
        read_preprocessed(source, load_manifest(str(manifest)))
    assert caught.value.problem in line
    return line


@pytest.mark.parametrize("fmt", ["fif", "csv", "mat"])
def test_a_value_beyond_float32_is_named_as_such(tmp_path: Path, fmt: str) -> None:
    line = _refusal(tmp_path, fmt, 1e39)
    assert "non-finite samples (NaN/inf) in channels F3 (first at 16 s)" in line, line
    assert "or values beyond float32's +-3.4e+38 uV" in line, line


@pytest.mark.parametrize("fmt", ["fif", "csv", "mat"])
def test_finite_values_whose_filtering_overflows_are_a_loud_channel(
    tmp_path: Path, fmt: str
) -> None:
    line = _refusal(tmp_path, fmt, 3e38)
    assert "channel F3: samples up to 3e+38 uV, which overflow float32 when filtered" in line
    assert "non-finite" not in line and "([channels] exclude in the manifest)" in line


@pytest.mark.parametrize("fmt", ["fif", "mat", "vhdr"])
def test_a_nan_is_named_with_its_time(tmp_path: Path, fmt: str) -> None:
    line = _refusal(tmp_path, fmt, float("nan"))
    assert "non-finite samples (NaN/inf) in channels F3 (first at 16 s)" in line, line


def test_the_command_prints_the_one_line(tmp_path: Path) -> None:
    x = np.random.default_rng(1).standard_normal((len(CHANNELS), FS * 60)) * 30
    x[2, 100] = 3e38
    kind = _write(tmp_path / "src", "fif", x)
    manifest = _manifest(tmp_path) / f"{kind}.toml"
    args = ["ingest", str(manifest), "--src", str(tmp_path / "src")]
    result = CliRunner().invoke(
        eegprep_cli, [*args, "--out", str(tmp_path / "s"), "--workers", "0"]
    )
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("skipped: a_raw.fif: channel F3: samples up to 3e+38 uV"), line


@pytest.mark.parametrize("cell", ["9" * 400, "1e400", "-1E+999"])
def test_a_csv_number_beyond_64_bit_floats_is_named_by_line_and_column(
    tmp_path: Path, cell: str
) -> None:
    """numpy reads such a cell as infinite: the line said ``non-finite value (nan/inf) on line
    4002`` of a cell holding digits alone."""
    x = np.random.default_rng(0).standard_normal((len(CHANNELS), FS * 60)) * 30
    rows = [f"{i / FS!r}," + ",".join(repr(float(v)) for v in col) for i, col in enumerate(x.T)]
    rows[4000] = rows[4000].split(",", 3)
    rows[4000][3] = cell + rows[4000][3][rows[4000][3].index(",") :]
    rows[4000] = ",".join(rows[4000])
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("Time," + ",".join(CHANNELS) + "\n" + "\n".join(rows) + "\n")
    manifest = _manifest(tmp_path) / "csv.toml"
    cfg = IngestConfig(workers=0, progress=False)
    report = ingest(str(manifest), src=src, out=tmp_path / "s.zarr", config=cfg)
    (line,) = report.failed
    assert line == (
        "a.csv: non-finite value (nan/inf) on line 4002, column 'F3': infinite, or a number "
        "beyond 64-bit floats' +-1.8e+308"
    )


def test_each_channel_is_named_with_its_own_first_time(tmp_path: Path) -> None:
    """The refused channels' sources are read together, once."""
    x = np.random.default_rng(3).standard_normal((len(CHANNELS), FS * 60)) * 30
    x[2, 4000] = np.nan  # F3 at 16 s
    x[4, 100:] = np.inf  # C3 from 0.4 s
    kind = _write(tmp_path / "src", "mat", x)
    cfg = IngestConfig(workers=0, progress=False)
    manifest = _manifest(tmp_path) / f"{kind}.toml"
    report = ingest(str(manifest), src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg)
    (line,) = report.failed
    assert "in channels F3 (first at 16 s), C3 (first at 0.4 s): the source holds" in line
