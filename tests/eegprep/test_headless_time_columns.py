"""A table with no header row whose options name a column (a ``time_column``, ``columns``,
an events table's columns): its first row of samples was read as the column names, and the
file was refused as "column 'Time' not found; columns in the file: 0.000000000000000000e+00,
2.514604421867865813e+00, ..." (or, for a Grasp-and-Lift events table, read with its events
named after its first row's numbers). Now one line says the file seems to have no header row
and what to give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import event_columns_csv
from eegprep.corpus.sidecars.misc import bids_channels, bids_events
from eegprep.ingestion.driver import ingest
from eegprep.readers.csv_table import CsvReader
from tests.eegprep.test_headless_tables import CONFIG, SITES, _manifest
from tests.eegprep.test_mat_sidecars import _header

NAMES = ["Time", *SITES]


def _rows(seed: int) -> np.ndarray:
    samples = np.random.default_rng(seed).normal(0, 20, (2000, len(SITES)))
    return np.column_stack([np.arange(2000) / 200, samples])


@pytest.mark.parametrize(
    "options",
    [{"time_column": "Time"}, {"time_column": "Time", "sfreq": 200},
     {"sfreq": 200, "columns": ["Fp1", "Cz"]}, {"sfreq": 200, "drop": ["Time"]},
     {"sfreq": 200, "marker_column": "Trig"}, {"sfreq": 200, "event_columns": ["Go"]}],
)  # fmt: skip
def test_a_column_named_in_a_table_with_no_header_row_says_so(
    tmp_path: Path, options: dict
) -> None:
    path = tmp_path / "bare.csv"
    np.savetxt(path, _rows(0), delimiter=",")
    with pytest.raises(SourceError) as caught:
        CsvReader.read_header(str(path), **options)
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"{path}: column ")
    assert "seems to have no header row" in line and "`channel_names`" in line
    assert "e+00" not in line  # (the first row's numbers shown short)


def test_a_headless_table_with_a_time_column_is_skipped_and_the_rest_goes_on(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    np.savetxt(src / "bare.csv", _rows(0), delimiter=",")
    with open(src / "named.csv", "w") as fh:
        fh.write(",".join(NAMES) + "\n")
        np.savetxt(fh, _rows(1), delimiter=",")
    manifest = _manifest(tmp_path, ', time_column = "Time"')
    rep = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert rep.n_ingested == 1
    [line] = rep.failed
    assert line.startswith("bare.csv: column 'Time' not found: the file seems to have no header")
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == tuple(s.upper() for s in SITES)
    names = ", ".join(f'"{n}"' for n in NAMES)
    manifest = _manifest(tmp_path, f', time_column = "Time", channel_names = [{names}]')
    (src / "named.csv").unlink()
    rep = ingest(manifest, src=src, out=tmp_path / "t.zarr", config=CONFIG)
    assert rep.failed == [] and rep.n_ingested == 1  # (the fix the line names reads it)


def test_an_events_tsv_with_no_header_row_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x_events.tsv"
    path.write_text("1.5\t0\t3\n2.5\t0\t4\n")
    with pytest.raises(SourceError, match="seems to have no header row"):
        bids_events([str(path)], _header(path, 100.0, 1000), {})
    path = tmp_path / "x_channels.tsv"
    path.write_text("1\t2\t3\n4\t5\t6\n")
    with pytest.raises(SourceError, match="seems to have no header row"):
        bids_channels(str(path))


@pytest.mark.parametrize("first", ["", "subj1_series1_0,"])
def test_an_event_columns_table_with_no_header_row_is_refused(tmp_path: Path, first: str) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    rows = [f"{first}{i % 2},0,1" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SourceError, match="seems to have no header row"):
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})


def test_channel_names_without_the_time_column_say_to_name_it(tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    np.savetxt(path, _rows(0), delimiter=",")
    with pytest.raises(SourceError) as caught:
        CsvReader.read_header(str(path), time_column="Time", channel_names=SITES)
    assert str(caught.value).endswith(
        "`channel_names` has 4 names but the first data row has 5 fields (line 1): name every "
        "column in file order, the time column 'Time' among them"
    )
    header = CsvReader.read_header(str(path), time_column="Time", channel_names=NAMES)
    assert list(header.labels) == SITES and header.signals[0].sfreq == 200.0
