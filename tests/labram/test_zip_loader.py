"""The loader reads a store given as a zip file (docs/store-format.md, "A store in a zip file")
as it reads the store's folder: the same windows, bit for bit, in the same batches."""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
import pytest
import torch

from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import BatchPlan
from labram.data.windows import build_pretrain_index
from tests.labram.training_stores import write_pretrain_store


@pytest.fixture(scope="module")
def folder_and_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A small pre-training store (3 subjects of 40 s) and the same store zipped whole."""
    root = tmp_path_factory.mktemp("zl")
    store = write_pretrain_store(root / "s.zarr", n_subjects=3, seconds=40)
    z = shutil.make_archive(str(root / "s"), "zip", root_dir=root, base_dir="s.zarr")
    return store, z


def batches(url: str, num_workers: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every batch of epoch 0 (ids, windows) of a fixed plan over the store at ``url``."""
    plan = BatchPlan(build_pretrain_index([url]), batch_size=2, seed=3)
    dataset = WindowDataset(plan)
    dataset.set_epoch(0)
    source = make_loader(dataset, num_workers=num_workers) if num_workers else dataset
    return [(as_numpy(b["ids"]), as_numpy(b["x"])) for b in source]


def as_numpy(x: Any) -> np.ndarray:
    """A batch's array (a worker's batches come as tensors) as a numpy copy."""
    return np.array(x.numpy() if isinstance(x, torch.Tensor) else x)


def test_the_loader_reads_a_zipped_store_as_its_folder(folder_and_zip: tuple[str, str]) -> None:
    """Before: the window index found no store in the zip file."""
    folder, z = folder_and_zip
    want, got = batches(folder), batches(z)
    assert len(want) > 1 and len(got) == len(want)
    for (ids_w, x_w), (ids_g, x_g) in zip(want, got, strict=True):
        np.testing.assert_array_equal(ids_g, ids_w)
        np.testing.assert_array_equal(x_g, x_w)


@pytest.mark.slow
def test_loader_workers_read_a_zipped_store(folder_and_zip: tuple[str, str]) -> None:
    """Worker processes open the zip file again by its path, each its own handle."""
    folder, z = folder_and_zip
    want = batches(folder)
    got = sorted(batches(z, num_workers=2), key=lambda b: b[0].tolist())
    assert len(got) == len(want)
    for (ids_w, x_w), (ids_g, x_g) in zip(sorted(want, key=lambda b: b[0].tolist()), got):
        np.testing.assert_array_equal(ids_g, ids_w)
        np.testing.assert_array_equal(x_g, x_w)
