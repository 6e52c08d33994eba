"""The released LaBraM layouts' parameter names against ours (pure functions on state dicts).

Three layouts of the original code (names in tests/labram/data/labram-checkpoint-layout.txt):

- pre-training (``labram-base.pth``): ``student.*`` + top-level ``lm_head`` + ``projection_head``;
- fine-tuning: the student's names without the prefix, ``fc_norm`` and ``head``;
- tokenizer (``vqnsp.pth``): ``encoder.*``, ``decoder.*``, ``quantize.*``, task layers.

A loaded checkpoint's state dict is found inside its wrappers (:func:`unwrap`), its layout told
by sentinel keys (:func:`detect_kind`), its model's size read from tensor shapes
(:func:`infer_model_config`, :func:`infer_tokenizer_config`), and its names converted
(:func:`official_to_ours`, :func:`ours_to_official`): rename by a list of (old prefix, new
prefix) pairs, reshape where our layer differs (the decoder's 1x1 convolution is a Linear
here), and fill the few tensors a layout lacks from the model, saying so. Reading files and
building models is :mod:`labram.checkpoints.layouts`'.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from torch import Tensor, nn

from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.wrappers import unwrap
from labram.model.config import TOKENIZER_PRESETS, ModelConfig, TokenizerConfig

Kind = Literal["mem", "classifier", "tokenizer"]
KINDS: tuple[str, ...] = ("mem", "classifier", "tokenizer")
StateDict = dict[str, Tensor]

# (official prefix, our prefix); first match wins, so specific entries come first.
_BACKBONE = [
    ("pos_embed", "spatial_embed"),
    ("cls_token", "cls_token"),
    ("time_embed", "time_embed"),
    ("patch_embed.", "patch_embed."),
    ("blocks.", "blocks."),
]
MEM_RENAMES: list[tuple[str, str]] = [
    ("student.mask_token", "mask_token"),
    ("student.norm.", "norm."),
    ("student.lm_head.weight", "legacy_student_lm_head_weight"),
    ("student.lm_head.bias", "legacy_student_lm_head_bias"),
    ("projection_head.0.weight", "legacy_projection_head_weight"),
    ("projection_head.0.bias", "legacy_projection_head_bias"),
    ("lm_head.", "lm_head."),
    *((f"student.{a}", f"backbone.{b}") for a, b in _BACKBONE),
]
CLASSIFIER_RENAMES: list[tuple[str, str]] = [
    ("fc_norm.", "fc_norm."),
    ("head.", "head."),
    *((a, f"backbone.{b}") for a, b in _BACKBONE),
]
TOKENIZER_RENAMES: list[tuple[str, str]] = [
    ("encoder.fc_norm.", "encoder_norm."),
    ("decoder.fc_norm.", "decoder_norm."),
    ("decoder.patch_embed.proj.", "decoder_in."),
    ("quantize.embedding.weight", "quantizer.codebook"),
    ("quantize.embedding.cluster_size", "quantizer.legacy_cluster_size"),
    ("quantize.embedding.embed_avg", "quantizer.legacy_embed_avg"),
    ("quantize.embedding.initted", "quantizer.initted"),
    ("quantize.cluster_size", "quantizer.cluster_size"),
    ("encode_task_layer.", "to_code."),
    ("decode_task_layer_angle.", "phase_head."),
    ("decode_task_layer.", "amplitude_head."),
    *((f"encoder.{a}", f"encoder.{b}") for a, b in _BACKBONE),
    *((f"decoder.{a}", f"decoder.{b}") for a, b in _BACKBONE),
]
RENAMES: dict[str, list[tuple[str, str]]] = {
    "mem": MEM_RENAMES,
    "classifier": CLASSIFIER_RENAMES,
    "tokenizer": TOKENIZER_RENAMES,
}
# Official keys a file may lack: filled from the model (freshly initialised), with a warning.
_OPTIONAL_OFFICIAL: dict[str, tuple[str, ...]] = {
    "mem": ("lm_head.", "student.lm_head.", "projection_head."),
    "classifier": ("fc_norm.", "head."),
    "tokenizer": (),
}


_HEADS = ("lm_head.", "student.lm_head.", "projection_head.0.", "fc_norm.", "head.")
"""The layers a released file may leave out whole (:data:`_OPTIONAL_OFFICIAL`), each a
``weight`` and a ``bias``: a file holding one of the two holds a damaged layer, not none."""


def check_whole_heads(sd: Mapping[str, Tensor]) -> None:
    """Refuse, in one line naming the missing key, a head (:data:`_HEADS`) the state dict
    holds in part: ``lm_head.bias`` without ``lm_head.weight`` was filled with fresh values
    behind a warning, and ``head.bias`` without ``head.weight`` was judged against a
    one-output head ("claims shape (2,) where ... has (1,)")."""
    for prefix in _HEADS:
        held = [k for k in (f"{prefix}weight", f"{prefix}bias") if k in sd]
        if len(held) == 1:
            missing = f"{prefix}bias" if held[0].endswith("weight") else f"{prefix}weight"
            raise CheckpointError(
                f"holds {held[0]!r} but not {missing!r}: a layer in part is a damaged or "
                "cut-down file, not one without that head: save the model's whole state dict "
                "again, or leave both keys out"
            )


def _rename(key: str, pairs: list[tuple[str, str]]) -> str | None:
    for old, new in pairs:
        if key.startswith(old):
            return new + key[len(old) :]
    return None


def ours_kind(sd: Mapping[str, Tensor]) -> Kind | None:
    """Which of our models a state dict in our own names comes from (``model.state_dict()``
    of a :class:`LaBraMClassifier`, :class:`LaBraMForMEM` or :class:`VQNSPTokenizer`), by
    sentinel keys no released layout has; None when it is not in our names."""
    if "quantizer.codebook" in sd and "encoder.spatial_embed" in sd:
        return "tokenizer"
    if "backbone.cls_token" in sd:
        return "mem" if "mask_token" in sd else "classifier"
    return None


def released_state(obj: Any) -> StateDict:
    """The state dict inside a loaded checkpoint (:func:`unwrap`) under a released layout's
    names (pure). One in our own names (our model's ``state_dict()`` saved by a user's own
    training code, DDP-wrapped or compiled or not: it states no config) is renamed by
    :func:`ours_to_official`, so that its keys and shapes give its model as a released file's
    do."""
    sd = unwrap(obj)
    kind = ours_kind(sd)
    return sd if kind is None else ours_to_official(sd, kind)


_HALF_SENTINELS = (
    ("tokenizer", "encoder.cls_token", "quantize.embedding.weight", "encoder.time_embed"),
    ("classifier", "cls_token", "blocks.0.norm1.weight", "time_embed"),
)
"""(kind, a sentinel key, the other that must be beside it, LaBraM's own time table): a LaBraM
file holding the first alone lacks the second (a cut-down file), which is said, not "none of
the sentinel keys" (another model's file, without the time table, still is not LaBraM's)."""
_OUR_NAME = {"quantize.embedding.weight": " (ours: 'quantizer.codebook')"}


def detect_kind(sd: Mapping[str, Tensor]) -> Kind:
    """Which official layout a state dict is in, from sentinel keys."""
    if "student.cls_token" in sd:
        return "mem"
    if "encoder.cls_token" in sd and "quantize.embedding.weight" in sd:
        return "tokenizer"
    if "cls_token" in sd and "blocks.0.norm1.weight" in sd:
        return "classifier"
    for kind, present, lacking, labram_own in _HALF_SENTINELS:
        if present in sd and labram_own in sd and lacking not in sd:
            raise CheckpointError(
                f"a LaBraM {kind} checkpoint that lacks a weight every {kind} has: it holds "
                f"{present!r} but not {lacking!r}{_OUR_NAME.get(lacking, '')}: save the model's "
                "whole state dict again (labram convert of the full file, or "
                "safetensors.torch.save_file(model.state_dict(), FILE))"
            )
    raise CheckpointError(
        "not a LaBraM checkpoint in a released layout: none of the sentinel keys "
        "'student.cls_token' (pre-training), 'encoder.cls_token' + 'quantize.embedding.weight' "
        f"(tokenizer), 'cls_token' (fine-tuning) found; first keys: {sorted(sd)[:5]}"
    )


def _depth(sd: Mapping[str, Tensor], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"blocks\.([0-9]+)\.")  # (``blocks.٣.``: no block)
    ids = [int(m.group(1)) for k in sd if (m := pattern.match(k))]
    return max(ids) + 1 if ids else 0


def infer_model_config(sd: Mapping[str, Tensor], prefix: str = "") -> ModelConfig:
    """A :class:`ModelConfig` from the shapes of an official pre-training / fine-tuning dict."""
    try:
        dim = sd[f"{prefix}cls_token"].shape[-1]
        head_dim = sd[f"{prefix}blocks.0.attn.q_norm.weight"].shape[0]
        return ModelConfig(
            dim=dim,
            depth=_depth(sd, prefix),
            n_heads=dim // head_dim,
            mlp_ratio=sd[f"{prefix}blocks.0.mlp.fc1.weight"].shape[0] / dim,
            conv_channels=sd[f"{prefix}patch_embed.conv1.weight"].shape[0],
            n_spatial=sd[f"{prefix}pos_embed"].shape[1],
            n_time=sd[f"{prefix}time_embed"].shape[1],
            n_codes=next(  # (the student's own lm_head where the top-level one is left out)
                (sd[k].shape[0] for k in ("lm_head.weight", f"{prefix}lm_head.weight") if k in sd),
                8192,
            ),
            layer_scale_init=0.1 if f"{prefix}blocks.0.gamma_1" in sd else 0.0,
            qv_bias=f"{prefix}blocks.0.attn.q_bias" in sd,  # the original's qkv_bias option
        )
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"cannot infer the model size from the checkpoint: {exc}") from exc


def infer_tokenizer_config(sd: Mapping[str, Tensor]) -> TokenizerConfig:
    """A :class:`TokenizerConfig` from the shapes of an official tokenizer dict.

    Head counts are not visible in the tokenizer's tensors (no QK-norm): they are taken from the
    preset of the same width (10 heads at width 200, 4 at 100).
    """
    try:
        dim = sd["encoder.cls_token"].shape[-1]
        heads = {p.dim: p.n_heads for p in TOKENIZER_PRESETS.values()}
        if dim not in heads:
            raise CheckpointError(
                f"tokenizer width {dim} has no preset: pass a TokenizerConfig (n_heads)"
            )
        n_codes, code_dim = sd["quantize.embedding.weight"].shape
        return TokenizerConfig(
            dim=dim,
            encoder_depth=_depth(sd, "encoder."),
            decoder_depth=_depth(sd, "decoder."),
            n_heads=heads[dim],
            mlp_ratio=sd["encoder.blocks.0.mlp.fc1.weight"].shape[0] / dim,
            conv_channels=sd["encoder.patch_embed.conv1.weight"].shape[0],
            n_spatial=sd["encoder.pos_embed"].shape[1],
            n_time=sd["encoder.time_embed"].shape[1],
            n_codes=n_codes,
            code_dim=code_dim,
        )
    except KeyError as exc:
        raise CheckpointError(
            f"cannot infer the tokenizer size from the checkpoint: {exc}"
        ) from exc


def official_to_ours(sd: Mapping[str, Tensor], model: nn.Module, kind: Kind) -> StateDict:
    """Convert an official state dict to ``model``'s names (pure: returns a new dict).

    Tensors our model has and the official layout lacks (our persistent state the original does
    not keep, or an absent optional head) are taken from ``model``; an absent optional head is
    reported with a warning. Unknown official keys are kept under their own names so that the
    strict load reports them.
    """
    pairs = RENAMES[kind]
    ours = model.state_dict()
    out: StateDict = {}
    for key, value in sd.items():
        new = _rename(key, pairs)
        if new is None:
            out[key] = value
            continue
        if new in ours and value.ndim != ours[new].ndim and value.numel() == ours[new].numel():
            value = value.reshape(ours[new].shape)  # 1x1 conv <-> linear
        out[new] = value
    official_names = set(ours_to_official(ours, kind))
    filled: list[str] = []
    for key in sorted(official_names - set(sd)):
        if not key.startswith(_OPTIONAL_OFFICIAL[kind]):
            continue  # reported as missing by the strict load
        new = _rename(key, pairs)
        assert new is not None
        out[new] = ours[new]
        if not new.startswith("legacy_"):
            filled.append(key)
    if filled and set(out) == set(ours):  # (a file the strict load refuses: its line alone)
        warnings.warn(
            f"checkpoint has no {', '.join(filled)}: freshly initialised here (train before use)",
            stacklevel=3,
        )
    return out


def official_name(key: str, kind: Kind) -> str | None:
    """The official name of our parameter ``key`` in layout ``kind``; None when it has none."""
    return _rename(key, [(new, old) for old, new in RENAMES[kind]])


def ours_to_official(sd: Mapping[str, Tensor], kind: Kind) -> StateDict:
    """Convert our state dict to the official names and shapes (pure)."""
    out: StateDict = {}
    for key, value in sd.items():
        old = official_name(key, kind)
        if old is None:
            raise CheckpointError(f"no official name for '{key}' ({kind})")
        if old == "decoder.patch_embed.proj.weight" and value.ndim == 2:
            value = value.reshape(*value.shape, 1, 1)  # our Linear -> their 1x1 Conv2d
        out[old] = value
    return out
