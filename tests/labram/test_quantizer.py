"""The VQ-NSP codebook: EMA math, normalisation, k-means init, dead-code revival, statistics."""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from labram.model.quantizer import NormEMAQuantizer, kmeans_cosine, usage


def _unit(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


def _quantizer(**kw) -> NormEMAQuantizer:
    q = NormEMAQuantizer(8, 4, kmeans_init=False, **kw)
    q.codebook.copy_(_unit(8, 4, seed=1))
    return q


def test_ema_update_math():
    q = _quantizer(decay=0.9, revive_dead_codes=False).train()
    w0 = q.codebook.clone()
    z = _unit(32, 4, seed=2)
    out = q(z)
    codes = (z @ w0.t()).argmax(1)  # nearest unit vector = largest cosine
    assert torch.equal(out.codes, codes)
    expected = w0.clone()
    for k in range(8):
        members = z[codes == k]
        if len(members):
            mean = F.normalize(members.sum(0) / len(members), dim=-1)
            expected[k] = F.normalize(0.9 * w0[k] + 0.1 * mean, dim=-1)
    torch.testing.assert_close(q.codebook, expected)
    counts = torch.bincount(codes, minlength=8).float()
    torch.testing.assert_close(q.cluster_size, 0.1 * counts)


def test_codebook_stays_normalised_and_straight_through():
    q = _quantizer().train()
    z = torch.randn(64, 4, requires_grad=True)
    for _ in range(5):
        out = q(z)
    torch.testing.assert_close(q.codebook.norm(dim=1), torch.ones(8))
    (out.quantized.sum() + out.commit_loss).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_commitment_loss_is_mse_to_detached_code():
    q = _quantizer().eval()
    z = _unit(16, 4, seed=3)
    out = q(z)
    torch.testing.assert_close(out.commit_loss, F.mse_loss(q.codebook[out.codes], z))


def test_eval_does_not_touch_the_codebook():
    q = _quantizer().eval()
    before = {k: v.clone() for k, v in q.state_dict().items()}
    q(_unit(16, 4))
    assert all(torch.equal(before[k], v) for k, v in q.state_dict().items())


def test_kmeans_init_on_first_training_batch():
    torch.manual_seed(0)
    centres = _unit(4, 8, seed=5)
    z = F.normalize(centres.repeat(50, 1) + 0.01 * torch.randn(200, 8), dim=-1)
    q = NormEMAQuantizer(4, 8, kmeans_init=True, revive_dead_codes=False).train()
    assert not bool(q.initted)
    q(z)
    assert bool(q.initted)
    torch.testing.assert_close(q.codebook.norm(dim=1), torch.ones(4))
    # every true centre has a code within a small angle
    assert (centres @ q.codebook.t()).max(dim=1).values.min() > 0.99
    means, counts = kmeans_cosine(z, 4)
    torch.testing.assert_close(means.norm(dim=1), torch.ones(4))
    assert int(counts.sum()) == 200


def test_dead_codes_are_revived_from_the_batch():
    q = _quantizer(dead_after=3, revive_dead_codes=True).train()
    z = q.codebook[:1].repeat(16, 1)  # everything maps to code 0
    for _ in range(3):
        q(z)
    # codes 1..7 were unused for 3 steps: replaced by batch vectors (all equal to code 0 here)
    torch.testing.assert_close(q.codebook[1:], z[:7])
    assert int(q.steps_unused.max()) == 0


def test_revival_can_be_turned_off():
    q = _quantizer(dead_after=1, revive_dead_codes=False).train()
    before = q.codebook[1:].clone()
    z = q.codebook[:1].repeat(16, 1)
    for _ in range(3):
        q(z)
    torch.testing.assert_close(q.codebook[1:], before)


def test_usage_statistics():
    n_used, ppl = usage(torch.tensor([4.0, 4.0, 0.0, 0.0]))
    assert int(n_used) == 2
    assert float(ppl) == pytest.approx(2.0)
    _, ppl = usage(torch.tensor([1.0] * 8))
    assert float(ppl) == pytest.approx(8.0)
    assert math.isfinite(float(usage(torch.zeros(4))[1]))


def test_single_process_gloo_group(tmp_path, monkeypatch):
    """The distributed code path (broadcast, all-reduce) runs in a one-rank gloo group."""
    # torch's group installs a sys.excepthook that prefixes "[rank0]:" and outlives the group:
    # pytest's own crash lines later in the session came out under it
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    try:
        q = NormEMAQuantizer(8, 4, kmeans_init=True, dead_after=1).train()
        out = q(_unit(32, 4))
        assert bool(q.initted) and out.codes.shape == (32,)
        torch.testing.assert_close(q.codebook.norm(dim=1), torch.ones(8))
    finally:
        dist.destroy_process_group()


def test_quantizer_input_and_codes_stay_float32_under_autocast():
    """The recipe's quantizer input (Linear-Tanh-Linear) and the quantizer are float32, also in
    a mixed-precision step (bf16 autocast: a training step mixed dtypes in the EMA update)."""
    from labram.model.config import tokenizer_config
    from labram.model.tokenizer import VQNSPTokenizer

    torch.manual_seed(0)
    tok = VQNSPTokenizer(tokenizer_config("tiny")).train()
    x, ch = torch.randn(2, 3, 2, 200), torch.tensor([0, 2, 19])
    bf16 = torch.autocast("cpu", dtype=torch.bfloat16)
    with bf16:
        z = tok.encode_features(x, ch)
        out = tok(x, ch)  # k-means init and an EMA update under autocast
        tokens = tok.encoder_norm(tok.encoder.forward_features(x, ch)[:, 1:])
    assert z.dtype == torch.float32
    torch.testing.assert_close(z, tok.to_code(tokens.float()), rtol=0, atol=0)
    assert bool(torch.isfinite(out["loss"]))
    torch.testing.assert_close(tok.quantizer.codebook.norm(dim=1), torch.ones(256))
    q = _quantizer()
    w = _unit(64, 4, seed=5)
    with bf16:
        inside = q.nearest(w)
    assert torch.equal(inside, q.nearest(w))
