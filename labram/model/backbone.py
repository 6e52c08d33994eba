"""The LaBraM transformer: patch encoder, spatial and temporal embeddings, blocks.

Shared by the fine-tuning classifier, the masked-EEG-modelling model and (twice: encoder and
decoder) the VQ-NSP tokenizer. Inputs are ``(B, N, A, 200)`` in 0.1 mV (microvolts / 100), with
the channels given as indices into :data:`eegprep.pipeline.channels.VOCABULARY`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eegprep.base.wording import counted
from labram.model.config import ModelConfig
from labram.model.layers import Block, TemporalConv, check_patches

ChannelsLike = Tensor | Sequence[int]


def parse_channels(channels: ChannelsLike, batch_size: int, n_channels: int, n_rows: int) -> Tensor:
    """Normalise a channel argument to vocabulary indices of shape ``(B, N)``.

    Parameters
    ----------
    channels : Tensor of int, shape (N,) or (B, N), or sequence of int
        Indices into the channel vocabulary (``VOCABULARY.index(name)``), one per input channel,
        shared by the batch when 1-D.
    batch_size, n_channels : int
        B and N of the input.
    n_rows : int
        Rows of the spatial table (CLS + addressable channels).

    Returns
    -------
    Tensor of int64, shape (B, N)
    """
    idx = torch.as_tensor(channels, dtype=torch.long)
    if idx.ndim == 1:
        idx = idx.unsqueeze(0).expand(batch_size, -1)
    if idx.ndim != 2 or idx.shape[1] != n_channels or idx.shape[0] != batch_size:
        raise ValueError(
            f"Invalid channels: expected shape ({n_channels},) or ({batch_size}, {n_channels}) "
            f"(one vocabulary index per input channel); got {tuple(idx.shape)}"
        )
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) > n_rows - 2):
        raise ValueError(
            f"Invalid channels: vocabulary indices must be in 0..{n_rows - 2} (the names with a "
            f"row in the spatial table); got min {int(idx.min())}, max {int(idx.max())}"
        )
    return idx


def init_weights(module: nn.Module, std: float) -> None:
    """Trunc-normal linears and convolutions (zero bias), unit LayerNorms: the original's init."""
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d):
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Backbone(nn.Module):
    """Embeddings + transformer blocks (no final norm: each model has its own).

    Parameters
    ----------
    config : ModelConfig
        Sizes and block variant.
    patch_embed : bool
        Build the temporal-convolution patch encoder (False for the tokenizer's decoder, which
        receives tokens).
    cls_from_first_channel : bool
        The CLS token's spatial embedding. False: row 0, the CLS row (fine-tuning model and
        tokenizer). True: the *first input channel's* row, as the original pre-training model
        does (a quirk that output-equivalence with ``labram-base.pth`` needs).
    """

    def __init__(
        self, config: ModelConfig, *, patch_embed: bool = True, cls_from_first_channel: bool = False
    ) -> None:
        super().__init__()
        c = config
        self.config = c
        self.cls_from_first_channel = cls_from_first_channel
        self.patch_embed = TemporalConv(c.conv_channels) if patch_embed else None
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.dim))
        self.spatial_embed = nn.Parameter(torch.zeros(1, c.n_spatial, c.dim))  # row = index + 1
        self.time_embed = nn.Parameter(torch.zeros(1, c.n_time, c.dim))
        # stochastic depth rises linearly from 0 at the first block to drop_path at the last
        rates = [c.drop_path * i / max(c.depth - 1, 1) for i in range(c.depth)]
        self.blocks = nn.ModuleList(
            Block(
                c.dim,
                c.n_heads,
                c.mlp_hidden,
                qk_norm=c.qk_norm,
                qv_bias=c.qv_bias,
                layer_scale_init=c.layer_scale_init,
                drop_path=rates[i],
                norm_eps=c.norm_eps,
            )
            for i in range(c.depth)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = self.config.init_std
        for p in (self.cls_token, self.spatial_embed, self.time_embed):
            nn.init.trunc_normal_(p, std=std, a=-2 * std, b=2 * std)
        init_weights(self.blocks, std)
        if self.patch_embed is not None:
            init_weights(self.patch_embed, std)
        for i, blk in enumerate(self.blocks):  # deeper residual branches start smaller
            assert isinstance(blk, Block)
            blk.attn.proj.weight.data.div_(math.sqrt(2.0 * (i + 1)))
            blk.mlp.fc2.weight.data.div_(math.sqrt(2.0 * (i + 1)))

    def embed(self, x: Tensor) -> Tensor:
        """Patch tokens before any embedding: ``(B, N, A, 200)`` 0.1 mV -> ``(B, N*A, dim)``."""
        check_patches(x, self.config.n_time)
        assert self.patch_embed is not None, "this backbone takes tokens, not patches"
        return self.patch_embed(x)

    def add_embeddings(self, tokens: Tensor, channels: ChannelsLike, n_patches: int) -> Tensor:
        """Prepend CLS and add the spatial and temporal embeddings.

        Parameters
        ----------
        tokens : Tensor, shape (B, N * A, dim)
            Channel-major patch tokens.
        channels : Tensor of int, shape (N,) or (B, N)
            Vocabulary indices.
        n_patches : int
            A, patches per channel (at most ``n_time``).

        Returns
        -------
        Tensor, shape (B, 1 + N * A, dim)
        """
        B, L, D = tokens.shape
        A = n_patches
        if A < 1 or self.config.n_time < A or L % A:
            raise ValueError(
                f"Invalid input: {L} tokens do not split into channels x {counted(A, 'patch')} "
                f"(at most {self.config.n_time})"
            )
        N = L // A
        rows = parse_channels(channels, B, N, self.config.n_spatial).to(tokens.device) + 1
        table = self.spatial_embed[0]  # (n_spatial, D)
        # F.embedding, not table[rows]: the backward of advanced indexing accumulates with
        # parallel atomic adds on CPU (run-to-run different sums); embedding's is ordered
        spatial = F.embedding(rows, table)  # (B, N, D)
        cls_pos = spatial[:, :1] if self.cls_from_first_channel else table[:1].expand(B, 1, D)
        spatial = spatial.unsqueeze(2).expand(B, N, A, D).reshape(B, L, D)  # (B, N*A, D)
        time = self.time_embed[0, :A].unsqueeze(0).expand(N, A, D).reshape(1, L, D)  # (1, N*A, D)
        x = torch.cat((self.cls_token.expand(B, 1, D), tokens), dim=1)  # (B, 1+L, D)
        x = x + torch.cat((cls_pos, spatial), dim=1)
        # the original adds the time embedding after the spatial one, patch tokens only
        return torch.cat((x[:, :1], x[:, 1:] + time), dim=1)

    def forward_tokens(self, tokens: Tensor, channels: ChannelsLike, n_patches: int) -> Tensor:
        """Embeddings and blocks on ready-made tokens ``(B, N*A, dim)`` -> ``(B, 1+N*A, dim)``."""
        x = self.add_embeddings(tokens, channels, n_patches)
        for blk in self.blocks:
            x = blk(x)
        return x

    def forward_features(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        """All tokens after the last block.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
        channels : Tensor of int, shape (N,) or (B, N)
            Vocabulary indices.

        Returns
        -------
        Tensor, shape (B, 1 + N * A, dim)
            CLS first, then channel-major patch tokens. Not normalised.
        """
        return self.forward_tokens(self.embed(x), channels, x.shape[2])

    def forward(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        return self.forward_features(x, channels)


def layer_id(name: str, n_blocks: int) -> int:
    """Layer-wise-lr-decay layer of a parameter name (relative to a :class:`Backbone`).

    Embeddings and the patch encoder are layer 0, block k is layer k + 1, and everything else
    (final norms, heads) is layer ``n_blocks + 1``. The original puts ``time_embed`` on the top
    layer (its matcher predates the time table); we treat it as the embedding it is (layer 0).
    """
    if name in ("cls_token", "mask_token", "spatial_embed", "time_embed"):
        return 0
    if name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return n_blocks + 1


def wrapped_layer_id(name: str, n_blocks: int) -> int:
    """:func:`layer_id` for a model holding a :class:`Backbone` as ``backbone`` (MEM model,
    classifier): the backbone's parameters keep their layers; the wrapper's own are the top
    layer, except ``mask_token``, an input embedding (layer 0)."""
    if name.startswith("backbone."):
        return layer_id(name[len("backbone.") :], n_blocks)
    return 0 if name == "mask_token" else n_blocks + 1
