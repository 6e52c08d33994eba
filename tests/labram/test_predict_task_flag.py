"""`labram predict --task` on a checkpoint that records its task.

``--task`` replaced the record: of the record's own name, a ``label:KEY`` classifier's classes
were named ``0``, ``1``, ``2`` (not its ``2``, ``3``, ``10`` or ``x``, ``y``, ``z``); of another
name, the files were cut in that task's windows for a head trained on others and predicted
without a word. The record's task is used now, and another name refused in one line, as
`labram evaluate` refuses it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.predict import predict_files
from labram.train.checkpoint import atomic_save
from tests.labram.brainvision_files import write_brainvision

CHANNELS = ["Fp1", "Fp2", "C3", "C4", "O1", "O2", "Cz", "Pz"]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 3-class ``label:state`` classifier recording classes 2, 3, 10, and a 30-s file."""
    root = tmp_path_factory.mktemp("flag")
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 3)
    torch.nn.init.normal_(clf.head.weight, std=0.5)
    ckpt = root / "best.pt"
    save_ours(clf, ckpt)
    obj = read_checkpoint(ckpt)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": ["2", "3", "10"],
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)
    eeg = np.random.default_rng(0).normal(0, 20, (len(CHANNELS), 500 * 30))
    return ckpt, write_brainvision(root, "rec", CHANNELS, eeg)


def test_the_records_own_task_name_keeps_its_class_names(labelled: tuple[Path, Path]) -> None:
    ckpt, rec = labelled
    kw = {"corpus": "folder", "mains": 50.0, "device": "cpu"}
    told = predict_files([rec], ckpt, task="label:state", **kw)
    found = predict_files([rec], ckpt, **kw)
    assert told["classes"] == found["classes"] == ["2", "3", "10"]
    assert told["recordings"][0]["probabilities"] == found["recordings"][0]["probabilities"]
    assert told["recordings"][0]["label"] in ("2", "3", "10")


@pytest.mark.parametrize("other", ["label:other", "tuev"])
def test_another_task_is_refused_in_one_line(labelled: tuple[Path, Path], other: str) -> None:
    from cli import labram_cli

    ckpt, rec = labelled
    with pytest.raises(UsageError, match=f"fine-tuned for task 'label:state', not '{other}'"):
        predict_files([rec], ckpt, task=other, corpus="folder", mains=50.0)
    args = ["predict", str(rec), "--checkpoint", str(ckpt), "--task", other, "--corpus", "folder"]
    res = CliRunner().invoke(labram_cli, [*args, "--mains", "50"])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "--task label:state, or leave --task out" in res.output
