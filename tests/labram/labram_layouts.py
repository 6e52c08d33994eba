"""Fabricated state dicts in the released LaBraM layouts (helpers of the labram tests)."""

from __future__ import annotations

import torch
from torch import Tensor

SIZES = {  # name: (dim, depth, conv_channels, heads)
    "tiny": (100, 2, 4, 4),
    "base": (200, 12, 8, 10),
    "large": (400, 24, 16, 16),
    "huge": (800, 48, 32, 16),
}


def backbone_layout(prefix: str, dim: int, depth: int, conv: int, heads: int, *, tokenizer: bool):
    """Names and shapes of one transformer in the released layout (written from the layout file)."""
    out: dict[str, tuple[int, ...]] = {
        f"{prefix}cls_token": (1, 1, dim),
        f"{prefix}pos_embed": (1, 129, dim),
        f"{prefix}time_embed": (1, 16, dim),
    }
    if conv:
        out[f"{prefix}patch_embed.conv1.weight"] = (conv, 1, 1, 15)
        out[f"{prefix}patch_embed.conv1.bias"] = (conv,)
        for i in (1, 2, 3):
            if i > 1:
                out[f"{prefix}patch_embed.conv{i}.weight"] = (conv, conv, 1, 3)
                out[f"{prefix}patch_embed.conv{i}.bias"] = (conv,)
            out[f"{prefix}patch_embed.norm{i}.weight"] = (conv,)
            out[f"{prefix}patch_embed.norm{i}.bias"] = (conv,)
    hd = dim // heads
    for b in range(depth):
        p = f"{prefix}blocks.{b}."
        if not tokenizer:
            out[p + "gamma_1"] = (dim,)
            out[p + "gamma_2"] = (dim,)
        out[p + "norm1.weight"] = (dim,)
        out[p + "norm1.bias"] = (dim,)
        if tokenizer:
            out[p + "attn.q_bias"] = (dim,)
            out[p + "attn.v_bias"] = (dim,)
        out[p + "attn.qkv.weight"] = (3 * dim, dim)
        if not tokenizer:
            for n in ("q_norm", "k_norm"):
                out[p + f"attn.{n}.weight"] = (hd,)
                out[p + f"attn.{n}.bias"] = (hd,)
        out[p + "attn.proj.weight"] = (dim, dim)
        out[p + "attn.proj.bias"] = (dim,)
        out[p + "norm2.weight"] = (dim,)
        out[p + "norm2.bias"] = (dim,)
        out[p + "mlp.fc1.weight"] = (4 * dim, dim)
        out[p + "mlp.fc1.bias"] = (4 * dim,)
        out[p + "mlp.fc2.weight"] = (dim, 4 * dim)
        out[p + "mlp.fc2.bias"] = (dim,)
    return out


def mem_layout(
    size: str | tuple[int, int, int, int], n_codes: int = 8192
) -> dict[str, tuple[int, ...]]:
    """``size``: a name of :data:`SIZES`, or its (dim, depth, conv_channels, heads)."""
    dim, depth, conv, heads = SIZES[size] if isinstance(size, str) else size
    out = backbone_layout("student.", dim, depth, conv, heads, tokenizer=False)
    out["student.mask_token"] = (1, 1, dim)
    out["student.norm.weight"] = (dim,)
    out["student.norm.bias"] = (dim,)
    out["student.lm_head.weight"] = (n_codes, dim)
    out["student.lm_head.bias"] = (n_codes,)
    out["lm_head.weight"] = (n_codes, dim)
    out["lm_head.bias"] = (n_codes,)
    out["projection_head.0.weight"] = (dim, dim)
    out["projection_head.0.bias"] = (dim,)
    return out


def classifier_layout(size: str, n_outputs: int = 1) -> dict[str, tuple[int, ...]]:
    dim, depth, conv, heads = SIZES[size]
    out = backbone_layout("", dim, depth, conv, heads, tokenizer=False)
    out["fc_norm.weight"] = (dim,)
    out["fc_norm.bias"] = (dim,)
    out["head.weight"] = (n_outputs, dim)
    out["head.bias"] = (n_outputs,)
    return out


def tokenizer_layout(
    dim: int = 200,
    depth: int = 12,
    conv: int = 8,
    heads: int = 10,
    n_codes: int = 8192,
    code_dim: int = 64,
    decoder_depth: int = 3,
) -> dict[str, tuple[int, ...]]:
    out = backbone_layout("encoder.", dim, depth, conv, heads, tokenizer=True)
    out["encoder.fc_norm.weight"] = (dim,)
    out["encoder.fc_norm.bias"] = (dim,)
    out.update(backbone_layout("decoder.", dim, decoder_depth, 0, heads, tokenizer=True))
    out["decoder.patch_embed.proj.weight"] = (dim, code_dim, 1, 1)
    out["decoder.patch_embed.proj.bias"] = (dim,)
    out["decoder.fc_norm.weight"] = (dim,)
    out["decoder.fc_norm.bias"] = (dim,)
    out["quantize.cluster_size"] = (n_codes,)
    out["quantize.embedding.weight"] = (n_codes, code_dim)
    out["quantize.embedding.cluster_size"] = (n_codes,)
    out["quantize.embedding.embed_avg"] = (n_codes, code_dim)
    out["quantize.embedding.initted"] = (1,)
    for name, o in (
        ("encode_task_layer", code_dim),
        ("decode_task_layer", 200),
        ("decode_task_layer_angle", 200),
    ):
        out[f"{name}.0.weight"] = (dim, dim)
        out[f"{name}.0.bias"] = (dim,)
        out[f"{name}.2.weight"] = (o, dim)
        out[f"{name}.2.bias"] = (o,)
    return out


def fabricate(layout: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, Tensor]:
    """Random tensors with the given names and shapes, scaled like trained weights."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, Tensor] = {}
    for name, shape in layout.items():
        t = torch.randn(shape, generator=g)
        leaf = name.rsplit(".", 1)[-1]
        if "norm" in name and leaf == "weight" and len(shape) == 1:
            t = 1.0 + 0.1 * t
        elif leaf.startswith("gamma"):
            t = 0.1 + 0.05 * t
        elif name.endswith("initted"):
            t = torch.ones(shape)
        elif name.endswith("cluster_size"):
            t = t.abs()
        elif name == "quantize.embedding.weight":
            t = torch.nn.functional.normalize(t, dim=-1)
        elif "conv" in name and leaf == "weight":
            t = 0.2 * t
        else:
            t = 0.05 * t
        sd[name] = t
    return sd
