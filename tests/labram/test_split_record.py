"""The ``task`` and ``split`` records a fine-tuned checkpoint carries are checked for the shape
fine-tuning writes them in when they are read (``evaluate``, ``predict``, ``embed``, ``export``
use them as given): a malformed one is one line naming the file and the field, where a task
that was no table read as no task (the stores' classes scored it) and a split whose ``val``
was missing failed as ``KeyError: 'val'``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.protocols import fold_problem
from labram.data.task_records import task_record
from labram.data.tasks import get_task
from labram.data.windows import open_stores
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.evaluate import evaluate
from labram.stages.predictions import predict_checkpoint
from labram.stages.tokenizer_used import found_in
from labram.train.checkpoint import atomic_save
from tests.labram.test_label_tasks import KEY, write_labelled

FOLD = {"fold": 1, "test_rule": "subjects", "train": ["x:t002", "x:t003"], "val": [],
        "test": ["x:t000", "x:t001"], "calibration": [["x/rec", 400]]}  # fmt: skip
BAD_SPLITS: list[tuple[Any, str]] = [
    (["x:t000"], "a list, not a table"),
    ({**FOLD, "val": None}, "val is not a list of subject keys"),
    ({k: v for k, v in FOLD.items() if k != "test"}, "test is not a list of subject keys"),
    ({**FOLD, "train": ["x:t002", 7]}, "train is not a list of subject keys"),
    ({**FOLD, "val": ["x:t000"]}, "subject 'x:t000' is in both val and test"),
    ({**FOLD, "test_rule": "all"}, "test_rule 'all' is not official or subjects"),
    ({**FOLD, "calibration": [["x/rec"]]}, "calibration is not a list of [recording, start"),
]


@pytest.mark.parametrize(("fold", "says"), BAD_SPLITS)
def test_a_malformed_split_is_named(fold: Any, says: str) -> None:
    with pytest.raises(CheckpointError) as info:
        found_in({"extra": {"split": fold}}, "split", source="run/last.pt")
    message = str(info.value)
    assert message.startswith("run/last.pt: its split record is not valid: ")
    assert says in message and "\n" not in message and len(message) < 300


def test_the_folds_fine_tuning_writes_are_sound() -> None:
    assert fold_problem(FOLD) is None
    assert fold_problem({**FOLD, "train": ["x"] * 1000}) is None
    assert fold_problem({"train": [], "val": [], "test": []}) is None  # (an older labram's)
    assert found_in({"split": FOLD}, "split") == FOLD


@pytest.mark.parametrize(("record", "says"), [
    (["tuab"], "a list, not a table"),
    ("tuab", "a str, not a table"),
    ({**task_record(get_task("tuab")), "kind": "ordinal"}, "kind 'ordinal'"),
])  # fmt: skip
def test_a_malformed_task_is_named(record: Any, says: str) -> None:
    with pytest.raises(CheckpointError, match=f"^best.pt: its task record is not valid: {says}"):
        found_in({"task": record}, "task", source="best.pt")


def _checkpoint(tmp_path: Path, task: Any, split: Any) -> Path:
    torch.manual_seed(0)
    best = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), best)
    obj = read_checkpoint(best)
    obj["task"], obj["split"] = task, split
    atomic_save(obj, best, keep_previous=False)
    return best


def test_evaluate_and_predict_name_the_file_and_the_field(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "xy.zarr", list("xyxyxy"), list("xy"))
    record = task_record(get_task(f"label:{KEY}", open_stores([url])))
    best = _checkpoint(tmp_path, record, {**FOLD, "calibration": [], "val": "x:t002"})
    for run in (lambda: evaluate([url], f"label:{KEY}", best, allow_seen_subjects=True),
                lambda: predict_checkpoint(best, [url], f"label:{KEY}")):  # fmt: skip
        with pytest.raises(CheckpointError) as info:
            run()
        assert str(info.value) == (
            f"{best}: its split record is not valid: val is not a list of subject keys"
        )
    best = _checkpoint(tmp_path, [record], FOLD)
    with pytest.raises(CheckpointError, match="its task record is not valid: a list, not a"):
        evaluate([url], f"label:{KEY}", best, allow_seen_subjects=True)
