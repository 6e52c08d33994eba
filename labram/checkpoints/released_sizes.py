"""The sizes a file in a released layout may describe: a released architecture, or a bounded one.

A file in a released layout has no config: its keys and shapes say how large its model is, and
a crafted file whose every tensor fits that model (a depth of 64 at width 400: 520 MB of
claims, a sparse file of 1 MB on disk) was read in full. Such a file must now describe one of
the architectures the authors built (:data:`RELEASED_ARCHITECTURES`: LaBraM-Base, -Large,
-Huge and the VQ-NSP tokenizer, at any classifier head), or a model of at most
:func:`unreleased_limit` parameters (:data:`MAX_UNRELEASED_PARAMETERS`, or what the user names
in :data:`UNRELEASED_VARIABLE`). A file in our own format states its config and is judged
against it (:mod:`labram.checkpoints.claims`).
"""

from __future__ import annotations

import os

from eegprep.base.validation import WHOLE_TEXT
from eegprep.base.wording import counted
from labram.checkpoints.errors import CheckpointError
from labram.model.config import MODEL_PRESETS, TOKENIZER_PRESETS, ModelConfig, TokenizerConfig

RELEASED_ARCHITECTURES: dict[str, ModelConfig | TokenizerConfig] = {
    "LaBraM-Base": MODEL_PRESETS["base"],
    "LaBraM-Large": MODEL_PRESETS["large"],
    "LaBraM-Huge": MODEL_PRESETS["huge"],
    "VQ-NSP": TOKENIZER_PRESETS["base"],
}
"""The architectures of the paper and the released code (docs/model.md): a file in a released
layout whose shapes make one of them is judged against that model, at any size up to Huge's."""

_SHAPE = {
    ModelConfig: ("dim", "depth", "n_heads", "mlp_ratio", "conv_channels", "n_spatial", "n_time",
                  "n_codes"),
    TokenizerConfig: ("dim", "encoder_depth", "decoder_depth", "mlp_ratio", "conv_channels",
                      "n_spatial", "n_time", "n_codes", "code_dim"),
}  # fmt: skip
"""The fields that make an architecture's size (the rest: options that hold no weights)."""

MAX_UNRELEASED_PARAMETERS = 25_000_000
"""The most parameters a model of no released architecture may have for its file in a released
layout to be read (100 MB of float32): over twice the largest released file of its kind,
``labram-base.pth`` (9.4 M) and ``vqnsp.pth`` (8.6 M), so that a smaller or reshaped model
trained with the original code loads as it is."""

UNRELEASED_VARIABLE = "LABRAM_UNRELEASED_PARAMETERS"
"""The environment variable that names another limit than :data:`MAX_UNRELEASED_PARAMETERS`:
a number of parameters (``200000000``), for a larger model of one's own in a released
layout."""


def released_architecture(config: ModelConfig | TokenizerConfig) -> str | None:
    """The name of the released architecture ``config`` (inferred from a file's shapes) is,
    or None."""
    fields = _SHAPE[type(config)]
    for name, known in RELEASED_ARCHITECTURES.items():
        if type(known) is type(config) and all(
            getattr(known, f) == getattr(config, f) for f in fields
        ):
            return name
    return None


def shape_of(config: ModelConfig | TokenizerConfig) -> str:
    """``config``'s size in words, for messages (``dim 400, depth 64``)."""
    if isinstance(config, TokenizerConfig):
        depth = f"depth {config.encoder_depth} + {config.decoder_depth}"
        return f"dim {config.dim}, {depth}, {counted(config.n_codes, 'code')} of {config.code_dim}"
    return f"dim {config.dim}, depth {config.depth}, MLP {config.mlp_hidden}"


def unreleased_limit() -> int:
    """The most parameters a model of no released architecture may have: the value of
    :data:`UNRELEASED_VARIABLE`, else :data:`MAX_UNRELEASED_PARAMETERS`.

    Raises
    ------
    CheckpointError
        The variable is set to something that is no count of parameters (one line).
    """
    text = os.environ.get(UNRELEASED_VARIABLE)
    if text is None or not text.strip():
        return MAX_UNRELEASED_PARAMETERS
    # (ASCII digits alone, as every number setting: int() also read ``٣`` as 3)
    whole = WHOLE_TEXT.fullmatch(text.strip()) is not None
    value = int(text.strip().replace("_", "")) if whole else -1
    if value < 0:
        raise CheckpointError(
            f"{UNRELEASED_VARIABLE}={text!r} is not a number of parameters: set it to a whole "
            f"number (default {MAX_UNRELEASED_PARAMETERS}), or unset it"
        )
    return value


__all__ = [
    "MAX_UNRELEASED_PARAMETERS",
    "RELEASED_ARCHITECTURES",
    "UNRELEASED_VARIABLE",
    "released_architecture",
    "shape_of",
    "unreleased_limit",
]
