"""What training code wraps a state dict in, removed once for every loader (pure functions).

A checkpoint a researcher hands us holds its weights inside entries (``{'model': sd,
'optimizer': ..., 'epoch': ..., 'args': ...}``, Lightning's ``{'state_dict': sd}``) and under
names a wrapper module put a prefix on (DDP's ``module.``, ``torch.compile``'s ``_orig_mod.``,
both: ``module._orig_mod.``). :func:`unwrap` finds the state dict of a released layout inside
its entries; :func:`plain_state_dict` removes the prefixes of any state dict, ours included
(the ``model`` entry of our files and of ``last.pt``), so that every loader sees the module's
own names. A prefix on some keys only, or two entries that could each be the model, is refused
in one line: which names are the model's is then a guess, and a guess that drops keys would
load a model with weights missing.

Element types are not touched here: the strict load converts a float16 or bfloat16 weight to
the model's float32 (:func:`~labram.checkpoints.layouts.load_strict`), after refusing one that
no float32 weight can take as it is (an integer tensor, a float64 value beyond float32's range).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from eegprep.base.wording import counted, noun
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.key_paths import step

log = logging.getLogger(__name__)

StateDict = dict[str, Tensor]

WRAPPER_KEYS: tuple[str, ...] = ("model", "module", "state_dict", "student")
"""Entries a checkpoint keeps its state dict under: ``model`` (the original code's
``utils.save_model``, next to ``optimizer``, ``epoch``, ``scaler``, ``args``), ``module``
(older releases), ``state_dict`` (PyTorch Lightning and many scripts), ``student`` (the
pre-training student saved alone: its keys get the ``student.`` prefix back)."""
EMA_KEY = "model_ema"
"""The original code's copy of the weights' moving average (``--model_ema``), saved beside
``model``: the weights are those of ``model`` (what the original code's ``--finetune`` and
``--resume`` load), the average only where it is the one state dict the file holds."""
KEY_PREFIXES: tuple[str, ...] = ("module.", "model.", "_orig_mod.")
"""Prefixes a wrapper puts before every key of the model it wraps: DDP (``module.``), a
Lightning module or a user's holding the model as ``self.model`` (``model.``), and
``torch.compile`` (``_orig_mod.``). None begins a name of a released layout or of ours."""
_MAX_WRAPPERS = 4


def unwrap(obj: Any) -> StateDict:
    """The state dict inside a loaded checkpoint (pure).

    Descends through the :data:`WRAPPER_KEYS` entries of a dict that holds no tensor itself
    (``{'model': {...}, 'optimizer': ..., 'args': ...}``, ``{'state_dict': {...}}``,
    ``{'student': {...}}``; :data:`EMA_KEY` where it is the only one), then removes the
    :data:`KEY_PREFIXES` that every key carries (:func:`plain_state_dict`).

    Raises
    ------
    CheckpointError
        Where the mapping is not unambiguous: two wrapper entries holding dicts, a value that
        is not a tensor, keys that are not strings, or a wrapper prefix on some keys only.
    """
    student = False
    where = ""  # (the key path of the state dict, for a refusal's line)
    for _ in range(_MAX_WRAPPERS):
        if not isinstance(obj, Mapping) or any(isinstance(v, Tensor) for v in obj.values()):
            break
        key = _wrapper_key(obj)
        if key is None:
            break
        student = student or key == "student"
        obj, where = obj[key], step(where, key)
    sd = plain_state_dict(obj, where=where)
    if student and not all(k.startswith("student.") for k in sd):
        sd = {f"student.{k}": v for k, v in sd.items()}
    return sd


def plain_state_dict(obj: Any, *, where: str = "") -> StateDict:
    """``obj`` checked to be a state dict (names -> tensors) and without the
    :data:`KEY_PREFIXES` that all of its keys carry (repeatedly: ``module._orig_mod.``), as
    the unwrapped module's own ``state_dict()`` names them (a new dict, the same tensors).

    Raises
    ------
    CheckpointError
        Not a mapping, keys that are not names, values that are not tensors, or a prefix on
        some keys only (one line, without the file's name: the caller adds it).
    """
    if not isinstance(obj, Mapping):
        at = f" at `{where}`" if where else ""
        raise CheckpointError(
            f"expected a state dict (name -> tensor){at}; got {type(obj).__name__}"
        )
    _check_state_values(obj, where)
    return _strip_prefixes(dict(obj))


def _wrapper_key(obj: Mapping[Any, Any]) -> str | None:
    """The one :data:`WRAPPER_KEYS` entry of ``obj`` that holds a dict (else :data:`EMA_KEY`,
    if it does); refused when several do (which of them is the model is not for us to
    guess)."""
    held = [k for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)]
    if len(held) > 1:
        raise CheckpointError(
            f"it holds a dict under each of {', '.join(repr(k) for k in held)}: which one is the "
            "model's state dict is ambiguous; save that one alone (torch.save({'model': sd}))"
        )
    if held and isinstance(obj.get(EMA_KEY), Mapping):
        log.info("the weights under %r are loaded, not their average under %r", held[0], EMA_KEY)
    if not held and isinstance(obj.get(EMA_KEY), Mapping):
        return EMA_KEY
    return held[0] if held else None


def _check_state_values(sd: Mapping[Any, Any], where: str = "") -> None:
    """Refuse a state dict (at key path ``where`` in the file) with keys that are not names or
    values that are not tensors, naming the first by its key path."""
    named = [k for k in sd if not isinstance(k, str)]
    if named:
        raise CheckpointError(
            f"its weights are keyed by {type(named[0]).__name__} (`{step(where, named[0])}`), "
            "not by parameter names: not a state dict"
        )
    other = [k for k, v in sd.items() if not isinstance(v, Tensor)]
    if other:
        raise CheckpointError(
            f"{len(other)} of its state dict's {counted(len(sd), 'entry')} "
            f"{noun(len(other), 'is not a tensor', 'are not tensors')} "
            f"(`{step(where, other[0])}` is a {type(sd[other[0]]).__name__}): every weight "
            "must be a tensor"
        )


def _strip_prefixes(sd: StateDict) -> StateDict:
    """``sd`` without the :data:`KEY_PREFIXES` that all of its keys carry (repeatedly: DDP
    around a wrapper gives ``module.model.``); refused when only some keys carry one."""
    for _ in range(_MAX_WRAPPERS):
        prefix = next((p for p in KEY_PREFIXES if sd and all(k.startswith(p) for k in sd)), None)
        if prefix is None:
            break
        sd = {k[len(prefix) :]: v for k, v in sd.items()}
    for p in KEY_PREFIXES:
        some = [k for k in sd if k.startswith(p)]
        if some:
            rest = sorted(k for k in sd if not k.startswith(p))
            raise CheckpointError(
                f"{len(some)} of its {counted(len(sd), 'key')} "
                f"{noun(len(some), 'starts', 'start')} with {p!r} and the others do "
                f"not ({rest[0]!r}, ...): which names are the model's is ambiguous; save the "
                "model's own state dict"
            )
    return sd


__all__ = ["EMA_KEY", "KEY_PREFIXES", "WRAPPER_KEYS", "plain_state_dict", "unwrap"]
