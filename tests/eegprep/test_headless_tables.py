"""A text table with no header row (``numpy.savetxt``'s) and no ``channel_names`` in its
manifest: its first row of samples was taken for the column names, and the file was refused
with "no EEG channel in the vocabulary among: 2.51e+00, ...". The one line now says the file
seems to have no header row and what to give; a header of numbers the manifest maps is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest

SITES = ["Fp1", "Fp2", "C3", "C4"]
CONFIG = IngestConfig(workers=0, progress=False, mains=50.0)


def _manifest(tmp: Path, options: str = "", rename: dict[str, str] | None = None) -> Path:
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "tables"')
    text = text.replace('name = "mne"', f'name = "csv"\noptions = {{ sfreq = 200{options} }}')
    text = text.replace('include = ["**/*.edf"', 'include = ["**/*.csv", "**/*.edf"')
    text = text.replace("(?i:edf|", "(?i:csv|edf|")
    if rename:
        table = ", ".join(f'"{k}" = "{v}"' for k, v in rename.items())
        text = text.replace('on_unknown = "warn"', f'on_unknown = "warn"\nrename = {{ {table} }}')
    path = tmp / "tables.toml"
    path.write_text(text)
    return path


def _samples(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 20, (2000, len(SITES)))


def _tables(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    np.savetxt(src / "bare.csv", _samples(0), delimiter=",")  # no header row
    np.savetxt(src / "whole.csv", _samples(1), delimiter=",")
    with open(src / "named.csv", "w") as fh:
        fh.write(",".join(SITES) + "\n")
        np.savetxt(fh, _samples(2), delimiter=",")
    return src


def test_a_table_with_no_header_row_says_so_and_the_rest_goes_on(tmp_path: Path) -> None:
    src = _tables(tmp_path)
    rep = ingest(_manifest(tmp_path), src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert rep.n_ingested == 1
    assert [line.split(": ", 1)[0] for line in sorted(rep.failed)] == ["bare.csv", "whole.csv"]
    for line in rep.failed:
        assert "\n" not in line and str(tmp_path) not in line
        assert "seems to have no header row" in line and "`channel_names`" in line
        assert "manifest-format.md" in line
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == tuple(s.upper() for s in SITES)


def test_the_manifest_s_channel_names_read_every_row(tmp_path: Path) -> None:
    src = _tables(tmp_path)
    (src / "named.csv").unlink()
    names = ", ".join(f'"{s}"' for s in SITES)
    manifest = _manifest(tmp_path, f", channel_names = [{names}]")
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert rep.failed == [] and rep.n_ingested == 2


def test_a_header_of_numbers_the_manifest_maps_is_a_header(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    numbers = [str(i + 1) for i in range(len(SITES))]
    with open(src / "numbered.csv", "w") as fh:
        fh.write(",".join(numbers) + "\n")
        np.savetxt(fh, _samples(3), delimiter=",")
    manifest = _manifest(tmp_path, rename=dict(zip(numbers, SITES)))
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert rep.failed == [] and rep.n_ingested == 1
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == tuple(s.upper() for s in SITES)


def test_a_header_of_other_names_is_told_to_rename_them(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "letters.csv", "w") as fh:
        fh.write("a,b,c,d\n")
        np.savetxt(fh, _samples(4), delimiter=",")
    rep = ingest(_manifest(tmp_path), src=src, out=tmp_path / "s.zarr", config=CONFIG)
    [line] = rep.failed
    assert "header row" not in line and "rename" in line
