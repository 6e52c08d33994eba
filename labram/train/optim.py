"""The optimiser and the learning-rate schedule of the LaBraM recipe.

AdamW over layer-wise parameter groups (:func:`param_groups`: the learning rate decays by
``layer_decay`` per layer from the head down; no weight decay on biases, norms and embeddings),
linear warm-up (from ``peak / W``, or from 0 as the authors') then cosine decay (:func:`lr_at`)
over the steps the run will actually take (:func:`schedule_steps`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from eegprep.base.bounds import check_number
from eegprep.base.errors import UsageError
from eegprep.base.wording import counted
from labram.train.config import TrainConfig
from labram.train.schedule_bounds import check_schedule


def param_groups(
    model: nn.Module,
    lr: float,
    weight_decay: float,
    layer_decay: float = 0.65,
    *,
    layer_of: Callable[[str], int] | None = None,
    n_layers: int | None = None,
) -> list[dict[str, Any]]:
    """AdamW parameter groups of the LaBraM recipe.

    Layer ``i`` (0 = embeddings, k + 1 = block k, L + 1 = norm and head) gets the learning rate
    ``lr * layer_decay ** (L + 1 - i)``. No weight decay on biases, 1-D parameters (norms,
    layer-scale gammas) and the names in ``model.no_weight_decay()`` (CLS, spatial and time
    embeddings). Frozen parameters are left out.

    Parameters
    ----------
    model : nn.Module
        Usually a :class:`LaBraMClassifier`; any model with ``layer_id`` / ``n_layers`` works,
        or pass ``layer_of`` and ``n_layers``.
    lr, weight_decay, layer_decay : float
        Peak lr, decoupled weight decay, per-layer lr multiplier (1.0 disables the decay).

    Returns
    -------
    list of dict
        Each with ``params``, ``names``, ``lr``, ``lr_scale``, ``weight_decay``, ``layer_id``;
        ready for ``torch.optim.AdamW`` (which ignores the extra keys). A scheduler should set
        ``group["lr"] = lr_now * group["lr_scale"]``.
    """
    lr = check_number("lr", lr, key="peak_lr")  # (once per model: NaN made every lr NaN)
    weight_decay = check_number("weight_decay", weight_decay)
    layer_decay = check_number("layer_decay", layer_decay)
    if n_layers is not None:
        n_layers = int(check_number("n_layers", n_layers))
    get_layer: Callable[[str], int] = layer_of or getattr(model, "layer_id", None) or (lambda _: 0)
    total = n_layers if n_layers is not None else getattr(model, "n_layers", 1)
    no_wd_fn = getattr(model, "no_weight_decay", None)
    skip: set[str] = set(no_wd_fn()) if callable(no_wd_fn) else set()
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        no_wd = param.ndim <= 1 or name.endswith(".bias") or name in skip
        lid = get_layer(name)
        key = (lid, no_wd)
        if key not in groups:
            scale = layer_decay ** (total - 1 - lid)
            groups[key] = {
                "params": [],
                "names": [],
                "layer_id": lid,
                "lr_scale": scale,
                "lr": lr * scale,
                "weight_decay": 0.0 if no_wd else weight_decay,
            }
        groups[key]["params"].append(param)
        groups[key]["names"].append(name)
    return [groups[k] for k in sorted(groups)]


def lr_at(
    step: int, *, total: int, warmup: int, peak: float, floor: float, start: str = "first_step"
) -> float:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine to ``floor`` at ``total``.

    ``start`` (``TrainConfig.warmup_start``): ``"first_step"``, warm-up step ``i`` at
    ``peak * (i + 1) / warmup`` (no step at a rate of 0); ``"zero"``, the authors' schedule,
    ``np.linspace(0, peak, warmup)``: step ``i`` at ``peak * i / (warmup - 1)``, the first at 0.
    Both reach ``peak`` at the warm-up's last step; the cosine is the same.
    """
    if step < warmup:
        if start == "zero":
            return peak * step / (warmup - 1) if warmup > 1 else 0.0
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(t, 1.0)))


def schedule_steps(cfg: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(total steps, warm-up steps) of the run as it will actually go.

    The run ends after ``epochs`` epochs or at ``max_steps``, whichever comes first
    (``max_steps`` is a cap: it never lengthens a run). The cosine ends at the last step, and the
    warm-up takes the share ``warmup_epochs / epochs`` of the steps the run takes.
    """
    if steps_per_epoch < 1:
        # (a weight below 1 draws that share of a corpus's windows: 1e-300 draws none, and the
        # line blamed the batch size alone)
        low = sorted(c for c, w in cfg.corpus_weights.items() if w < 1)
        also = f", or raise corpus_weights of {', '.join(low)}" if low else ""
        raise UsageError(
            f"no complete batch of {counted(cfg.batch_size, 'window')} per process: the stores are "
            f"too small for this batch size (lower --batch-size{also})"
        )
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    warmup = min(total - 1, round(total * cfg.warmup_epochs / cfg.epochs))
    return total, max(0, warmup)


def make_optimizer(model: nn.Module, cfg: TrainConfig, peak: float) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups` of ``model`` at learning rate ``peak``, after
    :func:`~labram.train.schedule_bounds.check_schedule` (before the first step)."""
    peak = check_schedule(cfg, peak)
    layer_of = None
    if cfg.time_embed_layer == "top" and hasattr(model, "layer_id"):
        top = getattr(model, "n_layers", 1) - 1
        own = model.layer_id

        def layer_of(name: str) -> int:  # the original's matcher: time_embed on the top layer
            return top if name.endswith("time_embed") else int(own(name))  # type: ignore[operator]

    groups = param_groups(model, peak, cfg.weight_decay, cfg.layer_decay, layer_of=layer_of)
    for g in groups:
        del g["names"]
    return torch.optim.AdamW(groups, lr=peak, betas=cfg.betas, fused=False)
