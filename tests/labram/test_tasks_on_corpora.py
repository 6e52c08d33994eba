"""The downstream tasks read the stores that the corpus manifests actually write."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.fixtures import write_fixture
from labram.data.tasks import build_task_indexes, get_task


def _store(name: str, tmp_path: Path) -> Path:
    root = write_fixture(name, tmp_path / "src")
    out = tmp_path / f"{name}.zarr"
    rep = ingest(name, src=root, out=out, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested > 0, rep.failed
    return out


@pytest.mark.parametrize("name", ["seed_v", "mobi", "tuab", "tuev"])
def test_task_finds_windows_and_labels(name: str, tmp_path: Path) -> None:
    store = _store(name, tmp_path)
    task = get_task(name)
    if name == "seed_v":  # the fixture's trials last 1 s (the real ones minutes)
        task = replace(task, window_seconds=1)
    idx = build_task_indexes([str(store)], task)
    n = sum(len(idx[s]) for s in ("train", "val", "test"))
    assert n > 0
    labels = np.concatenate([idx[s].labels for s in ("train", "val", "test") if len(idx[s])])
    if task.kind == "regression":
        assert labels.shape[1] == task.n_outputs == 12
        assert np.isfinite(labels).all() and np.abs(labels).max() < 5  # degrees / 90
    else:
        assert set(np.unique(labels).astype(int)) <= set(range(len(task.classes)))
