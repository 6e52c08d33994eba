"""The model a checkpoint describes, built on PyTorch's ``meta`` device once it fits the file.

A checkpoint's config (or, for the released layouts, its keys and shapes) says how large a
model to build; a crafted one can claim any size (a depth of 10^7, a key ``blocks.99999.*``, a
head of 10^9 outputs) in a few bytes. :func:`model_for` is the one place a model is built from
what a file says: the claims check (:mod:`labram.checkpoints.claims`, before any tensor byte
is read) and the loaders (:mod:`labram.checkpoints.layouts`, once it is read) both call it, so
the two cannot disagree on what model a file describes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from eegprep.base.bounds import check_number
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from labram.checkpoints.errors import CheckpointError
from labram.model.classifier import LaBraMClassifier
from labram.model.config import (
    ModelConfig,
    ModelConfigError,
    TokenizerConfig,
    parameter_floor,
)
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer

_M = TypeVar("_M", bound=nn.Module)
_C = TypeVar("_C", ModelConfig, TokenizerConfig)

MAX_EXTRA_PARAMETERS = 10_000_000
"""The most parameters a model built from a checkpoint may have beyond the weights the file
holds (a fresh classifier head on a pre-trained backbone: a few thousand); for a header judged
before it is read, beyond what it claims."""


def built(
    make: Callable[[], _M],
    sd: Mapping[str, Any],
    source: str,
    config: ModelConfig | TokenizerConfig,
    n_outputs: int = 0,
    *,
    on_meta: bool = False,
) -> _M:
    """``make()``, once the model it makes is known to fit what the state dict ``sd`` holds.

    The model is built on the ``meta`` device first (no memory), and refused when it needs
    more parameters than ``sd`` holds (its tensors' elements; ``meta`` ones count as claimed),
    plus :data:`MAX_EXTRA_PARAMETERS`; a ``config`` whose :func:`parameter_floor` already
    exceeds that is refused before even that. ``on_meta``: return the model built on ``meta``
    (no memory), for :func:`~labram.checkpoints.layouts.load_strict` to give it the file's
    tensors as its own.

    Raises
    ------
    CheckpointError
        ``sd`` is not a dict, or the model needs more parameters than that (names ``source``).
    """
    if not isinstance(sd, Mapping):
        raise CheckpointError(
            f"{shown_path(source)}: its weights are a {type(sd).__name__}, not a dict"
        )
    have = sum(t.numel() for t in sd.values() if isinstance(t, Tensor))
    limit = have + MAX_EXTRA_PARAMETERS

    def refuse(name: str, need: int) -> CheckpointError:
        return CheckpointError(
            f"{shown_path(source)}: its config describes a {name} of "
            f"{counted(need, 'parameter', sep=',')} or more, but the file holds {have:,} weights: "
            "the config or its keys are not this file's"
        )

    floor = parameter_floor(config, n_outputs)
    if floor > limit:
        raise refuse("model", floor)
    with torch.device("meta"):
        probe = make()
    need = sum(p.numel() for p in probe.parameters())
    if need > limit:
        raise refuse(type(probe).__name__, need)
    return probe if on_meta else make()


def model_for(
    kind: str,
    config: ModelConfig | TokenizerConfig | Mapping[str, Any],
    sd: Mapping[str, Any],
    source: str,
    n_outputs: Any = None,
) -> tuple[nn.Module, Callable[[], nn.Module]]:
    """Our model of ``kind`` ('tokenizer', 'mem', else a classifier of ``n_outputs``) for
    ``config`` (a config, or a dict as its ``to_dict`` wrote it), once it is known to fit the
    weights ``sd`` (:func:`built`): built on ``meta``, not yet loaded, and how to build it on
    the CPU (for initial values of what ``sd`` lacks)."""
    make: Callable[[], nn.Module]
    if kind == "tokenizer":
        tcfg = _as(TokenizerConfig, config)
        make = lambda: VQNSPTokenizer(tcfg)  # noqa: E731
        return built(make, sd, source, tcfg, on_meta=True), make
    mcfg = _as(ModelConfig, config)
    if kind == "mem":
        make = lambda: LaBraMForMEM(mcfg)  # noqa: E731
        return built(make, sd, source, mcfg, on_meta=True), make
    n_outputs = int(check_number("n_outputs", n_outputs, error=ModelConfigError))
    make = lambda: LaBraMClassifier(mcfg, n_outputs)  # noqa: E731
    return built(make, sd, source, mcfg, n_outputs, on_meta=True), make


def _as(cls: type[_C], config: Any) -> _C:
    """``config`` as a ``cls``: itself, or ``cls.from_dict`` of the dict it is."""
    return config if isinstance(config, cls) else cls.from_dict(config)


__all__ = ["MAX_EXTRA_PARAMETERS", "built", "model_for"]
