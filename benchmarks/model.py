"""Training-step speed of LaBraM: our modules against the original's style of attention.

Times forward + backward of the masked-EEG-modelling model (LaBraM-Base by default) on batches
of 256-token samples (16 channels x 16 one-second patches), with

- ours: attention through ``torch.nn.functional.scaled_dot_product_attention``;
- reference: the same weights and code, but attention written out as the original does,
  ``softmax(q k^T / sqrt(d)) v`` with explicit matrices;

and prints samples/s and the ratio. On a GPU (``--device cuda``) it also runs bf16 autocast and,
with ``--compile``, ``torch.compile``. The two paths' outputs are checked to agree first.

Run: ``python benchmarks/model.py [--size base] [--batch 16] [--steps 5] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from labram.model.config import model_config
from labram.model.layers import Attention
from labram.model.mem import LaBraMForMEM, random_mask

N_CHANNELS, N_PATCHES = 16, 16


def explicit_attention(self: Attention, x: torch.Tensor) -> torch.Tensor:
    """The original's attention: explicit score matrix, softmax, weighted sum."""
    B, L, D = x.shape
    bias = None
    if self.q_bias is not None and self.v_bias is not None:
        bias = torch.cat((self.q_bias, torch.zeros_like(self.q_bias), self.v_bias))
    qkv = F.linear(x, self.qkv.weight, bias).reshape(B, L, 3, self.n_heads, -1)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, L, hd)
    if self.q_norm is not None and self.k_norm is not None:
        q, k = self.q_norm(q), self.k_norm(k)
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B, H, L, L)
    attn = attn.softmax(dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(B, L, D)
    return self.proj(out)


@contextlib.contextmanager
def reference_attention() -> Iterator[None]:
    fast = Attention.forward
    Attention.forward = explicit_attention  # type: ignore[method-assign]
    try:
        yield
    finally:
        Attention.forward = fast  # type: ignore[method-assign]


def step(
    model: torch.nn.Module,
    x: torch.Tensor,
    ch: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    amp: bool,
) -> torch.Tensor:
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        logits = model(x, ch, mask)
        loss = F.cross_entropy(logits.float(), target)
    loss.backward()
    return loss.detach()


def time_steps(model: torch.nn.Module, batch: tuple, steps: int, amp: bool) -> float:
    """Seconds per forward+backward, after one warm-up step."""
    step(model, *batch, amp=amp)
    sync = torch.cuda.synchronize if batch[0].is_cuda else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        step(model, *batch, amp=amp)
    sync()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="base")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (GPU)")
    args = ap.parse_args()
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = LaBraMForMEM(model_config(args.size)).to(dev)
    x = torch.randn(args.batch, N_CHANNELS, N_PATCHES, 200, device=dev)
    ch = torch.arange(N_CHANNELS, device=dev)
    mask = random_mask(args.batch, N_CHANNELS * N_PATCHES, device=dev)
    target = torch.randint(0, model.config.n_codes, (int(mask.sum()),), device=dev)
    batch = (x, ch, mask, target)
    with torch.no_grad():
        ours_out = model(x, ch, mask)
        with reference_attention():
            ref_out = model(x, ch, mask)
    diff = (ours_out - ref_out).abs().max().item()
    rows = []
    amps = [False, True] if dev.type == "cuda" else [False]
    for amp in amps:
        tag = "bf16" if amp else "fp32"
        with reference_attention():
            secs = time_steps(model, batch, args.steps, amp)
        rows.append((f"reference, explicit attention ({tag})", secs))
        rows.append((f"ours, SDPA ({tag})", time_steps(model, batch, args.steps, amp)))
    if args.compile:
        compiled = torch.compile(model)
        secs = time_steps(compiled, batch, args.steps, amp=dev.type == "cuda")
        rows.append(("ours, SDPA + torch.compile", secs))
    ref = rows[0][1]
    print(
        f"\nLaBraM-{args.size}, batch {args.batch} x {N_CHANNELS * N_PATCHES} tokens, {dev}; "
        f"max |ours - reference| = {diff:.2e}"
    )
    print(f"{'path':<40}{'s / step':>10}{'samples/s':>12}{'ratio':>8}")
    for name, secs in rows:
        print(f"{name:<40}{secs:>10.3f}{args.batch / secs:>12.1f}{ref / secs:>8.2f}")


if __name__ == "__main__":
    main()
