"""Any LaBraM checkpoint -> a model ready to use (``labram embed``, ``predict``, ``export``).

The kinds a user hands us, all read through :func:`labram.checkpoints.safe_read.read_checkpoint`
(weights
only, never unpickled code; ``.safetensors`` too):

- our plain checkpoints (``save_ours``): ``model.pt`` (masked-modelling model), ``best.pt`` (a
  fine-tuned classifier), ``tokenizer.pt``;
- a training checkpoint (``last.pt``): its model, rebuilt from ``model_config``;
- the released files (``labram-base.pth``, a fine-tuned release, ``vqnsp.pth``), by their
  sentinel keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from labram.checkpoints.contents import CKPT_FORMAT
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import (
    content_errors,
    is_ours,
    kind_of,
    naming,
    official_from,
    ours_from,
    training_from,
)
from labram.checkpoints.official_keys import Kind, detect_kind, released_state
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.mem import LaBraMForMEM


@dataclass
class Loaded:
    """A model and what its file says about it.

    Attributes
    ----------
    model : nn.Module
        In eval mode, on the CPU.
    kind : {'mem', 'classifier', 'tokenizer'}
    layout : {'labram', 'training', 'released'}
        Which kind of file it came from.
    source : str
        The path, for messages.
    info : dict
        The file's entries besides the weights (config, ``pretrain_subjects``, ``task``, ...).
    untrained : list of str
        Tensors the file lacks that the model was given fresh initial values for (a released
        classifier without ``head.weight``/``head.bias``): its outputs mean nothing.
    """

    model: nn.Module
    kind: Kind
    layout: str
    source: str
    info: dict[str, Any] = field(default_factory=dict)
    untrained: list[str] = field(default_factory=list)

    @property
    def head_untrained(self) -> bool:
        """Whether the classifier head holds fresh initial values, not trained weights."""
        return any(k.startswith("head.") for k in self.untrained)


def load_model(path: str | os.PathLike[str], *, what: str = "--checkpoint") -> Loaded:
    """Read any LaBraM checkpoint and build its model (strict load, eval mode).

    Raises
    ------
    CheckpointError
        Not found, unsafe, corrupt, or weights that fit no LaBraM model; one line naming
        ``path``.
    """
    source = str(path)
    obj = read_checkpoint(Path(path), what=f"{what} checkpoint")
    info = {k: v for k, v in obj.items() if k != "model"} if isinstance(obj, dict) else {}
    with (
        naming(source),
        content_errors(f"{shown_path(source)}: not a LaBraM checkpoint this labram can use"),
    ):
        if isinstance(obj, dict) and obj.get("format") == CKPT_FORMAT:
            return Loaded(
                training_from(obj, source=source, take=True).eval(),
                obj.get("kind", ""),
                "training",
                source,
                info,
            )
        if is_ours(obj):
            model = ours_from(obj, source=source, take=True)
            return Loaded(model.eval(), kind_of(model), "labram", source, info)
        sd = released_state(obj)
        kind = detect_kind(sd)
        model = official_from(obj, kind, source=source, take=True)
    untrained = (
        [k for k in ("head.weight", "head.bias") if k not in sd] if kind == "classifier" else []
    )
    return Loaded(model, kind, "released", source, info, untrained)


def backbone_model(loaded: Loaded) -> LaBraMClassifier | LaBraMForMEM:
    """The model, refused with one line if it has no LaBraM backbone (a tokenizer)."""
    if not isinstance(loaded.model, LaBraMClassifier | LaBraMForMEM):
        raise CheckpointError(
            f"{shown_path(loaded.source)}: a {loaded.kind} checkpoint has no LaBraM backbone: pass "
            "a pre-trained model.pt, a fine-tuned best.pt or labram-base.pth"
        )
    return loaded.model


def check_windows_fit(
    model: nn.Module, channels: Iterable[int], seconds: int, *, source: str, names: Any = None
) -> None:
    """Refuse, with one line naming the checkpoint, windows the model's tables cannot embed:
    a channel (vocabulary index) without a row in its spatial table, or more seconds than its
    time table has rows (a checkpoint saved with smaller tables than the data needs).

    ``names``: the channels' names, for the message (default: from the vocabulary).
    """
    from eegprep.pipeline.channels import VOCABULARY

    config = getattr(model, "config", None)
    if config is None:
        return
    idx = [int(c) for c in channels]
    top = config.n_spatial - 2  # the highest vocabulary index with a row (row 0: CLS)
    beyond = [
        (names[i] if names is not None else VOCABULARY[c] if 0 <= c < len(VOCABULARY) else str(c))
        for i, c in enumerate(idx)
        if c < 0 or c > top
    ]
    if beyond:
        shown = ", ".join(beyond[:8]) + (", ..." if len(beyond) > 8 else "")
        raise CheckpointError(
            f"{shown_path(source)}: its spatial table has {counted(config.n_spatial, 'row')} "
            f"(vocabulary indices 0..{top}), so channels {shown} have no position embedding: use a "
            "checkpoint whose model addresses them (LaBraM's: 129 rows)"
        )
    if seconds > config.n_time:
        raise CheckpointError(
            f"{shown_path(source)}: its time table has {counted(config.n_time, 'row')}, so it "
            f"embeds windows of at most {config.n_time} s, not {seconds} s: use a checkpoint made "
            "for these windows"
        )


def check_index_fits(model: nn.Module, indexes: Iterable[Any], *, source: str) -> None:
    """:func:`check_windows_fit` for every window of ``indexes`` (each a
    :class:`~labram.data.windows.WindowIndex`): the channels of their recordings and their
    longest window, before any is read (``finetune --init``, ``evaluate``, ``report
    --predict``, whose model's forward pass refused them as an internal error)."""
    channels: set[int] = set()
    seconds = 0
    for index in indexes:
        if index is None or not len(index):
            continue
        used = {int(r) for r in np.unique(index.rec)}
        channels.update(int(c) for i in used for c in index.recordings[i].channels)
        seconds = max(seconds, int(index.n_patches.max()))
    check_windows_fit(model, sorted(channels), seconds, source=source)


def check_finite_outputs(
    model: nn.Module,
    outputs: Any,
    *,
    source: str,
    where: str = "",
    samples: Callable[[np.ndarray, str], None] | None = None,
) -> None:
    """Refuse, with one line, outputs of ``model`` (an array or tensor, shape (n_windows, ...))
    that are not all finite: NaN probabilities were shown as a label (the first class, numpy's
    argmax of NaN), failed the metrics with an internal error, or were written as embeddings
    (NaN, which also reads as "not computed yet"). ``where``: what the windows are
    (`` of FILE``), for the message.

    The line names the cause: first ``samples`` is asked (called with the windows whose
    outputs are not finite, bool shape (n_windows,), and the line's start): it raises when
    their samples are no EEG's (:func:`labram.data.sample_peaks.blame_samples`: NaN, infinite
    or huge values in a store or file); else the checkpoint ``source`` is named, whose weights
    are finite but huge (a crafted or damaged file: ``3e38``) and overflow float32 in the
    forward pass.
    """
    values = np.asarray(outputs.detach().cpu() if hasattr(outputs, "detach") else outputs)
    if not len(values):  # (no window: a fold without validation windows)
        return
    finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if finite.all():
        return
    head = (
        f"{shown_path(source)}: the model's outputs are not finite (NaN or infinite) on "
        f"{int((~finite).sum())} of {counted(len(finite), 'window')}{where}"
    )
    if samples is not None:
        samples(~finite, head)
    largest, name = 0.0, "?"
    for key, t in model.state_dict().items():
        top = float(t.detach().abs().max()) if t.numel() and t.is_floating_point() else 0.0
        if top > largest:
            largest, name = top, key
    raise CheckpointError(
        f"{head}: its weights overflow float32 (the largest, {largest:.3g}, in "
        f"{name}); no output of it is shown or kept: use a checkpoint whose weights are sound"
    )


__all__ = [
    "Loaded",
    "backbone_model",
    "check_finite_outputs",
    "check_index_fits",
    "check_windows_fit",
    "load_model",
]
