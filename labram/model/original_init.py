"""The authors' weight initialisation, for ``--recipe original`` (``TrainConfig.init``).

Our models initialise every linear, convolution and embedding trunc-normal (std 0.02, cut at
+-2 sigma) with zero biases. The authors' code differs by model (their ``modeling_*`` files;
the table in docs/model.md, Recipes):

- pre-training model: trunc-normal std 0.02 cut at **+-1 sigma** (their own wrapper) for the
  embeddings, mask token, linears and the patch encoder's convolutions; the top-level ``lm_head``
  bias keeps PyTorch's default (uniform +-1/sqrt(dim)).
- tokenizer and fine-tuning model: std 0.02 cut at +-2 in absolute value (timm's default bounds,
  i.e. practically untruncated) for embeddings and linears; the convolutions (the temporal
  patch encoder, the decoder's 1x1 input projection, ``decoder_in`` here) keep PyTorch's
  defaults (Kaiming-uniform).

Both then divide each block's ``attn.proj`` and ``mlp.fc2`` weights by sqrt(2 * layer id), as we do.
"""

from __future__ import annotations

import math
from typing import TypeVar

from torch import nn

from labram.model.backbone import Backbone
from labram.model.classifier import LaBraMClassifier
from labram.model.layers import Block
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer


def _trunc(p: nn.Parameter | object, std: float, bound: float) -> None:
    nn.init.trunc_normal_(p, std=std, a=-bound, b=bound)  # type: ignore[arg-type]


def _init_modules(module: nn.Module, std: float, bound: float, *, convs: bool) -> None:
    """Linears (and convolutions if ``convs``) trunc-normal, zero bias; LayerNorms 1 / 0;
    convolutions otherwise PyTorch's defaults."""
    for m in module.modules():
        if isinstance(m, nn.Linear) or (convs and isinstance(m, nn.Conv2d)):
            _trunc(m.weight, std, bound)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            m.reset_parameters()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _init_backbone(bb: Backbone, std: float, bound: float, *, convs: bool) -> None:
    for p in (bb.spatial_embed, bb.time_embed, bb.cls_token):
        _trunc(p, std, bound)
    _init_modules(bb, std, bound, convs=convs)
    for i, blk in enumerate(bb.blocks):  # deeper residual branches start smaller
        assert isinstance(blk, Block)
        blk.attn.proj.weight.data.div_(math.sqrt(2.0 * (i + 1)))
        blk.mlp.fc2.weight.data.div_(math.sqrt(2.0 * (i + 1)))


M = TypeVar("M", bound=nn.Module)


def original_init(model: M) -> M:
    """Re-initialise ``model`` (a fresh one) as the authors' code does; returns it."""
    if isinstance(model, LaBraMForMEM):
        std = model.config.init_std
        _init_backbone(model.backbone, std, std, convs=True)  # +-1 sigma
        _trunc(model.mask_token, std, std)
        nn.init.ones_(model.norm.weight)
        nn.init.zeros_(model.norm.bias)
        _trunc(model.lm_head.weight, std, std)
        bound = 1 / math.sqrt(model.lm_head.in_features)  # PyTorch's default bias
        nn.init.uniform_(model.lm_head.bias, -bound, bound)
    elif isinstance(model, VQNSPTokenizer):
        std = model.config.init_std
        _init_backbone(model.encoder, std, 2.0, convs=False)
        _init_backbone(model.decoder, std, 2.0, convs=False)
        for m in (model.encoder_norm, model.to_code, model.decoder_norm):
            _init_modules(m, std, 2.0, convs=False)
        for m in (model.amplitude_head, model.phase_head):
            _init_modules(m, std, 2.0, convs=False)
        model.decoder_in.reset_parameters()  # their 1x1 Conv2d keeps PyTorch's default
    elif isinstance(model, LaBraMClassifier):
        std = model.config.init_std
        _init_backbone(model.backbone, std, 2.0, convs=False)
        nn.init.ones_(model.fc_norm.weight)
        nn.init.zeros_(model.fc_norm.bias)
        _trunc(model.head.weight, std, 2.0)
        model.head.weight.data.mul_(0.001)
        nn.init.zeros_(model.head.bias)
    else:
        raise TypeError(f"original_init: no recipe for {type(model).__name__}")
    return model
