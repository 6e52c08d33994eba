"""Using a model on valid but unusual recordings: `labram predict`, `embed`, `evaluate`.

A recording none of whose channels has a row in the model's spatial table (the bipolar
``FP1-F3`` ... ``P4-O2``, vocabulary indices 128..135) gives no window: its windows would hold no
channel. Before, ``labram predict`` printed ``internal error ValueError: cannot reshape array of
size 0`` for such a file, and a ``label:KEY`` task (every task that takes the addressable
channels) cut windows of zero channels from it, so ``labram finetune`` and ``evaluate`` stopped
with an internal error (``Kernel size can't be greater than actual input size``). Now predict
gives the file its one line and predicts the others; the tasks leave the recording out with
one warning naming it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from eegprep.pipeline.channels import N_ADDRESSABLE, VOCABULARY
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import open_stores
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.evaluate import evaluate
from labram.stages.predict import predict_files
from labram.train.checkpoint import atomic_save
from tests.labram.brainvision_files import write_brainvision
from tests.labram.training_stores import eeg, put

UNPLACED = [n for n in VOCABULARY[N_ADDRESSABLE:] if "-" in n][:4]  # no row in the table
PLACED = ["FP1", "CZ", "O2", "C3"]
CLASSES = ["x", "y"]


def _brainvision(folder: Path, name: str, channels: list[str], seconds: float) -> Path:
    """A BrainVision file of float32 microvolts at 500 Hz: noise and a 10 Hz rhythm."""
    sfreq = 500
    t = np.arange(int(sfreq * seconds)) / sfreq
    x = np.random.default_rng(3).normal(0, 20, (len(channels), len(t)))
    x += 30 * np.sin(2 * np.pi * 10 * t)
    return write_brainvision(folder, name, channels, x, sfreq)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny two-class classifier of random weights that records a ``label:state`` task."""
    torch.manual_seed(0)
    ckpt = tmp_path_factory.mktemp("ck") / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), len(CLASSES)), ckpt)
    obj = read_checkpoint(ckpt)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": CLASSES,
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)
    return ckpt


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ``state``-labelled store of 6 recordings; ``c/s1`` (train) and ``c/s4`` (eval) hold
    only channels the model has no position embedding for."""
    url = str(tmp_path_factory.mktemp("st") / "s.zarr")
    rng = np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        for k in range(6):
            channels = UNPLACED if k in (1, 4) else PLACED
            put(w, f"c/s{k}", eeg(rng, len(channels), 40), channels, subject=f"s{k}",
                subject_key=f"c:s{k}", split="eval" if k >= 4 else "train",
                labels={"state": CLASSES[k % 2]})  # fmt: skip
    return url


def test_predict_gives_a_file_of_no_placed_channel_its_line(
    classifier: Path, tmp_path: Path
) -> None:
    bad = _brainvision(tmp_path, "bipolar", UNPLACED, 40)
    good = _brainvision(tmp_path, "good", PLACED, 40)
    res = predict_files([bad, good], classifier, corpus="folder", mains=50.0, device="cpu")
    assert [r["file"] for r in res["recordings"]] == [str(good)]
    assert res["recordings"][0]["n_windows"] == 2
    (line,) = res["failed"]
    assert line.startswith(f"{bad}: no channel the model reads"), line
    assert "internal error" not in line and all(c in line for c in UNPLACED), line


def test_a_task_leaves_out_a_recording_of_no_placed_channel(
    mixed_store: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened = open_stores([mixed_store])
    with caplog.at_level(logging.WARNING):
        splits = build_task_indexes(opened, get_task("label:state", opened))
    used = {p.id for s in splits.values() for p in s.recordings}
    assert used == {"c/s0", "c/s2", "c/s3", "c/s5"}
    assert all(len(p.channels) == len(PLACED) for s in splits.values() for p in s.recordings)
    warned = [
        r.getMessage() for r in caplog.records if "no channel the model reads" in r.getMessage()
    ]
    assert len(warned) == 1 and "2 recordings have" in warned[0] and "c/s1" in warned[0], warned


def test_evaluate_scores_the_others_of_a_split_with_such_a_recording(
    mixed_store: str, classifier: Path
) -> None:
    res = evaluate([mixed_store], "label:state", classifier, device="cpu",
                   allow_seen_subjects=True)  # fmt: skip
    assert res["n_windows"] == 2  # c/s5's two 16-s windows; c/s4 left out
    assert 0.0 <= res["metrics"]["balanced_accuracy"] <= 1.0


def test_predict_names_the_channels_the_model_does_not_read(
    classifier: Path, tmp_path: Path
) -> None:
    """A file of placed channels and bipolar pairs without a row (CHB-MIT's ``FP1-F3`` ...):
    the pairs are left out of every window, which its warnings now say (before: nothing)."""
    mixed = _brainvision(tmp_path, "mixed", [*PLACED, *UNPLACED], 40)
    plain = _brainvision(tmp_path, "plain", PLACED, 40)
    res = predict_files([mixed, plain], classifier, corpus="folder", mains=50.0, device="cpu")
    got = {r["file"]: r for r in res["recordings"]}
    assert got[str(mixed)]["channels"] == got[str(plain)]["channels"] == PLACED
    (note,) = [w for w in got[str(mixed)]["warnings"] if "spatial table" in w]
    assert note.endswith("not read: " + ", ".join(UNPLACED)), note
    assert not [w for w in got[str(plain)]["warnings"] if "spatial table" in w]
