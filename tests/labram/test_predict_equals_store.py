"""`labram predict` on a file another system wrote equals the model on the file ingested.

A BrainVision recording of float32 microvolts at 500 Hz, 8 channels in 10-10 spelling, a space
in its name: predicted from the file (eegprep's pipeline in memory, token-budget windows of a
``label:KEY`` classifier) and embedded from the store ``eegprep ingest folder`` made of it
(``labram embed`` keeps the classifier's logits). Same windows, same probabilities to float32
round-off. (tests/labram/test_predict.py checks the TUAB path: EDF, 23 protocol channels.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import zarr

from eegprep.ingestion.driver import IngestConfig, ingest
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed import EmbedConfig, embed
from labram.stages.predict import predict_files
from labram.train.checkpoint import atomic_save
from tests.labram.brainvision_files import write_brainvision
from tests.labram.test_predict_task_flag import CHANNELS

CLASSES = ["2", "3", "10"]


def test_a_500_hz_brainvision_file_predicts_as_its_store_embeds(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    t = np.arange(500 * 47) / 500  # 47 s: two 16-s windows of 8 channels, 15 s left over
    rng = np.random.default_rng(1)
    eeg = rng.normal(0, 20, (len(CHANNELS), len(t))) + 30 * np.sin(2 * np.pi * 10 * t)
    rec = write_brainvision(src, "rec one", CHANNELS, eeg)
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 3)
    torch.nn.init.normal_(clf.head.weight, std=0.5)  # probabilities away from 1/3
    ckpt = tmp_path / "best.pt"
    save_ours(clf, ckpt)
    obj = read_checkpoint(ckpt)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": CLASSES,
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)

    res = predict_files([rec], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == [] and res["classes"] == CLASSES
    windows = res["recordings"][0]["windows"]

    store = tmp_path / "s.zarr"
    ingest("folder", src=src, out=store, config=IngestConfig(workers=0, progress=False, mains=50))
    embed([str(store)], ckpt, tmp_path / "e.zarr", cfg=EmbedConfig(), device="cpu")
    out = zarr.open_group(str(tmp_path / "e.zarr"), mode="r")
    logits = np.asarray(out["logits"][:], np.float64)
    p_store = np.exp(logits - logits.max(axis=1, keepdims=True))
    p_store /= p_store.sum(axis=1, keepdims=True)

    assert [w["start_s"] for w in windows] == np.asarray(out["start_s"][:]).tolist() == [0, 16]
    p_file = np.array([[w["probabilities"][c] for c in CLASSES] for w in windows])
    np.testing.assert_allclose(p_file, p_store, atol=2e-6)
    assert np.abs(p_file - 1 / 3).max() > 1e-3  # (a model whose outputs differ by window)
    mean = res["recordings"][0]["probabilities"]
    np.testing.assert_allclose([mean[c] for c in CLASSES], p_store.mean(axis=0), atol=2e-6)
