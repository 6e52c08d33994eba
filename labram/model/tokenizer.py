"""VQ-NSP: the neural tokenizer that turns each EEG patch into one of 8192 codes.

Encoder (temporal conv + transformer) -> Linear-Tanh-Linear to the code width -> L2-normalised
nearest code -> decoder (1x1 projection + transformer) -> amplitude and phase heads that predict
the patch's full 200-point Fourier spectrum, z-scored per sample.
"""

from __future__ import annotations

import warnings
from typing import TypedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labram.model.backbone import Backbone, ChannelsLike, init_weights
from labram.model.config import PATCH_SIZE, TokenizerConfig
from labram.model.quantizer import NormEMAQuantizer, full_precision, l2norm


class TokenizerOutput(TypedDict):
    """Losses and codebook statistics of one training step."""

    loss: Tensor  # amplitude + phase + commitment
    amplitude_loss: Tensor
    phase_loss: Tensor
    commit_loss: Tensor
    codes: Tensor  # (B, N*A) int64
    n_codes_used: Tensor  # distinct codes in the batch (all ranks)
    perplexity: Tensor  # exp(entropy) of the batch's code histogram


def standardise(x: Tensor) -> Tensor:
    """z-score each sample over all its other dimensions (mean, unbiased std).

    A sample whose values are all equal (std 0: a flat window's amplitudes and phases) becomes
    zeros, where the authors' code divides 0 by 0: one flat window
    made a whole batch's loss NaN. Every other sample is divided by its std, bit for bit as
    before.

    x : Tensor, shape (B, ...) -> same shape.
    """
    dims = tuple(range(1, x.ndim))
    std = x.std(dim=dims, keepdim=True)
    return (x - x.mean(dim=dims, keepdim=True)) / torch.where(std > 0, std, 1.0)


def fourier_targets(x: Tensor) -> tuple[Tensor, Tensor]:
    """Amplitude and phase targets of the tokenizer.

    Parameters
    ----------
    x : Tensor, shape (B, N, A, 200), 0.1 mV

    Returns
    -------
    amplitude, phase : Tensor, shape (B, N * A, 200)
        ``|FFT|`` and ``angle(FFT)`` of each patch (the full 200-point FFT, not rfft), each
        z-scored per sample over channels x patches x bins.
    """
    spec = torch.fft.fft(x.float(), dim=-1)
    amplitude = standardise(spec.abs()).flatten(1, 2)
    phase = standardise(spec.angle()).flatten(1, 2)
    return amplitude, phase


def _head(dim: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, out))


class VQNSPTokenizer(nn.Module):
    """The VQ-NSP tokenizer.

    Parameters
    ----------
    config : TokenizerConfig
        Sizes, codebook and EMA settings.
    kmeans_init : bool
        Initialise the codebook by k-means on the first training batch.
    """

    def __init__(self, config: TokenizerConfig, *, kmeans_init: bool = True) -> None:
        super().__init__()
        c = config
        self.config = c
        self.encoder = Backbone(c.backbone_config(c.encoder_depth))
        self.encoder_norm = nn.LayerNorm(c.dim, eps=c.norm_eps)
        self.to_code = _head(c.dim, c.code_dim)
        self.quantizer = NormEMAQuantizer(
            c.n_codes,
            c.code_dim,
            decay=c.decay,
            beta=c.beta,
            kmeans_init=kmeans_init,
            kmeans_iters=c.kmeans_iters,
            revive_dead_codes=c.revive_dead_codes,
            dead_after=c.dead_after,
        )
        self.decoder_in = nn.Linear(c.code_dim, c.dim)  # the original's 1x1 Conv2d
        self.decoder = Backbone(c.backbone_config(c.decoder_depth), patch_embed=False)
        self.decoder_norm = nn.LayerNorm(c.dim, eps=c.norm_eps)
        self.amplitude_head = _head(c.dim, PATCH_SIZE)
        self.phase_head = _head(c.dim, PATCH_SIZE)
        for m in (self.encoder_norm, self.to_code, self.decoder_in, self.decoder_norm):
            init_weights(m, c.init_std)
        init_weights(self.amplitude_head, c.init_std)
        init_weights(self.phase_head, c.init_std)

    def encode_features(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        """Vectors to quantise (the quantiser L2-normalises them).

        The encoder runs under the caller's autocast; ``to_code`` (Linear-Tanh-Linear) runs in
        float32 with autocast off, as the recipe's quantizer input is float32.

        x : (B, N, A, 200) 0.1 mV -> Tensor, shape (B, N*A, code_dim), float32.
        """
        tokens = self.encoder_norm(self.encoder.forward_features(x, channels)[:, 1:])  # (B, L, D)
        with full_precision(tokens.device):
            return self.to_code(tokens.float())

    @torch.no_grad()
    def encode(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        """Codes of each patch, without touching the codebook.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
        channels : Tensor of int, shape (N,) or (B, N)
            Vocabulary indices.

        Returns
        -------
        Tensor of int64, shape (B, N * A)
            Channel-major (ch0: t0..tA-1, ch1: ...), the order of the MEM model's tokens.
        """
        if not bool(self.quantizer.initted.item()):
            warnings.warn(
                "the tokenizer's codebook is not initialised (k-means runs on the first training "
                "batch): codes of an untrained codebook are meaningless",
                stacklevel=2,
            )
        z = l2norm(self.encode_features(x, channels))
        B, L, C = z.shape
        return self.quantizer.nearest(z.reshape(B * L, C)).reshape(B, L)

    def decode(self, zq: Tensor, channels: ChannelsLike, n_patches: int) -> tuple[Tensor, Tensor]:
        """Predicted z-scored amplitude and phase spectra.

        zq : (B, N*A, code_dim) code vectors -> two Tensors, shape (B, N*A, 200).
        """
        tokens = self.decoder.forward_tokens(self.decoder_in(zq), channels, n_patches)
        tokens = self.decoder_norm(tokens[:, 1:])
        return self.amplitude_head(tokens), self.phase_head(tokens)

    def forward(self, x: Tensor, channels: ChannelsLike) -> TokenizerOutput:
        """One training (or validation) step's losses.

        In training mode the codebook is k-means-initialised on the first call, EMA-updated,
        and dead codes are revived (if configured).

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
        channels : Tensor of int, shape (N,) or (B, N)
        """
        B, N, A, _ = x.shape
        z = self.encode_features(x, channels)  # (B, L, C)
        q = self.quantizer(z.reshape(B * N * A, -1))
        zq = q.quantized.reshape(B, N * A, -1)
        amplitude, phase = self.decode(zq, channels, A)
        amplitude_target, phase_target = fourier_targets(x)
        amplitude_loss = F.mse_loss(amplitude, amplitude_target)
        phase_loss = F.mse_loss(phase, phase_target)
        return TokenizerOutput(
            loss=amplitude_loss + phase_loss + q.commit_loss,
            amplitude_loss=amplitude_loss,
            phase_loss=phase_loss,
            commit_loss=q.commit_loss,
            codes=q.codes.reshape(B, N * A),
            n_codes_used=q.n_used,
            perplexity=q.perplexity,
        )

    def no_weight_decay(self) -> set[str]:
        """Names excluded from weight decay besides biases and 1-D tensors."""
        return {
            f"{part}.{name}"
            for part in ("encoder", "decoder")
            for name in ("cls_token", "spatial_embed", "time_embed")
        }
