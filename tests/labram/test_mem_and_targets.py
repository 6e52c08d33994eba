"""Masking, Fourier targets and the layer-decay parameter groups."""

from __future__ import annotations

import pytest
import torch

from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.model.mem import random_mask
from labram.model.tokenizer import fourier_targets, standardise
from labram.train.optim import param_groups


@pytest.mark.parametrize("n_tokens", [2, 6, 64, 256])
def test_mask_is_exactly_half_per_sample(n_tokens):
    mask = random_mask(8, n_tokens, generator=torch.Generator().manual_seed(0))
    assert mask.dtype == torch.bool and mask.shape == (8, n_tokens)
    assert (mask.sum(dim=1) == n_tokens // 2).all()
    assert ((~mask).sum(dim=1) == n_tokens // 2).all()  # the complement is the other half


def test_mask_differs_between_samples_and_is_seeded():
    a = random_mask(4, 64, generator=torch.Generator().manual_seed(1))
    b = random_mask(4, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert not torch.equal(a[0], a[1])


def test_odd_token_count_masks_the_middle_one():
    assert (random_mask(3, 7).sum(dim=1) == 4).all()  # the original's rule: L - int(L / 2)


def test_fourier_targets_full_fft_zscored_per_sample():
    x = torch.randn(2, 3, 4, 200, generator=torch.Generator().manual_seed(0))
    amplitude, phase = fourier_targets(x)
    assert amplitude.shape == phase.shape == (2, 12, 200)  # 200 bins: the full FFT, not rfft
    spec = torch.fft.fft(x, dim=-1)
    for b in range(2):
        a = spec[b].abs()
        expected = (a - a.mean()) / a.std(unbiased=True)
        torch.testing.assert_close(amplitude[b], expected.reshape(12, 200), atol=1e-5, rtol=1e-5)
        p = spec[b].angle()
        expected = (p - p.mean()) / p.std(unbiased=True)
        torch.testing.assert_close(phase[b], expected.reshape(12, 200), atol=1e-5, rtol=1e-5)
    # per sample: each sample has mean 0 and unbiased std 1 over channels x patches x bins
    torch.testing.assert_close(amplitude.mean(dim=(1, 2)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(amplitude.std(dim=(1, 2)), torch.ones(2))


def test_standardise_uses_unbiased_std():
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    torch.testing.assert_close(standardise(x), (x - 2.5) / x.std(unbiased=True))


def test_a_flat_or_constant_window_gets_zero_targets_and_the_rest_are_unchanged():
    """The authors' z-score divides 0 by 0 for a window whose values are all equal: one flat
    window made the whole batch's tokenizer loss NaN. Its targets are zeros now; every other
    window's are the old formula's, bit for bit (a constant window's too: its FFT's round-off
    gives its non-DC bins phases)."""
    x = torch.randn(4, 2, 3, 200, generator=torch.Generator().manual_seed(0))
    x[1] = 0.0  # flat: amplitudes and phases all 0
    x[2] = 0.7  # constant: a DC bin and round-off elsewhere
    amplitude, phase = fourier_targets(x)
    assert torch.isfinite(amplitude).all() and torch.isfinite(phase).all()
    assert not amplitude[1].any() and not phase[1].any()
    assert amplitude[2].std() > 0.5  # a constant window's amplitudes still vary (DC bin)
    spec = torch.fft.fft(x, dim=-1)
    for b in (0, 2, 3):
        a = spec[b].abs()
        assert torch.equal(amplitude[b], ((a - a.mean()) / a.std()).reshape(6, 200))
    for b in (0, 2, 3):
        p = spec[b].angle()
        assert torch.equal(phase[b], ((p - p.mean()) / p.std()).reshape(6, 200))


def test_layer_decay_groups():
    model = LaBraMClassifier(model_config("tiny", depth=3), n_outputs=2)
    groups = param_groups(model, lr=1e-3, weight_decay=0.05, layer_decay=0.65)
    by_name = {n: g for g in groups for n in g["names"]}
    assert set(by_name) == {n for n, _ in model.named_parameters()}
    L = 3

    def scale(name: str) -> float:
        return by_name[name]["lr_scale"]

    assert scale("backbone.cls_token") == pytest.approx(0.65 ** (L + 1))
    assert scale("backbone.time_embed") == pytest.approx(0.65 ** (L + 1))
    assert scale("backbone.patch_embed.conv1.weight") == pytest.approx(0.65 ** (L + 1))
    for i in range(L):
        assert scale(f"backbone.blocks.{i}.attn.qkv.weight") == pytest.approx(0.65 ** (L - i))
    assert scale("head.weight") == 1.0 and scale("fc_norm.weight") == 1.0
    assert by_name["head.weight"]["lr"] == pytest.approx(1e-3)
    no_decay = {
        "backbone.cls_token",
        "backbone.spatial_embed",
        "backbone.time_embed",
        "head.bias",
        "fc_norm.weight",
        "fc_norm.bias",
        "backbone.blocks.0.gamma_1",
        "backbone.blocks.0.norm1.weight",
        "backbone.blocks.0.attn.q_norm.weight",
        "backbone.patch_embed.norm1.weight",
        "backbone.patch_embed.conv1.bias",
    }
    for name in no_decay:
        assert by_name[name]["weight_decay"] == 0.0, name
    for name in (
        "head.weight",
        "backbone.blocks.0.attn.qkv.weight",
        "backbone.patch_embed.conv1.weight",
    ):
        assert by_name[name]["weight_decay"] == 0.05, name
    torch.optim.AdamW(groups, lr=1e-3)  # the groups are valid optimiser input


def test_frozen_parameters_are_left_out():
    model = LaBraMClassifier(model_config("tiny"))
    model.backbone.requires_grad_(False)
    names = [n for g in param_groups(model, 1e-3, 0.05) for n in g["names"]]
    assert sorted(names) == ["fc_norm.bias", "fc_norm.weight", "head.bias", "head.weight"]


def test_random_mask_draws_on_the_generator_s_device(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Training passes a CPU generator with a CUDA batch; torch.rand refuses a generator of
    another device, so the draw happens on the generator's device and is then moved."""
    import torch

    from labram.model import mem

    seen = []
    real = torch.rand

    def rand(*args, generator=None, device=None, **kw):  # type: ignore[no-untyped-def]
        if generator is not None and device is not None:
            assert torch.device(device).type == generator.device.type, (device, generator.device)
        seen.append(device)
        return real(*args, generator=generator, device=device, **kw)

    monkeypatch.setattr(mem.torch, "rand", rand)
    ref = mem.random_mask(3, 20, generator=torch.Generator().manual_seed(5), device="cpu")
    got = mem.random_mask(3, 20, generator=torch.Generator().manual_seed(5), device="meta")
    assert got.device.type == "meta" and got.shape == ref.shape and len(seen) == 2
