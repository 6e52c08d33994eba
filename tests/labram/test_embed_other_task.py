"""`labram embed --task T` with a classifier fine-tuned for another task keeps no logits.

A head of three classes (``label:mood``: a, b, c) embedded with ``--task label:state`` (x, y,
z) passed the outputs check (three and three) and its logits were written beside the state
labels, as if they scored them. Its features are kept; its logits are left out, with one
warning naming both tasks. The task it was fine-tuned for keeps them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import zarr

from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed import EmbedConfig, embed
from labram.train.checkpoint import atomic_save
from tests.labram.test_label_tasks import KEY, write_labelled


def _classifier(path: Path, name: str, classes: list[str]) -> Path:
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), len(classes)), path)
    obj = read_checkpoint(path)
    obj["task"] = {"name": name, "kind": "multiclass", "classes": classes, "channels": None,
                   "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, path, keep_previous=False)
    return path


def test_a_head_of_another_task_gives_features_and_no_logits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = write_labelled(tmp_path / "s.zarr", list("xyz"), list("xyz"), seconds=12)
    cfg = EmbedConfig(task=f"label:{KEY}")
    mood = _classifier(tmp_path / "mood.pt", "label:mood", ["a", "b", "c"])
    with caplog.at_level("WARNING"):
        embed([url], mood, tmp_path / "mood.zarr", cfg=cfg, device="cpu")
    out = zarr.open_group(str(tmp_path / "mood.zarr"), mode="r")
    assert "embedding" in out and "label" in out and "logits" not in out
    assert "fine-tuned for task 'label:mood', not 'label:state'" in caplog.text
    own = _classifier(tmp_path / "state.pt", f"label:{KEY}", ["x", "y", "z"])
    embed([url], own, tmp_path / "state.zarr", cfg=cfg, device="cpu")
    assert zarr.open_group(str(tmp_path / "state.zarr"), mode="r")["logits"].shape == (6, 3)
