"""Our forward passes against an independent re-implementation of the original's forward.

The reference below works directly on a state dict in the released layout, written the way the
original computes (explicit attention matrices, the original's embedding indexing with a leading
CLS entry in ``input_chans``, in-place time embedding). Weights are fabricated with the released
names and shapes; our model loads them strictly through :func:`labram.load_official`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from labram_layouts import (
    SIZES,
    classifier_layout,
    fabricate,
    mem_layout,
    tokenizer_layout,
)
from torch import Tensor

import labram
from labram.model.mem import random_mask

# the released checkpoints' parameter listing (names and shapes), copied from the team's shared
# notes so that the test runs from any clone
LAYOUT_FILE = Path(__file__).resolve().parent / "data" / "labram-checkpoint-layout.txt"


# ---------------------------------------------------------------- the reference, original-style
def ref_patch_embed(sd: dict[str, Tensor], p: str, x: Tensor) -> Tensor:
    B, N, A, T = x.shape
    h = x.reshape(B, N * A, T).unsqueeze(1)
    h = F.conv2d(h, sd[p + "conv1.weight"], sd[p + "conv1.bias"], stride=(1, 8), padding=(0, 7))
    h = F.gelu(F.group_norm(h, 4, sd[p + "norm1.weight"], sd[p + "norm1.bias"], eps=1e-5))
    for i in (2, 3):
        h = F.conv2d(h, sd[p + f"conv{i}.weight"], sd[p + f"conv{i}.bias"], padding=(0, 1))
        h = F.gelu(F.group_norm(h, 4, sd[p + f"norm{i}.weight"], sd[p + f"norm{i}.bias"], eps=1e-5))
    C = h.shape[1]
    # 'B C NA T -> B NA (T C)' written as an explicit gather of feature t*C + c
    out = torch.empty(B, N * A, h.shape[-1] * C)
    for t in range(h.shape[-1]):
        for c in range(C):
            out[:, :, t * C + c] = h[:, c, :, t]
    return out


def ref_attention(sd: dict[str, Tensor], p: str, x: Tensor, heads: int) -> Tensor:
    B, L, _ = x.shape
    bias = None
    if p + "q_bias" in sd:
        bias = torch.cat((sd[p + "q_bias"], torch.zeros_like(sd[p + "v_bias"]), sd[p + "v_bias"]))
    qkv = F.linear(x, sd[p + "qkv.weight"], bias).reshape(B, L, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if p + "q_norm.weight" in sd:
        hd = q.shape[-1]
        q = F.layer_norm(q, (hd,), sd[p + "q_norm.weight"], sd[p + "q_norm.bias"], eps=1e-6)
        k = F.layer_norm(k, (hd,), sd[p + "k_norm.weight"], sd[p + "k_norm.bias"], eps=1e-6)
    q = q * q.shape[-1] ** -0.5
    attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(B, L, -1)
    return F.linear(out, sd[p + "proj.weight"], sd[p + "proj.bias"])


def ref_ln(sd: dict[str, Tensor], p: str, x: Tensor) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), sd[p + "weight"], sd[p + "bias"], eps=1e-6)


def ref_block(sd: dict[str, Tensor], p: str, x: Tensor, heads: int) -> Tensor:
    y = ref_attention(sd, p + "attn.", ref_ln(sd, p + "norm1.", x), heads)
    if p + "gamma_1" in sd:
        y = sd[p + "gamma_1"] * y
    x = x + y
    h = ref_ln(sd, p + "norm2.", x)
    y = F.linear(
        F.gelu(F.linear(h, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
        sd[p + "mlp.fc2.weight"],
        sd[p + "mlp.fc2.bias"],
    )
    if p + "gamma_2" in sd:
        y = sd[p + "gamma_2"] * y
    return x + y


def ref_transformer(sd, p, tokens, input_chans, n_patches, heads, *, pretrain=False):
    """The original's embeddings + blocks; ``input_chans`` = [0] + [index + 1, ...]."""
    B = tokens.shape[0]
    x = torch.cat((sd[p + "cls_token"].expand(B, -1, -1), tokens), dim=1)
    used = sd[p + "pos_embed"][:, input_chans]
    pos = used[:, 1:, :].unsqueeze(2).expand(B, -1, n_patches, -1).flatten(1, 2)
    first = pos[:, 0:1, :] if pretrain else used[:, 0:1, :].expand(B, -1, -1)
    x = x + torch.cat((first, pos), dim=1)
    n = len(input_chans) - 1
    x[:, 1:, :] += (
        sd[p + "time_embed"][:, 0:n_patches, :].unsqueeze(1).expand(B, n, -1, -1).flatten(1, 2)
    )
    depth = 1 + max(int(k[len(p) + 7 :].split(".")[0]) for k in sd if k.startswith(p + "blocks."))
    for i in range(depth):
        x = ref_block(sd, f"{p}blocks.{i}.", x, heads)
    return x


def ref_classifier(sd, x, input_chans, heads):
    tokens = ref_patch_embed(sd, "patch_embed.", x)
    h = ref_transformer(sd, "", tokens, input_chans, x.shape[2], heads)
    return F.linear(ref_ln(sd, "fc_norm.", h[:, 1:].mean(1)), sd["head.weight"], sd["head.bias"])


def ref_mem(sd, x, input_chans, mask, heads):
    tokens = ref_patch_embed(sd, "student.patch_embed.", x)
    w = mask.unsqueeze(-1).type_as(tokens)
    tokens = tokens * (1 - w) + sd["student.mask_token"].expand_as(tokens) * w
    h = ref_transformer(sd, "student.", tokens, input_chans, x.shape[2], heads, pretrain=True)
    h = ref_ln(sd, "student.norm.", h)[:, 1:]
    return F.linear(h[mask], sd["lm_head.weight"], sd["lm_head.bias"])


def ref_codes(sd, x, input_chans, heads):
    tokens = ref_patch_embed(sd, "encoder.patch_embed.", x)
    h = ref_transformer(sd, "encoder.", tokens, input_chans, x.shape[2], heads)
    h = ref_ln(sd, "encoder.fc_norm.", h)[:, 1:]
    h = F.linear(
        torch.tanh(F.linear(h, sd["encode_task_layer.0.weight"], sd["encode_task_layer.0.bias"])),
        sd["encode_task_layer.2.weight"],
        sd["encode_task_layer.2.bias"],
    )
    z = F.normalize(h, p=2, dim=-1).reshape(-1, h.shape[-1])
    e = sd["quantize.embedding.weight"]
    d = z.pow(2).sum(1, keepdim=True) + e.pow(2).sum(1) - 2 * torch.einsum("bd,nd->bn", z, e)
    return d.argmin(1).view(x.shape[0], -1)


# ---------------------------------------------------------------- the tests
def _input(B=2, N=3, A=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, N, A, 200, generator=g) * 0.5  # ~50 uV in 0.1 mV units


CHANNELS = [0, 17, 41]  # FP1, F3, CZ
INPUT_CHANS = [0] + [c + 1 for c in CHANNELS]


@pytest.mark.parametrize("size", ["tiny", "base"])
def test_classifier_matches_reference(size):
    sd = fabricate(classifier_layout(size, n_outputs=3), seed=2)
    model = labram.load_official(sd, "classifier")
    x = _input()
    with torch.no_grad():
        ours = model(x, torch.tensor(CHANNELS))
        ref = ref_classifier(sd, x, INPUT_CHANS, SIZES[size][3])
    assert ours.shape == (2, 3)
    torch.testing.assert_close(ours, ref, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("size", ["tiny", "base"])
def test_mem_matches_reference(size):
    sd = fabricate(mem_layout(size), seed=3)
    model = labram.load_official(sd, "mem")
    x = _input()
    mask = random_mask(2, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = model(x, torch.tensor(CHANNELS), mask)
        ref = ref_mem(sd, x, INPUT_CHANS, mask, SIZES[size][3])
    assert ours.shape == (int(mask.sum()), 8192)
    torch.testing.assert_close(ours, ref, atol=2e-5, rtol=1e-4)


def test_tokenizer_codes_match_reference():
    sd = fabricate(tokenizer_layout(), seed=4)
    tok = labram.load_official(sd, "tokenizer")
    x = _input(N=4, A=3)
    chans = [0, 2, 17, 41]
    with torch.no_grad():
        ours = tok.encode(x, torch.tensor(chans))
        ref = ref_codes(sd, x, [0] + [c + 1 for c in chans], 10)
    assert ours.shape == (2, 12) and ours.dtype == torch.long
    assert torch.equal(ours, ref)


def test_per_sample_channels_match_per_sample_reference():
    sd = fabricate(classifier_layout("tiny", n_outputs=2), seed=5)
    model = labram.load_official(sd, "classifier")
    x = _input()
    chans = torch.tensor([[0, 17, 41], [5, 3, 90]])
    with torch.no_grad():
        ours = model(x, chans)
        for b in range(2):
            ref = ref_classifier(sd, x[b : b + 1], [0] + [int(c) + 1 for c in chans[b]], 4)
            torch.testing.assert_close(ours[b : b + 1], ref, atol=2e-5, rtol=1e-4)


def test_cls_quirk_matters():
    """The MEM model's CLS takes the first channel's row: changing row 0 changes nothing."""
    sd = fabricate(mem_layout("tiny"), seed=6)
    x, mask = _input(), torch.zeros(2, 6, dtype=torch.bool)
    mask[:, 0] = True
    base = labram.load_official(sd, "mem")(x, CHANNELS, mask)
    sd["student.pos_embed"][0, 0] += 1.0
    again = labram.load_official(sd, "mem")(x, CHANNELS, mask)
    torch.testing.assert_close(base, again)


def test_fabricated_layouts_equal_the_released_listing():
    listed: dict[str, dict[str, tuple[int, ...]]] = {}
    section = ""
    for line in LAYOUT_FILE.read_text().splitlines():
        if line.startswith("## "):
            section = line.split()[1]
            listed[section] = {}
        elif line and not line.startswith("#") and section:
            name, shape = line.split(" ", 1)
            listed[section][name] = tuple(int(s) for s in shape.strip("[]").split(","))

    def block0(layout):  # the file lists block 0 only
        later = re.compile(r"(^|\.)blocks\.[1-9]\d*\.")
        return {k: v for k, v in layout.items() if not later.search(k)}

    assert listed["pre-training"] == block0(mem_layout("base"))
    assert listed["fine-tuning"] == block0(classifier_layout("base"))
    assert listed["tokenizer"] == block0(tokenizer_layout())
