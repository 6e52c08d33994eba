"""One stage's run as the training loop sees it: configuration, data, folder, processes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

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
