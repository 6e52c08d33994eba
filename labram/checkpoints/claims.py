"""What a checkpoint's header claims, checked before any of its tensor bytes are read.

A safetensors header and a ``torch.save`` archive's pickle state every tensor's shape and
element type before its bytes; a crafted file (a sparse 1.5 GB file of 1 MB on disk) can claim
any number of bytes. :func:`check_claims` judges those claims against the model the file
itself describes (its config, or for the released layouts its keys and shapes), built on
PyTorch's ``meta`` device (no memory), and refuses a file that claims more than that model
holds, before a byte is read (a released layout's model must also be one of the released
architectures, or small: :mod:`labram.checkpoints.released_sizes`); the readers then read each
tensor once, into the tensor that is returned (:mod:`labram.checkpoints.safe_read`,
:mod:`labram.checkpoints.safetensors_files`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from eegprep.base.bounds import check_number
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from labram.checkpoints.contents import CKPT_FORMAT, OURS_FORMAT
from labram.checkpoints.errors import CheckpointError, CorruptCheckpointError
from labram.checkpoints.key_paths import path_to, shown
from labram.checkpoints.meta_models import MAX_EXTRA_PARAMETERS, model_for
from labram.checkpoints.official_keys import (
    KINDS,
    detect_kind,
    infer_model_config,
    infer_tokenizer_config,
    ours_to_official,
    released_state,
)
from labram.checkpoints.released_sizes import (
    RELEASED_ARCHITECTURES,
    UNRELEASED_VARIABLE,
    released_architecture,
    shape_of,
    unreleased_limit,
)
from labram.checkpoints.wrappers import plain_state_dict
from labram.model.config import ModelConfig, TokenizerConfig

SLACK_BYTES = 64 * 2**20
"""Bytes a checkpoint may hold beside its model's weights and two copies of them (an
optimiser's moments): RNG states, subject hashes, counters. A file that describes no model may
hold this much in all (the layout code then says what it lacks, one line)."""

MODEL_COPIES = 2
"""How many times its model's float32 size a checkpoint may hold beside the weights: the two
moments of AdamW in a training checkpoint (``last.pt``), or the authors' ``optimizer`` entry."""


@dataclass(frozen=True)
class Described:
    """The model a checkpoint describes: its state dict under the file's own names (shapes on
    the ``meta`` device), where those names sit in the file, and what it is, for messages."""

    expected: dict[str, Tensor]
    weights: Mapping[str, Any]
    what: str  # ("mem model its config describes")
    unreleased: str | None = None
    """For a released layout of none of the released architectures: its size in words (it
    may hold at most :func:`~labram.checkpoints.released_sizes.unreleased_limit` parameters)."""


def check_claims(path: Path, skeleton: Any) -> None:
    """Refuse a checkpoint whose tensors claim more bytes than the model it describes holds.

    Parameters
    ----------
    path : Path
        The file, for messages.
    skeleton : object
        What the file holds, with every tensor on the ``meta`` device (its dtype and shape as
        claimed, no bytes read).

    Raises
    ------
    CorruptCheckpointError
        One line naming the file: a weight larger than the described model's (its shape and
        the model's), or more bytes in all than the model, :data:`MODEL_COPIES` copies of it
        and :data:`SLACK_BYTES` (a file that describes no model: :data:`SLACK_BYTES`).
    """
    described = _described(skeleton)
    claimed = _claimed_bytes(skeleton)
    if described is None:
        if claimed > SLACK_BYTES:
            raise CorruptCheckpointError(
                f"{shown_path(path)}: its tensors claim {claimed:,} bytes, but it describes no "
                "LaBraM model (no config, no layout its keys and shapes make, or tables larger "
                f"than any LaBraM model's), so at most {SLACK_BYTES:,} bytes: a crafted or damaged "
                "file; none of it was read"
            )
        return
    model_bytes = 0
    for name, want in described.expected.items():
        model_bytes += want.numel() * want.element_size()
        have = described.weights.get(name)
        if isinstance(have, Tensor) and have.numel() > want.numel():
            where = path_to(skeleton, have) or name  # (the key path in the file)
            raise CorruptCheckpointError(
                f"{shown_path(path)}: tensor {shown(where)} claims shape {tuple(have.shape)} where "
                f"the {described.what} has {tuple(want.shape)}: a crafted or damaged file; none of "
                "it was read"
            )
    if described.unreleased is not None:
        _check_unreleased(path, described)
    allowed = (1 + MODEL_COPIES) * model_bytes + SLACK_BYTES
    if claimed > allowed:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its tensors claim {claimed:,} bytes, more than the "
            f"{described.what} ({model_bytes:,} bytes of weights) and a training state can hold "
            f"({allowed:,}): a crafted or damaged file; none of it was read"
        )


def _check_unreleased(path: Path, described: Described) -> None:
    """Refuse a released layout of no released architecture whose model holds more parameters
    than :func:`~labram.checkpoints.released_sizes.unreleased_limit` (one line)."""
    try:
        limit = unreleased_limit()
    except CheckpointError as exc:
        raise CheckpointError(f"{shown_path(path)}: {exc}") from None
    n = sum(t.numel() for t in described.expected.values())
    if n > limit:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: the {described.what} ({described.unreleased}; "
            f"{counted(n, 'parameter', sep=',')}) is none of the released architectures "
            f"({', '.join(RELEASED_ARCHITECTURES)}) and larger than "
            f"{counted(limit, 'parameter', sep=',')}, the most another may have: a crafted or "
            f"damaged file, or a model of your own (set {UNRELEASED_VARIABLE} to its parameters to "
            "read it); none of it was read"
        )


def check_unjudged(path: Path, stored: int, why: str) -> None:
    """Refuse a checkpoint whose claims cannot be judged before its bytes are read (its tensors
    cannot be rebuilt on the ``meta`` device: nested, quantized; or a legacy ``torch.save``
    file, read as it is unpickled) when it stores more than :data:`SLACK_BYTES` of them: what
    it is, the full read of a smaller one says (one line), and a larger one is not read.

    Parameters
    ----------
    stored : int
        Bytes of tensors the file stores (of the file, for a legacy one).
    why : str
        Why they cannot be judged, for the message.

    Raises
    ------
    CorruptCheckpointError
        ``stored`` over :data:`SLACK_BYTES`.
    """
    if stored > SLACK_BYTES:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its tensors ({stored:,} bytes, more than {SLACK_BYTES:,}) cannot "
            f"be judged before they are read ({why}): none of it was read"
        )


def _claimed_bytes(obj: Any) -> int:
    """Bytes the tensors in ``obj`` claim: each storage once (views share one), as a reader
    would allocate them. The storages' sizes are as claimed (``meta``: nothing read)."""
    seen: set[int] = set()
    total = 0
    for t in _tensors(obj):
        storage = t.untyped_storage()
        key = storage._cdata if t.is_meta else storage.data_ptr() or id(t)
        if key not in seen:
            seen.add(key)
            total += storage.nbytes()
    return total


def _tensors(obj: Any) -> Iterator[Tensor]:
    """Every tensor in ``obj`` (dicts, lists, tuples walked; each container once)."""
    stack, seen = [obj], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, Tensor):
            yield o
        elif isinstance(o, Mapping):
            stack.extend(o.values())
        elif isinstance(o, list | tuple):
            stack.extend(o)
        elif hasattr(o, "__dict__") and not isinstance(o, type):  # (argparse.Namespace)
            stack.extend(vars(o).values())


_NO_MODEL = (KeyError, TypeError, ValueError, IndexError, ArithmeticError, AttributeError,
             RuntimeError, AssertionError)  # fmt: skip
"""What building a model from keys, shapes and a config that make none raises."""


def _described(obj: Any) -> Described | None:
    """The model ``obj`` describes, built on ``meta``; None when it describes none that can be
    built (no config or layout, a config larger than its weights: the layout code says so)."""
    with contextlib.suppress(CheckpointError, *_NO_MODEL):
        if isinstance(obj, Mapping) and obj.get("format") in (OURS_FORMAT, CKPT_FORMAT):
            return _ours(obj)
        return _released(obj)
    return None


def _ours(obj: Mapping[str, Any]) -> Described:
    """Our checkpoint (``save_ours``) or a training one (``last.pt``): its config and kind."""
    training = obj.get("format") == CKPT_FORMAT
    sd = plain_state_dict(obj["model"], where="model")
    kind = obj.get("kind")
    config = obj["model_config" if training else "config"]
    if kind == "tokenizer":
        model = _on_meta(TokenizerConfig.from_dict(config), "tokenizer", sd)
    else:
        n_outputs = obj.get("n_outputs")
        if training and kind == "classifier":
            n_outputs = int(sd["head.weight"].shape[0])
        model = _on_meta(ModelConfig.from_dict(config), kind, sd, n_outputs)
    return Described(dict(model.state_dict()), sd, f"{kind} model its config describes")


def _released(obj: Any) -> Described:
    """A released layout: the model its keys and shapes make, under the released names."""
    sd = released_state(obj)
    kind = detect_kind(sd)
    config: ModelConfig | TokenizerConfig
    if kind == "tokenizer":
        config = infer_tokenizer_config(sd)
        model = _on_meta(config, "tokenizer", sd)
    else:
        prefix = "student." if kind == "mem" else ""
        # (a head.bias alone gives the outputs too: the build names the missing head.weight)
        head = sd.get("head.weight", sd.get("head.bias"))
        n_outputs = int(head.shape[0]) if isinstance(head, Tensor) and head.ndim else 1
        config = infer_model_config(sd, prefix)
        model = _on_meta(config, kind, sd, n_outputs)
    return Described(
        dict(ours_to_official(model.state_dict(), kind)),
        sd,
        f"{kind} model its keys and shapes describe",
        None if released_architecture(config) else shape_of(config),
    )


MAX_TABLE_ROWS = 4096
"""The most rows a described model's spatial or time table may have for its claims to be judged
as a model's (LaBraM's: 129 and 16): a larger one, inferred from a crafted file's shapes,
describes no LaBraM model but the file."""
MAX_CODES = 65536
"""The most codes (a codebook's rows, an ``lm_head``'s) or classifier outputs (LaBraM's: 8192
codes, a few outputs)."""
MAX_MLP_RATIO = 16.0
"""The widest MLP (hidden width over width) a described model may have (LaBraM's: 4)."""


def _plausible(config: ModelConfig | TokenizerConfig, n_outputs: int) -> None:
    """Raise :class:`CheckpointError` for a config no LaBraM model has (its tables, codebook,
    head or MLP far beyond any preset's): the file's own shapes claim them, at any size."""
    beyond = [name for name, n, most in (
        ("spatial table", config.n_spatial, MAX_TABLE_ROWS),
        ("time table", config.n_time, MAX_TABLE_ROWS),
        ("codebook", config.n_codes, MAX_CODES),
        ("classifier head", n_outputs, MAX_CODES),
        ("MLP", config.mlp_ratio, MAX_MLP_RATIO),
    ) if n > most]  # fmt: skip
    if beyond:
        raise CheckpointError(f"no LaBraM model has such a {beyond[0]}")


def _on_meta(
    config: ModelConfig | TokenizerConfig, kind: Any, sd: Mapping[str, Any], n_outputs: Any = None
) -> nn.Module:
    """Our model of ``kind`` for ``config`` on the ``meta`` device, as the loaders build it
    (:func:`~labram.checkpoints.meta_models.model_for`), once it is :func:`_plausible`."""
    if kind not in KINDS:
        raise CheckpointError(f"no LaBraM model is of kind {kind!r}")
    outputs = 0
    if kind == "classifier" and n_outputs is not None:  # (a bool or float: refused, not cast)
        outputs = int(check_number("n_outputs", n_outputs, error=CheckpointError))
    _plausible(config, outputs)
    return model_for(kind, config, sd, "checkpoint", outputs)[0]


__all__ = ["MAX_EXTRA_PARAMETERS", "MODEL_COPIES", "SLACK_BYTES", "check_claims", "check_unjudged"]
