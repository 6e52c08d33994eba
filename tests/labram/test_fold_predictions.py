"""`labram report --predict` on a protocol's fold: the fold's test windows, as `evaluate`.

A checkpoint fine-tuned on one fold of a cross-subject protocol records its fold (``split``:
the subjects it trained, validated and was tested on). ``evaluate`` scored that fold's test
subjects; ``report --predict`` (:func:`predict_checkpoint`) wrote ``predictions.csv`` on the
task's own test split instead, other recordings, some of them the fold's training subjects:
the run's confusion matrix and per-subject scores were of windows the model was trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch

from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.task_records import task_record
from labram.data.tasks import get_task
from labram.data.windows import open_stores
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.evaluate import evaluate
from labram.stages.predictions import predict_checkpoint, read_predictions
from labram.train.checkpoint import atomic_save
from tests.labram.test_label_tasks import KEY, write_labelled


def test_predictions_of_a_fold_checkpoint_are_its_test_subjects(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "xy.zarr", list("xyxyxy"), list("xy"))
    task = get_task(f"label:{KEY}", open_stores([url]))
    torch.manual_seed(0)
    best = tmp_path / "fold1" / "seed0" / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), best)
    obj = read_checkpoint(best)
    obj["task"] = task_record(task)
    obj["split"] = {  # fold 1 of a cross-subject protocol: tested on two training subjects
        "fold": 1,
        "test_rule": "subjects",
        "train": ["x:t002", "x:t003", "x:t004", "x:t005", "x:e000", "x:e001"],
        "val": [],
        "test": ["x:t000", "x:t001"],
        "calibration": [],
    }
    atomic_save(obj, best, keep_previous=False)
    ev = evaluate([url], f"label:{KEY}", best, allow_seen_subjects=True)
    rows = read_predictions(predict_checkpoint(best, [url], f"label:{KEY}"))["rows"]
    assert sorted(r["subject"] for r in rows) == ["x:t000", "x:t001"]
    assert len(rows) == ev["n_windows"] == 2
    assert [r["label"] for r in sorted(rows, key=lambda r: r["subject"])] == ["x", "y"]
