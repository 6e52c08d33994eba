"""A split with no window (a store with no recording of the task's corpus, or none of the
split): ``labram report --predict`` refuses it as ``labram evaluate`` does, and writes nothing.

Before, ``predict_checkpoint`` wrote a ``predictions.csv`` holding the header alone, without
its ``p_<class>`` columns, which ``read_predictions`` (and so every later ``labram report``)
refused as "not a predictions file of labram's"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.data.tasks import Task, get_task
from labram.data.windows import open_stores
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.evaluate import evaluate
from labram.stages.predictions import predict_checkpoint, read_predictions, write_predictions
from labram.stages.scoring import task_splits
from labram.train.config import train_config
from tests.labram.training_stores import write_pretrain_store, write_tuab_like


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("empty")
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), root / "run" / "best.pt")
    return {
        "root": root,
        "other": Path(
            write_pretrain_store(root / "seed.zarr", corpus="seed", n_subjects=2, seconds=30)
        ),
        "no_eval": Path(write_tuab_like(root / "tuab.zarr", n_train=4, n_eval=0, seconds=20)),
    }


@pytest.mark.parametrize("which", ["other", "no_eval"])
def test_report_predict_refuses_a_test_split_of_no_window_as_evaluate(
    made: dict[str, Path], which: str
) -> None:
    best, store = made["root"] / "run" / "best.pt", str(made[which])
    with pytest.raises(UsageError, match=r"the test split of .* holds no window") as said:
        evaluate([store], "tuab", best, device="cpu")
    with pytest.raises(UsageError) as got:
        predict_checkpoint(best, [store], "tuab", device="cpu")
    assert str(got.value) == str(said.value)  # the same line
    assert not (best.parent / "predictions.csv").exists()  # nothing written


def test_predictions_of_no_window_are_a_file_its_reader_reads(
    made: dict[str, Path], tmp_path: Path
) -> None:
    opened = open_stores([str(made["no_eval"])])
    task = get_task("tuab", opened)
    empty = task_splits(opened, task, train_config("finetune", "tiny"))["test"]
    assert len(empty) == 0
    path = write_predictions(tmp_path / "p.csv", task, empty, np.zeros((0, 1), np.float32))
    got = read_predictions(path)
    assert got["kind"] == "classification" and got["rows"] == []
    assert got["classes"] == list(task.classes)


class _NoWindows:
    """An index of no window, ``n_targets`` regression targets each."""

    def __init__(self, n_targets: int) -> None:
        self.labels = np.zeros((0, n_targets), np.float32)

    def __len__(self) -> int:
        return 0


def test_regression_predictions_of_no_window_are_read_as_regression(tmp_path: Path) -> None:
    task = Task(name="r", kind="regression", extra={"n_targets": 2})
    path = write_predictions(tmp_path / "p.csv", task, _NoWindows(2), np.zeros((0, 2)))
    got = read_predictions(path)
    assert got["kind"] == "regression" and got["rows"] == []
