"""`eegprep stats` on records an ingest did not write: fields it may lack are "unknown"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from eegprep.tools import report
from eegprep.tools.stats import store_stats
from tests.labram.training_stores import put


def test_stats_of_records_without_a_source_rate(tmp_path: Path) -> None:
    url = tmp_path / "hand.zarr"
    x = np.zeros((2, 400), np.float32)
    with StoreWriter(str(url), Recipe(encoding="float32")) as w:
        put(w, "lab/a", x, ["FP1", "FP2"])  # no orig_sfreq: written through the API
        put(w, "lab/b", x, ["FP1", "FP2"], orig_sfreq=(250.0, 500.0))
        put(w, "lab/c", x, ["FP1", "FP2"], orig_sfreq=256.0)
    stats = store_stats(open_store(url))
    assert stats["corpora"]["lab"]["orig_sfreq"] == {"unknown": 1, "250,500": 1, "256": 1}
    res = CliRunner().invoke(eegprep_cli, ["stats", str(url)])
    assert res.exit_code == 0 and "unknown" in res.output, res.output


def _store_with_joins(url: Path, joins: dict[str, tuple[int, ...]]) -> str:
    x = np.random.default_rng(0).standard_normal((2, 2000)).astype(np.float32)
    with StoreWriter(str(url), Recipe(encoding="float32")) as w:
        for rid, js in joins.items():
            put(w, rid, x, ["FP1", "FP2"], joins=js, orig_sfreq=200.0)
    return str(url)


def test_stats_count_the_recordings_with_joins_and_their_joins(tmp_path: Path) -> None:
    """Recordings whose samples do not follow on in time (their ``joins``) were not counted
    anywhere: the JSON gives per corpus and in total how many recordings have joins and how
    many joins; the table and the HTML page show them in a column when any corpus has one."""
    import json

    url = _store_with_joins(tmp_path / "s.zarr", {"a/r1": (100,), "a/r2": (50, 1200),
                                                  "a/r3": (), "b/r1": ()})  # fmt: skip
    res = CliRunner().invoke(eegprep_cli, ["stats", url, "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["corpora"]["a"]["joins"] == {"recordings_with_joins": 2, "joins": 3}
    assert got["corpora"]["b"]["joins"] == {"recordings_with_joins": 0, "joins": 0}
    assert (got["total"]["recordings_with_joins"], got["total"]["joins"]) == (2, 3)
    table = CliRunner().invoke(eegprep_cli, ["stats", url])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    head = next(line for line in lines if line.startswith("corpus"))
    assert head.split()[-1] == "joins"
    rows = {line.split()[0]: line for line in lines[lines.index(head) + 1 :] if line.strip()}
    assert rows["a"].endswith("3 in 2 recs") and rows["b"].endswith("  -")
    assert rows["total"].endswith("3 in 2 recs")
    html = report._table(store_stats(open_store(url)))  # the --html page's table
    assert "<th>joins (in recordings)</th>" in html and "<td>3 in 2 recs</td>" in html


def test_stats_without_joins_show_no_joins_column(tmp_path: Path) -> None:
    url = _store_with_joins(tmp_path / "s.zarr", {"a/r1": (), "b/r1": ()})
    res = CliRunner().invoke(eegprep_cli, ["stats", url])
    assert res.exit_code == 0, res.output
    head = next(line for line in res.output.splitlines() if line.startswith("corpus"))
    assert head.split()[-1] == "qc"  # no joins column
    stats = store_stats(open_store(url))  # the numbers are always there
    assert stats["corpora"]["a"]["joins"] == {"recordings_with_joins": 0, "joins": 0}
    assert "joins" not in report._table(stats)
