"""One stage's run as the training loop sees it: configuration, data, folder, processes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from eegprep.base.errors import UsageError
from labram.data.loader import WindowDataset
from labram.train.config import TrainConfig
from labram.train.distributed import DistInfo

StepFn = Callable[[nn.Module, dict[str, Tensor], torch.Generator], tuple[Tensor, dict[str, Any]]]
"""A stage's optimisation step: ``(model, batch, generator) -> (loss, metrics)``."""


@dataclass
class Run:
    """One stage's run: what :func:`train` needs besides the model."""

    cfg: TrainConfig
    dataset: WindowDataset
    run_dir: Path
    dist: DistInfo
    model_config: dict[str, Any]
    kind: str  # tokenizer | mem | classifier
    extra: dict[str, Any] = field(default_factory=dict)  # saved in every checkpoint
    on_epoch_end: Callable[[nn.Module, int, int], dict[str, Any]] | None = None


RUN_FILES = (
    "config.json", "last.pt", "best.pt", "model.pt", "tokenizer.pt", "log.csv", "results.json",
    "splits.json", "summary.json",
)  # fmt: skip
"""Files a training command leaves in its run folder, or one or two levels below it
(``mem/``, ``seed0/``, ``fold0/seed0/``): a folder holding any of them holds a run."""


def check_run_folder(out: Path, *, resume: bool) -> None:
    """Refuse to train into ``out`` when it already holds a run, unless ``resume``.

    Called by every training command before anything is written, so that a second command
    with the same ``--out`` (by default ``runs/<command>``) cannot replace a finished run's
    checkpoints, log and results. Under torchrun only rank 0 looks (the others would see what
    rank 0 has begun to write); its error ends the job.

    Raises
    ------
    UsageError
        ``out`` holds one of :data:`RUN_FILES`, naming the folder and what to pass.
    """
    if resume or int(os.environ.get("RANK", "0")) != 0 or not out.is_dir():
        return
    for pattern in ("{}", "*/{}", "*/*/{}"):
        found = [p for name in RUN_FILES for p in out.glob(pattern.format(name))]
        if found:
            raise UsageError(
                f"{out}: holds a run already ({found[0].relative_to(out)}); pass --resume to "
                "continue it, or another --out for a new run"
            )
