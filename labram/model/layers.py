"""Building blocks: the temporal-convolution patch encoder and the transformer block.

Parameter names follow the released LaBraM checkpoints (``conv1``, ``norm1``, ``attn.qkv``,
``gamma_1``, ...) so that the checkpoint converters only rename at the model level.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eegprep.base.wording import counted
from labram.model.config import PATCH_SIZE


class TemporalConv(nn.Module):
    """Patch encoder: three 1-D convolutions along each patch, flattened to one token.

    The sample's ``N * A`` patches form a one-channel image of ``N * A`` rows x 200 columns.
    Every kernel has height 1, so the convolutions stay inside a patch, but each GroupNorm takes
    its statistics per sample over *all* of that sample's patches (the whole ``N * A x 25`` map),
    as the released weights were trained: a per-patch normalisation gives other outputs.

    Parameters
    ----------
    conv_channels : int
        Feature maps (8 for base); the token width is ``25 * conv_channels``.
    """

    def __init__(self, conv_channels: int = 8) -> None:
        super().__init__()
        c = conv_channels
        self.conv1 = nn.Conv2d(1, c, kernel_size=(1, 15), stride=(1, 8), padding=(0, 7))
        self.norm1 = nn.GroupNorm(4, c)
        self.conv2 = nn.Conv2d(c, c, kernel_size=(1, 3), padding=(0, 1))
        self.norm2 = nn.GroupNorm(4, c)
        self.conv3 = nn.Conv2d(c, c, kernel_size=(1, 3), padding=(0, 1))
        self.norm3 = nn.GroupNorm(4, c)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        """Encode patches.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
            N channels, A patches of 200 samples.

        Returns
        -------
        Tensor, shape (B, N * A, 25 * conv_channels)
            Channel-major tokens (ch0: t0..tA-1, ch1: ...); features ordered ``t * C + c``.
        """
        B, N, A, T = x.shape
        x = x.reshape(B, 1, N * A, T)
        x = self.act(self.norm1(self.conv1(x)))  # (B, C, N*A, 25)
        x = self.act(self.norm2(self.conv2(x)))
        x = self.act(self.norm3(self.conv3(x)))
        # time-major then conv channel: feature index t * C + c (the released weights' order)
        return x.permute(0, 2, 3, 1).reshape(B, N * A, -1)  # (B, N*A, 25*C)


class Attention(nn.Module):
    """Multi-head self-attention through ``F.scaled_dot_product_attention``.

    Parameters
    ----------
    dim, n_heads : int
        Token width and number of heads.
    qk_norm : bool
        LayerNorm (over head_dim, eps ``norm_eps``) on q and k before the dot product (LaBraM).
    qv_bias : bool
        One bias for q and one for v, none for k (the tokenizer's blocks). The qkv linear itself
        never has a bias.
    """

    def __init__(
        self, dim: int, n_heads: int, *, qk_norm: bool, qv_bias: bool, norm_eps: float = 1e-6
    ) -> None:
        super().__init__()
        self.n_heads = n_heads
        head_dim = dim // n_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias: nn.Parameter | None = None
        self.v_bias: nn.Parameter | None = None
        if qv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        self.q_norm: nn.LayerNorm | None = None
        self.k_norm: nn.LayerNorm | None = None
        if qk_norm:
            self.q_norm = nn.LayerNorm(head_dim, eps=norm_eps)
            self.k_norm = nn.LayerNorm(head_dim, eps=norm_eps)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        """x : Tensor, shape (B, L, dim) -> Tensor, shape (B, L, dim)."""
        B, L, D = x.shape
        bias = None
        if self.q_bias is not None and self.v_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.q_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias)  # (B, L, 3*D)
        qkv = qkv.reshape(B, L, 3, self.n_heads, -1).permute(2, 0, 3, 1, 4)  # (3, B, H, L, hd)
        q, k, v = qkv.unbind(0)  # (B, H, L, hd)
        if self.q_norm is not None and self.k_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        x = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(hd)) v
        x = x.transpose(1, 2).reshape(B, L, D)  # (B, L, D)
        return self.proj(x)


class Mlp(nn.Module):
    """Linear -> GELU -> Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch per sample with probability ``p``."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Block(nn.Module):
    """Pre-norm transformer block, with optional layer scale (``gamma_1``, ``gamma_2``).

    Parameters
    ----------
    dim, n_heads : int
        Token width and heads.
    mlp_hidden : int
        MLP hidden width.
    qk_norm, qv_bias : bool
        See :class:`Attention`.
    layer_scale_init : float
        Initial value of the per-channel residual scales; 0 means no layer scale.
    drop_path : float
        Stochastic-depth probability of this block.
    norm_layer : type of nn.Module
        Norm constructor taking ``(dim, eps=...)``.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        mlp_hidden: int,
        *,
        qk_norm: bool,
        qv_bias: bool,
        layer_scale_init: float,
        drop_path: float = 0.0,
        norm_eps: float = 1e-6,
        norm_layer: type[nn.LayerNorm] = nn.LayerNorm,
    ) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim, eps=norm_eps)
        self.attn = Attention(dim, n_heads, qk_norm=qk_norm, qv_bias=qv_bias, norm_eps=norm_eps)
        self.drop_path = DropPath(drop_path)
        self.norm2 = norm_layer(dim, eps=norm_eps)
        self.mlp = Mlp(dim, mlp_hidden)
        self.gamma_1: nn.Parameter | None = None
        self.gamma_2: nn.Parameter | None = None
        if layer_scale_init > 0:
            self.gamma_1 = nn.Parameter(torch.full((dim,), layer_scale_init))
            self.gamma_2 = nn.Parameter(torch.full((dim,), layer_scale_init))

    def forward(self, x: Tensor) -> Tensor:
        """x : Tensor, shape (B, L, dim) -> same shape."""
        if self.gamma_1 is None or self.gamma_2 is None:
            x = x + self.drop_path(self.attn(self.norm1(x)))
            return x + self.drop_path(self.mlp(self.norm2(x)))
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


def check_patches(x: Tensor, n_time: int) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(B, N, A, 200)`` with ``1 <= A <= n_time``."""
    if x.ndim != 4 or x.shape[-1] != PATCH_SIZE:
        raise ValueError(
            f"Invalid input: expected shape (B, N, A, {PATCH_SIZE}) in 0.1 mV; got {tuple(x.shape)}"
        )
    if not 1 <= x.shape[2] <= n_time:
        raise ValueError(
            f"Invalid input: at most {counted(n_time, 'patch')} (seconds) per sample; got "
            f"A={x.shape[2]}"
        )
