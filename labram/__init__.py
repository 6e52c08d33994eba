"""labram: the LaBraM EEG foundation model (tokenizer, masked pre-training, fine-tuning).

The public API is imported lazily, so that ``import labram`` stays light (no torch) until a
model or loader is used.
"""

from __future__ import annotations

# Nothing is imported here (``python -m labram`` imports this package before the console
# wrapper takes Ctrl-C over, eegprep/_console.py: each import before it is a window for Python's
# traceback). One distribution, one version: eegprep/base/version.py, read when first asked for.
TYPE_CHECKING = False
if TYPE_CHECKING:  # what a type checker sees of the lazy exports (_EXPORTS): their real types
    from typing import Any

    from eegprep.base.version import __version__
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import (
        convert_file,
        load_official,
        load_ours,
        save_official,
        save_ours,
    )
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.model.backbone import Backbone
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import ModelConfig, TokenizerConfig, model_config, tokenizer_config
    from labram.model.mem import LaBraMForMEM, mem_loss, random_mask
    from labram.model.quantizer import NormEMAQuantizer
    from labram.model.tokenizer import VQNSPTokenizer, fourier_targets
    from labram.train.optim import param_groups

_EXPORTS = {
    "ModelConfig": "labram.model.config",
    "TokenizerConfig": "labram.model.config",
    "model_config": "labram.model.config",
    "tokenizer_config": "labram.model.config",
    "Backbone": "labram.model.backbone",
    "LaBraMClassifier": "labram.model.classifier",
    "param_groups": "labram.train.optim",
    "LaBraMForMEM": "labram.model.mem",
    "mem_loss": "labram.model.mem",
    "random_mask": "labram.model.mem",
    "VQNSPTokenizer": "labram.model.tokenizer",
    "fourier_targets": "labram.model.tokenizer",
    "NormEMAQuantizer": "labram.model.quantizer",
    "CheckpointError": "labram.checkpoints.errors",
    "load_official": "labram.checkpoints.layouts",
    "save_official": "labram.checkpoints.layouts",
    "load_ours": "labram.checkpoints.layouts",
    "save_ours": "labram.checkpoints.layouts",
    "convert_file": "labram.checkpoints.layouts",
    "read_checkpoint": "labram.checkpoints.safe_read",
}

# written out, as the names imported for type checkers above (tests/test_packaging.py)
__all__ = [
    "Backbone",
    "CheckpointError",
    "LaBraMClassifier",
    "LaBraMForMEM",
    "ModelConfig",
    "NormEMAQuantizer",
    "TokenizerConfig",
    "VQNSPTokenizer",
    "__version__",
    "convert_file",
    "fourier_targets",
    "load_official",
    "load_ours",
    "mem_loss",
    "model_config",
    "param_groups",
    "random_mask",
    "read_checkpoint",
    "save_official",
    "save_ours",
    "tokenizer_config",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name == "__version__":
        return importlib.import_module("eegprep.base.version").__version__
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labram' has no attribute {name!r}")
