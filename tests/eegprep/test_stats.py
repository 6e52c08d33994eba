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


def test_stats_show_the_block_lengths_each_corpus_was_preprocessed_in(tmp_path: Path) -> None:
    """The block a recording's samples were computed in (its record's ``block_seconds``: 240 s,
    shorter under a tight ``--file-memory-limit``) moves quantized samples by a step, and no
    summary showed it: the JSON, the table and the HTML page give it per corpus, in seconds;
    a record that states none is ``unknown`` (an earlier version's), ``none`` in the ``mne``
    mode (no blocks)."""
    import json

    url = tmp_path / "s.zarr"
    x = np.zeros((2, 400), np.float32)
    with StoreWriter(str(url), Recipe(encoding="float32")) as w:
        for rid, block in (("a/r1", 240.0), ("a/r2", 30.0), ("a/r3", 240.0), ("a/r4", None),
                           ("b/r1", 120.0)):  # fmt: skip
            put(w, rid, x, ["FP1", "FP2"], orig_sfreq=200.0, block_seconds=block)
    got = json.loads(CliRunner().invoke(eegprep_cli, ["stats", str(url), "--json"]).output)
    assert got["corpora"]["a"]["block_seconds"] == {"30": 1, "240": 2, "unknown": 1}
    assert got["corpora"]["b"]["block_seconds"] == {"120": 1}
    table = CliRunner().invoke(eegprep_cli, ["stats", str(url)])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    head = next(line for line in lines if line.startswith("corpus"))
    assert "block s" in head
    at = head.index("block s")
    rows = {line.split()[0]: line for line in lines[lines.index(head) + 1 :] if line.strip()}
    assert rows["a"][at:].split("  ")[0] == "30x1 240x2 unknownx1", rows["a"]
    assert rows["b"][at:].split()[0] == "120x1", rows["b"]
    html = report._table(store_stats(open_store(url)))
    assert "<th>blocks (s x recordings)</th>" in html and "<td>30x1 240x2 unknownx1</td>" in html
    mne = tmp_path / "mne.zarr"
    with StoreWriter(str(mne), Recipe(encoding="float32", mode="mne")) as w:
        put(w, "c/r1", x, ["FP1", "FP2"], orig_sfreq=200.0)
    assert store_stats(open_store(mne))["corpora"]["c"]["block_seconds"] == {"none": 1}
