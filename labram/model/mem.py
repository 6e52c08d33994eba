"""Masked EEG modelling: predict the frozen tokenizer's codes of masked patches.

Half of each sample's patches are replaced by a learned mask token (before the embeddings are
added); the model predicts their codes. A second, symmetric pass masks the complement, so every
patch is predicted once per step.
"""

from __future__ import annotations

from typing import TypedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eegprep.base.bounds import check_number
from eegprep.base.validation import invalid_value
from eegprep.base.wording import of_total
from labram.model.backbone import Backbone, ChannelsLike, wrapped_layer_id
from labram.model.config import ModelConfig
from labram.model.tokenizer import VQNSPTokenizer


def random_mask(
    batch_size: int,
    n_tokens: int,
    *,
    ratio: float = 0.5,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Mask the same number of tokens in every sample, uniformly at random.

    ``n_tokens - int(n_tokens * (1 - ratio))`` tokens per sample are masked: exactly half for an
    even count (the original's rule; the odd middle token is masked).

    Raises
    ------
    UsageError
        One line naming the setting and its range: ``ratio`` outside (0, 1) or NaN,
        ``batch_size`` or ``n_tokens`` not a count (``n_tokens`` at least 2), or a ratio that
        masks every token of a sample or none (``ratio`` 0.9 of 4 tokens), which leaves one of
        :func:`mem_loss`'s two passes without a token: its loss was NaN.

    Returns
    -------
    Tensor of bool, shape (batch_size, n_tokens)
        True = masked.
    """
    ratio = check_number("ratio", ratio, key="mask_ratio")
    batch_size = int(check_number("batch_size", batch_size))
    n_tokens = int(check_number("n_tokens", n_tokens))
    n_keep = int(n_tokens * (1 - ratio))
    if not 1 <= n_keep < n_tokens:
        raise invalid_value(
            "ratio", ratio, expected=f"a number in (0, {1 - 1 / n_tokens:g}] for {n_tokens} tokens "
            f"(it masks {n_tokens - n_keep} of them; at least one must be masked and one kept)",
        )  # fmt: skip
    # drawn where the generator lives (a CPU generator for a CUDA batch: the same masks on
    # every device, and torch refuses a generator of another device), then moved
    where = generator.device if generator is not None else device
    noise = torch.rand(batch_size, n_tokens, generator=generator, device=where)
    order = noise.argsort(dim=1).to(device) if device is not None else noise.argsort(dim=1)
    mask = torch.ones(batch_size, n_tokens, dtype=torch.bool, device=order.device)
    mask.scatter_(1, order[:, :n_keep], False)
    return mask


def check_mask(mask: Tensor, batch_size: int, n_tokens: int) -> None:
    """Refuse a ``mask`` given to :func:`mem_loss` that is not bool of shape
    ``(batch_size, n_tokens)``, or whose sample masks every token or none (one of the two passes
    then has nothing to predict for it; a batch of such samples gave a NaN loss).

    Raises
    ------
    UsageError
        One line naming ``mask``, what it is and what was expected.
    """
    if mask.dtype != torch.bool or tuple(mask.shape) != (batch_size, n_tokens):
        raise invalid_value(
            "mask", f"{mask.dtype} of shape {tuple(mask.shape)}",
            expected=f"bool of shape ({batch_size}, {n_tokens})",
        )  # fmt: skip
    masked = mask.sum(dim=1)
    bad = ((masked == 0) | (masked == n_tokens)).nonzero()
    if len(bad):
        i = int(bad[0, 0])
        raise invalid_value(
            "mask", f"sample {i} masks {of_total(int(masked[i]), n_tokens, 'token')}",
            expected="each sample masking at least one token and keeping one",
        )  # fmt: skip


class LaBraMForMEM(nn.Module):
    """The pre-training model: backbone + mask token + LayerNorm + code-prediction head.

    Parameters
    ----------
    config : ModelConfig
        Sizes; ``n_codes`` is the tokenizer's vocabulary (8192).

    Notes
    -----
    Two quirks of the original are kept because the released weights depend on them: the CLS
    token takes the first input channel's spatial embedding (``cls_from_first_channel``), and the
    head is the original's top-level ``lm_head``. The released file also holds a
    ``student.lm_head`` and a ``projection_head`` that the original's forward never uses; they are
    kept as buffers (``legacy_*``) only so that a checkpoint round-trips exactly.
    """

    legacy_student_lm_head_weight: Tensor
    legacy_student_lm_head_bias: Tensor
    legacy_projection_head_weight: Tensor
    legacy_projection_head_bias: Tensor

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        D, std = config.dim, config.init_std
        self.backbone = Backbone(config, cls_from_first_channel=True)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, D))
        self.norm = nn.LayerNorm(D, eps=config.norm_eps)
        self.lm_head = nn.Linear(D, config.n_codes)
        nn.init.trunc_normal_(self.mask_token, std=std, a=-2 * std, b=2 * std)
        self.reset_head()
        self.register_buffer("legacy_student_lm_head_weight", torch.zeros(config.n_codes, D))
        self.register_buffer("legacy_student_lm_head_bias", torch.zeros(config.n_codes))
        self.register_buffer("legacy_projection_head_weight", torch.zeros(D, D))
        self.register_buffer("legacy_projection_head_bias", torch.zeros(D))

    def reset_head(self) -> None:
        """Fresh ``lm_head`` (trunc-normal 0.02, zero bias)."""
        std = self.config.init_std
        nn.init.trunc_normal_(self.lm_head.weight, std=std, a=-2 * std, b=2 * std)
        nn.init.zeros_(self.lm_head.bias)

    def forward_features(self, x: Tensor, channels: ChannelsLike, mask: Tensor | None) -> Tensor:
        """All tokens after the final LayerNorm.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
        channels : Tensor of int, shape (N,) or (B, N)
            Vocabulary indices.
        mask : Tensor of bool, shape (B, N * A), or None
            True = replace that patch by the mask token. None masks nothing.

        Returns
        -------
        Tensor, shape (B, 1 + N * A, dim)
        """
        tokens = self.backbone.embed(x)  # (B, N*A, D)
        if mask is not None:
            mask = mask.bool()
            if mask.shape != tokens.shape[:2]:
                raise ValueError(
                    f"Invalid mask: expected shape {tuple(tokens.shape[:2])} (B, N*A); "
                    f"got {tuple(mask.shape)}"
                )
            w = mask.unsqueeze(-1).to(tokens.dtype)
            tokens = tokens * (1 - w) + self.mask_token * w
        return self.norm(self.backbone.forward_tokens(tokens, channels, x.shape[2]))

    def forward_head(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """Code logits: all patch tokens ``(B, N*A, n_codes)``, or ``(n_masked, n_codes)``."""
        patch = tokens[:, 1:]
        return self.lm_head(patch if mask is None else patch[mask])

    def forward(self, x: Tensor, channels: ChannelsLike, mask: Tensor) -> Tensor:
        """Logits over the codes at the masked positions.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
        channels : Tensor of int, shape (N,) or (B, N)
        mask : Tensor of bool, shape (B, N * A)
            True = masked.

        Returns
        -------
        Tensor, shape (mask.sum(), n_codes)
            In the row-major order of ``mask``.
        """
        mask = mask.bool()
        return self.forward_head(self.forward_features(x, channels, mask), mask)

    def no_weight_decay(self) -> set[str]:
        """Names excluded from weight decay besides biases and 1-D tensors (as the original)."""
        return {"backbone.cls_token", "backbone.spatial_embed", "backbone.time_embed"}

    def layer_id(self, name: str) -> int:
        return wrapped_layer_id(name, self.config.depth)

    @property
    def n_layers(self) -> int:
        return self.config.depth + 2


class MEMOutput(TypedDict):
    """Loss and accuracies of one masked-modelling step."""

    loss: Tensor  # CE(masked) + CE(complement)
    loss_masked: Tensor
    loss_complement: Tensor
    accuracy: Tensor  # top-1 code accuracy on the masked patches
    accuracy_complement: Tensor  # ... on the complementary pass
    n_codes_used: Tensor  # distinct target codes in the batch (tokenizer usage)


def mem_loss(
    model: LaBraMForMEM,
    tokenizer: VQNSPTokenizer,
    x: Tensor,
    channels: ChannelsLike,
    *,
    mask: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> MEMOutput:
    """Symmetric masked-EEG-modelling loss with targets from a frozen tokenizer.

    Both passes (``mask`` and ``~mask``) run as one batch of ``2B``.

    Parameters
    ----------
    model : LaBraMForMEM
    tokenizer : VQNSPTokenizer
        Frozen; its codes of the unmasked input are the targets.
    x : Tensor, shape (B, N, A, 200), 0.1 mV
    channels : Tensor of int, shape (N,) or (B, N)
    mask : Tensor of bool, shape (B, N * A), optional
        Drawn with :func:`random_mask` (50%) when not given.
    """
    B, N, A, _ = x.shape
    if mask is None:
        mask = random_mask(B, N * A, generator=generator, device=x.device)
    else:
        check_mask(mask, B, N * A)
    with torch.no_grad():
        codes = tokenizer.encode(x, channels)  # (B, N*A)
    ch = torch.as_tensor(channels, dtype=torch.long, device=x.device)
    ch2 = ch if ch.ndim == 1 else torch.cat((ch, ch))
    both = torch.cat((mask, ~mask))  # (2B, N*A)
    logits = model(torch.cat((x, x)), ch2, both)  # masked rows of pass 1, then of pass 2
    n1 = int(mask.sum())
    targets = torch.cat((codes[mask], codes[~mask]))
    loss_1 = F.cross_entropy(logits[:n1], targets[:n1])
    loss_2 = F.cross_entropy(logits[n1:], targets[n1:])
    hits = (logits.detach().argmax(dim=-1) == targets).float()
    return MEMOutput(
        loss=loss_1 + loss_2,
        loss_masked=loss_1.detach(),
        loss_complement=loss_2.detach(),
        accuracy=hits[:n1].mean(),
        accuracy_complement=hits[n1:].mean(),
        n_codes_used=torch.unique(codes).numel() * torch.ones((), device=x.device),
    )
