"""Model configuration: one frozen dataclass per model family, with size presets.

The transformer's token width is fixed by the temporal convolution: each 200-sample patch becomes
25 time steps x ``conv_channels`` feature maps, flattened, so ``dim == 25 * conv_channels``
(8 -> 200 for base, 16 -> 400 for large, 32 -> 800 for huge). The ``tiny`` preset keeps that
rule with 4 conv channels (dim 100) so that the same code path runs in tests and the CPU demo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from eegprep.base.bounds import BOUNDS, MOST_MODEL_COUNT, check_number
from eegprep.base.errors import UsageError
from eegprep.base.validation import (
    check_choice,
    check_kinds,
    did_you_mean,
    invalid_value,
    parse_field,
)

PATCH_SIZE = 200
BLOCK_SECONDS = 300
"""Default span of one training read: the windows of a recording that start within it are cut
from one Zarr call (docs/benchmarks.md, section 3)."""
"""Samples per patch (1 s at 200 Hz)."""

CONV_WIDTH = 25
"""Time steps per patch after the strided first convolution (kernel 15, stride 8, pad 7)."""


class ModelConfigError(UsageError):
    """A model or tokenizer config that makes no valid model; names the field (also a
    ``ValueError``: exit status 2 in the CLI)."""


MAX_COUNT = MOST_MODEL_COUNT
"""The largest value a whole-number field of a config (a width, a depth, a table's rows, a
codebook's size, an iteration count) or a classifier's ``n_outputs`` may hold: LaBraM's largest
is 8192 (codes). A checkpoint's config may claim any number in a few bytes (a depth of 10^9);
one beyond this describes no model but a crafted file (the file's own weights then bound the
model further: :func:`parameter_floor`)."""

FLOAT_RANGES: dict[str, tuple[str, float, float, str]] = {
    # name: (interval, lowest, highest, closing): "[" / "(" say whether the lowest is allowed
    key.removeprefix("model."): ("(" if b.above else "[", b.low, b.high, ")" if b.below else "]")
    for key, b in BOUNDS.items()
    if key.startswith("model.") and not b.whole
}
"""The range of every float field of both configs (their ``model.`` entries of
:data:`eegprep.base.bounds.BOUNDS`; a checkpoint's config may give any number: one outside
describes no model this code trains, a negative ``init_std``, a layer scale of 1e30)."""


def check_float(name: str, value: object, *, error: type[Exception] = UsageError) -> float:
    """``value`` as float field ``name``: a number (an int or a float, or numpy's; not a bool,
    not text), finite, within its ``model.`` entry of :data:`~eegprep.base.bounds.BOUNDS`
    (:data:`FLOAT_RANGES`); else ``error`` naming ``name``, the value and the range (one
    line)."""
    return float(check_number(name, value, key=f"model.{name}", error=error))


def check_count(name: str, value: object, *, error: type[Exception] = UsageError) -> int:
    """``value`` as a count of ``name``: an int (or numpy's; not a bool, not a float such as
    ``12.0``) from 1 to :data:`MAX_COUNT`; else ``error`` naming ``name``, the value and the
    range (one line)."""
    return int(check_number(name, value, key="model.count", error=error))


def _check_types(cfg: ModelConfig | TokenizerConfig) -> None:
    """Each field of the type it is declared with (a config read from a file may hold a string
    or a NaN where a width belongs): ints are counts (:func:`check_count`: no bool, no float,
    1 to :data:`MAX_COUNT`), floats finite numbers in their range (:func:`check_float`), bools
    bools (:func:`~eegprep.base.validation.check_kinds`: a numpy bool taken as a plain one);
    the MLP's hidden width (``dim * mlp_ratio``) a count too."""
    check_kinds(cfg, error=ModelConfigError)
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        kind = str(f.type)
        if kind == "int":  # (kept as a plain int: a numpy scalar's config writes to JSON)
            object.__setattr__(cfg, f.name, check_count(f.name, value, error=ModelConfigError))
        elif kind == "float":
            object.__setattr__(cfg, f.name, check_float(f.name, value, error=ModelConfigError))
    hidden = int(cfg.dim * cfg.mlp_ratio)
    if not 1 <= hidden <= MAX_COUNT:
        raise invalid_value(
            "mlp_ratio", cfg.mlp_ratio, error=ModelConfigError,
            expected=f"a ratio that makes the MLP's width (dim {cfg.dim} x mlp_ratio) an "
            f"integer from 1 to {MAX_COUNT:,}; that is {hidden:,}",
        )  # fmt: skip


def check_table(cls: type, data: Any) -> dict[str, Any]:
    """``data`` as keyword arguments of config class ``cls``: a table (a dict) whose keys are
    all fields of ``cls`` (a checkpoint's config may hold anything); else a
    :class:`ModelConfigError` naming the first unknown key and the known ones (one line)."""
    if not isinstance(data, Mapping):
        raise ModelConfigError(f"a {type(data).__name__}, not a table of fields")
    known = [f.name for f in fields(cls)]
    for key in data:
        if key not in known:
            shown = repr(key) if len(repr(key)) <= 60 else repr(key)[:57] + "..."
            raise ModelConfigError(
                f"`{shown.strip(chr(39))}`: not a field of this model; known: "
                f"{', '.join(known)}.{did_you_mean(key, known)}"
            )
    return dict(data)


def _check_widths(cfg: ModelConfig | TokenizerConfig) -> None:
    """The rules every LaBraM transformer's config obeys (the model and the tokenizer's)."""
    _check_types(cfg)
    if cfg.conv_channels % 4:
        raise invalid_value(
            "conv_channels", cfg.conv_channels,
            expected="a multiple of 4 (GroupNorm uses 4 groups)", error=ModelConfigError,
        )  # fmt: skip
    if cfg.dim != CONV_WIDTH * cfg.conv_channels:
        raise invalid_value(
            "dim", cfg.dim,
            expected=f"{CONV_WIDTH} * conv_channels = {CONV_WIDTH * cfg.conv_channels}",
            error=ModelConfigError,
        )  # fmt: skip
    if cfg.dim % cfg.n_heads:
        raise invalid_value(
            "n_heads", cfg.n_heads, expected=f"a divisor of dim ({cfg.dim})",
            error=ModelConfigError,
        )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """The LaBraM transformer (pre-training and fine-tuning backbone).

    Defaults are LaBraM-Base, so that the released ``labram-base.pth`` loads with no arguments.
    """

    dim: int = 200  # token width; must be 25 * conv_channels (the patch encoder's output)
    depth: int = 12  # transformer blocks
    n_heads: int = 10  # head_dim 20 for base
    mlp_ratio: float = 4.0  # MLP hidden = 4 * dim, as released
    conv_channels: int = 8  # temporal-conv feature maps: 8 / 16 / 32 for base / large / huge
    n_spatial: int = 129  # spatial-embedding rows: CLS + the 128 addressable channel names
    n_time: int = 16  # time-embedding rows: at most 16 patches (16 s) per sample
    n_codes: int = 8192  # tokenizer vocabulary predicted by the MEM head
    qk_norm: bool = True  # LayerNorm over head_dim on q and k (LaBraM); off in the tokenizer
    qv_bias: bool = False  # q and v biases, no k bias (the tokenizer's blocks); off in LaBraM
    layer_scale_init: float = 0.1  # gamma_1/gamma_2 init; 0 disables layer scale (tokenizer)
    norm_eps: float = 1e-6  # every LayerNorm of the released weights uses 1e-6
    drop_path: float = 0.0  # stochastic depth at the last block (linear ramp); 0.1 to fine-tune
    init_std: float = 0.02  # trunc-normal std of linears and embeddings

    def __post_init__(self) -> None:
        _check_widths(self)

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def mlp_hidden(self) -> int:
        return int(self.dim * self.mlp_ratio)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        """The config a ``to_dict`` table (a checkpoint's) gives (:func:`check_table`)."""
        return cls(**check_table(cls, data))


MODEL_PRESETS: dict[str, ModelConfig] = {
    # tiny: 2 blocks of width 100 (4 conv channels), for tests and the CPU demo
    "tiny": ModelConfig(dim=100, depth=2, n_heads=4, conv_channels=4),
    "base": ModelConfig(),
    "large": ModelConfig(dim=400, depth=24, n_heads=16, conv_channels=16),
    "huge": ModelConfig(dim=800, depth=48, n_heads=16, conv_channels=32),
}


@dataclass(frozen=True, kw_only=True)
class TokenizerConfig:
    """The VQ-NSP neural tokenizer. Defaults are the released ``vqnsp.pth``."""

    dim: int = 200  # encoder and decoder width (25 * conv_channels)
    encoder_depth: int = 12
    decoder_depth: int = 3
    n_heads: int = 10
    mlp_ratio: float = 4.0
    conv_channels: int = 8
    n_spatial: int = 129
    n_time: int = 16
    n_codes: int = 8192  # codebook size
    code_dim: int = 64  # codebook vector width (L2-normalised)
    decay: float = 0.99  # EMA decay of the codebook and of the usage statistics
    beta: float = 1.0  # commitment-loss weight
    kmeans_iters: int = 10  # cosine k-means iterations for the first-batch codebook init
    revive_dead_codes: bool = True  # the original never revives (codebook collapse, issue #37)
    dead_after: int = 100  # training steps without a single assignment before a code is revived
    norm_eps: float = 1e-6
    init_std: float = 0.02

    def __post_init__(self) -> None:
        _check_widths(self)

    def backbone_config(self, depth: int) -> ModelConfig:
        """The transformer config of the encoder (or the decoder, with its depth).

        The tokenizer's blocks have q/v biases, no QK-norm and no layer scale.
        """
        return ModelConfig(
            dim=self.dim,
            depth=depth,
            n_heads=self.n_heads,
            mlp_ratio=self.mlp_ratio,
            conv_channels=self.conv_channels,
            n_spatial=self.n_spatial,
            n_time=self.n_time,
            n_codes=self.n_codes,
            qk_norm=False,
            qv_bias=True,
            layer_scale_init=0.0,
            norm_eps=self.norm_eps,
            init_std=self.init_std,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TokenizerConfig:
        """The config a ``to_dict`` table (a checkpoint's) gives (:func:`check_table`)."""
        return cls(**check_table(cls, data))


TOKENIZER_PRESETS: dict[str, TokenizerConfig] = {
    # tiny: small codebook so that k-means and EMA tests run in milliseconds
    "tiny": TokenizerConfig(
        dim=100,
        encoder_depth=2,
        decoder_depth=1,
        n_heads=4,
        conv_channels=4,
        n_codes=256,
        code_dim=16,
    ),
    "base": TokenizerConfig(),
    # the original's vqnsp_encoder_large: a 24-block encoder of the same width (never released)
    "large": TokenizerConfig(encoder_depth=24),
}


def _lookup(presets: dict[str, Any], size: str, what: str) -> Any:
    check_choice("size", size, presets, hint=f"({what} presets)", error=ModelConfigError)
    return presets[size]


def _override(cfg: Any, overrides: dict[str, Any]) -> Any:
    """``cfg`` with ``overrides``, each parsed against its field's type (unknown names and
    values of the wrong type are a ModelConfigError naming the field)."""
    try:
        parsed = {k: parse_field(type(cfg), k, v) for k, v in overrides.items()}
    except ModelConfigError:
        raise
    except ValueError as exc:
        raise ModelConfigError(str(exc)) from None
    return replace(cfg, **parsed)


def model_config(size: str = "base", **overrides: Any) -> ModelConfig:
    """The preset ``size`` ('tiny', 'base', 'large', 'huge') with field overrides."""
    return _override(_lookup(MODEL_PRESETS, size, "model"), overrides)


def tokenizer_config(size: str = "base", **overrides: Any) -> TokenizerConfig:
    """The tokenizer preset ``size`` ('tiny', 'base', 'large') with field overrides."""
    return _override(_lookup(TOKENIZER_PRESETS, size, "tokenizer"), overrides)


def parameter_floor(config: ModelConfig | TokenizerConfig, n_outputs: int = 0) -> int:
    """A lower bound of the parameters a model of ``config`` has (its blocks' attention and MLP
    matrices, its embedding tables, a classifier head of ``n_outputs``), computed without
    building it: a crafted checkpoint can claim a depth of 10^7, which even PyTorch's ``meta``
    device takes minutes to build."""
    per_block = int((4 + 2 * max(config.mlp_ratio, 0.0)) * config.dim**2)
    tables = (config.n_spatial + config.n_time) * config.dim
    if isinstance(config, TokenizerConfig):
        blocks = config.encoder_depth + config.decoder_depth
        return blocks * per_block + 2 * tables + config.n_codes * config.code_dim
    return config.depth * per_block + tables + config.dim * n_outputs
