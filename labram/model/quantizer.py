"""The VQ-NSP codebook: L2-normalised codes, EMA updates, k-means init, dead-code revival.

Concurrency contract: under ``torch.distributed`` every rank calls :meth:`NormEMAQuantizer.forward`
in the same step order. The k-means init runs on rank 0 and is broadcast; the per-code counts and
sums of the EMA update are all-reduced, so every rank applies the same update; dead codes are
found from the all-reduced counts and replaced from rank 0's batch (broadcast). One process
without an initialised process group runs the same code with no communication.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from eegprep.base.wording import counted
from labram.model.config import check_count, check_float

log = logging.getLogger(__name__)


def l2norm(x: Tensor) -> Tensor:
    """Normalise the last dimension to unit L2 norm (eps 1e-12, as ``F.normalize``)."""
    return F.normalize(x, p=2.0, dim=-1)


def full_precision(device: torch.device) -> torch.autocast:
    """A region where autocast is off on ``device``'s type: what runs in it stays float32.

    The quantizer input (``to_code``) and the quantizer itself are float32 in the recipe, also
    under mixed precision; under bf16 autocast the code distances would tie in their last bits
    and the EMA update would mix dtypes.
    """
    return torch.autocast(device.type, enabled=False)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _all_reduce(x: Tensor) -> Tensor:
    if _distributed():
        dist.all_reduce(x)
    return x


def _broadcast(x: Tensor) -> Tensor:
    if _distributed():
        dist.broadcast(x, src=0)
    return x


def sample_vectors(samples: Tensor, n: int) -> Tensor:
    """``n`` rows of ``samples``: without replacement when there are enough, else with."""
    if samples.shape[0] >= n:
        idx = torch.randperm(samples.shape[0], device=samples.device)[:n]
    else:
        idx = torch.randint(0, samples.shape[0], (n,), device=samples.device)
    return samples[idx]


def kmeans_cosine(samples: Tensor, n_clusters: int, n_iters: int = 10) -> tuple[Tensor, Tensor]:
    """Spherical k-means: assign by dot product, means re-normalised, empty clusters kept.

    Parameters
    ----------
    samples : Tensor, shape (M, D)
        Unit vectors.

    Returns
    -------
    means : Tensor, shape (n_clusters, D)
        Unit vectors.
    counts : Tensor, shape (n_clusters,)
        Members per cluster at the last assignment.
    """
    means = sample_vectors(samples, n_clusters)
    counts = torch.zeros(n_clusters, dtype=torch.long, device=samples.device)
    for _ in range(n_iters):
        assign = (samples @ means.t()).argmax(dim=-1)  # (M,)
        counts = torch.bincount(assign, minlength=n_clusters)
        sums = torch.zeros_like(means).index_add_(0, assign, samples)
        new = l2norm(sums / counts.clamp(min=1).unsqueeze(1).to(samples.dtype))
        means = torch.where((counts == 0).unsqueeze(1), means, new)
    return means, counts


class QuantizerOutput(NamedTuple):
    """What :meth:`NormEMAQuantizer.forward` returns."""

    quantized: Tensor  # (M, D) unit code vectors, straight-through gradient to z
    codes: Tensor  # (M,) int64
    commit_loss: Tensor  # scalar: beta * MSE(sg(zq), z)
    n_used: Tensor  # scalar: distinct codes in this batch (all ranks)
    perplexity: Tensor  # scalar: exp(entropy) of this batch's code histogram (all ranks)


class NormEMAQuantizer(nn.Module):
    """Nearest-code quantiser on the unit sphere with an EMA-updated codebook.

    Parameters
    ----------
    n_codes, code_dim : int
        Codebook size and vector width (8192 x 64 released).
    decay : float
        EMA decay of the codebook and of ``cluster_size`` (usage statistics).
    beta : float
        Commitment-loss weight.
    kmeans_init : bool
        Initialise the codebook by cosine k-means on the first training batch (else random
        unit vectors).
    kmeans_iters : int
        k-means iterations.
    revive_dead_codes : bool
        Replace codes unused for ``dead_after`` training steps by random encoder outputs of the
        current batch. False reproduces the original, which never revives.
    dead_after : int
        Steps without an assignment before a code counts as dead.

    Notes
    -----
    The update is the original's: the mean of the unit vectors assigned to a code, itself
    normalised, is blended into the code, ``w <- l2norm(decay * w + (1 - decay) * mean)``; codes
    without assignments keep their vector. ``legacy_cluster_size`` and ``legacy_embed_avg`` are
    the released checkpoint's ``quantize.embedding.cluster_size`` / ``embed_avg``: the original
    never reads them after init; they are kept so that a checkpoint round-trips exactly.
    """

    codebook: Tensor
    cluster_size: Tensor
    initted: Tensor
    legacy_cluster_size: Tensor
    legacy_embed_avg: Tensor
    steps_unused: Tensor

    def __init__(
        self,
        n_codes: int = 8192,
        code_dim: int = 64,
        *,
        decay: float = 0.99,
        beta: float = 1.0,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        revive_dead_codes: bool = True,
        dead_after: int = 100,
    ) -> None:
        super().__init__()
        # each number as a TokenizerConfig field of its name takes it (once, when built)
        n_codes, code_dim, kmeans_iters, dead_after = (
            check_count(name, value)
            for name, value in (("n_codes", n_codes), ("code_dim", code_dim),
                                ("kmeans_iters", kmeans_iters), ("dead_after", dead_after))
        )  # fmt: skip
        decay, beta = check_float("decay", decay), check_float("beta", beta)
        self.n_codes, self.code_dim = n_codes, code_dim
        self.decay, self.beta = decay, beta
        self.kmeans_iters = kmeans_iters
        self.revive_dead_codes, self.dead_after = revive_dead_codes, dead_after
        weight = (
            torch.zeros(n_codes, code_dim)
            if kmeans_init
            else l2norm(torch.randn(n_codes, code_dim))
        )
        self.register_buffer("codebook", weight)
        self.register_buffer("cluster_size", torch.zeros(n_codes))  # EMA of per-step counts
        self.register_buffer("initted", torch.tensor([0.0 if kmeans_init else 1.0]))
        self.register_buffer("legacy_cluster_size", torch.zeros(n_codes))
        self.register_buffer("legacy_embed_avg", weight.clone())
        self.register_buffer(
            "steps_unused", torch.zeros(n_codes, dtype=torch.long), persistent=False
        )

    def nearest(self, z: Tensor) -> Tensor:
        """Index of the nearest code of each unit vector ``z`` ``(M, D)`` -> ``(M,)`` int64.

        Squared distances are computed as ``|z|^2 + |e|^2 - 2 z.e``, in the original's order,
        so that near-ties resolve as in the original; in float32 (autocast is off inside).
        """
        w = self.codebook
        with full_precision(z.device):
            z = z.float()
            d = (
                z.pow(2).sum(dim=1, keepdim=True)
                + w.pow(2).sum(dim=1)
                - 2 * torch.einsum("bd,nd->bn", z, w)
            )
        return d.argmin(dim=1)

    @torch.no_grad()
    def init_codebook(self, z: Tensor) -> None:
        """Cosine k-means on ``z`` ``(M, D)`` (rank 0), broadcast; no-op once initialised."""
        if bool(self.initted.item()):
            return
        log.info("k-means init of the %d-code codebook on %s", self.n_codes,
                 counted(z.shape[0], "vector"))  # fmt: skip
        if _distributed() and dist.get_rank() != 0:  # rank 0 computes, everyone receives
            means = torch.zeros_like(self.codebook)
            counts = torch.zeros(self.n_codes, dtype=torch.long, device=z.device)
        else:
            means, counts = kmeans_cosine(z, self.n_codes, self.kmeans_iters)
        self.codebook.copy_(_broadcast(means.contiguous()))
        self.legacy_cluster_size.copy_(_broadcast(counts.to(self.legacy_cluster_size.dtype)))
        self.initted.fill_(1.0)

    @torch.no_grad()
    def ema_update(self, z: Tensor, codes: Tensor) -> Tensor:
        """One EMA step from unit vectors ``z`` ``(M, D)`` and their codes ``(M,)``.

        Returns the all-reduced per-code counts ``(n_codes,)``.
        """
        counts = _all_reduce(torch.bincount(codes, minlength=self.n_codes).to(z.dtype))
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        sums = _all_reduce(torch.zeros_like(self.codebook).index_add_(0, codes, z))
        empty = (counts == 0).unsqueeze(1)
        means = l2norm(sums / counts.clamp(min=1).unsqueeze(1))
        means = torch.where(empty, self.codebook, means)
        self.codebook.mul_(self.decay).add_(means, alpha=1 - self.decay)
        self.codebook.copy_(l2norm(self.codebook))
        return counts

    @torch.no_grad()
    def revive(self, z: Tensor, counts: Tensor) -> int:
        """Replace codes unused for ``dead_after`` steps by random rows of ``z``; count them."""
        self.steps_unused.add_(1).masked_fill_(counts > 0, 0)
        dead = self.steps_unused >= self.dead_after
        n_dead = int(dead.sum())
        if n_dead == 0:
            return 0
        new = self.codebook.clone()
        new[dead] = sample_vectors(z, n_dead).to(new.dtype)
        self.codebook.copy_(_broadcast(new))
        self.steps_unused.masked_fill_(dead, 0)
        log.info("revived %s (unused for %s)", counted(n_dead, "dead code"),
                 counted(self.dead_after, "step"))  # fmt: skip
        return n_dead

    def forward(self, z: Tensor) -> QuantizerOutput:
        """Quantise; in training mode also init (first call), update and revive the codebook.

        Parameters
        ----------
        z : Tensor, shape (M, code_dim)
            Encoder outputs; L2-normalised here, in float32 (autocast is off inside).
        """
        with full_precision(z.device):
            return self._forward(l2norm(z.float()))

    def _forward(self, z: Tensor) -> QuantizerOutput:
        """:meth:`forward` on float32 unit vectors ``z`` ``(M, code_dim)``."""
        if self.training:
            self.init_codebook(z.detach())
        codes = self.nearest(z.detach())
        zq = F.embedding(codes, self.codebook)
        if self.training:
            counts = self.ema_update(z.detach(), codes)
            if self.revive_dead_codes:
                self.revive(z.detach(), counts)
        else:
            with torch.no_grad():
                counts = _all_reduce(torch.bincount(codes, minlength=self.n_codes).to(z.dtype))
        commit = self.beta * F.mse_loss(zq.detach(), z)
        zq = z + (zq - z).detach()  # straight-through
        n_used, perplexity = usage(counts)
        return QuantizerOutput(zq, codes, commit, n_used, perplexity)


def collapsed(codebook: Tensor, *, atol: float = 1e-6) -> str | None:
    """Why every patch would map to one code of ``codebook`` (shape (n_codes, code_dim)), in
    words; None when its rows differ. A codebook of one code, of non-finite values (a file's
    are refused on read: :mod:`labram.checkpoints.contents`), or whose rows are all equal
    within ``atol`` (all zero: a tokenizer saved before k-means ever ran) gives one target for
    every patch: masked modelling on it learns nothing but that code."""
    if codebook.ndim != 2 or codebook.shape[0] < 2:
        return f"its codebook holds {codebook.shape[0] if codebook.ndim else 0} code"
    if not bool(torch.isfinite(codebook).all()):
        return "its codebook holds NaN or infinite values"
    if float((codebook - codebook[:1]).abs().max()) > atol:
        return None
    zero = float(codebook.abs().max()) <= atol
    what = "all zero (never initialised: k-means runs on the first training batch)"
    return f"its codebook's {codebook.shape[0]} rows are {what if zero else 'all equal'}"


def usage(counts: Tensor) -> tuple[Tensor, Tensor]:
    """Codes used and perplexity (exp of the entropy, in codes) of a histogram ``(K,)``."""
    p = counts / counts.sum().clamp(min=1)
    entropy = -(p * torch.log(p.clamp(min=1e-12))).sum()
    return (counts > 0).sum(), entropy.exp()
