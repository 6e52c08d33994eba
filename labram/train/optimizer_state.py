"""A training checkpoint's optimiser state, checked against the model before a resume takes it.

``torch.optim.Optimizer.load_state_dict`` checks only that the groups have as many parameters
as the saved ones: it takes moments of any shape, a negative step count and the saved groups'
hyperparameters as they are. A damaged or crafted ``last.pt`` then failed at the first step
after the resume as an internal error (a moment of another shape, a negative step), or trained
on, its loss NaN, with a message that blamed the learning rate (a negative second moment).
:func:`load_optimizer_state` refuses such a state in one line naming the file and the
parameter, and keeps the run's own hyperparameters: the run's config (checked equal to the
checkpoint's on resume) made them, and only the moments and step counts are the file's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from eegprep.base.path_limits import shown_path
from labram.checkpoints.errors import CorruptCheckpointError

NON_NEGATIVE = frozenset(("exp_avg_sq", "max_exp_avg_sq"))
"""AdamW's state entries that are running means of squares: never below zero."""


def load_optimizer_state(
    opt: torch.optim.Optimizer, saved: Any, *, model: nn.Module, source: str
) -> None:
    """Load ``saved`` (an optimiser's ``state_dict``) into ``opt`` once it fits ``model``.

    Every tensor of a parameter's state must be a finite floating-point tensor of that
    parameter's shape, its squares' means (:data:`NON_NEGATIVE`) not below zero, and its
    ``step`` a whole number of at least zero. The groups' hyperparameters (betas, eps,
    weight decay, layer scales...) stay those of ``opt``: the saved ones are not taken.

    Raises
    ------
    CorruptCheckpointError
        One line naming ``source``, the parameter and what is wrong.
    Other errors
        From ``load_state_dict``, for a ``saved`` of another structure (the caller makes them
        one line).
    """
    names = {id(p): n for n, p in model.named_parameters()}
    for param, state in _pairs(opt, saved):
        for key, value in state.items():
            problem = _problem(key, value, param)
            if problem:
                raise CorruptCheckpointError(
                    f"{shown_path(source)}: cannot resume from it: the optimizer's {key} of "
                    f"{names.get(id(param), 'a parameter')} {problem}: a damaged or crafted "
                    "checkpoint"
                )
    own = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    opt.load_state_dict(saved)
    for group, kept in zip(opt.param_groups, own, strict=True):
        group.update(kept)


def _pairs(opt: torch.optim.Optimizer, saved: Any) -> Iterator[tuple[Tensor, Mapping[str, Any]]]:
    """Each parameter of ``opt`` with its saved state, matched as ``load_state_dict`` matches
    them (the saved groups' ids in order); nothing for a ``saved`` of another structure."""
    if not isinstance(saved, Mapping):
        return
    groups, states = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, list) or not isinstance(states, Mapping):
        return
    sizes = [len(g.get("params") or ()) if isinstance(g, Mapping) else -1 for g in groups]
    if sizes != [len(g["params"]) for g in opt.param_groups]:
        return  # (torch refuses groups of other sizes, naming them)
    ids = [i for g in groups for i in g.get("params") or ()]
    params = [p for g in opt.param_groups for p in g["params"]]
    for i, param in zip(ids, params, strict=True):
        state = states.get(i)
        if isinstance(state, Mapping):
            yield param, state


def _problem(key: str, value: Any, param: Tensor) -> str | None:
    """What is wrong with state entry ``key`` of ``param``, or None."""
    if not isinstance(value, Tensor):
        return None  # (torch's own entries that are no tensors: left to it)
    if not value.is_floating_point():
        return f"is {str(value.dtype).removeprefix('torch.')}, not floating point"
    if value.numel() and not bool(torch.isfinite(value).all()):
        return "holds NaN or infinite values"
    if key == "step":
        if value.numel() != 1:
            return f"has shape {tuple(value.shape)}, where a step count is one number"
        step = float(value)
        if step < 0 or step != math.floor(step):
            return f"is {step:g}, not a count of steps"
        return None
    if tuple(value.shape) != tuple(param.shape):
        return f"has shape {tuple(value.shape)}, where the parameter has {tuple(param.shape)}"
    if key in NON_NEGATIVE and value.numel() and bool((value < 0).any()):
        return "holds negative values, where it is a mean of squares"
    return None


__all__ = ["NON_NEGATIVE", "load_optimizer_state"]
