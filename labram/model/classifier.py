"""The fine-tuning model: backbone -> mean of patch tokens -> LayerNorm -> linear head.

Also the optimiser parameter groups of the recipe: layer-wise lr decay and the weight-decay
exclusions.
"""

from __future__ import annotations

from torch import Tensor, nn

from eegprep.base.bounds import check_number
from labram.model.backbone import Backbone, ChannelsLike, wrapped_layer_id
from labram.model.config import ModelConfig


class LaBraMClassifier(nn.Module):
    """LaBraM for classification or regression.

    Parameters
    ----------
    config : ModelConfig
        Backbone sizes (set ``drop_path=0.1`` for the recipe).
    n_outputs : int
        Logits (1 for a binary task with BCE, n classes, or regression targets).
    head_init_scale : float
        The head's trunc-normal init is multiplied by this (0.001 in the recipe).
    """

    def __init__(
        self, config: ModelConfig, n_outputs: int = 1, *, head_init_scale: float = 0.001
    ) -> None:
        super().__init__()
        n_outputs = int(check_number("n_outputs", n_outputs))  # (as `labram convert` takes)
        head_init_scale = check_number("head_init_scale", head_init_scale)  # (NaN: a NaN head)
        self.config = config
        self.n_outputs = n_outputs
        self.backbone = Backbone(config, cls_from_first_channel=False)
        self.fc_norm = nn.LayerNorm(config.dim, eps=config.norm_eps)
        self.head = nn.Linear(config.dim, n_outputs)
        self.reset_head(head_init_scale)

    def reset_head(self, init_scale: float = 0.001) -> None:
        """Fresh ``fc_norm`` and head (trunc-normal 0.02 x ``init_scale``, zero bias)."""
        std = self.config.init_std
        nn.init.ones_(self.fc_norm.weight)
        nn.init.zeros_(self.fc_norm.bias)
        nn.init.trunc_normal_(self.head.weight, std=std, a=-2 * std, b=2 * std)
        self.head.weight.data.mul_(init_scale)
        nn.init.zeros_(self.head.bias)

    def forward_features(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        """x : (B, N, A, 200) 0.1 mV -> all tokens ``(B, 1 + N*A, dim)`` (CLS first)."""
        return self.backbone.forward_features(x, channels)

    def forward_head(self, tokens: Tensor, *, pre_logits: bool = False) -> Tensor:
        """Mean of the patch tokens (CLS excluded) -> ``fc_norm`` -> head.

        Returns ``(B, n_outputs)`` logits, or the ``(B, dim)`` pooled features if
        ``pre_logits``.
        """
        pooled = self.fc_norm(tokens[:, 1:].mean(dim=1))  # (B, D)
        return pooled if pre_logits else self.head(pooled)

    def forward(self, x: Tensor, channels: ChannelsLike) -> Tensor:
        """Logits.

        Parameters
        ----------
        x : Tensor, shape (B, N, A, 200), 0.1 mV
            A <= 16 patches of 1 s.
        channels : Tensor of int, shape (N,) or (B, N)
            Vocabulary indices of the input channels.

        Returns
        -------
        Tensor, shape (B, n_outputs)
        """
        return self.forward_head(self.forward_features(x, channels))

    def freeze_backbone(self) -> None:
        """Linear probe: only ``head`` trains (as timm's and MAE's linear probing).

        Every backbone parameter and ``fc_norm`` get ``requires_grad = False``, so
        :func:`param_groups` leaves them out of the optimiser (no weight-decay group either).
        ``fc_norm`` keeps its fresh affine (ones, zeros): the head sees the pooled features
        layer-normalised, as MAE's probe puts a non-affine BatchNorm before its head.
        """
        for p in [*self.backbone.parameters(), *self.fc_norm.parameters()]:
            p.requires_grad_(False)

    def no_weight_decay(self) -> set[str]:
        """Parameter names excluded from weight decay besides biases and 1-D tensors."""
        return {"backbone.cls_token", "backbone.spatial_embed", "backbone.time_embed"}

    def layer_id(self, name: str) -> int:
        """Layer of a parameter name for layer-wise lr decay (0 .. depth + 1)."""
        return wrapped_layer_id(name, self.config.depth)

    @property
    def n_layers(self) -> int:
        """Layers counted by layer decay: embeddings, the blocks, the head."""
        return self.config.depth + 2
