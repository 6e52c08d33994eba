"""A fine-tuning ``last.pt`` read as its ``best.pt`` is: its task, its fold, its subjects.

``labram evaluate``, ``predict`` and ``embed`` take a training ``last.pt`` (docs/training.md),
but only ``best.pt`` recorded the task, the protocol's fold and the pre-training subjects. On a
fold's ``last.pt``, ``evaluate`` scored the task's own test split (the fold's training subjects
among it), took a ``label:KEY``'s classes from the stores given (with a warning), and
``predict`` named the classes ``0``, ``1``, ... The run's ``extra`` carries them now.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from labram.checkpoints.load import load_model
from labram.data.protocols import Protocol
from labram.stages.evaluate import evaluate
from labram.stages.finetune import finetune
from labram.stages.predict import resolve_task
from labram.train.config import train_config
from tests.labram.test_label_tasks import KEY, write_labelled


@pytest.mark.slow
def test_a_folds_last_checkpoint_is_scored_on_its_fold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """~10 s: two folds of one epoch each; the one epoch's model is both best.pt and last.pt."""
    url = write_labelled(tmp_path / "n.zarr", [2, 3, 10] * 2, [2, 3, 10])
    cfg = train_config("finetune", "tiny", epochs=1, warmup_epochs=0.5, batch_size=2)
    folds = Protocol(name="cross-subject", n_folds=2)
    finetune([url], f"label:{KEY}", cfg, tmp_path / "cv", protocol=folds)
    seed = tmp_path / "cv" / "fold1" / "seed0"
    last = torch.load(seed / "last.pt", weights_only=True)["extra"]
    assert last["task"]["classes"] == ["2", "3", "10"] and last["split"]["fold"] == 1
    with caplog.at_level("WARNING", logger="labram"):
        of_best = evaluate([url], f"label:{KEY}", seed / "best.pt")
        of_last = evaluate([url], f"label:{KEY}", seed / "last.pt")
    assert "records no task" not in caplog.text
    assert of_last["n_windows"] == of_best["n_windows"]
    assert of_last["metrics"] == pytest.approx(of_best["metrics"], nan_ok=True)
    assert of_last["leakage"] == of_best["leakage"].replace("best.pt", "last.pt")
    assert resolve_task(load_model(seed / "last.pt"), None).classes == ("2", "3", "10")
