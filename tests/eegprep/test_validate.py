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


def test_validate_beside_a_running_ingest_on_an_object_store(tuh_corpus: Path) -> None:
    """On an object store an ingest writes each new recording group in place, unlisted until
    it commits: `eegprep validate` run meanwhile reported every one of them as a problem
    (exit 1, "index missing" on a new store). An ingest that holds the lock is at work, not
    broken; once its lock is gone (stale or removed), the leftover groups are problems."""
    import json
    import os
    import socket
    import time

    import fsspec

    from eegprep.store.fs import Location

    url = "memory://validate-live/s.zarr"
    loc = Location.parse(url)
    try:
        ingest("tuh", src=tuh_corpus, out=url, config=IngestConfig(workers=0, progress=False))
        fs = fsspec.filesystem("memory")
        fs.copy(
            loc.path("recordings/tuh/aaaaaaaa_s001_t000"),
            loc.path("recordings/tuh/zzzzzzzz_s001_t000"),
            recursive=True,
        )  # being written by the running ingest
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
        loc.write_bytes(json.dumps(me).encode(), "_eegprep", "lock")
        runner = CliRunner()
        res = runner.invoke(eegprep_cli, ["validate", url])
        assert res.exit_code == 0, res.output
        loc.remove("_eegprep", "lock")
        res = runner.invoke(eegprep_cli, ["validate", url])
        assert res.exit_code == 1 and "zzzzzzzz_s001_t000: recording group on disk" in res.output
    finally:
        if loc.fs.exists(loc.root):
            loc.fs.rm(loc.root, recursive=True)
