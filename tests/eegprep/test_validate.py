from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe


def test_validate_finds_corruption(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    f32 = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="float32"))  # inf fits
    ingest("tuh", src=tuh_corpus, out=out, config=f32)
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 0 and "3 recordings checked, 0 problems" in res.output
    data = zarr.open_array(out / "recordings/tuh/aaaaaaaa_s001_t000/data", mode="r+")
    data[3, 100] = np.inf
    chan = zarr.open_array(out / "recordings/tuh/aaaaaaab_s002_t001/channel", mode="r+")
    chan[0] = "CZ"
    res = runner.invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 1
    assert "tuh/aaaaaaaa_s001_t000: non-finite samples" in res.output
    assert "tuh/aaaaaaab_s002_t001: channel coordinate" in res.output
