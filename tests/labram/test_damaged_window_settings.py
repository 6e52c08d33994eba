"""A checkpoint whose recorded window settings are not valid is refused by every command.

``evaluate`` refused a ``best.pt`` whose ``train_config`` holds ``token_budget: -5`` (a
damaged or crafted file: the windows it was trained on are unknown); ``predict`` and ``embed``
took such settings as missing and cut the default windows without a word.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed import embed
from labram.stages.predict import predict_files
from labram.train.checkpoint import atomic_save
from labram.train.config import train_config
from tests.labram.brainvision_files import write_brainvision
from tests.labram.test_predict_task_flag import CHANNELS


@pytest.mark.parametrize("field, value", [("token_budget", -5), ("max_channels", "all")])
def test_predict_and_embed_refuse_settings_that_are_not_valid(
    store: str, tmp_path: Path, field: str, value: object
) -> None:
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), ckpt)
    obj = read_checkpoint(ckpt)
    obj["train_config"] = {**train_config("finetune", "tiny").to_dict(), field: value}
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": ["a", "b"],
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)
    rec = write_brainvision(tmp_path, "rec", CHANNELS, np.zeros((len(CHANNELS), 500 * 20)))
    said = f"{ckpt}: the window settings it records are not valid"
    with pytest.raises(UsageError, match=said):
        predict_files([rec], ckpt, corpus="folder", mains=50.0, device="cpu")
    with pytest.raises(UsageError, match=said):
        embed([store], ckpt, tmp_path / "e.zarr", device="cpu")
    assert not (tmp_path / "e.zarr").exists()  # refused before anything is written


@pytest.mark.parametrize("field, value", [("token_budget", -5), ("max_channels", "all")])
def test_the_setting_refused_is_named_by_its_key_path(field: str, value: object) -> None:
    """Before: ``(Invalid value for `token_budget`: ...)``, not where the file holds it
    (``train_config`` in a model file, ``config`` in a training checkpoint)."""
    from labram.data.windows import saved_windows
    from labram.stages.scoring import run_config

    good = train_config("finetune", "tiny").to_dict()
    for obj, key in (
        ({"train_config": {**good, field: value}}, "train_config"),
        ({"format": "labram-train", "config": {**good, field: value}}, "config"),
    ):
        with pytest.raises(UsageError, match=rf"not valid \(`{key}\.{field}`: "):
            saved_windows(obj, "best.pt")
    with pytest.raises(UsageError, match=rf"config is not valid \(`train_config\.{field}`: "):
        run_config("best.pt", {"train_config": {**good, field: value}})
    with pytest.raises(UsageError, match=r"config is not valid \(`train_config\.lr`: "):
        run_config("best.pt", {"train_config": {**good, "lr": "fast"}})
