"""Every model and size: shapes, gradients, no NaN, parameter counts, attention, init."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from labram.checkpoints.layouts import backbone_parameters, count_parameters
from labram.model.backbone import Backbone, parse_channels
from labram.model.classifier import LaBraMClassifier
from labram.model.config import MODEL_PRESETS, ModelConfig, model_config, tokenizer_config
from labram.model.layers import Attention, TemporalConv
from labram.model.mem import LaBraMForMEM, mem_loss, random_mask
from labram.model.tokenizer import VQNSPTokenizer

CHANNELS = torch.tensor([0, 17, 41])

# The paper's counts: 5.8 M / 46 M / 369 M (backbone: patch encoder, CLS, tables, blocks).
PAPER = {"base": 5.8e6, "large": 46e6, "huge": 369e6}


def _x(B: int = 2, N: int = 3, A: int = 2) -> torch.Tensor:
    return torch.randn(B, N, A, 200, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("size", sorted(MODEL_PRESETS))
def test_parameter_counts(size):
    cfg = model_config(size)
    with torch.device("meta"):
        clf = LaBraMClassifier(cfg, n_outputs=1)
        mem = LaBraMForMEM(cfg)
    counted = count_parameters(clf.backbone)
    assert counted == backbone_parameters(cfg)
    assert count_parameters(clf) == counted + 2 * cfg.dim + cfg.dim + 1  # fc_norm, 1-logit head
    assert count_parameters(mem) == counted + cfg.dim + 2 * cfg.dim + (cfg.dim + 1) * cfg.n_codes
    if size in PAPER:
        assert counted == pytest.approx(PAPER[size], rel=0.01)


@pytest.mark.parametrize("size", ["tiny"])
def test_classifier_shapes_and_gradients(size):
    # seeded: stochastic depth may drop a block for both samples, which leaves it no gradient
    torch.manual_seed(0)
    model = LaBraMClassifier(model_config(size, drop_path=0.1), n_outputs=4).train()
    out = model(_x(), CHANNELS)
    assert out.shape == (2, 4) and torch.isfinite(out).all()
    out.square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_mem_shapes_and_gradients():
    model = LaBraMForMEM(model_config("tiny")).train()
    mask = random_mask(2, 6, generator=torch.Generator().manual_seed(1))
    logits = model(_x(), CHANNELS, mask)
    assert logits.shape == (6, 8192) and torch.isfinite(logits).all()
    F.cross_entropy(logits, torch.zeros(6, dtype=torch.long)).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_tokenizer_shapes_and_gradients():
    tok = VQNSPTokenizer(tokenizer_config("tiny")).train()
    out = tok(_x(), CHANNELS)
    assert out["codes"].shape == (2, 6)
    assert all(torch.isfinite(v).all() for v in out.values())
    out["loss"].backward()
    missing = [n for n, p in tok.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []
    assert torch.equal(tok.eval().encode(_x(), CHANNELS), tok.encode(_x(), CHANNELS))


def test_a_flat_window_leaves_the_tokenizer_loss_and_gradients_finite():
    tok = VQNSPTokenizer(tokenizer_config("tiny")).train()
    x = _x()
    x[0] = 0.0  # a flat window (a disconnected amplifier, zero padding)
    out = tok(x, CHANNELS)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in tok.parameters() if p.grad is not None)


def test_mem_loss_with_frozen_tokenizer():
    tok = VQNSPTokenizer(tokenizer_config("tiny"))
    tok.train()(_x(), CHANNELS)  # k-means init
    tok.eval()
    model = LaBraMForMEM(model_config("tiny", n_codes=256))
    before = tok.quantizer.codebook.clone()
    out = mem_loss(model, tok, _x(), CHANNELS, generator=torch.Generator().manual_seed(0))
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and 0 <= float(out["accuracy"]) <= 1
    assert torch.equal(tok.quantizer.codebook, before)
    assert all(p.grad is None for p in tok.parameters())
    torch.testing.assert_close(out["loss"].detach(), out["loss_masked"] + out["loss_complement"])


def test_mem_loss_equals_two_separate_passes():
    tok = VQNSPTokenizer(tokenizer_config("tiny"))
    tok.train()(_x(), CHANNELS)
    tok.eval()
    model = LaBraMForMEM(model_config("tiny", n_codes=256)).eval()
    x = _x()
    mask = random_mask(2, 6, generator=torch.Generator().manual_seed(3))
    out = mem_loss(model, tok, x, CHANNELS, mask=mask)
    codes = tok.encode(x, CHANNELS)
    one = F.cross_entropy(model(x, CHANNELS, mask), codes[mask])
    two = F.cross_entropy(model(x, CHANNELS, ~mask), codes[~mask])
    torch.testing.assert_close(out["loss"].detach(), (one + two).detach(), atol=1e-5, rtol=1e-5)


def test_sdpa_attention_equals_explicit_softmax():
    torch.manual_seed(0)
    for qk_norm, qv_bias in ((True, False), (False, True)):
        attn = Attention(40, 4, qk_norm=qk_norm, qv_bias=qv_bias)
        if qv_bias:
            torch.nn.init.normal_(attn.q_bias)  # type: ignore[arg-type]
            torch.nn.init.normal_(attn.v_bias)  # type: ignore[arg-type]
        x = torch.randn(2, 7, 40)
        q, k, v = F.linear(x, attn.qkv.weight).chunk(3, dim=-1)
        if qv_bias:
            q, v = q + attn.q_bias, v + attn.v_bias
        q, k, v = (t.reshape(2, 7, 4, 10).transpose(1, 2) for t in (q, k, v))
        if qk_norm:
            q, k = attn.q_norm(q), attn.k_norm(k)  # type: ignore[misc]
        weights = torch.softmax(q @ k.transpose(-1, -2) / 10**0.5, dim=-1)
        ref = attn.proj((weights @ v).transpose(1, 2).reshape(2, 7, 40))
        torch.testing.assert_close(attn(x), ref, atol=1e-6, rtol=1e-5)


def test_groupnorm_statistics_span_all_patches():
    """Changing one patch changes the other patches' tokens (sample-wide GroupNorm)."""
    conv = TemporalConv(4)
    x = _x(1, 2, 2)
    y = x.clone()
    y[0, 0, 0] += 5.0
    a, b = conv(x), conv(y)
    assert not torch.allclose(a[0, 3], b[0, 3])
    assert a.shape == (1, 4, 100)


def test_token_order_is_channel_major():
    model = Backbone(model_config("tiny"))
    tokens = torch.zeros(1, 6, 100)
    out = model.add_embeddings(tokens, torch.tensor([0, 17, 41]), n_patches=2)
    table, time = model.spatial_embed[0], model.time_embed[0]
    torch.testing.assert_close(
        out[0, 1 + 1 * 2 + 1], model.cls_token[0, 0] * 0 + table[18] + time[1]
    )
    torch.testing.assert_close(out[0, 0], model.cls_token[0, 0] + table[0])


@pytest.mark.parametrize(
    ("channels", "match"),
    [([0, 1], "expected shape"), ([0, 1, 128], r"0\.\.127"), ([[0, 1, 2]] * 3, "expected shape")],
)
def test_bad_channels_are_reported(channels, match):
    with pytest.raises(ValueError, match=match):
        parse_channels(channels, batch_size=2, n_channels=3, n_rows=129)


def test_bad_inputs_are_reported():
    model = LaBraMClassifier(model_config("tiny"))
    with pytest.raises(ValueError, match="at most 16 patches"):
        model(torch.zeros(1, 3, 17, 200), CHANNELS)
    with pytest.raises(ValueError, match=r"\(B, N, A, 200\)"):
        model(torch.zeros(1, 3, 2, 100), CHANNELS)
    with pytest.raises(ValueError, match="25 \\* conv_channels"):
        ModelConfig(dim=128)
    with pytest.raises(ValueError, match="allowed"):
        model_config("giant")


def test_init_rescales_deeper_blocks():
    model = Backbone(model_config("tiny", depth=2))
    s0 = model.blocks[0].attn.proj.weight.std()  # type: ignore[union-attr]
    s1 = model.blocks[1].attn.proj.weight.std()  # type: ignore[union-attr]
    assert s1 < s0
