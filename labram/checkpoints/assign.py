"""A checkpoint's tensors made a model's own, without a second copy of the weights.

A model built on PyTorch's ``meta`` device holds no memory. :func:`assign_weights` hands it the
tensors a reader loaded (``load_state_dict(..., assign=True)``): a loaded checkpoint then costs
its weights once, where building the model on the CPU (its initial values drawn) and copying
the file's tensors over them cost them twice, plus the initialisation's temporaries. What the
model holds afterwards is what a copy gave, value for value:

- a tensor of another floating-point type than the model's (a float16 file) is converted, as
  ``load_state_dict`` converts when it copies;
- tensors that share memory in the file (two names for one storage, views of one) get a copy
  each: a model's weights never alias one another because a file said so; a view into a
  larger storage (a flat buffer of all weights) is copied too, so that the model keeps no
  more than its weights alive, and saves no more;
- tensors the caller keeps (a state dict handed to ``load_official``) are copied: only those
  read from a file for this model (``take``) become its own, so that training the model never
  changes a dict the caller holds;
- a weight the file lacks (a released classifier without its head) gets the initial values a
  model built on the CPU would have had (such a model is built for them);
- a buffer no checkpoint holds (a non-persistent one: the quantizer's ``steps_unused`` count)
  starts at zeros, as every such buffer of our models does at construction
  (``tests/labram/test_checkpoints.py`` checks that it stays so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn


def on_meta(model: nn.Module) -> bool:
    """Whether any of ``model``'s parameters or buffers is on the ``meta`` device (no memory)."""
    return any(t.is_meta for t in _tensors(model).values())


def assign_weights(
    model: nn.Module, sd: Mapping[str, Any], fresh: Callable[[], nn.Module], *, take: bool
) -> Any:
    """Put the tensors of ``sd`` (name -> tensor, on the CPU) into ``model`` (built on
    ``meta``) as its own; returns ``load_state_dict``'s missing and unexpected keys.

    Parameters
    ----------
    model : nn.Module
        Built on the ``meta`` device; on the CPU afterwards (every tensor it holds).
    sd : mapping
        The weights under ``model``'s names. A ``meta`` tensor in it (one a layout lacks,
        filled from the model) is given initial values, from ``fresh()``.
    fresh : callable
        Builds the same model on the CPU, with its initial values; called only when ``sd``
        lacks a weight.
    take : bool
        Whether the tensors of ``sd`` are the model's to keep (read from a file for it, held
        by no one else); else each is copied.

    Raises
    ------
    RuntimeError
        From ``load_state_dict``: a tensor of another shape than the model's.
    """
    expected = model.state_dict()
    taken: dict[str, Any] = {}
    storages: set[tuple[int, int]] = set()
    for key, value in sd.items():
        want = expected.get(key)
        if want is None or not isinstance(value, Tensor) or value.is_meta:
            taken[key] = value  # (unexpected: reported; meta: given initial values below)
            continue
        t = value.detach()
        if t.dtype != want.dtype or not t.is_contiguous():
            t = t.to(want.dtype).contiguous()  # (a new tensor: the model's own)
        else:
            ref = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
            if not take or (t.numel() and ref in storages) or not _whole(t):
                t = t.clone()  # (the caller's, another weight's memory already, or a part)
            storages.add(ref)
        taken[key] = t
    result = model.load_state_dict(taken, strict=False, assign=True)
    _fill_left(model, fresh)
    return result


def _whole(t: Tensor) -> bool:
    """Whether ``t`` (contiguous) is all of its storage: a view into a larger one (weights a
    file keeps in one flat buffer) would keep that buffer alive, and be saved with it whole."""
    return t.storage_offset() == 0 and t.untyped_storage().nbytes() == t.numel() * t.element_size()


def _tensors(model: nn.Module) -> dict[str, Tensor]:
    """Every parameter and buffer of ``model`` by its full name (non-persistent buffers too)."""
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def _fill_left(model: nn.Module, fresh: Callable[[], nn.Module]) -> None:
    """Give the tensors ``model`` still has on ``meta`` their values: zeros for the buffers
    no checkpoint holds, a freshly built model's for the weights the file lacked."""
    left = [name for name, t in _tensors(model).items() if t.is_meta]
    if not left:
        return
    persistent = set(model.state_dict())
    weights = [name for name in left if name in persistent]
    made = _tensors(fresh()) if weights else {}
    for name in left:
        parent, _, leaf = name.rpartition(".")
        owner = model.get_submodule(parent)
        if name in made:
            value = made[name]
        else:  # (a buffer no checkpoint holds)
            old = owner._buffers[leaf]
            assert old is not None
            value = torch.zeros(old.shape, dtype=old.dtype)
        if leaf in owner._parameters:
            owner._parameters[leaf] = nn.Parameter(value.data, requires_grad=value.requires_grad)
        else:
            owner._buffers[leaf] = value


__all__ = ["assign_weights", "on_meta"]
