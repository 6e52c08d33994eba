"""Fixtures shared by the data-pipeline tests: two small pre-training stores."""

from __future__ import annotations

import pytest

from tests.labram.training_stores import write_pretrain_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("stores")
    return [
        write_pretrain_store(root / "a.zarr", corpus="tuh", n_subjects=4, seconds=130),
        write_pretrain_store(root / "b.zarr", corpus="seed", n_subjects=3, seconds=90, seed=5),
    ]
