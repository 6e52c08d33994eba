"""A validation metric that the windows leave undefined (AUROC of one class: NaN) selects no
epoch: ``best.pt`` is then the last epoch's model, as with no validation window, and the
metric is ``null`` in strict JSON. Before, a comparison with NaN never chose, and the first
epoch's model, the least trained, was kept and tested."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from eegprep.base import strict_json
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.tasks import get_task
from labram.data.windows import open_stores
from labram.stages.finetune_warnings import warn_single_class
from labram.stages.scoring import task_splits
from labram.train.config import train_config
from tests.labram.cli_runs import run_labram, tuab_finetune
from tests.labram.training_stores import TUAB_ORDER, eeg, put

TINY = ["--size", "tiny", "--max-steps", "6", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip


def _normal_training(path: Path) -> str:
    """A TUAB-like store whose 6 training subjects are all normal (so is the validation
    split cut from them) and whose 2 test subjects are one of each class."""
    rng = np.random.default_rng(1)
    with StoreWriter(str(path), Recipe()) as w:
        for split, labels in (("train", [0] * 6), ("eval", [0, 1])):
            for k, label in enumerate(labels):
                subj = f"{split[0]}{k:03d}"
                put(w, f"tuab/{subj}_s001_t000", eeg(rng, 23, 20, label), list(TUAB_ORDER),
                    subject=subj, subject_key=f"tuh:{subj}", split=split,
                    labels={"abnormal": label})  # fmt: skip
    return str(path)


@pytest.fixture(scope="module")
def one_class(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _normal_training(tmp_path_factory.mktemp("one") / "one.zarr")


def test_an_undefined_validation_metric_keeps_the_last_epoch(
    one_class: str, tmp_path: Path
) -> None:
    out = tmp_path / "ft"
    code, output = run_labram(*tuab_finetune(one_class, TINY), "--out", out)
    assert code == 0, output
    text = (out / "seed0" / "metrics.json").read_text()
    metrics = strict_json.loads(text)  # strict JSON: no NaN
    assert metrics["val"]["auroc"] is None
    last = read_checkpoint(out / "seed0" / "last.pt")
    assert metrics["best_epoch"] == 2  # the last of 3 epochs (2 steps each), not the first
    best = read_checkpoint(out / "seed0" / "best.pt")  # the model training ended with
    for name, value in last["model"].items():
        assert torch.equal(best["model"][name], value), name


def test_the_warning_says_which_model_is_kept(
    one_class: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened = open_stores([one_class])
    task = get_task("tuab", opened)
    splits = [task_splits(opened, task, train_config("finetune", "tiny"))]
    with caplog.at_level(logging.WARNING):
        warn_single_class(task, splits, selection="auroc")
    said = [r.getMessage() for r in caplog.records if "val windows" in r.getMessage()]
    assert len(said) == 1 and "no epoch can be selected by auroc" in said[0], said
    assert "the model of the last epoch is kept as best.pt" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        warn_single_class(task, splits, selection="accuracy")  # (defined on one class)
    said = [r.getMessage() for r in caplog.records if "val windows" in r.getMessage()]
    assert len(said) == 1 and "best.pt" not in said[0], said
