"""labram: the LaBraM EEG foundation model (tokenizer, masked pre-training, fine-tuning).

The public API is imported lazily, so that ``import labram`` stays light (no torch) until a
model or loader is used.
"""

from __future__ import annotations

import importlib
from typing import Any

# One distribution, one version: it lives in eegprep/__init__.py (pyproject.toml reads it there).
from eegprep import __version__

_EXPORTS = {
    "ModelConfig": "labram.config",
    "TokenizerConfig": "labram.config",
    "model_config": "labram.config",
    "tokenizer_config": "labram.config",
    "Backbone": "labram.backbone",
    "LaBraMClassifier": "labram.classifier",
    "param_groups": "labram.classifier",
    "LaBraMForMEM": "labram.mem",
    "mem_loss": "labram.mem",
    "random_mask": "labram.mem",
    "VQNSPTokenizer": "labram.tokenizer",
    "fourier_targets": "labram.tokenizer",
    "NormEMAQuantizer": "labram.quantizer",
    "CheckpointError": "labram.checkpoint_files",
    "load_official": "labram.checkpoints",
    "save_official": "labram.checkpoints",
    "load_ours": "labram.checkpoints",
    "save_ours": "labram.checkpoints",
    "convert_file": "labram.checkpoints",
    "read_checkpoint": "labram.checkpoint_files",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labram' has no attribute {name!r}")
