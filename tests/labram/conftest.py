"""Fixtures shared by the labram tests: small pre-training stores, and a TUAB-like one.

Modules that define a fixture of the same name use their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.labram.training_stores import write_pretrain_store, write_tuab_like


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("stores")
    return [
        write_pretrain_store(root / "a.zarr", corpus="tuh", n_subjects=4, seconds=130),
        write_pretrain_store(root / "b.zarr", corpus="seed", n_subjects=3, seconds=90, seed=5),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One small pre-training store (3 subjects, 40 s each): the run-folder guard tests'."""
    return write_pretrain_store(tmp_path_factory.mktemp("g") / "a.zarr", n_subjects=3, seconds=40)


@pytest.fixture(scope="module")
def tuab(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small TUAB-like labelled store (6 train and 2 eval subjects of 20 s)."""
    return write_tuab_like(tmp_path_factory.mktemp("t") / "tuab.zarr", n_train=6, n_eval=2,
                           seconds=20)  # fmt: skip


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny classifier of random, sound weights, saved as a fine-tuned ``best.pt``."""
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    torch.manual_seed(0)
    ckpt = tmp_path_factory.mktemp("ck") / "seed0" / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), ckpt)
    return ckpt
