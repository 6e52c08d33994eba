"""A window the model cannot decide between two classes is one class everywhere.

A logit of 0 (probability 0.5) was the positive class in the metrics (probability >= 0.5) but
the first class in `labram predict`'s label and `labram report`'s confusion matrix (argmax:
first of equals), so a recording predicted "normal" was scored as called abnormal. A tie of
two classes goes to the second everywhere now (:func:`labram.train.metrics.predicted_class`);
a tie of more to the first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.tasks import Task
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.predict import predict_files
from labram.stages.report import confusion, subject_scores
from labram.stages.scoring import score
from labram.train.checkpoint import atomic_save
from labram.train.metrics import predicted_class
from tests.labram.brainvision_files import write_brainvision
from tests.labram.test_predict_task_flag import CHANNELS


def test_ties_go_to_the_second_of_two_and_the_first_of_more() -> None:
    assert predicted_class(np.array([[0.5, 0.5], [0.6, 0.4], [0.0, 0.0]])).tolist() == [1, 0, 1]
    assert predicted_class(np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])).tolist() == [0, 1]
    two = Task(name="label:k", kind="multiclass", classes=("closed", "open"), window_seconds=None)
    got = score(two, np.zeros((2, 2), np.float32), np.array([[1.0], [1.0]]))
    assert got["accuracy"] == 1.0  # two equal logits: "open", as one logit of 0 is positive


def test_predict_and_report_call_a_probability_of_one_half_the_positive_class(
    tmp_path: Path,
) -> None:
    clf = LaBraMClassifier(model_config("tiny"), 1)
    torch.nn.init.zeros_(clf.head.weight)
    torch.nn.init.zeros_(clf.head.bias)  # every logit 0: probability 0.5
    ckpt = tmp_path / "best.pt"
    save_ours(clf, ckpt)
    obj = read_checkpoint(ckpt)
    obj["task"] = {"name": "label:state", "kind": "binary", "classes": ["0", "1"],
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)
    eeg = np.random.default_rng(0).normal(0, 20, (len(CHANNELS), 500 * 20))
    rec = write_brainvision(tmp_path, "rec", CHANNELS, eeg)
    res = predict_files([rec], ckpt, corpus="folder", mains=50.0, device="cpu")
    got = res["recordings"][0]
    assert got["probabilities"] == {"0": 0.5, "1": 0.5}
    assert got["label"] == "1" and {w["label"] for w in got["windows"]} == {"1"}
    binary = Task(name="label:state", kind="binary", classes=("0", "1"), window_seconds=None)
    assert score(binary, np.zeros((1, 1), np.float32), np.array([[1.0]]))["accuracy"] == 1.0
    rows = [{"split": "test", "subject": "s1", "label": "1", "p_0": 0.5, "p_1": 0.5}]
    preds = {"kind": "classification", "classes": ["0", "1"], "rows": rows}
    assert confusion(preds).tolist() == [[0, 0], [0, 1]]
    assert subject_scores(preds)["s1"]["accuracy"] == 1.0
