"""`eegprep stats` on records an ingest did not write: fields it may lack are "unknown"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
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
